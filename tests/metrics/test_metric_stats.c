/* The statistics and similarity building blocks of pvx/metric.h on cases with known answers:
 * Wilcoxon signed-rank (exact and normal approximation, zeros and ties), bootstrap summaries,
 * Spearman, SSIM, IoU and top-k masks. Reference numbers: scipy's documentation and an
 * independent numpy implementation (values in the comments). */
#include <math.h>

#include "pvx-private/core.h"

static void wilcoxon_exact_matches_scipy_example(void)
{
    /* scipy.stats.wilcoxon docs: d = [6, 8, ..., 75] -> statistic 24, p = 0.041259765625 */
    const double d[] = {6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75};
    double zero[15] = {0};
    double stat;
    int64_t used;
    double p = pvx_metric_wilcoxon(d, zero, 15, &stat, &used);
    g_assert_cmpfloat(stat, ==, 24.0);
    g_assert_cmpint(used, ==, 15);
    g_assert_cmpfloat_with_epsilon(p, 0.041259765625, 1e-12);
    /* symmetric in the sign of the differences */
    g_assert_cmpfloat_with_epsilon(pvx_metric_wilcoxon(zero, d, 15, NULL, NULL), p, 1e-12);
}

static void wilcoxon_ties_and_zeros_use_normal_approximation(void)
{
    /* numpy: zeros dropped, average ranks, var = n(n+1)(2n+1)/24 - Σ(t³-t)/48, no continuity
     * correction: T = 6.5, p = 0.017154621842820773 */
    const double x[] = {1.5, 2.0, 3.0, 3.0, 4.5, 0.5, 2.0, 6.0, 1.0, 1.0, 2.5, 7.0};
    const double y[] = {1.0, 2.5, 2.0, 2.0, 3.0, 0.5, 1.0, 4.0, 2.0, 0.0, 1.0, 5.0};
    double stat;
    int64_t used;
    double p = pvx_metric_wilcoxon(x, y, 12, &stat, &used);
    g_assert_cmpint(used, ==, 11);
    g_assert_cmpfloat(stat, ==, 6.5);
    g_assert_cmpfloat_with_epsilon(p, 0.017154621842820773, 1e-12);
}

static void wilcoxon_degenerate_inputs(void)
{
    const double a[] = {1, 2, NAN}, b[] = {1, 2, 3};
    int64_t used = -1;
    g_assert_cmpfloat(pvx_metric_wilcoxon(a, b, 3, NULL, &used), ==, 1.0); /* every d = 0 */
    g_assert_cmpint(used, ==, 0);
    const double n1[] = {NAN}, n2[] = {1};
    g_assert_true(isnan(pvx_metric_wilcoxon(n1, n2, 1, NULL, NULL)));
}

static void summary_of_constant_values_has_a_point_interval(void)
{
    const double v[] = {0.25, 0.25, NAN, 0.25, 0.25};
    PvxMetricSummary s;
    pvx_metric_summarize(v, 5, 200, 0.95, 7, &s);
    g_assert_cmpint(s.n, ==, 4);
    g_assert_cmpfloat(s.mean, ==, 0.25);
    g_assert_cmpfloat(s.std, ==, 0.0);
    g_assert_cmpfloat(s.ci_low, ==, 0.25);
    g_assert_cmpfloat(s.ci_high, ==, 0.25);
}

static void bootstrap_interval_has_the_normal_width(void)
{
    /* 400 values 0..399: mean 199.5, sd 115.6; the CI of the mean is about ±1.96·sd/√n = ±11.3.
     * A different seed gives a different but similar interval; the same seed the same one. */
    double v[400];
    for (int i = 0; i < 400; i++)
        v[i] = i;
    PvxMetricSummary s, t, u;
    pvx_metric_summarize(v, 400, 2000, 0.95, 1, &s);
    pvx_metric_summarize(v, 400, 2000, 0.95, 1, &t);
    pvx_metric_summarize(v, 400, 2000, 0.95, 2, &u);
    g_assert_cmpfloat_with_epsilon(s.mean, 199.5, 1e-9);
    g_assert_cmpfloat_with_epsilon(s.std, sqrt(400.0 * 401 / 12), 1e-9);
    double half = 1.96 * s.std / 20;
    g_assert_cmpfloat(s.ci_low, <, s.mean);
    g_assert_cmpfloat(s.ci_high, >, s.mean);
    g_assert_cmpfloat(fabs((s.ci_high - s.ci_low) / 2 - half), <, 0.1 * half);
    g_assert_cmpfloat(s.ci_low, ==, t.ci_low);
    g_assert_cmpfloat(s.ci_low, !=, u.ci_low);
    PvxMetricSummary none;
    pvx_metric_summarize(v, 400, 0, 0.95, 1, &none);
    g_assert_true(isnan(none.ci_low));
    pvx_metric_summarize(v, 0, 10, 0.95, 1, &none);
    g_assert_cmpint(none.n, ==, 0);
    g_assert_true(isnan(none.mean));
}

