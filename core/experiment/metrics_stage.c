/* pvx — the metrics stage: every metric of `metrics.compute` on every method's maps at every CR,
 * per-item values, summaries with bootstrap CIs, Wilcoxon tests against CR 1, and a table. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pvx/random.h"
#include "pvx-private/core.h"
#include "pvx-private/metrics_stage.h"
#include "pvx-private/run_layout.h"

#define STAGE "metrics"
#define LIST "metrics.compute"

gboolean pvx_metrics_check(const PvxConfig *cfg, const PvxRegistry *reg, const PvxDataset *ds,
                           GError **error)
{
    (void)reg;
    g_return_val_if_fail(cfg && ds, FALSE);
    guint n = pvx_config_list_length(cfg, LIST);
    guint32 available = ~(guint32)0;
    if (!pvx_dataset_has_masks(ds))
        available &= ~(guint32)PVX_METRIC_NEEDS_MASKS;
    g_autofree char *context = g_strdup_printf("dataset %s", pvx_dataset_name(ds));
    for (guint i = 0; i < n; i++) {
        const PvxPlugin *pl = pvx_config_plugin(cfg, LIST, i, NULL);
        if (!pl)
            continue;
        if (!pvx_metric_check_inputs(pl, available, context, error)) {
            g_prefix_error(error, "%s: metrics.compute entry %u: ", pvx_config_path(cfg), i + 1);
            return FALSE;
        }
    }
    if (n == 0)
        return TRUE;
    /* the maps come from the explain stage */
    guint n_ex = pvx_config_list_length(cfg, "explain.methods");
    if (n_ex == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_MISSING,
                    "%s: metrics score explanation maps, but `explain.methods` lists no method "
                    "(e.g. - plugin: gradcam)",
                    pvx_config_path(cfg));
        return FALSE;
    }
    const PvxParams *p = pvx_config_section(cfg, "metrics");
    gsize n_want = 0;
    const char *const *want = pvx_params_get_string_list(p, "methods", &n_want);
    for (gsize i = 0; i < n_want; i++) {
        gboolean found = FALSE;
        for (guint k = 0; k < n_ex && !found; k++)
            found = strcmp(pvx_config_plugin(cfg, "explain.methods", k, NULL)->desc->name,
                           want[i]) == 0;
        if (!found) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                        "%s: metrics.methods names '%s', which explain.methods does not list",
                        pvx_params_where(p, "methods"), want[i]);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean load_cr(PvxModel *model, PvxStore *store, int cr, GError **error)
{
    if (pvx_load_cr_model(model, store, cr, error))
        return TRUE;
    g_prefix_error(error, "%s: ", "metrics");
    return FALSE;
}

/* The explained items: images [N, C, H, W], labels, masks [N, H, W] (when the dataset has
 * them), ids. */
typedef struct {
    int64_t n;
    PvxTensor *images, *masks;
    int64_t *labels;
    char **ids;
} Items;

static void items_clear(Items *it)
{
    g_clear_pointer(&it->images, pvx_tensor_unref);
    g_clear_pointer(&it->masks, pvx_tensor_unref);
    g_clear_pointer(&it->labels, g_free);
    g_clear_pointer(&it->ids, g_strfreev);
}

