/* pvx — running a model: forward in three modes, backward from any output gradient, taps. */
#include <string.h>

#include "fusion_private.h"
#include "nn_private.h"
#include "pvx/random.h"

static int64_t shape_numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= shape[d];
    return n;
}

/* A contiguous view of @shape over the start of the flat scratch buffer *buf, which grows when
 * too small. Views keep the old storage alive, so growing never pulls memory from under one.
 * Returns: (transfer full). */
static PvxTensor *buffer_view(PvxTensor **buf, int ndim, const int64_t *shape)
{
    int64_t n = shape_numel(ndim, shape);
    if (!*buf || (*buf)->shape[0] < n) {
        g_clear_pointer(buf, pvx_tensor_unref);
        *buf = pvx_tensor_new(1, &n);
    }
    g_autoptr(PvxTensor) flat = pvx_tensor_narrow0(*buf, 0, n);
    return pvx_tensor_reshape(flat, ndim, shape, NULL);
}

/* The layer's own output buffer, reused while nobody else holds it. Returns: (transfer full). */
static PvxTensor *owned_buffer(PvxTensor **slot, int ndim, const int64_t *shape)
{
    PvxTensor *t = *slot;
    if (!t || g_atomic_int_get(&t->refcount) != 1 || t->ndim != ndim ||
        memcmp(t->shape, shape, sizeof(int64_t) * ndim) != 0) {
        g_clear_pointer(slot, pvx_tensor_unref);
        *slot = pvx_tensor_new(ndim, shape);
    }
    return pvx_tensor_ref(*slot);
}

void pvx_model_set_dropout_seed(PvxModel *m, guint64 seed)
{
    m->dropout_seed = seed;
    m->dropout_count = 0;
}

/* Where a forward's activations live. */
typedef struct {
    PvxTensor *t;
    int buf;           /* index of the inference buffer holding it, -1 for none */
    gboolean writable; /* the next layer may overwrite it in place */
} Flow;

/* Output tensor for layer @l: its own buffer when kept (keep modes, taps), else the inference
 * buffer that does not hold the input. */
static PvxTensor *layer_out(PvxModel *m, PvxLayer *l, gboolean own, const Flow *in, int nd,
                            const int64_t *shape, int *buf_out)
{
    if (own) {
        *buf_out = -1;
        return owned_buffer(&l->state->output, nd, shape);
    }
    int k = in->buf == 0 ? 1 : 0;
    *buf_out = k;
    return buffer_view(&m->buf[k], nd, shape);
}

/* One layer's part of a forward, planned before the forward runs. */
typedef struct {
    PvxFusionStep step;
    int ndim; /* the layer's output shape */
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    const PvxSparseWeights *sparse; /* PVX_FUSION_SPARSE: the layer's cached compressed weight */
} ForwardStep;

/* What a forward reads at every layer. */
typedef struct {
    PvxModel *m;
    gboolean keep, training;
    guint64 seed;       /* dropout */
    ForwardStep *steps; /* [layers] */
} Forward;

/* The plan of a forward of @x in @mode: every layer's output shape (a shape error names the
 * layer), the sparse or dense choice of conv2d and linear layers (sparse_cache.c) and the fusions
 * (fusion.c). Returns: (transfer full) [layers], NULL on a shape error. */
static ForwardStep *plan_forward(PvxModel *m, const PvxTensor *x, PvxForwardMode mode,
                                 GError **error)
{
    guint n = m->layers->len;
    g_autofree ForwardStep *steps = g_new0(ForwardStep, MAX(n, 1));
    g_autofree PvxFusionLayer *desc = g_new0(PvxFusionLayer, MAX(n, 1));
    g_autofree PvxFusionStep *plan = g_new0(PvxFusionStep, MAX(n, 1));
    int nd = x->ndim;
    const int64_t *in = x->shape;
    for (guint i = 0; i < n; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        ForwardStep *st = &steps[i];
        if (!pvx_layer_output_shape(l, nd, in, &st->ndim, st->shape, error))
            return NULL;
        if (l->type == PVX_LAYER_CONV2D || l->type == PVX_LAYER_LINEAR)
            st->sparse = pvx_layer_sparse_choice(m, l, nd, in, mode);
        desc[i] = (PvxFusionLayer){
            .type = l->type,
            .tapped = l->state->tapped,
            .sparse = st->sparse != NULL,
            .drops = l->type == PVX_LAYER_DROPOUT && mode == PVX_FORWARD_TRAIN && l->p != 0.0,
            .has_params = l->weight != NULL || l->bias != NULL,
        };
        nd = st->ndim;
        in = st->shape;
    }
    pvx_fusion_plan_forward(desc, (int)n, plan);
    for (guint i = 0; i < n; i++)
        steps[i].step = plan[i];
    return g_steal_pointer(&steps);
}

