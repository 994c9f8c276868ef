/* Sparse conv2d / linear forward (ops.h) and sparse inference in models (nn.h): the sparse
 * results equal the dense ones, the automatic choice and the forcing modes, and the cache of
 * compressed weights following every change of weights or masks.
 *
 * Criterion: max |sparse - dense| ≤ 1e-4 · max |dense| over the tensor (the dense ops are
 * checked against PyTorch in ops-torch / nn-torch). Both sum the same float32 products in a
 * different order; the difference measured here is ~1e-6 of max|dense|.
 *
 * The vector kernels are picked once per process (AVX-512, AVX2 or SSE2); meson runs this test
 * once per instruction set with PVX_SPARSE_ISA capping the choice. */
#include <math.h>
#include <string.h>

#include "pvx-private/core.h"

#define MAX_REL 1e-4

static guint32 rng = 1;

static float urand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) / 16777216.0f;
}

static void fill(PvxTensor *t, float scale)
{
    for (int64_t i = 0; i < pvx_tensor_numel(t); i++)
        t->data[i] = (urand() * 2.0f - 1.0f) * scale;
}

/* Keeps each weight with probability @density (0 and 1 exactly). */
static void prune_random(PvxTensor *w, double density)
{
    for (int64_t i = 0; i < pvx_tensor_numel(w); i++)
        if (!(urand() < density))
            w->data[i] = 0.0f;
}

static void expect_close(const char *what, const PvxTensor *got, const PvxTensor *ref)
{
    g_assert_nonnull(got);
    g_assert_true(pvx_tensor_same_shape(got, ref));
    double mx = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(ref); i++)
        mx = fmax(mx, fabs(ref->data[i]));
    /* floor = max|ref|: the error relative to the largest element. */
    double err = pvx_tensor_max_rel_diff(got, ref, mx > 0.0 ? mx : 1e-30);
    g_test_message("%s: max |diff| / max|ref| = %.2e (max|ref| %.3g)", what, err, mx);
    if (!(err <= MAX_REL))
        g_error("%s: max |diff| / max|ref| = %.3e > %.0e", what, err, MAX_REL);
}

/* TRUE when @a and @b differ by more than 1e-3 of max|b| (a change the test must see). */
static gboolean differs(const PvxTensor *a, const PvxTensor *b)
{
    double mx = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(b); i++)
        mx = fmax(mx, fabs(b->data[i]));
    return pvx_tensor_max_rel_diff(a, b, mx > 0.0 ? mx : 1e-30) > 1e-3;
}

/* ---- ops ------------------------------------------------------------------------------------ */

typedef struct {
    int64_t n, cin, h, w, cout, kh, kw;
    int sh, sw, ph, pw, dh, dw;
} ConvCase;

static void check_conv(const ConvCase *c, double density, gboolean bias, int zero_filter,
                       int zero_input)
{
    int64_t xs[4] = {c->n, c->cin, c->h, c->w}, ws[4] = {c->cout, c->cin, c->kh, c->kw};
    g_autoptr(PvxTensor) x = pvx_tensor_new(4, xs);
    g_autoptr(PvxTensor) w = pvx_tensor_new(4, ws);
    g_autoptr(PvxTensor) b = bias ? pvx_tensor_new(1, &c->cout) : NULL;
    fill(x, 1.0f);
    fill(w, 0.5f);
    if (b)
        fill(b, 0.5f);
    prune_random(w, density);
    int64_t taps = c->cin * c->kh * c->kw;
    if (zero_filter >= 0)
        memset(w->data + zero_filter * taps, 0, (size_t)taps * sizeof(float));
    if (zero_input >= 0)
        for (int64_t co = 0; co < c->cout; co++)
            memset(w->data + co * taps + zero_input * c->kh * c->kw, 0,
                   (size_t)(c->kh * c->kw) * sizeof(float));
    PvxConv2dParams p = {c->sh, c->sw, c->ph, c->pw, c->dh, c->dw};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) ref = pvx_conv2d_forward(x, w, b, &p, NULL, &error);
    g_assert_no_error(error);
    g_autoptr(PvxSparseWeights) sw = pvx_sparse_weights_new(w);
    /* Into a preallocated output full of garbage: every element must be overwritten. */
    g_autoptr(PvxTensor) out = pvx_tensor_new_like(ref);
    pvx_tensor_fill(out, NAN);
    g_autoptr(PvxTensor) y = pvx_conv2d_forward_sparse(x, sw, b, &p, out, &error);
    g_assert_no_error(error);
    g_assert_true(y == out);
    g_autofree char *what = g_strdup_printf(
        "conv x[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
        "] w[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
        "] s%d,%d p%d,%d d%d,%d density %.2f%s filter0 %d input0 %d",
        c->n, c->cin, c->h, c->w, c->cout, c->cin, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->dh,
        c->dw, pvx_sparse_weights_density(sw), bias ? " bias" : "", zero_filter, zero_input);
    expect_close(what, y, ref);
}

