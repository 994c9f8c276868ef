/* cr-similarity — how pruning changes an explanation: each image's map at compression rate k
 * against the same method's map of the same image at CR 1 (the unpruned model), both as a person
 * sees them (pvx_metric_map_pixels, at the image size):
 *   spearman  Spearman's rank correlation (NaN when a map is constant)
 *   ssim      structural similarity (pvx_metric_ssim: scikit-image's defaults, data range 1)
 *   iou_top   IoU of the round(`fraction` · H·W) most relevant pixels of the two maps
 * At CR 1 the maps are their own reference: 1, 1, 1.
 */
#include "../xai_metric.h"

static const PvxParamSpec sim_params[] = {
    {"fraction", PVX_PARAM_DOUBLE, "0.1", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1e-6, 1, NULL,
     "share of the most relevant pixels compared by iou_top"},
    PVX_PARAM_SPEC_END,
};

static gpointer sim_open(const PvxParams *params, GError **error)
{
    (void)error;
    double *f = g_new(double, 1);
    *f = pvx_params_get_double(params, "fraction");
    return f;
}

static void sim_close(gpointer self)
{
    g_free(self);
}

static gboolean sim_compute(gpointer self, const PvxMetricInput *in, PvxMetricResult *out,
                            GError **error)
{
    double fraction = *(double *)self;
    if (!xai_input_is_new(in, error))
        return FALSE;
    int64_t n = in->n, h, w;
    xai_pixel_size(in, &h, &w);
    g_autofree double *sp = g_new(double, n);
    g_autofree double *ss = g_new(double, n);
    g_autofree double *iou = g_new(double, n);
    for (int64_t i = 0; i < n; i++) {
        g_autoptr(PvxTensor) a = pvx_metric_map_pixels(in->maps, i, h, w);
        g_autoptr(PvxTensor) b = pvx_metric_map_pixels(in->reference_maps, i, h, w);
        sp[i] = pvx_metric_spearman(a->data, b->data, h * w);
        ss[i] = pvx_metric_ssim(a->data, b->data, h, w, 1.0);
        g_autofree uint8_t *ta = pvx_metric_top_fraction(a->data, h * w, fraction);
        g_autofree uint8_t *tb = pvx_metric_top_fraction(b->data, h * w, fraction);
        iou[i] = pvx_metric_iou(ta, tb, h * w);
    }
    pvx_metric_result_add_values(out, "spearman", n, sp);
    pvx_metric_result_add_values(out, "ssim", n, ss);
    pvx_metric_result_add_values(out, "iou_top", n, iou);
    return TRUE;
}

static const PvxMetricClass sim_class = {
    .size = sizeof(PvxMetricClass),
    .needs = PVX_METRIC_NEEDS_MAPS | PVX_METRIC_NEEDS_REFERENCE_MAPS,
    .open = sim_open,
    .close = sim_close,
    .compute = sim_compute,
};

PVX_PLUGIN_DEFINE(PVX_KIND_METRIC, "cr-similarity", "1.0.0",
                  "similarity of each map to the unpruned (CR 1) model's map: Spearman, SSIM, "
                  "top-k IoU",
                  sim_params, &sim_class)
