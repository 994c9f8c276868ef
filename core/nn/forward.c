/* pvx — running a model: forward in three modes, backward from any output gradient, taps. */
#include <string.h>

#include "nn-private.h"
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

PvxTensor *pvx_model_forward(PvxModel *m, PvxTensor *x, PvxForwardMode mode, GError **error)
{
    g_return_val_if_fail(m != NULL && x != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!pvx_tensor_is_contiguous(x)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE, "model %s: the input must be contiguous",
                    m->arch);
        return NULL;
    }
    gboolean keep = mode != PVX_FORWARD_INFERENCE, training = mode == PVX_FORWARD_TRAIN;
    m->kept = FALSE;
    for (guint i = 0; i < m->layers->len; i++) {
        PvxLayerState *s = ((PvxLayer *)g_ptr_array_index(m->layers, i))->state;
        g_clear_pointer(&s->input, pvx_tensor_unref);
        g_clear_pointer(&s->tap_act, pvx_tensor_unref);
        g_clear_pointer(&s->tap_grad, pvx_tensor_unref);
        if (!keep) {
            g_clear_pointer(&s->indices, pvx_indices_free);
            g_clear_pointer(&s->drop_mask, pvx_tensor_unref);
        }
    }
    guint64 seed = training ? m->dropout_seed + m->dropout_count++ : 0;
    Flow cur = {pvx_tensor_ref(x), -1, FALSE};
    /* A conv followed by a ReLU, neither tapped: the conv applies the ReLU as it writes its
     * output (pvx_conv2d_relu_forward), which the ReLU would have overwritten in place anyway, and
     * the ReLU layer passes it on. */
    gboolean relu_done = FALSE;
    for (guint i = 0; i < m->layers->len; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        PvxLayerState *s = l->state;
        int nd;
        int64_t os[PVX_TENSOR_MAX_DIMS];
        if (!pvx_layer_output_shape(l, cur.t->ndim, cur.t->shape, &nd, os, error))
            goto fail;
        gboolean own = keep || s->tapped;
        if (keep)
            s->input = pvx_tensor_ref(cur.t);
        Flow y = {NULL, -1, TRUE};
        g_autoptr(PvxTensor) out = NULL;
        switch (l->type) {
        case PVX_LAYER_CONV2D:
        case PVX_LAYER_LINEAR: {
            /* Sparse or dense (sparse_cache.c): the same result within float rounding. */
            const PvxSparseWeights *sw = pvx_layer_sparse_choice(m, l, cur.t, mode);
            out = layer_out(m, l, own, &cur, nd, os, &y.buf);
            PvxLayer *next = i + 1 < m->layers->len ? g_ptr_array_index(m->layers, i + 1) : NULL;
            relu_done = l->type == PVX_LAYER_CONV2D && sw == NULL && !s->tapped && next != NULL &&
                        next->type == PVX_LAYER_RELU && !next->state->tapped;
            if (relu_done)
                y.t = pvx_conv2d_relu_forward(cur.t, l->weight, l->bias, &l->conv, out, error);
            else if (l->type == PVX_LAYER_CONV2D)
                y.t = sw ? pvx_conv2d_forward_sparse(cur.t, sw, l->bias, &l->conv, out, error)
                         : pvx_conv2d_forward(cur.t, l->weight, l->bias, &l->conv, out, error);
            else
                y.t = sw ? pvx_linear_forward_sparse(cur.t, sw, l->bias, out, error)
                         : pvx_linear_forward(cur.t, l->weight, l->bias, out, error);
            break;
        }
        case PVX_LAYER_RELU:
            if (relu_done) { /* applied by the conv before */
                relu_done = FALSE;
                y = cur;
                y.t = pvx_tensor_ref(cur.t);
                break;
            }
            /* In place, as torchvision does, unless the input is the caller's or a tap's. */
            if (cur.writable && !s->tapped) {
                out = pvx_tensor_ref(cur.t);
                y.buf = cur.buf;
            } else {
                out = layer_out(m, l, own, &cur, nd, os, &y.buf);
            }
            y.t = pvx_relu_forward(cur.t, out, error);
            break;
        case PVX_LAYER_MAXPOOL2D:
            out = layer_out(m, l, own, &cur, nd, os, &y.buf);
            y.t = pvx_maxpool2d_forward(cur.t, &l->pool, out, keep ? &s->indices : NULL, error);
            break;
        case PVX_LAYER_ADAPTIVE_AVGPOOL2D:
            out = layer_out(m, l, own, &cur, nd, os, &y.buf);
            y.t = pvx_adaptive_avgpool2d_forward(cur.t, l->out_h, l->out_w, out, error);
            break;
        case PVX_LAYER_DROPOUT:
            if (!training || l->p == 0.0) {
                y = cur;
                y.t = pvx_tensor_ref(cur.t);
            } else {
                if (s->drop_mask && !pvx_tensor_same_shape(s->drop_mask, cur.t))
                    g_clear_pointer(&s->drop_mask, pvx_tensor_unref);
                out = layer_out(m, l, own, &cur, nd, os, &y.buf);
                y.t = pvx_dropout_forward(cur.t, l->p, TRUE, pvx_mix64(seed * 1000003u + i), out,
                                          &s->drop_mask, error);
            }
            break;
        case PVX_LAYER_BATCHNORM2D: {
            PvxBatchNorm2dParams bp = {l->eps, l->momentum, training};
            if (training) {
                g_clear_pointer(&s->save_mean, pvx_tensor_unref);
                g_clear_pointer(&s->save_invstd, pvx_tensor_unref);
                s->save_mean = pvx_tensor_new(1, &l->out_features);
                s->save_invstd = pvx_tensor_new(1, &l->out_features);
            }
            out = layer_out(m, l, own, &cur, nd, os, &y.buf);
            y.t = pvx_batchnorm2d_forward(cur.t, l->weight, l->bias, l->running_mean,
                                          l->running_var, &bp, training ? s->save_mean : NULL,
                                          training ? s->save_invstd : NULL, out, error);
            if (y.t && training)
                l->num_batches_tracked++;
            break;
        }
        case PVX_LAYER_FLATTEN:
            y = cur;
            y.t = pvx_flatten(cur.t, error);
            break;
        }
        if (!y.t) {
            g_prefix_error(error, "layer %s: ", l->name);
            goto fail;
        }
        if (s->tapped) {
            s->tap_act = pvx_tensor_ref(y.t);
            y.writable = FALSE;
        }
        pvx_tensor_unref(cur.t);
        cur = y;
    }
    PvxTensor *result = pvx_tensor_copy(cur.t);
    if (keep) {
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
    /* need: the lowest i whose output gradient someone wants (-1: the input's). */
    int need = dx ? -1 : n;
    for (int i = 0; i < n; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        g_clear_pointer(&l->state->tap_grad, pvx_tensor_unref);
        if (l->state->tapped || (param_grads && (l->weight || l->bias)))
            need = MIN(need, i);
    }
    gboolean training = m->kept_mode == PVX_FORWARD_TRAIN;
    Flow g = {pvx_tensor_ref((PvxTensor *)dy), -1, FALSE};
    /* A ReLU's backward is folded into the convolution or max-pool after it, which zero their
     * input gradient where their input (the ReLU's output) is not positive as they write it: one
     * pass over the gradient fewer. Not when the ReLU is tapped: its tap wants the gradient
     * before the ReLU. relu_done: the layer just done has applied the ReLU before it. */
    gboolean relu_done = FALSE;
    for (int i = n - 1; i >= 0 && i >= need; i--) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        PvxLayerState *s = l->state;
        PvxLayer *prev = i > 0 ? g_ptr_array_index(m->layers, i - 1) : NULL;
        gboolean fold_relu = prev != NULL && prev->type == PVX_LAYER_RELU && !prev->state->tapped;
        gboolean relu_folded = relu_done;
        relu_done = FALSE;
        if (s->tapped)
            s->tap_grad = pvx_tensor_copy(g.t);
        gboolean want_dx = i - 1 >= need;
        gboolean pg = param_grads && (l->weight || l->bias);
        if (!want_dx && !pg)
            break;
        const PvxTensor *in = s->input;
        Flow d = {NULL, -1, TRUE};
        int k = g.buf == 0 ? 1 : 0;
        gboolean ok = TRUE;
        /* A fresh input-gradient buffer, the one g does not live in. */
#define NEW_DX() (d.buf = k, d.t = buffer_view(&m->gbuf[k], in->ndim, in->shape))
        switch (l->type) {
        case PVX_LAYER_CONV2D:
        case PVX_LAYER_LINEAR: {
            if (want_dx)
                NEW_DX();
            PvxTensor *dw = pg ? l->weight_grad : NULL, *db = pg && l->bias ? l->bias_grad : NULL;
            if (l->type == PVX_LAYER_CONV2D && want_dx && fold_relu) {
                ok = pvx_conv2d_relu_backward(in, l->weight, g.t, &l->conv, &d.t, dw, db, error);
                relu_done = TRUE;
            } else if (l->type == PVX_LAYER_CONV2D)
                ok = pvx_conv2d_backward(in, l->weight, g.t, &l->conv, want_dx ? &d.t : NULL, dw,
                                         db, error);
            else
                ok = pvx_linear_backward(in, l->weight, g.t, want_dx ? &d.t : NULL, dw, db, error);
            if (ok && pg)
                mask_grad(l);
            break;
        }
        case PVX_LAYER_RELU:
            if (relu_folded) { /* the layer after this one has applied it */
                d = g;
                d.t = pvx_tensor_ref(g.t);
                break;
            }
            if (g.writable) {
                d = g;
                d.t = pvx_tensor_ref(g.t);
            } else {
                NEW_DX();
            }
            ok = pvx_relu_backward(in, g.t, &d.t, error);
            break;
        case PVX_LAYER_MAXPOOL2D: {
            NEW_DX();
            /* The pool's output, as the next layer kept it (an in-place ReLU there keeps its
             * sign), gives the folded ReLU's gate at a quarter of the reads of the input. */
            PvxLayer *next = i + 1 < n ? g_ptr_array_index(m->layers, i + 1) : NULL;
            const PvxTensor *out = next != NULL ? next->state->input : NULL;
            if (fold_relu && out != NULL && pvx_tensor_same_shape(out, g.t)) {
                ok = pvx_maxpool2d_relu_backward_out(in, out, s->indices, g.t, &d.t, error);
                relu_done = TRUE;
            } else if (fold_relu) {
                ok = pvx_maxpool2d_relu_backward(in, s->indices, g.t, &d.t, error);
                relu_done = TRUE;
            } else {
                ok = pvx_maxpool2d_backward(in, s->indices, g.t, &d.t, error);
            }
            break;
        }
        case PVX_LAYER_ADAPTIVE_AVGPOOL2D:
            NEW_DX();
            ok = pvx_adaptive_avgpool2d_backward(in, g.t, &d.t, error);
            break;
        case PVX_LAYER_DROPOUT:
            if (!s->drop_mask || !training || l->p == 0.0) {
                d = g;
                d.t = pvx_tensor_ref(g.t);
            } else {
                if (g.writable) {
                    d = g;
                    d.t = pvx_tensor_ref(g.t);
                } else {
                    NEW_DX();
                }
                ok = pvx_dropout_backward(s->drop_mask, g.t, &d.t, error);
            }
            break;
        case PVX_LAYER_BATCHNORM2D: {
            PvxBatchNorm2dParams bp = {l->eps, l->momentum, training};
            if (want_dx)
                NEW_DX();
            ok = pvx_batchnorm2d_backward(in, l->weight, l->running_mean, l->running_var,
                                          s->save_mean, s->save_invstd, &bp, g.t,
                                          want_dx ? &d.t : NULL, pg ? l->weight_grad : NULL,
                                          pg ? l->bias_grad : NULL, error);
            break;
        }
        case PVX_LAYER_FLATTEN:
            d = g;
            d.t = pvx_flatten_backward(in, g.t, error);
            ok = d.t != NULL;
            break;
        }
#undef NEW_DX
        if (!ok) {
            g_prefix_error(error, "layer %s: ", l->name);
            g_clear_pointer(&d.t, pvx_tensor_unref);
            pvx_tensor_unref(g.t);
            return FALSE;
        }
        pvx_tensor_unref(g.t);
        g = d;
        if (!want_dx) {
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
