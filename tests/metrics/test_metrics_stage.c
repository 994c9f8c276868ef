/* The metrics stage on a real run: kandinsky images with masks, vgg-mini weights for CR 1 and
 * CR 2 in the run's store, Grad-CAM maps from the explain stage, every explanation metric;
 * per-item values, summaries, paired tests and the table where docs/metrics.md says. And the
 * refusal of a localisation metric on a dataset without masks, before any work. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvx-private/core.h"

static char *out_dir;
static PvxRegistry *registry;

static const char *config_text =
    "name: metrics-test\n"
    "output: %s\n"
    "seed: 3\n"
    "dataset:\n"
    "  plugin: kandinsky\n"
    "  params: {size: 32, classes: 2, train_size: 0, val_size: 0, test_size: 16}\n"
    "model:\n"
    "  plugin: vgg\n"
    "  params: {arch: vgg-mini}\n"
    "explain:\n"
    "  selection: per_class\n"
    "  per_class: 3\n"
    "  pngs: false\n"
    "  methods:\n"
    "    - plugin: gradcam\n"
    "metrics:\n"
    "  bootstrap: 200\n"
    "  batch_size: 16\n"
    "  compute:\n"
    "    - plugin: deletion\n"
    "      params: {step: 0.1}\n"
    "    - plugin: insertion\n"
    "      params: {step: 0.1}\n"
    "    - plugin: average-drop\n"
    "    - plugin: pointing-game\n"
    "      params: {tolerance: 1}\n"
    "    - plugin: energy-pointing-game\n"
    "    - plugin: topk-iou\n"
    "    - plugin: rank-accuracy\n"
    "    - plugin: randomisation\n"
    "      params: {depth: 3}\n"
    "    - plugin: cr-similarity\n"
    "    - plugin: complexity\n";

typedef struct {
    PvxConfig *cfg;
    PvxRun *run;
    PvxDataset *ds;
    PvxModel *model;
} Fixture;

static void fixture_open(Fixture *f, const char *run_id)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = g_strdup_printf(config_text, out_dir);
    f->cfg = pvx_config_load_string(text, "exp.yaml", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_config_validate(f->cfg, registry, NULL, &error));
    g_assert_no_error(error);
    f->run = pvx_run_create(f->cfg, registry, run_id, &error);
    g_assert_no_error(error);
    const PvxParams *dp = NULL;
    const PvxPlugin *dpl = pvx_config_plugin(f->cfg, "dataset", 0, &dp);
    f->ds = pvx_dataset_open(dpl, dp, &error);
    g_assert_no_error(error);
    f->model = pvx_stage_build_model(f->run, registry, f->ds, &error);
    g_assert_no_error(error);
    /* CR 1: seed 0; CR 2: the same weights with every other weight of features.10 pruned */
    g_assert_true(pvx_run_stage_begin(f->run, "fake-train", &error));
    PvxStore *s = pvx_run_store(f->run);
    g_assert_true(pvx_model_save_weights(f->model, s, "/models/cr1/weights", &error));
    PvxLayer *l = pvx_model_find_layer(f->model, "features.10", &error);
    g_assert_no_error(error);
    g_autoptr(PvxTensor) mask = pvx_tensor_new_like(l->weight);
    for (int64_t i = 0; i < pvx_tensor_numel(mask); i++)
        mask->data[i] = (float)(i % 2);
    g_assert_true(pvx_model_set_mask(f->model, "features.10", mask, &error));
    g_assert_true(pvx_model_save_weights(f->model, s, "/models/cr2/weights", &error));
    g_assert_true(pvx_model_save_masks(f->model, s, "/models/cr2/masks", &error));
    g_assert_true(pvx_model_set_mask(f->model, "features.10", NULL, &error));
    g_assert_true(pvx_run_stage_end(f->run, &error));
    g_assert_no_error(error);
}

static void fixture_close(Fixture *f)
{
    pvx_model_free(f->model);
    pvx_dataset_close(f->ds);
    pvx_run_free(f->run);
    pvx_config_free(f->cfg);
}

/* The stage prints its table on stdout, which carries TAP: run it with stdout on a file. */
static gboolean quiet_stage_metrics(Fixture *f, const int *crs, int n, GError **error)
{
    fflush(stdout);
    int saved = dup(1);
    g_autofree char *path = g_build_filename(out_dir, "stdout.txt", NULL);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    g_assert_cmpint(fd, >=, 0);
    dup2(fd, 1);
    close(fd);
    gboolean ok = pvx_stage_metrics(f->run, registry, f->ds, f->model, crs, n, error);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    return ok;
}

