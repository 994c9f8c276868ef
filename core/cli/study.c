/* pvx study export|analyse|simulate — human-grounded studies (docs/study.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pvx-private/run_layout.h"
#include "runs.h"
#include "pvx-private/study.h"

/* Exit code of a failed study command: bad input (files, columns, options) is 2, the rest 1. */
static int exit_code_of(const GError *e)
{
    return e->code == PVX_ERROR_IO || e->code == PVX_ERROR_FAILED ? PVX_EXIT_FAILED
                                                                  : PVX_EXIT_BAD_INPUT;
}

static int fail(const GError *e)
{
    pvx_cli_error(e);
    return exit_code_of(e);
}

/* ---- export ---------------------------------------------------------------------------------*/

static int study_export(int argc, char **argv)
{
    PvxCliCommon common = {0};
    char *design = NULL, *out = NULL, *study = NULL;
    g_autofree GOptionEntry *entries = pvx_cli_common_entries(&common);
    GOptionEntry own[] = {
        {"design", 0, 0, G_OPTION_ARG_STRING, &design, "Export only the design NAME", "NAME"},
        {"out", 0, 0, G_OPTION_ARG_FILENAME, &out,
         "Folder the designs go into (default RUN_DIR/study)", "DIR"},
        {"study", 0, 0, G_OPTION_ARG_FILENAME, &study,
         "Take the designs from FILE (a YAML file with a `study:` section) instead of the "
         "run's config",
         "FILE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("RUN_DIR — export rating tasks");
    g_option_context_set_summary(
        ctx, "Writes, for each design of the run's `study` section (or --study FILE), "
             "DIR/<name>/upload/\n(images/*.png under opaque names, tasks.csv for a Mechanical "
             "Turk batch, layout.html),\nand, kept apart, DIR/<name>/key.csv and design.yaml.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, own, NULL);
    g_autoptr(GError) error = NULL;
    int rc = PVX_EXIT_BAD_INPUT;
    g_autoptr(PvxRegistry) reg = NULL;
    g_autoptr(PvxConfig) cfg = NULL;
    g_autoptr(PvxDataset) ds = NULL;
    g_autoptr(PvxStore) store = NULL;
    g_autoptr(GArray) designs = NULL;
    g_autofree char *text = NULL, *name = NULL, *h5 = NULL, *out_dir = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2) {
        fprintf(stderr, "pvx study export: %s\n", error ? error->message : "expected one RUN_DIR");
        goto done;
    }
    pvx_cli_apply_verbosity(&common);
    const char *dir = argv[1];
    text = pvx_run_read_config(dir, &error);
    if (!text) {
        rc = fail(error);
        goto done;
    }
    name = g_build_filename(dir, "results.h5:/config", NULL);
    cfg = pvx_config_load_string(text, name, NULL, &error);
    if (!cfg) {
        rc = fail(error);
        goto done;
    }
    reg = pvx_cli_load_registry(&common, pvx_config_plugin_path(cfg));
    if (!pvx_config_validate(cfg, reg, NULL, &error)) {
        rc = fail(error);
        goto done;
    }
    guint64 seed = (guint64)pvx_params_get_int(pvx_config_section(cfg, ""), "seed");
    designs = study ? pvx_study_designs_load(study, seed, &error)
                    : pvx_study_designs_from_config(cfg, &error);
    if (!designs) {
        rc = fail(error);
        goto done;
    }
    if (designs->len == 0) {
        fprintf(stderr,
                "pvx study export: %s has no study designs (study.designs in the "
                "config, or --study FILE)\n",
                study ? study : dir);
        goto done;
    }
    gboolean found = design == NULL;
    for (guint i = 0; i < designs->len; i++)
        found |= design && strcmp(g_array_index(designs, PvxStudyDesign, i).name, design) == 0;
    if (!found) {
        g_autoptr(GString) names = g_string_new(NULL);
        for (guint i = 0; i < designs->len; i++)
            g_string_append_printf(names, "%s%s", i ? ", " : "",
                                   g_array_index(designs, PvxStudyDesign, i).name);
        fprintf(stderr, "pvx study export: no design '%s'; the designs are: %s\n", design,
                names->str);
        goto done;
    }
    const PvxParams *dp = NULL;
    const PvxPlugin *dpl = pvx_config_plugin(cfg, "dataset", 0, &dp);
    ds = pvx_dataset_open(dpl, dp, &error);
    if (!ds) {
        rc = fail(error);
        goto done;
    }
    h5 = g_build_filename(dir, "results.h5", NULL);
    store = pvx_store_open(h5, FALSE, &error);
    if (!store) {
        rc = fail(error);
        goto done;
    }
    out_dir = out ? g_strdup(out) : g_build_filename(dir, "study", NULL);
    for (guint i = 0; i < designs->len; i++) {
        const PvxStudyDesign *d = &g_array_index(designs, PvxStudyDesign, i);
        if (design && strcmp(d->name, design) != 0)
            continue;
        g_autoptr(PvxStudyExport) ex = pvx_study_export(store, cfg, ds, d, out_dir, &error);
        if (!ex) {
            rc = fail(error);
            goto done;
        }
        printf("%s: %s, %d images, %u tasks -> %s (upload/ for raters, key.csv kept apart)\n",
               d->name, pvx_study_type_name(d->type), ex->images, ex->tasks->len, ex->dir);
    }
    rc = PVX_EXIT_OK;
done:
    g_free(design);
    g_free(out);
    g_free(study);
    pvx_cli_common_clear(&common);
    return rc;
}

/* ---- analyse --------------------------------------------------------------------------------*/

static void print_issues(const PvxStudyIssues *is)
{
    if (is->rows == is->used)
        return;
    fprintf(stderr,
            "pvx: warning: %d of %d answers left out: %d rejected, %d empty, %d "
            "ambiguous, %d for tasks not in the key, %d repeated, %d without a code "
            "(details in issues.txt)\n",
            is->rows - is->used, is->rows, is->rejected, is->empty, is->ambiguous, is->unknown_task,
            is->duplicate, is->uncoded);
    for (guint i = 0; i < is->notes->len && i < 5; i++)
        fprintf(stderr, "pvx: warning: %s\n", (char *)is->notes->pdata[i]);
}

static void print_analysis(const PvxStudyAnalysis *an, const char *dir)
{
    printf("%s study: %d answers, %d tasks, %d raters; Krippendorff's alpha nominal %.4f",
           pvx_study_type_name(an->type), an->answers, an->tasks, an->raters, an->alpha[0]);
    if (an->type == PVX_STUDY_PAIRWISE) {
        printf(", ordinal %.4f, interval %.4f; mean task std %.4f\n", an->alpha[1], an->alpha[2],
               an->mean_task_std);
        printf("%-8s %-8s %8s %9s %8s %8s %8s %10s\n", "a", "b", "answers", "mean", "a pref",
               "b pref", "equal", "p (chi2)");
        for (guint i = 0; i < an->pairs->len; i++) {
            const PvxStudyPair *p = an->pairs->pdata[i];
            printf("%-8s %-8s %8d %+9.4f %8.4f %8.4f %8.4f %10.3g\n", p->a, p->b, p->answers,
                   p->mean, p->a_preferred, p->b_preferred, p->equal, p->p);
        }
        printf("%-8s %10s %10s %22s\n", "model", "index", "BT", "95% CI");
        for (guint i = 0; i < an->models->len; i++) {
            const PvxStudyModel *m = an->models->pdata[i];
            printf("%-8s %+10.4f %+10.4f   [%+.4f, %+.4f]\n", m->model, m->index, m->bt, m->bt_lo,
                   m->bt_hi);
        }
    } else {
        printf("\n%-8s %8s %9s %9s %11s %8s\n", "model", "answers", "accuracy", "error",
               "don't know", "alpha");
        for (guint i = 0; i < an->models->len; i++) {
            const PvxStudyModel *m = an->models->pdata[i];
            printf("%-8s %8d %9.4f %9.4f %11.4f %8.4f\n", m->model, m->answers, m->accuracy,
                   m->error_rate, m->indecisive, m->alpha_nominal);
        }
    }
    printf("written: %s (summary.json, tables, figures)\n", dir);
}

/* design.yaml next to @key_path, when it exists. Returns: (transfer full) or NULL. */
static char *design_next_to(const char *key_path)
{
    g_autofree char *dir = g_path_get_dirname(key_path);
    char *p = g_build_filename(dir, "design.yaml", NULL);
    if (g_file_test(p, G_FILE_TEST_IS_REGULAR))
        return p;
    g_free(p);
    return NULL;
}

/* The run whose study folder holds @key_path (RUN_DIR/study/<name>/key.csv next to
 * RUN_DIR/results.h5), or NULL. Returns: (transfer full). */
static char *run_of_key(const char *key_path)
{
    g_autofree char *key_dir = g_path_get_dirname(key_path);
    g_autofree char *study_dir = g_path_get_dirname(key_dir);
    g_autofree char *base = g_path_get_basename(study_dir);
    if (strcmp(base, "study") != 0)
        return NULL;
    char *run = g_path_get_dirname(study_dir);
    g_autofree char *h5 = g_build_filename(run, "results.h5", NULL);
    if (!g_file_test(h5, G_FILE_TEST_IS_REGULAR)) {
        g_free(run);
        return NULL;
    }
    return run;
}

/* Stores the answers and analysis of study @name in the run @run (a run folder or its
 * results.h5) in one transaction. */
static gboolean store_in_run(const char *run, const char *name, const PvxStudyKey *key,
                             const PvxStudyAnswers *answers, const PvxStudyAnalysis *an,
                             const char *out_dir, char **stored_in, GError **error)
{
    g_autofree char *h5 = pvx_cli_run_store_path(run);
    if (!g_file_test(h5, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND, "%s: no results.h5 there", run);
        return FALSE;
    }
    g_autofree char *dir = g_path_get_dirname(h5);
    g_autoptr(PvxStore) store = pvx_store_open(h5, TRUE, error);
    if (!store)
        return FALSE;
    g_autofree char *state = pvx_cli_run_state(store, dir);
    if (g_str_has_prefix(state, "running")) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_FAILED, "%s is %s", dir, state);
        return FALSE;
    }
    if (!pvx_store_begin(store, error) ||
        !pvx_study_store_analysis(store, name, key, answers, an, out_dir, error) ||
        !pvx_store_commit(store, error)) {
        if (pvx_store_in_transaction(store))
            pvx_store_abort(store);
        return FALSE;
    }
    *stored_in = g_steal_pointer(&h5);
    return TRUE;
}

