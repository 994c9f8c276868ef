/* pvx — shape checks, output preparation and scratch buffers shared by the op kernels. */
#include <string.h>

#include "ops_private.h"

typedef struct {
    float *data[PVX_OPS_SCRATCH_SLOTS];
    size_t numel[PVX_OPS_SCRATCH_SLOTS];
} Scratch;

static void scratch_free(gpointer p)
{
    Scratch *s = p;
    for (int i = 0; i < PVX_OPS_SCRATCH_SLOTS; i++)
        pvx_aligned_free(s->data[i]);
    g_free(s);
}

static GPrivate scratch_key = G_PRIVATE_INIT(scratch_free);

float *pvx_ops_scratch(int slot, size_t numel)
{
    g_return_val_if_fail(slot >= 0 && slot < PVX_OPS_SCRATCH_SLOTS, NULL);
    Scratch *s = g_private_get(&scratch_key);
    if (s == NULL) {
        s = g_new0(Scratch, 1);
        g_private_set(&scratch_key, s);
    }
    if (s->numel[slot] < numel) {
        pvx_aligned_free(s->data[slot]);
        s->data[slot] = pvx_aligned_alloc(numel * sizeof(float));
        s->numel[slot] = numel;
    }
    return s->data[slot];
}

gboolean pvx_ops_check_tensor(const PvxTensor *t, int ndim, const char *what, GError **error)
{
    if (t->ndim != ndim) {
        g_autofree char *s = pvx_tensor_shape_string(t);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE, "%s must have %d dimensions, got %s", what,
                    ndim, s);
        return FALSE;
    }
    if (!pvx_tensor_is_contiguous(t)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "%s must be contiguous", what);
        return FALSE;
    }
    return TRUE;
}

gboolean pvx_ops_check_shape(const PvxTensor *t, int ndim, const int64_t *shape, const char *what,
                             GError **error)
{
    gboolean same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++)
        same = t->shape[d] == shape[d];
    if (!same) {
        g_autofree char *got = pvx_tensor_shape_string(t);
        g_autofree char *want = pvx_shape_string(ndim, shape);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE, "%s has shape %s, expected %s", what, got,
                    want);
        return FALSE;
    }
    if (!pvx_tensor_is_contiguous(t)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "%s must be contiguous", what);
        return FALSE;
    }
    return TRUE;
}

PvxTensor *pvx_ops_prepare_out(PvxTensor *out, int ndim, const int64_t *shape, const char *what,
                               GError **error)
{
    if (out == NULL)
        return pvx_tensor_new(ndim, shape);
    if (!pvx_ops_check_shape(out, ndim, shape, what, error))
        return NULL;
    return pvx_tensor_ref(out);
}

gboolean pvx_ops_prepare_grad(PvxTensor **dx, int ndim, const int64_t *shape, const char *what,
                              GError **error)
{
    if (*dx == NULL) {
        *dx = pvx_tensor_new(ndim, shape);
        return TRUE;
    }
    return pvx_ops_check_shape(*dx, ndim, shape, what, error);
}

PvxIndices *pvx_indices_new(int64_t numel)
{
    g_return_val_if_fail(numel >= 0, NULL);
    PvxIndices *ind = g_new0(PvxIndices, 1);
    ind->numel = numel;
    ind->data = pvx_aligned_alloc((size_t)MAX(numel, 1) * sizeof(int32_t));
    memset(ind->data, 0, (size_t)MAX(numel, 1) * sizeof(int32_t));
    return ind;
}

void pvx_indices_free(PvxIndices *indices)
{
    if (indices == NULL)
        return;
    pvx_aligned_free(indices->data);
    g_free(indices);
}

gboolean pvx_ops_use_avx512(void)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    static gsize avx512 = 0; /* 1 + (whether the CPU has AVX-512F) */
    if (g_once_init_enter(&avx512)) {
        __builtin_cpu_init();
        g_once_init_leave(&avx512, __builtin_cpu_supports("avx512f") ? 2 : 1);
    }
    const char *isa = g_getenv("PVX_KERNEL_ISA");
    if (isa != NULL && *isa != '\0' && !g_str_equal(isa, "generic") && !g_str_equal(isa, "best")) {
        static gsize warned = 0;
        if (g_once_init_enter(&warned)) {
            g_warning("PVX_KERNEL_ISA=\"%s\" is not generic or best; using best", isa);
            g_once_init_leave(&warned, 1);
        }
    }
    return avx512 == 2 && (isa == NULL || !g_str_equal(isa, "generic"));
#else
    return FALSE;
#endif
}
