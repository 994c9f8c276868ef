/* pvx — the run report: gathers what a run stored and writes report.html (pvx-private/report.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "pvx/error.h"
#include "pvx-private/report.h"
#include "pvx-private/run_layout.h"
#include "pvx-private/escape.h"
#include "report_private.h"

/* ---------------------------------------------------------------------------------------------
 * Reading the store.
 */

static double attr_or_nan(PvxStore *s, const char *path, const char *name)
{
    double v = NAN;
    if (pvx_store_exists(s, path))
        pvx_store_get_attr_double(s, path, name, &v, NULL);
    return v;
}

static int compare_cr(gconstpointer a, gconstpointer b)
{
    return ((const ReportCr *)a)->cr - ((const ReportCr *)b)->cr;
}

/* "cr12" → 12; -1 for anything else. */
static int parse_cr(const char *name)
{
    int cr = -1;
    return pvx_layout_parse_model_name(name, &cr) ? cr : -1;
}

static gboolean read_crs(ReportData *d, GError **error)
{
    d->crs = g_array_new(FALSE, TRUE, sizeof(ReportCr));
    if (!pvx_store_exists(d->store, pvx_layout_models()))
        return TRUE;
    g_auto(GStrv) names = pvx_store_list(d->store, pvx_layout_models(), error);
    if (!names)
        return FALSE;
    for (char **n = names; *n; n++) {
        int cr = parse_cr(*n);
        if (cr < 1)
            continue;
        g_autofree char *g = pvx_layout_model(cr);
        if (!d->split) {
            g_autofree char *ev = pvx_layout_eval_splits(g);
            if (pvx_store_exists(d->store, ev)) {
                g_auto(GStrv) splits = pvx_store_list(d->store, ev, NULL);
                if (splits && splits[0])
                    d->split = g_strdup(splits[0]);
            }
        }
        g_autofree char *eval = pvx_layout_eval(g, d->split ? d->split : "test");
        ReportCr c = {
            .cr = cr,
            .top1 = attr_or_nan(d->store, eval, "top1"),
            .top5 = attr_or_nan(d->store, eval, "top5"),
            .before = attr_or_nan(d->store, g, "top1_before_finetune"),
            .achieved = cr == 1 ? 1.0 : attr_or_nan(d->store, g, "compression_rate_achieved"),
            .model_ratio = cr == 1 ? 1.0 : attr_or_nan(d->store, g, "model_ratio"),
            .flop_reduction = cr == 1 ? 1.0 : attr_or_nan(d->store, g, "flop_reduction"),
            .seconds = cr == 1 ? NAN : attr_or_nan(d->store, g, "seconds"),
        };
        if (cr == 1) {
            g_autofree char *t = pvx_layout_model_train(1);
            c.seconds = attr_or_nan(d->store, t, "train_seconds");
        }
        g_array_append_val(d->crs, c);
    }
    g_array_sort(d->crs, compare_cr);
    if (!d->split)
        d->split = g_strdup("test");
    return TRUE;
}

static int cr_index(const ReportData *d, int cr)
{
    for (guint i = 0; i < d->crs->len; i++)
        if (g_array_index(d->crs, ReportCr, i).cr == cr)
            return (int)i;
    return -1;
}

static void series_free(ReportSeries *s)
{
    g_free(s->method);
    g_free(s->mean);
    g_free(s->lo);
    g_free(s->hi);
    g_free(s->p);
    g_free(s);
}

static void metric_free(ReportMetric *m)
{
    g_free(m->metric);
    g_free(m->result);
    g_ptr_array_free(m->series, TRUE);
    g_free(m);
}

static ReportMetric *find_metric(ReportData *d, const char *metric, const char *result)
{
    for (guint i = 0; i < d->metrics->len; i++) {
        ReportMetric *m = g_ptr_array_index(d->metrics, i);
        if (strcmp(m->metric, metric) == 0 && strcmp(m->result, result) == 0)
            return m;
    }
    ReportMetric *m = g_new0(ReportMetric, 1);
    m->metric = g_strdup(metric);
    m->result = g_strdup(result);
    m->series = g_ptr_array_new_with_free_func((GDestroyNotify)series_free);
    g_ptr_array_add(d->metrics, m);
    return m;
}