/* The options of `pvx study analyse`. */
typedef struct {
    char *key_path, *answers_path, *out, *design, *field, *join, *codes, *run;
    char **dont_know;
    double ridge;
    gboolean quiet, no_store;
} AnalyseOptions;

static void analyse_options_clear(AnalyseOptions *o)
{
    g_free(o->key_path);
    g_free(o->answers_path);
    g_free(o->out);
    g_free(o->design);
    g_free(o->field);
    g_free(o->join);
    g_free(o->codes);
    g_free(o->run);
    g_strfreev(o->dont_know);
}

/* Parses the command line into @o; prints why on stderr and returns FALSE when it is unusable. */
static gboolean parse_analyse_options(int argc, char **argv, AnalyseOptions *o)
{
    o->ridge = 1e-3;
    GOptionEntry entries[] = {
        {"key", 0, 0, G_OPTION_ARG_FILENAME, &o->key_path, "key.csv of the study (required)",
         "FILE"},
        {"answers", 0, 0, G_OPTION_ARG_FILENAME, &o->answers_path,
         "Mechanical Turk batch results, or a CSV worker_id,task_id,answer (required)", "FILE"},
        {"out", 0, 0, G_OPTION_ARG_FILENAME, &o->out,
         "Folder for summary.json, tables and figures (default: analysis/ next to the key)", "DIR"},
        {"design", 0, 0, G_OPTION_ARG_FILENAME, &o->design,
         "design.yaml with the codes (default: the one next to the key, if any)", "FILE"},
        {"field", 0, 0, G_OPTION_ARG_STRING, &o->field,
         "Answer field: column Answer.FIELD or one-hot Answer.FIELD.<value> (default: choice "
         "for pairwise, category.label for identify)",
         "FIELD"},
        {"join", 0, 0, G_OPTION_ARG_STRING, &o->join,
         "Results column holding the key's task_id (default Input.task_id)", "COLUMN"},
        {"codes", 0, 0, G_OPTION_ARG_STRING, &o->codes,
         "Pairwise codes from the left model's side, e.g. 'alg1=1,none=0,alg2=-1'", "SPEC"},
        {"dont-know", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->dont_know,
         "Identify: an answer meaning \"I don't know\" (repeatable)", "VALUE"},
        {"ridge", 0, 0, G_OPTION_ARG_DOUBLE, &o->ridge,
         "Bradley-Terry penalty ridge*sum(theta^2) (default 1e-3; 0: maximum likelihood)", "R"},
        {"run", 0, 0, G_OPTION_ARG_FILENAME, &o->run,
         "Store answers and analysis in RUN_DIR/results.h5 under /study/<name> (<name>: the "
         "key's folder; default: the run whose study/<name>/ holds the key, if any)",
         "RUN_DIR"},
        {"no-store", 0, 0, G_OPTION_ARG_NONE, &o->no_store,
         "Write the analysis files only, not into the run's results.h5", NULL},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet, "Print only warnings and errors", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("— statistics of a study's answers");
    g_option_context_set_summary(
        ctx, "Codes the answers against the key and writes Krippendorff's alpha, per-pair and "
             "per-model tables\n(explainability index, Bradley-Terry) or identify accuracy and "
             "confusion matrices.\nAnswers for unknown tasks, repeated answers and values "
             "without a code are counted and reported.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 1 || !o->key_path ||
        !o->answers_path) {
        fprintf(stderr, "pvx study analyse: %s\n",
                error ? error->message
                      : "needs --key FILE and --answers FILE (and no other "
                        "arguments)");
        return FALSE;
    }
    if (o->run && o->no_store) {
        fprintf(stderr, "pvx study analyse: --run and --no-store contradict each other\n");
        return FALSE;
    }
    return TRUE;
}

/* The coding of the answers: the defaults, then the design (--design or the one next to the
 * key), --codes, --dont-know and --ridge. *@design_field: the design's answer field, if it names
 * one (transfer full). Returns an exit code: PVX_EXIT_OK when the coding is usable. */
static int load_coding(const AnalyseOptions *o, PvxStudyCoding *coding, char **design_field)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *design_path = o->design ? g_strdup(o->design) : design_next_to(o->key_path);
    if (design_path &&
        !pvx_study_coding_load_design(coding, design_path, design_field, NULL, &error))
        return fail(error);
    if (o->codes && !pvx_study_coding_set_codes(coding, o->codes, &error))
        return fail(error);
    if (o->dont_know) {
        g_strfreev(coding->dont_know);
        coding->dont_know = g_strdupv(o->dont_know);
    }
    if (!(o->ridge >= 0)) {
        fprintf(stderr, "pvx study analyse: --ridge must be >= 0\n");
        return PVX_EXIT_BAD_INPUT;
    }
    coding->ridge = o->ridge;
    return PVX_EXIT_OK;
}

