/* conv2d: gradients against finite differences (im2col and Winograd), the API's contracts
 * (shape errors, accumulation), the algorithms against im2col, the folded ReLU against two
 * passes, the Winograd kernels bit for bit across kernel sets and thread counts, and the thread
 * pool and its knob. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "ops_test_util.h"

typedef struct {
    PvxTensor *x, *w, *b;
    PvxConv2dParams p;
} ConvCtx;

static PvxTensor *conv_fwd(void *c)
{
    ConvCtx *k = c;
    return pvx_conv2d_forward(k->x, k->w, k->b, &k->p, NULL, NULL);
}

static void gradcheck_conv(const int64_t xs[4], const int64_t ws[4], PvxConv2dParams p)
{
    rng_state = 0x1234567 + (guint64)(xs[2] * 131 + ws[2] * 7 + p.stride_h);
    ConvCtx k = {rand_tensor(4, xs, -1, 1), rand_tensor(4, ws, -1, 1), rand_tensor(1, ws, -1, 1),
                 p};
    g_autoptr(PvxTensor) y = conv_fwd(&k);
    g_assert_nonnull(y);
    g_autoptr(PvxTensor) dy = rand_tensor(4, y->shape, -1, 1);
    g_autoptr(PvxTensor) dx = NULL;
    g_autoptr(PvxTensor) dw = pvx_tensor_new_like(k.w);
    g_autoptr(PvxTensor) db = pvx_tensor_new_like(k.b);
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_conv2d_backward(k.x, k.w, dy, &p, &dx, dw, db, &error));
    g_assert_no_error(error);
    check_grad("conv2d dx", conv_fwd, &k, k.x, dx, dy);
    check_grad("conv2d dw", conv_fwd, &k, k.w, dw, dy);
    check_grad("conv2d db", conv_fwd, &k, k.b, db, dy);
    pvx_tensor_unref(k.x);
    pvx_tensor_unref(k.w);
    pvx_tensor_unref(k.b);
}

static void conv2d_gradients_match_finite_differences(void)
{
    const int64_t x1[4] = {2, 3, 7, 6}, w3[4] = {4, 3, 3, 3}, w1[4] = {5, 3, 1, 1};
    const int64_t w5[4] = {2, 3, 5, 5}, w23[4] = {3, 3, 2, 3};
    gradcheck_conv(x1, w3, (PvxConv2dParams){.pad_h = 1, .pad_w = 1});
    gradcheck_conv(x1, w3, (PvxConv2dParams){.stride_h = 2, .stride_w = 2});
    gradcheck_conv(x1, w3, (PvxConv2dParams){.stride_h = 2, .stride_w = 1, .pad_h = 1});
    gradcheck_conv(x1, w1, (PvxConv2dParams){0});
    gradcheck_conv(x1, w1, (PvxConv2dParams){.stride_h = 2, .stride_w = 2});
    gradcheck_conv(x1, w5, (PvxConv2dParams){.pad_h = 2, .pad_w = 2});
    gradcheck_conv(x1, w23, (PvxConv2dParams){.pad_h = 1, .dilation_w = 2});
}

/* The same checks with conv2d forced onto the Winograd kernels (3×3, stride 1): odd sizes, a 1×1
 * input, every padding from 0 to 3 (padding 3 makes the input gradient's convolution crop). */
static void conv2d_winograd_gradients_match_finite_differences(void)
{
    g_setenv("PVX_CONV_ALGO", "winograd", TRUE);
    const int64_t x1[4] = {3, 5, 7, 5}, w1[4] = {6, 5, 3, 3};
    const int64_t x2[4] = {2, 4, 1, 1}, w2[4] = {3, 4, 3, 3};
    gradcheck_conv(x1, w1, (PvxConv2dParams){.pad_h = 1, .pad_w = 1});
    gradcheck_conv(x1, w1, (PvxConv2dParams){0});
    gradcheck_conv(x1, w1, (PvxConv2dParams){.pad_h = 2, .pad_w = 0});
    gradcheck_conv(x1, w1, (PvxConv2dParams){.pad_h = 3, .pad_w = 1});
    gradcheck_conv(x2, w2, (PvxConv2dParams){.pad_h = 1, .pad_w = 1});
    g_unsetenv("PVX_CONV_ALGO");
}

