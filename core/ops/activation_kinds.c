/* pvx — the activations of the mobile networks (relu6, sigmoid, SiLU, hard sigmoid, hard swish),
 * forward and backward, element-wise on the pool.
 *
 * The backward takes the forward's input, as PyTorch 1.13's kernels do, with their values at the
 * kinks (checked against them in tests/ops/ops_reference.py):
 *   relu6        y = min(max(x, 0), 6)         dy on 0 < x < 6, else 0 (hardtanh_backward)
 *   sigmoid      y = 1 / (1 + e^-x)            dy · y (1 - y)
 *   silu         y = x · sigmoid(x)            dy · s (1 + x (1 - s)), s = sigmoid(x)
 *   hardsigmoid  y = min(max(x + 3, 0), 6) / 6 dy / 6 on -3 < x < 3, else 0
 *   hardswish    y = x · min(max(x + 3, 0), 6) / 6
 *                                              0 for x < -3, dy (x / 3 + 1/2) for -3 ≤ x < 3,
 *                                              dy for x ≥ 3
 * (PyTorch 1.13 itself is not consistent at x = 3: its vectorised loop, which takes all but the
 * last few elements of a tensor, gives dy, its scalar tail loop 1.5 dy; pvx gives dy everywhere.)
 * e^x is a polynomial (below) rather than libm's expf, so that the loops vectorise: SiLU runs on
 * every activation of EfficientNet, a few million values per image. This file builds with
 * -fno-trapping-math (core/ops/meson.build): without it GCC does not turn the selects into vector
 * blends (the arms hold arithmetic it may not run speculatively); results are the same bits.
 */
#include <math.h>
#include <string.h>

#include "ops_private.h"

/* As activation.c: below this many elements per thread a wake-up of the pool costs more than
 * the loop. */
#define ELEMENT_GRAIN 32768

/* e^x within 2 ulp over the float range, vectorisable by GCC without -ffast-math: x = n ln 2 + r,
 * |r| ≤ ln2 / 2 (n rounded to nearest by adding and subtracting 1.5·2^23), e^r by a degree-6
 * Taylor polynomial (truncation below 2^-26 on that interval), 2^n from its exponent bits.
 * Arguments are clamped to [-87, 88]: e^-87 is the smallest normal float's neighbourhood, so
 * sigmoid(x) for x < -87 comes out as about 1.6e-38 instead of a denormal or zero. */
