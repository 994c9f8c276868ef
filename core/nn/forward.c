/* pvx — running a model's graph: forward in three modes, backward from any output gradient,
 * taps. */
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

/* ---------------------------------------------------------------------------------------------
 * The buffer pool: flat buffers handed out as views, each with a count of the values living in
 * it. A buffer whose count falls to 0 goes back to the pool; views keep the storage of a buffer
 * that grows alive, so growing never pulls memory from under one.
 */
struct _PvxBufferPool {
    GPtrArray *flat; /* PvxTensor* [capacity] */
    GArray *users;   /* int */
};

void pvx_buffer_pool_free(PvxBufferPool *p)
{
    if (!p)
        return;
    g_ptr_array_unref(p->flat);
    g_array_unref(p->users);
    g_free(p);
}

static PvxBufferPool *pool_get(PvxBufferPool **slot)
{
    if (!*slot) {
        PvxBufferPool *p = g_new0(PvxBufferPool, 1);
        p->flat = g_ptr_array_new_with_free_func((GDestroyNotify)pvx_tensor_unref);
        p->users = g_array_new(FALSE, TRUE, sizeof(int));
        *slot = p;
    }
    return *slot;
}

static int *pool_users(PvxBufferPool *p, int k)
{
    return &g_array_index(p->users, int, k);
}

/* A free buffer of at least @n floats (the smallest that fits, else the largest free one grown,
 * else a new one), marked used once. */
static int pool_acquire(PvxBufferPool *p, int64_t n)
{
    int fit = -1, grow = -1;
    for (guint k = 0; k < p->flat->len; k++) {
        if (*pool_users(p, (int)k) != 0)
            continue;
        int64_t cap = ((PvxTensor *)g_ptr_array_index(p->flat, k))->shape[0];
        if (cap >= n && (fit < 0 || cap < ((PvxTensor *)g_ptr_array_index(p->flat, fit))->shape[0]))
            fit = (int)k;
        if (cap < n &&
            (grow < 0 || cap > ((PvxTensor *)g_ptr_array_index(p->flat, grow))->shape[0]))
            grow = (int)k;
    }
    if (fit < 0) {
        if (grow >= 0) {
            fit = grow;
            pvx_tensor_unref(g_ptr_array_index(p->flat, fit));
            p->flat->pdata[fit] = pvx_tensor_new(1, &n);
        } else {
            fit = (int)p->flat->len;
            g_ptr_array_add(p->flat, pvx_tensor_new(1, &n));
            int zero = 0;
            g_array_append_val(p->users, zero);
        }
    }
    *pool_users(p, fit) = 1;
    return fit;
}

static PvxTensor *pool_view(PvxBufferPool *p, int k, int ndim, const int64_t *shape)
{
    g_autoptr(PvxTensor) flat =
        pvx_tensor_narrow0(g_ptr_array_index(p->flat, k), 0, shape_numel(ndim, shape));
    return pvx_tensor_reshape(flat, ndim, shape, NULL);
}

/* Where a value (a layer's output, or a gradient) lives. */
typedef struct {
    PvxTensor *t;
    int buf;           /* pool buffer holding it, -1 for none (the caller's, a layer's own) */
    gboolean writable; /* may be overwritten by its last reader (not the caller's, not a tap) */
} Flow;

static void flow_release(PvxBufferPool *p, Flow *f)
{
    g_clear_pointer(&f->t, pvx_tensor_unref);
    if (f->buf >= 0 && p)
        (*pool_users(p, f->buf))--;
    f->buf = -1;
}

/* Another reference to @f's value, sharing its buffer. */
static Flow flow_share(PvxBufferPool *p, const Flow *f)
{
    if (f->buf >= 0)
        (*pool_users(p, f->buf))++;
    return (Flow){pvx_tensor_ref(f->t), f->buf, f->writable};
}

/* @f's value may be overwritten: writable, and alone in its buffer. */
static gboolean flow_alone(PvxBufferPool *p, const Flow *f)
{
    return f->writable && (f->buf < 0 || *pool_users(p, f->buf) == 1);
}

/* A fresh pool value of @shape. */
static Flow flow_new(PvxBufferPool *p, int ndim, const int64_t *shape)
{
    int k = pool_acquire(p, shape_numel(ndim, shape));
    return (Flow){pool_view(p, k, ndim, shape), k, TRUE};
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
    guint64 seed;       /* dropout, stochastic depth */
    ForwardStep *steps; /* [layers] */
    Flow *vals;         /* [layers]: the outputs not yet read by all their readers */
    int *left;          /* [layers]: readers still to run */
    Flow xin;           /* the model's input */
    int xin_left;
} Forward;