static gboolean load_items(PvxRun *run, const PvxDataset *ds, Items *out, GError **error)
{
    PvxStore *store = pvx_run_store(run);
    const PvxParams *ep = pvx_config_section(pvx_run_config(run), "explain");
    PvxSplit split = PVX_SPLIT_TEST;
    pvx_split_from_name(pvx_params_get_string(ep, "split"), &split);
    if (!pvx_store_exists(store, pvx_layout_explain_index())) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "metrics: %s has no explained images (%s); the explain stage runs first",
                    pvx_store_path(store), pvx_layout_explain_index());
        return FALSE;
    }
    int nd;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    g_autofree int64_t *index =
        pvx_store_read_i64(store, pvx_layout_explain_index(), &nd, shape, error);
    if (!index)
        return FALSE;
    int64_t n = shape[0], chw[3];
    pvx_dataset_item_shape(ds, chw);
    int64_t item = chw[0] * chw[1] * chw[2], hw = chw[1] * chw[2];
    out->n = n;
    out->images = pvx_tensor_new_shape(4, n, chw[0], chw[1], chw[2]);
    out->masks = pvx_dataset_has_masks(ds) ? pvx_tensor_new_shape(3, n, chw[1], chw[2]) : NULL;
    out->labels = g_new(int64_t, n);
    out->ids = g_new0(char *, n + 1);
    for (int64_t i = 0; i < n; i++) {
        PvxDatasetItem it = {0};
        if (!pvx_dataset_get_item(ds, split, index[i], &it, error))
            return FALSE;
        memcpy(out->images->data + i * item, it.image->data, sizeof(float) * item);
        if (out->masks && it.mask)
            memcpy(out->masks->data + i * hw, it.mask->data, sizeof(float) * hw);
        out->labels[i] = it.label;
        out->ids[i] =
            it.id ? g_strdup(it.id)
                  : g_strdup_printf("%s-%06" G_GINT64_FORMAT, pvx_split_name(split), index[i]);
        pvx_dataset_item_clear(&it);
    }
    return TRUE;
}

/* Re-running a method for the randomisation test. */
typedef struct {
    PvxExplainer *ex;
    const char *layer;
    int batch_size;
} ExplainCtx;

static gboolean explain_again(gpointer data, PvxModel *model, const PvxTensor *images,
                              const int64_t *targets, PvxTensor **maps_out, GError **error)
{
    ExplainCtx *ctx = data;
    int64_t n = images->shape[0];
    int bs = ctx->batch_size > 0 ? ctx->batch_size : 8;
    g_autoptr(PvxTensor) all = NULL;
    for (int64_t b0 = 0; b0 < n; b0 += bs) {
        int64_t nb = MIN((int64_t)bs, n - b0);
        g_autoptr(PvxTensor) xb = pvx_tensor_narrow0((PvxTensor *)images, b0, nb);
        PvxExplainOptions o = {.mode = PVX_TARGET_LABEL,
                               .labels = targets + b0,
                               .layer = ctx->layer,
                               .batch_size = bs};
        g_autoptr(PvxTensor) maps = pvx_explain(ctx->ex, model, xb, &o, NULL, NULL, error);
        if (!maps)
            return FALSE;
        if (!all)
            all = pvx_tensor_new_shape(3, n, maps->shape[1], maps->shape[2]);
        int64_t per = maps->shape[1] * maps->shape[2];
        memcpy(all->data + b0 * per, maps->data, sizeof(float) * nb * per);
    }
    *maps_out = g_steal_pointer(&all);
    return TRUE;
}

static PvxTensor *forward_logits(PvxModel *model, PvxTensor *x, int bs, GError **error)
{
    int64_t n = x->shape[0];
    g_autoptr(PvxTensor) out = NULL;
    for (int64_t b0 = 0; b0 < n; b0 += bs) {
        int64_t nb = MIN((int64_t)bs, n - b0);
        g_autoptr(PvxTensor) xb = pvx_tensor_narrow0(x, b0, nb);
        g_autoptr(PvxTensor) y = pvx_model_forward(model, xb, PVX_FORWARD_INFERENCE, error);
        if (!y)
            return NULL;
        if (!out)
            out = pvx_tensor_new_shape(2, n, y->shape[1]);
        memcpy(out->data + b0 * y->shape[1], y->data, sizeof(float) * nb * y->shape[1]);
    }
    return g_steal_pointer(&out);
}

typedef struct {
    const PvxPlugin *plugin;
    const PvxParams *params;
    const char *name;
} Metric;

/* results[(metric * n_methods + method) * n_crs + cr] */
typedef struct {
    int n_metrics, n_methods, n_crs;
    PvxMetricResult **r;
} Results;

static PvxMetricResult **cell(Results *res, int mi, int me, int c)
{
    return &res->r[((gsize)mi * res->n_methods + me) * res->n_crs + c];
}