static ReportSeries *find_series(const ReportData *d, ReportMetric *m, const char *method)
{
    for (guint i = 0; i < m->series->len; i++) {
        ReportSeries *s = g_ptr_array_index(m->series, i);
        if (strcmp(s->method, method) == 0)
            return s;
    }
    guint n = MAX(d->crs->len, 1);
    ReportSeries *s = g_new0(ReportSeries, 1);
    s->method = g_strdup(method);
    s->mean = g_new(double, n);
    s->lo = g_new(double, n);
    s->hi = g_new(double, n);
    s->p = g_new(double, n);
    for (guint i = 0; i < n; i++)
        s->mean[i] = s->lo[i] = s->hi[i] = s->p[i] = NAN;
    g_ptr_array_add(m->series, s);
    return s;
}

/* /metrics/<metric>/<method>/cr<k>/<result> with attributes mean, ci_low, ci_high, wilcoxon_p. */
static gboolean read_metrics(ReportData *d, GError **error)
{
    d->metrics = g_ptr_array_new_with_free_func((GDestroyNotify)metric_free);
    if (!pvx_store_exists(d->store, pvx_layout_metrics()))
        return TRUE;
    g_auto(GStrv) metrics = pvx_store_list(d->store, pvx_layout_metrics(), error);
    if (!metrics)
        return FALSE;
    for (char **mt = metrics; *mt; mt++) {
        g_autofree char *mp = pvx_layout_metric(*mt);
        g_auto(GStrv) methods = pvx_store_list(d->store, mp, NULL);
        for (char **me = methods; me && *me; me++) {
            g_autofree char *ep = pvx_layout_metric_method(*mt, *me);
            g_auto(GStrv) crs = pvx_store_list(d->store, ep, NULL);
            for (char **c = crs; c && *c; c++) {
                int ci = cr_index(d, parse_cr(*c));
                if (ci < 0)
                    continue;
                g_autofree char *cp = pvx_layout_join(ep, *c);
                g_auto(GStrv) results = pvx_store_list(d->store, cp, NULL);
                for (char **r = results; r && *r; r++) {
                    g_autofree char *rp = pvx_layout_join(cp, *r);
                    double mean = attr_or_nan(d->store, rp, "mean");
                    if (isnan(mean))
                        continue;
                    ReportSeries *s = find_series(d, find_metric(d, *mt, *r), *me);
                    s->mean[ci] = mean;
                    s->lo[ci] = attr_or_nan(d->store, rp, "ci_low");
                    s->hi[ci] = attr_or_nan(d->store, rp, "ci_high");
                    s->p[ci] = attr_or_nan(d->store, rp, "wilcoxon_p");
                }
            }
        }
    }
    return TRUE;
}

/* ---------------------------------------------------------------------------------------------
 * Writing HTML.
 */

static const char *style =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;"
    "max-width:1100px;color:#222;line-height:1.45;padding:0 1em}"
    "h1{margin-bottom:0}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}"
    ".sub{color:#666;margin-top:.2em}"
    "table{border-collapse:collapse;margin:.8em 0;font-size:.92em}"
    "th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}"
    "th{background:#f3f3f3}td.l,th.l{text-align:left}"
    "figure{display:inline-block;margin:.5em 1em .5em 0;vertical-align:top;max-width:48%}"
    "figure img{max-width:100%;border:1px solid #eee}"
    "figcaption{font-size:.85em;color:#555}"
    "pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.85em}"
    ".gallery img{max-width:100%;margin:.3em 0;border:1px solid #eee}"
    "details{margin:.5em 0}";

static void num(GString *h, double v, const char *fmt)
{
    if (isfinite(v))
        g_string_append_printf(h, fmt, v);
    else
        g_string_append(h, "–");
}

