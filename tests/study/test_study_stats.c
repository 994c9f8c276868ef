/* Krippendorff's α against the published worked examples (human-study-refs.md §1.2), the paper's
 * per-task standard deviations, χ² tail probabilities against closed forms, Bradley–Terry against
 * choix's test vectors. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pvx-private/core.h"
#include "pvx-private/study.h"

/* Reliability data as text: one row per coder, units separated by spaces, '.' missing. Values are
 * integers or single letters (nominal). Builds the count matrix over the sorted value domain. */
typedef struct {
    int units, V;
    double values[32];
    double *counts;
} Data;

static void data_from_rows(Data *d, const char *const *rows)
{
    char **cells[16] = {0};
    int coders = 0;
    for (; rows[coders]; coders++)
        cells[coders] = g_strsplit_set(rows[coders], " ", -1);
    d->units = 0;
    for (int i = 0; cells[0][i]; i++)
        if (*cells[0][i])
            d->units++;
    /* domain */
    d->V = 0;
    for (int c = 0; c < coders; c++)
        for (int u = 0, k = 0; cells[c][k]; k++) {
            const char *s = cells[c][k];
            if (!*s)
                continue;
            u++;
            if (strcmp(s, ".") == 0)
                continue;
            double v = g_ascii_isalpha(s[0]) ? s[0] : g_ascii_strtod(s, NULL);
            gboolean seen = FALSE;
            for (int i = 0; i < d->V; i++)
                seen |= d->values[i] == v;
            if (!seen)
                d->values[d->V++] = v;
        }
    for (int i = 0; i < d->V; i++)
        for (int j = i + 1; j < d->V; j++)
            if (d->values[j] < d->values[i]) {
                double t = d->values[i];
                d->values[i] = d->values[j];
                d->values[j] = t;
            }
    d->counts = g_new0(double, d->units * d->V);
    for (int c = 0; c < coders; c++) {
        int u = 0;
        for (int k = 0; cells[c][k]; k++) {
            const char *s = cells[c][k];
            if (!*s)
                continue;
            if (strcmp(s, ".") != 0) {
                double v = g_ascii_isalpha(s[0]) ? s[0] : g_ascii_strtod(s, NULL);
                for (int i = 0; i < d->V; i++)
                    if (d->values[i] == v)
                        d->counts[u * d->V + i] += 1;
            }
            u++;
        }
        g_assert_cmpint(u, ==, d->units);
    }
    for (int c = 0; c < coders; c++)
        g_strfreev(cells[c]);
}

static double alpha_of(const char *const *rows, PvxAlphaLevel level)
{
    Data d;
    data_from_rows(&d, rows);
    double a = pvx_krippendorff_alpha(d.counts, d.units, d.V, d.values, level);
    g_free(d.counts);
    return a;
}

#define EXPECT(what, got, want)                                                                    \
    do {                                                                                           \
        double g_ = (got), w_ = (want);                                                            \
        printf("# %-40s %.9f (expected %.9f)\n", what, g_, w_);                                    \
        g_assert_cmpfloat_with_epsilon(g_, w_, 1e-9);                                              \
    } while (0)

static void alpha_t1_binary_two_coders_is_2_21(void)
{
    const char *rows[] = {"0 1 0 0 0 0 0 0 1 0", "1 1 1 0 0 1 0 0 0 0", NULL};
    EXPECT("T1 nominal", alpha_of(rows, PVX_ALPHA_NOMINAL), 2.0 / 21);
    EXPECT("T1 interval", alpha_of(rows, PVX_ALPHA_INTERVAL), 2.0 / 21);
    const char *rows2[] = {"1 1 0 0 0 0 0 0 0 0", "0 1 1 0 0 1 0 1 0 0", NULL};
    EXPECT("Krippendorff 2004 11.3.1", alpha_of(rows2, PVX_ALPHA_NOMINAL), 2.0 / 21);
}

