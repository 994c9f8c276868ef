/* The explanation metrics, each through its plugin (loaded by the registry from the build tree),
 * on hand-built cases with known answers. Faithfulness metrics run a hand-built linear model
 * whose evidence per pixel is known exactly. */
#include <math.h>
#include <string.h>

#include "pvx-private/core.h"

static PvxRegistry *registry;

static PvxMetricResult *run_metric(const char *name, const char *const *pairs,
                                   const PvxMetricInput *in, GError **error)
{
    const PvxPlugin *pl = pvx_registry_find(registry, PVX_KIND_METRIC, name);
    g_assert_nonnull(pl);
    g_autofree char *owner = g_strdup_printf("metric %s", name);
    g_autoptr(PvxParams) params = pvx_params_new_from_pairs(pl->params, owner, pairs, error);
    g_assert_nonnull(params);
    return pvx_metric_run(pl, params, in, error);
}

static const double *values(PvxMetricResult *r, const char *name, int64_t n)
{
    int64_t rows = 0;
    g_assert_true(pvx_metric_result_is_per_item(r, name));
    const double *v = pvx_metric_result_get_matrix(r, name, &rows, NULL);
    g_assert_cmpint(rows, ==, n);
    return v;
}

/* ---- localisation */

/* Two 8×8 items: a square mask and, for item 1, a mask in the other corner. */
static void make_masks(PvxTensor *masks)
{
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            masks->data[i * 8 + j] = (i >= 2 && i < 5 && j >= 3 && j < 6) ? 1.0f : 0.0f;
            masks->data[64 + i * 8 + j] = (i >= 5 && j >= 5) ? 1.0f : 0.0f;
        }
}

static void localisation_map_equal_to_mask_is_perfect(void)
{
    g_autoptr(PvxTensor) masks = pvx_tensor_new_shape(3, 2, 8, 8);
    make_masks(masks);
    PvxMetricInput in = {
        .size = sizeof in, .n = 2, .num_classes = 2, .maps = masks, .masks = masks};
    const char *names[] = {"pointing-game", "energy-pointing-game", "rank-accuracy"};
    const char *results[] = {"hit", "energy", "rank_accuracy"};
    for (int k = 0; k < 3; k++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(PvxMetricResult) r = run_metric(names[k], NULL, &in, &error);
        g_assert_no_error(error);
        const double *v = values(r, results[k], 2);
        g_assert_cmpfloat_with_epsilon(v[0], 1.0, 1e-12);
        g_assert_cmpfloat_with_epsilon(v[1], 1.0, 1e-12);
    }
    /* the mask of item 0 covers 9 of 64 pixels: top-k with k = 9/64 is the mask itself */
    const char *pairs[] = {"fraction=0.140625", NULL};
    g_autoptr(PvxMetricResult) r = run_metric("topk-iou", pairs, &in, NULL);
    g_assert_cmpfloat_with_epsilon(values(r, "iou", 2)[0], 1.0, 1e-12);
}

static void localisation_known_partial_answers(void)
{
    g_autoptr(PvxTensor) masks = pvx_tensor_new_shape(3, 2, 8, 8);
    make_masks(masks);
    g_autoptr(PvxTensor) maps = pvx_tensor_new_shape(3, 2, 8, 8);
    /* item 0: maximum at (2, 1), two pixels left of the mask; 1 inside the mask at (3, 4) with
     * 0.5; so energy = 0.5 / 1.5 (after min-max the values are v / (1 + 1e-7)) */
    maps->data[2 * 8 + 1] = 1.0f;
    maps->data[3 * 8 + 4] = 0.5f;
    /* item 1: mask empty -> NaN everywhere */
    g_autoptr(PvxTensor) masks2 = pvx_tensor_copy(masks);
    memset(masks2->data + 64, 0, 64 * sizeof(float));
    PvxMetricInput in = {
        .size = sizeof in, .n = 2, .num_classes = 2, .maps = maps, .masks = masks2};
    const char *tol0[] = {"tolerance=0", NULL}, *tol2[] = {"tolerance=2", NULL};
    g_autoptr(PvxMetricResult) p0 = run_metric("pointing-game", tol0, &in, NULL);
    g_autoptr(PvxMetricResult) p2 = run_metric("pointing-game", tol2, &in, NULL);
    g_assert_cmpfloat(values(p0, "hit", 2)[0], ==, 0.0);
    g_assert_cmpfloat(values(p2, "hit", 2)[0], ==, 1.0);
    g_assert_true(isnan(values(p0, "hit", 2)[1]));
    g_autoptr(PvxMetricResult) e = run_metric("energy-pointing-game", NULL, &in, NULL);
    g_assert_cmpfloat_with_epsilon(values(e, "energy", 2)[0], 1.0 / 3.0, 1e-6);
    g_assert_true(isnan(values(e, "energy", 2)[1]));
    /* rank accuracy: K = 9, the 9 most relevant pixels are (2,1), (3,4) and then 7 zeros in
     * row-major order (0,0)... -> only (3,4) is inside: 1/9 */
    g_autoptr(PvxMetricResult) ra = run_metric("rank-accuracy", NULL, &in, NULL);
    g_assert_cmpfloat_with_epsilon(values(ra, "rank_accuracy", 2)[0], 1.0 / 9.0, 1e-12);
    /* top-2 pixels {(2,1), (3,4)} against the 9-pixel mask: IoU = 1 / 10 */
    const char *two[] = {"fraction=0.03125", NULL};
    g_autoptr(PvxMetricResult) iou = run_metric("topk-iou", two, &in, NULL);
    g_assert_cmpfloat_with_epsilon(values(iou, "iou", 2)[0], 0.1, 1e-12);
}