/* Stores the analysis in the run: --run, else the run whose study folder holds the key (unless
 * --no-store). Returns an exit code: a failure counts only when --run asked for the run. */
static int store_analysis(const AnalyseOptions *o, const PvxStudyKey *key,
                          const PvxStudyAnswers *answers, const PvxStudyAnalysis *an,
                          const char *out_dir)
{
    g_autofree char *key_abs = g_canonicalize_filename(o->key_path, NULL);
    g_autofree char *run_dir = o->no_store ? NULL : o->run ? g_strdup(o->run) : run_of_key(key_abs);
    if (!run_dir)
        return PVX_EXIT_OK;
    g_autoptr(GError) error = NULL;
    g_autofree char *key_dir = g_path_get_dirname(key_abs);
    g_autofree char *name = g_path_get_basename(key_dir);
    g_autofree char *stored_in = NULL;
    if (store_in_run(run_dir, name, key, answers, an, out_dir, &stored_in, &error)) {
        if (!o->quiet) {
            g_autofree char *ap = pvx_layout_study_answers(name);
            g_autofree char *rp = pvx_layout_study_analysis(name);
            printf("stored: %s:%s and %s\n", stored_in, ap, rp);
        }
        return PVX_EXIT_OK;
    }
    if (o->run) /* asked for: a failure is the command's */
        return fail(error);
    /* found from the key's place: the analysis itself stands */
    fprintf(stderr,
            "pvx study analyse: warning: not stored in the run: %s; the files "
            "are written, store them later with --run %s\n",
            error->message, run_dir);
    return PVX_EXIT_OK;
}