static void alpha_t2_nominal_letters_is_155_224(void)
{
    const char *rows[] = {"a a b b d c c c e d d a", "b a b b b c c c e d d d", NULL};
    EXPECT("T2 nominal", alpha_of(rows, PVX_ALPHA_NOMINAL), 155.0 / 224);
}

static void alpha_t3_missing_data_all_four_levels(void)
{
    const char *rows[] = {"1 2 3 3 2 1 4 1 2 . . .", "1 2 3 3 2 2 4 1 2 5 . 3",
                          ". 3 3 3 2 3 4 2 2 5 1 .", "1 2 3 3 2 4 4 1 2 5 1 .", NULL};
    EXPECT("T3 nominal 113/152", alpha_of(rows, PVX_ALPHA_NOMINAL), 113.0 / 152);
    EXPECT("T3 ordinal 108577/133160", alpha_of(rows, PVX_ALPHA_ORDINAL), 108577.0 / 133160);
    EXPECT("T3 interval 951/1120", alpha_of(rows, PVX_ALPHA_INTERVAL), 951.0 / 1120);
    EXPECT("T3 ratio 18222619/22852465", alpha_of(rows, PVX_ALPHA_RATIO), 18222619.0 / 22852465);
    /* the published 3-digit values */
    g_assert_cmpfloat(fabs(alpha_of(rows, PVX_ALPHA_NOMINAL) - 0.743), <, 5e-4);
    g_assert_cmpfloat(fabs(alpha_of(rows, PVX_ALPHA_ORDINAL) - 0.815), <, 5e-4);
    g_assert_cmpfloat(fabs(alpha_of(rows, PVX_ALPHA_INTERVAL) - 0.849), <, 5e-4);
    g_assert_cmpfloat(fabs(alpha_of(rows, PVX_ALPHA_RATIO) - 0.797), <, 5e-4);
    /* the lone value of unit 12 under coder C instead of B changes nothing */
    const char *moved[] = {"1 2 3 3 2 1 4 1 2 . . .", "1 2 3 3 2 2 4 1 2 5 . .",
                           ". 3 3 3 2 3 4 2 2 5 1 3", "1 2 3 3 2 4 4 1 2 5 1 .", NULL};
    EXPECT("T3 moved lone value", alpha_of(moved, PVX_ALPHA_NOMINAL), 113.0 / 152);
}

static void alpha_t4_wikipedia_example(void)
{
    const char *rows[] = {". . . . . 3 4 1 2 1 1 3 3 . 3", "1 . 2 1 3 3 4 3 . . . . . . .",
                          ". . 2 1 3 4 4 . 2 1 1 3 3 . 4", NULL};
    EXPECT("T4 nominal 56/81", alpha_of(rows, PVX_ALPHA_NOMINAL), 56.0 / 81);
    EXPECT("T4 interval 643/793", alpha_of(rows, PVX_ALPHA_INTERVAL), 643.0 / 793);
    EXPECT("T4 ordinal 112173/139048", alpha_of(rows, PVX_ALPHA_ORDINAL), 112173.0 / 139048);
    EXPECT("T4 ratio 90503/111878", alpha_of(rows, PVX_ALPHA_RATIO), 90503.0 / 111878);
    /* the value-count form of the same data */
    const double vc[15][4] = {{1, 0, 0, 0}, {0, 0, 0, 0}, {0, 2, 0, 0}, {2, 0, 0, 0}, {0, 0, 2, 0},
                              {0, 0, 2, 1}, {0, 0, 0, 3}, {1, 0, 1, 0}, {0, 2, 0, 0}, {2, 0, 0, 0},
                              {2, 0, 0, 0}, {0, 0, 2, 0}, {0, 0, 2, 0}, {0, 0, 0, 0}, {0, 0, 1, 1}};
    const double values[] = {1, 2, 3, 4};
    EXPECT("T4 value counts", pvx_krippendorff_alpha(&vc[0][0], 15, 4, values, PVX_ALPHA_NOMINAL),
           56.0 / 81);
}

