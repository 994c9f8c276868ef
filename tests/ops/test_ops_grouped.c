/* The mobile networks' ops: grouped and depthwise conv2d, the activations (relu6, sigmoid, silu,
 * hardsigmoid, hardswish) and squeeze-and-excitation's channel mul. Gradients against finite
 * differences; depthwise and grouped results against the dense conv2d run one group at a time;
 * in-place forms bit for bit against out-of-place; the API's contracts (shape errors naming both
 * shapes, accumulation, overwriting). */
#include <math.h>
#include <string.h>

#include "ops_test_util.h"

typedef struct {
    PvxTensor *x, *w, *b;
    PvxConv2dParams p;
    int groups;
} GroupedCtx;

static PvxTensor *grouped_fwd(void *c)
{
    GroupedCtx *k = c;
    return pvx_conv2d_grouped_forward(k->x, k->w, k->b, &k->p, k->groups, NULL, NULL);
}

static void gradcheck_grouped(const int64_t xs[4], const int64_t ws[4], int groups,
                              PvxConv2dParams p)
{
    rng_state = 0x9e37 + (guint64)(xs[1] * 131 + ws[0] * 17 + ws[2] * 7 + p.stride_h + groups);
    GroupedCtx k = {rand_tensor(4, xs, -1, 1), rand_tensor(4, ws, -1, 1), rand_tensor(1, ws, -1, 1),
                    p, groups};
    g_autoptr(PvxTensor) y = grouped_fwd(&k);
    g_assert_nonnull(y);
    g_autoptr(PvxTensor) dy = rand_tensor(4, y->shape, -1, 1);
    g_autoptr(PvxTensor) dx = NULL;
    g_autoptr(PvxTensor) dw = pvx_tensor_new_like(k.w);
    g_autoptr(PvxTensor) db = pvx_tensor_new_like(k.b);
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_conv2d_grouped_backward(k.x, k.w, dy, &p, groups, &dx, dw, db, &error));
    g_assert_no_error(error);
    check_grad("grouped conv2d dx", grouped_fwd, &k, k.x, dx, dy);
    check_grad("grouped conv2d dw", grouped_fwd, &k, k.w, dw, dy);
    check_grad("grouped conv2d db", grouped_fwd, &k, k.b, db, dy);
    pvx_tensor_unref(k.x);
    pvx_tensor_unref(k.w);
    pvx_tensor_unref(k.b);
}

static void grouped_conv2d_gradients_match_finite_differences(void)
{
    const int64_t x4[4] = {2, 4, 7, 6}, x3[4] = {2, 3, 8, 7};
    const int64_t dw3[4] = {4, 1, 3, 3}, dw5[4] = {3, 1, 5, 5}, dwm[4] = {6, 1, 3, 3};
    const int64_t dw17[4] = {4, 1, 1, 7}, g2[4] = {6, 2, 3, 3}, g2k1[4] = {4, 2, 1, 1};
    /* depthwise: 3×3 and 5×5 at stride 1 and 2, a channel multiplier, dilation, generic rows */
    gradcheck_grouped(x4, dw3, 4, (PvxConv2dParams){.pad_h = 1, .pad_w = 1});
    gradcheck_grouped(x4, dw3, 4,
                      (PvxConv2dParams){.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1});
    gradcheck_grouped(x3, dw5, 3, (PvxConv2dParams){.pad_h = 2, .pad_w = 2});
    gradcheck_grouped(x3, dw5, 3,
                      (PvxConv2dParams){.stride_h = 2, .stride_w = 2, .pad_h = 2, .pad_w = 2});
    gradcheck_grouped(x3, dwm, 3, (PvxConv2dParams){.stride_w = 2, .pad_h = 1});
    gradcheck_grouped(x4, dw3, 4,
                      (PvxConv2dParams){.pad_h = 2, .pad_w = 2, .dilation_h = 2, .dilation_w = 2});
    gradcheck_grouped(x4, dw17, 4, (PvxConv2dParams){.stride_w = 3, .pad_w = 3});
    /* other groups */
    gradcheck_grouped(x4, g2, 2, (PvxConv2dParams){.pad_h = 1, .pad_w = 1});
    gradcheck_grouped(x4, g2k1, 2, (PvxConv2dParams){.stride_h = 2, .stride_w = 2});
}