/* The seed of one cell's draws (@what: a result's name for its bootstrap, "input" for the metric's
 * own): the run seed hashed with the metric, the method, the compression ratio and @what, in this
 * order — pvx_hash64_str(pvx_hash64(pvx_hash64_str(pvx_hash64_str(seed, metric), method), cr, 0),
 * what). */
static guint64 cell_seed(guint64 seed, const char *metric, const char *method, int cr,
                         const char *what)
{
    guint64 h = pvx_hash64_str(pvx_hash64_str(seed, metric), method);
    return pvx_hash64_str(pvx_hash64(h, (guint64)cr, 0), what);
}

/* "0.123 [0.101, 0.150]" or "—". */
static char *format_cell(const PvxMetricSummary *s, double p)
{
    if (s->n == 0)
        return g_strdup("-");
    GString *g = g_string_new(NULL);
    g_string_append_printf(g, "%.3f", s->mean);
    if (isfinite(s->ci_low))
        g_string_append_printf(g, " [%.3f, %.3f]", s->ci_low, s->ci_high);
    if (isfinite(p))
        g_string_append(g, p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : "");
    return g_string_free(g, FALSE);
}

/* The summary of one per-item result of one metric and method at one CR. */
typedef struct {
    int mi, me, c;      /* metric, method and CR index */
    const char *rname;  /* the result's name, pointing into the results */
    PvxMetricSummary s; /* mean, std and bootstrap CI */
    gboolean tested;    /* against CR 1 (not at CR 1, and CR 1 has the result) */
    double p, stat;     /* Wilcoxon signed-rank p and statistic; p NaN when not tested */
    int64_t used;       /* Wilcoxon: pairs used */
} Summary;

/* What write_results works on: the results, what they are of, and the summary settings. */
typedef struct {
    Results *res;
    const Metric *metrics;
    char **methods;
    const int *crs;
    int cr1;       /* index of CR 1 in @crs, -1 when absent */
    int resamples; /* bootstrap */
    double level;  /* confidence */
    guint64 seed;
} Summarizing;

/* Summaries of every per-item result, in the order of the table's rows (metric, result, method)
 * and, within a row, of the CRs: one line of res->n_crs summaries per row. Per-item result
 * names are taken from each metric's first cell. Returns: (transfer full) an array of Summary. */
static GArray *summarize(const Summarizing *z)
{
    Results *res = z->res;
    GArray *out = g_array_new(FALSE, FALSE, sizeof(Summary));
    for (int mi = 0; mi < res->n_metrics; mi++) {
        g_autoptr(GPtrArray) names = pvx_metric_result_names(*cell(res, mi, 0, 0));
        for (guint k = 0; k < names->len; k++) {
            const char *rname = names->pdata[k];
            if (!pvx_metric_result_is_per_item(*cell(res, mi, 0, 0), rname))
                continue;
            for (int me = 0; me < res->n_methods; me++) {
                const double *ref = z->cr1 >= 0 ? pvx_metric_result_get_matrix(
                                                      *cell(res, mi, me, z->cr1), rname, NULL, NULL)
                                                : NULL;
                for (int c = 0; c < res->n_crs; c++) {
                    int64_t rows = 0;
                    const double *v =
                        pvx_metric_result_get_matrix(*cell(res, mi, me, c), rname, &rows, NULL);
                    Summary sm = {.mi = mi, .me = me, .c = c, .rname = rname, .p = NAN};
                    pvx_metric_summarize(
                        v, rows, z->resamples, z->level,
                        cell_seed(z->seed, z->metrics[mi].name, z->methods[me], z->crs[c], rname),
                        &sm.s);
                    sm.tested = ref && z->crs[c] != 1;
                    if (sm.tested)
                        sm.p = pvx_metric_wilcoxon(v, ref, rows, &sm.stat, &sm.used);
                    g_array_append_val(out, sm);
                }
            }
        }
    }
    return out;
}