/* ---- faithfulness: a linear model on 1×4×4 images, logit_0 = Σ w_p x_p, logit_1 = 0 */

static PvxModel *linear_model(const float *w)
{
    PvxModel *m = pvx_model_new("linear-test");
    pvx_model_add_flatten(m, "flatten");
    PvxLayer *l = pvx_model_add_linear(m, "fc", 16, 2, TRUE);
    memset(l->weight->data, 0, sizeof(float) * 32);
    memcpy(l->weight->data, w, sizeof(float) * 16);
    memset(l->bias->data, 0, sizeof(float) * 2);
    return m;
}

static const float lin_w[16] = {0.9f, 0.1f,  0.5f, 0.3f,  0.05f, 0.7f,  0.2f,  0.4f,
                                0.6f, 0.15f, 0.8f, 0.25f, 0.35f, 0.45f, 0.55f, 0.65f};

static PvxMetricResult *causal(const char *name, PvxModel *m, const PvxTensor *x, const float *map,
                               const char *const *pairs)
{
    g_autoptr(PvxTensor) maps = pvx_tensor_new_from_data(3, (int64_t[]){1, 4, 4}, map);
    int64_t target = 0;
    PvxMetricInput in = {.size = sizeof in,
                         .n = 1,
                         .num_classes = 2,
                         .maps = maps,
                         .images = x,
                         .targets = &target,
                         .model = m,
                         .batch_size = 5};
    g_autoptr(GError) error = NULL;
    PvxMetricResult *r = run_metric(name, pairs, &in, &error);
    g_assert_no_error(error);
    return r;
}

static double sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