static void conv2d_shape_mismatch_names_both_shapes(void)
{
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)2, (int64_t)3, (int64_t)8, (int64_t)8);
    g_autoptr(PvxTensor) w =
        pvx_tensor_new_shape(4, (int64_t)4, (int64_t)5, (int64_t)3, (int64_t)3);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) y = pvx_conv2d_forward(x, w, NULL, NULL, NULL, &error);
    g_assert_null(y);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_assert_nonnull(strstr(error->message, "[2, 3, 8, 8]"));
    g_assert_nonnull(strstr(error->message, "[4, 5, 3, 3]"));

    g_clear_error(&error);
    g_autoptr(PvxTensor) w2 =
        pvx_tensor_new_shape(4, (int64_t)4, (int64_t)3, (int64_t)3, (int64_t)3);
    g_autoptr(PvxTensor) wrong_out =
        pvx_tensor_new_shape(4, (int64_t)2, (int64_t)4, (int64_t)8, (int64_t)8);
    g_assert_null(pvx_conv2d_forward(x, w2, NULL, NULL, wrong_out, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_assert_nonnull(strstr(error->message, "[2, 4, 8, 8]"));
    g_assert_nonnull(strstr(error->message, "[2, 4, 6, 6]"));

    g_clear_error(&error);
    g_autoptr(PvxTensor) lx = pvx_tensor_new_shape(2, (int64_t)2, (int64_t)10);
    g_autoptr(PvxTensor) lw = pvx_tensor_new_shape(2, (int64_t)3, (int64_t)11);
    g_assert_null(pvx_linear_forward(lx, lw, NULL, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_assert_nonnull(strstr(error->message, "[2, 10]"));
    g_assert_nonnull(strstr(error->message, "[3, 11]"));
}

static void conv_accumulates_and_overwrites(void)
{
    rng_state = 17;
    const int64_t xs[4] = {2, 3, 5, 5}, ws[4] = {4, 3, 3, 3};
    g_autoptr(PvxTensor) x = rand_tensor(4, xs, -1, 1);
    g_autoptr(PvxTensor) w = rand_tensor(4, ws, -1, 1);
    PvxConv2dParams p = {.pad_h = 1, .pad_w = 1};
    g_autoptr(PvxTensor) y = pvx_conv2d_forward(x, w, NULL, &p, NULL, NULL);
    g_autoptr(PvxTensor) dy = rand_tensor(4, y->shape, -1, 1);
    g_autoptr(PvxTensor) dw1 = pvx_tensor_new_like(w);
    g_autoptr(PvxTensor) dw2 = pvx_tensor_new_like(w);
    g_autoptr(PvxTensor) db = pvx_tensor_new_shape(1, (int64_t)4);
    g_autoptr(PvxTensor) dx = pvx_tensor_new_like(x);
    pvx_tensor_fill(dx, 123.0f); /* must be overwritten, not added to */
    PvxTensor *dx_before = dx;
    g_assert_true(pvx_conv2d_backward(x, w, dy, &p, NULL, dw1, NULL, NULL));
    g_assert_true(pvx_conv2d_backward(x, w, dy, &p, &dx, dw2, db, NULL));
    g_assert_true(dx == dx_before);
    g_assert_true(pvx_conv2d_backward(x, w, dy, &p, NULL, dw2, NULL, NULL));
    for (int64_t i = 0; i < pvx_tensor_numel(w); i++)
        g_assert_cmpfloat_with_epsilon(dw2->data[i], 2.0f * dw1->data[i], 1e-4);
    g_autoptr(PvxTensor) dx_fresh = NULL;
    g_assert_true(pvx_conv2d_backward(x, w, dy, &p, &dx_fresh, NULL, NULL, NULL));
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(dx, dx_fresh, 1e-6), ==, 0.0);
    /* The preallocated output path returns the caller's tensor. */
    g_autoptr(PvxTensor) y2 = pvx_conv2d_forward(x, w, NULL, &p, y, NULL);
    g_assert_true(y2 == y);
}

static void weight_gradients_accumulate_and_input_gradient_overwrites(void)
{
    const char *algos[] = {"im2col", "winograd"};
    for (guint a = 0; a < G_N_ELEMENTS(algos); a++) {
        g_setenv("PVX_CONV_ALGO", algos[a], TRUE);
        conv_accumulates_and_overwrites();
    }
    g_unsetenv("PVX_CONV_ALGO");
}

/* Runs forward and backward (dw and db accumulated onto non-zero values) under @algo. */
static void conv_under(const char *algo, const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                       const PvxTensor *dy, const PvxConv2dParams *p, PvxTensor **y, PvxTensor **dx,
                       PvxTensor **dw, PvxTensor **db)
{
    g_setenv("PVX_CONV_ALGO", algo, TRUE);
    *y = pvx_conv2d_forward(x, w, b, p, NULL, NULL);
    g_assert_nonnull(*y);
    *dw = pvx_tensor_new_like(w);
    *db = pvx_tensor_new_shape(1, w->shape[0]);
    pvx_tensor_fill(*dw, 0.25f);
    pvx_tensor_fill(*db, -0.5f);
    g_assert_true(pvx_conv2d_backward(x, w, dy, p, dx, *dw, *db, NULL));
    g_unsetenv("PVX_CONV_ALGO");
}

static void expect_same(const char *what, const PvxTensor *got, const PvxTensor *ref)
{
    double mx = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(ref); i++)
        mx = fmax(mx, fabs(ref->data[i]));
    double err = pvx_tensor_max_rel_diff(got, ref, 1e-2 * mx);
    g_test_message("%s vs im2col: %.2e", what, err);
    if (!(err <= 1e-4)) /* the reference tests' criterion; both sides are float32 */
        g_error("%s differs from im2col by %.3e", what, err);
}

/* One convolution case for the algorithm comparisons below. */
typedef struct {
    int64_t n, cin, h, w, cout, k;
    int pad_h, pad_w;
    gboolean bias;
} ConvCase;

/* Forward and backward of @c under @algo agree with im2col within the reference tests'
 * criterion (weights drawn from ±@wrange). */
static void expect_matches_im2col(const char *algo, const ConvCase *c, double wrange)
{
    int64_t xs[4] = {c->n, c->cin, c->h, c->w};
    int64_t ws[4] = {c->cout, c->cin, c->k, c->k};
    g_autoptr(PvxTensor) x = rand_tensor(4, xs, -1, 1);
    g_autoptr(PvxTensor) w = rand_tensor(4, ws, -wrange, wrange);
    g_autoptr(PvxTensor) b = rand_tensor(1, ws, -1, 1);
    PvxConv2dParams p = {.pad_h = c->pad_h, .pad_w = c->pad_w};
    const PvxTensor *bias = c->bias ? b : NULL;
    int64_t ys[4];
    g_assert_true(pvx_conv2d_output_shape(x, w, bias, &p, ys, NULL));
    g_autoptr(PvxTensor) dy = rand_tensor(4, ys, -1, 1);
    g_autoptr(PvxTensor) y1 = NULL;
    g_autoptr(PvxTensor) dx1 = NULL;
    g_autoptr(PvxTensor) dw1 = NULL;
    g_autoptr(PvxTensor) db1 = NULL;
    g_autoptr(PvxTensor) y2 = NULL;
    g_autoptr(PvxTensor) dx2 = NULL;
    g_autoptr(PvxTensor) dw2 = NULL;
    g_autoptr(PvxTensor) db2 = NULL;
    conv_under("im2col", x, w, bias, dy, &p, &y1, &dx1, &dw1, &db1);
    conv_under(algo, x, w, bias, dy, &p, &y2, &dx2, &dw2, &db2);
    const PvxTensor *got[4] = {y2, dx2, dw2, db2}, *ref[4] = {y1, dx1, dw1, db1};
    const char *names[4] = {"y", "dx", "dw", "db"};
    for (int k = 0; k < 4; k++) {
        g_autofree char *what = g_strdup_printf("%s %s", algo, names[k]);
        expect_same(what, got[k], ref[k]);
    }
}

/* Winograd and im2col agree on shapes that need many tile blocks, odd sizes and odd channel
 * counts, with and without bias (the reference tests compare both with PyTorch on small ones). */
static void conv2d_winograd_matches_im2col(void)
{
    const ConvCase cases[] = {
        {3, 24, 45, 37, 20, 3, 1, 1, TRUE},
        {2, 17, 61, 59, 33, 3, 1, 1, FALSE},
        {5, 40, 13, 13, 40, 3, 1, 1, TRUE},
        {1, 70, 9, 130, 19, 3, 0, 2, TRUE},
        {4, 16, 1, 1, 16, 3, 1, 1, TRUE},
        /* wide padding: the input gradient runs with padding 2 - pad, negative here */
        {2, 3, 6, 7, 4, 3, 2, 5, TRUE},
        {1, 2, 5, 5, 3, 3, 0, 5, FALSE},
        {2, 3, 7, 9, 2, 3, 6, 3, TRUE},
        /* few tiles, many output channels: the forward by blocks of output channels (the last
         * one short), at batch 1 and 2 */
        {1, 40, 14, 14, 130, 3, 1, 1, TRUE},
        {2, 20, 9, 11, 128, 3, 1, 1, FALSE},
    };
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        rng_state = 99 + c;
        expect_matches_im2col("winograd", &cases[c], 0.2);
    }
}