/* Runs layer @i of forward @f on @cur as planned: *y gets the output (y->t NULL on failure). */
static void forward_layer(Forward *f, guint i, const Flow *cur, Flow *y, GError **error)
{
    PvxModel *m = f->m;
    PvxLayer *l = g_ptr_array_index(m->layers, i);
    PvxLayerState *s = l->state;
    const ForwardStep *st = &f->steps[i];
    gboolean own = f->keep || s->tapped;
    int nd = st->ndim;
    const int64_t *os = st->shape;
    *y = (Flow){NULL, -1, TRUE};
    g_autoptr(PvxTensor) out = NULL;
    switch (st->step.kernel) {
    case PVX_FUSION_IDENTITY:
        *y = *cur;
        y->t = pvx_tensor_ref(cur->t);
        return;
    case PVX_FUSION_SPARSE:
        /* The same result within float rounding as the dense op. */
        out = layer_out(m, l, own, cur, nd, os, &y->buf);
        y->t = l->type == PVX_LAYER_CONV2D
                   ? pvx_conv2d_forward_sparse(cur->t, st->sparse, l->bias, &l->conv, out, error)
                   : pvx_linear_forward_sparse(cur->t, st->sparse, l->bias, out, error);
        return;
    case PVX_FUSION_CONV_RELU:
        /* Writes what the ReLU after it would have overwritten in place anyway. */
        out = layer_out(m, l, own, cur, nd, os, &y->buf);
        y->t = pvx_conv2d_relu_forward(cur->t, l->weight, l->bias, &l->conv, out, error);
        return;
    case PVX_FUSION_MAXPOOL_RELU_OUT:
    case PVX_FUSION_MAXPOOL_RELU_IN:
        g_return_if_reached(); /* backward only */
    case PVX_FUSION_OWN:
        break;
    }
    switch (l->type) {
    case PVX_LAYER_CONV2D:
        out = layer_out(m, l, own, cur, nd, os, &y->buf);
        y->t = pvx_conv2d_forward(cur->t, l->weight, l->bias, &l->conv, out, error);
        break;
    case PVX_LAYER_LINEAR:
        out = layer_out(m, l, own, cur, nd, os, &y->buf);
        y->t = pvx_linear_forward(cur->t, l->weight, l->bias, out, error);
        break;
    case PVX_LAYER_RELU:
        /* In place, as torchvision does, unless the input is the caller's or a tap's. */
        if (cur->writable && !s->tapped) {
            out = pvx_tensor_ref(cur->t);
            y->buf = cur->buf;
        } else {
            out = layer_out(m, l, own, cur, nd, os, &y->buf);
        }
        y->t = pvx_relu_forward(cur->t, out, error);
        break;
    case PVX_LAYER_MAXPOOL2D:
        out = layer_out(m, l, own, cur, nd, os, &y->buf);
        y->t = pvx_maxpool2d_forward(cur->t, &l->pool, out, f->keep ? &s->indices : NULL, error);
        break;
    case PVX_LAYER_ADAPTIVE_AVGPOOL2D:
        out = layer_out(m, l, own, cur, nd, os, &y->buf);
        y->t = pvx_adaptive_avgpool2d_forward(cur->t, l->out_h, l->out_w, out, error);
        break;
    case PVX_LAYER_DROPOUT:
        if (s->drop_mask && !pvx_tensor_same_shape(s->drop_mask, cur->t))
            g_clear_pointer(&s->drop_mask, pvx_tensor_unref);
        out = layer_out(m, l, own, cur, nd, os, &y->buf);
        y->t = pvx_dropout_forward(cur->t, l->p, TRUE, pvx_mix64(f->seed * 1000003u + i), out,
                                   &s->drop_mask, error);
        break;
    case PVX_LAYER_BATCHNORM2D: {
        PvxBatchNorm2dParams bp = {l->eps, l->momentum, f->training};
        if (f->training) {
            g_clear_pointer(&s->save_mean, pvx_tensor_unref);
            g_clear_pointer(&s->save_invstd, pvx_tensor_unref);
            s->save_mean = pvx_tensor_new(1, &l->out_features);
            s->save_invstd = pvx_tensor_new(1, &l->out_features);
        }
        out = layer_out(m, l, own, cur, nd, os, &y->buf);
        y->t = pvx_batchnorm2d_forward(cur->t, l->weight, l->bias, l->running_mean, l->running_var,
                                       &bp, f->training ? s->save_mean : NULL,
                                       f->training ? s->save_invstd : NULL, out, error);
        if (y->t && f->training)
            l->num_batches_tracked++;
        break;
    }
    case PVX_LAYER_FLATTEN:
        *y = *cur;
        y->t = pvx_flatten(cur->t, error);
        break;
    }
}