static PvxFusionLayer fusion_desc(const PvxLayer *l)
{
    return (PvxFusionLayer){
        .type = l->type,
        .tapped = l->state->tapped,
        .has_params = l->weight != NULL || l->bias != NULL,
        .grouped = l->type == PVX_LAYER_CONV2D && l->groups > 1,
        .n_inputs = l->n_inputs,
        .inputs = l->state->in_idx,
        .n_consumers = MAX(l->state->n_consumers, 1),
    };
}

/* The plan of a forward of an input of @shape in @mode: every layer's output shape (a shape error
 * names the layer), the sparse or dense choice of conv2d and linear layers (sparse_cache.c) and
 * the fusions (fusion.c). Returns: (transfer full) [layers], NULL on a shape error. */
static ForwardStep *plan_forward(PvxModel *m, const PvxTensor *x, PvxForwardMode mode,
                                 GError **error)
{
    guint n = m->layers->len;
    if (x->ndim != 4) {
        g_autofree char *s = pvx_tensor_shape_string(x);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "model %s: the input has shape %s; expected [N, C, H, W]", m->arch, s);
        return NULL;
    }
    g_autofree ForwardStep *steps = g_new0(ForwardStep, MAX(n, 1));
    g_autofree PvxFusionLayer *desc = g_new0(PvxFusionLayer, MAX(n, 1));
    g_autofree PvxFusionStep *plan = g_new0(PvxFusionStep, MAX(n, 1));
    g_autofree int *nds = g_new(int, MAX(n, 1));
    g_autofree PvxShape *shapes = g_new(PvxShape, MAX(n, 1));
    if (!pvx_model_propagate_shapes(m, x->shape, nds, shapes, error))
        return NULL;
    for (guint i = 0; i < n; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        ForwardStep *st = &steps[i];
        st->ndim = nds[i];
        memcpy(st->shape, shapes[i], sizeof st->shape);
        int j = l->state->in_idx[0];
        const int64_t *in = j < 0 ? x->shape : shapes[j];
        if (l->type == PVX_LAYER_CONV2D || l->type == PVX_LAYER_LINEAR)
            st->sparse = pvx_layer_sparse_choice(m, l, j < 0 ? 4 : nds[j], in, mode);
        desc[i] = fusion_desc(l);
        desc[i].sparse = st->sparse != NULL;
        desc[i].drops = l->type == PVX_LAYER_DROPOUT && mode == PVX_FORWARD_TRAIN && l->p != 0.0;
    }
    pvx_fusion_plan_forward(desc, (int)n, plan);
    for (guint i = 0; i < n; i++)
        steps[i].step = plan[i];
    return g_steal_pointer(&steps);
}

/* Input @k of layer @l in forward @f. */
static Flow *input_flow(Forward *f, const PvxLayer *l, int k)
{
    int j = l->state->in_idx[k];
    return j < 0 ? &f->xin : &f->vals[j];
}

static int *input_left(Forward *f, const PvxLayer *l, int k)
{
    int j = l->state->in_idx[k];
    return j < 0 ? &f->xin_left : &f->left[j];
}

/* Layer @l may overwrite its first input: it is the input's last reader, nobody else holds it,
 * and in a keeping forward nobody else ever reads it (a reader before may keep it for backward). */
static gboolean may_overwrite(Forward *f, const PvxLayer *l)
{
    const Flow *in = input_flow(f, l, 0);
    int j = l->state->in_idx[0];
    if (j < 0 || *input_left(f, l, 0) != 1 || !flow_alone(f->m->pool, in))
        return FALSE;
    if (f->keep)
        return ((PvxLayer *)g_ptr_array_index(f->m->layers, j))->state->n_consumers == 1;
    return TRUE;
}

/* The output of layer @l: its own buffer when kept (keep modes, taps), else a pool buffer. */
static Flow layer_out(Forward *f, PvxLayer *l, int nd, const int64_t *shape)
{
    if (f->keep || l->state->tapped)
        return (Flow){owned_buffer(&l->state->output, nd, shape), -1, TRUE};
    return flow_new(f->m->pool, nd, shape);
}

/* Layer @l runs in place on its first input, which it takes over. */
static Flow take_input(Forward *f, const PvxLayer *l)
{
    Flow *in = input_flow(f, l, 0);
    Flow y = *in;
    *in = (Flow){NULL, -1, FALSE};
    return y;
}

/* y = Σ inputs. */
static void add_into(PvxTensor *y, const PvxTensor *a, const PvxTensor *b)
{
    int64_t n = pvx_tensor_numel(y);
    float *restrict o = y->data;
    const float *restrict pa = a->data, *restrict pb = b->data;
    if (o == pa) {
        for (int64_t i = 0; i < n; i++)
            o[i] += pb[i];
    } else {
        for (int64_t i = 0; i < n; i++)
            o[i] = pa[i] + pb[i];
    }
}