/* Writes /metrics anew: every cell's results, with its CR, and the summaries @sums as
 * attributes of each per-item result. */
static gboolean store_results(PvxStore *store, const Summarizing *z, const GArray *sums,
                              GError **error)
{
    Results *res = z->res;
    if (!pvx_store_delete(store, pvx_layout_metrics(), error))
        return FALSE;
    for (int mi = 0; mi < res->n_metrics; mi++)
        for (int me = 0; me < res->n_methods; me++)
            for (int c = 0; c < res->n_crs; c++) {
                g_autofree char *group =
                    pvx_layout_metric_group(z->metrics[mi].name, z->methods[me], z->crs[c]);
                if (!pvx_metric_result_write(*cell(res, mi, me, c), store, group, error) ||
                    !pvx_store_set_attr_int(store, group, "compression_rate", z->crs[c], error))
                    return FALSE;
            }
    for (guint i = 0; i < sums->len; i++) {
        const Summary *sm = &g_array_index(sums, Summary, i);
        g_autofree char *path = pvx_layout_metric_result(
            z->metrics[sm->mi].name, z->methods[sm->me], z->crs[sm->c], sm->rname);
        if (!pvx_store_set_attr_int(store, path, "n", sm->s.n, error) ||
            !pvx_store_set_attr_double(store, path, "mean", sm->s.mean, error) ||
            !pvx_store_set_attr_double(store, path, "std", sm->s.std, error) ||
            !pvx_store_set_attr_double(store, path, "ci_low", sm->s.ci_low, error) ||
            !pvx_store_set_attr_double(store, path, "ci_high", sm->s.ci_high, error) ||
            !pvx_store_set_attr_double(store, path, "confidence", z->level, error))
            return FALSE;
        if (sm->tested &&
            (!pvx_store_set_attr_double(store, path, "wilcoxon_p", sm->p, error) ||
             !pvx_store_set_attr_double(store, path, "wilcoxon_stat", sm->stat, error) ||
             !pvx_store_set_attr_int(store, path, "wilcoxon_n", sm->used, error)))
            return FALSE;
    }
    return TRUE;
}

/* The table of metrics.txt: a row per metric result and method, a column per CR with mean, CI
 * and significance stars, then (when CR 1 and another CR are there) the Wilcoxon p-values.
 * Returns: (transfer full). */
static char *format_table(const Summarizing *z, const GArray *sums, int64_t n_items)
{
    Results *res = z->res;
    GString *table = g_string_new(NULL);
    GString *ptable = g_string_new(NULL);
    g_string_append(ptable, "\nWilcoxon signed-rank p-values, each CR against CR 1 (paired per "
                            "image, two-sided)\n");
    g_string_append_printf(ptable, "%-30s %-22s", "metric", "method");
    for (int c = 0; c < res->n_crs; c++)
        if (z->crs[c] != 1) {
            g_autofree char *h = g_strdup_printf("CR %d", z->crs[c]);
            g_string_append_printf(ptable, " %-9s", h);
        }
    g_string_append_c(ptable, '\n');
    g_string_append_printf(table,
                           "metrics of %" G_GINT64_FORMAT " explained images: mean [%g %% "
                           "bootstrap CI]; * p < 0.05, ** p < 0.01, *** p < 0.001 (Wilcoxon "
                           "signed-rank vs CR 1)\n",
                           n_items, 100 * z->level);
    g_string_append_printf(table, "%-30s %-22s", "metric", "method");
    for (int c = 0; c < res->n_crs; c++) {
        g_autofree char *h = g_strdup_printf("CR %d", z->crs[c]);
        g_string_append_printf(table, " %-24s", h);
    }
    g_string_append_c(table, '\n');
    for (guint i = 0; i < sums->len; i++) {
        const Summary *sm = &g_array_index(sums, Summary, i);
        if (sm->c == 0) {
            g_autofree char *label = g_strdup_printf("%s.%s", z->metrics[sm->mi].name, sm->rname);
            g_string_append_printf(table, "%-30s %-22s", label, z->methods[sm->me]);
            g_string_append_printf(ptable, "%-30s %-22s", label, z->methods[sm->me]);
        }
        g_autofree char *txt = format_cell(&sm->s, sm->p);
        g_string_append_printf(table, " %-24s", txt);
        if (z->crs[sm->c] != 1) {
            g_autofree char *pt = isfinite(sm->p) ? g_strdup_printf("%.3g", sm->p) : g_strdup("-");
            g_string_append_printf(ptable, " %-9s", pt);
        }
        if (sm->c == res->n_crs - 1) {
            g_string_append_c(table, '\n');
            g_string_append_c(ptable, '\n');
        }
    }
    if (z->cr1 >= 0 && res->n_crs > 1)
        g_string_append(table, ptable->str);
    g_string_free(ptable, TRUE);
    return g_string_free(table, FALSE);
}

