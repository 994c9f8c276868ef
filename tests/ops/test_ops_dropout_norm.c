/* Dropout and batch norm: their gradients against finite differences, and dropout's seeding,
 * scaling and evaluation identity. */
#include <math.h>

#include "ops_test_util.h"

typedef struct {
    PvxTensor *x;
} DropCtx;

static PvxTensor *dropout_fwd(void *c)
{
    DropCtx *k = c;
    return pvx_dropout_forward(k->x, 0.3, TRUE, 42, NULL, NULL, NULL);
}

static void dropout_gradient_matches_finite_differences(void)
{
    rng_state = 11;
    const int64_t s[2] = {6, 50};
    DropCtx k = {rand_tensor(2, s, -1, 1)};
    g_autoptr(PvxTensor) mask = NULL;
    g_autoptr(PvxTensor) y = pvx_dropout_forward(k.x, 0.3, TRUE, 42, NULL, &mask, NULL);
    g_autoptr(PvxTensor) dy = rand_tensor(2, s, -1, 1);
    g_autoptr(PvxTensor) dx = NULL;
    g_assert_true(pvx_dropout_backward(mask, dy, &dx, NULL));
    check_grad("dropout", dropout_fwd, &k, k.x, dx, dy);
    pvx_tensor_unref(k.x);
}

typedef struct {
    PvxTensor *x, *g, *b, *rm, *rv;
    PvxBatchNorm2dParams p;
} BnCtx;

static PvxTensor *bn_fwd(void *c)
{
    BnCtx *k = c;
    return pvx_batchnorm2d_forward(k->x, k->g, k->b, k->rm, k->rv, &k->p, NULL, NULL, NULL, NULL);
}

static void gradcheck_bn(gboolean training)
{
    rng_state = training ? 5 : 6;
    const int64_t s[4] = {3, 4, 3, 5}, c[1] = {4};
    BnCtx k = {rand_tensor(4, s, -2, 2),  rand_tensor(1, c, 0.5, 1.5),
               rand_tensor(1, c, -1, 1),  rand_tensor(1, c, -0.5, 0.5),
               rand_tensor(1, c, 0.5, 2), {.eps = 1e-5, .momentum = 0.1, .training = training}};
    g_autoptr(PvxTensor) sm = pvx_tensor_new(1, c);
    g_autoptr(PvxTensor) si = pvx_tensor_new(1, c);
    g_autoptr(PvxTensor) y =
        pvx_batchnorm2d_forward(k.x, k.g, k.b, k.rm, k.rv, &k.p, sm, si, NULL, NULL);
    g_autoptr(PvxTensor) dy = rand_tensor(4, s, -1, 1);
    g_autoptr(PvxTensor) dx = NULL;
    g_autoptr(PvxTensor) dg = pvx_tensor_new(1, c);
    g_autoptr(PvxTensor) db = pvx_tensor_new(1, c);
    g_autoptr(GError) error = NULL;
    g_assert_true(
        pvx_batchnorm2d_backward(k.x, k.g, k.rm, k.rv, sm, si, &k.p, dy, &dx, dg, db, &error));
    g_assert_no_error(error);
    check_grad(training ? "batchnorm train dx" : "batchnorm eval dx", bn_fwd, &k, k.x, dx, dy);
    check_grad("batchnorm dweight", bn_fwd, &k, k.g, dg, dy);
    check_grad("batchnorm dbias", bn_fwd, &k, k.b, db, dy);
    pvx_tensor_unref(k.x);
    pvx_tensor_unref(k.g);
    pvx_tensor_unref(k.b);
    pvx_tensor_unref(k.rm);
    pvx_tensor_unref(k.rv);
}

static void batchnorm_gradients_match_finite_differences(void)
{
    gradcheck_bn(TRUE);
    gradcheck_bn(FALSE);
}

static void dropout_is_seeded_scaled_and_identity_in_eval(void)
{
    const int64_t s[1] = {100000};
    g_autoptr(PvxTensor) x = pvx_tensor_new(1, s);
    pvx_tensor_fill(x, 1.0f);
    g_autoptr(PvxTensor) a = pvx_dropout_forward(x, 0.25, TRUE, 7, NULL, NULL, NULL);
    g_autoptr(PvxTensor) b = pvx_dropout_forward(x, 0.25, TRUE, 7, NULL, NULL, NULL);
    g_autoptr(PvxTensor) c = pvx_dropout_forward(x, 0.25, TRUE, 8, NULL, NULL, NULL);
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(a, b, 1.0), ==, 0.0);
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(a, c, 1.0), >, 0.0);
    int64_t kept = 0;
    for (int64_t i = 0; i < s[0]; i++) {
        g_assert_true(a->data[i] == 0.0f || fabsf(a->data[i] - 1.0f / 0.75f) < 1e-6f);
        kept += a->data[i] != 0.0f;
    }
    /* Binomial(1e5, 0.75): sd = 137, so ±1000 is > 7 sd. */
    g_assert_cmpint(kept, >, 74000);
    g_assert_cmpint(kept, <, 76000);
    g_autoptr(PvxTensor) e = pvx_dropout_forward(x, 0.25, FALSE, 7, NULL, NULL, NULL);
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(e, x, 1.0), ==, 0.0);
    g_autoptr(GError) error = NULL;
    g_assert_null(pvx_dropout_forward(x, 1.0, TRUE, 7, NULL, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ops/gradcheck/dropout", dropout_gradient_matches_finite_differences);
    g_test_add_func("/ops/gradcheck/batchnorm", batchnorm_gradients_match_finite_differences);
    g_test_add_func("/ops/api/dropout-seeded-scaled-eval-identity",
                    dropout_is_seeded_scaled_and_identity_in_eval);
    return g_test_run();
}
