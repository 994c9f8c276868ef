/* pvx — sparse inference in models: the per-layer cache of compressed weights, the mode
 * (PVX_SPARSE / pvx_model_set_sparse_mode) and the per-layer choice (nn.h, docs/sparse.md). */
#include "nn_private.h"

void pvx_layer_sparse_invalidate(PvxLayerState *s)
{
    g_clear_pointer(&s->sparse, pvx_sparse_weights_free);
    s->nnz_known = FALSE;
    s->nnz = 0;
}

void pvx_model_sparse_invalidate(PvxModel *m)
{
    for (guint i = 0; i < m->layers->len; i++)
        pvx_layer_sparse_invalidate(((PvxLayer *)g_ptr_array_index(m->layers, i))->state);
}

void pvx_model_set_sparse_mode(PvxModel *m, PvxSparseMode mode)
{
    g_return_if_fail(m != NULL);
    g_return_if_fail(mode >= PVX_SPARSE_DEFAULT && mode <= PVX_SPARSE_OFF);
    m->sparse_mode = mode;
}

static PvxSparseMode mode_from_env(void)
{
    const char *s = g_getenv("PVX_SPARSE");
    if (s == NULL || *s == '\0' || g_str_equal(s, "auto"))
        return PVX_SPARSE_AUTO;
    if (g_str_equal(s, "on"))
        return PVX_SPARSE_ON;
    if (g_str_equal(s, "off"))
        return PVX_SPARSE_OFF;
    static gsize warned = 0;
    if (g_once_init_enter(&warned)) {
        g_warning("PVX_SPARSE=\"%s\" is not auto, on or off; using auto", s);
        g_once_init_leave(&warned, 1);
    }
    return PVX_SPARSE_AUTO;
}

PvxSparseMode pvx_model_sparse_mode(const PvxModel *m)
{
    g_return_val_if_fail(m != NULL, PVX_SPARSE_OFF);
    return m->sparse_mode == PVX_SPARSE_DEFAULT ? mode_from_env() : m->sparse_mode;
}

gboolean pvx_model_layer_ran_sparse(const PvxModel *m, const char *name)
{
    g_return_val_if_fail(m != NULL && name != NULL, FALSE);
    int i = pvx_model_layer_index(m, name);
    return i >= 0 && pvx_model_layer(m, i)->state->ran_sparse;
}

static int64_t count_nonzero(const PvxTensor *w)
{
    int64_t n = pvx_tensor_numel(w), nnz = 0;
    const float *d = w->data;
    for (int64_t i = 0; i < n; i++)
        nnz += d[i] != 0.0f;
    return nnz;
}

const PvxSparseWeights *pvx_layer_sparse_choice(PvxModel *m, PvxLayer *l, int ndim,
                                                const int64_t *shape, PvxForwardMode mode)
{
    PvxLayerState *s = l->state;
    s->ran_sparse = FALSE;
    if (mode == PVX_FORWARD_TRAIN) {
        /* The optimizer step after this forward changes the weights. */
        pvx_layer_sparse_invalidate(s);
        return NULL;
    }
    gboolean conv = l->type == PVX_LAYER_CONV2D;
    if (!conv && l->type != PVX_LAYER_LINEAR)
        return NULL;
    switch (pvx_model_sparse_mode(m)) {
    case PVX_SPARSE_OFF:
    case PVX_SPARSE_DEFAULT:
        return NULL;
    case PVX_SPARSE_ON:
        break;
    case PVX_SPARSE_AUTO: {
        if (l->mask == NULL)
            return NULL;
        if (!s->nnz_known) {
            s->nnz = s->sparse ? pvx_sparse_weights_nnz(s->sparse) : count_nonzero(l->weight);
            s->nnz_known = TRUE;
        }
        gboolean pays;
        if (conv) {
            if (ndim != 4)
                return NULL; /* the dense op reports the shape error */
            pays = pvx_conv2d_grouped_sparse_pays(shape, l->weight->shape, &l->conv, l->groups,
                                                  s->nnz);
        } else {
            if (ndim != 2)
                return NULL;
            pays = pvx_linear_sparse_pays(shape, l->weight->shape, s->nnz);
        }
        if (!pays)
            return NULL;
        break;
    }
    }
    if (s->sparse == NULL) {
        s->sparse = pvx_sparse_weights_new(l->weight);
        s->nnz = pvx_sparse_weights_nnz(s->sparse);
        s->nnz_known = TRUE;
    }
    s->ran_sparse = TRUE;
    return s->sparse;
}
