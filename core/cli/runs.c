/* pvx runs [DIR] — one line per run folder under DIR (default results/): name, start time,
 * state, top-1 at CR 1 and the compression rates it has models for. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "runs.h"
#include "pvx-private/run_layout.h"

typedef struct {
    char *name, *started, *state, *top1, *crs;
} RunRow;

static void run_row_free(gpointer data)
{
    RunRow *r = data;
    g_free(r->name);
    g_free(r->started);
    g_free(r->state);
    g_free(r->top1);
    g_free(r->crs);
    g_free(r);
}

static RunRow *read_run(const char *dir, const char *name)
{
    RunRow *r = g_new0(RunRow, 1);
    r->name = g_strdup(name);
    g_autofree char *path = g_build_filename(dir, "results.h5", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) s = pvx_store_open(path, FALSE, &error);
    if (!s) {
        r->started = g_strdup("?");
        r->state = g_strdup_printf("unreadable: %s", error->message);
        r->top1 = g_strdup("—");
        r->crs = g_strdup("");
        return r;
    }
    char *start = pvx_store_exists(s, pvx_layout_provenance())
                      ? pvx_store_get_attr_string(s, pvx_layout_provenance(), "start_time", NULL)
                      : NULL;
    /* "2025-11-25T10:11:12Z" → "2025-11-25 10:11:12" */
    if (start && strlen(start) == 20 && start[10] == 'T' && start[19] == 'Z') {
        start[10] = ' ';
        start[19] = '\0';
    }
    r->started = start ? start : g_strdup("?");
    r->state = pvx_cli_run_state(s, dir);
    double top1 = NAN;
    r->top1 =
        pvx_cli_run_top1(s, 1, &top1) ? g_strdup_printf("%.2f %%", 100 * top1) : g_strdup("—");
    r->crs = pvx_cli_run_crs_text(s);
    return r;
}

/* Run folders are DIR/<experiment>/<run id>/ (what `pvx run` makes); DIR/<run id>/ (DIR is one
 * experiment's folder) works too. */
static void collect(const char *dir, const char *prefix, int depth, GPtrArray *rows)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d)
        return;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(name));
    for (guint i = 0; i < names->len; i++) {
        const char *n = names->pdata[i];
        g_autofree char *sub = g_build_filename(dir, n, NULL);
        if (!g_file_test(sub, G_FILE_TEST_IS_DIR))
            continue;
        g_autofree char *label = prefix ? g_strconcat(prefix, "/", n, NULL) : g_strdup(n);
        g_autofree char *h5 = g_build_filename(sub, "results.h5", NULL);
        if (g_file_test(h5, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add(rows, read_run(sub, label));
        else if (depth < 2)
            collect(sub, label, depth + 1, rows);
    }
}

static int compare_rows(const RunRow **a, const RunRow **b)
{
    int c = g_strcmp0((*a)->started, (*b)->started);
    return c ? c : g_strcmp0((*a)->name, (*b)->name);
}

int pvx_cli_runs(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("[DIR] — list runs");
    g_option_context_set_summary(
        ctx, "Lists the run folders under DIR (default: results), oldest first: the run "
             "(<experiment>/<run id>),\nits start time (UTC), its state — finished, failed "
             "after a stage (with the reason),\nstopped after a stage (killed or crashed: "
             "continue it with pvx run --resume), or running —\nits top-1 accuracy at CR 1 "
             "(test split) and the compression rates it has models for.\n"
             "pvx show RUN_DIR prints one run in full.\n"
             "Exit codes: 0 success, 2 DIR is not a folder.");
    PvxCliCommon common = {0};
    g_autofree GOptionEntry *entries = pvx_cli_verbosity_entries(&common);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc > 2) {
        fprintf(stderr, "pvx runs: %s\n", error ? error->message : "expected at most one DIR");
        return PVX_EXIT_BAD_INPUT;
    }
    pvx_cli_apply_verbosity(&common);
    const char *dir = argc == 2 ? argv[1] : "results";
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        fprintf(stderr, "pvx runs: %s is not a folder%s\n", dir,
                argc == 2 ? "" : " (run pvx from where `pvx run` put its results, or name DIR)");
        return PVX_EXIT_BAD_INPUT;
    }
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(run_row_free);
    g_autofree char *h5 = g_build_filename(dir, "results.h5", NULL);
    if (g_file_test(h5, G_FILE_TEST_IS_REGULAR)) /* DIR is a run itself */
        g_ptr_array_add(rows, read_run(dir, dir));
    else
        collect(dir, NULL, 0, rows);
    if (rows->len == 0) {
        fprintf(stderr, "pvx runs: no runs under %s\n", dir);
        return PVX_EXIT_OK;
    }
    g_ptr_array_sort(rows, (GCompareFunc)compare_rows);
    int w = (int)strlen("RUN");
    for (guint i = 0; i < rows->len; i++)
        w = MAX(w, (int)g_utf8_strlen(((RunRow *)rows->pdata[i])->name, -1));
    printf("%-*s  %-19s  %-9s  %-12s  %s\n", w, "RUN", "STARTED (UTC)", "TOP-1 CR1", "CRS",
           "STATE");
    for (guint i = 0; i < rows->len; i++) {
        const RunRow *r = rows->pdata[i];
        /* "—" is one column but three bytes: pad by hand */
        int pad = 9 - (int)g_utf8_strlen(r->top1, -1);
        printf("%-*s  %-19s  %*s%s  %-12s  %s\n", w, r->name, r->started, MAX(pad, 0), "", r->top1,
               r->crs, r->state);
    }
    return PVX_EXIT_OK;
}
