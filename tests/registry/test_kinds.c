/* Test-only plugins of the model, pruner, explainer and metric kinds (the dataset kind is
 * test_plugin.c), compiled once complete and once with the kind's required slot left out
 * (-DMISSING_SLOT): the loader must load the first and refuse the second, naming the slot.
 * Choose the kind with -DKIND_MODEL, -DKIND_PRUNER, -DKIND_EXPLAINER or -DKIND_METRIC. The model
 * is also built misbehaving: -DBUILD_SILENT (NULL, no error), -DBUILD_MODEL_AND_ERROR (both). */
#include <pvx/pvx.h>

#if defined(KIND_MODEL)
G_GNUC_UNUSED static PvxModel *t_build(const PvxParams *params, const int64_t input_chw[3],
                                       int num_classes, GError **error)
{
    (void)params, (void)error;
#ifdef BUILD_SILENT
    /* fails without saying why */
    (void)input_chw, (void)num_classes;
    return NULL;
#else
    PvxModel *m = pvx_model_new("test");
    pvx_model_add_flatten(m, "flatten");
    pvx_model_add_linear(m, "fc", input_chw[0] * input_chw[1] * input_chw[2], num_classes, TRUE);
#ifdef BUILD_MODEL_AND_ERROR
    /* a model and an error: the core must not take the model */
    g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "half-built");
#endif
    return m;
#endif
}

static const PvxModelClass klass = {
    .size = sizeof klass,
#ifndef MISSING_SLOT
    .build = t_build,
#endif
};
#define KIND PVX_KIND_MODEL
#define NAME "test-model"

#elif defined(KIND_PRUNER)
G_GNUC_UNUSED static gboolean t_score(gpointer self, const PvxPruneContext *ctx, PvxTensor **scores,
                                      GError **error)
{
    (void)self, (void)ctx, (void)scores, (void)error;
    return TRUE;
}

static const PvxPrunerClass klass = {
    .size = sizeof klass,
#ifndef MISSING_SLOT
    .score = t_score,
#endif
};
#define KIND PVX_KIND_PRUNER
#define NAME "test-pruner"

#elif defined(KIND_EXPLAINER)
G_GNUC_UNUSED static gboolean t_explain(gpointer self, const PvxExplainRequest *req,
                                        PvxTensor **maps_out, GError **error)
{
    (void)self, (void)req, (void)maps_out;
    g_set_error(error, PVX_ERROR, PVX_ERROR_FAILED, "not meant to run");
    return FALSE;
}

static const PvxExplainerClass klass = {
    .size = sizeof klass,
#ifndef MISSING_SLOT
    .explain = t_explain,
#endif
};
#define KIND PVX_KIND_EXPLAINER
#define NAME "test-explainer"

#elif defined(KIND_METRIC)
G_GNUC_UNUSED static gboolean t_compute(gpointer self, const PvxMetricInput *in,
                                        PvxMetricResult *out, GError **error)
{
    (void)self, (void)error;
    pvx_metric_result_add_scalar(out, "items", (double)in->n);
    return TRUE;
}

static const PvxMetricClass klass = {
    .size = sizeof klass,
#ifndef MISSING_SLOT
    .compute = t_compute,
#endif
};
#define KIND PVX_KIND_METRIC
#define NAME "test-metric"
#endif

PVX_PLUGIN_DEFINE(KIND, NAME, "1.0.0", "a stateless plugin for loader tests", NULL, &klass)