/* metrics.csv: a header and one line per summary. Returns: (transfer full). */
static char *format_csv(const Summarizing *z, const GArray *sums)
{
    GString *csv = g_string_new("metric,result,method,cr,n,mean,std,ci_low,ci_high,wilcoxon_p\n");
    for (guint i = 0; i < sums->len; i++) {
        const Summary *sm = &g_array_index(sums, Summary, i);
        g_string_append_printf(
            csv, "%s,%s,%s,%d,%" G_GINT64_FORMAT ",%.17g,%.17g,%.17g,%.17g,%.17g\n",
            z->metrics[sm->mi].name, sm->rname, z->methods[sm->me], z->crs[sm->c], sm->s.n,
            sm->s.mean, sm->s.std, sm->s.ci_low, sm->s.ci_high, sm->p);
    }
    return g_string_free(csv, FALSE);
}

/* Summarizes the results (bootstrap CIs, Wilcoxon against CR 1), stores them under /metrics,
 * prints the table and writes it to metrics.txt and /metrics@table, and the summaries to
 * metrics.csv. */
static gboolean write_results(PvxRun *run, Results *res, const Metric *metrics, char **methods,
                              const int *crs, int64_t n_items, const PvxParams *p, guint64 seed,
                              GError **error)
{
    PvxStore *store = pvx_run_store(run);
    Summarizing z = {
        .res = res,
        .metrics = metrics,
        .methods = methods,
        .crs = crs,
        .cr1 = -1,
        .resamples = (int)pvx_params_get_int(p, "bootstrap"),
        .level = pvx_params_get_double(p, "confidence"),
        .seed = seed,
    };
    for (int c = 0; c < res->n_crs; c++)
        if (crs[c] == 1)
            z.cr1 = c;
    g_autoptr(GArray) sums = summarize(&z);
    if (!store_results(store, &z, sums, error))
        return FALSE;
    g_autofree char *table = format_table(&z, sums, n_items);
    g_autofree char *csv = format_csv(&z, sums);
    fputs(table, stdout);
    fflush(stdout);
    g_autofree char *tp = g_build_filename(pvx_run_dir(run), "metrics.txt", NULL);
    g_autofree char *cp = g_build_filename(pvx_run_dir(run), "metrics.csv", NULL);
    return g_file_set_contents(tp, table, -1, error) && g_file_set_contents(cp, csv, -1, error) &&
           pvx_store_set_attr_string(store, pvx_layout_metrics(), "table", table, error);
}

/* The methods to score: those with maps in the store, filtered by metrics.methods (every
 * method named there must have maps). Returns: (transfer full) the names, NULL-terminated; they
 * point into *@stored_out (transfer full: every method with maps), which must outlive them. */
