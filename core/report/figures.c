/* pvx — the report's figures (pvx-private/plot.h), each saved as PNG, PDF and SVG. */
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx-private/plot.h"
#include "pvx-private/run_layout.h"
#include "report_private.h"

static gboolean save_all(const PvxPlot *p, const ReportData *d, const char *name, GError **error)
{
    static const char *const ext[] = {"png", "pdf", "svg"};
    for (gsize i = 0; i < G_N_ELEMENTS(ext); i++) {
        g_autofree char *file = g_strdup_printf("%s.%s", name, ext[i]);
        g_autofree char *path = g_build_filename(d->dir, "report", file, NULL);
        if (!pvx_plot_save(p, path, error))
            return FALSE;
    }
    return TRUE;
}

static char **cr_labels(const ReportData *d)
{
    char **l = g_new0(char *, d->crs->len + 1);
    for (guint i = 0; i < d->crs->len; i++)
        l[i] = g_strdup_printf("%d", g_array_index(d->crs, ReportCr, i).cr);
    return l;
}

gboolean report_figure_accuracy(const ReportData *d, gboolean *written, GError **error)
{
    *written = FALSE;
    int n = (int)d->crs->len;
    if (n == 0)
        return TRUE;
    g_auto(GStrv) labels = cr_labels(d);
    g_autofree double *top1 = g_new(double, n), *top5 = g_new(double, n), *pre = g_new(double, n);
    gboolean any_pre = FALSE;
    for (int i = 0; i < n; i++) {
        const ReportCr *c = &g_array_index(d->crs, ReportCr, i);
        top1[i] = c->top1;
        top5[i] = c->top5;
        pre[i] = c->cr == 1 ? c->top1 : c->before;
        any_pre |= c->cr != 1 && isfinite(c->before);
    }
    g_autofree char *ylabel = g_strdup_printf("accuracy (%s)", d->split);
    g_autoptr(PvxPlot) p = pvx_plot_new("Accuracy per compression rate", 360, 220);
    pvx_plot_set_labels(p, "compression rate (CR)", ylabel, NULL);
    pvx_plot_set_x_categories(p, n, (const char *const *)labels);
    pvx_plot_line(p, "top-1", 0, n, NULL, top1, NULL, NULL);
    pvx_plot_line(p, "top-5", 0, n, NULL, top5, NULL, NULL);
    if (any_pre)
        pvx_plot_line(p, "top-1 before fine-tuning", 0, n, NULL, pre, NULL, NULL);
    if (!save_all(p, d, "accuracy", error))
        return FALSE;
    *written = TRUE;
    return TRUE;
}

gboolean report_figure_metric(const ReportData *d, const ReportMetric *m, const char *name,
                              gboolean *written, GError **error)
{
    *written = FALSE;
    int n = (int)d->crs->len;
    if (n == 0 || m->series->len == 0)
        return TRUE;
    g_auto(GStrv) labels = cr_labels(d);
    g_autofree double *top1 = g_new(double, n);
    for (int i = 0; i < n; i++)
        top1[i] = g_array_index(d->crs, ReportCr, i).top1;
    g_autofree char *title = g_strdup_printf("%s (%s) and top-1 per CR", m->metric, m->result);
    g_autofree char *right = g_strdup_printf("%s: %s (mean, 95 %% CI)", m->metric, m->result);
    g_autoptr(PvxPlot) p = pvx_plot_new(title, 400, 240);
    pvx_plot_set_labels(p, "compression rate (CR)", "top-1 accuracy", right);
    pvx_plot_set_x_categories(p, n, (const char *const *)labels);
    pvx_plot_line(p, "top-1", 0, n, NULL, top1, NULL, NULL);
    for (guint s = 0; s < m->series->len; s++) {
        const ReportSeries *rs = g_ptr_array_index(m->series, s);
        pvx_plot_line(p, rs->method, 1, n, NULL, rs->mean, rs->lo, rs->hi);
    }
    if (!save_all(p, d, name, error))
        return FALSE;
    *written = TRUE;
    return TRUE;
}