static const ConvCase conv_cases[] = {
    /* n  cin  h   w  cout kh kw sh sw ph pw dh dw */
    {2, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1},    /* VGG's first layer, odd sizes */
    {3, 16, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1}, /* VGG-like, several tiles */
    {1, 32, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1},
    {2, 8, 13, 10, 6, 3, 3, 2, 2, 1, 1, 1, 1}, /* stride 2 */
    {2, 5, 12, 15, 7, 5, 3, 2, 3, 2, 0, 1, 1}, /* strides differ, rectangular kernel */
    {1, 4, 11, 11, 3, 3, 3, 1, 1, 2, 2, 2, 2}, /* dilation 2 */
    {2, 6, 8, 9, 4, 1, 1, 1, 1, 0, 0, 1, 1},   /* 1×1 */
    {1, 3, 7, 7, 2, 7, 7, 1, 1, 0, 0, 1, 1},   /* kernel as large as the input: 1×1 out */
    {2, 4, 10, 10, 5, 3, 3, 3, 3, 0, 0, 1, 1}, /* stride 3, no padding */
    {1, 2, 5, 40, 3, 3, 3, 1, 1, 1, 1, 1, 1},  /* wide rows: a row spans several tiles */
    {1, 3, 4, 4, 3, 2, 2, 1, 1, 3, 3, 1, 1},   /* padding larger than the kernel */
};

static void sparse_conv_matches_dense(void)
{
    static const double densities[] = {0.0, 0.03, 0.3, 0.7, 1.0};
    for (gsize i = 0; i < G_N_ELEMENTS(conv_cases); i++)
        for (gsize d = 0; d < G_N_ELEMENTS(densities); d++)
            check_conv(&conv_cases[i], densities[d], d % 2 == 0, -1, -1);
}

static void sparse_conv_skips_zero_filters_and_input_channels(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(conv_cases); i++) {
        const ConvCase *c = &conv_cases[i];
        check_conv(c, 0.5, TRUE, (int)(c->cout / 2), -1);
        check_conv(c, 1.0, TRUE, 0, (int)(c->cin - 1));
        check_conv(c, 0.2, FALSE, (int)(c->cout - 1), 0);
    }
}