static int study_analyse(int argc, char **argv)
{
    AnalyseOptions o = {0};
    PvxStudyCoding coding;
    pvx_study_coding_init_defaults(&coding);
    int rc = PVX_EXIT_BAD_INPUT;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStudyKey) key = NULL;
    g_autoptr(PvxStudyAnswers) answers = NULL;
    g_autoptr(PvxStudyAnalysis) an = NULL;
    g_autofree char *design_field = NULL, *out_dir = NULL;
    if (!parse_analyse_options(argc, argv, &o))
        goto done;
    pvx_log_set_verbosity(o.quiet ? 0 : 1);
    key = pvx_study_key_load(o.key_path, &error);
    if (!key) {
        rc = fail(error);
        goto done;
    }
    rc = load_coding(&o, &coding, &design_field);
    if (rc != PVX_EXIT_OK)
        goto done;
    const char *f = o.field                           ? o.field
                    : design_field                    ? design_field
                    : key->type == PVX_STUDY_PAIRWISE ? "choice"
                                                      : "category.label";
    answers = pvx_study_answers_load(o.answers_path, f, o.join, &error);
    an = answers ? pvx_study_analyse(key, answers, &coding, &error) : NULL;
    if (!an) {
        rc = fail(error);
        goto done;
    }
    if (o.out) {
        out_dir = g_strdup(o.out);
    } else {
        g_autofree char *kd = g_path_get_dirname(o.key_path);
        out_dir = g_build_filename(kd, "analysis", NULL);
    }
    print_issues(&an->issues);
    if (!pvx_study_analysis_write(an, out_dir, &error)) {
        pvx_cli_error(error);
        rc = PVX_EXIT_FAILED;
        goto done;
    }
    if (!o.quiet)
        print_analysis(an, out_dir);
    rc = store_analysis(&o, key, answers, an, out_dir);
