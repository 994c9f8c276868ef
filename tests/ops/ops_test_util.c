/* Helpers shared by the op tests (test_ops_conv.c, test_ops_pool.c, test_ops_dropout_norm.c,
 * test_ops_linear_loss.c): random tensors, the finite-difference gradient check, bit-for-bit
 * comparison.
 *
 * Method: for an op y = f(x) and a fixed random upstream gradient dy, the scalar
 * L(x) = Σ dy ⊙ f(x) (summed in double) has dL/dx = the op's backward applied to dy. For every
 * element of every input we compare the analytic value with the central difference
 * (L(x + h) - L(x - h)) / 2h, h = 1e-2, perturbing the float32 input in place.
 *
 * Tolerance, and why: the forward runs in float32, so L carries a rounding error of about
 * 2^-24 · Σ|dy ⊙ y| ≈ 1e-6 for these shapes; divided by 2h that is ~1e-4 absolute noise in the
 * numeric gradient, and the smooth non-linear ops (softmax, batch-norm) add an O(h²) truncation
 * error of similar size (measured worst case: 3e-4). We require
 * |numeric - analytic| ≤ 2e-3 · max(|analytic|, 0.1 · max|analytic|): 0.2 % relative, with a
 * floor at a tenth of the tensor's largest gradient so that elements whose
 * true gradient is nearly zero are judged on the tensor's scale. A wrong index, a missing term or
 * a wrong factor gives errors of order 1, far above this.
 * ReLU and max-pool are not differentiable at ties and zero, so their inputs are chosen at least
 * 4h away from those points. */
#include <math.h>
#include <string.h>

#include "ops_test_util.h"

#define FD_H 1e-2
#define FD_TOL 2e-3

guint64 rng_state;

double rnd_uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

PvxTensor *rand_tensor(int ndim, const int64_t *shape, double lo, double hi)
{
    PvxTensor *t = pvx_tensor_new(ndim, shape);
    for (int64_t i = 0; i < pvx_tensor_numel(t); i++)
        t->data[i] = (float)(lo + (hi - lo) * rnd_uniform());
    return t;
}

/* Random values at least `gap` apart and away from zero by gap/2: a shuffled ladder. */
PvxTensor *ladder_tensor(int ndim, const int64_t *shape, double gap)
{
    PvxTensor *t = pvx_tensor_new(ndim, shape);
    int64_t n = pvx_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        t->data[i] = (float)((i - n / 2) * gap + gap / 2);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t k = (int64_t)(rnd_uniform() * (double)(i + 1));
        float tmp = t->data[i];
        t->data[i] = t->data[k];
        t->data[k] = tmp;
    }
    return t;
}

static double loss_of(ForwardFn f, void *ctx, const PvxTensor *dy)
{
    g_autoptr(PvxTensor) y = f(ctx);
    g_assert_nonnull(y);
    g_assert_cmpint(pvx_tensor_numel(y), ==, pvx_tensor_numel(dy));
    double s = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(y); i++)
        s += (double)dy->data[i] * y->data[i];
    return s;
}

/* Compares @analytic with central differences of L over every element of @param. */
void check_grad(const char *what, ForwardFn f, void *ctx, PvxTensor *param,
                const PvxTensor *analytic, const PvxTensor *dy)
{
    g_assert_true(pvx_tensor_same_shape(param, analytic));
    double gmax = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(analytic); i++)
        gmax = fmax(gmax, fabs(analytic->data[i]));
    g_assert_cmpfloat(gmax, >, 0.0); /* a zero gradient would make the test unable to fail */
    double worst = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(param); i++) {
        float keep = param->data[i];
        param->data[i] = (float)(keep + FD_H);
        double hi = (double)param->data[i] - keep;
        double lp = loss_of(f, ctx, dy);
        param->data[i] = (float)(keep - FD_H);
        double lo = keep - (double)param->data[i];
        double lm = loss_of(f, ctx, dy);
        param->data[i] = keep;
        double num = (lp - lm) / (hi + lo);
        double err = fabs(num - analytic->data[i]) / fmax(fabs(analytic->data[i]), 0.1 * gmax);
        worst = fmax(worst, err);
    }
    g_test_message("%s: max error %.2e", what, worst);
    if (worst > FD_TOL)
        g_error("%s: finite-difference error %.3e exceeds %.1e", what, worst, FD_TOL);
}

/* a == b element for element, bit for bit (NaN-free here). */
void expect_identical(const char *what, const PvxTensor *a, const PvxTensor *b)
{
    g_assert_true(pvx_tensor_same_shape(a, b));
    for (int64_t i = 0; i < pvx_tensor_numel(a); i++)
        if (memcmp(&a->data[i], &b->data[i], sizeof(float)) != 0)
            g_error("%s: element %" G_GINT64_FORMAT " is %.9g, expected %.9g", what, (gint64)i,
                    a->data[i], b->data[i]);
}

/* A ReLU's output: random values with about a third exactly zero. */
PvxTensor *relu_output(int ndim, const int64_t *shape)
{
    PvxTensor *t = rand_tensor(ndim, shape, -0.5, 1.0);
    for (int64_t i = 0; i < pvx_tensor_numel(t); i++)
        t->data[i] = MAX(t->data[i], 0.0f);
    return t;
}