static void concat_into(PvxTensor *y, PvxTensor *const *ins, int n)
{
    int64_t batch = y->shape[0], hw = y->shape[2] * y->shape[3], off = 0;
    for (int k = 0; k < n; k++) {
        int64_t c = ins[k]->shape[1];
        for (int64_t b = 0; b < batch; b++)
            memcpy(y->data + (b * y->shape[1] + off) * hw, ins[k]->data + b * c * hw,
                   sizeof(float) * c * hw);
        off += c;
    }
}

static PvxActivation activation_of(PvxLayerType t)
{
    switch (t) {
    case PVX_LAYER_RELU6:
        return PVX_ACT_RELU6;
    case PVX_LAYER_SIGMOID:
        return PVX_ACT_SIGMOID;
    case PVX_LAYER_SILU:
        return PVX_ACT_SILU;
    case PVX_LAYER_HARDSIGMOID:
        return PVX_ACT_HARDSIGMOID;
    default:
        return PVX_ACT_HARDSWISH;
    }
}

/* Stochastic depth in TRAIN: one keep scale per sample, 0 or 1/(1-p). */
static void draw_rows(PvxTensor *mask, double p, guint64 seed)
{
    PvxRng rng;
    pvx_rng_init(&rng, seed);
    for (int64_t b = 0; b < mask->shape[0]; b++)
        mask->data[b] = pvx_rng_uniform(&rng) < 1.0 - p ? (float)(1.0 / (1.0 - p)) : 0.0f;
}

static void scale_rows(PvxTensor *y, const PvxTensor *x, const PvxTensor *mask)
{
    int64_t rows = x->shape[0], per = pvx_tensor_numel(x) / MAX(rows, 1);
    for (int64_t b = 0; b < rows; b++) {
        float s = mask->data[b];
        for (int64_t i = 0; i < per; i++)
            y->data[b * per + i] = x->data[b * per + i] * s;
    }
}