static GPtrArray *select_methods(PvxStore *store, const PvxParams *p, char ***stored_out,
                                 GError **error)
{
    g_auto(GStrv) stored = pvx_store_list(store, pvx_layout_maps(), error);
    if (!stored)
        return NULL;
    gsize n_want = 0;
    const char *const *want = pvx_params_get_string_list(p, "methods", &n_want);
    g_autoptr(GPtrArray) methods = g_ptr_array_new();
    for (char **s = stored; *s; s++)
        if (n_want == 0 || g_strv_contains(want, *s))
            g_ptr_array_add(methods, *s);
    for (gsize i = 0; i < n_want; i++)
        if (!g_strv_contains((const char *const *)stored, want[i])) {
            g_autofree char *have = g_strjoinv(", ", stored);
            g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                        "%s: method '%s' has no maps in %s (the explain stage's methods: %s)",
                        pvx_params_where(p, "methods"), want[i], pvx_store_path(store),
                        *stored ? have : "none");
            return NULL;
        }
    if (methods->len == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "metrics: %s holds no explanation maps (%s); the explain stage runs first",
                    pvx_store_path(store), pvx_layout_maps());
        return NULL;
    }
    g_ptr_array_add(methods, NULL);
    *stored_out = g_steal_pointer(&stored);
    return g_steal_pointer(&methods);
}

/* Everything one scoring of the maps needs, and what it produces. */
typedef struct {
    const PvxConfig *cfg;
    PvxStore *store;
    const PvxDataset *ds;
    PvxModel *model;
    const Metric *metrics;
    int n_metrics;
    char **methods; /* n_methods names */
    int n_methods;
    guint32 needs; /* PvxMetricNeeds of all metrics, or-ed */
    int bs;
    guint64 seed;
    Items items;
    GPtrArray *class_names; /* NULL-terminated, borrowed from the dataset */
    ExplainCtx *ctx;        /* per method: the explainer when a metric re-runs it */
    PvxTensor **ref_maps;   /* per method: the CR 1 maps, when CR 1 is scored */
    Results res;
} Scoring;

static void scoring_clear(Scoring *sc)
{
    for (gsize i = 0; i < (gsize)sc->res.n_metrics * sc->res.n_methods * sc->res.n_crs; i++)
        pvx_metric_result_free(sc->res.r[i]);
    g_clear_pointer(&sc->res.r, g_free);
    for (int me = 0; me < sc->n_methods; me++) {
        if (sc->ctx && sc->ctx[me].ex)
            pvx_explainer_close(sc->ctx[me].ex);
        if (sc->ref_maps && sc->ref_maps[me])
            pvx_tensor_unref(sc->ref_maps[me]);
    }
    g_clear_pointer(&sc->ctx, g_free);
    g_clear_pointer(&sc->ref_maps, g_free);
    g_clear_pointer(&sc->class_names, g_ptr_array_unref);
    items_clear(&sc->items);
}

/* Opens the explainer of every scored method when a metric re-runs the explanation. */
static gboolean open_explainers(Scoring *sc, GError **error)
{
    if (!(sc->needs & PVX_METRIC_NEEDS_EXPLAIN))
        return TRUE;
    const PvxParams *ep = pvx_config_section(sc->cfg, "explain");
    guint n_ex = pvx_config_list_length(sc->cfg, "explain.methods");
    for (int me = 0; me < sc->n_methods; me++) {
        for (guint k = 0; k < n_ex; k++) {
            const PvxParams *xp = NULL;
            const PvxPlugin *pl = pvx_config_plugin(sc->cfg, "explain.methods", k, &xp);
            if (strcmp(pl->desc->name, sc->methods[me]) == 0) {
                sc->ctx[me].ex = pvx_explainer_open(pl, xp, error);
                if (!sc->ctx[me].ex)
                    return FALSE;
                break;
            }
        }
        sc->ctx[me].layer = pvx_params_get_string(ep, "layer");
        sc->ctx[me].batch_size = (int)pvx_params_get_int(ep, "batch_size");
    }
    return TRUE;
}

/* The CR 1 maps of every method, which metrics that compare with CR 1 receive. */
static gboolean read_reference_maps(Scoring *sc, GError **error)
{
    for (int me = 0; me < sc->n_methods; me++) {
        g_autofree char *rp = pvx_layout_maps_raw(sc->methods[me], 1);
        sc->ref_maps[me] = pvx_store_read_tensor(sc->store, rp, error);
        if (!sc->ref_maps[me])
            return FALSE;
    }
    return TRUE;
}