static void alpha_t5_hayes_krippendorff_2007(void)
{
    static const char *units[40] = {
        "1 1 2 . 2", "1 1 0 1 .", "2 3 3 3 .", ". 0 0 . 0", "0 0 0 . 0", "0 0 0 . 0", "1 0 2 . 1",
        "1 . 2 0 .", "2 2 2 . 2", "2 1 1 1 .", ". 1 0 0 .", "0 0 0 0 .", "1 2 2 2 .", "3 3 2 2 3",
        "1 1 1 . 1", "1 1 1 . 1", "2 1 2 . 2", "1 2 3 3 .", "1 1 0 1 .", "0 0 0 . 0", "0 0 1 1 .",
        "0 0 . 0 0", "2 3 3 3 .", "0 0 0 0 .", "1 2 . 2 2", "0 1 1 1 .", "0 0 0 1 0", "1 2 1 2 .",
        "1 1 2 2 .", "1 1 2 . 2", "1 1 0 . 0", "2 1 2 1 .", "2 2 . 2 2", "3 2 2 2 .", "2 2 2 . 2",
        "2 2 3 . 2", "2 2 2 . 2", "2 2 . 1 2", "2 2 2 2 .", "1 1 1 . 1",
    };
    /* units are rows here: transpose into coder rows */
    GString *coder[5];
    for (int c = 0; c < 5; c++)
        coder[c] = g_string_new(NULL);
    for (int u = 0; u < 40; u++) {
        g_auto(GStrv) v = g_strsplit(units[u], " ", -1);
        for (int c = 0; c < 5; c++)
            g_string_append_printf(coder[c], "%s%s", u ? " " : "", v[c]);
    }
    const char *rows[6];
    for (int c = 0; c < 5; c++)
        rows[c] = coder[c]->str;
    rows[5] = NULL;
    EXPECT("T5 ordinal", alpha_of(rows, PVX_ALPHA_ORDINAL), 441835031.0 / 581492574);
    EXPECT("T5 nominal", alpha_of(rows, PVX_ALPHA_NOMINAL), 6400.0 / 13431);
    EXPECT("T5 interval", alpha_of(rows, PVX_ALPHA_INTERVAL), 10111.0 / 13350);
    EXPECT("T5 ratio", alpha_of(rows, PVX_ALPHA_RATIO), 2412449.0 / 3643506);
    g_assert_cmpfloat(fabs(alpha_of(rows, PVX_ALPHA_ORDINAL) - 0.7598), <, 5e-5);
    for (int c = 0; c < 5; c++)
        g_string_free(coder[c], TRUE);
}

static void alpha_t6_t7_t8_t9_small_cases(void)
{
    /* T6: NLTK's easy case; the single-rated item does not matter */
    const double t6[] = {1, 2, 1, 1, 0, 1}; /* units d1, d2, d3 × values YES, NO */
    EXPECT("T6 with d3", pvx_krippendorff_alpha(t6, 3, 2, NULL, PVX_ALPHA_NOMINAL), -1.0 / 3);
    EXPECT("T6 without d3", pvx_krippendorff_alpha(t6, 2, 2, NULL, PVX_ALPHA_NOMINAL), -1.0 / 3);
    /* T7: complete data, 3 coders (irr's bug would give 0.056) */
    const char *t7[] = {"2 2 2 2 2 2 2 2 2 2", "1 2 2 2 2 2 2 2 2 2", "1 1 1 1 2 2 2 2 2 2", NULL};
    EXPECT("T7 nominal 9/125", alpha_of(t7, PVX_ALPHA_NOMINAL), 9.0 / 125);
    /* T8: aggregated counts, Krippendorff's quadrilogy table 6 */
    const double all[5][2] = {{1, 8}, {9, 0}, {0, 12}, {5, 6}, {8, 1}};
    const double u23[2][2] = {{9, 0}, {0, 12}};
    const double u235[3][2] = {{9, 0}, {0, 12}, {8, 1}};
    const double u1235[4][2] = {{1, 8}, {9, 0}, {0, 12}, {8, 1}};
    EXPECT("T8 {2,3}", pvx_krippendorff_alpha(&u23[0][0], 2, 2, NULL, PVX_ALPHA_NOMINAL), 1.0);
    EXPECT("T8 {2,3,5}", pvx_krippendorff_alpha(&u235[0][0], 3, 2, NULL, PVX_ALPHA_NOMINAL),
           0.8687782805);
    EXPECT("T8 {1,2,3,5}", pvx_krippendorff_alpha(&u1235[0][0], 4, 2, NULL, PVX_ALPHA_NOMINAL),
           0.7989417989);
    EXPECT("T8 all", pvx_krippendorff_alpha(&all[0][0], 5, 2, NULL, PVX_ALPHA_NOMINAL),
           0.60547504030);
    /* T9: one deviating value gives exactly 0 at every level */
    const char *t9[] = {"3 3 3 3 3", "3 3 3 3 3", "3 3 . . 3", "3 3 3 3 1", "3 . 3 3 3", NULL};
    EXPECT("T9 nominal", alpha_of(t9, PVX_ALPHA_NOMINAL), 0);
    EXPECT("T9 ordinal", alpha_of(t9, PVX_ALPHA_ORDINAL), 0);
    EXPECT("T9 interval", alpha_of(t9, PVX_ALPHA_INTERVAL), 0);
}