/* Runs layer @i of forward @f as planned: returns its output (y.t NULL on failure). */
static Flow forward_layer(Forward *f, guint i, GError **error)
{
    PvxModel *m = f->m;
    PvxLayer *l = g_ptr_array_index(m->layers, i);
    PvxLayerState *s = l->state;
    const ForwardStep *st = &f->steps[i];
    int nd = st->ndim;
    const int64_t *os = st->shape;
    Flow *in = input_flow(f, l, 0);
    PvxTensor *x = in->t;
    Flow y = {NULL, -1, TRUE};
    PvxTensor *r = NULL; /* the op's result: y.t, or NULL on failure */
    switch (st->step.kernel) {
    case PVX_FUSION_IDENTITY:
        y = flow_share(m->pool, in);
        y.writable = y.writable && may_overwrite(f, l);
        return y;
    case PVX_FUSION_SPARSE:
        /* The same result within float rounding as the dense op. */
        y = layer_out(f, l, nd, os);
        r = l->type == PVX_LAYER_CONV2D
                ? pvx_conv2d_grouped_forward_sparse(x, st->sparse, l->bias, &l->conv, l->groups,
                                                    y.t, error)
                : pvx_linear_forward_sparse(x, st->sparse, l->bias, y.t, error);
        goto done;
    case PVX_FUSION_CONV_RELU:
        /* Writes what the ReLU after it would have overwritten in place anyway. */
        y = layer_out(f, l, nd, os);
        r = pvx_conv2d_relu_forward(x, l->weight, l->bias, &l->conv, y.t, error);
        goto done;
    case PVX_FUSION_MAXPOOL_RELU_OUT:
    case PVX_FUSION_MAXPOOL_RELU_IN:
        g_return_val_if_reached(y); /* backward only */
    case PVX_FUSION_OWN:
        break;
    }
    switch (l->type) {
    case PVX_LAYER_CONV2D:
        y = layer_out(f, l, nd, os);
        r = l->groups > 1
                ? pvx_conv2d_grouped_forward(x, l->weight, l->bias, &l->conv, l->groups, y.t, error)
                : pvx_conv2d_forward(x, l->weight, l->bias, &l->conv, y.t, error);
        break;
    case PVX_LAYER_LINEAR:
        y = layer_out(f, l, nd, os);
        r = pvx_linear_forward(x, l->weight, l->bias, y.t, error);
        break;
    case PVX_LAYER_RELU:
        /* In place, as torchvision does, unless the input is the caller's, a tap's or read by
         * another layer too. */
        y = !s->tapped && may_overwrite(f, l) ? take_input(f, l) : layer_out(f, l, nd, os);
        r = pvx_relu_forward(x, y.t, error);
        break;
    case PVX_LAYER_RELU6:
    case PVX_LAYER_SIGMOID:
    case PVX_LAYER_SILU:
    case PVX_LAYER_HARDSIGMOID:
    case PVX_LAYER_HARDSWISH:
        /* Backward needs the input: in place only when nothing is kept. */
        y = !f->keep && !s->tapped && may_overwrite(f, l) ? take_input(f, l)
                                                          : layer_out(f, l, nd, os);
        r = pvx_activation_forward(activation_of(l->type), x, y.t, error);
        break;
    case PVX_LAYER_IDENTITY:
        y = flow_share(m->pool, in);
        y.writable = y.writable && may_overwrite(f, l);
        return y; /* a tapped one is made read-only by the caller */
    case PVX_LAYER_STOCHASTIC_DEPTH:
        if (!f->training || l->p == 0.0) {
            y = flow_share(m->pool, in);
            y.writable = y.writable && may_overwrite(f, l);
            return y;
        }
        if (!s->drop_mask || s->drop_mask->shape[0] != x->shape[0]) {
            g_clear_pointer(&s->drop_mask, pvx_tensor_unref);
            s->drop_mask = pvx_tensor_new(1, x->shape);
        }
        draw_rows(s->drop_mask, l->p, pvx_hash64(f->seed, i, 0x5d));
        y = layer_out(f, l, nd, os);
        scale_rows(y.t, x, s->drop_mask);
        r = pvx_tensor_ref(y.t);
        break;
    case PVX_LAYER_ADD: {
        /* In place on the first input where nothing can read it later: in a keeping forward,
         * its producer's backward must not read its own output (a ReLU run in place does). */
        int j = s->in_idx[0];
        PvxLayerType pt = j >= 0 ? ((PvxLayer *)g_ptr_array_index(m->layers, j))->type : 0;
        gboolean inplace = !s->tapped && may_overwrite(f, l) &&
                           (!f->keep || pt == PVX_LAYER_BATCHNORM2D || pt == PVX_LAYER_CONV2D ||
                            pt == PVX_LAYER_LINEAR);
        y = inplace ? take_input(f, l) : layer_out(f, l, nd, os);
        add_into(y.t, x, input_flow(f, l, 1)->t);
        for (int k = 2; k < l->n_inputs; k++)
            add_into(y.t, y.t, input_flow(f, l, k)->t);
        r = pvx_tensor_ref(y.t);
        break;
    }
    case PVX_LAYER_CONCAT: {
        g_autofree PvxTensor **ins = g_new(PvxTensor *, l->n_inputs);
        for (int k = 0; k < l->n_inputs; k++)
            ins[k] = input_flow(f, l, k)->t;
        y = layer_out(f, l, nd, os);
        concat_into(y.t, ins, l->n_inputs);
        r = pvx_tensor_ref(y.t);
        break;
    }
    case PVX_LAYER_MUL:
        y = !f->keep && !s->tapped && may_overwrite(f, l) ? take_input(f, l)
                                                          : layer_out(f, l, nd, os);
        r = pvx_channel_mul_forward(x, input_flow(f, l, 1)->t, y.t, error);
        break;
    case PVX_LAYER_MAXPOOL2D:
        y = layer_out(f, l, nd, os);
        r = pvx_maxpool2d_forward(x, &l->pool, y.t, f->keep ? &s->indices : NULL, error);
        break;
    case PVX_LAYER_ADAPTIVE_AVGPOOL2D:
        y = layer_out(f, l, nd, os);
        r = pvx_adaptive_avgpool2d_forward(x, l->out_h, l->out_w, y.t, error);
        break;
    case PVX_LAYER_DROPOUT:
        if (s->drop_mask && !pvx_tensor_same_shape(s->drop_mask, x))
            g_clear_pointer(&s->drop_mask, pvx_tensor_unref);
        y = layer_out(f, l, nd, os);
        r = pvx_dropout_forward(x, l->p, TRUE, pvx_mix64(f->seed * 1000003u + i), y.t,
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
        y = layer_out(f, l, nd, os);
        r = pvx_batchnorm2d_forward(x, l->weight, l->bias, l->running_mean, l->running_var, &bp,
                                    f->training ? s->save_mean : NULL,
                                    f->training ? s->save_invstd : NULL, y.t, error);
        if (r && f->training)
            l->num_batches_tracked++;
        break;
    }
    case PVX_LAYER_FLATTEN: {
        /* A view of the input, living in its buffer. */
        PvxTensor *v = pvx_flatten(x, error);
        if (!v)
            return y;
        Flow sh = flow_share(m->pool, in);
        pvx_tensor_unref(sh.t);
        sh.t = v;
        sh.writable = sh.writable && may_overwrite(f, l);
        return sh;
    }
    }
done:
    if (!r) {
        flow_release(m->pool, &y);
        return y;
    }
    if (r != y.t) { /* ops return their out argument; keep the ownership straight anyway */
        pvx_tensor_unref(y.t);
        y.t = r;
    } else {
        pvx_tensor_unref(r);
    }
    return y;
}