/* Grouped conv2d computed the slow way: each group's slice through pvx_conv2d_forward. */
static PvxTensor *grouped_by_slices(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                                    const PvxConv2dParams *p, int groups)
{
    int64_t cin_g = x->shape[1] / groups, cout_g = w->shape[0] / groups;
    int64_t plane = x->shape[2] * x->shape[3];
    g_autoptr(PvxTensor) y = NULL;
    for (int k = 0; k < groups; k++) {
        int64_t xs[4] = {x->shape[0], cin_g, x->shape[2], x->shape[3]};
        g_autoptr(PvxTensor) xg = pvx_tensor_new(4, xs);
        for (int64_t n = 0; n < x->shape[0]; n++)
            memcpy(xg->data + n * cin_g * plane, x->data + (n * x->shape[1] + k * cin_g) * plane,
                   (size_t)(cin_g * plane) * sizeof(float));
        int64_t ws[4] = {cout_g, cin_g, w->shape[2], w->shape[3]};
        int64_t wn = cout_g * cin_g * w->shape[2] * w->shape[3];
        g_autoptr(PvxTensor) wg = pvx_tensor_new_from_data(4, ws, w->data + k * wn);
        g_autoptr(PvxTensor) bg =
            b != NULL ? pvx_tensor_new_from_data(1, &cout_g, b->data + k * cout_g) : NULL;
        g_autoptr(PvxTensor) yg = pvx_conv2d_forward(xg, wg, bg, p, NULL, NULL);
        g_assert_nonnull(yg);
        if (y == NULL) {
            int64_t ys[4] = {x->shape[0], w->shape[0], yg->shape[2], yg->shape[3]};
            y = pvx_tensor_new(4, ys);
        }
        int64_t oplane = yg->shape[2] * yg->shape[3];
        for (int64_t n = 0; n < x->shape[0]; n++)
            memcpy(y->data + (n * w->shape[0] + k * cout_g) * oplane,
                   yg->data + n * cout_g * oplane, (size_t)(cout_g * oplane) * sizeof(float));
    }
    return g_steal_pointer(&y);
}

/* The depthwise kernels at MobileNet's and EfficientNet's shapes (3×3 and 5×5, stride 1 and 2,
 * batch 1 and 3, planes from 56×56 down to 7×7) against the dense kernel group by group. */
static void depthwise_forward_matches_dense_per_group(void)
{
    const struct {
        int64_t n, c, h, k, s, mult;
    } cases[] = {{1, 32, 56, 3, 1, 1}, {3, 24, 28, 3, 2, 1}, {1, 40, 14, 5, 1, 1},
                 {3, 16, 15, 5, 2, 1}, {2, 8, 7, 3, 1, 2},   {1, 8, 9, 5, 2, 3}};
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        rng_state = 4242 + i;
        int64_t xs[4] = {cases[i].n, cases[i].c, cases[i].h, cases[i].h};
        int64_t ws[4] = {cases[i].c * cases[i].mult, 1, cases[i].k, cases[i].k};
        g_autoptr(PvxTensor) x = rand_tensor(4, xs, -1, 1);
        g_autoptr(PvxTensor) w = rand_tensor(4, ws, -1, 1);
        g_autoptr(PvxTensor) b = rand_tensor(1, ws, -1, 1);
        PvxConv2dParams p = {.stride_h = (int)cases[i].s,
                             .stride_w = (int)cases[i].s,
                             .pad_h = (int)cases[i].k / 2,
                             .pad_w = (int)cases[i].k / 2};
        g_autoptr(GError) error = NULL;
        g_autoptr(PvxTensor) y =
            pvx_conv2d_grouped_forward(x, w, b, &p, (int)cases[i].c, NULL, &error);
        g_assert_no_error(error);
        g_autoptr(PvxTensor) ref = grouped_by_slices(x, w, b, &p, (int)cases[i].c);
        g_assert_true(pvx_tensor_same_shape(y, ref));
        /* floor 0.1: the two sum orders differ by ~1e-6 absolute (25 terms of size 1) */
        g_assert_cmpfloat(pvx_tensor_max_rel_diff(y, ref, 0.1), <, 2e-5);
    }
}