static void sparse_conv_shape_errors(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)1, (int64_t)3, (int64_t)8, (int64_t)8);
    g_autoptr(PvxTensor) w =
        pvx_tensor_new_shape(4, (int64_t)4, (int64_t)2, (int64_t)3, (int64_t)3);
    fill(w, 1.0f);
    g_autoptr(PvxSparseWeights) sw = pvx_sparse_weights_new(w);
    g_assert_null(pvx_conv2d_forward_sparse(x, sw, NULL, NULL, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_clear_error(&error);
    g_autoptr(PvxTensor) lw = pvx_tensor_new_shape(2, (int64_t)4, (int64_t)3);
    g_autoptr(PvxSparseWeights) lsw = pvx_sparse_weights_new(lw);
    g_assert_null(pvx_conv2d_forward_sparse(x, lsw, NULL, NULL, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_clear_error(&error);
    g_autoptr(PvxTensor) x2 =
        pvx_tensor_new_shape(4, (int64_t)1, (int64_t)2, (int64_t)8, (int64_t)8);
    g_autoptr(PvxTensor) bad =
        pvx_tensor_new_shape(4, (int64_t)1, (int64_t)4, (int64_t)7, (int64_t)6);
    g_assert_null(pvx_conv2d_forward_sparse(x2, sw, NULL, NULL, bad, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_clear_error(&error);
    g_assert_null(pvx_linear_forward_sparse(x2, lsw, NULL, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_clear_error(&error);
    g_assert_null(pvx_linear_forward_sparse(x2, sw, NULL, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
}

/* Grouped convs (depthwise, channel multiplier, 1×1 and 3×3 groups, strided) against the dense
 * grouped op with the same pruned weight; groups = 1 through the grouped entry point too. */
static void sparse_grouped_conv_matches_dense(void)
{
    static const struct {
        ConvCase c; /* c.cin: input channels; the weight has cin / groups */
        int groups;
    } cases[] = {
        /* n  cin  h   w  cout kh kw sh sw ph pw dh dw */
        {{2, 8, 9, 11, 8, 3, 3, 1, 1, 1, 1, 1, 1}, 8},    /* depthwise 3×3 */
        {{1, 6, 12, 12, 6, 5, 5, 2, 2, 2, 2, 1, 1}, 6},   /* depthwise 5×5 stride 2 */
        {{2, 4, 7, 9, 8, 3, 3, 1, 2, 1, 1, 1, 1}, 4},     /* depthwise, multiplier 2 */
        {{2, 8, 10, 10, 12, 1, 1, 1, 1, 0, 0, 1, 1}, 4},  /* 1×1, 4 groups */
        {{2, 16, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1}, 2}, /* 3×3, 2 groups */
        {{1, 12, 11, 13, 6, 3, 3, 2, 2, 1, 1, 2, 2}, 3},  /* strided, dilated */
        {{2, 6, 8, 9, 4, 1, 1, 2, 2, 0, 0, 1, 1}, 1},     /* 1×1 stride 2, one group */
    };
    static const double densities[] = {0.0, 0.05, 0.4, 1.0};
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        const ConvCase *c = &cases[i].c;
        int groups = cases[i].groups;
        for (gsize d = 0; d < G_N_ELEMENTS(densities); d++) {
            int64_t xs[4] = {c->n, c->cin, c->h, c->w};
            int64_t ws[4] = {c->cout, c->cin / groups, c->kh, c->kw};
            g_autoptr(PvxTensor) x = pvx_tensor_new(4, xs);
            g_autoptr(PvxTensor) w = pvx_tensor_new(4, ws);
            g_autoptr(PvxTensor) b = d % 2 == 0 ? pvx_tensor_new(1, &c->cout) : NULL;
            fill(x, 1.0f);
            fill(w, 0.5f);
            if (b)
                fill(b, 0.5f);
            prune_random(w, densities[d]);
            PvxConv2dParams p = {c->sh, c->sw, c->ph, c->pw, c->dh, c->dw};
            g_autoptr(GError) error = NULL;
            g_autoptr(PvxTensor) ref =
                pvx_conv2d_grouped_forward(x, w, b, &p, groups, NULL, &error);
            g_assert_no_error(error);
            g_autoptr(PvxSparseWeights) sw = pvx_sparse_weights_new(w);
            g_autoptr(PvxTensor) out = pvx_tensor_new_like(ref);
            pvx_tensor_fill(out, NAN);
            g_autoptr(PvxTensor) y =
                pvx_conv2d_grouped_forward_sparse(x, sw, b, &p, groups, out, &error);
            g_assert_no_error(error);
            g_assert_true(y == out);
            g_autofree char *what =
                g_strdup_printf("grouped case %u, %d groups, density %.2f", (unsigned)i, groups,
                                pvx_sparse_weights_density(sw));
            expect_close(what, y, ref);
        }
    }
    /* shapes that do not fit name both */
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)1, (int64_t)6, (int64_t)8, (int64_t)8);
    g_autoptr(PvxTensor) w =
        pvx_tensor_new_shape(4, (int64_t)6, (int64_t)2, (int64_t)3, (int64_t)3);
    g_autoptr(PvxSparseWeights) sw = pvx_sparse_weights_new(w);
    g_assert_null(pvx_conv2d_grouped_forward_sparse(x, sw, NULL, NULL, 2, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_assert_nonnull(strstr(error->message, "[1, 6, 8, 8]"));
    g_assert_nonnull(strstr(error->message, "[6, 2, 3, 3]"));
}

/* The grouped rule: groups = 1 is the plain rule; depthwise never; other groups dense when
 * unpruned and sparse when very sparse on large layers. */
static void sparse_grouped_rule(void)
{
    PvxConv2dParams p = {.pad_h = 1, .pad_w = 1};
    int64_t xs[4] = {8, 128, 56, 56}, ws[4] = {128, 128, 3, 3};
    for (int64_t nnz = 128 * 128 * 9; nnz > 100; nnz /= 4)
        g_assert_cmpint(pvx_conv2d_grouped_sparse_pays(xs, ws, &p, 1, nnz), ==,
                        pvx_conv2d_sparse_pays(xs, ws, &p, nnz));
    int64_t dws[4] = {128, 1, 3, 3};
    g_assert_false(pvx_conv2d_grouped_sparse_pays(xs, dws, &p, 128, 1));
    int64_t gws[4] = {128, 64, 3, 3}, g1[4] = {256, 64, 1, 1};
    PvxConv2dParams p0 = {0};
    g_assert_false(pvx_conv2d_grouped_sparse_pays(xs, gws, &p, 2, 128 * 64 * 9));
    g_assert_true(pvx_conv2d_grouped_sparse_pays(xs, gws, &p, 2, 128 * 64 * 9 / 32));
    g_assert_false(pvx_conv2d_grouped_sparse_pays(xs, g1, &p0, 2, 256 * 64));
    g_assert_true(pvx_conv2d_grouped_sparse_pays(xs, g1, &p0, 2, 256 * 64 / 64));
    /* shapes that do not fit */
    g_assert_false(pvx_conv2d_grouped_sparse_pays(xs, gws, &p, 3, 1));
}

static void sparse_weights_count_nonzeros(void)
{
    g_autoptr(PvxTensor) w =
        pvx_tensor_new_shape(4, (int64_t)3, (int64_t)2, (int64_t)2, (int64_t)2);
    w->data[0] = 1.0f;
    w->data[9] = -2.0f;
    w->data[23] = 0.5f;
    g_autoptr(PvxSparseWeights) sw = pvx_sparse_weights_new(w);
    g_assert_cmpint(pvx_sparse_weights_nnz(sw), ==, 3);
    g_assert_cmpfloat_with_epsilon(pvx_sparse_weights_density(sw), 3.0 / 24.0, 1e-12);
    const PvxTensor *shape = pvx_sparse_weights_shape(sw);
    g_assert_true(pvx_tensor_same_shape(shape, w));
}

static void sparse_linear_matches_dense(void)
{
    static const int64_t batches[] = {1, 3, 8, 17, 33};
    static const int64_t sizes[][2] = {{5, 1}, {100, 7}, {1000, 64}}; /* in, out */
    static const double densities[] = {0.0, 0.05, 0.5, 1.0};
    for (gsize bi = 0; bi < G_N_ELEMENTS(batches); bi++) {
        for (gsize si = 0; si < G_N_ELEMENTS(sizes); si++) {
            for (gsize d = 0; d < G_N_ELEMENTS(densities); d++) {
                int64_t n = batches[bi], in = sizes[si][0], out = sizes[si][1];
                g_autoptr(PvxTensor) x = pvx_tensor_new_shape(2, n, in);
                g_autoptr(PvxTensor) w = pvx_tensor_new_shape(2, out, in);
                g_autoptr(PvxTensor) b = d % 2 ? NULL : pvx_tensor_new(1, &out);
                fill(x, 1.0f);
                fill(w, 0.3f);
                if (b)
                    fill(b, 0.3f);
                prune_random(w, densities[d]);
                if (out > 3) /* a whole pruned output row */
                    memset(w->data + 2 * in, 0, (size_t)in * sizeof(float));
                g_autoptr(GError) error = NULL;
                g_autoptr(PvxTensor) ref = pvx_linear_forward(x, w, b, NULL, &error);
                g_assert_no_error(error);
                g_autoptr(PvxSparseWeights) sw = pvx_sparse_weights_new(w);
                g_autoptr(PvxTensor) o = pvx_tensor_new_like(ref);
                pvx_tensor_fill(o, NAN);
                g_autoptr(PvxTensor) y = pvx_linear_forward_sparse(x, sw, b, o, &error);
                g_assert_no_error(error);
                g_autofree char *what =
                    g_strdup_printf("linear n %" G_GINT64_FORMAT " in %" G_GINT64_FORMAT
                                    " out %" G_GINT64_FORMAT " density %.2f",
                                    n, in, out, densities[d]);
                expect_close(what, y, ref);
            }
        }
    }
}

/* The automatic rule on VGG-16's shapes at batch 8: unpruned layers stay dense, layers at CR 32
 * go sparse. */
static void sparse_rule_dense_when_unpruned_sparse_when_very_sparse(void)
{
    static const int64_t shapes[][3] = {
        {64, 64, 224}, {128, 256, 56}, {512, 512, 28}, {512, 512, 14}};
    PvxConv2dParams p = {.pad_h = 1, .pad_w = 1};
    for (gsize i = 0; i < G_N_ELEMENTS(shapes); i++) {
        int64_t xs[4] = {8, shapes[i][0], shapes[i][2], shapes[i][2]};
        int64_t ws[4] = {shapes[i][1], shapes[i][0], 3, 3};
        int64_t numel = ws[0] * ws[1] * 9;
        g_assert_false(pvx_conv2d_sparse_pays(xs, ws, &p, numel));
        g_assert_false(pvx_conv2d_sparse_pays(xs, ws, &p, numel / 2));
        g_assert_true(pvx_conv2d_sparse_pays(xs, ws, &p, numel / 32));
    }
    int64_t lx[2] = {8, 4096}, lw[2] = {4096, 4096};
    g_assert_false(pvx_linear_sparse_pays(lx, lw, 4096 * 4096));
}

/* ---- models --------------------------------------------------------------------------------- */

/* A small VGG-like model: conv-bn-relu-pool ×2, conv, flatten, linear-relu-dropout-linear. */
static PvxModel *small_model(void)
{
    PvxModel *m = pvx_model_new("sparse-test");
    pvx_model_add_conv2d(m, "features.0", 3, 16, 3, 1, 1, TRUE);
    pvx_model_add_batchnorm2d(m, "features.1", 16);
    pvx_model_add_relu(m, "features.2");
    pvx_model_add_maxpool2d(m, "features.3", 2, 2);
    pvx_model_add_conv2d(m, "features.4", 16, 32, 3, 1, 1, TRUE);
    pvx_model_add_relu(m, "features.5");
    pvx_model_add_maxpool2d(m, "features.6", 2, 2);
    pvx_model_add_conv2d(m, "features.7", 32, 32, 3, 2, 1, FALSE);
    pvx_model_add_relu(m, "features.8");
    pvx_model_add_flatten(m, "flatten");
    pvx_model_add_linear(m, "classifier.0", 32 * 3 * 3, 64, TRUE);
    pvx_model_add_relu(m, "classifier.1");
    pvx_model_add_dropout(m, "classifier.2", 0.5);
    pvx_model_add_linear(m, "classifier.3", 64, 10, TRUE);
    pvx_model_init(m, 7);
    /* Non-trivial batch-norm statistics and biases. */
    PvxLayer *bn = pvx_model_layer(m, 1);
    fill(bn->running_mean, 0.1f);
    for (int64_t c = 0; c < 16; c++)
        bn->running_var->data[c] = 0.5f + urand();
    for (int i = 0; i < pvx_model_n_layers(m); i++) {
        PvxLayer *l = pvx_model_layer(m, i);
        if ((l->type == PVX_LAYER_CONV2D || l->type == PVX_LAYER_LINEAR) && l->bias)
            fill(l->bias, 0.05f);
    }
    return m;
}

static const char *const prunable[] = {"features.0",   "features.4",   "features.7",
                                       "classifier.0", "classifier.3", NULL};

/* Random masks of @density on every prunable layer, a whole pruned filter in features.4 and a
 * whole pruned input channel in features.7. */
static void mask_model(PvxModel *m, double density)
{
    for (const char *const *n = prunable; *n; n++) {
        PvxLayer *l = pvx_model_find_layer(m, *n, NULL);
        g_autoptr(PvxTensor) mask = pvx_tensor_new_like(l->weight);
        for (int64_t i = 0; i < pvx_tensor_numel(mask); i++)
            mask->data[i] = urand() < density ? 1.0f : 0.0f;
        int64_t taps = pvx_tensor_numel(mask) / mask->shape[0];
        if (g_str_equal(*n, "features.4"))
            memset(mask->data + 5 * taps, 0, (size_t)taps * sizeof(float));
        if (g_str_equal(*n, "features.7"))
            for (int64_t co = 0; co < 32; co++)
                memset(mask->data + co * taps + 3 * 9, 0, 9 * sizeof(float));
        g_autoptr(GError) error = NULL;
        g_assert_true(pvx_model_set_mask(m, *n, mask, &error));
        g_assert_no_error(error);
    }
}

static PvxTensor *model_input(void)
{
    PvxTensor *x = pvx_tensor_new_shape(4, (int64_t)4, (int64_t)3, (int64_t)24, (int64_t)24);
    fill(x, 1.0f);
    return x;
}

static PvxTensor *forward(PvxModel *m, PvxTensor *x, PvxForwardMode mode, PvxSparseMode sm)
{
    pvx_model_set_sparse_mode(m, sm);
    g_autoptr(GError) error = NULL;
    PvxTensor *y = pvx_model_forward(m, x, mode, &error);
    g_assert_no_error(error);
    return y;
}

static int ran_sparse(PvxModel *m)
{
    int n = 0;
    for (const char *const *p = prunable; *p; p++)
        n += pvx_model_layer_ran_sparse(m, *p);
    return n;
}

static void model_sparse_on_matches_off(void)
{
    g_autoptr(PvxModel) m = small_model();
    mask_model(m, 0.3);
    g_autoptr(PvxTensor) x = model_input();
    g_autoptr(PvxTensor) off = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_OFF);
    g_assert_cmpint(ran_sparse(m), ==, 0);
    g_autoptr(PvxTensor) on = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_ON);
    g_assert_cmpint(ran_sparse(m), ==, 5);
    expect_close("model INFERENCE on vs off", on, off);
    g_autoptr(PvxTensor) off2 = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_OFF);
    g_assert_cmpint(ran_sparse(m), ==, 0);
    g_assert_cmpmem(off->data, 40 * sizeof(float), off2->data, 40 * sizeof(float));
}

/* EXPLAIN keeps the inputs for backward; backward stays dense and gives the same gradients. */
static void model_explain_sparse_backward_matches_dense(void)
{
    g_autoptr(PvxModel) m = small_model();
    mask_model(m, 0.2);
    g_assert_true(pvx_model_tap(m, "features.4", NULL));
    g_autoptr(PvxTensor) x = model_input();
    g_autoptr(PvxTensor) dy = pvx_tensor_new_shape(2, (int64_t)4, (int64_t)10);
    fill(dy, 1.0f);
    PvxTensor *outs[2], *dxs[2], *taps[2], *grads[2];
    for (int k = 0; k < 2; k++) {
        outs[k] = forward(m, x, PVX_FORWARD_EXPLAIN, k ? PVX_SPARSE_ON : PVX_SPARSE_OFF);
        g_assert_cmpint(ran_sparse(m), ==, k ? 5 : 0);
        dxs[k] = NULL;
        pvx_model_zero_grad(m);
        g_autoptr(GError) error = NULL;
        g_assert_true(pvx_model_backward(m, dy, TRUE, &dxs[k], &error));
        g_assert_no_error(error);
        taps[k] = pvx_tensor_copy(pvx_model_tap_gradient(m, "features.4"));
        grads[k] = pvx_tensor_copy(pvx_model_find_layer(m, "features.0", NULL)->weight_grad);
    }
    expect_close("EXPLAIN output on vs off", outs[1], outs[0]);
    expect_close("EXPLAIN input gradient on vs off", dxs[1], dxs[0]);
    expect_close("EXPLAIN tap gradient on vs off", taps[1], taps[0]);
    expect_close("EXPLAIN weight gradient on vs off", grads[1], grads[0]);
    for (int k = 0; k < 2; k++) {
        pvx_tensor_unref(outs[k]);
        pvx_tensor_unref(dxs[k]);
        pvx_tensor_unref(taps[k]);
        pvx_tensor_unref(grads[k]);
    }
}

static void model_auto_keeps_unmasked_layers_dense(void)
{
    g_autoptr(PvxModel) m = small_model();
    g_autoptr(PvxTensor) x = model_input();
    g_autoptr(PvxTensor) a = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_AUTO);
    g_assert_cmpint(ran_sparse(m), ==, 0);
    /* A fully kept mask is still dense: the rule never picks sparse at density 1. */
    mask_model(m, 1.0);
    g_autoptr(PvxTensor) b = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_AUTO);
    g_assert_false(pvx_model_layer_ran_sparse(m, "features.4"));
    g_assert_false(pvx_model_layer_ran_sparse(m, "classifier.0"));
    /* TRAIN is always dense. */
    mask_model(m, 0.01);
    g_autoptr(PvxTensor) t = forward(m, x, PVX_FORWARD_TRAIN, PVX_SPARSE_ON);
    g_assert_cmpint(ran_sparse(m), ==, 0);
}

static void model_sparse_mode_from_environment(void)
{
    g_autoptr(PvxModel) m = small_model();
    mask_model(m, 0.3);
    g_autoptr(PvxTensor) x = model_input();
    g_assert_cmpint(pvx_model_sparse_mode(m), ==, PVX_SPARSE_AUTO);
    g_setenv("PVX_SPARSE", "on", TRUE);
    g_assert_cmpint(pvx_model_sparse_mode(m), ==, PVX_SPARSE_ON);
    g_autoptr(PvxTensor) a = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_DEFAULT);
    g_assert_cmpint(ran_sparse(m), ==, 5);
    /* An explicit mode wins over the environment. */
    g_autoptr(PvxTensor) b = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_OFF);
    g_assert_cmpint(ran_sparse(m), ==, 0);
    g_setenv("PVX_SPARSE", "off", TRUE);
    g_assert_cmpint(pvx_model_sparse_mode(m), ==, PVX_SPARSE_OFF);
    g_autoptr(PvxTensor) c = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_ON);
    g_assert_cmpint(ran_sparse(m), ==, 5);
    g_unsetenv("PVX_SPARSE");
    pvx_model_set_sparse_mode(m, PVX_SPARSE_DEFAULT);
    g_assert_cmpint(pvx_model_sparse_mode(m), ==, PVX_SPARSE_AUTO);
}