/* The folded ReLU forward of conv2d (pvx_conv2d_relu_forward) is bit for bit the plain forward
 * followed by pvx_relu_forward in place, under each algorithm (Winograd, direct, im2col, 1×1)
 * and each kernel set, NaNs included (a NaN weight spreads NaNs, which the ReLU zeroes). */
static void conv2d_relu_forward_equals_two_passes(void)
{
    const struct {
        int64_t n, cin, h, w, cout, k;
        int pad;
        const char *algo;
    } cases[] = {
        {2, 16, 28, 28, 16, 3, 1, "winograd"}, {3, 5, 9, 37, 20, 3, 1, "winograd"},
        {2, 1, 28, 28, 8, 3, 1, "auto"},       {2, 4, 11, 8, 5, 3, 1, "im2col"},
        {2, 6, 5, 5, 3, 1, 0, "auto"},
    };
    const char *isas[] = {"generic", "best"};
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        for (guint k = 0; k < G_N_ELEMENTS(isas); k++) {
            rng_state = 17 + c;
            int64_t xs[4] = {cases[c].n, cases[c].cin, cases[c].h, cases[c].w};
            int64_t ws[4] = {cases[c].cout, cases[c].cin, cases[c].k, cases[c].k};
            int64_t bs[1] = {cases[c].cout};
            g_autoptr(PvxTensor) x = rand_tensor(4, xs, -1, 1);
            g_autoptr(PvxTensor) w = rand_tensor(4, ws, -0.5, 0.5);
            g_autoptr(PvxTensor) b = rand_tensor(1, bs, -0.5, 0.5);
            w->data[0] = NAN;
            PvxConv2dParams p = {.pad_h = cases[c].pad, .pad_w = cases[c].pad};
            g_setenv("PVX_CONV_ALGO", cases[c].algo, TRUE);
            if (g_str_equal(isas[k], "generic"))
                g_setenv("PVX_KERNEL_ISA", "generic", TRUE);
            g_autoptr(GError) error = NULL;
            g_autoptr(PvxTensor) y1 = pvx_conv2d_forward(x, w, b, &p, NULL, &error);
            g_assert_no_error(error);
            g_autoptr(PvxTensor) r = pvx_relu_forward(y1, y1, &error);
            g_assert_no_error(error);
            g_autoptr(PvxTensor) y2 = pvx_conv2d_relu_forward(x, w, b, &p, NULL, &error);
            g_assert_no_error(error);
            g_unsetenv("PVX_CONV_ALGO");
            g_unsetenv("PVX_KERNEL_ISA");
            g_autofree char *what =
                g_strdup_printf("case %u (%s, %s) y", c, cases[c].algo, isas[k]);
            expect_identical(what, y2, y1);
            int64_t zeros = 0, positive = 0;
            for (int64_t i = 0; i < pvx_tensor_numel(y2); i++) {
                zeros += y2->data[i] == 0.0f;
                positive += y2->data[i] > 0.0f;
            }
            g_assert_cmpint(zeros, >, 0);
            g_assert_cmpint(positive, >, 0);
        }
    }
}