gboolean report_figure_density(const ReportData *d, gboolean *written, GError **error)
{
    *written = FALSE;
    /* The layers of the first pruned model name the groups; one bar series per CR > 1. */
    g_auto(GStrv) layers = NULL;
    GPtrArray *series = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) values = g_array_new(FALSE, FALSE, sizeof(double));
    int n_layers = 0;
    for (guint i = 0; i < d->crs->len; i++) {
        int cr = g_array_index(d->crs, ReportCr, i).cr;
        g_autofree char *group = pvx_layout_model(cr);
        g_autofree char *lp = pvx_layout_layers(group);
        g_autofree char *dp = pvx_layout_layer_density(group);
        if (cr == 1 || !pvx_store_exists(d->store, dp))
            continue;
        if (!layers) {
            layers = pvx_store_read_strings(d->store, lp, error);
            if (!layers) {
                g_ptr_array_free(series, TRUE);
                return FALSE;
            }
            n_layers = (int)g_strv_length(layers);
        }
        int nd;
        int64_t shape[8];
        g_autofree double *dens = pvx_store_read_f64(d->store, dp, &nd, shape, error);
        if (!dens) {
            g_ptr_array_free(series, TRUE);
            return FALSE;
        }
        if (shape[0] != n_layers)
            continue; /* a different selection: not comparable in one figure */
        g_array_append_vals(values, dens, n_layers);
        g_ptr_array_add(series, g_strdup_printf("CR %d", cr));
    }
    gboolean ok = TRUE;
    if (series->len > 0) {
        g_autoptr(PvxPlot) p = pvx_plot_new("Density per layer (kept / all weights)",
                                            MAX(360.0, 40.0 * n_layers), 240);
        pvx_plot_set_labels(p, "layer", "density", NULL);
        pvx_plot_bars(p, n_layers, (const char *const *)layers, (int)series->len,
                      (const char *const *)series->pdata, (const double *)values->data, NULL, NULL);
        ok = save_all(p, d, "density", error);
        *written = ok;
    }
    g_ptr_array_free(series, TRUE);
    return ok;
}

gboolean report_figure_training(const ReportData *d, gboolean *written, GError **error)
{
    *written = FALSE;
    g_autofree char *base = pvx_layout_model_train_history(1);
    g_autofree char *ep = pvx_layout_join(base, "epoch");
    if (!pvx_store_exists(d->store, ep))
        return TRUE;
    static const char *const cols[] = {"loss", "train_acc", "val_acc", "val_loss"};
    static const char *const names[] = {"train loss", "train accuracy", "val accuracy", "val loss"};
    int nd;
    int64_t shape[8];
    g_autofree double *x = pvx_store_read_f64(d->store, ep, &nd, shape, error);
    if (!x)
        return FALSE;
    int n = (int)shape[0];
    g_autoptr(PvxPlot) p = pvx_plot_new("Training of the unpruned model (CR 1)", 360, 220);
    pvx_plot_set_labels(p, "epoch", "loss", "accuracy");
    for (gsize c = 0; c < G_N_ELEMENTS(cols); c++) {
        g_autofree char *path = pvx_layout_join(base, cols[c]);
        if (!pvx_store_exists(d->store, path))
            continue;
        g_autofree double *y = pvx_store_read_f64(d->store, path, &nd, shape, error);
        if (!y)
            return FALSE;
        gboolean any = FALSE;
        for (int i = 0; i < n; i++)
            any |= isfinite(y[i]);
        if (any)
            pvx_plot_line(p, names[c], strstr(cols[c], "acc") ? 1 : 0, n, x, y, NULL, NULL);
    }
    if (!save_all(p, d, "training", error))
        return FALSE;
    *written = TRUE;
    return TRUE;
}