/* The maps [N, h, w] of @method at @cr and their targets int64[N], checked against the
 * explained items. */
static gboolean read_maps(const Scoring *sc, const char *method, int cr, PvxTensor **maps_out,
                          int64_t **targets_out, GError **error)
{
    g_autofree char *rp = pvx_layout_maps_raw(method, cr);
    g_autofree char *tp = pvx_layout_maps_target(method, cr);
    if (!pvx_store_exists(sc->store, rp)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "metrics: %s has no maps of %s at CR %d (%s)", pvx_store_path(sc->store),
                    method, cr, rp);
        return FALSE;
    }
    g_autoptr(PvxTensor) maps = pvx_store_read_tensor(sc->store, rp, error);
    if (!maps)
        return FALSE;
    int nd;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    g_autofree int64_t *targets = pvx_store_read_i64(sc->store, tp, &nd, shape, error);
    if (!targets)
        return FALSE;
    if (maps->shape[0] != sc->items.n || shape[0] != sc->items.n) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "metrics: %s holds %" G_GINT64_FORMAT " maps for %" G_GINT64_FORMAT
                    " explained images",
                    rp, maps->shape[0], sc->items.n);
        return FALSE;
    }
    *maps_out = g_steal_pointer(&maps);
    *targets_out = g_steal_pointer(&targets);
    return TRUE;
}

/* Runs every metric on the maps of method @me at CR index @c (the model holds that CR's
 * weights; @logits are its outputs on the items) into the results' cells. */
static gboolean score_method(Scoring *sc, int me, int c, int cr, const PvxTensor *logits,
                             GError **error)
{
    const char *mname = sc->methods[me];
    g_autoptr(PvxTensor) maps = NULL;
    g_autofree int64_t *targets = NULL;
    if (!read_maps(sc, mname, cr, &maps, &targets, error))
        return FALSE;
    for (int mi = 0; mi < sc->n_metrics; mi++) {
        gint64 t0 = g_get_monotonic_time();
        PvxMetricInput in = {
            .size = sizeof in,
            .n = sc->items.n,
            .num_classes = pvx_dataset_num_classes(sc->ds),
            .class_names = (const char *const *)sc->class_names->pdata,
            .logits = logits,
            .labels = sc->items.labels,
            .maps = maps,
            .masks = sc->items.masks,
            .item_ids = (const char *const *)sc->items.ids,
            .images = sc->items.images,
            .targets = targets,
            .model = sc->model,
            .reference_maps = sc->ref_maps[me],
            .cr = cr,
            .explain = sc->ctx[me].ex ? explain_again : NULL,
            .explain_data = &sc->ctx[me],
            .batch_size = sc->bs,
            .seed = cell_seed(sc->seed, sc->metrics[mi].name, mname, cr, "input"),
            .method = mname,
        };
        PvxMetricResult *r =
            pvx_metric_run(sc->metrics[mi].plugin, sc->metrics[mi].params, &in, error);
        if (!r) {
            g_prefix_error(error, "metrics: %s at CR %d: ", mname, cr);
            return FALSE;
        }
        *cell(&sc->res, mi, me, c) = r;
        g_message("metrics: %s of %s, CR %d: %" G_GINT64_FORMAT " images in %.1f s",
                  sc->metrics[mi].name, mname, cr, sc->items.n,
                  (g_get_monotonic_time() - t0) / 1e6);
    }
    return TRUE;
}

/* Every metric on every method's maps at every CR of @crs. */
static gboolean score_all(Scoring *sc, const int *crs, int n_crs, GError **error)
{
    for (int c = 0; c < n_crs; c++) {
        if (!load_cr(sc->model, sc->store, crs[c], error))
            return FALSE;
        g_autoptr(PvxTensor) logits = forward_logits(sc->model, sc->items.images, sc->bs, error);
        if (!logits)
            return FALSE;
        for (int me = 0; me < sc->n_methods; me++)
            if (!score_method(sc, me, c, crs[c], logits, error))
                return FALSE;
    }
    return TRUE;
}