/* After each way the weights or masks change, a sparse forward follows (equals the dense one). */
static void model_sparse_cache_follows_weight_and_mask_changes(void)
{
    g_autoptr(PvxModel) m = small_model();
    mask_model(m, 0.3);
    g_autoptr(PvxTensor) x = model_input();
    g_autoptr(PvxTensor) y0 = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_ON);

    /* A new mask. */
    mask_model(m, 0.1);
    g_autoptr(PvxTensor) on1 = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_ON);
    g_autoptr(PvxTensor) off1 = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_OFF);
    expect_close("after set_mask", on1, off1);
    g_assert_true(differs(on1, y0));

    /* Removing a mask. */
    PvxLayer *l = pvx_model_find_layer(m, "features.4", NULL);
    g_assert_true(pvx_model_set_mask(m, "features.4", NULL, NULL));
    fill(l->weight, 0.2f);
    pvx_model_apply_masks(m);
    g_autoptr(PvxTensor) on2 = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_ON);
    g_autoptr(PvxTensor) off2 = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_OFF);
    expect_close("after removing a mask and editing the weights", on2, off2);

    /* Weights edited in place, then pvx_model_apply_masks (the documented rule). */
    g_autoptr(PvxTensor) on3a = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_ON);
    PvxLayer *c0 = pvx_model_find_layer(m, "classifier.0", NULL);
    for (int64_t i = 0; i < pvx_tensor_numel(c0->weight); i++)
        c0->weight->data[i] = c0->weight->data[i] * -2.0f + 0.01f;
    pvx_model_apply_masks(m);
    g_autoptr(PvxTensor) on3 = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_ON);
    g_autoptr(PvxTensor) off3 = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_OFF);
    expect_close("after editing weights + apply_masks", on3, off3);
    g_assert_true(differs(on3, on3a));

    /* A TRAIN forward, then an optimizer-like change of the weights without apply_masks. */
    g_autoptr(PvxTensor) t = forward(m, x, PVX_FORWARD_TRAIN, PVX_SPARSE_ON);
    PvxLayer *f7 = pvx_model_find_layer(m, "features.7", NULL);
    for (int64_t i = 0; i < pvx_tensor_numel(f7->weight); i++)
        f7->weight->data[i] *= 8.0f;
    g_autoptr(PvxTensor) on4 = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_ON);
    g_autoptr(PvxTensor) off4 = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_OFF);
    expect_close("after a TRAIN forward and a weight step", on4, off4);
    g_assert_true(differs(on4, on3));

    /* Re-initialisation. */
    pvx_model_init(m, 99);
    g_autoptr(PvxTensor) on5 = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_ON);
    g_autoptr(PvxTensor) off5 = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_OFF);
    expect_close("after pvx_model_init", on5, off5);

    /* release_buffers drops the cache too; the next forward rebuilds it. */
    pvx_model_release_buffers(m);
    g_autoptr(PvxTensor) on6 = forward(m, x, PVX_FORWARD_INFERENCE, PVX_SPARSE_ON);
    expect_close("after release_buffers", on6, off5);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_message("PVX_SPARSE_ISA=%s",
                   g_getenv("PVX_SPARSE_ISA") ? g_getenv("PVX_SPARSE_ISA") : "(best)");
    g_test_add_func("/sparse/conv_matches_dense", sparse_conv_matches_dense);
    g_test_add_func("/sparse/conv_skips_zero_filters_and_input_channels",
                    sparse_conv_skips_zero_filters_and_input_channels);
    g_test_add_func("/sparse/conv_shape_errors", sparse_conv_shape_errors);
    g_test_add_func("/sparse/grouped_conv_matches_dense", sparse_grouped_conv_matches_dense);
    g_test_add_func("/sparse/grouped_rule", sparse_grouped_rule);
    g_test_add_func("/sparse/weights_count_nonzeros", sparse_weights_count_nonzeros);
    g_test_add_func("/sparse/linear_matches_dense", sparse_linear_matches_dense);
    g_test_add_func("/sparse/rule_dense_when_unpruned_sparse_when_very_sparse",
                    sparse_rule_dense_when_unpruned_sparse_when_very_sparse);
    g_test_add_func("/sparse/model_on_matches_off", model_sparse_on_matches_off);
    g_test_add_func("/sparse/model_explain_sparse_backward_matches_dense",
                    model_explain_sparse_backward_matches_dense);
    g_test_add_func("/sparse/model_auto_keeps_unmasked_layers_dense",
                    model_auto_keeps_unmasked_layers_dense);
    g_test_add_func("/sparse/model_mode_from_environment", model_sparse_mode_from_environment);
    g_test_add_func("/sparse/model_cache_follows_weight_and_mask_changes",
                    model_sparse_cache_follows_weight_and_mask_changes);
    return g_test_run();
}