static void alpha_is_undefined_without_pairable_values_or_variation(void)
{
    const double one[] = {1, 0, 0, 1};  /* two units of one value each */
    const double same[] = {3, 0, 2, 0}; /* only one value used */
    const double values[] = {0, 1};
    g_assert_true(isnan(pvx_krippendorff_alpha(one, 2, 2, values, PVX_ALPHA_NOMINAL)));
    g_assert_true(isnan(pvx_krippendorff_alpha(same, 2, 2, values, PVX_ALPHA_INTERVAL)));
    /* unused scale points change neither ordinal nor nominal α (T3 with a value 6 never used) */
    const char *rows[] = {"1 2 3 3 2 1 4 1 2 . . .", "1 2 3 3 2 2 4 1 2 5 . 3",
                          ". 3 3 3 2 3 4 2 2 5 1 .", "1 2 3 3 2 4 4 1 2 5 1 .", NULL};
    Data d;
    data_from_rows(&d, rows);
    g_autofree double *wide = g_new0(double, d.units *(d.V + 1));
    for (int u = 0; u < d.units; u++)
        memcpy(wide + u * (d.V + 1), d.counts + u * d.V, sizeof(double) * d.V);
    double wv[] = {1, 2, 3, 4, 5, 6};
    EXPECT("T3 ordinal, unused 6",
           pvx_krippendorff_alpha(wide, d.units, d.V + 1, wv, PVX_ALPHA_ORDINAL),
           108577.0 / 133160);
    g_free(d.counts);
}

/* The paper's Experiment 1 examples: answers per option (cmr, smr, equal, slr, clr). */
static void task_std_reproduces_paper_examples(void)
{
    const int per_option[5][5] = {
        {0, 0, 0, 0, 5}, {0, 0, 0, 1, 4}, {0, 1, 1, 2, 1}, {1, 1, 1, 1, 1}, {2, 0, 0, 0, 3}};
    const double want[5] = {0, 0.4, 1.0198, G_SQRT2, 1.9596};
    for (int e = 0; e < 5; e++) {
        double x[5];
        int n = 0;
        for (int o = 0; o < 5; o++)
            for (int k = 0; k < per_option[e][o]; k++)
                x[n++] = 2 - o;
        double s = pvx_population_std(x, n);
        printf("# std example %d: %.6f (paper %.4f)\n", e, s, want[e]);
        g_assert_cmpfloat(fabs(s - want[e]), <, 5e-5);
    }
}