/* Clears what the last forward kept, keeping the tap settings. */
static void clear_kept(PvxModel *m, gboolean keep)
{
    for (guint i = 0; i < m->layers->len; i++) {
        PvxLayerState *s = ((PvxLayer *)g_ptr_array_index(m->layers, i))->state;
        g_clear_pointer(&s->input, pvx_tensor_unref);
        g_clear_pointer(&s->input2, pvx_tensor_unref);
        g_clear_pointer(&s->in_channels, g_free);
        g_clear_pointer(&s->tap_act, pvx_tensor_unref);
        g_clear_pointer(&s->tap_grad, pvx_tensor_unref);
        if (!keep) {
            g_clear_pointer(&s->indices, pvx_indices_free);
            g_clear_pointer(&s->drop_mask, pvx_tensor_unref);
        }
    }
}

/* Gives forward @f its plan, the pool and empty value slots (forward_end frees them). */
static void forward_begin(Forward *f, ForwardStep *steps)
{
    guint n = f->m->layers->len;
    pool_get(&f->m->pool);
    f->steps = steps;
    f->vals = g_new0(Flow, MAX(n, 1));
    f->left = g_new0(int, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        f->vals[i].buf = -1;
}

static void forward_end(Forward *f)
{
    g_free(f->vals);
    g_free(f->left);
}

/* Runs layers [@start, n) of forward @f, whose values before @start are already in f->vals (or
 * f->xin). Returns: (transfer full) a copy of the last layer's output, NULL + error. */
static PvxTensor *run_layers(Forward *f, guint start, GError **error)
{
    PvxModel *m = f->m;
    guint n = m->layers->len;
    PvxTensor *result = NULL;
    for (guint i = start; i < n; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        PvxLayerState *s = l->state;
        if (f->keep) {
            s->input = pvx_tensor_ref(input_flow(f, l, 0)->t);
            if (l->type == PVX_LAYER_MUL)
                s->input2 = pvx_tensor_ref(input_flow(f, l, 1)->t);
            if (l->type == PVX_LAYER_CONCAT) {
                s->in_channels = g_new(int64_t, l->n_inputs);
                for (int k = 0; k < l->n_inputs; k++)
                    s->in_channels[k] = input_flow(f, l, k)->t->shape[1];
            }
        }
        Flow y = forward_layer(f, i, error);
        if (!y.t) {
            g_prefix_error(error, "layer %s: ", l->name);
            goto out;
        }
        if (s->tapped) {
            s->tap_act = pvx_tensor_ref(y.t);
            y.writable = FALSE;
        }
        /* This layer has read its inputs. */
        for (int k = 0; k < l->n_inputs; k++) {
            int *left = input_left(f, l, k);
            if (--(*left) == 0)
                flow_release(m->pool, input_flow(f, l, k));
        }
        f->vals[i] = y;
        f->left[i] = s->n_consumers;
    }
    result = pvx_tensor_copy(f->vals[n - 1].t);
out:
    for (guint i = 0; i < n; i++)
        flow_release(m->pool, &f->vals[i]);
    flow_release(m->pool, &f->xin);
    return result;
}

PvxTensor *pvx_model_forward(PvxModel *m, PvxTensor *x, PvxForwardMode mode, GError **error)
{
    g_return_val_if_fail(m != NULL && x != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!pvx_model_resolve(m, error))
        return NULL;
    if (!pvx_tensor_is_contiguous(x)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE, "model %s: the input must be contiguous",
                    m->arch);
        return NULL;
    }
    guint n = m->layers->len;
    Forward f = {.m = m};
    f.keep = mode != PVX_FORWARD_INFERENCE;
    f.training = mode == PVX_FORWARD_TRAIN;
    m->kept = FALSE;
    clear_kept(m, f.keep);
    f.seed = f.training ? m->dropout_seed + m->dropout_count++ : 0;
    g_autofree ForwardStep *steps = plan_forward(m, x, mode, error);
    if (!steps)
        return NULL;
    forward_begin(&f, steps);
    f.xin = (Flow){pvx_tensor_ref(x), -1, FALSE};
    f.xin_left = m->input_consumers;
    PvxTensor *result = run_layers(&f, 0, error);
    forward_end(&f);
    if (!result) {
        clear_kept(m, TRUE);
        return NULL;
    }
    if (f.keep) {
        m->kept = TRUE;
        m->kept_mode = mode;
        m->out_ndim = result->ndim;
        memcpy(m->out_shape, result->shape, sizeof m->out_shape);
    }
    return result;
}

