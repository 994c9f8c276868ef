/* pvx — building blocks for metrics of explanation maps (declared in pvx/metric.h): maps as a
 * person sees them, target probabilities, orders, rank correlation, SSIM, top-k masks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx/explainer.h"
#include "pvx-private/heatmap.h"
#include "pvx/metric.h"

PvxTensor *pvx_metric_map_pixels(const PvxTensor *maps, int64_t i, int64_t height, int64_t width)
{
    g_return_val_if_fail(maps && maps->ndim == 3 && i >= 0 && i < maps->shape[0], NULL);
    g_return_val_if_fail(pvx_tensor_is_contiguous(maps), NULL);
    int64_t h = maps->shape[1], w = maps->shape[2];
    g_autoptr(PvxTensor) one =
        pvx_tensor_new_from_data(2, (int64_t[]){h, w}, maps->data + i * h * w);
    return pvx_map_normalize(one, (int)width, (int)height, TRUE);
}

gboolean pvx_metric_target_probs(PvxModel *model, const PvxTensor *x, const int64_t *targets,
                                 int batch_size, double *probs_out, GError **error)
{
    g_return_val_if_fail(model && x && x->ndim == 4 && targets && probs_out, FALSE);
    int64_t m = x->shape[0];
    int bs = batch_size > 0 ? batch_size : 32;
    for (int64_t b0 = 0; b0 < m; b0 += bs) {
        int64_t nb = MIN((int64_t)bs, m - b0);
        g_autoptr(PvxTensor) xb = pvx_tensor_narrow0((PvxTensor *)x, b0, nb);
        g_autoptr(PvxTensor) y = pvx_model_forward(model, xb, PVX_FORWARD_INFERENCE, error);
        if (!y)
            return FALSE;
        int64_t c = y->shape[1];
        for (int64_t i = 0; i < nb; i++) {
            const float *row = y->data + i * c;
            int64_t t = targets[b0 + i];
            if (t < 0 || t >= c) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                            "target class %" G_GINT64_FORMAT " is outside 0..%" G_GINT64_FORMAT,
                            (gint64)t, (gint64)(c - 1));
                return FALSE;
            }
            double mx = row[0];
            for (int64_t k = 1; k < c; k++)
                mx = fmax(mx, row[k]);
            double z = 0;
            for (int64_t k = 0; k < c; k++)
                z += exp((double)row[k] - mx);
            probs_out[b0 + i] = exp((double)row[t] - mx) / z;
        }
    }
    return TRUE;
}

typedef struct {
    float v;
    int64_t i;
} Pair;

static int cmp_desc(const void *a, const void *b)
{
    const Pair *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

static int cmp_asc(const void *a, const void *b)
{
    const Pair *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

int64_t *pvx_metric_order_desc(const float *values, int64_t n)
{
    g_autofree Pair *p = g_new(Pair, MAX(n, 1));
    for (int64_t i = 0; i < n; i++) {
        p[i].v = isnan(values[i]) ? -INFINITY : values[i];
        p[i].i = i;
    }
    qsort(p, (size_t)n, sizeof(Pair), cmp_desc);
    int64_t *order = g_new(int64_t, MAX(n, 1));
    for (int64_t i = 0; i < n; i++)
        order[i] = p[i].i;
    return order;
}

/* Average ranks (1-based) of @v. */
static double *ranks(const float *v, int64_t n)
{
    g_autofree Pair *p = g_new(Pair, n);
    for (int64_t i = 0; i < n; i++) {
        p[i].v = v[i];
        p[i].i = i;
    }
    qsort(p, (size_t)n, sizeof(Pair), cmp_asc);
    double *r = g_new(double, n);
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j + 1 < n && p[j + 1].v == p[i].v)
            j++;
        double rank = (double)(i + j + 2) / 2.0;
        for (int64_t k = i; k <= j; k++)
            r[p[k].i] = rank;
        i = j + 1;
    }
    return r;
}

double pvx_metric_spearman(const float *a, const float *b, int64_t n)
{
    if (n < 2)
        return NAN;
    g_autofree double *ra = ranks(a, n);
    g_autofree double *rb = ranks(b, n);
    double ma = 0, mb = 0;
    for (int64_t i = 0; i < n; i++) {
        ma += ra[i];
        mb += rb[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (int64_t i = 0; i < n; i++) {
        double x = ra[i] - ma, y = rb[i] - mb;
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    if (saa <= 0 || sbb <= 0)
        return NAN;
    return sab / sqrt(saa * sbb);
}

double pvx_metric_ssim(const float *a, const float *b, int64_t h, int64_t w, double data_range)
{
    int64_t win = MIN((int64_t)7, MIN(h, w));
    if (win % 2 == 0)
        win--;
    if (win < 1)
        return NAN;
    double np = (double)(win * win);
    double cov_norm = np > 1 ? np / (np - 1) : 1.0;
    double c1 = (0.01 * data_range) * (0.01 * data_range);
    double c2 = (0.03 * data_range) * (0.03 * data_range);
    double total = 0;
    int64_t count = 0;
    for (int64_t r = 0; r + win <= h; r++)
        for (int64_t c = 0; c + win <= w; c++) {
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            for (int64_t i = r; i < r + win; i++)
                for (int64_t j = c; j < c + win; j++) {
                    double x = a[i * w + j], y = b[i * w + j];
                    sa += x;
                    sb += y;
                    saa += x * x;
                    sbb += y * y;
                    sab += x * y;
                }
            double ux = sa / np, uy = sb / np;
            double vx = cov_norm * (saa / np - ux * ux);
            double vy = cov_norm * (sbb / np - uy * uy);
            double vxy = cov_norm * (sab / np - ux * uy);
            double s =
                ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
            total += s;
            count++;
        }
    return total / (double)count;
}

double pvx_metric_iou(const uint8_t *a, const uint8_t *b, int64_t n)
{
    int64_t inter = 0, uni = 0;
    for (int64_t i = 0; i < n; i++) {
        inter += a[i] && b[i];
        uni += a[i] || b[i];
    }
    return uni ? (double)inter / (double)uni : NAN;
}

uint8_t *pvx_metric_top_fraction(const float *values, int64_t n, double fraction)
{
    int64_t k = (int64_t)llround(fraction * (double)n);
    k = CLAMP(k, 1, n);
    g_autofree int64_t *order = pvx_metric_order_desc(values, n);
    uint8_t *m = g_new0(uint8_t, MAX(n, 1));
    for (int64_t i = 0; i < k; i++)
        m[order[i]] = 1;
    return m;
}