static double *read_f64(PvxStore *s, const char *path, int64_t *n)
{
    g_autoptr(GError) error = NULL;
    int nd;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    double *v = pvx_store_read_f64(s, path, &nd, shape, &error);
    g_assert_no_error(error);
    *n = shape[0];
    return v;
}

static double attr(PvxStore *s, const char *path, const char *name)
{
    g_autoptr(GError) error = NULL;
    double v = NAN;
    g_assert_true(pvx_store_get_attr_double(s, path, name, &v, &error));
    g_assert_no_error(error);
    return v;
}

static void stage_writes_values_summaries_tests_and_table(void)
{
    Fixture f;
    fixture_open(&f, "stage");
    g_autoptr(GError) error = NULL;
    const int crs[] = {1, 2};
    g_assert_true(pvx_stage_explain(f.run, registry, f.ds, f.model, crs, 2, &error));
    g_assert_no_error(error);
    /* after pruning, the model holds the last CR's masks: the stage must not carry them over */
    {
        PvxLayer *l = pvx_model_find_layer(f.model, "features.0", &error);
        g_autoptr(PvxTensor) mask = pvx_tensor_new_like(l->weight);
        g_assert_true(pvx_model_set_mask(f.model, "features.0", mask, &error));
    }
    gint64 t0 = g_get_monotonic_time();
    g_assert_true(quiet_stage_metrics(&f, crs, 2, &error));
    g_assert_no_error(error);
    double elapsed = (double)(g_get_monotonic_time() - t0) / 1e6;
    PvxStore *s = pvx_run_store(f.run);
    /* the stage record counts the computing, not only the writing that follows it (which once
     * recorded 0.0 s for 11 s of work). What runs after the record closes (freeing the results
     * and explainers, the printed table) is not in it: a few percent of the call in a plain
     * build, measured at a quarter under the sanitizers on a busy machine — hence half. */
    double recorded = attr(s, "/stages/metrics", "seconds");
    g_test_message("metrics stage: %.3f s recorded, %.3f s elapsed", recorded, elapsed);
    g_assert_cmpfloat(recorded, >=, 0.5 * elapsed - 0.01);
    /* per-item values and their summary */
    int64_t n = 0;
    g_autofree double *auc = read_f64(s, "/metrics/deletion/gradcam/cr2/auc", &n);
    g_assert_cmpint(n, ==, 6); /* 2 classes × 3 */
    double mean = 0;
    for (int64_t i = 0; i < n; i++) {
        g_assert_cmpfloat(auc[i], >=, 0.0);
        g_assert_cmpfloat(auc[i], <=, 1.0);
        mean += auc[i] / (double)n;
    }
    const char *p = "/metrics/deletion/gradcam/cr2/auc";
    g_assert_cmpfloat_with_epsilon(attr(s, p, "mean"), mean, 1e-12);
    g_assert_cmpfloat(attr(s, p, "ci_low"), <=, mean);
    g_assert_cmpfloat(attr(s, p, "ci_high"), >=, mean);
    g_assert_true(attr(s, p, "std") >= 0);
    double pval = attr(s, p, "wilcoxon_p");
    g_assert_true(pval >= 0 && pval <= 1);
    /* CR 1 is the reference: no test there, and its maps are their own reference */
    double none = 0;
    g_assert_false(pvx_store_get_attr_double(s, "/metrics/deletion/gradcam/cr1/auc", "wilcoxon_p",
                                             &none, NULL));
    g_autofree double *ss = read_f64(s, "/metrics/cr-similarity/gradcam/cr1/ssim", &n);
    for (int64_t i = 0; i < n; i++)
        g_assert_cmpfloat_with_epsilon(ss[i], 1.0, 1e-9);
    /* a matrix result: the deletion curves, 11 points for step 0.1 */
    int nd;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    g_autofree double *curve =
        pvx_store_read_f64(s, "/metrics/deletion/gradcam/cr1/curve", &nd, shape, &error);
    g_assert_no_error(error);
    g_assert_cmpint(nd, ==, 2);
    g_assert_cmpint(shape[1], ==, 11);
    /* every metric's results exist for both CRs */
    const char *paths[] = {"insertion/gradcam/cr2/auc",
                           "average-drop/gradcam/cr2/drop",
                           "average-drop/gradcam/cr1/increase",
                           "pointing-game/gradcam/cr1/hit",
                           "energy-pointing-game/gradcam/cr2/energy",
                           "topk-iou/gradcam/cr1/iou",
                           "rank-accuracy/gradcam/cr2/rank_accuracy",
                           "randomisation/gradcam/cr1/spearman",
                           "randomisation/gradcam/cr2/ssim_layers",
                           "cr-similarity/gradcam/cr2/iou_top",
                           "complexity/gradcam/cr2/gini"};
    for (gsize i = 0; i < G_N_ELEMENTS(paths); i++) {
        g_autofree char *full = g_strconcat("/metrics/", paths[i], NULL);
        g_assert_true(pvx_store_exists(s, full));
    }
    /* the randomisation metric gave the model back: CR 2's weights are what it holds */
    g_autoptr(PvxModel) m2 = pvx_stage_build_model(f.run, registry, f.ds, &error);
    g_assert_true(pvx_model_load_weights(m2, s, "/models/cr2/weights", &error));
    const char *layer = "classifier.6";
    PvxLayer *a = pvx_model_find_layer(f.model, layer, NULL),
             *b = pvx_model_find_layer(m2, layer, NULL);
    g_assert_cmpmem(a->weight->data, pvx_tensor_numel(a->weight) * sizeof(float), b->weight->data,
                    pvx_tensor_numel(b->weight) * sizeof(float));
    /* the CR 1 values are those of the CR 1 model: the average drop again, by hand */
    {
        g_autoptr(PvxModel) m1 = pvx_stage_build_model(f.run, registry, f.ds, &error);
        g_assert_true(pvx_model_load_weights(m1, s, "/models/cr1/weights", &error));
        g_autofree int64_t *index =
            pvx_store_read_i64(s, "/dataset/explain/index", &nd, shape, &error);
        g_autofree int64_t *targets =
            pvx_store_read_i64(s, "/maps/gradcam/cr1/target", &nd, shape, &error);
        g_autoptr(PvxTensor) maps = pvx_store_read_tensor(s, "/maps/gradcam/cr1/raw", &error);
        g_autoptr(PvxTensor) x = pvx_tensor_new_shape(4, 6, 3, 32, 32);
        for (int i = 0; i < 6; i++) {
            PvxDatasetItem it = {0};
            g_assert_true(pvx_dataset_get_item(f.ds, PVX_SPLIT_TEST, index[i], &it, &error));
            memcpy(x->data + i * 3 * 32 * 32, it.image->data, sizeof(float) * 3 * 32 * 32);
            pvx_dataset_item_clear(&it);
        }
        const PvxPlugin *pl = pvx_registry_find(registry, PVX_KIND_METRIC, "average-drop");
        g_autoptr(PvxParams) params = pvx_params_new_defaults(pl->params, "m", &error);
        PvxMetricInput in = {.size = sizeof in,
                             .n = 6,
                             .num_classes = 2,
                             .maps = maps,
                             .images = x,
                             .targets = targets,
                             .model = m1};
        g_autoptr(PvxMetricResult) r = pvx_metric_run(pl, params, &in, &error);
        g_assert_no_error(error);
        const double *want = pvx_metric_result_get_matrix(r, "drop", NULL, NULL);
        int64_t k = 0;
        g_autofree double *got = read_f64(s, "/metrics/average-drop/gradcam/cr1/drop", &k);
        for (int i = 0; i < 6; i++)
            g_assert_cmpfloat_with_epsilon(got[i], want[i], 1e-9);
    }
    /* the table, on stdout and in the run folder */
    g_autofree char *tp = g_build_filename(pvx_run_dir(f.run), "metrics.txt", NULL);
    g_autofree char *table = NULL;
    g_assert_true(g_file_get_contents(tp, &table, NULL, &error));
    g_assert_nonnull(strstr(table, "deletion.auc"));
    g_assert_nonnull(strstr(table, "CR 2"));
    g_assert_true(pvx_run_stage_finished(f.run, "metrics"));
    g_assert_true(quiet_stage_metrics(&f, crs, 2, &error));
    fixture_close(&f);
}