static void figure(GString *h, const char *name, const char *caption)
{
    g_autofree char *cap = pvx_escape_html_new(caption);
    g_string_append_printf(h,
                           "<figure><img src=\"report/%s.png\" alt=\"%s\">"
                           "<figcaption>%s — <a href=\"report/%s.pdf\">PDF</a> · "
                           "<a href=\"report/%s.svg\">SVG</a></figcaption></figure>\n",
                           name, cap, cap, name, name);
}

static char *attr_string(PvxStore *s, const char *path, const char *name)
{
    return pvx_store_exists(s, path) ? pvx_store_get_attr_string(s, path, name, NULL) : NULL;
}

static void section_header(GString *h, ReportData *d)
{
    g_autofree char *state = attr_string(d->store, pvx_layout_provenance(), "state");
    g_autofree char *base = g_path_get_basename(d->dir);
    g_autofree char *parent = g_path_get_dirname(d->dir);
    g_autofree char *name = attr_string(d->store, pvx_layout_provenance(), "experiment");
    if (!name)
        name = g_path_get_basename(parent);
    g_autofree char *e_name = pvx_escape_html_new(name), *e_base = pvx_escape_html_new(base);
    g_string_append_printf(h, "<h1>%s</h1><p class=\"sub\">run %s", e_name, e_base);
    if (state) {
        g_autofree char *e = pvx_escape_html_new(state);
        g_string_append_printf(h, " · %s", e);
    }
    g_string_append(h, "</p>\n");
}

static void section_config(GString *h, ReportData *d)
{
    g_autofree char *yaml = attr_string(d->store, pvx_layout_config(), "given");
    g_autofree char *resolved = attr_string(d->store, pvx_layout_config(), "resolved");
    g_autofree char *cpath = attr_string(d->store, pvx_layout_config(), "path");
    g_autofree char *version = attr_string(d->store, pvx_layout_provenance(), "pvx_version");
    g_autofree char *host = attr_string(d->store, pvx_layout_provenance(), "host");
    g_autofree char *start = attr_string(d->store, pvx_layout_provenance(), "start_time");
    g_autofree char *end = attr_string(d->store, pvx_layout_provenance(), "end_time");
    g_string_append(h, "<h2>Config and provenance</h2>\n<table>");
    const char *keys[] = {"config file", "pvx", "host", "started", "ended"};
    const char *vals[] = {cpath, version, host, start, end};
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (!vals[i])
            continue;
        g_autofree char *e = pvx_escape_html_new(vals[i]);
        g_string_append_printf(h, "<tr><th class=\"l\">%s</th><td class=\"l\">%s</td></tr>",
                               keys[i], e);
    }
    int64_t seed = 0;
    if (pvx_store_get_attr_int(d->store, pvx_layout_provenance(), "seed", &seed, NULL))
        g_string_append_printf(
            h, "<tr><th class=\"l\">seed</th><td class=\"l\">%" G_GINT64_FORMAT "</td></tr>", seed);
    g_string_append(h, "</table>\n");
    if (yaml) {
        g_autofree char *e = pvx_escape_html_new(yaml);
        g_string_append_printf(h,
                               "<details><summary>the config as given</summary><pre>%s</pre>"
                               "</details>\n",
                               e);
    }
    if (resolved) {
        g_autofree char *e = pvx_escape_html_new(resolved);
        g_string_append_printf(h,
                               "<details><summary>the resolved config (every default "
                               "spelled out)</summary><pre>%s</pre></details>\n",
                               e);
    }
}