PvxTensor *pvx_model_forward_from(PvxModel *m, const char *layer, const PvxTensor *act,
                                  GError **error)
{
    g_return_val_if_fail(m != NULL && act != NULL, NULL);
    if (!pvx_model_resolve(m, error))
        return NULL;
    PvxLayer *from = pvx_model_find_layer(m, layer, error);
    if (!from)
        return NULL;
    guint n = m->layers->len;
    int start = pvx_model_layer_index(m, from->name);
    for (guint i = start + 1; i < n; i++) {
        const PvxLayer *l = g_ptr_array_index(m->layers, i);
        for (int k = 0; k < l->n_inputs; k++)
            if (l->state->in_idx[k] < start) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                            "model %s: layer %s does not cut the graph: layer %s after it reads "
                            "%s, from before it",
                            m->arch, from->name, l->name, l->inputs[k]);
                return NULL;
            }
    }
    if (start == (int)n - 1)
        return pvx_tensor_copy(act);
    /* Shapes from the activation: the layers after @layer see what the input would give. */
    Forward f = {.m = m};
    g_autofree ForwardStep *steps = g_new0(ForwardStep, n);
    int nd = act->ndim;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    memcpy(shape, act->shape, sizeof(int64_t) * nd);
    g_autofree int *nds = g_new(int, n);
    g_autofree PvxShape *shapes = g_new(PvxShape, n);
    nds[start] = nd;
    memcpy(shapes[start], shape, sizeof shape);
    int max_in = 1;
    for (guint i = 0; i < n; i++)
        max_in = MAX(max_in, ((PvxLayer *)g_ptr_array_index(m->layers, i))->n_inputs);
    g_autofree int *ind = g_new(int, max_in);
    g_autofree PvxShape *ins = g_new0(PvxShape, max_in);
    for (guint i = start + 1; i < n; i++) {
        const PvxLayer *l = g_ptr_array_index(m->layers, i);
        for (int k = 0; k < l->n_inputs; k++) {
            ind[k] = nds[l->state->in_idx[k]];
            memcpy(ins[k], shapes[l->state->in_idx[k]], sizeof ins[k]);
        }
        if (!pvx_layer_output_shape_n(l, l->n_inputs, ind, (const PvxShape *)ins, &nds[i],
                                      shapes[i], error))
            return NULL;
        steps[i].ndim = nds[i];
        memcpy(steps[i].shape, shapes[i], sizeof steps[i].shape);
        steps[i].step = (PvxFusionStep){PVX_FUSION_OWN, -1, FALSE, FALSE};
        if (l->type == PVX_LAYER_DROPOUT)
            steps[i].step.kernel = PVX_FUSION_IDENTITY; /* evaluation */
    }
    forward_begin(&f, steps);
    f.xin = (Flow){NULL, -1, FALSE};
    /* The activation stands for @layer's output: a private copy the next layers may overwrite. */
    f.vals[start] = flow_new(m->pool, act->ndim, act->shape);
    if (!pvx_tensor_copy_into(f.vals[start].t, act, error)) {
        flow_release(m->pool, &f.vals[start]);
        forward_end(&f);
        return NULL;
    }
    f.left[start] = from->state->n_consumers;
    /* Taps must not see this run; the kept state stays as the last full forward left it. */
    g_autofree gboolean *tapped = g_new0(gboolean, n);
    for (guint i = start + 1; i < n; i++) {
        PvxLayerState *s = ((PvxLayer *)g_ptr_array_index(m->layers, i))->state;
        tapped[i] = s->tapped;
        s->tapped = FALSE;
    }
    PvxTensor *result = run_layers(&f, start + 1, error);
    forward_end(&f);
    for (guint i = start + 1; i < n; i++)
        ((PvxLayer *)g_ptr_array_index(m->layers, i))->state->tapped = tapped[i];
    return result;
}

/* ---------------------------------------------------------------------------------------------
 * Backward
 */

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
        desc[i] = fusion_desc(l);
        desc[i].drops =
            l->type == PVX_LAYER_DROPOUT && l->state->drop_mask != NULL && training && l->p != 0.0;
        desc[i].input_kept = l->state->input != NULL;
    }
    return pvx_fusion_plan_backward(desc, (int)n, param_grads, input_grad, plan);
}

/* Runs layer @i's part of a backward as @step plans it on the gradient @g of its output (which it
 * takes over): d[k] gets the gradient of input k where wanted (d[k].t NULL where not). Returns
 * FALSE on failure. */