/* The folded ReLU backward of conv2d (pvx_conv2d_relu_backward) is bit for bit the plain
 * backward followed by pvx_relu_backward, under each algorithm and with each Winograd row
 * transform, and leaves dw and db as the plain backward does. */
static void conv2d_relu_backward_equals_two_passes(void)
{
    const struct {
        int64_t n, cin, h, w, cout, k;
        int pad;
        const char *algo;
    } cases[] = {
        {2, 16, 28, 28, 16, 3, 1, "winograd"}, {3, 5, 9, 37, 4, 3, 1, "winograd"},
        {1, 3, 7, 9, 2, 3, 3, "winograd"},     {2, 4, 11, 8, 5, 3, 1, "im2col"},
        {2, 6, 5, 5, 3, 1, 0, "auto"},
    };
    const char *isas[] = {"generic", "best"};
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        for (guint k = 0; k < G_N_ELEMENTS(isas); k++) {
            rng_state = 7 + c;
            int64_t xs[4] = {cases[c].n, cases[c].cin, cases[c].h, cases[c].w};
            int64_t ws[4] = {cases[c].cout, cases[c].cin, cases[c].k, cases[c].k};
            g_autoptr(PvxTensor) x = relu_output(4, xs);
            g_autoptr(PvxTensor) w = rand_tensor(4, ws, -0.3, 0.3);
            PvxConv2dParams p = {.pad_h = cases[c].pad, .pad_w = cases[c].pad};
            int64_t ys[4];
            g_assert_true(pvx_conv2d_output_shape(x, w, NULL, &p, ys, NULL));
            g_autoptr(PvxTensor) dy = rand_tensor(4, ys, -1, 1);
            g_setenv("PVX_CONV_ALGO", cases[c].algo, TRUE);
            if (g_str_equal(isas[k], "generic"))
                g_setenv("PVX_KERNEL_ISA", "generic", TRUE);
            g_autoptr(PvxTensor) dx1 = NULL;
            g_autoptr(PvxTensor) dx2 = NULL;
            g_autoptr(PvxTensor) dw1 = pvx_tensor_new_like(w);
            g_autoptr(PvxTensor) dw2 = pvx_tensor_new_like(w);
            g_autoptr(PvxTensor) db1 = pvx_tensor_new_shape(1, ws[0]);
            g_autoptr(PvxTensor) db2 = pvx_tensor_new_shape(1, ws[0]);
            g_autoptr(GError) error = NULL;
            g_assert_true(pvx_conv2d_backward(x, w, dy, &p, &dx1, dw1, db1, &error));
            g_assert_true(pvx_relu_backward(x, dx1, &dx1, &error));
            g_assert_true(pvx_conv2d_relu_backward(x, w, dy, &p, &dx2, dw2, db2, &error));
            g_assert_no_error(error);
            g_unsetenv("PVX_CONV_ALGO");
            g_unsetenv("PVX_KERNEL_ISA");
            g_autofree char *what =
                g_strdup_printf("case %u (%s, %s) dx", c, cases[c].algo, isas[k]);
            expect_identical(what, dx2, dx1);
            expect_identical("dw", dw2, dw1);
            expect_identical("db", db2, db1);
            int64_t zeros = 0;
            for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
                zeros += x->data[i] == 0.0f && dx2->data[i] == 0.0f;
            g_assert_cmpint(zeros, >, 0);
        }
    }
}

