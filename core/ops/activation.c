/* pvx — element-wise and per-row ops: ReLU, dropout, softmax, log-softmax, flatten. */
#include <math.h>
#include <string.h>

#include "ops_private.h"
#include "pvx/random.h"

/* Element-wise loops split into ranges of at least this many elements per thread: below it a
 * wake-up of the pool costs more than the loop. */
#define ELEMENT_GRAIN 32768

static gboolean check_any(const PvxTensor *t, const char *what, GError **error)
{
    if (!pvx_tensor_is_contiguous(t)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "%s must be contiguous", what);
        return FALSE;
    }
    return TRUE;
}

typedef struct {
    const float *a;
    const float *b;
    float *out;
    float scale;
    guint64 seed;
    guint64 threshold; /* dropout: drop iff a 24-bit draw < threshold */
    float *mask;
} MapJob;

static void relu_range(int64_t i0, int64_t i1, void *data)
{
    const MapJob *j = data;
    for (int64_t i = i0; i < i1; i++)
        j->out[i] = j->a[i] > 0.0f ? j->a[i] : 0.0f;
}

PvxTensor *pvx_relu_forward(const PvxTensor *x, PvxTensor *out, GError **error)
{
    g_return_val_if_fail(x != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!check_any(x, "relu input", error))
        return NULL;
    PvxTensor *y = pvx_ops_prepare_out(out, x->ndim, x->shape, "relu output", error);
    if (y == NULL)
        return NULL;
    MapJob j = {.a = x->data, .out = y->data};
    pvx_parallel_for(pvx_tensor_numel(x), ELEMENT_GRAIN, relu_range, &j);
    return y;
}

static void relu_backward_range(int64_t i0, int64_t i1, void *data)
{
    const MapJob *j = data;
    for (int64_t i = i0; i < i1; i++)
        j->out[i] = j->a[i] > 0.0f ? j->b[i] : 0.0f;
}

gboolean pvx_relu_backward(const PvxTensor *y, const PvxTensor *dy, PvxTensor **dx, GError **error)
{
    g_return_val_if_fail(y != NULL && dy != NULL && dx != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!check_any(y, "relu output", error) ||
        !pvx_ops_check_shape(dy, y->ndim, y->shape, "relu output gradient", error) ||
        !pvx_ops_prepare_grad(dx, y->ndim, y->shape, "relu input gradient", error))
        return FALSE;
    MapJob j = {.a = y->data, .b = dy->data, .out = (*dx)->data};
    pvx_parallel_for(pvx_tensor_numel(y), ELEMENT_GRAIN, relu_backward_range, &j);
    return TRUE;
}

void pvx_ops_relu_gate(float *y, const float *gate, int64_t n)
{
    MapJob j = {.a = gate, .b = y, .out = y}; /* pvx_relu_backward in place */
    pvx_parallel_for(n, ELEMENT_GRAIN, relu_backward_range, &j);
}

/* Counter-based draws (pvx_mix64): element i's draw depends only on (seed, i), not on how the
 * range is split between threads. */
static void dropout_range(int64_t i0, int64_t i1, void *data)
{
    const MapJob *j = data;
    guint64 base = pvx_mix64(j->seed);
    for (int64_t i = i0; i < i1; i++) {
        guint64 draw =
            pvx_mix64(base + G_GUINT64_CONSTANT(0x9e3779b97f4a7c15) * (guint64)(i + 1)) >> 40;
        float m = draw >= j->threshold ? j->scale : 0.0f;
        if (j->mask != NULL)
            j->mask[i] = m;
        j->out[i] = j->a[i] * m;
    }
}

PvxTensor *pvx_dropout_forward(const PvxTensor *x, double p, gboolean training, guint64 seed,
                               PvxTensor *out, PvxTensor **mask, GError **error)
{
    g_return_val_if_fail(x != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!(p >= 0.0 && p < 1.0)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "dropout: probability %g is outside [0, 1)", p);
        return NULL;
    }
    if (!check_any(x, "dropout input", error))
        return NULL;
    if (mask != NULL && *mask != NULL &&
        !pvx_ops_check_shape(*mask, x->ndim, x->shape, "dropout mask", error))
        return NULL;
    PvxTensor *y = pvx_ops_prepare_out(out, x->ndim, x->shape, "dropout output", error);
    if (y == NULL)
        return NULL;
    if (mask != NULL && *mask == NULL)
        *mask = pvx_tensor_new(x->ndim, x->shape);
    int64_t n = pvx_tensor_numel(x);
    if (!training || p == 0.0) {
        if (y->data != x->data)
            memcpy(y->data, x->data, (size_t)n * sizeof(float));
        if (mask != NULL)
            pvx_tensor_fill(*mask, 1.0f);
        return y;
    }
    /* p quantised to 2^-24, far below any dropout rate anyone sets. */
    guint64 threshold = (guint64)llround(p * (double)(1 << 24));
    MapJob j = {.a = x->data,
                .threshold = threshold,
                .out = y->data,
                .scale = (float)(1.0 / (1.0 - p)),
                .seed = seed,
                .mask = mask != NULL ? (*mask)->data : NULL};
    pvx_parallel_for(n, ELEMENT_GRAIN, dropout_range, &j);
    return y;
}