static void deletion_reversed_order_gives_the_worst_curve(void)
{
    g_autoptr(PvxModel) m = linear_model(lin_w);
    g_autoptr(PvxTensor) x = pvx_tensor_new_shape(4, 1, 1, 4, 4);
    pvx_tensor_fill(x, 2.0f);
    /* evidence of each pixel = 2 w_p: the map w is the true order, max − w its reverse */
    float good[16], rev[16];
    for (int p = 0; p < 16; p++) {
        good[p] = lin_w[p];
        rev[p] = 1.0f - lin_w[p];
    }
    const char *pairs[] = {"step=0.125", "baseline=0", NULL}; /* 2 pixels per step, 8 steps */
    g_autoptr(PvxMetricResult) rg = causal("deletion", m, x, good, pairs);
    g_autoptr(PvxMetricResult) rr = causal("deletion", m, x, rev, pairs);
    int64_t rows, cols;
    const double *cg = pvx_metric_result_get_matrix(rg, "curve", &rows, &cols);
    const double *cr = pvx_metric_result_get_matrix(rr, "curve", NULL, NULL);
    g_assert_cmpint(cols, ==, 9);
    double total = 0;
    for (int p = 0; p < 16; p++)
        total += 2 * lin_w[p];
    /* the curve starts at the image's probability and ends at the baseline's (logits 0, 0) */
    g_assert_cmpfloat_with_epsilon(cg[0], sigmoid(total), 1e-6);
    g_assert_cmpfloat_with_epsilon(cg[8], 0.5, 1e-6);
    /* point 1 of the good curve: the two largest weights (0.9, 0.8) removed */
    g_assert_cmpfloat_with_epsilon(cg[1], sigmoid(total - 2 * (0.9 + 0.8)), 1e-6);
    /* with additive evidence the good order is pointwise lowest, the reverse pointwise highest,
     * against every other order; check against 200 random orders */
    GRand *rand = g_rand_new_with_seed(3);
    double auc_g = values(rg, "auc", 1)[0], auc_r = values(rr, "auc", 1)[0];
    for (int t = 0; t < 200; t++) {
        float perm[16];
        for (int p = 0; p < 16; p++)
            perm[p] = (float)g_rand_double(rand);
        g_autoptr(PvxMetricResult) r = causal("deletion", m, x, perm, pairs);
        const double *c = pvx_metric_result_get_matrix(r, "curve", NULL, NULL);
        for (int k = 0; k < 9; k++) {
            g_assert_cmpfloat(cg[k], <=, c[k] + 1e-9);
            g_assert_cmpfloat(cr[k], >=, c[k] - 1e-9);
        }
        double a = values(r, "auc", 1)[0];
        g_assert_cmpfloat(auc_g, <=, a + 1e-12);
        g_assert_cmpfloat(auc_r, >=, a - 1e-12);
    }
    g_rand_free(rand);
    g_assert_cmpfloat(auc_g, <, auc_r - 0.05);
    /* AUC = trapezoid rule over the 9 points with spacing 1/8 */
    double s = 0;
    for (int k = 0; k < 9; k++)
        s += cg[k];
    g_assert_cmpfloat_with_epsilon(values(rg, "auc", 1)[0], (s - cg[0] / 2 - cg[8] / 2) / 8, 1e-12);
}

static void insertion_good_order_beats_reverse(void)
{
    g_autoptr(PvxModel) m = linear_model(lin_w);
    g_autoptr(PvxTensor) x = pvx_tensor_new_shape(4, 1, 1, 4, 4);
    pvx_tensor_fill(x, 2.0f);
    float good[16], rev[16];
    for (int p = 0; p < 16; p++) {
        good[p] = lin_w[p];
        rev[p] = 1.0f - lin_w[p];
    }
    /* blur_size 1: the start image is the image itself -> a flat curve at the image's
     * probability, whatever the order */
    const char *flat[] = {"step=0.25", "blur_size=1", NULL};
    g_autoptr(PvxMetricResult) f = causal("insertion", m, x, good, flat);
    double total = 0;
    for (int p = 0; p < 16; p++)
        total += 2 * lin_w[p];
    g_assert_cmpfloat_with_epsilon(values(f, "auc", 1)[0], sigmoid(total), 1e-6);
    const char *pairs[] = {"step=0.125", "blur_size=3", "blur_sigma=1", NULL};
    g_autoptr(PvxMetricResult) rg = causal("insertion", m, x, good, pairs);
    g_autoptr(PvxMetricResult) rr = causal("insertion", m, x, rev, pairs);
    const double *cg = pvx_metric_result_get_matrix(rg, "curve", NULL, NULL);
    g_assert_cmpfloat_with_epsilon(cg[8], sigmoid(total), 1e-6); /* ends at the image */
    g_assert_cmpfloat(cg[0], <, sigmoid(total));                 /* zero-padded blur is darker */
    g_assert_cmpfloat(values(rg, "auc", 1)[0], >, values(rr, "auc", 1)[0]);
    const char *even[] = {"blur_size=4", NULL};
    g_autoptr(PvxMetricResult) bad = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) maps = pvx_tensor_new_from_data(3, (int64_t[]){1, 4, 4}, good);
    int64_t target = 0;
    PvxMetricInput in = {.size = sizeof in,
                         .n = 1,
                         .num_classes = 2,
                         .maps = maps,
                         .images = x,
                         .targets = &target,
                         .model = m};
    bad = run_metric("insertion", even, &in, &error);
    g_assert_null(bad);
    g_assert_nonnull(strstr(error->message, "blur_size must be odd"));
}