PvxTensor *pvx_model_forward(PvxModel *m, PvxTensor *x, PvxForwardMode mode, GError **error)
{
    g_return_val_if_fail(m != NULL && x != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!pvx_tensor_is_contiguous(x)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE, "model %s: the input must be contiguous",
                    m->arch);
        return NULL;
    }
    Forward f = {.m = m};
    f.keep = mode != PVX_FORWARD_INFERENCE;
    f.training = mode == PVX_FORWARD_TRAIN;
    m->kept = FALSE;
    for (guint i = 0; i < m->layers->len; i++) {
        PvxLayerState *s = ((PvxLayer *)g_ptr_array_index(m->layers, i))->state;
        g_clear_pointer(&s->input, pvx_tensor_unref);
        g_clear_pointer(&s->tap_act, pvx_tensor_unref);
        g_clear_pointer(&s->tap_grad, pvx_tensor_unref);
        if (!f.keep) {
            g_clear_pointer(&s->indices, pvx_indices_free);
            g_clear_pointer(&s->drop_mask, pvx_tensor_unref);
        }
    }
    f.seed = f.training ? m->dropout_seed + m->dropout_count++ : 0;
    g_autofree ForwardStep *steps = plan_forward(m, x, mode, error);
    if (!steps)
        return NULL;
    f.steps = steps;
    Flow cur = {pvx_tensor_ref(x), -1, FALSE};
    for (guint i = 0; i < m->layers->len; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        if (f.keep)
            l->state->input = pvx_tensor_ref(cur.t);
        Flow y;
        forward_layer(&f, i, &cur, &y, error);
        if (!y.t) {
            g_prefix_error(error, "layer %s: ", l->name);
            goto fail;
        }
        if (l->state->tapped) {
            l->state->tap_act = pvx_tensor_ref(y.t);
            y.writable = FALSE;
        }
        pvx_tensor_unref(cur.t);
        cur = y;
    }
    PvxTensor *result = pvx_tensor_copy(cur.t);
    if (f.keep) {
        m->kept = TRUE;
        m->kept_mode = mode;
        m->out_ndim = result->ndim;
        memcpy(m->out_shape, result->shape, sizeof m->out_shape);
    }
    pvx_tensor_unref(cur.t);
    return result;

fail:
    pvx_tensor_unref(cur.t);
    for (guint i = 0; i < m->layers->len; i++)
        g_clear_pointer(&((PvxLayer *)g_ptr_array_index(m->layers, i))->state->input,
                        pvx_tensor_unref);
    return NULL;
}

static void mask_grad(PvxLayer *l)
{
    if (!l->mask)
        return;
    int64_t n = pvx_tensor_numel(l->weight_grad);
    float *g = l->weight_grad->data;
    const float *k = l->mask->data;
    for (int64_t i = 0; i < n; i++)
        g[i] *= k[i];
}

/* The plan of a backward after the kept forward (fusion.c). Returns the lowest layer it visits
 * (see pvx_fusion_plan_backward) and fills plan[layers]. */