static inline float exp_poly(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    const float round = 12582912.0f; /* 1.5 · 2^23 */
    float n = (x * 1.44269504088896341f + round) - round;
    /* ln 2 in two parts, so that n · ln2_hi is exact (Cody–Waite). */
    float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float sigmoid(float x)
{
    return 1.0f / (1.0f + exp_poly(-x));
}

static inline float clamp06(float v)
{
    v = v > 0.0f ? v : 0.0f;
    return v < 6.0f ? v : 6.0f;
}

typedef struct {
    PvxActivation act;
    const float *x, *dy;
    float *out;
} ActJob;

PVX_KERNEL_CLONES static void forward_range(int64_t i0, int64_t i1, void *data)
{
    const ActJob *j = data;
    const float *x = j->x; /* @out may be @x: no restrict (GCC's alias check passes it) */
    float *y = j->out;
    switch (j->act) {
    case PVX_ACT_RELU6:
        for (int64_t i = i0; i < i1; i++)
            y[i] = x[i] != x[i] ? x[i] : clamp06(x[i]);
        break;
    case PVX_ACT_SIGMOID:
        for (int64_t i = i0; i < i1; i++)
            y[i] = sigmoid(x[i]);
        break;
    case PVX_ACT_SILU:
        for (int64_t i = i0; i < i1; i++)
            y[i] = x[i] * sigmoid(x[i]);
        break;
    case PVX_ACT_HARDSIGMOID:
        for (int64_t i = i0; i < i1; i++)
            y[i] = clamp06(x[i] + 3.0f) / 6.0f;
        break;
    case PVX_ACT_HARDSWISH:
        for (int64_t i = i0; i < i1; i++)
            y[i] = x[i] * clamp06(x[i] + 3.0f) / 6.0f;
        break;
    }
}

PVX_KERNEL_CLONES static void backward_range(int64_t i0, int64_t i1, void *data)
{
    const ActJob *j = data;
    const float *x = j->x, *dy = j->dy;
    float *dx = j->out; /* may be @dy */
    switch (j->act) {
    case PVX_ACT_RELU6:
        for (int64_t i = i0; i < i1; i++)
            dx[i] = x[i] > 0.0f && x[i] < 6.0f ? dy[i] : 0.0f;
        break;
    /* 1 - s as e^-x · s: no cancellation where s is near 1. */
    case PVX_ACT_SIGMOID:
        for (int64_t i = i0; i < i1; i++) {
            float e = exp_poly(-x[i]);
            float s = 1.0f / (1.0f + e);
            dx[i] = dy[i] * (s * (e * s));
        }
        break;
    case PVX_ACT_SILU:
        for (int64_t i = i0; i < i1; i++) {
            float e = exp_poly(-x[i]);
            float s = 1.0f / (1.0f + e);
            dx[i] = dy[i] * s * (1.0f + x[i] * (e * s));
        }
        break;
    case PVX_ACT_HARDSIGMOID:
        for (int64_t i = i0; i < i1; i++)
            dx[i] = x[i] > -3.0f && x[i] < 3.0f ? dy[i] * (1.0f / 6.0f) : 0.0f;
        break;
    case PVX_ACT_HARDSWISH:
        for (int64_t i = i0; i < i1; i++) {
            float v = x[i];
            float mid = dy[i] * (v / 3.0f + 0.5f);
            dx[i] = v < -3.0f ? 0.0f : (v < 3.0f ? mid : dy[i]);
        }
        break;
    }
}

static gboolean check_act(PvxActivation act, const char *what, GError **error)
{
    if (act < PVX_ACT_RELU6 || act > PVX_ACT_HARDSWISH) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "%s: unknown activation %d", what,
                    (int)act);
        return FALSE;
    }
    return TRUE;
}

static gboolean check_contiguous(const PvxTensor *t, const char *what, GError **error)
{
    if (!pvx_tensor_is_contiguous(t)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "%s must be contiguous", what);
        return FALSE;
    }
    return TRUE;
}

PvxTensor *pvx_activation_forward(PvxActivation act, const PvxTensor *x, PvxTensor *out,
                                  GError **error)
{
    g_return_val_if_fail(x != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!check_act(act, "activation", error) || !check_contiguous(x, "activation input", error))
        return NULL;
    PvxTensor *y = pvx_ops_prepare_out(out, x->ndim, x->shape, "activation output", error);
    if (y == NULL)
        return NULL;
    ActJob j = {.act = act, .x = x->data, .out = y->data};
    pvx_parallel_for(pvx_tensor_numel(x), ELEMENT_GRAIN, forward_range, &j);
    return y;
}

gboolean pvx_activation_backward(PvxActivation act, const PvxTensor *x, const PvxTensor *dy,
                                 PvxTensor **dx, GError **error)
{
    g_return_val_if_fail(x != NULL && dy != NULL && dx != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!check_act(act, "activation", error) || !check_contiguous(x, "activation input", error) ||
        !pvx_ops_check_shape(dy, x->ndim, x->shape, "activation output gradient", error) ||
        !pvx_ops_prepare_grad(dx, x->ndim, x->shape, "activation input gradient", error))
        return FALSE;
    ActJob j = {.act = act, .x = x->data, .dy = dy->data, .out = (*dx)->data};
    pvx_parallel_for(pvx_tensor_numel(x), ELEMENT_GRAIN, backward_range, &j);
    return TRUE;
}
