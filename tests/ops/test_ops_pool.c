/* Pooling and the single-input maps: the gradients of max-pool, adaptive average pool, ReLU,
 * softmax and log-softmax against finite differences; the max-pool's folded ReLU backward against
 * two passes, its 2×2 kernels bit for bit across kernel sets, and its tie rule. */
#include <math.h>
#include <string.h>

#include "ops_test_util.h"

typedef struct {
    PvxTensor *x;
    int kind;
    PvxMaxPool2dParams mp;
    int oh, ow;
} UnaryCtx;

enum { U_RELU, U_MAXPOOL, U_AVGPOOL, U_SOFTMAX, U_LOGSOFTMAX };

static PvxTensor *unary_fwd(void *c)
{
    UnaryCtx *k = c;
    switch (k->kind) {
    case U_RELU:
        return pvx_relu_forward(k->x, NULL, NULL);
    case U_MAXPOOL:
        return pvx_maxpool2d_forward(k->x, &k->mp, NULL, NULL, NULL);
    case U_AVGPOOL:
        return pvx_adaptive_avgpool2d_forward(k->x, k->oh, k->ow, NULL, NULL);
    case U_SOFTMAX:
        return pvx_softmax_forward(k->x, NULL, NULL);
    default:
        return pvx_log_softmax_forward(k->x, NULL, NULL);
    }
}

static void gradcheck_unary(const char *what, UnaryCtx *k)
{
    g_autoptr(PvxTensor) y = NULL;
    g_autoptr(PvxIndices) ind = NULL;
    if (k->kind == U_MAXPOOL)
        y = pvx_maxpool2d_forward(k->x, &k->mp, NULL, &ind, NULL);
    else
        y = unary_fwd(k);
    g_assert_nonnull(y);
    g_autoptr(PvxTensor) dy = rand_tensor(y->ndim, y->shape, -1, 1);
    g_autoptr(PvxTensor) dx = NULL;
    gboolean ok = FALSE;
    switch (k->kind) {
    case U_RELU:
        ok = pvx_relu_backward(y, dy, &dx, NULL);
        break;
    case U_MAXPOOL:
        ok = pvx_maxpool2d_backward(k->x, ind, dy, &dx, NULL);
        break;
    case U_AVGPOOL:
        ok = pvx_adaptive_avgpool2d_backward(k->x, dy, &dx, NULL);
        break;
    case U_SOFTMAX:
        ok = pvx_softmax_backward(y, dy, &dx, NULL);
        break;
    default:
        ok = pvx_log_softmax_backward(y, dy, &dx, NULL);
    }
    g_assert_true(ok);
    check_grad(what, unary_fwd, k, k->x, dx, dy);
}

static void activation_and_pool_gradients_match_finite_differences(void)
{
    rng_state = 7;
    const int64_t s4[4] = {2, 3, 6, 7}, s2[2] = {4, 9}, s13[4] = {1, 2, 13, 11};
    g_autoptr(PvxTensor) lad = ladder_tensor(4, s4, 0.05); /* spacing 0.05 = 5 h */
    UnaryCtx relu = {lad, U_RELU, {0}, 0, 0};
    gradcheck_unary("relu", &relu);
    UnaryCtx mp = {lad, U_MAXPOOL, {.kernel_h = 2, .kernel_w = 2}, 0, 0};
    gradcheck_unary("maxpool k2 s2", &mp);
    UnaryCtx mp3 = {
        lad,
        U_MAXPOOL,
        {.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 1, .pad_h = 1, .pad_w = 1},
        0,
        0};
    gradcheck_unary("maxpool k3 s2,1 p1 (overlapping)", &mp3);
    g_autoptr(PvxTensor) x13 = rand_tensor(4, s13, -1, 1);
    UnaryCtx ap = {x13, U_AVGPOOL, {0}, 7, 7};
    gradcheck_unary("adaptive avgpool 13x11 -> 7x7 (overlapping bins)", &ap);
    UnaryCtx ap2 = {x13, U_AVGPOOL, {0}, 3, 2};
    gradcheck_unary("adaptive avgpool 13x11 -> 3x2", &ap2);
    g_autoptr(PvxTensor) x2 = rand_tensor(2, s2, -2, 2);
    UnaryCtx sm = {x2, U_SOFTMAX, {0}, 0, 0};
    gradcheck_unary("softmax", &sm);
    UnaryCtx lsm = {x2, U_LOGSOFTMAX, {0}, 0, 0};
    gradcheck_unary("log_softmax", &lsm);
}

