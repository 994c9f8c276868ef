/* pvx show RUN_DIR — the key tables of one run's results.h5; and the run-state reading that
 * `pvx runs` shares. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "runs.h"
#include "pvx-private/run_layout.h"

GOptionEntry *pvx_cli_verbosity_entries(PvxCliCommon *c)
{
    GOptionEntry entries[] = {
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &c->quiet, "Print only warnings and errors", NULL},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &c->verbose, "Print debug messages too", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    return g_memdup2(entries, sizeof entries);
}

/* ---- reading a run ---- */

static int compare_int(const int *a, const int *b)
{
    return (*a > *b) - (*a < *b);
}

static int compare_strings(const char **a, const char **b)
{
    return g_strcmp0(*a, *b);
}

char *pvx_cli_run_store_path(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR))
        return g_build_filename(path, "results.h5", NULL);
    return g_strdup(path);
}

static char *attr_string(PvxStore *s, const char *path, const char *name)
{
    if (!pvx_store_exists(s, path))
        return NULL;
    return pvx_store_get_attr_string(s, path, name, NULL);
}

static gboolean attr_double(PvxStore *s, const char *path, const char *name, double *out)
{
    return pvx_store_exists(s, path) && pvx_store_get_attr_double(s, path, name, out, NULL);
}

/* TRUE when a process holds the flock of one of @dir's results.h5.tmp-* shadows, i.e. a pvx
 * is writing this run right now. Reads /proc/locks rather than trying the lock, so looking never
 * disturbs a writer. */
static gboolean run_is_being_written(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d)
        return FALSE;
    g_autofree char *locks = NULL;
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (!g_str_has_prefix(name, "results.h5.tmp-"))
            continue;
        g_autofree char *p = g_build_filename(dir, name, NULL);
        struct stat st;
        if (stat(p, &st) != 0)
            continue;
        if (!locks && !g_file_get_contents("/proc/locks", &locks, NULL, NULL))
            return FALSE;
        /* "1: FLOCK  ADVISORY  WRITE 4242 08:01:1234567 0 EOF" */
        g_autofree char *needle = g_strdup_printf(":%llu ", (unsigned long long)st.st_ino);
        g_auto(GStrv) lines = g_strsplit(locks, "\n", -1);
        for (char **l = lines; *l; l++)
            if (strstr(*l, "FLOCK") && strstr(*l, needle))
                return TRUE;
    }
    return FALSE;
}

/* Where a stage comes in `pvx run`, to order stages whose end times (whole seconds) tie. */
static int stage_rank(const char *name)
{
    static const char *const order[] = {"dataset", "preview", "train", "evaluate", "prune",
                                        "explain", "metrics", "study", "report"};
    for (gsize i = 0; i < G_N_ELEMENTS(order); i++)
        if (g_str_has_prefix(name, order[i]))
            return (int)i;
    return G_N_ELEMENTS(order);
}

/* "<end time>\t<rank>\t<name>" sorts finished stages in the order they finished. */
static char *stage_sort_key(PvxStore *s, const char *name)
{
    g_autofree char *group = pvx_layout_stage(name);
    g_autofree char *end = attr_string(s, group, "end_time");
    return g_strdup_printf("%s\t%02d\t%s", end ? end : "", stage_rank(name), name);
}

/* The finished stages in the order they finished. Returns: (transfer full) GStrv. */
static char **finished_stages(PvxStore *s)
{
    g_auto(GStrv) stages = pvx_store_list(s, pvx_layout_stages(), NULL);
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
    for (char **st = stages; st && *st; st++) {
        g_autofree char *group = pvx_layout_stage(*st);
        g_autofree char *state = attr_string(s, group, "state");
        if (g_strcmp0(state, "finished") == 0)
            g_ptr_array_add(keys, stage_sort_key(s, *st));
    }
    g_ptr_array_sort(keys, (GCompareFunc)compare_strings);
    GPtrArray *names = g_ptr_array_new();
    for (guint i = 0; i < keys->len; i++)
        g_ptr_array_add(names, g_strdup(strrchr(keys->pdata[i], '\t') + 1));
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(names, FALSE);
}

