/* average-drop — Average Drop and Increase in Confidence (Chattopadhyay et al., Grad-CAM++,
 * WACV 2018; frgfm/torch-cam's ClassificationMetric).
 *
 * The explanation keeps only the explained region: x̃ = b + E ⊙ (x − b), with E the map as a
 * person sees it (pvx_metric_map_pixels, values in [0, 1), the same on every channel) and b the
 * `baseline` in the model's input space (0: the normalised tensor's zeros, the dataset's mean
 * colour). With Y the softmax probability of the explained class on x and O on x̃:
 *   drop      max(0, Y − O) / Y   per item (the paper's Average Drop is its mean, in %)
 *   increase  1 when O > Y, else 0 (Increase in Confidence is its mean)
 * Lower drop and higher increase are better.
 */
#include "../xai_metric.h"

static const PvxParamSpec drop_params[] = {
    {"baseline", PVX_PARAM_DOUBLE, "0", 0, 0, 0, NULL,
     "what the explanation's zero relevance fades to, in the model's input space"},
    PVX_PARAM_SPEC_END,
};

static gpointer drop_open(const PvxParams *params, GError **error)
{
    (void)error;
    double *b = g_new(double, 1);
    *b = pvx_params_get_double(params, "baseline");
    return b;
}

static void drop_close(gpointer self)
{
    g_free(self);
}

static gboolean drop_compute(gpointer self, const PvxMetricInput *in, PvxMetricResult *out,
                             GError **error)
{
    double base = *(double *)self;
    if (!xai_input_is_new(in, error))
        return FALSE;
    int64_t n = in->n, c = in->images->shape[1], h = in->images->shape[2], w = in->images->shape[3],
            hw = h * w, item = c * hw;
    g_autoptr(PvxTensor) kept = pvx_tensor_new_like(in->images);
    for (int64_t i = 0; i < n; i++) {
        g_autoptr(PvxTensor) e = pvx_metric_map_pixels(in->maps, i, h, w);
        const float *x = in->images->data + i * item;
        float *y = kept->data + i * item;
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t p = 0; p < hw; p++)
                y[ch * hw + p] = (float)(base + e->data[p] * (x[ch * hw + p] - base));
    }
    g_autofree double *py = g_new(double, n);
    g_autofree double *po = g_new(double, n);
    if (!pvx_metric_target_probs(in->model, in->images, in->targets, xai_batch_size(in), py,
                                 error) ||
        !pvx_metric_target_probs(in->model, kept, in->targets, xai_batch_size(in), po, error))
        return FALSE;
    g_autofree double *drop = g_new(double, n);
    g_autofree double *inc = g_new(double, n);
    for (int64_t i = 0; i < n; i++) {
        drop[i] = py[i] > 0 ? fmax(0.0, py[i] - po[i]) / py[i] : NAN;
        inc[i] = po[i] > py[i] ? 1.0 : 0.0;
    }
    pvx_metric_result_add_values(out, "drop", n, drop);
    pvx_metric_result_add_values(out, "increase", n, inc);
    return TRUE;
}

static const PvxMetricClass drop_class = {
    .size = sizeof(PvxMetricClass),
    .needs = PVX_METRIC_NEEDS_MAPS | PVX_METRIC_NEEDS_MODEL | PVX_METRIC_NEEDS_IMAGES |
             PVX_METRIC_NEEDS_TARGETS,
    .open = drop_open,
    .close = drop_close,
    .compute = drop_compute,
};

PVX_PLUGIN_DEFINE(PVX_KIND_METRIC, "average-drop", "1.0.0",
                  "Average Drop and Increase in Confidence when only the explained region is kept",
                  drop_params, &drop_class)