gboolean pvx_stage_metrics(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds,
                           PvxModel *model, const int *crs, int n_crs, GError **error)
{
    g_return_val_if_fail(run && ds && model && crs && n_crs > 0, FALSE);
    if (pvx_run_stage_finished(run, STAGE)) {
        g_message("metrics: already finished");
        return TRUE;
    }
    const PvxConfig *cfg = pvx_run_config(run);
    const PvxParams *p = pvx_config_section(cfg, "metrics");
    guint n_metrics = pvx_config_list_length(cfg, LIST);
    if (!pvx_config_has_section(cfg, "metrics") || n_metrics == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_MISSING,
                    "%s: the metrics stage needs a `metrics` section with at least one entry in "
                    "`compute` (e.g. - plugin: deletion)",
                    pvx_config_path(cfg));
        return FALSE;
    }
    if (!pvx_metrics_check(cfg, reg, ds, error))
        return FALSE;
    pvx_run_stage_work_begins(run, STAGE); /* the metrics are computed before the writing */
    PvxStore *store = pvx_run_store(run);
    guint64 seed = pvx_params_has_value(p, "seed")
                       ? (guint64)pvx_params_get_int(p, "seed")
                       : (guint64)pvx_params_get_int(pvx_config_section(cfg, ""), "seed");

    g_autofree Metric *metrics = g_new0(Metric, n_metrics);
    guint32 needs = 0;
    for (guint i = 0; i < n_metrics; i++) {
        metrics[i].plugin = pvx_config_plugin(cfg, LIST, i, &metrics[i].params);
        metrics[i].name = metrics[i].plugin->desc->name;
        needs |=
            ((const PvxMetricClass *)pvx_plugin_klass(metrics[i].plugin, PVX_KIND_METRIC))->needs;
    }
    g_auto(GStrv) stored = NULL;
    g_autoptr(GPtrArray) methods = select_methods(store, p, &stored, error);
    if (!methods)
        return FALSE;
    int n_methods = (int)methods->len - 1;
    int cr1 = -1;
    for (int c = 0; c < n_crs; c++)
        if (crs[c] == 1)
            cr1 = c;
    if ((needs & PVX_METRIC_NEEDS_REFERENCE_MAPS) && cr1 < 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "metrics: a metric compares with CR 1, which is not among the CRs scored");
        return FALSE;
    }

    Scoring sc = {
        .cfg = cfg,
        .store = store,
        .ds = ds,
        .model = model,
        .metrics = metrics,
        .n_metrics = (int)n_metrics,
        .methods = (char **)methods->pdata,
        .n_methods = n_methods,
        .needs = needs,
        .bs = (int)pvx_params_get_int(p, "batch_size"),
        .seed = seed,
        .class_names = g_ptr_array_new(),
        .ctx = g_new0(ExplainCtx, n_methods),
        .ref_maps = g_new0(PvxTensor *, n_methods),
        .res = {(int)n_metrics, n_methods, n_crs, NULL},
    };
    sc.res.r = g_new0(PvxMetricResult *, (gsize)n_metrics * n_methods * n_crs);
    for (int k = 0; k < pvx_dataset_num_classes(ds); k++)
        g_ptr_array_add(sc.class_names, (gpointer)pvx_dataset_class_name(ds, k));
    g_ptr_array_add(sc.class_names, NULL);
    gboolean ok =
        load_items(run, ds, &sc.items, error) && open_explainers(&sc, error) &&
        (cr1 < 0 || read_reference_maps(&sc, error)) && score_all(&sc, crs, n_crs, error) &&
        pvx_run_stage_begin(run, STAGE, error) &&
        write_results(run, &sc.res, metrics, sc.methods, crs, sc.items.n, p, seed, error) &&
        pvx_run_stage_end(run, error);
    if (!ok && pvx_store_in_transaction(store))
        pvx_store_abort(store);
    scoring_clear(&sc);
    return ok;
}
