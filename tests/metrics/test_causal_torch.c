/* Deletion and insertion of Grad-CAM against PyTorch: tests/metrics/causal_reference.py (argv[1]
 * = python3, argv[2] = the script) writes a fitted vgg-mini, three images, their predicted
 * classes, Grad-CAM by autograd and the RISE curves and AUCs computed in float64 with torch. pvx
 * explains the same images with its gradcam plugin and scores them with its deletion and
 * insertion plugins; every AUC must agree within 1e-3 (and every curve point within 1e-3). */
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>

#include "pvx-private/core.h"

static char *ref_dir;
static PvxRegistry *registry;

static void check(const char *metric, const char *const *pairs)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = g_build_filename(ref_dir, "causal.h5", NULL);
    g_autoptr(PvxStore) s = pvx_store_open(path, FALSE, &error);
    g_assert_no_error(error);
    const PvxPlugin *vgg = pvx_registry_lookup(registry, PVX_KIND_MODEL, "vgg", &error);
    g_assert_no_error(error);
    const char *mp[] = {"arch=vgg-mini", NULL};
    g_autoptr(PvxParams) vp = pvx_params_new_from_pairs(vgg->params, "model vgg", mp, &error);
    g_autoptr(PvxModel) m = pvx_model_build(vgg, vp, (int64_t[]){3, 32, 32}, 10, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_model_load_weights(m, s, "/weights", &error));
    g_autoptr(PvxTensor) x = pvx_store_read_tensor(s, "/input", &error);
    g_assert_no_error(error);
    int nd;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    g_autofree int64_t *want_t = pvx_store_read_i64(s, "/targets", &nd, shape, &error);
    g_assert_no_error(error);
    g_autoptr(PvxExplainer) ex = pvx_explainer_open_by_name(registry, "gradcam", NULL, &error);
    g_assert_no_error(error);
    PvxExplainOptions o = {.mode = PVX_TARGET_PREDICTED};
    g_autofree int64_t *targets = NULL;
    g_autoptr(PvxTensor) maps = pvx_explain(ex, m, x, &o, NULL, &targets, &error);
    g_assert_no_error(error);
    for (int i = 0; i < 3; i++)
        g_assert_cmpint(targets[i], ==, want_t[i]);
    const PvxPlugin *pl = pvx_registry_lookup(registry, PVX_KIND_METRIC, metric, &error);
    g_assert_no_error(error);
    g_autofree char *owner = g_strdup_printf("metric %s", metric);
    g_autoptr(PvxParams) params = pvx_params_new_from_pairs(pl->params, owner, pairs, &error);
    g_assert_no_error(error);
    PvxMetricInput in = {.size = sizeof in,
                         .n = 3,
                         .num_classes = 10,
                         .maps = maps,
                         .images = x,
                         .targets = targets,
                         .model = m,
                         .batch_size = 8};
    g_autoptr(PvxMetricResult) r = pvx_metric_run(pl, params, &in, &error);
    g_assert_no_error(error);
    g_autofree char *ap = g_strdup_printf("/%s/auc", metric);
    g_autofree char *cp = g_strdup_printf("/%s/curve", metric);
    g_autofree double *want = pvx_store_read_f64(s, ap, &nd, shape, &error);
    g_assert_no_error(error);
    g_autofree double *want_curve = pvx_store_read_f64(s, cp, &nd, shape, &error);
    g_assert_no_error(error);
    int64_t rows, cols;
    const double *auc = pvx_metric_result_get_matrix(r, "auc", &rows, NULL);
    const double *curve = pvx_metric_result_get_matrix(r, "curve", &rows, &cols);
    g_assert_cmpint(cols, ==, shape[1]);
    double worst = 0, worst_curve = 0;
    for (int i = 0; i < 3; i++) {
        worst = fmax(worst, fabs(auc[i] - want[i]));
        for (int64_t k = 0; k < cols; k++)
            worst_curve = fmax(worst_curve, fabs(curve[i * cols + k] - want_curve[i * cols + k]));
        printf("# %s item %d: pvx %.6f torch %.6f\n", metric, i, auc[i], want[i]);
    }
    printf("# %s: max |AUC difference| %.2e, max |curve difference| %.2e\n", metric, worst,
           worst_curve);
    g_assert_cmpfloat(worst, <=, 1e-3);
    g_assert_cmpfloat(worst_curve, <=, 1e-3);
}

static void deletion_of_gradcam_matches_torch(void)
{
    const char *pairs[] = {"step=0.05", "baseline=0", NULL};
    check("deletion", pairs);
}

static void insertion_of_gradcam_matches_torch(void)
{
    const char *pairs[] = {"step=0.05", "blur_size=11", "blur_sigma=5", NULL};
    check("insertion", pairs);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc < 3)
        g_error("usage: %s PYTHON3 causal_reference.py", argv[0]);
    ref_dir = g_dir_make_tmp("pvx-causal-ref-XXXXXX", NULL);
    const char *child[] = {argv[1], argv[2], ref_dir, NULL};
    g_autoptr(GError) error = NULL;
    g_autofree char *err_text = NULL;
    g_autofree char *out_text = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)child, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out_text, &err_text,
                      &status, &error) ||
        !g_spawn_check_wait_status(status, &error))
        g_error("causal_reference.py failed: %s\n%s", error->message, err_text ? err_text : "");
    registry = pvx_registry_new();
    g_autoptr(GPtrArray) failures = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    if (!pvx_registry_scan_dir(registry, PVX_TEST_BUILD_ROOT "/plugins", failures, &error))
        g_error("cannot scan plugins: %s", error->message);
    g_test_add_func("/causal-torch/deletion_of_gradcam_matches_torch",
                    deletion_of_gradcam_matches_torch);
    g_test_add_func("/causal-torch/insertion_of_gradcam_matches_torch",
                    insertion_of_gradcam_matches_torch);
    int rc = g_test_run();
    pvx_registry_free(registry);
    g_autofree char *h5 = g_build_filename(ref_dir, "causal.h5", NULL);
    g_remove(h5);
    g_rmdir(ref_dir);
    return rc;
}