static void average_drop_matches_the_formula(void)
{
    g_autoptr(PvxModel) m = linear_model(lin_w);
    g_autoptr(PvxTensor) x = pvx_tensor_new_shape(4, 1, 1, 4, 4);
    pvx_tensor_fill(x, 1.0f);
    /* map: 1 on pixels 0..7, 0 elsewhere (min-max keeps it, up to /(1 + 1e-7)) */
    float map[16] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    g_autoptr(PvxMetricResult) r = causal("average-drop", m, x, map, NULL);
    double y = 0, o = 0;
    for (int p = 0; p < 16; p++) {
        y += lin_w[p];
        o += p < 8 ? lin_w[p] / (1 + 1e-7) : 0;
    }
    double py = sigmoid(y), po = sigmoid(o);
    g_assert_cmpfloat_with_epsilon(values(r, "drop", 1)[0], (py - po) / py, 1e-6);
    g_assert_cmpfloat(values(r, "increase", 1)[0], ==, 0.0);
    /* negative evidence outside the map: keeping only the map raises the confidence */
    float w2[16];
    for (int p = 0; p < 16; p++)
        w2[p] = p < 8 ? lin_w[p] : -lin_w[p];
    g_autoptr(PvxModel) m2 = linear_model(w2);
    g_autoptr(PvxMetricResult) r2 = causal("average-drop", m2, x, map, NULL);
    g_assert_cmpfloat(values(r2, "drop", 1)[0], ==, 0.0);
    g_assert_cmpfloat(values(r2, "increase", 1)[0], ==, 1.0);
}

/* ---- across compression rates and complexity */

static void cr_similarity_known_values(void)
{
    /* 1×5 maps, no resampling (no images): ranks as in scipy's spearmanr example */
    const float a[] = {1, 2, 3, 4, 5, /**/ 1, 2, 3, 4, 5};
    const float b[] = {5, 6, 7, 8, 7, /**/ 1, 2, 3, 4, 5};
    g_autoptr(PvxTensor) maps = pvx_tensor_new_from_data(3, (int64_t[]){2, 1, 5}, a);
    g_autoptr(PvxTensor) ref = pvx_tensor_new_from_data(3, (int64_t[]){2, 1, 5}, b);
    PvxMetricInput in = {
        .size = sizeof in, .n = 2, .num_classes = 2, .maps = maps, .reference_maps = ref, .cr = 4};
    const char *pairs[] = {"fraction=0.4", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxMetricResult) r = run_metric("cr-similarity", pairs, &in, &error);
    g_assert_no_error(error);
    const double *sp = values(r, "spearman", 2), *ss = values(r, "ssim", 2),
                 *iou = values(r, "iou_top", 2);
    g_assert_cmpfloat_with_epsilon(sp[0], 0.8207826816681233, 1e-9);
    g_assert_cmpfloat_with_epsilon(sp[1], 1.0, 1e-12);
    g_assert_cmpfloat_with_epsilon(ss[1], 1.0, 1e-12);
    /* top-2: {4, 3} of a against {3, 2} of b (the 7 at index 4 ties index 2: lower first) */
    g_assert_cmpfloat_with_epsilon(iou[0], 1.0 / 3.0, 1e-12);
    g_assert_cmpfloat(iou[1], ==, 1.0);
    /* without reference maps the metric is refused, naming the input */
    in.reference_maps = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(PvxMetricResult) none = run_metric("cr-similarity", NULL, &in, &e2);
    g_assert_null(none);
    g_assert_nonnull(strstr(e2->message, "CR 1 maps"));
}

static void complexity_known_values(void)
{
    float m[2 * 16] = {0};
    m[5] = 1.0f;                  /* one pixel */
    for (int p = 16; p < 24; p++) /* half the pixels at one level */
        m[p] = 1.0f;
    g_autoptr(PvxTensor) maps = pvx_tensor_new_from_data(3, (int64_t[]){2, 4, 4}, m);
    PvxMetricInput in = {.size = sizeof in, .n = 2, .num_classes = 2, .maps = maps};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxMetricResult) r = run_metric("complexity", NULL, &in, &error);
    g_assert_no_error(error);
    const double *e = values(r, "entropy", 2), *g = values(r, "gini", 2);
    g_assert_cmpfloat_with_epsilon(e[0], 0.0, 1e-12);
    g_assert_cmpfloat_with_epsilon(g[0], 15.0 / 16.0, 1e-9);
    g_assert_cmpfloat_with_epsilon(e[1], log(8.0), 1e-9);
    g_assert_cmpfloat_with_epsilon(g[1], 0.5, 1e-9);
}

/* ---- sanity: randomisation with a fake method whose map is the model's fc weights */