static int plan_backward(const PvxModel *m, gboolean param_grads, gboolean input_grad,
                         PvxFusionStep *plan)
{
    guint n = m->layers->len;
    gboolean training = m->kept_mode == PVX_FORWARD_TRAIN;
    g_autofree PvxFusionLayer *desc = g_new0(PvxFusionLayer, MAX(n, 1));
    for (guint i = 0; i < n; i++) {
        const PvxLayer *l = g_ptr_array_index(m->layers, i);
        desc[i] = (PvxFusionLayer){
            .type = l->type,
            .tapped = l->state->tapped,
            .drops = l->type == PVX_LAYER_DROPOUT && l->state->drop_mask != NULL && training &&
                     l->p != 0.0,
            .has_params = l->weight != NULL || l->bias != NULL,
            .input_kept = l->state->input != NULL,
        };
    }
    return pvx_fusion_plan_backward(desc, (int)n, param_grads, input_grad, plan);
}

/* Runs layer @i's part of a backward as @step plans it on the gradient @g of its output: *d gets
 * the input gradient where wanted (d->t NULL where not). Returns FALSE on failure. */
static gboolean backward_layer(PvxModel *m, int i, const PvxFusionStep *step, const Flow *g,
                               Flow *d, GError **error)
{
    PvxLayer *l = g_ptr_array_index(m->layers, i);
    PvxLayerState *s = l->state;
    gboolean want_dx = step->want_dx, pg = step->param_grads;
    gboolean training = m->kept_mode == PVX_FORWARD_TRAIN;
    const PvxTensor *in = s->input;
    int k = g->buf == 0 ? 1 : 0;
    *d = (Flow){NULL, -1, TRUE};
    /* A fresh input-gradient buffer, the one g does not live in. */
#define NEW_DX() (d->buf = k, d->t = buffer_view(&m->gbuf[k], in->ndim, in->shape))
    /* In place where g may be overwritten. */
#define INPLACE_OR_NEW_DX()                                                                        \
    do {                                                                                           \
        if (g->writable) {                                                                         \
            *d = *g;                                                                               \
            d->t = pvx_tensor_ref(g->t);                                                           \
        } else {                                                                                   \
            NEW_DX();                                                                              \
        }                                                                                          \
    } while (0)
    gboolean ok = TRUE;
    PvxTensor *dw = pg ? l->weight_grad : NULL, *db = pg && l->bias ? l->bias_grad : NULL;
    switch (step->kernel) {
    case PVX_FUSION_IDENTITY:
        *d = *g;
        d->t = pvx_tensor_ref(g->t);
        return TRUE;
    case PVX_FUSION_CONV_RELU:
        /* The ReLU before: its output, this layer's input, gives the gate. */
        NEW_DX();
        ok = pvx_conv2d_relu_backward(in, l->weight, g->t, &l->conv, &d->t, dw, db, error);
        if (ok && pg)
            mask_grad(l);
        return ok;
    case PVX_FUSION_MAXPOOL_RELU_OUT: {
        NEW_DX();
        /* The pool's output, as the next layer kept it (an in-place ReLU there keeps its sign),
         * gives the folded ReLU's gate at a quarter of the reads of the input. */
        const PvxLayer *next = g_ptr_array_index(m->layers, i + 1);
        return pvx_maxpool2d_relu_backward_out(in, next->state->input, s->indices, g->t, &d->t,
                                               error);
    }
    case PVX_FUSION_MAXPOOL_RELU_IN:
        NEW_DX();
        return pvx_maxpool2d_relu_backward(in, s->indices, g->t, &d->t, error);
    case PVX_FUSION_SPARSE:
        g_return_val_if_reached(FALSE); /* forward only */
    case PVX_FUSION_OWN:
        break;
    }
    switch (l->type) {
    case PVX_LAYER_CONV2D:
    case PVX_LAYER_LINEAR:
        if (want_dx)
            NEW_DX();
        if (l->type == PVX_LAYER_CONV2D)
            ok = pvx_conv2d_backward(in, l->weight, g->t, &l->conv, want_dx ? &d->t : NULL, dw, db,
                                     error);
        else
            ok = pvx_linear_backward(in, l->weight, g->t, want_dx ? &d->t : NULL, dw, db, error);
        if (ok && pg)
            mask_grad(l);
        break;
    case PVX_LAYER_RELU:
        INPLACE_OR_NEW_DX();
        ok = pvx_relu_backward(in, g->t, &d->t, error);
        break;
    case PVX_LAYER_MAXPOOL2D:
        NEW_DX();
        ok = pvx_maxpool2d_backward(in, s->indices, g->t, &d->t, error);
        break;
    case PVX_LAYER_ADAPTIVE_AVGPOOL2D:
        NEW_DX();
        ok = pvx_adaptive_avgpool2d_backward(in, g->t, &d->t, error);
        break;
    case PVX_LAYER_DROPOUT:
        INPLACE_OR_NEW_DX();
        ok = pvx_dropout_backward(s->drop_mask, g->t, &d->t, error);
        break;
    case PVX_LAYER_BATCHNORM2D: {
        PvxBatchNorm2dParams bp = {l->eps, l->momentum, training};
        if (want_dx)
            NEW_DX();
        ok = pvx_batchnorm2d_backward(in, l->weight, l->running_mean, l->running_var, s->save_mean,
                                      s->save_invstd, &bp, g->t, want_dx ? &d->t : NULL,
                                      pg ? l->weight_grad : NULL, pg ? l->bias_grad : NULL, error);
        break;
    }
    case PVX_LAYER_FLATTEN:
        *d = *g;
        d->t = pvx_flatten_backward(in, g->t, error);
        ok = d->t != NULL;
        break;
    }
#undef INPLACE_OR_NEW_DX
#undef NEW_DX
    return ok;
}