static gboolean backward_layer(PvxModel *m, int i, const PvxFusionStep *step, Flow *g, Flow *d,
                               GError **error)
{
    PvxLayer *l = g_ptr_array_index(m->layers, i);
    PvxLayerState *s = l->state;
    PvxBufferPool *p = m->gpool;
    gboolean want_dx = step->want_dx, pg = step->param_grads;
    gboolean training = m->kept_mode == PVX_FORWARD_TRAIN;
    const PvxTensor *in = s->input;
    PvxTensor *gt = g->t; /* alive until out: in g, or in d[0] when taken over */
    for (int k = 0; k < l->n_inputs; k++)
        d[k] = (Flow){NULL, -1, TRUE};
        /* A fresh input-gradient buffer. */
#define NEW_DX() (d[0] = flow_new(p, in->ndim, in->shape))
        /* In place where g may be overwritten. */
#define INPLACE_OR_NEW_DX()                                                                        \
    do {                                                                                           \
        if (flow_alone(p, g)) {                                                                    \
            d[0] = *g;                                                                             \
            *g = (Flow){NULL, -1, FALSE};                                                          \
        } else {                                                                                   \
            NEW_DX();                                                                              \
        }                                                                                          \
    } while (0)
    gboolean ok = TRUE;
    PvxTensor *dw = pg ? l->weight_grad : NULL, *db = pg && l->bias ? l->bias_grad : NULL;
    switch (step->kernel) {
    case PVX_FUSION_IDENTITY:
        d[0] = flow_share(p, g);
        goto out;
    case PVX_FUSION_CONV_RELU:
        /* The ReLU before: its output, this layer's input, gives the gate. */
        NEW_DX();
        ok = pvx_conv2d_relu_backward(in, l->weight, gt, &l->conv, &d[0].t, dw, db, error);
        if (ok && pg)
            mask_grad(l);
        goto out;
    case PVX_FUSION_MAXPOOL_RELU_OUT: {
        NEW_DX();
        /* The pool's output, as the next layer kept it (an in-place ReLU there keeps its sign),
         * gives the folded ReLU's gate at a quarter of the reads of the input. */
        const PvxLayer *next = g_ptr_array_index(m->layers, i + 1);
        ok =
            pvx_maxpool2d_relu_backward_out(in, next->state->input, s->indices, gt, &d[0].t, error);
        goto out;
    }
    case PVX_FUSION_MAXPOOL_RELU_IN:
        NEW_DX();
        ok = pvx_maxpool2d_relu_backward(in, s->indices, gt, &d[0].t, error);
        goto out;
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
        if (l->type == PVX_LAYER_CONV2D && l->groups > 1)
            ok = pvx_conv2d_grouped_backward(in, l->weight, gt, &l->conv, l->groups,
                                             want_dx ? &d[0].t : NULL, dw, db, error);
        else if (l->type == PVX_LAYER_CONV2D)
            ok = pvx_conv2d_backward(in, l->weight, gt, &l->conv, want_dx ? &d[0].t : NULL, dw, db,
                                     error);
        else
            ok = pvx_linear_backward(in, l->weight, gt, want_dx ? &d[0].t : NULL, dw, db, error);
        if (ok && pg)
            mask_grad(l);
        break;
    case PVX_LAYER_RELU:
        INPLACE_OR_NEW_DX();
        ok = pvx_relu_backward(in, gt, &d[0].t, error);
        break;
    case PVX_LAYER_RELU6:
    case PVX_LAYER_SIGMOID:
    case PVX_LAYER_SILU:
    case PVX_LAYER_HARDSIGMOID:
    case PVX_LAYER_HARDSWISH:
        INPLACE_OR_NEW_DX();
        ok = pvx_activation_backward(activation_of(l->type), in, gt, &d[0].t, error);
        break;
    case PVX_LAYER_IDENTITY:
        d[0] = flow_share(p, g);
        break;
    case PVX_LAYER_STOCHASTIC_DEPTH:
        if (!training || l->p == 0.0 || !s->drop_mask) {
            d[0] = flow_share(p, g);
            break;
        }
        INPLACE_OR_NEW_DX();
        scale_rows(d[0].t, gt, s->drop_mask);
        break;
    case PVX_LAYER_ADD:
        /* Every input gets the output's gradient; they share it until one writes. */
        for (int k = 0; k < l->n_inputs; k++)
            d[k] = flow_share(p, g);
        break;
    case PVX_LAYER_CONCAT: {
        int64_t batch = gt->shape[0], hw = gt->shape[2] * gt->shape[3], off = 0;
        for (int k = 0; k < l->n_inputs; k++) {
            int64_t c = s->in_channels[k];
            int64_t shape[4] = {batch, c, gt->shape[2], gt->shape[3]};
            d[k] = flow_new(p, 4, shape);
            for (int64_t b = 0; b < batch; b++)
                memcpy(d[k].t->data + b * c * hw, gt->data + (b * gt->shape[1] + off) * hw,
                       sizeof(float) * c * hw);
            off += c;
        }
        break;
    }
    case PVX_LAYER_MUL:
        NEW_DX();
        d[1] = flow_new(p, s->input2->ndim, s->input2->shape);
        ok = pvx_channel_mul_backward(in, s->input2, gt, &d[0].t, &d[1].t, error);
        break;
    case PVX_LAYER_MAXPOOL2D:
        NEW_DX();
        ok = pvx_maxpool2d_backward(in, s->indices, gt, &d[0].t, error);
        break;
    case PVX_LAYER_ADAPTIVE_AVGPOOL2D:
        NEW_DX();
        ok = pvx_adaptive_avgpool2d_backward(in, gt, &d[0].t, error);
        break;
    case PVX_LAYER_DROPOUT:
        INPLACE_OR_NEW_DX();
        ok = pvx_dropout_backward(s->drop_mask, gt, &d[0].t, error);
        break;
    case PVX_LAYER_BATCHNORM2D: {
        PvxBatchNorm2dParams bp = {l->eps, l->momentum, training};
        if (want_dx)
            NEW_DX();
        ok = pvx_batchnorm2d_backward(in, l->weight, l->running_mean, l->running_var, s->save_mean,
                                      s->save_invstd, &bp, gt, want_dx ? &d[0].t : NULL,
                                      pg ? l->weight_grad : NULL, pg ? l->bias_grad : NULL, error);
        break;
    }
    case PVX_LAYER_FLATTEN: {
        d[0] = flow_share(p, g);
        PvxTensor *v = pvx_flatten_backward(in, gt, error);
        pvx_tensor_unref(d[0].t);
        d[0].t = v;
        ok = v != NULL;
        break;
    }
    }
#undef INPLACE_OR_NEW_DX
#undef NEW_DX
out:
    flow_release(p, g);
    if (!ok)
        for (int k = 0; k < l->n_inputs; k++)
            flow_release(p, &d[k]);
    return ok;
}

