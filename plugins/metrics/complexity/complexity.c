/* complexity — how spread out a map is (Quantus Complexity and Sparseness), on the map as a person
 * sees it (pvx_metric_map_pixels, values ≥ 0, at the image size), with p = E / Σ E:
 *   entropy  −Σ p log p (natural log; 0 for one pixel, log(H·W) for a uniform map). Lower is a
 *            simpler explanation.
 *   gini     Gini index of the sorted values e_(1) ≤ … ≤ e_(n):
 *            Σ_i (2i − n − 1) e_(i) / (n Σ e) (Chalasani et al. 2020): 0 for a uniform map, → 1
 *            for one pixel. Higher is sparser.
 * Both are NaN for an all-zero map.
 */
#include <stdlib.h>

#include "../xai_metric.h"

static const PvxParamSpec cx_params[] = {PVX_PARAM_SPEC_END};

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static gboolean cx_compute(gpointer self, const PvxMetricInput *in, PvxMetricResult *out,
                           GError **error)
{
    (void)self;
    (void)error;
    int64_t n = in->n, h, w;
    xai_pixel_size(in, &h, &w);
    int64_t hw = h * w;
    g_autofree double *ent = g_new(double, n);
    g_autofree double *gini = g_new(double, n);
    for (int64_t i = 0; i < n; i++) {
        g_autoptr(PvxTensor) e = pvx_metric_map_pixels(in->maps, i, h, w);
        double sum = 0;
        for (int64_t p = 0; p < hw; p++)
            sum += e->data[p];
        if (!(sum > 0)) {
            ent[i] = gini[i] = NAN;
            continue;
        }
        double hsum = 0;
        for (int64_t p = 0; p < hw; p++) {
            double q = e->data[p] / sum;
            if (q > 0)
                hsum -= q * log(q);
        }
        ent[i] = hsum;
        qsort(e->data, (size_t)hw, sizeof(float), cmp_float);
        double g = 0;
        for (int64_t p = 0; p < hw; p++)
            g += (double)(2 * (p + 1) - hw - 1) * e->data[p];
        gini[i] = g / ((double)hw * sum);
    }
    pvx_metric_result_add_values(out, "entropy", n, ent);
    pvx_metric_result_add_values(out, "gini", n, gini);
    return TRUE;
}

static const PvxMetricClass cx_class = {
    .size = sizeof(PvxMetricClass),
    .needs = PVX_METRIC_NEEDS_MAPS,
    .compute = cx_compute,
};

PVX_PLUGIN_DEFINE(PVX_KIND_METRIC, "complexity", "1.0.0",
                  "map complexity: entropy and Gini sparseness of the relevance distribution",
                  cx_params, &cx_class)