/* The stage that finished last, or NULL. Returns: (transfer full). */
static char *last_finished_stage(PvxStore *s)
{
    g_auto(GStrv) stages = finished_stages(s);
    guint n = g_strv_length(stages);
    return n ? g_strdup(stages[n - 1]) : NULL;
}

char *pvx_cli_run_state(PvxStore *s, const char *dir)
{
    g_autofree char *state = attr_string(s, pvx_layout_provenance(), "state");
    g_autofree char *last = last_finished_stage(s);
    if (g_strcmp0(state, "finished") == 0)
        return g_strdup("finished");
    if (g_strcmp0(state, "failed") == 0) {
        g_autofree char *why = attr_string(s, pvx_layout_provenance(), "failure");
        g_autofree char *first_line = why ? g_strndup(why, strcspn(why, "\n")) : NULL;
        return g_strdup_printf("failed after %s%s%s", last ? last : "no stage",
                               first_line ? ": " : "", first_line ? first_line : "");
    }
    if (g_strcmp0(state, "running") == 0) {
        if (run_is_being_written(dir))
            return g_strdup_printf("running (after %s)", last ? last : "no stage yet");
        return g_strdup_printf("stopped after %s", last ? last : "no stage");
    }
    return g_strdup_printf("unknown state '%s'", state ? state : "");
}

/* "cr1", "cr16", "cr2" → the rates, sorted numerically. */
static GArray *run_crs(PvxStore *s)
{
    GArray *crs = g_array_new(FALSE, FALSE, sizeof(int));
    g_auto(GStrv) names = pvx_store_list(s, pvx_layout_models(), NULL);
    for (char **n = names; n && *n; n++) {
        int v = 0;
        if (pvx_layout_parse_model_name(*n, &v))
            g_array_append_val(crs, v);
    }
    g_array_sort(crs, (GCompareFunc)compare_int);
    return crs;
}

gboolean pvx_cli_run_top1(PvxStore *s, int cr, double *top1)
{
    g_autofree char *group = pvx_layout_model(cr);
    g_autofree char *test = pvx_layout_eval(group, "test");
    if (attr_double(s, test, "top1", top1))
        return TRUE;
    g_autofree char *eval = pvx_layout_eval_splits(group);
    g_auto(GStrv) splits = pvx_store_list(s, eval, NULL);
    for (char **sp = splits; sp && *sp; sp++) {
        g_autofree char *p = pvx_layout_eval(group, *sp);
        if (attr_double(s, p, "top1", top1))
            return TRUE;
    }
    return FALSE;
}

char *pvx_cli_run_crs_text(PvxStore *s)
{
    g_autoptr(GArray) crs = run_crs(s);
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < crs->len; i++)
        g_string_append_printf(out, "%s%d", i ? "," : "", g_array_index(crs, int, i));
    return g_string_free(out, FALSE);
}

/* ---- pvx show ---- */

/* Prints @text in a column @width characters wide (UTF-8 aware: "—" is one column), after two
 * spaces, left- or right-aligned. */
static void put(const char *text, int width, gboolean left)
{
    int pad = MAX(0, width - (int)g_utf8_strlen(text, -1));
    printf("  %*s%s%*s", left ? 0 : pad, "", text, left ? pad : 0, "");
}

static void put_percent(double v)
{
    g_autofree char *t = isfinite(v) ? g_strdup_printf("%.2f %%", 100 * v) : g_strdup("—");
    put(t, 9, FALSE);
}