gboolean pvx_model_backward(PvxModel *m, const PvxTensor *dy, gboolean param_grads, PvxTensor **dx,
                            GError **error)
{
    g_return_val_if_fail(m != NULL && dy != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!m->kept) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "model %s: backward needs a forward in EXPLAIN or TRAIN mode first", m->arch);
        return FALSE;
    }
    if (dy->ndim != m->out_ndim ||
        memcmp(dy->shape, m->out_shape, sizeof(int64_t) * dy->ndim) != 0 ||
        !pvx_tensor_is_contiguous(dy)) {
        g_autofree char *a = pvx_tensor_shape_string(dy);
        g_autofree char *b = pvx_shape_string(m->out_ndim, m->out_shape);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "model %s: output gradient of shape %s for an output of shape %s (contiguous)",
                    m->arch, a, b);
        return FALSE;
    }
    int n = (int)m->layers->len;
    for (int i = 0; i < n; i++)
        g_clear_pointer(&((PvxLayer *)g_ptr_array_index(m->layers, i))->state->tap_grad,
                        pvx_tensor_unref);
    g_autofree PvxFusionStep *plan = g_new0(PvxFusionStep, MAX(n, 1));
    int lowest = plan_backward(m, param_grads, dx != NULL, plan);
    Flow g = {pvx_tensor_ref((PvxTensor *)dy), -1, FALSE};
    for (int i = n - 1; i >= 0 && i >= lowest; i--) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        if (l->state->tapped)
            l->state->tap_grad = pvx_tensor_copy(g.t);
        if (!plan[i].want_dx && !plan[i].param_grads)
            break;
        Flow d;
        if (!backward_layer(m, i, &plan[i], &g, &d, error)) {
            g_prefix_error(error, "layer %s: ", l->name);
            g_clear_pointer(&d.t, pvx_tensor_unref);
            pvx_tensor_unref(g.t);
            return FALSE;
        }
        pvx_tensor_unref(g.t);
        g = d;
        if (!plan[i].want_dx) {
            g_clear_pointer(&g.t, pvx_tensor_unref);
            break;
        }
    }
    gboolean ok = TRUE;
    if (dx && g.t) {
        if (*dx)
            ok = pvx_tensor_copy_into(*dx, g.t, error);
        else
            *dx = pvx_tensor_copy(g.t);
    }
    g_clear_pointer(&g.t, pvx_tensor_unref);
    return ok;
}

void pvx_model_zero_grad(PvxModel *m)
{
    for (guint i = 0; i < m->layers->len; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        if (l->weight_grad)
            pvx_tensor_zero(l->weight_grad);
        if (l->bias_grad)
            pvx_tensor_zero(l->bias_grad);
    }
}

void pvx_model_release_buffers(PvxModel *m)
{
    for (guint i = 0; i < m->layers->len; i++) {
        PvxLayerState *s = ((PvxLayer *)g_ptr_array_index(m->layers, i))->state;
        gboolean tapped = s->tapped;
        pvx_layer_state_clear(s);
        s->tapped = tapped;
    }
    for (int k = 0; k < 2; k++) {
        g_clear_pointer(&m->buf[k], pvx_tensor_unref);
        g_clear_pointer(&m->gbuf[k], pvx_tensor_unref);
    }
    m->kept = FALSE;
}