static void chi2_tail_matches_closed_forms(void)
{
    for (double x = 0.1; x < 40; x *= 1.7) {
        /* df 2: exp(−x/2); df 1: erfc(√(x/2)); df 4: exp(−x/2)(1 + x/2) */
        g_assert_cmpfloat(fabs(pvx_chi2_sf(x, 2) - exp(-x / 2)), <, 1e-13);
        g_assert_cmpfloat(fabs(pvx_chi2_sf(x, 1) - erfc(sqrt(x / 2))), <, 1e-13);
        g_assert_cmpfloat(fabs(pvx_chi2_sf(x, 4) - exp(-x / 2) * (1 + x / 2)), <, 1e-13);
    }
    EXPECT("chi2 sf(3.841458820694124, 1)", pvx_chi2_sf(3.841458820694124, 1), 0.05);
    EXPECT("chi2 sf(0, 3)", pvx_chi2_sf(0, 3), 1);
    /* 60 vs 40 against 50:50: χ² = 4 */
    const double obs[] = {60, 40};
    double p;
    EXPECT("chi2 60:40", pvx_chi2_gof(obs, NULL, 2, &p), 4);
    EXPECT("p 60:40", p, erfc(sqrt(2.0)));
    const double none[] = {0, 0};
    g_assert_true(isnan(pvx_chi2_gof(none, NULL, 2, &p)) && isnan(p));
    /* 45 of 50 against 30 of 50 correct: expected 37.5 / 12.5 per row, χ² = 2·1.5 + 2·4.5 = 12
     * (scipy.stats.chi2_contingency([[45, 5], [30, 20]], correction=False) gives 12 too) */
    EXPECT("two proportions 45/50 vs 30/50", pvx_two_proportions_p(45, 50, 30, 50),
           erfc(sqrt(6.0)));
    EXPECT("two proportions, same share", pvx_two_proportions_p(20, 40, 10, 20), 1);
    g_assert_true(isnan(pvx_two_proportions_p(50, 50, 20, 20))); /* all correct: no test */
    g_assert_true(isnan(pvx_two_proportions_p(0, 0, 3, 5)));
}

static void fill_wins(double *w, int n, const int (*pairs)[2], int k)
{
    memset(w, 0, sizeof(double) * n * n);
    for (int i = 0; i < k; i++)
        w[pairs[i][0] * n + pairs[i][1]] += 1;
}

static void bradley_terry_matches_choix(void)
{
    g_autoptr(GError) error = NULL;
    double w[64], th[8], se[8];
    const int c1[][2] = {{0, 1}, {1, 2}, {2, 0}};
    fill_wins(w, 3, c1, 3);
    g_assert_true(pvx_bradley_terry(3, w, 0, th, se, &error));
    for (int i = 0; i < 3; i++)
        g_assert_cmpfloat(fabs(th[i]), <, 1e-9);
    const int c2[][2] = {{0, 1}, {0, 1}, {1, 2}, {2, 0}};
    fill_wins(w, 3, c2, 4);
    g_assert_true(pvx_bradley_terry(3, w, 0, th, se, &error));
    const double want2[] = {0.419617624, -0.419617624, 0.0};
    for (int i = 0; i < 3; i++) {
        printf("# BT case 2 theta[%d] %.9f (choix %.9f), se %.4f\n", i, th[i], want2[i], se[i]);
        g_assert_cmpfloat(fabs(th[i] - want2[i]), <, 1e-8);
    }
    const int c3[][2] = {{7, 3}, {2, 0}, {5, 2}, {4, 2}, {2, 1}, {4, 5}, {6, 3},
                         {5, 4}, {7, 0}, {2, 3}, {4, 0}, {0, 4}, {6, 5}, {3, 2},
                         {3, 4}, {3, 4}, {5, 2}, {7, 3}, {7, 6}, {6, 5}};
    fill_wins(w, 8, c3, G_N_ELEMENTS(c3));
    g_assert_true(pvx_bradley_terry(8, w, 0.5, th, NULL, &error));
    const double want3[] = {-0.51974039, -0.46280878, -0.31376862, -0.06854694,
                            -0.3185146,  -0.00346107, 0.63032783,  1.05651257};
    for (int i = 0; i < 8; i++) {
        printf("# BT penalised theta[%d] %.8f (choix %.8f)\n", i, th[i], want3[i]);
        g_assert_cmpfloat(fabs(th[i] - want3[i]), <, 1e-7);
    }
    g_assert_no_error(error);
}