/* One row of the models table; NULL cells print "—". */
static void put_model_row(const char *cr, const char *achieved, const char *split, double top1,
                          double top5, double balanced, double n, const char *pruner)
{
    put(cr, 4, TRUE);
    put(achieved, 8, TRUE);
    put(split ? split : "—", 6, TRUE);
    put_percent(top1);
    put_percent(top5);
    put_percent(balanced);
    g_autofree char *images = isfinite(n) ? g_strdup_printf("%.0f", n) : g_strdup("—");
    put(images, 7, FALSE);
    printf("  %s\n", pruner ? pruner : "");
}

static void show_header(PvxStore *s, const char *dir)
{
    g_autofree char *experiment = attr_string(s, pvx_layout_provenance(), "experiment");
    g_autofree char *config = attr_string(s, pvx_layout_config(), "path");
    g_autofree char *overrides = attr_string(s, pvx_layout_config(), "overrides");
    g_autofree char *state = pvx_cli_run_state(s, dir);
    g_autofree char *start = attr_string(s, pvx_layout_provenance(), "start_time");
    g_autofree char *end = attr_string(s, pvx_layout_provenance(), "end_time");
    g_autofree char *version = attr_string(s, pvx_layout_provenance(), "pvx_version");
    g_autofree char *host = attr_string(s, pvx_layout_provenance(), "host");
    double seed = NAN;
    attr_double(s, pvx_layout_provenance(), "seed", &seed);

    printf("run         %s\n", dir);
    printf("experiment  %s", experiment ? experiment : "?");
    if (config)
        printf("  (%s)", config);
    printf("\n");
    if (overrides && *overrides) {
        g_auto(GStrv) lines = g_strsplit(overrides, "\n", -1);
        g_autofree char *joined = g_strjoinv(" --set ", lines);
        printf("overrides   --set %s\n", joined);
    }
    printf("state       %s\n", state);
    printf("time        started %s", start ? start : "?");
    if (end)
        printf(", ended %s", end);
    printf("\n");
    printf("pvx         %s", version ? version : "?");
    if (isfinite(seed))
        printf(", seed %.0f", seed);
    if (host)
        printf(", host %s", host);
    printf("\n");

    if (pvx_store_exists(s, pvx_layout_dataset())) {
        g_autofree char *plugin = attr_string(s, pvx_layout_dataset(), "plugin");
        g_auto(GStrv) classes =
            pvx_store_exists(s, pvx_layout_dataset_class_names())
                ? pvx_store_read_strings(s, pvx_layout_dataset_class_names(), NULL)
                : NULL;
        printf("dataset     %s", plugin ? plugin : "?");
        if (classes)
            printf(", %u classes", g_strv_length(classes));
        int nd = 0;
        int64_t shape[PVX_TENSOR_MAX_DIMS];
        g_autofree int64_t *sizes =
            pvx_store_exists(s, pvx_layout_dataset_split_sizes())
                ? pvx_store_read_i64(s, pvx_layout_dataset_split_sizes(), &nd, shape, NULL)
                : NULL;
        static const char *split_names[] = {"train", "val", "test"};
        for (int i = 0; sizes && i < 3 && i < shape[0]; i++) {
            if (sizes[i] >= 0)
                printf("%s %s %" G_GINT64_FORMAT, i ? "," : ":", split_names[i], sizes[i]);
            else
                printf("%s no %s", i ? "," : ":", split_names[i]);
        }
        g_autofree int64_t *chw =
            pvx_store_exists(s, pvx_layout_dataset_item_shape())
                ? pvx_store_read_i64(s, pvx_layout_dataset_item_shape(), &nd, shape, NULL)
                : NULL;
        if (chw && shape[0] == 3)
            printf("; items %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT, chw[0],
                   chw[1], chw[2]);
        printf("\n");
    }

    g_auto(GStrv) stages = finished_stages(s);
    if (stages[0]) {
        printf("stages     ");
        for (char **st = stages; *st; st++) {
            g_autofree char *group = pvx_layout_stage(*st);
            double secs = NAN;
            attr_double(s, group, "seconds", &secs);
            printf("%s%s %.1f s", st == stages ? " " : ", ", *st, secs);
        }
        printf("\n");
    }
}