static gboolean weights_as_map(gpointer data, PvxModel *model, const PvxTensor *images,
                               const int64_t *targets, PvxTensor **maps_out, GError **error)
{
    (void)targets;
    (void)error;
    gboolean constant = GPOINTER_TO_INT(data);
    PvxLayer *l = pvx_model_find_layer(model, "fc", NULL);
    int64_t n = images->shape[0];
    PvxTensor *maps = pvx_tensor_new_shape(3, n, 4, 4);
    for (int64_t i = 0; i < n; i++)
        memcpy(maps->data + i * 16, constant ? lin_w : l->weight->data, sizeof(float) * 16);
    *maps_out = maps;
    return TRUE;
}

static void randomisation_separates_a_method_that_ignores_the_model(void)
{
    g_autoptr(PvxModel) m = linear_model(lin_w);
    g_autoptr(PvxTensor) x = pvx_tensor_new_shape(4, 2, 1, 4, 4);
    g_autoptr(PvxTensor) maps = pvx_tensor_new_shape(3, 2, 4, 4);
    memcpy(maps->data, lin_w, sizeof lin_w);
    memcpy(maps->data + 16, lin_w, sizeof lin_w);
    int64_t targets[2] = {0, 1};
    PvxMetricInput in = {.size = sizeof in,
                         .n = 2,
                         .num_classes = 2,
                         .maps = maps,
                         .images = x,
                         .targets = targets,
                         .model = m,
                         .explain = weights_as_map,
                         .explain_data = GINT_TO_POINTER(1),
                         .seed = 11};
    g_autoptr(GError) error = NULL;
    /* a method that ignores the model keeps its map: Spearman and SSIM 1 (it fails the check) */
    g_autoptr(PvxMetricResult) same = run_metric("randomisation", NULL, &in, &error);
    g_assert_no_error(error);
    g_assert_cmpfloat_with_epsilon(values(same, "spearman", 2)[0], 1.0, 1e-12);
    g_assert_cmpfloat_with_epsilon(values(same, "ssim", 2)[1], 1.0, 1e-12);
    /* a method that reads the weights changes with them, and the weights come back */
    in.explain_data = GINT_TO_POINTER(0);
    g_autoptr(PvxMetricResult) moved = run_metric("randomisation", NULL, &in, &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(fabs(values(moved, "spearman", 2)[0]), <, 0.9);
    g_assert_cmpfloat(values(moved, "ssim", 2)[0], <, 0.9);
    int64_t rows, cols;
    g_assert_nonnull(pvx_metric_result_get_matrix(moved, "ssim_layers", &rows, &cols));
    g_assert_cmpint(cols, ==, 1);
    PvxLayer *l = pvx_model_find_layer(m, "fc", NULL);
    g_assert_cmpmem(l->weight->data, sizeof lin_w, lin_w, sizeof lin_w);
    /* no way to re-run the method: refused, naming what is missing */
    in.explain = NULL;
    g_autoptr(GError) e2 = NULL;
    g_autoptr(PvxMetricResult) none = run_metric("randomisation", NULL, &in, &e2);
    g_assert_null(none);
    g_assert_nonnull(strstr(e2->message, "re-run"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    registry = pvx_registry_new();
    g_autoptr(GError) error = NULL;
    if (!pvx_registry_scan_dir(registry, PVX_TEST_BUILD_ROOT "/plugins/metrics", NULL, &error))
        g_error("%s", error->message);
    g_test_add_func("/xai-metrics/localisation_map_equal_to_mask_is_perfect",
                    localisation_map_equal_to_mask_is_perfect);
    g_test_add_func("/xai-metrics/localisation_known_partial_answers",
                    localisation_known_partial_answers);
    g_test_add_func("/xai-metrics/deletion_reversed_order_gives_the_worst_curve",
                    deletion_reversed_order_gives_the_worst_curve);
    g_test_add_func("/xai-metrics/insertion_good_order_beats_reverse",
                    insertion_good_order_beats_reverse);
    g_test_add_func("/xai-metrics/average_drop_matches_the_formula",
                    average_drop_matches_the_formula);
    g_test_add_func("/xai-metrics/cr_similarity_known_values", cr_similarity_known_values);
    g_test_add_func("/xai-metrics/complexity_known_values", complexity_known_values);
    g_test_add_func("/xai-metrics/randomisation_separates_a_method_that_ignores_the_model",
                    randomisation_separates_a_method_that_ignores_the_model);
    int rc = g_test_run();
    pvx_registry_free(registry);
    return rc;
}