done:
    pvx_study_coding_clear(&coding);
    analyse_options_clear(&o);
    return rc;
}

/* ---- simulate -------------------------------------------------------------------------------*/

/* "cr1=0.3,cr2=0" → model → value. */
static GHashTable *parse_model_values(const char *option, const char *spec, GError **error)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_auto(GStrv) entries = g_strsplit(spec, ",", -1);
    for (char **e = entries; *e; e++) {
        g_strstrip(*e);
        if (!**e)
            continue;
        char *eq = strchr(*e, '=');
        char *end = NULL;
        double v = eq ? g_ascii_strtod(eq + 1, &end) : NAN;
        if (!eq || eq == *e || end == eq + 1 || *end || !isfinite(v)) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "%s: '%s' is not MODEL=NUMBER (e.g. cr1=0,cr2=0.5)", option, *e);
            g_hash_table_destroy(t);
            return NULL;
        }
        double *d = g_new(double, 1);
        *d = v;
        g_hash_table_replace(t, g_strndup(*e, eq - *e), d);
    }
    return t;
}

static gboolean parse_int_list(const char *spec, GArray *out)
{
    g_auto(GStrv) parts = g_strsplit(spec, ",", -1);
    for (char **p = parts; *p; p++) {
        char *end = NULL;
        gint64 v = g_ascii_strtoll(g_strstrip(*p), &end, 10);
        if (end == *p || *end || v < 1 || v > 100000)
            return FALSE;
        int iv = (int)v;
        g_array_append_val(out, iv);
    }
    return out->len > 0;
}

/* The options of `pvx study simulate`. */
typedef struct {
    char *key_path, *out, *tasks_path, *prefer, *accuracy, *field, *power;
    int raters, workers, scale, reps;
    double noise, dont_know, level;
    gint64 seed;
    gboolean one_hot, long_format;
    GArray *counts; /* int: --power's rater counts; empty without --power */
} SimulateOptions;

static void simulate_options_clear(SimulateOptions *o)
{
    g_free(o->key_path);
    g_free(o->out);
    g_free(o->tasks_path);
    g_free(o->prefer);
    g_free(o->accuracy);
    g_free(o->field);
    g_free(o->power);
    if (o->counts)
        g_array_unref(o->counts);
}