/* The Winograd kernels give the same bits with the AVX-512 kernels and the generic ones: on
 * widths of one to five 16-float steps, paddings from -1 (the input gradient of padding 3) to 2,
 * channel counts below, at and past 16 (masked channel tails), with a bias and with a ReLU's
 * gate folded into the input gradient; 130 output channels on widths 5 and 28 take the forward
 * by blocks of output channels. */
static void winograd_kernels_agree(void)
{
    const int64_t widths[] = {5, 28, 33, 70};
    const int64_t channels[][2] = {{3, 4}, {17, 33}, {40, 16}, {8, 130}};
    for (guint c = 0; c < G_N_ELEMENTS(widths); c++) {
        for (guint ch = 0; ch < G_N_ELEMENTS(channels); ch++) {
            for (int pad = 0; pad <= 3; pad++) {
                rng_state = 31 + c + 7 * ch;
                int64_t cin = channels[ch][0], cout = channels[ch][1];
                int64_t xs[4] = {2, cin, 7, widths[c]}, ws[4] = {cout, cin, 3, 3};
                int64_t bs[1] = {cout};
                g_autoptr(PvxTensor) x = relu_output(4, xs);
                g_autoptr(PvxTensor) w = rand_tensor(4, ws, -1, 1);
                g_autoptr(PvxTensor) b = rand_tensor(1, bs, -1, 1);
                PvxConv2dParams p = {.pad_h = 1, .pad_w = pad};
                int64_t ys[4];
                g_assert_true(pvx_conv2d_output_shape(x, w, NULL, &p, ys, NULL));
                g_autoptr(PvxTensor) dy = rand_tensor(4, ys, -1, 1);
                PvxTensor *y[2], *dx[2] = {NULL, NULL}, *gx[2] = {NULL, NULL}, *dw[2];
                g_setenv("PVX_CONV_ALGO", "winograd", TRUE);
                for (int k = 0; k < 2; k++) {
                    if (k == 1)
                        g_setenv("PVX_KERNEL_ISA", "generic", TRUE);
                    y[k] = pvx_conv2d_forward(x, w, b, &p, NULL, NULL);
                    dw[k] = pvx_tensor_new_like(w);
                    g_assert_true(pvx_conv2d_backward(x, w, dy, &p, &dx[k], dw[k], NULL, NULL));
                    g_assert_true(pvx_conv2d_relu_backward(x, w, dy, &p, &gx[k], NULL, NULL, NULL));
                }
                g_unsetenv("PVX_KERNEL_ISA");
                g_unsetenv("PVX_CONV_ALGO");
                g_autofree char *what =
                    g_strdup_printf("width %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                                    " -> %" G_GINT64_FORMAT " channels, pad %d: y",
                                    widths[c], cin, cout, pad);
                expect_identical(what, y[1], y[0]);
                expect_identical("dx", dx[1], dx[0]);
                expect_identical("dx gated", gx[1], gx[0]);
                expect_identical("dw", dw[1], dw[0]);
                for (int k = 0; k < 2; k++) {
                    pvx_tensor_unref(y[k]);
                    pvx_tensor_unref(dx[k]);
                    pvx_tensor_unref(gx[k]);
                    pvx_tensor_unref(dw[k]);
                }
            }
        }
    }
}