static void grouped_conv2d_with_one_group_is_conv2d(void)
{
    rng_state = 99;
    const int64_t xs[4] = {2, 16, 10, 10}, ws[4] = {16, 16, 3, 3};
    g_autoptr(PvxTensor) x = rand_tensor(4, xs, -1, 1);
    g_autoptr(PvxTensor) w = rand_tensor(4, ws, -1, 1);
    PvxConv2dParams p = {.pad_h = 1, .pad_w = 1};
    g_autoptr(PvxTensor) a = pvx_conv2d_forward(x, w, NULL, &p, NULL, NULL);
    g_autoptr(PvxTensor) b = pvx_conv2d_grouped_forward(x, w, NULL, &p, 1, NULL, NULL);
    expect_identical("groups=1 forward", b, a);
    g_autoptr(PvxTensor) dxa = NULL;
    g_autoptr(PvxTensor) dxb = NULL;
    g_autoptr(PvxTensor) dwa = pvx_tensor_new_like(w);
    g_autoptr(PvxTensor) dwb = pvx_tensor_new_like(w);
    g_assert_true(pvx_conv2d_backward(x, w, a, &p, &dxa, dwa, NULL, NULL));
    g_assert_true(pvx_conv2d_grouped_backward(x, w, a, &p, 1, &dxb, dwb, NULL, NULL));
    expect_identical("groups=1 dx", dxb, dxa);
    expect_identical("groups=1 dw", dwb, dwa);
}