/* Two items in closed form: the ML difference d = θ0 − θ1 = log(wins/losses), its variance from
 * the Fisher information 1/(n·p·(1 − p)), and θ0 = d/2 on sum-zero strengths. */
static void bradley_terry_se_is_inverse_fisher_information(void)
{
    g_autoptr(GError) error = NULL;
    double w[4] = {0, 30, 10, 0}, th[2], se[2];
    g_assert_true(pvx_bradley_terry(2, w, 0, th, se, &error));
    EXPECT("BT 30:10 theta0", th[0], 0.5 * log(3.0));
    double p = 0.75, var_diff = 1 / (40 * p * (1 - p));
    EXPECT("BT 30:10 se0", se[0], 0.5 * sqrt(var_diff));
    /* ties count half: 30 wins, 10 losses, 20 ties = 40:20 */
    double wt[4] = {0, 40, 20, 0};
    g_assert_true(pvx_bradley_terry(2, wt, 0, th, se, &error));
    EXPECT("BT 40:20 theta0", th[0], 0.5 * log(2.0));
}

static void bradley_terry_refuses_what_has_no_estimate(void)
{
    double w[9] = {0, 3, 0, 0, 0, 0, 0, 0, 0}, th[3];
    g_autoptr(GError) error = NULL;
    /* item 2 never compared */
    g_assert_false(pvx_bradley_terry(3, w, 0, th, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NUMERIC);
    g_assert_nonnull(strstr(error->message, "not connected"));
    g_test_message("%s", error->message);
    g_clear_error(&error);
    /* item 0 never loses: no ML; a ridge makes it finite */
    double w2[4] = {0, 5, 0, 0};
    g_assert_false(pvx_bradley_terry(2, w2, 0, th, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NUMERIC);
    g_clear_error(&error);
    g_assert_true(pvx_bradley_terry(2, w2, 0.1, th, NULL, &error));
    g_assert_cmpfloat(th[0], >, 0);
    g_assert_cmpfloat(fabs(th[0] + th[1]), <, 1e-12);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/study-stats/alpha_t1_binary_two_coders_is_2_21",
                    alpha_t1_binary_two_coders_is_2_21);
    g_test_add_func("/study-stats/alpha_t2_nominal_letters_is_155_224",
                    alpha_t2_nominal_letters_is_155_224);
    g_test_add_func("/study-stats/alpha_t3_missing_data_all_four_levels",
                    alpha_t3_missing_data_all_four_levels);
    g_test_add_func("/study-stats/alpha_t4_wikipedia_example", alpha_t4_wikipedia_example);
    g_test_add_func("/study-stats/alpha_t5_hayes_krippendorff_2007",
                    alpha_t5_hayes_krippendorff_2007);
    g_test_add_func("/study-stats/alpha_t6_t7_t8_t9_small_cases", alpha_t6_t7_t8_t9_small_cases);
    g_test_add_func("/study-stats/alpha_is_undefined_without_pairable_values_or_variation",
                    alpha_is_undefined_without_pairable_values_or_variation);
    g_test_add_func("/study-stats/task_std_reproduces_paper_examples",
                    task_std_reproduces_paper_examples);
    g_test_add_func("/study-stats/chi2_tail_matches_closed_forms", chi2_tail_matches_closed_forms);
    g_test_add_func("/study-stats/bradley_terry_matches_choix", bradley_terry_matches_choix);
    g_test_add_func("/study-stats/bradley_terry_se_is_inverse_fisher_information",
                    bradley_terry_se_is_inverse_fisher_information);
    g_test_add_func("/study-stats/bradley_terry_refuses_what_has_no_estimate",
                    bradley_terry_refuses_what_has_no_estimate);
    return g_test_run();
}
