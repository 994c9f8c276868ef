/* Linear and cross-entropy: their gradients against finite differences, and the loss's refusal of
 * an out-of-range target. */
#include <string.h>

#include "ops_test_util.h"

typedef struct {
    PvxTensor *x, *w, *b;
} LinCtx;

static PvxTensor *linear_fwd(void *c)
{
    LinCtx *k = c;
    return pvx_linear_forward(k->x, k->w, k->b, NULL, NULL);
}

static void linear_gradients_match_finite_differences(void)
{
    rng_state = 99;
    const int64_t xs[2] = {3, 7}, ws[2] = {5, 7};
    LinCtx k = {rand_tensor(2, xs, -1, 1), rand_tensor(2, ws, -1, 1), rand_tensor(1, ws, -1, 1)};
    g_autoptr(PvxTensor) y = linear_fwd(&k);
    g_autoptr(PvxTensor) dy = rand_tensor(2, y->shape, -1, 1);
    g_autoptr(PvxTensor) dx = NULL;
    g_autoptr(PvxTensor) dw = pvx_tensor_new_like(k.w);
    g_autoptr(PvxTensor) db = pvx_tensor_new_like(k.b);
    g_assert_true(pvx_linear_backward(k.x, k.w, dy, &dx, dw, db, NULL));
    check_grad("linear dx", linear_fwd, &k, k.x, dx, dy);
    check_grad("linear dw", linear_fwd, &k, k.w, dw, dy);
    check_grad("linear db", linear_fwd, &k, k.b, db, dy);
    pvx_tensor_unref(k.x);
    pvx_tensor_unref(k.w);
    pvx_tensor_unref(k.b);
}

typedef struct {
    PvxTensor *logits;
    int64_t targets[4];
} CeCtx;

static PvxTensor *ce_fwd(void *c)
{
    CeCtx *k = c;
    double loss = 0;
    g_assert_true(pvx_cross_entropy_forward(k->logits, k->targets, &loss, NULL));
    PvxTensor *t = pvx_tensor_new_shape(1, (int64_t)1);
    t->data[0] = (float)loss;
    return t;
}

static void cross_entropy_gradient_matches_finite_differences(void)
{
    rng_state = 3;
    const int64_t s[2] = {4, 6};
    CeCtx k = {rand_tensor(2, s, -3, 3), {0, 5, 2, 2}};
    g_autoptr(PvxTensor) dy = pvx_tensor_new_shape(1, (int64_t)1);
    dy->data[0] = 1.0f;
    g_autoptr(PvxTensor) dl = NULL;
    g_assert_true(pvx_cross_entropy_backward(k.logits, k.targets, 1.0, &dl, NULL));
    /* The loss is a mean of O(1) values, so its float32 rounding (1e-7) is far below h² terms. */
    check_grad("cross-entropy", ce_fwd, &k, k.logits, dl, dy);
    pvx_tensor_unref(k.logits);
}

static void cross_entropy_rejects_out_of_range_target(void)
{
    g_autoptr(PvxTensor) l = pvx_tensor_new_shape(2, (int64_t)2, (int64_t)3);
    const int64_t t[2] = {0, 3};
    double loss = 0;
    g_autoptr(GError) error = NULL;
    g_assert_false(pvx_cross_entropy_forward(l, t, &loss, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "target 3"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ops/gradcheck/linear", linear_gradients_match_finite_differences);
    g_test_add_func("/ops/gradcheck/cross-entropy",
                    cross_entropy_gradient_matches_finite_differences);
    g_test_add_func("/ops/api/cross-entropy-rejects-bad-target",
                    cross_entropy_rejects_out_of_range_target);
    return g_test_run();
}
