/* Localisation against a ground-truth mask, built four times from this file (LOC_KIND):
 *   pointing-game         (Zhang et al. 2016) hit = 1 when the map's maximum (the first in
 *                         row-major order on ties) lies within `tolerance` pixels (Euclidean) of a
 *                         mask pixel, else 0
 *   energy-pointing-game  (Score-CAM, Wang et al. 2020) Σ(E ⊙ M) / Σ E: the share of the map's
 *                         mass inside the mask (NaN for an all-zero map)
 *   topk-iou              IoU of the round(`fraction` · H·W) most relevant pixels with the mask
 *   rank-accuracy         (Quantus RelevanceRankAccuracy) with K = |M|, the share of the K most
 *                         relevant pixels inside the mask
 * E is the map as a person sees it (pvx_metric_map_pixels: ReLU, min-max, bilinear to the mask's
 * size); M = mask > 0.5. Ties in relevance are broken by the lower row-major index. An item with
 * an empty mask scores NaN (left out of summaries). Higher is better for all four.
 */
#if LOC_KIND == 0
#define LOC_NAME "pointing-game"
#define LOC_RESULT "hit"
#define LOC_DOC "pointing game: the map's maximum falls in the ground-truth mask (with a tolerance)"
#elif LOC_KIND == 1
#define LOC_NAME "energy-pointing-game"
#define LOC_RESULT "energy"
#define LOC_DOC "energy-based pointing game: share of the map's mass inside the ground-truth mask"
#elif LOC_KIND == 2
#define LOC_NAME "topk-iou"
#define LOC_RESULT "iou"
#define LOC_DOC "IoU of the map's top-k % pixels with the ground-truth mask"
#else
#define LOC_NAME "rank-accuracy"
#define LOC_RESULT "rank_accuracy"
#define LOC_DOC "relevance rank accuracy: share of the |mask| most relevant pixels inside the mask"
#endif

#include "../xai_metric.h"

static const PvxParamSpec loc_params[] = {
#if LOC_KIND == 0
    {"tolerance", PVX_PARAM_DOUBLE, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "a maximum this many pixels (Euclidean) from the mask still hits (Zhang et al.: 15 at 224)"},
#elif LOC_KIND == 2
    {"fraction", PVX_PARAM_DOUBLE, "0.1", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1e-6, 1, NULL,
     "share of the pixels taken as the map's region (k %)"},
#endif
    PVX_PARAM_SPEC_END,
};

#if LOC_KIND == 0 || LOC_KIND == 2
/* The one parameter (tolerance, fraction); the energy pointing game and rank accuracy have none
 * and no state. */
static gpointer loc_open(const PvxParams *params, GError **error)
{
    (void)error;
    double *v = g_new0(double, 1);
    *v = pvx_params_get_double(params, LOC_KIND == 0 ? "tolerance" : "fraction");
    return v;
}

static void loc_close(gpointer self)
{
    g_free(self);
}
#endif

static double score(double param, const float *e, const uint8_t *m, int64_t h, int64_t w)
{
    int64_t hw = h * w, area = 0;
    for (int64_t p = 0; p < hw; p++)
        area += m[p];
    if (area == 0)
        return NAN;
#if LOC_KIND == 0
    int64_t best = 0;
    for (int64_t p = 1; p < hw; p++)
        if (e[p] > e[best])
            best = p;
    int64_t br = best / w, bc = best % w, r = (int64_t)floor(param);
    for (int64_t i = MAX(0, br - r); i <= MIN(h - 1, br + r); i++)
        for (int64_t j = MAX(0, bc - r); j <= MIN(w - 1, bc + r); j++)
            if (m[i * w + j] &&
                (double)((i - br) * (i - br) + (j - bc) * (j - bc)) <= param * param)
                return 1.0;
    return 0.0;
#elif LOC_KIND == 1
    (void)param;
    double in = 0, all = 0;
    for (int64_t p = 0; p < hw; p++) {
        all += e[p];
        in += m[p] ? e[p] : 0;
    }
    return all > 0 ? in / all : NAN;
#elif LOC_KIND == 2
    g_autofree uint8_t *top = pvx_metric_top_fraction(e, hw, param);
    return pvx_metric_iou(top, m, hw);
#else
    (void)param;
    g_autofree int64_t *order = pvx_metric_order_desc(e, hw);
    int64_t inside = 0;
    for (int64_t k = 0; k < area; k++)
        inside += m[order[k]];
    return (double)inside / (double)area;
#endif
}

static gboolean loc_compute(gpointer self, const PvxMetricInput *in, PvxMetricResult *out,
                            GError **error)
{
    (void)error;
    double param = self ? *(const double *)self : 0.0;
    int64_t n = in->n, h = in->masks->shape[1], w = in->masks->shape[2];
    g_autofree double *v = g_new(double, n);
    g_autofree uint8_t *m = g_new(uint8_t, h * w);
    for (int64_t i = 0; i < n; i++) {
        g_autoptr(PvxTensor) e = pvx_metric_map_pixels(in->maps, i, h, w);
        for (int64_t p = 0; p < h * w; p++)
            m[p] = in->masks->data[i * h * w + p] > 0.5f;
        v[i] = score(param, e->data, m, h, w);
    }
    pvx_metric_result_add_values(out, LOC_RESULT, n, v);
    return TRUE;
}

static const PvxMetricClass loc_class = {
    .size = sizeof(PvxMetricClass),
    .needs = PVX_METRIC_NEEDS_MAPS | PVX_METRIC_NEEDS_MASKS,
#if LOC_KIND == 0 || LOC_KIND == 2
    .open = loc_open,
    .close = loc_close,
#endif
    .compute = loc_compute,
};

PVX_PLUGIN_DEFINE(PVX_KIND_METRIC, LOC_NAME, "1.0.0", LOC_DOC, loc_params, &loc_class)