/* The direct kernels (auto's choice for Cin·KH·KW ≤ 32 at stride 1) agree with im2col: first
 * layers on 1 and 3 channels, 3×3 and 5×5, paddings 0 to 2, odd sizes, with and without bias,
 * dw and db accumulated onto non-zero values, and the input gradient (im2col's) alongside. */
static void conv2d_direct_matches_im2col(void)
{
    const ConvCase cases[] = {
        {5, 1, 28, 28, 32, 3, 1, 1, TRUE}, {2, 3, 17, 23, 8, 3, 1, 1, FALSE},
        {3, 3, 9, 8, 4, 3, 0, 2, TRUE},    {2, 1, 12, 11, 6, 5, 2, 1, TRUE},
        {1, 2, 3, 4, 3, 3, 2, 2, TRUE},
    };
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        rng_state = 55 + c;
        expect_matches_im2col("auto", &cases[c], 0.5);
    }
}

static void count_range(int64_t b, int64_t e, void *data)
{
    gint *hits = data;
    for (int64_t i = b; i < e; i++)
        g_atomic_int_inc(&hits[i]);
}

static void parallel_for_covers_each_item_once_and_knob_is_checked(void)
{
    gint hits[1000] = {0};
    pvx_parallel_for(1000, 1, count_range, hits);
    for (int i = 0; i < 1000; i++)
        g_assert_cmpint(hits[i], ==, 1);
    g_assert_cmpint(pvx_num_threads(), >=, 1);
    g_setenv("PVX_NUM_THREADS", "two", TRUE);
    g_autoptr(GError) error = NULL;
    g_assert_false(pvx_threads_init(&error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "two"));
    g_unsetenv("PVX_NUM_THREADS");
    g_assert_true(pvx_threads_init(NULL));
}

/* The Winograd kernels' results do not depend on the thread count: the same convolutions run in
 * subprocesses with 1 and 3 threads (the pool's size is fixed when it starts) give the same bits
 * for y, the gated dx, dw and db — the blocks follow from the shapes, the weight gradient's and
 * bias gradient's sums are cut into a fixed number of chunks. */