static void stage_without_maps_fails_clearly(void)
{
    Fixture f;
    fixture_open(&f, "no-maps");
    g_autoptr(GError) error = NULL;
    const int crs[] = {1};
    g_assert_false(quiet_stage_metrics(&f, crs, 1, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "explain stage"));
    g_assert_false(pvx_run_stage_finished(f.run, "metrics"));
    fixture_close(&f);
}

static void localisation_on_dataset_without_masks_is_refused_naming_it(void)
{
    if (!g_file_test("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                     G_FILE_TEST_EXISTS)) {
        g_test_skip("Fashion-MNIST (dataset-fashion-mnist) is not installed");
        return;
    }
    const char *text = "name: x\n"
                       "dataset:\n"
                       "  plugin: idx\n"
                       "  params: {root: /usr/share/datasets/fashion-mnist}\n"
                       "metrics:\n"
                       "  compute:\n"
                       "    - plugin: deletion\n"
                       "    - plugin: energy-pointing-game\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxConfig) cfg = pvx_config_load_string(text, "nomask.yaml", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_config_validate(cfg, registry, NULL, &error));
    g_assert_no_error(error);
    const PvxParams *dp = NULL;
    const PvxPlugin *dpl = pvx_config_plugin(cfg, "dataset", 0, &dp);
    g_autoptr(PvxDataset) ds = pvx_dataset_open(dpl, dp, &error);
    g_assert_no_error(error);
    g_assert_false(pvx_metrics_check(cfg, registry, ds, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "dataset idx"));
    g_assert_nonnull(strstr(error->message, "energy-pointing-game"));
    g_assert_nonnull(strstr(error->message, "ground-truth masks"));
    g_assert_nonnull(strstr(error->message, "entry 2"));
}

static void metrics_without_explain_methods_or_with_unknown_method_are_refused(void)
{
    const char *texts[] = {
        "name: x\n"
        "dataset: {plugin: kandinsky, params: {size: 32, train_size: 0, val_size: 0}}\n"
        "metrics:\n"
        "  compute: [{plugin: pointing-game}]\n",
        "name: x\n"
        "dataset: {plugin: kandinsky, params: {size: 32, train_size: 0, val_size: 0}}\n"
        "explain: {methods: [{plugin: gradcam}]}\n"
        "metrics:\n"
        "  methods: [gradcam, saliency]\n"
        "  compute: [{plugin: pointing-game}]\n",
    };
    const char *want[] = {"explain.methods` lists no method",
                          "'saliency', which explain.methods does not list"};
    for (int k = 0; k < 2; k++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(PvxConfig) cfg = pvx_config_load_string(texts[k], "m.yaml", NULL, &error);
        g_assert_no_error(error);
        g_assert_true(pvx_config_validate(cfg, registry, NULL, &error));
        g_assert_no_error(error);
        const PvxParams *dp = NULL;
        const PvxPlugin *dpl = pvx_config_plugin(cfg, "dataset", 0, &dp);
        g_autoptr(PvxDataset) ds = pvx_dataset_open(dpl, dp, &error);
        g_assert_no_error(error);
        g_assert_false(pvx_metrics_check(cfg, registry, ds, &error));
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_assert_nonnull(strstr(error->message, want[k]));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    out_dir = g_dir_make_tmp("pvx-metrics-stage-XXXXXX", NULL);
    registry = pvx_registry_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) failures = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    if (!pvx_registry_scan_dir(registry, PVX_TEST_BUILD_ROOT "/plugins", failures, &error))
        g_error("cannot scan plugins: %s", error->message);
    g_test_add_func("/metrics-stage/writes_values_summaries_tests_and_table",
                    stage_writes_values_summaries_tests_and_table);
    g_test_add_func("/metrics-stage/without_maps_fails_clearly", stage_without_maps_fails_clearly);
    g_test_add_func("/metrics-stage/localisation_on_dataset_without_masks_is_refused_naming_it",
                    localisation_on_dataset_without_masks_is_refused_naming_it);
    g_test_add_func("/metrics-stage/"
                    "metrics_without_explain_methods_or_with_unknown_method_are_refused",
                    metrics_without_explain_methods_or_with_unknown_method_are_refused);
    int rc = g_test_run();
    pvx_registry_free(registry);
    if (g_getenv("PVX_KEEP"))
        return rc;
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", out_dir);
    if (system(cmd) != 0)
        g_warning("could not remove %s", out_dir);
    return rc;
}