/* Parses the command line into @o; prints why on stderr and returns FALSE when it is unusable. */
static gboolean parse_simulate_options(int argc, char **argv, SimulateOptions *o)
{
    o->reps = 200;
    o->noise = 1.0;
    o->dont_know = 0.1;
    o->level = 0.05;
    o->seed = 1;
    o->counts = g_array_new(FALSE, FALSE, sizeof(int));
    GOptionEntry entries[] = {
        {"key", 0, 0, G_OPTION_ARG_FILENAME, &o->key_path, "key.csv of the study (required)",
         "FILE"},
        {"out", 0, 0, G_OPTION_ARG_FILENAME, &o->out,
         "Results CSV to write (required; with --power: the power table)", "FILE"},
        {"tasks", 0, 0, G_OPTION_ARG_FILENAME, &o->tasks_path,
         "tasks.csv for the Input.* columns (default: upload/tasks.csv next to the key)", "FILE"},
        {"raters", 0, 0, G_OPTION_ARG_INT, &o->raters,
         "Raters per task (default: the design's raters, else 5)", "N"},
        {"workers", 0, 0, G_OPTION_ARG_INT, &o->workers,
         "Size of the worker pool (default 4 x "
         "raters)",
         "N"},
        {"prefer", 0, 0, G_OPTION_ARG_STRING, &o->prefer,
         "Pairwise: latent quality per model in scale units, e.g. cr1=0,cr2=0.5 (default 0)",
         "SPEC"},
        {"noise", 0, 0, G_OPTION_ARG_DOUBLE, &o->noise, "Pairwise: rater noise sigma (default 1)",
         "S"},
        {"accuracy", 0, 0, G_OPTION_ARG_STRING, &o->accuracy,
         "Identify: probability of a correct answer per model, e.g. cr1=0.9 (default 0.85)",
         "SPEC"},
        {"dont-know-rate", 0, 0, G_OPTION_ARG_DOUBLE, &o->dont_know,
         "Identify: probability of \"I don't know\" (default 0.1)", "P"},
        {"scale", 0, 0, G_OPTION_ARG_INT, &o->scale,
         "Pairwise scale 3, 5 or 7 (default: the "
         "design's)",
         "N"},
        {"field", 0, 0, G_OPTION_ARG_STRING, &o->field, "Answer field (default: the design's)",
         "FIELD"},
        {"one-hot", 0, 0, G_OPTION_ARG_NONE, &o->one_hot,
         "Write one-hot Answer.FIELD.<value> true/false columns", NULL},
        {"long", 0, 0, G_OPTION_ARG_NONE, &o->long_format,
         "Write a long CSV worker_id,task_id,answer instead", NULL},
        {"seed", 0, 0, G_OPTION_ARG_INT64, &o->seed, "Seed (default 1)", "N"},
        {"power", 0, 0, G_OPTION_ARG_STRING, &o->power,
         "Power by simulation for these rater counts, e.g. 1,3,5,10", "LIST"},
        {"reps", 0, 0, G_OPTION_ARG_INT, &o->reps,
         "--power: studies simulated per rater count "
         "(default 200)",
         "N"},
        {"level", 0, 0, G_OPTION_ARG_DOUBLE, &o->level,
         "--power: significance level (default "
         "0.05)",
         "A"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("— simulated raters");
    g_option_context_set_summary(
        ctx, "Writes answers of simulated raters for the tasks of a key in Mechanical Turk's "
             "batch results format,\nto test the pipeline end to end; with --power, estimates "
             "how often each pair's chi-squared test\ndetects the chosen preference (pairwise) "
             "or accuracy difference (identify) for each\nnumber of raters.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 1 || !o->key_path ||
        !o->out) {
        fprintf(stderr, "pvx study simulate: %s\n",
                error ? error->message : "needs --key FILE and --out FILE");
        return FALSE;
    }
    if (o->power && !parse_int_list(o->power, o->counts)) {
        fprintf(stderr, "pvx study simulate: --power %s: give rater counts like 1,3,5,10\n",
                o->power);
        return FALSE;
    }
    if (!(o->noise >= 0) || !(o->dont_know >= 0 && o->dont_know <= 1) || o->reps < 1 ||
        !(o->level > 0 && o->level < 1) || o->raters < 0 || o->workers < 0) {
        fprintf(stderr, "pvx study simulate: --noise >= 0, --dont-know-rate in [0, 1], --reps "
                        ">= 1, --level in (0, 1), --raters and --workers >= 0\n");
        return FALSE;
    }
    return TRUE;
}

/* The study being simulated: its key, the design next to it (if any) and its tasks. */
typedef struct {
    PvxStudyKey *key;
    PvxStudyCoding coding;           /* the defaults, then the design's */
    char *design_field;              /* the design's answer field, or NULL */
    char *dont_know_label;           /* the design's first "I don't know" answer, or NULL */
    int design_scale, design_raters; /* 0 where no design sets them */
    PvxCsv *tasks;                   /* tasks.csv for the Input.* columns, or NULL */
} SimulatedStudy;

static void simulated_study_clear(SimulatedStudy *st)
{
    g_clear_pointer(&st->tasks, pvx_csv_free);
    g_free(st->dont_know_label);
    g_free(st->design_field);
    pvx_study_coding_clear(&st->coding);
    g_clear_pointer(&st->key, pvx_study_key_free);
}

/* Loads the key of @o, the design.yaml next to it and the tasks (--tasks, else upload/tasks.csv
 * next to the key; not for --long) into @st, whose coding holds the defaults. Returns an exit
 * code: PVX_EXIT_OK when all of it is usable. */
static int load_simulated_study(const SimulateOptions *o, SimulatedStudy *st)
{
    g_autoptr(GError) error = NULL;
    st->key = pvx_study_key_load(o->key_path, &error);
    if (!st->key)
        return fail(error);
    g_autofree char *design_path = design_next_to(o->key_path);
    if (design_path) {
        if (!pvx_study_coding_load_design(&st->coding, design_path, &st->design_field,
                                          &st->design_raters, &error))
            return fail(error);
        st->design_scale = st->coding.scale;
        if (st->coding.dont_know && st->coding.dont_know[0])
            st->dont_know_label = g_strdup(st->coding.dont_know[0]);
    }
    g_autofree char *tasks_path = g_strdup(o->tasks_path);
    if (!tasks_path) {
        g_autofree char *kd = g_path_get_dirname(o->key_path);
        g_autofree char *t = g_build_filename(kd, "upload", "tasks.csv", NULL);
        if (g_file_test(t, G_FILE_TEST_IS_REGULAR))
            tasks_path = g_strdup(t);
    }
    if (tasks_path && !o->long_format && !(st->tasks = pvx_csv_read(tasks_path, &error)))
        return fail(error);
    return PVX_EXIT_OK;
}

/* The simulator's options @so from the command line @o, else the design of @st, else the
 * defaults; *@quality: --prefer (pairwise) or --accuracy (identify) per model, or NULL (transfer
 * full; @so points to it, and into @st). Returns an exit code: PVX_EXIT_OK when they are usable. */
static int simulation_options(const SimulateOptions *o, const SimulatedStudy *st,
                              PvxStudySimOptions *so, GHashTable **quality)
{
    so->raters = o->raters ? o->raters : st->design_raters ? st->design_raters : 5;
    so->workers = o->workers;
    so->noise = o->noise;
    so->scale = o->scale ? o->scale : st->design_scale ? st->design_scale : 5;
    so->dont_know = o->dont_know;
    if (st->dont_know_label)
        so->dont_know_label = st->dont_know_label;
    so->classes = (const char *const *)st->coding.classes;
    so->seed = (guint64)o->seed;
    gboolean pairwise = st->key->type == PVX_STUDY_PAIRWISE;
    const char *spec = pairwise ? o->prefer : o->accuracy;
    g_autoptr(GError) error = NULL;
    if (spec &&
        !(*quality = parse_model_values(pairwise ? "--prefer" : "--accuracy", spec, &error)))
        return fail(error);
    so->quality = *quality;
    return PVX_EXIT_OK;
}

/* Prints the power table: @pw[r * n_pairs + p] for the rater counts of @o (rows) and @pairs. */
static void print_power(const SimulateOptions *o, PvxStudyType type, const double *pw, char **pairs,
                        int n_pairs)
{
    if (type == PVX_STUDY_PAIRWISE)
        printf("power (share of %d simulated studies with chi-squared p < %g), noise %g:\n",
               o->reps, o->level, o->noise);
    else
        printf("power (share of %d simulated studies in which the chi-squared test of two "
               "models' correct answers gives p < %g):\n",
               o->reps, o->level);
    printf("%8s", "raters");
    for (int p = 0; p < n_pairs; p++)
        printf("  %14s", pairs[p]);
    printf("\n");
    for (guint r = 0; r < o->counts->len; r++) {
        printf("%8d", g_array_index(o->counts, int, r));
        for (int p = 0; p < n_pairs; p++)
            printf("  %14.3f", pw[r * n_pairs + p]);
        printf("\n");
    }
}

/* Writes the power table as the CSV @o->out: raters,pair,power, one row per count and pair. */
static gboolean write_power(const SimulateOptions *o, const double *pw, char **pairs, int n_pairs,
                            GError **error)
{
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    for (guint r = 0; r < o->counts->len; r++)
        for (int p = 0; p < n_pairs; p++) {
            char **row = g_new0(char *, 4);
            row[0] = g_strdup_printf("%d", g_array_index(o->counts, int, r));
            row[1] = g_strdup(pairs[p]);
            row[2] = g_strdup_printf("%.4f", pw[r * n_pairs + p]);
            g_ptr_array_add(rows, row);
        }
    const char *h[] = {"raters", "pair", "power", NULL};
    return pvx_csv_write(o->out, h, rows, error);
}

/* --power: the power by simulation, printed and written to --out. Returns an exit code. */
static int simulate_power(const SimulateOptions *o, const SimulatedStudy *st,
                          const PvxStudySimOptions *so)
{
    g_autoptr(GError) error = NULL;
    g_autofree double *pw = NULL;
    g_auto(GStrv) pairs = NULL;
    if (!pvx_study_power(st->key, so, &st->coding, (int *)(void *)o->counts->data,
                         (int)o->counts->len, o->reps, o->level, &pw, &pairs, &error))
        return fail(error);
    int n_pairs = (int)g_strv_length(pairs);
    print_power(o, st->key->type, pw, pairs, n_pairs);
    if (!write_power(o, pw, pairs, n_pairs, &error))
        return fail(error);
    return PVX_EXIT_OK;
}

/* The answer labels the results are written with: the scale's (pairwise) or the classes and
 * "I don't know" (identify). Returns: (transfer container) NULL-terminated; they point into @st
 * and @so. */
static GPtrArray *answer_labels(const SimulatedStudy *st, const PvxStudySimOptions *so)
{
    GPtrArray *labels = g_ptr_array_new();
    if (st->key->type == PVX_STUDY_PAIRWISE) {
        for (const char *const *l = pvx_study_scale_labels(so->scale, NULL); l && *l; l++)
            g_ptr_array_add(labels, (gpointer)*l);
    } else {
        for (char **c = st->coding.classes; c && *c; c++)
            g_ptr_array_add(labels, *c);
        g_ptr_array_add(labels, (gpointer)so->dont_know_label);
    }
    g_ptr_array_add(labels, NULL);
    return labels;
}

/* The simulated answers, written to --out and summed up on stdout. Returns an exit code. */
static int simulate_answers(const SimulateOptions *o, const SimulatedStudy *st,
                            const PvxStudySimOptions *so)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStudyAnswers) answers = pvx_study_simulate(st->key, so, &error);
    if (!answers)
        return fail(error);
    const char *f = o->field                              ? o->field
                    : st->design_field                    ? st->design_field
                    : st->key->type == PVX_STUDY_PAIRWISE ? "choice"
                                                          : "category.label";
    g_autoptr(GPtrArray) labels = answer_labels(st, so);
    if (!pvx_study_answers_write(answers, st->tasks, f, (const char *const *)labels->pdata,
                                 o->one_hot, o->long_format, o->out, &error))
        return fail(error);
    printf("%u answers of %d raters per task for %u tasks -> %s\n", answers->answers->len,
           so->raters, st->key->rows->len, o->out);
    return PVX_EXIT_OK;
}