static void show_models(PvxStore *s)
{
    g_autoptr(GArray) crs = run_crs(s);
    if (crs->len == 0)
        return;
    printf("\nmodels (accuracy after training or fine-tuning; /models/cr<k>/eval/<split>)\n");
    put("CR", 4, TRUE);
    put("achieved", 8, TRUE);
    put("split", 6, TRUE);
    put("top-1", 9, FALSE);
    put("top-5", 9, FALSE);
    put("balanced", 9, FALSE);
    put("images", 7, FALSE);
    printf("  pruner\n");
    for (guint i = 0; i < crs->len; i++) {
        int cr = g_array_index(crs, int, i);
        g_autofree char *cr_text = g_strdup_printf("%d", cr);
        g_autofree char *group = pvx_layout_model(cr);
        g_autofree char *eval = pvx_layout_eval_splits(group);
        double achieved = NAN;
        if (!attr_double(s, group, "compression_rate_achieved", &achieved) && cr == 1)
            achieved = 1;
        g_autofree char *pruner = attr_string(s, group, "pruner");
        g_autofree char *achieved_text =
            isfinite(achieved) ? g_strdup_printf("%.2f", achieved) : g_strdup("—");
        g_auto(GStrv) splits = pvx_store_list(s, eval, NULL);
        if (!splits || !splits[0]) {
            put_model_row(cr_text, achieved_text, NULL, NAN, NAN, NAN, NAN, pruner);
            continue;
        }
        for (char **sp = splits; *sp; sp++) {
            g_autofree char *p = pvx_layout_eval(group, *sp);
            double top1 = NAN, top5 = NAN, balanced = NAN, n = NAN;
            attr_double(s, p, "top1", &top1);
            attr_double(s, p, "top5", &top5);
            attr_double(s, p, "balanced", &balanced);
            attr_double(s, p, "n", &n);
            put_model_row(cr_text, achieved_text, *sp, top1, top5, balanced, n, pruner);
        }
    }

    /* The training of the unpruned model, from its history. */
    g_autofree char *train = pvx_layout_model_train(1);
    if (pvx_store_exists(s, train)) {
        g_autofree char *ckpt = pvx_layout_model_train_checkpoint(1);
        g_autofree char *history = pvx_layout_model_train_history(1);
        double epochs = NAN, final_epoch = NAN, seconds = NAN;
        attr_double(s, train, "epochs", &epochs);
        attr_double(s, train, "final_epoch", &final_epoch);
        attr_double(s, train, "train_seconds", &seconds);
        double checkpoint = NAN;
        attr_double(s, ckpt, "epoch", &checkpoint);
        if (isfinite(epochs))
            printf("training    CR 1: epochs %.0f", epochs);
        else if (isfinite(checkpoint))
            printf("training    CR 1: not finished, checkpoint after epoch %.0f", checkpoint);
        else
            printf("training    CR 1: not finished");
        if (isfinite(final_epoch))
            printf(" (weights of epoch %.0f kept)", final_epoch);
        if (isfinite(seconds))
            printf(" in %.1f s", seconds);
        static const char *cols[] = {"loss", "train_acc", "val_acc"};
        gboolean any = FALSE;
        for (gsize c = 0; c < G_N_ELEMENTS(cols); c++) {
            g_autofree char *p = pvx_layout_join(history, cols[c]);
            if (!pvx_store_exists(s, p))
                continue;
            int nd = 0;
            int64_t shape[PVX_TENSOR_MAX_DIMS];
            g_autofree double *v = pvx_store_read_f64(s, p, &nd, shape, NULL);
            if (!v || nd != 1 || shape[0] < 1 || !isfinite(v[shape[0] - 1]))
                continue;
            printf("%s %s %.4g", any ? "," : "; last epoch:", cols[c], v[shape[0] - 1]);
            any = TRUE;
        }
        printf("\n");
    }
}