static void grouped_shape_errors_name_both_shapes(void)
{
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)2, (int64_t)6, (int64_t)8, (int64_t)8);
    g_autoptr(PvxTensor) w =
        pvx_tensor_new_shape(4, (int64_t)6, (int64_t)2, (int64_t)3, (int64_t)3);
    g_autoptr(GError) error = NULL;
    /* 6 / 2 = 3 input channels per group, not 2 */
    g_assert_null(pvx_conv2d_grouped_forward(x, w, NULL, NULL, 2, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_assert_nonnull(strstr(error->message, "[2, 6, 8, 8]"));
    g_assert_nonnull(strstr(error->message, "[6, 2, 3, 3]"));
    g_clear_error(&error);
    /* 4 groups do not divide 6 channels */
    g_assert_null(pvx_conv2d_grouped_forward(x, w, NULL, NULL, 4, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_clear_error(&error);
    g_assert_null(pvx_conv2d_grouped_forward(x, w, NULL, NULL, 0, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    /* a wrong dy for the depthwise backward, before anything is written */
    g_autoptr(PvxTensor) wd =
        pvx_tensor_new_shape(4, (int64_t)6, (int64_t)1, (int64_t)3, (int64_t)3);
    g_autoptr(PvxTensor) dy =
        pvx_tensor_new_shape(4, (int64_t)2, (int64_t)6, (int64_t)8, (int64_t)8);
    g_autoptr(PvxTensor) dw = pvx_tensor_new_like(wd);
    pvx_tensor_fill(dw, 5.0f);
    g_assert_false(pvx_conv2d_grouped_backward(x, wd, dy, NULL, 6, NULL, dw, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_assert_nonnull(strstr(error->message, "[2, 6, 8, 8]"));
    g_assert_nonnull(strstr(error->message, "[2, 6, 6, 6]"));
    g_assert_cmpfloat(dw->data[0], ==, 5.0f);
}

/* dw and db accumulate, dx is overwritten, on both the depthwise and the per-group path; each
 * gradient alone equals it taken with the others; a preallocated output is returned. */
static void grouped_gradients_accumulate_and_input_gradient_overwrites(void)
{
    const int64_t xs[4] = {2, 6, 9, 9};
    const int64_t wdw[4] = {12, 1, 3, 3}, wg[4] = {4, 3, 3, 3};
    const int64_t *wss[2] = {wdw, wg};
    const int groups[2] = {6, 2};
    for (int c = 0; c < 2; c++) {
        rng_state = 7 + (guint64)c;
        g_autoptr(PvxTensor) x = rand_tensor(4, xs, -1, 1);
        g_autoptr(PvxTensor) w = rand_tensor(4, wss[c], -1, 1);
        PvxConv2dParams p = {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1};
        g_autoptr(PvxTensor) y = pvx_conv2d_grouped_forward(x, w, NULL, &p, groups[c], NULL, NULL);
        g_assert_nonnull(y);
        g_autoptr(PvxTensor) y2 = pvx_conv2d_grouped_forward(x, w, NULL, &p, groups[c], y, NULL);
        g_assert_true(y2 == y);
        g_autoptr(PvxTensor) dy = rand_tensor(4, y->shape, -1, 1);
        g_autoptr(PvxTensor) dw1 = pvx_tensor_new_like(w);
        g_autoptr(PvxTensor) dw2 = pvx_tensor_new_like(w);
        g_autoptr(PvxTensor) db1 = pvx_tensor_new_shape(1, wss[c][0]);
        g_autoptr(PvxTensor) db2 = pvx_tensor_new_shape(1, wss[c][0]);
        g_autoptr(PvxTensor) dx = pvx_tensor_new_like(x);
        pvx_tensor_fill(dx, 123.0f);
        PvxTensor *dx_before = dx;
        g_assert_true(pvx_conv2d_grouped_backward(x, w, dy, &p, groups[c], NULL, dw1, db1, NULL));
        g_assert_true(pvx_conv2d_grouped_backward(x, w, dy, &p, groups[c], &dx, dw2, db2, NULL));
        g_assert_true(dx == dx_before);
        expect_identical("dw alone", dw2, dw1);
        expect_identical("db alone", db2, db1);
        g_assert_true(pvx_conv2d_grouped_backward(x, w, dy, &p, groups[c], NULL, dw2, db2, NULL));
        for (int64_t i = 0; i < pvx_tensor_numel(w); i++)
            g_assert_cmpfloat(dw2->data[i], ==, 2.0f * dw1->data[i]);
        for (int64_t i = 0; i < wss[c][0]; i++)
            g_assert_cmpfloat(db2->data[i], ==, 2.0f * db1->data[i]);
        g_autoptr(PvxTensor) dx_fresh = NULL;
        g_assert_true(
            pvx_conv2d_grouped_backward(x, w, dy, &p, groups[c], &dx_fresh, NULL, NULL, NULL));
        expect_identical("dx overwritten", dx, dx_fresh);
    }
}

/* ---- activations ---------------------------------------------------------------------------- */

typedef struct {
    PvxActivation act;
    PvxTensor *x;
} ActCtx;

static PvxTensor *act_fwd(void *c)
{
    ActCtx *k = c;
    return pvx_activation_forward(k->act, k->x, NULL, NULL);
}

static void activation_gradients_match_finite_differences(void)
{
    const PvxActivation acts[] = {PVX_ACT_RELU6, PVX_ACT_SIGMOID, PVX_ACT_SILU, PVX_ACT_HARDSIGMOID,
                                  PVX_ACT_HARDSWISH};
    const char *names[] = {"relu6", "sigmoid", "silu", "hardsigmoid", "hardswish"};
    const int64_t shape[3] = {3, 4, 5};
    for (guint a = 0; a < G_N_ELEMENTS(acts); a++) {
        rng_state = 31 + a;
        /* no value within 4h of a kink (0, ±3; 6 is out of range) */
        ActCtx k = {acts[a], ladder_tensor(3, shape, 0.1)};
        for (int64_t i = 0; i < pvx_tensor_numel(k.x); i++)
            k.x->data[i] *= 1.2f; /* -3.54 .. 3.54, 0.12 apart: 0.06 from 0 and ±3 */
        g_autoptr(PvxTensor) dy = rand_tensor(3, shape, -1, 1);
        g_autoptr(PvxTensor) dx = NULL;
        g_assert_true(pvx_activation_backward(acts[a], k.x, dy, &dx, NULL));
        g_autofree char *what = g_strdup_printf("%s dx", names[a]);
        check_grad(what, act_fwd, &k, k.x, dx, dy);
        pvx_tensor_unref(k.x);
    }
}

/* In place (out = x, dx = dy) gives the same bits as out of place, on 1 and many elements (the
 * pool's ranges), and the values at the kinks are PyTorch's. */
static void activation_in_place_is_identical_and_kinks_follow_torch(void)
{
    const PvxActivation acts[] = {PVX_ACT_RELU6, PVX_ACT_SIGMOID, PVX_ACT_SILU, PVX_ACT_HARDSIGMOID,
                                  PVX_ACT_HARDSWISH};
    const int64_t big[1] = {200003};
    for (guint a = 0; a < G_N_ELEMENTS(acts); a++) {
        rng_state = 77 + a;
        g_autoptr(PvxTensor) x = rand_tensor(1, big, -9, 9);
        g_autoptr(PvxTensor) dy = rand_tensor(1, big, -1, 1);
        g_autoptr(PvxTensor) y = pvx_activation_forward(acts[a], x, NULL, NULL);
        g_autoptr(PvxTensor) dx = NULL;
        g_assert_true(pvx_activation_backward(acts[a], x, dy, &dx, NULL));
        g_autoptr(PvxTensor) xi = pvx_tensor_copy(x);
        g_autoptr(PvxTensor) yi = pvx_activation_forward(acts[a], xi, xi, NULL);
        g_assert_true(yi == xi);
        expect_identical("activation in place", yi, y);
        g_autoptr(PvxTensor) g = pvx_tensor_copy(dy);
        PvxTensor *gp = g;
        g_assert_true(pvx_activation_backward(acts[a], x, g, &gp, NULL));
        g_assert_true(gp == g);
        expect_identical("activation backward in place", g, dx);
    }
    /* PyTorch 1.13 at the kinks, dy = 1 (hardswish at 3: its vectorised loop's 1) */
    const float xs[] = {-3.0f, 0.0f, 3.0f, 6.0f};
    const float want[][4] = {{0, 0, 1, 0},
                             {0, 0, 0, 0}, /* unused (smooth) */
                             {0, 0, 0, 0},
                             {0, 1.0f / 6.0f, 0, 0},
                             {-0.5f, 0.5f, 1, 1}};
    g_autoptr(PvxTensor) x = pvx_tensor_new_from_data(1, (int64_t[]){4}, xs);
    g_autoptr(PvxTensor) ones = pvx_tensor_new_like(x);
    pvx_tensor_fill(ones, 1.0f);
    for (guint a = 0; a < G_N_ELEMENTS(acts); a++) {
        if (acts[a] == PVX_ACT_SIGMOID || acts[a] == PVX_ACT_SILU)
            continue;
        g_autoptr(PvxTensor) dx = NULL;
        g_assert_true(pvx_activation_backward(acts[a], x, ones, &dx, NULL));
        for (int i = 0; i < 4; i++)
            g_assert_cmpfloat(dx->data[i], ==, want[a][i]);
    }
    g_autoptr(GError) error = NULL;
    g_assert_null(pvx_activation_forward((PvxActivation)99, x, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
}

/* ---- channel mul ---------------------------------------------------------------------------- */

typedef struct {
    PvxTensor *x, *s;
} MulCtx;

static PvxTensor *mul_fwd(void *c)
{
    MulCtx *k = c;
    return pvx_channel_mul_forward(k->x, k->s, NULL, NULL);
}

static void channel_mul_gradients_match_finite_differences(void)
{
    rng_state = 5150;
    const int64_t xs[4] = {2, 5, 4, 3}, ss[4] = {2, 5, 1, 1};
    MulCtx k = {rand_tensor(4, xs, -1, 1), rand_tensor(4, ss, -1, 1)};
    g_autoptr(PvxTensor) dy = rand_tensor(4, xs, -1, 1);
    g_autoptr(PvxTensor) dx = NULL;
    g_autoptr(PvxTensor) ds = NULL;
    g_assert_true(pvx_channel_mul_backward(k.x, k.s, dy, &dx, &ds, NULL));
    check_grad("channel_mul dx", mul_fwd, &k, k.x, dx, dy);
    check_grad("channel_mul ds", mul_fwd, &k, k.s, ds, dy);
    /* in place: y into x, dx into dy (ds taken first) */
    g_autoptr(PvxTensor) y = mul_fwd(&k);
    g_autoptr(PvxTensor) xi = pvx_tensor_copy(k.x);
    g_autoptr(PvxTensor) yi = pvx_channel_mul_forward(xi, k.s, xi, NULL);
    expect_identical("channel_mul in place", yi, y);
    g_autoptr(PvxTensor) g = pvx_tensor_copy(dy);
    PvxTensor *gp = g;
    g_autoptr(PvxTensor) ds2 = pvx_tensor_new_like(k.s);
    pvx_tensor_fill(ds2, 9.0f); /* overwritten, not added to */
    PvxTensor *ds2p = ds2;
    g_assert_true(pvx_channel_mul_backward(k.x, k.s, g, &gp, &ds2p, NULL));
    expect_identical("channel_mul dx in place", g, dx);
    expect_identical("channel_mul ds overwritten", ds2, ds);
    /* shape errors name both shapes */
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) bad =
        pvx_tensor_new_shape(4, (int64_t)2, (int64_t)4, (int64_t)1, (int64_t)1);
    g_assert_null(pvx_channel_mul_forward(k.x, bad, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_assert_nonnull(strstr(error->message, "[2, 5, 4, 3]"));
    g_assert_nonnull(strstr(error->message, "[2, 4, 1, 1]"));
    pvx_tensor_unref(k.x);
    pvx_tensor_unref(k.s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ops/grouped/gradients_match_finite_differences",
                    grouped_conv2d_gradients_match_finite_differences);
    g_test_add_func("/ops/grouped/depthwise_forward_matches_dense_per_group",
                    depthwise_forward_matches_dense_per_group);
    g_test_add_func("/ops/grouped/one_group_is_conv2d", grouped_conv2d_with_one_group_is_conv2d);
    g_test_add_func("/ops/grouped/shape_errors_name_both_shapes",
                    grouped_shape_errors_name_both_shapes);
    g_test_add_func("/ops/grouped/gradients_accumulate_and_input_gradient_overwrites",
                    grouped_gradients_accumulate_and_input_gradient_overwrites);
    g_test_add_func("/ops/activation/gradients_match_finite_differences",
                    activation_gradients_match_finite_differences);
    g_test_add_func("/ops/activation/in_place_is_identical_and_kinks_follow_torch",
                    activation_in_place_is_identical_and_kinks_follow_torch);
    g_test_add_func("/ops/channel_mul/gradients_match_finite_differences",
                    channel_mul_gradients_match_finite_differences);
    return g_test_run();
}