/* *acc += *d (taking @d over). */
static void accumulate(PvxBufferPool *p, Flow *acc, Flow *d)
{
    if (!acc->t) {
        *acc = *d;
        *d = (Flow){NULL, -1, FALSE};
        return;
    }
    if (!flow_alone(p, acc)) {
        if (flow_alone(p, d)) { /* swap: write into the one that may be written */
            Flow t = *acc;
            *acc = *d;
            *d = t;
        } else {
            Flow c = flow_new(p, acc->t->ndim, acc->t->shape);
            memcpy(c.t->data, acc->t->data, sizeof(float) * pvx_tensor_numel(c.t));
            flow_release(p, acc);
            *acc = c;
        }
    }
    add_into(acc->t, acc->t, d->t);
    flow_release(p, d);
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
    PvxBufferPool *p = pool_get(&m->gpool);
    g_autofree Flow *grads = g_new0(Flow, n);
    int max_in = 1;
    for (int i = 0; i < n; i++) {
        grads[i].buf = -1;
        max_in = MAX(max_in, ((PvxLayer *)g_ptr_array_index(m->layers, i))->n_inputs);
    }
    g_autofree Flow *d = g_new0(Flow, max_in);
    Flow gin = {NULL, -1, FALSE};
    grads[n - 1] = (Flow){pvx_tensor_ref((PvxTensor *)dy), -1, FALSE};
    gboolean ok = TRUE;
    for (int i = n - 1; i >= 0 && i >= lowest; i--) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        if (!grads[i].t)
            continue;
        if (l->state->tapped)
            l->state->tap_grad = pvx_tensor_copy(grads[i].t);
        if (!plan[i].want_dx && !plan[i].param_grads) {
            flow_release(p, &grads[i]);
            continue;
        }
        if (!backward_layer(m, i, &plan[i], &grads[i], d, error)) {
            g_prefix_error(error, "layer %s: ", l->name);
            ok = FALSE;
            break;
        }
        for (int k = 0; k < l->n_inputs; k++) {
            if (!d[k].t)
                continue;
            int j = l->state->in_idx[k];
            if (!plan[i].want_dx || (j < 0 && !dx) || (j >= 0 && j < lowest))
                flow_release(p, &d[k]);
            else
                accumulate(p, j < 0 ? &gin : &grads[j], &d[k]);
        }
    }
    for (int i = 0; i < n; i++)
        flow_release(p, &grads[i]);
    if (ok && dx && gin.t) {
        if (*dx)
            ok = pvx_tensor_copy_into(*dx, gin.t, error);
        else
            *dx = pvx_tensor_copy(gin.t);
    }
    flow_release(p, &gin);
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
    g_clear_pointer(&m->pool, pvx_buffer_pool_free);
    g_clear_pointer(&m->gpool, pvx_buffer_pool_free);
    m->kept = FALSE;
}