static void show_maps(PvxStore *s)
{
    g_auto(GStrv) methods = pvx_store_list(s, pvx_layout_maps(), NULL);
    if (!methods || !methods[0])
        return;
    printf("\nmaps (/maps/<method>/cr<k>/raw)\n");
    printf("  %-22s %-18s %7s  %s\n", "method", "CRs", "images", "layer");
    for (char **m = methods; *m; m++) {
        g_autofree char *base = pvx_layout_maps_method(*m);
        g_auto(GStrv) names = pvx_store_list(s, base, NULL);
        g_autoptr(GArray) crs = g_array_new(FALSE, FALSE, sizeof(int));
        for (char **n = names; n && *n; n++) {
            int v = 0;
            if (!pvx_layout_parse_model_name(*n, &v))
                continue;
            g_autofree char *raw = pvx_layout_maps_raw(*m, v);
            if (pvx_store_exists(s, raw))
                g_array_append_val(crs, v);
        }
        if (crs->len == 0)
            continue;
        g_array_sort(crs, (GCompareFunc)compare_int);
        GString *list = g_string_new(NULL);
        for (guint i = 0; i < crs->len; i++)
            g_string_append_printf(list, "%s%d", i ? "," : "", g_array_index(crs, int, i));
        int first = g_array_index(crs, int, 0);
        g_autofree char *target = pvx_layout_maps_target(*m, first);
        g_autofree char *raw = pvx_layout_maps_raw(*m, first);
        int nd = 0;
        int64_t shape[PVX_TENSOR_MAX_DIMS] = {0};
        g_autofree int64_t *t =
            pvx_store_exists(s, target) ? pvx_store_read_i64(s, target, &nd, shape, NULL) : NULL;
        g_autofree char *layer = attr_string(s, raw, "layer");
        g_autofree char *images =
            t ? g_strdup_printf("%" G_GINT64_FORMAT, shape[0]) : g_strdup("—");
        printf("  %-22s %-18s %7s  %s\n", *m, list->str, images, layer ? layer : "");
        g_string_free(list, TRUE);
    }
}

static void show_metrics(PvxStore *s)
{
    g_autofree char *table = attr_string(s, pvx_layout_metrics(), "table");
    if (table && *table) {
        printf("\n%s", table);
        if (!g_str_has_suffix(table, "\n"))
            printf("\n");
        return;
    }
    g_auto(GStrv) metrics = pvx_store_list(s, pvx_layout_metrics(), NULL);
    if (metrics && metrics[0]) {
        g_autofree char *names = g_strjoinv(", ", metrics);
        printf("\nmetrics     %s (no summary table stored)\n", names);
    }
}

/* The studies the run exported and, when their answers were analysed into the store (pvx study
 * analyse), agreement and the per-model results. */