/* The architecture the run trained (attributes the train stage wrote on the CR 1 model). */
static void section_model(GString *h, ReportData *d)
{
    g_autofree char *group = pvx_layout_model(1);
    g_autofree char *plugin = attr_string(d->store, group, "model_plugin");
    g_autofree char *arch = attr_string(d->store, group, "arch");
    if (!arch)
        return;
    g_autofree char *ep = pvx_escape_html_new(plugin && *plugin ? plugin : "?");
    g_autofree char *ea = pvx_escape_html_new(arch);
    g_string_append_printf(h, "<h2>Model</h2>\n<p>architecture <b>%s</b> (model plugin %s)", ea,
                           ep);
    double params = attr_or_nan(d->store, group, "num_params");
    double layers = attr_or_nan(d->store, group, "num_layers");
    double flops = attr_or_nan(d->store, group, "flops");
    if (!isnan(params))
        g_string_append_printf(h, " · %.0f parameters", params);
    if (!isnan(layers))
        g_string_append_printf(h, " · %.0f layers", layers);
    if (!isnan(flops))
        g_string_append_printf(h, " · %.1f MFLOPs per image", flops / 1e6);
    g_autofree char *target = attr_string(d->store, group, "target_layer");
    if (target && *target) {
        g_autofree char *et = pvx_escape_html_new(target);
        g_string_append_printf(h, " · CAM layer <code>%s</code>", et);
    }
    g_string_append(h, "</p>\n");
}

static void section_dataset(GString *h, ReportData *d)
{
    g_autofree char *name = attr_string(d->store, pvx_layout_dataset(), "plugin");
    if (!name)
        return;
    g_autofree char *e = pvx_escape_html_new(name);
    g_string_append_printf(h, "<h2>Dataset</h2>\n<p>plugin <b>%s</b>", e);
    if (pvx_store_exists(d->store, pvx_layout_dataset_split_sizes())) {
        int nd;
        int64_t shape[8];
        g_autofree int64_t *sizes =
            pvx_store_read_i64(d->store, pvx_layout_dataset_split_sizes(), &nd, shape, NULL);
        const char *splits[] = {"train", "val", "test"};
        for (int64_t i = 0; sizes && i < shape[0] && i < 3; i++)
            if (sizes[i] > 0)
                g_string_append_printf(h, " · %s %" G_GINT64_FORMAT " images", splits[i], sizes[i]);
    }
    if (pvx_store_exists(d->store, pvx_layout_dataset_item_shape())) {
        int nd;
        int64_t shape[8];
        g_autofree int64_t *chw =
            pvx_store_read_i64(d->store, pvx_layout_dataset_item_shape(), &nd, shape, NULL);
        if (chw && shape[0] == 3)
            g_string_append_printf(h,
                                   " · %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT,
                                   chw[0], chw[1], chw[2]);
    }
    g_auto(GStrv) classes =
        pvx_store_exists(d->store, pvx_layout_dataset_class_names())
            ? pvx_store_read_strings(d->store, pvx_layout_dataset_class_names(), NULL)
            : NULL;
    if (classes) {
        g_autofree char *joined = g_strjoinv(", ", classes);
        g_autofree char *ej = pvx_escape_html_new(joined);
        g_string_append_printf(h, " · %u classes: %s", g_strv_length(classes), ej);
    }
    g_string_append(h, "</p>\n");
    g_autofree char *preview = g_build_filename(d->dir, "preview.png", NULL);
    if (g_file_test(preview, G_FILE_TEST_EXISTS))
        g_string_append(h, "<figure><img src=\"preview.png\" alt=\"dataset preview\" "
                           "style=\"max-width:520px\"><figcaption>samples per class</figcaption>"
                           "</figure>\n");
}

