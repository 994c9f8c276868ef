/* pvx — figures of a study analysis (pvx-private/plot.h): answer distribution per pair,
 * explainability index and Bradley–Terry strength per model; identify rates and confusion matrices.
 */
#include <math.h>
#include <string.h>

#include "pvx-private/plot.h"
#include "study_private.h"

static gboolean save(PvxPlot *p, const char *dir, const char *name, GError **error)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    return pvx_plot_save(p, path, error);
}

static gboolean pairwise_figures(const PvxStudyAnalysis *an, const char *dir, GError **error)
{
    int P = (int)an->pairs->len, V = an->n_values, M = (int)an->models->len;
    /* answer distribution: groups = code values (from a's side), one series per pair, shares */
    g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func(g_free);
    for (int v = 0; v < V; v++)
        g_ptr_array_add(groups,
                        an->values[v] == 0 ? g_strdup("0") : g_strdup_printf("%+g", an->values[v]));
    g_autoptr(GPtrArray) series = g_ptr_array_new_with_free_func(g_free);
    g_autofree double *share = g_new(double, (gsize)MAX(P, 1) * MAX(V, 1));
    for (int i = 0; i < P; i++) {
        const PvxStudyPair *p = an->pairs->pdata[i];
        g_ptr_array_add(series, g_strdup_printf("%s vs %s", p->a, p->b));
        for (int v = 0; v < V; v++)
            share[i * V + v] = p->answers ? (double)p->distribution[v] / p->answers : NAN;
    }
    g_autoptr(PvxPlot) d =
        pvx_plot_new("Answers per pair (coded from the first model's side)", 420, 220);
    pvx_plot_set_labels(d, "coded answer", "share of answers", NULL);
    pvx_plot_bars(d, V, (const char *const *)groups->pdata, P, (const char *const *)series->pdata,
                  share, NULL, NULL);
    if (!save(d, dir, "distribution.png", error))
        return FALSE;
    /* explainability index and Bradley–Terry strength per model */
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autofree double *index = g_new(double, M), *bt = g_new(double, M);
    g_autofree double *lo = g_new(double, M), *hi = g_new(double, M);
    for (int m = 0; m < M; m++) {
        const PvxStudyModel *pm = an->models->pdata[m];
        g_ptr_array_add(names, pm->model);
        index[m] = pm->index;
        bt[m] = pm->bt;
        lo[m] = pm->bt_lo;
        hi[m] = pm->bt_hi;
    }
    g_autoptr(PvxPlot) e = pvx_plot_new("Explainability index per model", 300, 200);
    pvx_plot_set_labels(e, "model", "mean coded answer (own side)", NULL);
    pvx_plot_bars(e, M, (const char *const *)names->pdata, 1, NULL, index, NULL, NULL);
    if (!save(e, dir, "explainability_index.png", error))
        return FALSE;
    g_autoptr(PvxPlot) b = pvx_plot_new("Bradley-Terry strength (95 % CI)", 300, 200);
    pvx_plot_set_labels(b, "model", "strength (log scale, mean 0)", NULL);
    pvx_plot_set_x_categories(b, M, (const char *const *)names->pdata);
    pvx_plot_line(b, NULL, 0, M, NULL, bt, lo, hi);
    return save(b, dir, "bradley_terry.png", error);
}

static gboolean identify_figures(const PvxStudyAnalysis *an, const char *dir, GError **error)
{
    int M = (int)an->models->len, C = an->n_classes;
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    g_autofree double *rates = g_new(double, 3 * (gsize)M);
    for (int m = 0; m < M; m++) {
        const PvxStudyModel *pm = an->models->pdata[m];
        g_ptr_array_add(names, pm->model);
        rates[m] = pm->accuracy;
        rates[M + m] = pm->error_rate;
        rates[2 * M + m] = pm->indecisive;
    }
    const char *series[] = {"accuracy", "error rate", "don't know"};
    g_autoptr(PvxPlot) r = pvx_plot_new("Human identification per model", 320, 200);
    pvx_plot_set_labels(r, "model", "share of answers", NULL);
    pvx_plot_set_y_range(r, 0, 0, 1);
    pvx_plot_bars(r, M, (const char *const *)names->pdata, 3, series, rates, NULL, NULL);
    if (!save(r, dir, "identify_rates.png", error))
        return FALSE;
    g_autoptr(GPtrArray) cols = g_ptr_array_new();
    for (int k = 0; k < C; k++)
        g_ptr_array_add(cols, an->classes[k]);
    g_ptr_array_add(cols, (gpointer) "don't know");
    for (int m = 0; m < M; m++) {
        const PvxStudyModel *pm = an->models->pdata[m];
        g_autofree char *title = g_strdup_printf("Confusion, %s", pm->model);
        double side = 120 + 24.0 * (C + 1);
        g_autoptr(PvxPlot) c = pvx_plot_new(title, side + 60, side);
        pvx_plot_set_labels(c, "answered", "true class", "answers");
        pvx_plot_matrix(c, C, C + 1, pm->confusion, (const char *const *)an->classes,
                        (const char *const *)cols->pdata, TRUE);
        g_autofree char *name = g_strdup_printf("confusion_%s.png", pm->model);
        g_strdelimit(name, "/\\ ", '_');
        if (!save(c, dir, name, error))
            return FALSE;
    }
    return TRUE;
}

gboolean pvx_study_figures_write(const PvxStudyAnalysis *an, const char *dir, GError **error)
{
    return an->type == PVX_STUDY_PAIRWISE ? pairwise_figures(an, dir, error)
                                          : identify_figures(an, dir, error);
}
