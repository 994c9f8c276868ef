/* pvx — statistics for metric results: summaries with bootstrap confidence intervals and the
 * Wilcoxon signed-rank test (declared in pvx/metric.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pvx/metric.h"
#include "pvx/random.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy.percentile's default (linear) on sorted @v of @n values, q in [0, 1]. */
static double quantile_sorted(const double *v, int64_t n, double q)
{
    double pos = q * (double)(n - 1);
    int64_t lo = (int64_t)floor(pos);
    int64_t hi = MIN(lo + 1, n - 1);
    double frac = pos - (double)lo;
    return v[lo] + (v[hi] - v[lo]) * frac;
}

void pvx_metric_summarize(const double *values, int64_t n, int resamples, double level,
                          guint64 seed, PvxMetricSummary *out)
{
    g_return_if_fail(out != NULL && (values != NULL || n == 0));
    g_autofree double *v = g_new(double, MAX(n, 1));
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (isfinite(values[i]))
            v[m++] = values[i];
    out->n = m;
    out->mean = out->std = out->ci_low = out->ci_high = NAN;
    if (m == 0)
        return;
    double sum = 0;
    for (int64_t i = 0; i < m; i++)
        sum += v[i];
    out->mean = sum / (double)m;
    if (m > 1) {
        double ss = 0;
        for (int64_t i = 0; i < m; i++)
            ss += (v[i] - out->mean) * (v[i] - out->mean);
        out->std = sqrt(ss / (double)(m - 1));
    }
    if (resamples <= 0)
        return;
    PvxRng rng;
    pvx_rng_init(&rng, seed);
    g_autofree double *means = g_new(double, resamples);
    for (int b = 0; b < resamples; b++) {
        double s = 0;
        for (int64_t i = 0; i < m; i++)
            s += v[pvx_rng_below(&rng, m)];
        means[b] = s / (double)m;
    }
    qsort(means, (size_t)resamples, sizeof(double), cmp_double);
    out->ci_low = quantile_sorted(means, resamples, (1.0 - level) / 2.0);
    out->ci_high = quantile_sorted(means, resamples, (1.0 + level) / 2.0);
}

typedef struct {
    double abs;
    int sign;
} Diff;

static int cmp_diff(const void *a, const void *b)
{
    double x = ((const Diff *)a)->abs, y = ((const Diff *)b)->abs;
    return (x > y) - (x < y);
}

double pvx_metric_wilcoxon(const double *x, const double *y, int64_t n, double *stat_out,
                           int64_t *used_out)
{
    g_autofree Diff *d = g_new(Diff, MAX(n, 1));
    int64_t m = 0, zeros = 0, finite = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            continue;
        finite++;
        double v = x[i] - y[i];
        if (v == 0) {
            zeros++;
            continue;
        }
        d[m].abs = fabs(v);
        d[m].sign = v > 0 ? 1 : -1;
        m++;
    }
    if (used_out)
        *used_out = m;
    if (stat_out)
        *stat_out = NAN;
    if (finite == 0)
        return NAN;
    if (m == 0) {
        if (stat_out)
            *stat_out = 0;
        return 1.0;
    }
    (void)zeros;
    qsort(d, (size_t)m, sizeof(Diff), cmp_diff);
    /* average ranks over ties; tie correction Σ(t³ − t) */
    double w_plus = 0, tie_term = 0;
    gboolean ties = FALSE;
    for (int64_t i = 0; i < m;) {
        int64_t j = i;
        while (j + 1 < m && d[j + 1].abs == d[i].abs)
            j++;
        double rank = (double)(i + j + 2) / 2.0; /* ranks i+1 .. j+1 */
        double t = (double)(j - i + 1);
        if (t > 1) {
            ties = TRUE;
            tie_term += t * t * t - t;
        }
        for (int64_t k = i; k <= j; k++)
            if (d[k].sign > 0)
                w_plus += rank;
        i = j + 1;
    }
    double total = (double)m * (double)(m + 1) / 2.0;
    double w_minus = total - w_plus;
    double stat = MIN(w_plus, w_minus);
    if (stat_out)
        *stat_out = stat;
    if (!ties && m <= 50) {
        /* Exact: count the subsets of {1..m} whose sum is ≤ stat, out of 2^m. */
        int64_t maxs = (int64_t)total;
        g_autofree double *count = g_new0(double, maxs + 1);
        count[0] = 1;
        for (int64_t r = 1; r <= m; r++)
            for (int64_t s = maxs; s >= r; s--)
                count[s] += count[s - r];
        double le = 0;
        for (int64_t s = 0; s <= (int64_t)stat; s++)
            le += count[s];
        double p = 2.0 * le / ldexp(1.0, (int)m);
        return MIN(p, 1.0);
    }
    double mean = total / 2.0;
    double var = (double)m * (m + 1) * (2.0 * m + 1) / 24.0 - tie_term / 48.0;
    if (var <= 0)
        return 1.0;
    double z = (stat - mean) / sqrt(var);
    return MIN(1.0, erfc(fabs(z) / M_SQRT2));
}