static void section_accuracy(GString *h, ReportData *d, gboolean fig_acc, gboolean fig_density,
                             gboolean fig_train)
{
    if (d->crs->len == 0)
        return;
    g_string_append(h, "<h2>Accuracy and pruning per compression rate</h2>\n");
    if (fig_train)
        figure(h, "training", "training curves of the unpruned model");
    if (fig_acc)
        figure(h, "accuracy", "top-1 and top-5 accuracy per compression rate");
    g_autofree char *pruner = attr_string(d->store, pvx_layout_prune(), "pruner");
    g_autofree char *schedule = attr_string(d->store, pvx_layout_prune(), "schedule");
    if (pruner) {
        g_autofree char *ep = pvx_escape_html_new(pruner), *es = pvx_escape_html_new(schedule);
        g_string_append_printf(h, "<p>pruner <b>%s</b>, schedule <b>%s</b>", ep, es);
        g_auto(GStrv) layers =
            pvx_store_exists(d->store, pvx_layout_prune_layers())
                ? pvx_store_read_strings(d->store, pvx_layout_prune_layers(), NULL)
                : NULL;
        if (layers) {
            g_autofree char *j = g_strjoinv(", ", layers);
            g_autofree char *ej = pvx_escape_html_new(j);
            g_string_append_printf(h, ", layers %s", ej);
        }
        g_string_append(h, ". CR = weights of these layers before / kept after.</p>\n");
    }
    g_autofree char *es = pvx_escape_html_new(d->split);
    g_string_append_printf(h,
                           "<table><tr><th>CR</th><th>achieved</th><th>top-1 (%s)</th>"
                           "<th>top-5</th><th>top-1 before fine-tuning</th>"
                           "<th>parameter ratio</th><th>FLOP reduction</th><th>seconds</th></tr>\n",
                           es);
    for (guint i = 0; i < d->crs->len; i++) {
        const ReportCr *c = &g_array_index(d->crs, ReportCr, i);
        g_string_append_printf(h, "<tr><td>%d</td><td>", c->cr);
        num(h, c->achieved, "%.2f");
        g_string_append(h, "</td><td>");
        num(h, c->top1, "%.4f");
        g_string_append(h, "</td><td>");
        num(h, c->top5, "%.4f");
        g_string_append(h, "</td><td>");
        num(h, c->cr == 1 ? NAN : c->before, "%.4f");
        g_string_append(h, "</td><td>");
        num(h, c->model_ratio, "%.2f");
        g_string_append(h, "</td><td>");
        num(h, c->flop_reduction, "%.2f");
        g_string_append(h, "</td><td>");
        num(h, c->seconds, "%.1f");
        g_string_append(h, "</td></tr>\n");
    }
    g_string_append(h, "</table>\n");
    if (fig_density)
        figure(h, "density", "per-layer density (kept weights / all) of each pruned model");
}

static void section_metrics(GString *h, ReportData *d, const gboolean *fig)
{
    if (d->metrics->len == 0)
        return;
    g_string_append(h,
                    "<h2>Explanation metrics per method and compression rate</h2>\n"
                    "<p>Mean over the explained images, [95 % bootstrap confidence interval], "
                    "and the Wilcoxon signed-rank p-value of the paired difference to CR 1.</p>\n");
    for (guint i = 0; i < d->metrics->len; i++) {
        const ReportMetric *m = g_ptr_array_index(d->metrics, i);
        g_autofree char *em = pvx_escape_html_new(m->metric), *er = pvx_escape_html_new(m->result);
        g_string_append_printf(h, "<h3>%s — %s</h3>\n", em, er);
        if (fig[i]) {
            g_autofree char *name = g_strdup_printf("metric-%s-%s", m->metric, m->result);
            g_autofree char *cap =
                g_strdup_printf("%s (%s) per method, with top-1, per CR", m->metric, m->result);
            figure(h, name, cap);
        }
        g_string_append(h, "<table><tr><th class=\"l\">method</th>");
        for (guint c = 0; c < d->crs->len; c++)
            g_string_append_printf(h, "<th>CR %d</th>", g_array_index(d->crs, ReportCr, c).cr);
        g_string_append(h, "</tr>\n");
        for (guint s = 0; s < m->series->len; s++) {
            const ReportSeries *rs = g_ptr_array_index(m->series, s);
            g_autofree char *e = pvx_escape_html_new(rs->method);
            g_string_append_printf(h, "<tr><td class=\"l\">%s</td>", e);
            for (guint c = 0; c < d->crs->len; c++) {
                g_string_append(h, "<td>");
                num(h, rs->mean[c], "%.4f");
                if (isfinite(rs->lo[c]))
                    g_string_append_printf(h, " [%.4f, %.4f]", rs->lo[c], rs->hi[c]);
                if (isfinite(rs->p[c]))
                    g_string_append_printf(h, "<br><small>p = %.3g</small>", rs->p[c]);
                g_string_append(h, "</td>");
            }
            g_string_append(h, "</tr>\n");
        }
        g_string_append(h, "</table>\n");
    }
}