static int study_simulate(int argc, char **argv)
{
    SimulateOptions o = {0};
    SimulatedStudy st = {0};
    pvx_study_coding_init_defaults(&st.coding);
    PvxStudySimOptions so;
    pvx_study_sim_options_init(&so);
    g_autoptr(GHashTable) quality = NULL;
    int rc = PVX_EXIT_BAD_INPUT;
    if (!parse_simulate_options(argc, argv, &o))
        goto done;
    rc = load_simulated_study(&o, &st);
    if (rc == PVX_EXIT_OK)
        rc = simulation_options(&o, &st, &so, &quality);
    if (rc == PVX_EXIT_OK)
        rc = o.power ? simulate_power(&o, &st, &so) : simulate_answers(&o, &st, &so);
done:
    simulated_study_clear(&st);
    simulate_options_clear(&o);
    return rc;
}

int pvx_cli_study(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*main)(int, char **);
        const char *summary;
    } subs[] = {
        {"export", study_export, "RUN_DIR: images, tasks.csv, layout.html, key.csv per design"},
        {"analyse", study_analyse, "--key KEY --answers RESULTS: alpha, pairs, models, figures"},
        {"simulate", study_simulate, "--key KEY --out RESULTS: simulated raters; --power"},
    };
    if (argc >= 2) {
        const char *cmd = strcmp(argv[1], "analyze") == 0 ? "analyse" : argv[1];
        for (gsize i = 0; i < G_N_ELEMENTS(subs); i++)
            if (strcmp(cmd, subs[i].name) == 0)
                return subs[i].main(argc - 1, argv + 1);
    }
    FILE *f = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ? stdout
                                                                                          : stderr;
    if (argc >= 2 && f == stderr)
        fprintf(stderr, "pvx study: unknown command '%s'\n\n", argv[1]);
    fprintf(f, "Usage: pvx study COMMAND [OPTIONS...]\n\nHuman-grounded studies "
               "(docs/study.md):\n");
    for (gsize i = 0; i < G_N_ELEMENTS(subs); i++)
        fprintf(f, "  %-9s %s\n", subs[i].name, subs[i].summary);
    return f == stdout ? PVX_EXIT_OK : PVX_EXIT_BAD_INPUT;
}