static void maxpool_relu_backward_equals_two_passes(void)
{
    const PvxMaxPool2dParams pools[] = {
        {.kernel_h = 2, .kernel_w = 2},
        {.kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 2, .pad_h = 1, .pad_w = 1},
    };
    for (guint c = 0; c < G_N_ELEMENTS(pools); c++) {
        rng_state = 3 + c;
        const int64_t xs[4] = {2, 3, 9, 8};
        g_autoptr(PvxTensor) x = relu_output(4, xs);
        for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
            if (i % (9 * 8) < 3 * 8)
                x->data[i] = 0.0f; /* each plane's top rows: windows whose maximum is a zero */
        g_autoptr(PvxIndices) ind = NULL;
        g_autoptr(PvxTensor) y = pvx_maxpool2d_forward(x, &pools[c], NULL, &ind, NULL);
        g_assert_nonnull(y);
        g_autoptr(PvxTensor) dy = rand_tensor(4, y->shape, -1, 1);
        g_autoptr(PvxTensor) dx1 = NULL;
        g_autoptr(PvxTensor) dx2 = NULL;
        g_assert_true(pvx_maxpool2d_backward(x, ind, dy, &dx1, NULL));
        g_assert_true(pvx_relu_backward(x, dx1, &dx1, NULL));
        g_assert_true(pvx_maxpool2d_relu_backward(x, ind, dy, &dx2, NULL));
        expect_identical(c == 0 ? "2x2 pool dx" : "3x3 pool dx", dx2, dx1);
        /* the gate read from the pool's output instead, with each kernel set; and an output of
         * the wrong shape is refused, naming both shapes */
        for (int k = 0; k < 2; k++) {
            if (k == 1)
                g_setenv("PVX_KERNEL_ISA", "generic", TRUE);
            g_autoptr(PvxTensor) dx3 = NULL;
            g_assert_true(pvx_maxpool2d_relu_backward_out(x, y, ind, dy, &dx3, NULL));
            g_unsetenv("PVX_KERNEL_ISA");
            expect_identical(c == 0 ? "2x2 pool dx, gate from y" : "3x3 pool dx, gate from y", dx3,
                             dx1);
        }
        g_autoptr(GError) error = NULL;
        g_autoptr(PvxTensor) dx4 = NULL;
        g_assert_false(pvx_maxpool2d_relu_backward_out(x, x, ind, dy, &dx4, &error));
        g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
        g_assert_nonnull(strstr(error->message, "max-pool output"));
        int64_t gated = 0;
        for (int64_t i = 0; i < pvx_tensor_numel(y); i++)
            gated += y->data[i] == 0.0f;
        g_assert_cmpint(gated, >, 0);
    }
}

/* The 2×2 max-pool gives the same bits with the AVX-512 row kernels and the generic ones: the
 * forward's maxima and indices (with NaNs and ties) and the backward with and without the ReLU
 * gate, on rows of one, two and three 16-output steps and odd sizes. */