static void spearman_matches_scipy_example(void)
{
    /* scipy.stats.spearmanr([1,2,3,4,5], [5,6,7,8,7]) = 0.8207826816681233 */
    const float a[] = {1, 2, 3, 4, 5}, b[] = {5, 6, 7, 8, 7};
    g_assert_cmpfloat_with_epsilon(pvx_metric_spearman(a, b, 5), 0.8207826816681233, 1e-12);
    const float r[] = {5, 4, 3, 2, 1}, c[] = {2, 2, 2, 2, 2};
    g_assert_cmpfloat_with_epsilon(pvx_metric_spearman(a, r, 5), -1.0, 1e-12);
    g_assert_true(isnan(pvx_metric_spearman(a, c, 5)));
}

static void ssim_identical_is_one_and_constant_maps_follow_the_formula(void)
{
    float a[64], b[64], c[64];
    for (int i = 0; i < 64; i++) {
        a[i] = (float)((i * 37) % 17) / 17.0f;
        b[i] = 0.2f;
        c[i] = 0.6f;
    }
    g_assert_cmpfloat_with_epsilon(pvx_metric_ssim(a, a, 8, 8, 1.0), 1.0, 1e-12);
    /* constant windows: (2ab + C1) / (a² + b² + C1), C1 = 1e-4 */
    double want = (2 * 0.2 * 0.6 + 1e-4) / (0.04 + 0.36 + 1e-4);
    g_assert_cmpfloat_with_epsilon(pvx_metric_ssim(b, c, 8, 8, 1.0), want, 1e-6);
    g_assert_cmpfloat(pvx_metric_ssim(a, c, 8, 8, 1.0), <, 0.5);
}

static void top_fraction_and_iou(void)
{
    const float v[] = {0.1f, 0.9f, 0.5f, 0.5f, 0.0f, 0.2f, 0.3f, 0.4f, 0.6f, 0.7f};
    g_autofree uint8_t *t = pvx_metric_top_fraction(v, 10, 0.3); /* 0.9, 0.7, 0.6 */
    const uint8_t want[] = {0, 1, 0, 0, 0, 0, 0, 0, 1, 1};
    g_assert_cmpmem(t, 10, want, 10);
    /* ties: lower index first */
    g_autofree uint8_t *u = pvx_metric_top_fraction(v, 10, 0.5); /* + 0.5 at 2 and 3 */
    g_assert_cmpint(u[2] + u[3], ==, 2);
    const uint8_t a[] = {1, 1, 0, 0}, b[] = {0, 1, 1, 0}, z[] = {0, 0, 0, 0};
    g_assert_cmpfloat(pvx_metric_iou(a, b, 4), ==, 1.0 / 3);
    g_assert_true(isnan(pvx_metric_iou(z, z, 4)));
    const float tie[] = {1, 3, 3, 2};
    g_autofree int64_t *o = pvx_metric_order_desc(tie, 4);
    g_assert_cmpint(o[0], ==, 1);
    g_assert_cmpint(o[1], ==, 2);
    g_assert_cmpint(o[2], ==, 3);
    g_assert_cmpint(o[3], ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/metric-stats/wilcoxon_exact_matches_scipy_example",
                    wilcoxon_exact_matches_scipy_example);
    g_test_add_func("/metric-stats/wilcoxon_ties_and_zeros_use_normal_approximation",
                    wilcoxon_ties_and_zeros_use_normal_approximation);
    g_test_add_func("/metric-stats/wilcoxon_degenerate_inputs", wilcoxon_degenerate_inputs);
    g_test_add_func("/metric-stats/summary_of_constant_values_has_a_point_interval",
                    summary_of_constant_values_has_a_point_interval);
    g_test_add_func("/metric-stats/bootstrap_interval_has_the_normal_width",
                    bootstrap_interval_has_the_normal_width);
    g_test_add_func("/metric-stats/spearman_matches_scipy_example", spearman_matches_scipy_example);
    g_test_add_func("/metric-stats/ssim_identical_is_one_and_constant_maps_follow_the_formula",
                    ssim_identical_is_one_and_constant_maps_follow_the_formula);
    g_test_add_func("/metric-stats/top_fraction_and_iou", top_fraction_and_iou);
    return g_test_run();
}
