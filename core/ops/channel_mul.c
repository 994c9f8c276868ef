/* pvx — squeeze-and-excitation's scale: every channel plane of x times its own factor,
 * y[n, c, h, w] = x[n, c, h, w] · s[n, c, 0, 0], forward and backward, on the pool over the N·C
 * planes. The factor gradient sums each plane in 16 float lanes. */
#include <string.h>

#include "ops_private.h"

/* Planes per thread below which a wake-up of the pool costs more than the work (planes of
 * EfficientNet's last stages are 7×7 = 49 floats). */
#define PLANE_GRAIN_FLOATS 16384

typedef struct {
    const float *x, *s, *dy;
    float *out, *ds;
    int64_t plane;
} MulJob;

static int64_t plane_grain(int64_t plane)
{
    return MAX(PLANE_GRAIN_FLOATS / MAX(plane, 1), 1);
}

static void scale_planes(int64_t i0, int64_t i1, void *data)
{
    const MulJob *j = data;
    for (int64_t i = i0; i < i1; i++) {
        const float *x = j->x + i * j->plane; /* may be out: no restrict */
        float *y = j->out + i * j->plane;
        float v = j->s[i];
        for (int64_t k = 0; k < j->plane; k++)
            y[k] = x[k] * v;
    }
}

/* Σ a·b over @n floats in 16 running sums, then their sum. */
static float dot(const float *restrict a, const float *restrict b, int64_t n)
{
    float acc[16] = {0};
    int64_t t = 0;
    for (; t + 16 <= n; t += 16)
        for (int l = 0; l < 16; l++)
            acc[l] += a[t + l] * b[t + l];
    for (int l = 0; t < n; t++, l++)
        acc[l] += a[t] * b[t];
    float s = 0.0f;
    for (int l = 0; l < 16; l++)
        s += acc[l];
    return s;
}

static void factor_grad_planes(int64_t i0, int64_t i1, void *data)
{
    const MulJob *j = data;
    for (int64_t i = i0; i < i1; i++)
        j->ds[i] = dot(j->dy + i * j->plane, j->x + i * j->plane, j->plane);
}

static gboolean check_pair(const PvxTensor *x, const PvxTensor *s, GError **error)
{
    if (!pvx_ops_check_tensor(x, 4, "channel_mul input", error) ||
        !pvx_ops_check_tensor(s, 4, "channel_mul factor", error))
        return FALSE;
    if (s->shape[0] != x->shape[0] || s->shape[1] != x->shape[1] || s->shape[2] != 1 ||
        s->shape[3] != 1) {
        g_autofree char *xs = pvx_tensor_shape_string(x);
        g_autofree char *ss = pvx_tensor_shape_string(s);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "channel_mul: factor %s does not fit input %s (expected [N, C, 1, 1])", ss, xs);
        return FALSE;
    }
    return TRUE;
}

PvxTensor *pvx_channel_mul_forward(const PvxTensor *x, const PvxTensor *s, PvxTensor *out,
                                   GError **error)
{
    g_return_val_if_fail(x != NULL && s != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!check_pair(x, s, error))
        return NULL;
    PvxTensor *y = pvx_ops_prepare_out(out, 4, x->shape, "channel_mul output", error);
    if (y == NULL)
        return NULL;
    MulJob j = {.x = x->data, .s = s->data, .out = y->data, .plane = x->shape[2] * x->shape[3]};
    pvx_parallel_for(x->shape[0] * x->shape[1], plane_grain(j.plane), scale_planes, &j);
    return y;
}

gboolean pvx_channel_mul_backward(const PvxTensor *x, const PvxTensor *s, const PvxTensor *dy,
                                  PvxTensor **dx, PvxTensor **ds, GError **error)
{
    g_return_val_if_fail(x != NULL && s != NULL && dy != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!check_pair(x, s, error) ||
        !pvx_ops_check_shape(dy, 4, x->shape, "channel_mul output gradient", error))
        return FALSE;
    if (ds != NULL && *ds != NULL &&
        !pvx_ops_check_shape(*ds, 4, s->shape, "channel_mul factor gradient", error))
        return FALSE;
    if (dx != NULL && !pvx_ops_prepare_grad(dx, 4, x->shape, "channel_mul input gradient", error))
        return FALSE;
    if (ds != NULL && *ds == NULL)
        *ds = pvx_tensor_new(4, s->shape);
    MulJob j = {.x = x->data, .s = s->data, .dy = dy->data, .plane = x->shape[2] * x->shape[3]};
    int64_t planes = x->shape[0] * x->shape[1];
    /* The factor gradient first: *dx may be dy's tensor, which the input gradient overwrites. */
    if (ds != NULL) {
        j.ds = (*ds)->data;
        pvx_parallel_for(planes, plane_grain(j.plane), factor_grad_planes, &j);
    }
    if (dx != NULL) {
        j.x = dy->data;
        j.out = (*dx)->data;
        pvx_parallel_for(planes, plane_grain(j.plane), scale_planes, &j);
    }
    return TRUE;
}