static void show_studies(PvxStore *s)
{
    g_auto(GStrv) names = pvx_store_list(s, pvx_layout_study(), NULL);
    if (!names || !names[0])
        return;
    printf("\nstudies (/study/<name>; answers and analysis after pvx study analyse)\n");
    for (char **n = names; *n; n++) {
        g_autofree char *base = pvx_layout_study_design(*n);
        g_autofree char *type = attr_string(s, base, "type");
        g_autofree char *models = attr_string(s, base, "models");
        double tasks = NAN;
        attr_double(s, base, "tasks", &tasks);
        g_autofree char *tasks_text =
            isfinite(tasks) ? g_strdup_printf("%.0f", tasks) : g_strdup("?");
        printf("  %-12s %-9s %5s tasks, models %s", *n, type ? type : "?", tasks_text,
               models ? models : "?");
        g_autofree char *res = pvx_layout_study_analysis(*n);
        if (!pvx_store_exists(s, res)) {
            printf("; no answers analysed yet\n");
            continue;
        }
        double answers = NAN, raters = NAN, alpha[3] = {NAN, NAN, NAN};
        attr_double(s, res, "answers", &answers);
        attr_double(s, res, "raters", &raters);
        static const char *const an[3] = {"alpha_nominal", "alpha_ordinal", "alpha_interval"};
        for (int k = 0; k < 3; k++)
            attr_double(s, res, an[k], &alpha[k]);
        printf("\n  %-12s %.0f answers from %.0f raters; Krippendorff's alpha nominal %.3f", "",
               answers, raters, alpha[0]);
        if (isfinite(alpha[1]))
            printf(", ordinal %.3f, interval %.3f", alpha[1], alpha[2]);
        printf("\n");
        g_autofree char *per_model = pvx_layout_study_analysis_models(*n);
        g_autofree char *mp = pvx_layout_join(per_model, "model");
        g_auto(GStrv) labels = pvx_store_exists(s, mp) ? pvx_store_read_strings(s, mp, NULL) : NULL;
        gboolean pairwise = type && strcmp(type, "pairwise") == 0;
        g_autofree char *vp =
            pvx_layout_join(per_model, pairwise ? "explainability_index" : "accuracy");
        int nd = 0;
        int64_t shape[PVX_TENSOR_MAX_DIMS] = {0};
        g_autofree double *v =
            labels && pvx_store_exists(s, vp) ? pvx_store_read_f64(s, vp, &nd, shape, NULL) : NULL;
        if (!v || nd != 1 || shape[0] != (int64_t)g_strv_length(labels))
            continue;
        printf("  %-12s %s:", "", pairwise ? "explainability index" : "human accuracy");
        for (int64_t i = 0; i < shape[0]; i++)
            printf(pairwise ? " %s %+.3f" : " %s %.3f", labels[i], v[i]);
        printf("\n");
    }
}

int pvx_cli_show(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("RUN_DIR — the key tables of a run");
    g_option_context_set_summary(
        ctx, "Prints what RUN_DIR/results.h5 holds (RUN_DIR may also name the file itself):\n"
             "the experiment, config file and --set overrides, state (finished, failed after a "
             "stage,\nstopped after a stage, running), start and end time, pvx version, seed and "
             "host;\nthe dataset (plugin, classes, split sizes, item shape); the stages with "
             "their times;\nper compression rate the achieved rate and the accuracy (top-1, "
             "top-5, balanced) on each\nevaluated split; the training of CR 1; the maps per "
             "method (CRs, images, layer); the\nmetrics summary table when the run has one; and "
             "the studies, with agreement and\nper-model results once answers were analysed.\n"
             "Exit codes: 0 success, 2 RUN_DIR is not a readable run.");
    PvxCliCommon common = {0};
    g_autofree GOptionEntry *entries = pvx_cli_verbosity_entries(&common);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2) {
        fprintf(stderr, "pvx show: %s\n", error ? error->message : "expected one RUN_DIR");
        return PVX_EXIT_BAD_INPUT;
    }
    pvx_cli_apply_verbosity(&common);
    g_autofree char *path = pvx_cli_run_store_path(argv[1]);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        fprintf(stderr,
                "pvx show: %s: no results.h5 there; is it a run folder "
                "(results/<experiment>/<run id>)?\n",
                argv[1]);
        return PVX_EXIT_BAD_INPUT;
    }
    g_autoptr(PvxStore) s = pvx_store_open(path, FALSE, &error);
    if (!s) {
        pvx_cli_error(error);
        return PVX_EXIT_BAD_INPUT;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    show_header(s, g_file_test(argv[1], G_FILE_TEST_IS_DIR) ? argv[1] : dir);
    show_models(s);
    show_maps(s);
    show_metrics(s);
    show_studies(s);
    return PVX_EXIT_OK;
}