static void mul_range(int64_t i0, int64_t i1, void *data)
{
    const MapJob *j = data;
    for (int64_t i = i0; i < i1; i++)
        j->out[i] = j->a[i] * j->b[i];
}

gboolean pvx_dropout_backward(const PvxTensor *mask, const PvxTensor *dy, PvxTensor **dx,
                              GError **error)
{
    g_return_val_if_fail(mask != NULL && dy != NULL && dx != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!check_any(mask, "dropout mask", error) ||
        !pvx_ops_check_shape(dy, mask->ndim, mask->shape, "dropout output gradient", error) ||
        !pvx_ops_prepare_grad(dx, mask->ndim, mask->shape, "dropout input gradient", error))
        return FALSE;
    MapJob j = {.a = dy->data, .b = mask->data, .out = (*dx)->data};
    pvx_parallel_for(pvx_tensor_numel(mask), ELEMENT_GRAIN, mul_range, &j);
    return TRUE;
}

PvxTensor *pvx_flatten(PvxTensor *x, GError **error)
{
    g_return_val_if_fail(x != NULL, NULL);
    if (x->ndim < 1) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "flatten needs a batch dimension, got a "
                    "scalar");
        return NULL;
    }
    if (!check_any(x, "flatten input", error))
        return NULL;
    int64_t shape[2] = {x->shape[0], 1};
    for (int d = 1; d < x->ndim; d++)
        shape[1] *= x->shape[d];
    return pvx_tensor_reshape(x, 2, shape, error);
}

PvxTensor *pvx_flatten_backward(const PvxTensor *x, PvxTensor *dy, GError **error)
{
    g_return_val_if_fail(x != NULL && dy != NULL, NULL);
    if (!check_any(dy, "flatten output gradient", error))
        return NULL;
    return pvx_tensor_reshape(dy, x->ndim, x->shape, error);
}

/* ---- softmax / log-softmax over dimension 1 of [N, C] -------------------------------------- */

static gboolean check_rows(const PvxTensor *x, const char *what, GError **error)
{
    return pvx_ops_check_tensor(x, 2, what, error);
}

/* One row: y = softmax(x) or log_softmax(x), max-shifted, sums in double. */
static void softmax_row(const float *x, float *y, int64_t c, gboolean log_space)
{
    float mx = -INFINITY;
    for (int64_t k = 0; k < c; k++)
        mx = fmaxf(mx, x[k]);
    double sum = 0.0;
    for (int64_t k = 0; k < c; k++)
        sum += exp((double)x[k] - mx);
    if (log_space) {
        double lse = mx + log(sum);
        for (int64_t k = 0; k < c; k++)
            y[k] = (float)((double)x[k] - lse);
    } else {
        for (int64_t k = 0; k < c; k++)
            y[k] = (float)(exp((double)x[k] - mx) / sum);
    }
}

static PvxTensor *softmax_any(const PvxTensor *x, PvxTensor *out, gboolean log_space,
                              GError **error)
{
    g_return_val_if_fail(x != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!check_rows(x, log_space ? "log_softmax input" : "softmax input", error))
        return NULL;
    PvxTensor *y = pvx_ops_prepare_out(out, 2, x->shape, "softmax output", error);
    if (y == NULL)
        return NULL;
    int64_t c = x->shape[1];
    for (int64_t i = 0; i < x->shape[0]; i++)
        softmax_row(x->data + i * c, y->data + i * c, c, log_space);
    return y;
}

PvxTensor *pvx_softmax_forward(const PvxTensor *x, PvxTensor *out, GError **error)
{
    return softmax_any(x, out, FALSE, error);
}

PvxTensor *pvx_log_softmax_forward(const PvxTensor *x, PvxTensor *out, GError **error)
{
    return softmax_any(x, out, TRUE, error);
}

static gboolean softmax_backward_any(const PvxTensor *y, const PvxTensor *dy, PvxTensor **dx,
                                     gboolean log_space, GError **error)
{
    g_return_val_if_fail(y != NULL && dy != NULL && dx != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!check_rows(y, "softmax output", error) ||
        !pvx_ops_check_shape(dy, 2, y->shape, "softmax output gradient", error) ||
        !pvx_ops_prepare_grad(dx, 2, y->shape, "softmax input gradient", error))
        return FALSE;
    int64_t c = y->shape[1];
    for (int64_t i = 0; i < y->shape[0]; i++) {
        const float *yr = y->data + i * c, *g = dy->data + i * c;
        float *d = (*dx)->data + i * c;
        double s = 0.0;
        if (log_space) {
            for (int64_t k = 0; k < c; k++)
                s += g[k];
            for (int64_t k = 0; k < c; k++)
                d[k] = (float)(g[k] - exp((double)yr[k]) * s);
        } else {
            for (int64_t k = 0; k < c; k++)
                s += (double)g[k] * yr[k];
            for (int64_t k = 0; k < c; k++)
                d[k] = (float)(yr[k] * (g[k] - s));
        }
    }
    return TRUE;
}

gboolean pvx_softmax_backward(const PvxTensor *y, const PvxTensor *dy, PvxTensor **dx,
                              GError **error)
{
    return softmax_backward_any(y, dy, dx, FALSE, error);
}

gboolean pvx_log_softmax_backward(const PvxTensor *y, const PvxTensor *dy, PvxTensor **dx,
                                  GError **error)
{
    return softmax_backward_any(y, dy, dx, TRUE, error);
}