static int compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files in @dir (relative to the run folder) whose names end with @suffix, sorted. */
static GPtrArray *files_with_suffix(const ReportData *d, const char *dir, const char *suffix)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *full = g_build_filename(d->dir, dir, NULL);
    g_autoptr(GDir) gd = g_dir_open(full, 0, NULL);
    const char *name;
    while (gd && (name = g_dir_read_name(gd)))
        if (g_str_has_suffix(name, suffix))
            g_ptr_array_add(out, g_strdup_printf("%s/%s", dir, name));
    g_ptr_array_sort(out, compare_strings);
    return out;
}

static void section_gallery(GString *h, ReportData *d)
{
    g_autofree char *maps = g_build_filename(d->dir, "maps", NULL);
    g_autoptr(GDir) gd = g_dir_open(maps, 0, NULL);
    if (!gd)
        return;
    g_autoptr(GPtrArray) methods = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(gd)))
        g_ptr_array_add(methods, g_strdup(name));
    g_ptr_array_sort(methods, compare_strings);
    gboolean header = FALSE;
    for (guint i = 0; i < methods->len; i++) {
        const char *m = g_ptr_array_index(methods, i);
        g_autofree char *dir = g_strdup_printf("maps/%s", m);
        g_autoptr(GPtrArray) sheets = files_with_suffix(d, dir, "_sheet.png");
        if (sheets->len == 0)
            continue;
        if (!header) {
            g_string_append(h, "<h2>Explanation maps across compression rates</h2>\n"
                               "<p>One sheet per image and method: the image, then every CR "
                               "model's map — heat maps in the first row, occlusion maps (only "
                               "the most relevant pixels visible) in the second.</p>\n");
            header = TRUE;
        }
        g_autofree char *em = pvx_escape_html_new(m);
        g_string_append_printf(
            h, "<details%s><summary>%s — %u images</summary><div class=\"gallery\">\n",
            i == 0 ? " open" : "", em, sheets->len);
        for (guint s = 0; s < sheets->len; s++) {
            g_autofree char *e = pvx_escape_html_new(g_ptr_array_index(sheets, s));
            g_string_append_printf(h, "<img src=\"%s\" alt=\"%s\" loading=\"lazy\">\n", e, e);
        }
        g_string_append(h, "</div></details>\n");
    }
}

/* Human-study analyses: every PNG and summary.json below RUN_DIR/study. */
static void collect_study(const ReportData *d, const char *rel, GPtrArray *pngs, GPtrArray *jsons,
                          int depth)
{
    g_autofree char *full = g_build_filename(d->dir, rel, NULL);
    g_autoptr(GDir) gd = g_dir_open(full, 0, NULL);
    const char *name;
    while (gd && depth < 4 && (name = g_dir_read_name(gd))) {
        g_autofree char *child = g_strdup_printf("%s/%s", rel, name);
        g_autofree char *cf = g_build_filename(d->dir, child, NULL);
        if (g_file_test(cf, G_FILE_TEST_IS_DIR))
            collect_study(d, child, pngs, jsons, depth + 1);
        else if (g_str_has_suffix(name, ".png") && (strstr(child, "analys") != NULL))
            g_ptr_array_add(pngs, g_strdup(child));
        else if (strcmp(name, "summary.json") == 0)
            g_ptr_array_add(jsons, g_strdup(child));
    }
}