static void winograd_results_do_not_depend_on_threads(void)
{
    const int64_t cases[][5] = {
        {4, 17, 33, 14, 14}, {8, 32, 32, 28, 28}, {16, 64, 16, 7, 9}, {1, 24, 136, 13, 14}};
    if (g_test_subprocess()) {
        g_autoptr(GString) out = g_string_new(NULL);
        g_setenv("PVX_CONV_ALGO", "winograd", TRUE);
        for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
            rng_state = 3 + c;
            int64_t xs[4] = {cases[c][0], cases[c][1], cases[c][3], cases[c][4]};
            int64_t ws[4] = {cases[c][2], cases[c][1], 3, 3};
            g_autoptr(PvxTensor) x = relu_output(4, xs);
            g_autoptr(PvxTensor) w = rand_tensor(4, ws, -1, 1);
            PvxConv2dParams p = {.pad_h = 1, .pad_w = 1};
            g_autoptr(PvxTensor) y = pvx_conv2d_forward(x, w, NULL, &p, NULL, NULL);
            g_autoptr(PvxTensor) dy = rand_tensor(4, y->shape, -1, 1);
            g_autoptr(PvxTensor) dx = NULL;
            g_autoptr(PvxTensor) dw = pvx_tensor_new_like(w);
            int64_t bs[1] = {ws[0]};
            g_autoptr(PvxTensor) db = pvx_tensor_new(1, bs);
            g_assert_true(pvx_conv2d_relu_backward(x, w, dy, &p, &dx, dw, db, NULL));
            const PvxTensor *parts[] = {y, dx, dw, db};
            for (guint k = 0; k < G_N_ELEMENTS(parts); k++)
                g_string_append_len(out, (const char *)parts[k]->data,
                                    (gssize)(pvx_tensor_numel(parts[k]) * sizeof(float)));
        }
        g_assert_true(
            g_file_set_contents(g_getenv("PVX_TEST_OUT"), out->str, (gssize)out->len, NULL));
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("pvx-threads-XXXXXX", NULL);
    g_assert_nonnull(dir);
    const char *threads[] = {"1", "3"};
    char *data[2];
    gsize len[2];
    for (int k = 0; k < 2; k++) {
        g_autofree char *path = g_build_filename(dir, threads[k], NULL);
        g_setenv("PVX_TEST_OUT", path, TRUE);
        g_setenv("PVX_NUM_THREADS", threads[k], TRUE);
        g_test_trap_subprocess(NULL, 0, 0);
        g_test_trap_assert_passed();
        g_assert_true(g_file_get_contents(path, &data[k], &len[k], NULL));
        g_remove(path);
    }
    g_unsetenv("PVX_TEST_OUT");
    g_unsetenv("PVX_NUM_THREADS");
    g_rmdir(dir);
    g_assert_cmpuint(len[0], ==, len[1]);
    g_assert_cmpuint(len[0], >, 0);
    for (gsize i = 0; i < len[0] / sizeof(float); i++)
        if (memcmp(data[0] + i * sizeof(float), data[1] + i * sizeof(float), sizeof(float)) != 0)
            g_error("float %" G_GSIZE_FORMAT " differs between 1 and 3 threads", i);
    g_free(data[0]);
    g_free(data[1]);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ops/gradcheck/conv2d", conv2d_gradients_match_finite_differences);
    g_test_add_func("/ops/gradcheck/conv2d-winograd",
                    conv2d_winograd_gradients_match_finite_differences);
    g_test_add_func("/ops/api/conv2d-shape-mismatch-names-both-shapes",
                    conv2d_shape_mismatch_names_both_shapes);
    g_test_add_func("/ops/api/weight-grads-accumulate-input-grad-overwrites",
                    weight_gradients_accumulate_and_input_gradient_overwrites);
    g_test_add_func("/ops/api/conv2d-winograd-matches-im2col", conv2d_winograd_matches_im2col);
    g_test_add_func("/ops/api/winograd-kernels-agree", winograd_kernels_agree);
    g_test_add_func("/ops/api/winograd-results-do-not-depend-on-threads",
                    winograd_results_do_not_depend_on_threads);
    g_test_add_func("/ops/api/conv2d-direct-matches-im2col", conv2d_direct_matches_im2col);
    g_test_add_func("/ops/api/conv2d-relu-forward-equals-two-passes",
                    conv2d_relu_forward_equals_two_passes);
    g_test_add_func("/ops/api/conv2d-relu-backward-equals-two-passes",
                    conv2d_relu_backward_equals_two_passes);
    g_test_add_func("/ops/api/parallel-for-and-thread-knob",
                    parallel_for_covers_each_item_once_and_knob_is_checked);
    return g_test_run();
}