static void maxpool_2x2_kernels_agree(void)
{
    const int64_t shapes[][4] = {{2, 3, 9, 8}, {1, 2, 40, 70}, {2, 2, 7, 37}};
    const PvxMaxPool2dParams pool = {.kernel_h = 2, .kernel_w = 2};
    for (guint c = 0; c < G_N_ELEMENTS(shapes); c++) {
        rng_state = 71 + c;
        g_autoptr(PvxTensor) x = relu_output(4, shapes[c]);
        g_autoptr(PvxIndices) ind = NULL;
        g_autoptr(PvxTensor) y = pvx_maxpool2d_forward(x, &pool, NULL, &ind, NULL);
        g_assert_nonnull(y);
        g_autoptr(PvxTensor) dy = rand_tensor(4, y->shape, -1, 1);
        /* the forward, on x with NaNs added (a NaN wins its window) and its zeros (ties) */
        g_autoptr(PvxTensor) xn = pvx_tensor_copy(x);
        for (int64_t i = 0; i < pvx_tensor_numel(xn); i += 29)
            xn->data[i] = NAN;
        PvxTensor *yk[2];
        PvxIndices *ik[2] = {NULL, NULL};
        for (int k = 0; k < 2; k++) {
            if (k == 1)
                g_setenv("PVX_KERNEL_ISA", "generic", TRUE);
            yk[k] = pvx_maxpool2d_forward(xn, &pool, NULL, &ik[k], NULL);
            g_assert_nonnull(yk[k]);
        }
        g_unsetenv("PVX_KERNEL_ISA");
        expect_identical("2x2 pool y", yk[0], yk[1]);
        g_assert_cmpint(ik[0]->numel, ==, ik[1]->numel);
        for (int64_t i = 0; i < ik[0]->numel; i++)
            g_assert_cmpint(ik[0]->data[i], ==, ik[1]->data[i]);
        for (int k = 0; k < 2; k++) {
            pvx_tensor_unref(yk[k]);
            pvx_indices_free(ik[k]);
        }
        for (int relu = 0; relu < 2; relu++) {
            PvxTensor *dx[2] = {NULL, NULL};
            for (int k = 0; k < 2; k++) {
                if (k == 1)
                    g_setenv("PVX_KERNEL_ISA", "generic", TRUE);
                g_assert_true(relu ? pvx_maxpool2d_relu_backward(x, ind, dy, &dx[k], NULL)
                                   : pvx_maxpool2d_backward(x, ind, dy, &dx[k], NULL));
            }
            g_unsetenv("PVX_KERNEL_ISA");
            expect_identical(relu ? "2x2 pool relu dx" : "2x2 pool dx", dx[0], dx[1]);
            pvx_tensor_unref(dx[0]);
            pvx_tensor_unref(dx[1]);
        }
    }
}

static void maxpool_ties_pick_first_in_scan_order(void)
{
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)1, (int64_t)1, (int64_t)2, (int64_t)4);
    /* window 0: all equal -> index 0; window 1: max 5 at (0,3) and (1,2) -> (0,3) = 3 */
    const float v[8] = {1, 1, 2, 5, 1, 1, 5, 4};
    memcpy(x->data, v, sizeof v);
    PvxMaxPool2dParams p = {.kernel_h = 2, .kernel_w = 2};
    g_autoptr(PvxIndices) ind = NULL;
    g_autoptr(PvxTensor) y = pvx_maxpool2d_forward(x, &p, NULL, &ind, NULL);
    g_assert_cmpint(ind->data[0], ==, 0);
    g_assert_cmpint(ind->data[1], ==, 3);
    g_assert_cmpfloat(y->data[1], ==, 5.0f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ops/gradcheck/activation-pool-softmax",
                    activation_and_pool_gradients_match_finite_differences);
    g_test_add_func("/ops/api/maxpool-2x2-kernels-agree", maxpool_2x2_kernels_agree);
    g_test_add_func("/ops/api/maxpool-relu-backward-equals-two-passes",
                    maxpool_relu_backward_equals_two_passes);
    g_test_add_func("/ops/api/maxpool-ties-first-in-scan-order",
                    maxpool_ties_pick_first_in_scan_order);
    return g_test_run();
}