static void section_study(GString *h, ReportData *d)
{
    g_autoptr(GPtrArray) pngs = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) jsons = g_ptr_array_new_with_free_func(g_free);
    collect_study(d, "study", pngs, jsons, 0);
    if (pngs->len == 0 && jsons->len == 0)
        return;
    g_ptr_array_sort(pngs, compare_strings);
    g_ptr_array_sort(jsons, compare_strings);
    g_string_append(h, "<h2>Human study</h2>\n");
    for (guint i = 0; i < jsons->len; i++) {
        g_autofree char *e = pvx_escape_html_new(g_ptr_array_index(jsons, i));
        g_autofree char *path = g_build_filename(d->dir, g_ptr_array_index(jsons, i), NULL);
        g_autofree char *text = NULL;
        g_string_append_printf(h, "<p><a href=\"%s\">%s</a></p>\n", e, e);
        if (g_file_get_contents(path, &text, NULL, NULL) && strlen(text) < 20000) {
            g_autofree char *et = pvx_escape_html_new(text);
            g_string_append_printf(
                h, "<details><summary>summary</summary><pre>%s</pre></details>\n", et);
        }
    }
    for (guint i = 0; i < pngs->len; i++) {
        g_autofree char *e = pvx_escape_html_new(g_ptr_array_index(pngs, i));
        g_string_append_printf(h,
                               "<figure><img src=\"%s\" alt=\"%s\"><figcaption>%s</figcaption>"
                               "</figure>\n",
                               e, e, e);
    }
}

gboolean pvx_report_write(const char *run_dir, char **html_out, GError **error)
{
    g_return_val_if_fail(run_dir != NULL, FALSE);
    g_autofree char *store_path = g_build_filename(run_dir, "results.h5", NULL);
    if (!g_file_test(store_path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "%s: not a pvx run folder (no results.h5)", run_dir);
        return FALSE;
    }
    ReportData d = {.dir = g_strdup(run_dir)};
    gboolean ok = FALSE;
    g_autofree gboolean *fig_metric = NULL;
    g_autofree char *html = NULL, *tmp = NULL;
    GString *h = g_string_new(NULL);
    g_autofree char *figdir = g_build_filename(run_dir, "report", NULL);
    d.store = pvx_store_open(store_path, FALSE, error);
    if (!d.store || !read_crs(&d, error) || !read_metrics(&d, error))
        goto out;
    if (g_mkdir_with_parents(figdir, 0755) != 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "cannot create %s: %s", figdir,
                    g_strerror(errno));
        goto out;
    }
    gboolean fig_acc = FALSE, fig_density = FALSE, fig_train = FALSE;
    fig_metric = g_new0(gboolean, MAX(d.metrics->len, 1));
    if (!report_figure_accuracy(&d, &fig_acc, error) ||
        !report_figure_density(&d, &fig_density, error) ||
        !report_figure_training(&d, &fig_train, error))
        goto out;
    for (guint i = 0; i < d.metrics->len; i++) {
        const ReportMetric *rm = g_ptr_array_index(d.metrics, i);
        g_autofree char *name = g_strdup_printf("metric-%s-%s", rm->metric, rm->result);
        if (!report_figure_metric(&d, rm, name, &fig_metric[i], error))
            goto out;
    }
    g_string_append_printf(h,
                           "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                           "<meta name=\"viewport\" content=\"width=device-width\">"
                           "<title>pvx report</title><style>%s</style></head><body>\n",
                           style);
    section_header(h, &d);
    section_accuracy(h, &d, fig_acc, fig_density, fig_train);
    section_metrics(h, &d, fig_metric);
    section_gallery(h, &d);
    section_study(h, &d);
    section_dataset(h, &d);
    section_model(h, &d);
    section_config(h, &d);
    g_string_append(h, "<p class=\"sub\">written by pvx report</p>\n</body></html>\n");
    html = g_build_filename(run_dir, "report.html", NULL);
    tmp = g_strconcat(html, ".tmp", NULL);
    GError *local = NULL;
    if (!g_file_set_contents(tmp, h->str, (gssize)h->len, &local) || g_rename(tmp, html) != 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "cannot write %s: %s", html,
                    local ? local->message : g_strerror(errno));
        g_clear_error(&local);
        goto out;
    }
    if (html_out)
        *html_out = g_strdup(html);
    ok = TRUE;
out:
    g_string_free(h, TRUE);
    if (d.store)
        pvx_store_close(d.store);
    if (d.crs)
        g_array_free(d.crs, TRUE);
    if (d.metrics)
        g_ptr_array_free(d.metrics, TRUE);
    g_free(d.split);
    g_free(d.dir);
    return ok;
}
