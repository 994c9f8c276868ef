/* Tests of the accuracy metric plugin on hand-built predictions with known answers. */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "pvx-private/core.h"

static PvxRegistry *registry;
static const PvxPlugin *plugin;

static PvxMetricResult *run(const float *logits, const int64_t *labels, int64_t n, int c,
                            const char *const *pairs, GError **error)
{
    int64_t shape[2] = {n, c};
    g_autoptr(PvxTensor) t = pvx_tensor_new_from_data(2, shape, logits);
    g_autoptr(PvxParams) params =
        pvx_params_new_from_pairs(plugin->params, "metric accuracy", pairs, NULL);
    PvxMetricInput in = {
        .size = sizeof in, .n = n, .num_classes = c, .logits = t, .labels = labels};
    return pvx_metric_run(plugin, params, &in, error);
}

static void accuracy_known_predictions_give_known_numbers(void)
{
    /* 5 items, 3 classes. Predictions: 0, 2, 1, 2, 0; labels 0, 1, 1, 2, 2. */
    const float logits[] = {
        3, 1, 2, /* true 0, ranked 0 2 1: top1 hit */
        0, 1, 2, /* true 1, ranked 2 1 0: top2 hit */
        1, 5, 0, /* true 1: top1 hit */
        0, 0, 9, /* true 2: top1 hit */
        4, 3, 2, /* true 2, ranked last: miss at top2 */
    };
    const int64_t labels[] = {0, 1, 1, 2, 2};
    const char *pairs[] = {"topk=[1,2,5]", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxMetricResult) r = run(logits, labels, 5, 3, pairs, &error);
    g_assert_no_error(error);
    double v;
    g_assert_true(pvx_metric_result_get_scalar(r, "top1", &v));
    g_assert_cmpfloat(v, ==, 3.0 / 5);
    g_assert_true(pvx_metric_result_get_scalar(r, "top2", &v));
    g_assert_cmpfloat(v, ==, 4.0 / 5);
    /* k = 5 exceeds the 3 classes: not reported rather than trivially 1. */
    g_assert_false(pvx_metric_result_get_scalar(r, "top5", &v));
    int64_t rows, cols;
    const double *conf = pvx_metric_result_get_matrix(r, "confusion", &rows, &cols);
    g_assert_cmpint(rows, ==, 3);
    g_assert_cmpint(cols, ==, 3);
    const double expect[] = {1, 0, 0, /**/ 0, 1, 1, /**/ 1, 0, 1};
    for (int i = 0; i < 9; i++)
        g_assert_cmpfloat(conf[i], ==, expect[i]);
    const double *per_class = pvx_metric_result_get_matrix(r, "per_class", &rows, &cols);
    g_assert_cmpfloat(per_class[0], ==, 1.0);
    g_assert_cmpfloat(per_class[1], ==, 0.5);
    g_assert_cmpfloat(per_class[2], ==, 0.5);
    g_assert_true(pvx_metric_result_get_scalar(r, "balanced", &v));
    g_assert_cmpfloat_with_epsilon(v, 2.0 / 3, 1e-12);
    g_assert_true(pvx_metric_result_is_per_item(r, "correct"));
    const double *correct = pvx_metric_result_get_matrix(r, "correct", &rows, NULL);
    g_assert_cmpint(rows, ==, 5);
    g_assert_cmpfloat(correct[1], ==, 0.0);
    g_assert_cmpfloat(correct[3], ==, 1.0);
}

static void accuracy_ties_rank_lower_index_first(void)
{
    /* Equal logits: torch.argmax picks class 0, so label 0 is a hit and label 1 is not. */
    const float logits[] = {1, 1, 0, 1, 1, 0};
    const int64_t labels[] = {0, 1};
    const char *pairs[] = {"topk=[1,2]", NULL};
    g_autoptr(PvxMetricResult) r = run(logits, labels, 2, 3, pairs, NULL);
    double v;
    g_assert_true(pvx_metric_result_get_scalar(r, "top1", &v));
    g_assert_cmpfloat(v, ==, 0.5);
    g_assert_true(pvx_metric_result_get_scalar(r, "top2", &v));
    g_assert_cmpfloat(v, ==, 1.0);
}

static void accuracy_missing_logits_is_refused_naming_input(void)
{
    const int64_t labels[] = {0};
    g_autoptr(PvxParams) params = pvx_params_new_defaults(plugin->params, "metric accuracy", NULL);
    PvxMetricInput in = {.size = sizeof in, .n = 1, .num_classes = 2, .labels = labels};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxMetricResult) r = pvx_metric_run(plugin, params, &in, &error);
    g_assert_null(r);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "metric accuracy needs predictions"));
}

static void accuracy_label_out_of_range_is_refused(void)
{
    const float logits[] = {1, 0};
    const int64_t labels[] = {2};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxMetricResult) r = run(logits, labels, 1, 2, NULL, &error);
    g_assert_null(r);
    g_assert_nonnull(strstr(error->message, "label 2 of item 0"));
}

static void accuracy_result_lands_in_store(void)
{
    const float logits[] = {2, 1, 0, 3};
    const int64_t labels[] = {0, 0};
    g_autoptr(PvxMetricResult) r = run(logits, labels, 2, 2, NULL, NULL);
    g_autofree char *dir = g_dir_make_tmp("pvx-acc-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "r.h5", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = pvx_store_create(path, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_store_begin(store, &error));
    g_assert_true(pvx_metric_result_write(r, store, "/models/cr1/eval/test", &error));
    g_assert_true(pvx_store_commit(store, &error));
    double top1 = 0;
    g_assert_true(pvx_store_get_attr_double(store, "/models/cr1/eval/test", "top1", &top1, &error));
    g_assert_cmpfloat(top1, ==, 0.5);
    int ndim;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    g_autofree double *conf =
        pvx_store_read_f64(store, "/models/cr1/eval/test/confusion", &ndim, shape, &error);
    g_assert_no_error(error);
    g_assert_cmpint(ndim, ==, 2);
    g_assert_cmpfloat(conf[0 * 2 + 1], ==, 1.0);
    g_clear_pointer(&store, pvx_store_close);
    g_remove(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    registry = pvx_registry_new();
    g_autoptr(GError) error = NULL;
    if (!pvx_registry_load_file(registry, PVX_ACCURACY_PLUGIN, &error))
        g_error("%s", error->message);
    plugin = pvx_registry_find(registry, PVX_KIND_METRIC, "accuracy");
    g_test_add_func("/accuracy/known_predictions_give_known_numbers",
                    accuracy_known_predictions_give_known_numbers);
    g_test_add_func("/accuracy/ties_rank_lower_index_first", accuracy_ties_rank_lower_index_first);
    g_test_add_func("/accuracy/missing_logits_is_refused_naming_input",
                    accuracy_missing_logits_is_refused_naming_input);
    g_test_add_func("/accuracy/label_out_of_range_is_refused",
                    accuracy_label_out_of_range_is_refused);
    g_test_add_func("/accuracy/result_lands_in_store", accuracy_result_lands_in_store);
    int rc = g_test_run();
    pvx_registry_free(registry);
    return rc;
}
