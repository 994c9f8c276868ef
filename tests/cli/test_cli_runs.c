/* End-to-end tests of the everyday commands: pvx runs, pvx show, pvx config-reference, and the
 * global --quiet/--verbose. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pvx-private/core.h"

#include "../common/pvx_test_cli.h"

typedef PvxTestResult Result;
#define result_clear pvx_test_result_clear
#define remove_tree pvx_test_remove_tree
/* Runs pvx with the arguments (NULL-terminated) from @cwd. */
#define run_pvx(cwd, ...) pvx_test_run(PVX_EXE, cwd, __VA_ARGS__)

/* A tiny experiment: 2 kandinsky classes, a 2-conv vgg-mini trained for one epoch, and
 * Grad-CAM; @extra is appended (more sections). */
static char *write_config(const char *dir, const char *file, const char *name, const char *extra)
{
    g_autofree char *text = g_strdup_printf(
        "name: %s\n"
        "seed: 2\n"
        "dataset:\n"
        "  plugin: kandinsky\n"
        "  params: {size: 32, classes: 2, train_size: 16, val_size: 0, test_size: 8}\n"
        "preview:\n"
        "  per_class: 1\n"
        "model:\n"
        "  plugin: vgg\n"
        "  params: {arch: vgg-mini, channels: [8, -1, 16, -1], hidden: 16}\n"
        "train:\n"
        "  epochs: 1\n"
        "  batch_size: 8\n"
        "%s",
        name, extra ? extra : "");
    char *path = g_build_filename(dir, file, NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static double stored_top1(const char *run_dir)
{
    g_autofree char *h5 = g_build_filename(run_dir, "results.h5", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) s = pvx_store_open(h5, FALSE, &error);
    g_assert_no_error(error);
    double top1 = NAN;
    g_assert_true(pvx_store_get_attr_double(s, "/models/cr1/eval/test", "top1", &top1, &error));
    return top1;
}

/* The line of @text that contains @needle (transfer full), or NULL. */
static char *line_with(const char *text, const char *needle)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++)
        if (strstr(*l, needle))
            return g_strdup(*l);
    return NULL;
}

/* Creates a run of @cfg_path through the library and finishes its dataset stage, leaving it as
 * a killed pvx would (state "running"). With @keep_open, a second stage is begun and the run is
 * returned with its transaction (and shadow lock) open, as a live pvx holds it. */
static PvxRun *make_unfinished_run(const char *cfg_path, const char *run_id, gboolean keep_open)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxConfig) cfg = pvx_config_load(cfg_path, NULL, &error);
    g_assert_no_error(error);
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    g_autofree char *plugins = g_build_filename(PVX_TEST_BUILD_ROOT, "plugins", NULL);
    g_assert_true(pvx_registry_scan_dir(reg, plugins, NULL, &error));
    g_assert_true(pvx_config_validate(cfg, reg, NULL, &error));
    PvxRun *run = pvx_run_create(cfg, reg, run_id, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_run_stage_begin(run, "dataset", &error));
    g_assert_true(pvx_run_stage_end(run, &error));
    if (keep_open) {
        g_assert_true(pvx_run_stage_begin(run, "preview", &error));
        return run;
    }
    pvx_run_free(run);
    return NULL;
}

static void runs_lists_finished_failed_stopped_and_running_runs(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-cli-runs-XXXXXX", NULL);
    g_autofree char *cfg = write_config(dir, "a.yaml", "alpha", NULL);
    /* preview.out in a folder that does not exist: the preview stage fails */
    g_autofree char *bad = g_build_filename(dir, "b.yaml", NULL);
    g_autofree char *bad_text = g_strdup_printf(
        "name: beta\ndataset:\n  plugin: kandinsky\n"
        "  params: {size: 32, classes: 2, train_size: 4, val_size: 0, test_size: 4}\n"
        "preview:\n  per_class: 1\n  out: %s/no-such-folder/p.png\n",
        dir);
    g_assert_true(g_file_set_contents(bad, bad_text, -1, NULL));

    Result r = run_pvx(dir, "run", cfg, "--run-id", "r1", NULL);
    if (r.status != 0)
        g_printerr("%s%s", r.out, r.err);
    g_assert_cmpint(r.status, ==, 0);
    result_clear(&r);
    r = run_pvx(dir, "run", bad, "--run-id", "f1", NULL);
    g_assert_cmpint(r.status, ==, 1);
    result_clear(&r);
    g_autofree char *results = g_build_filename(dir, "results", NULL);
    g_autofree char *cwd = g_get_current_dir();
    g_assert_cmpint(chdir(dir), ==, 0); /* the config's output is relative to where pvx runs */
    make_unfinished_run(cfg, "s1", FALSE);
    g_autoptr(PvxRun) live = make_unfinished_run(cfg, "w1", TRUE);
    g_assert_cmpint(chdir(cwd), ==, 0);

    r = run_pvx(NULL, "runs", results, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_test_message("%s", r.out);
    g_assert_nonnull(strstr(r.out, "STARTED (UTC)"));
    g_autofree char *done = line_with(r.out, "alpha/r1");
    g_autofree char *failed = line_with(r.out, "beta/f1");
    g_autofree char *stopped = line_with(r.out, "alpha/s1");
    g_autofree char *running = line_with(r.out, "alpha/w1");
    g_assert_nonnull(done);
    g_assert_nonnull(failed);
    g_assert_nonnull(stopped);
    g_assert_nonnull(running);
    g_autofree char *run_dir = g_build_filename(results, "alpha", "r1", NULL);
    g_autofree char *top1 = g_strdup_printf("%.2f %%", 100 * stored_top1(run_dir));
    g_assert_nonnull(strstr(done, top1));
    g_assert_true(g_str_has_suffix(done, "finished"));
    g_assert_nonnull(strstr(failed, "failed after dataset: "));
    g_assert_nonnull(strstr(failed, "no-such-folder"));
    g_assert_true(g_str_has_suffix(stopped, "stopped after dataset"));
    g_assert_nonnull(strstr(running, "running (after dataset)"));
    result_clear(&r);

    /* An experiment's folder lists its runs too; the default DIR is ./results */
    g_autofree char *alpha = g_build_filename(results, "alpha", NULL);
    r = run_pvx(NULL, "runs", alpha, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "r1 "));
    g_assert_null(strstr(r.out, "beta"));
    result_clear(&r);
    r = run_pvx(dir, "runs", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "beta/f1"));
    result_clear(&r);

    pvx_run_fail(live, NULL);
    g_clear_pointer(&live, pvx_run_free);
    remove_tree(dir);
}

static void runs_and_show_refuse_what_is_not_a_run(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-cli-runs-XXXXXX", NULL);
    g_autofree char *missing = g_build_filename(dir, "nothing-here", NULL);
    Result r = run_pvx(NULL, "runs", missing, NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "is not a folder"));
    result_clear(&r);
    r = run_pvx(NULL, "runs", dir, NULL); /* a folder without runs */
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.err, "no runs under"));
    result_clear(&r);
    r = run_pvx(NULL, "show", dir, NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "no results.h5"));
    result_clear(&r);
    g_autofree char *junk = g_build_filename(dir, "results.h5", NULL);
    g_assert_true(g_file_set_contents(junk, "not hdf5", -1, NULL));
    r = run_pvx(NULL, "show", dir, NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "results.h5"));
    result_clear(&r);
    r = run_pvx(NULL, "show", NULL);
    g_assert_cmpint(r.status, ==, 2);
    result_clear(&r);
    remove_tree(dir);
}

static void show_prints_accuracy_maps_and_stages(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-cli-show-XXXXXX", NULL);
    g_autofree char *cfg = write_config(dir, "a.yaml", "alpha",
                                        "explain:\n  selection: per_class\n  per_class: 2\n"
                                        "  pngs: false\n  methods:\n    - plugin: gradcam\n"
                                        "    - plugin: saliency\n");
    Result r = run_pvx(dir, "run", cfg, "--run-id", "r1", "--set", "seed=5", NULL);
    if (r.status != 0)
        g_printerr("%s%s", r.out, r.err);
    g_assert_cmpint(r.status, ==, 0);
    result_clear(&r);
    g_autofree char *run_dir = g_build_filename(dir, "results", "alpha", "r1", NULL);
    r = run_pvx(NULL, "show", run_dir, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_test_message("%s", r.out);
    g_assert_nonnull(strstr(r.out, "experiment  alpha"));
    g_assert_nonnull(strstr(r.out, "overrides   --set seed=5"));
    g_assert_nonnull(strstr(r.out, "state       finished"));
    g_assert_nonnull(strstr(r.out, "seed 5"));
    g_assert_nonnull(
        strstr(r.out, "kandinsky, 2 classes: train 16, no val, test 8; items 3×32×32"));
    g_autofree char *stages = line_with(r.out, "stages ");
    g_assert_nonnull(stages);
    /* in the order they ran */
    const char *order[] = {"dataset", "preview", "train", "evaluate", "explain"};
    const char *at = stages;
    for (gsize i = 0; i < G_N_ELEMENTS(order); i++) {
        at = strstr(at, order[i]);
        g_assert_nonnull(at);
    }
    g_autofree char *cr1 = line_with(r.out, "  1     1.00      test  ");
    g_assert_nonnull(cr1);
    g_autofree char *top1 = g_strdup_printf("%.2f %%", 100 * stored_top1(run_dir));
    g_assert_nonnull(strstr(cr1, top1));
    g_autofree char *gradcam = line_with(r.out, "  gradcam ");
    g_autofree char *saliency = line_with(r.out, "  saliency ");
    g_assert_nonnull(gradcam);
    g_assert_nonnull(saliency);
    g_assert_nonnull(strstr(gradcam, " 4  features.")); /* 2 per class × 2 classes, CAM layer */
    g_assert_nonnull(strstr(saliency, " 4  input"));
    g_assert_nonnull(strstr(r.out, "training    CR 1: epochs 1"));
    result_clear(&r);

    /* the file itself works as well as its folder */
    g_autofree char *h5 = g_build_filename(run_dir, "results.h5", NULL);
    r = run_pvx(NULL, "show", h5, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "  gradcam "));
    result_clear(&r);
    remove_tree(dir);
}

static void quiet_and_verbose_work_before_and_after_the_command(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-cli-quiet-XXXXXX", NULL);
    g_autofree char *cfg = write_config(dir, "a.yaml", "alpha", NULL);
    Result r = run_pvx(dir, "run", cfg, "--run-id", "normal", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.err, "stage dataset"));
    result_clear(&r);
    r = run_pvx(dir, "--quiet", "run", cfg, "--run-id", "q1", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_null(strstr(r.err, "stage dataset"));
    g_assert_null(strstr(r.err, "epoch 1/1"));       /* no progress either */
    g_assert_nonnull(strstr(r.out, "run finished")); /* results still go to stdout */
    result_clear(&r);
    r = run_pvx(dir, "run", "-q", cfg, "--run-id", "q2", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_null(strstr(r.err, "stage dataset"));
    result_clear(&r);

    r = run_pvx(NULL, "plugins", NULL);
    g_assert_null(strstr(r.err, "loaded dataset 'kandinsky'"));
    result_clear(&r);
    r = run_pvx(NULL, "--verbose", "plugins", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.err, "loaded dataset 'kandinsky'"));
    result_clear(&r);
    r = run_pvx(NULL, "-v", "runs", dir, NULL);
    g_assert_cmpint(r.status, ==, 0);
    result_clear(&r);
    r = run_pvx(NULL, "--quiet", NULL); /* no command */
    g_assert_cmpint(r.status, ==, 2);
    result_clear(&r);
    remove_tree(dir);
}

static void help_describes_the_new_commands(void)
{
    Result r = run_pvx(NULL, "--help", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "  runs "));
    g_assert_nonnull(strstr(r.out, "  show "));
    g_assert_nonnull(strstr(r.out, "  config-reference "));
    g_assert_nonnull(strstr(r.out, "--quiet"));
    result_clear(&r);
    static const struct {
        const char *cmd, *mentions[4];
    } helps[] = {
        {"runs", {"[DIR]", "stopped after a stage", "top-1", "--quiet"}},
        {"show", {"RUN_DIR", "achieved", "maps per", "metrics"}},
        {"config-reference",
         {"--plugins-from", "--output", "docs/config-reference.md", "Markdown"}},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(helps); i++) {
        r = run_pvx(NULL, helps[i].cmd, "--help", NULL);
        g_assert_cmpint(r.status, ==, 0);
        for (int k = 0; k < 4; k++)
            if (!strstr(r.out, helps[i].mentions[k]))
                g_error("pvx %s --help does not mention %s:\n%s", helps[i].cmd,
                        helps[i].mentions[k], r.out);
        result_clear(&r);
    }
}

static char *config_reference(void)
{
    g_autofree char *plugins = g_build_filename(PVX_TEST_BUILD_ROOT, "plugins", NULL);
    Result r = run_pvx(NULL, "config-reference", "--plugins-from", plugins, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpstr(r.err, ==, ""); /* no plugin refused */
    g_free(r.err);
    return r.out;
}

static void config_reference_covers_every_section_and_plugin(void)
{
    g_autofree char *md = config_reference();
    const PvxConfigSectionSpec *root = pvx_config_schema();
    for (const PvxParamSpec *p = root->specs; p && p->name; p++) {
        g_autofree char *row = g_strdup_printf("| `%s` |", p->name);
        g_assert_nonnull(strstr(md, row));
    }
    for (const PvxConfigSectionSpec *s = root->children; s && s->name; s++) {
        g_autofree char *heading = g_strdup_printf("### `%s`\n", s->name);
        g_assert_nonnull(strstr(md, heading));
        for (const PvxParamSpec *p = s->specs; p && p->name; p++) {
            g_autofree char *row = g_strdup_printf("| `%s` |", p->name);
            g_assert_nonnull(strstr(strstr(md, heading), row));
        }
        for (const PvxConfigSectionSpec *c = s->children; c && c->name; c++) {
            g_autofree char *sub = g_strdup_printf("### `%s.%s`\n", s->name, c->name);
            g_assert_nonnull(strstr(md, sub));
        }
    }
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    g_autofree char *plugins = g_build_filename(PVX_TEST_BUILD_ROOT, "plugins", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_registry_scan_dir(reg, plugins, NULL, &error));
    g_autoptr(GPtrArray) all = pvx_registry_list(reg, 0);
    g_assert_cmpuint(all->len, >, 10);
    for (guint i = 0; i < all->len; i++) {
        const PvxPlugin *plugin = all->pdata[i];
        const PvxPluginDescriptor *d = plugin->desc;
        g_autofree char *heading =
            g_strdup_printf("### %s `%s`\n", pvx_plugin_kind_name(d->kind), d->name);
        const char *at = strstr(md, heading);
        g_assert_nonnull(at);
        for (const PvxParamSpec *p = plugin->params; p && p->name; p++) {
            g_autofree char *row = g_strdup_printf("| `%s` |", p->name);
            g_assert_nonnull(strstr(at, row));
        }
    }
    /* a value with a range and a choice render as documented */
    g_assert_nonnull(strstr(md, "| `per_class` | int, 1 … 64 | `8` |"));
    g_assert_nonnull(strstr(md, "one of `train`, `val`, `test`"));
}

/* docs/config-reference.md is what this build generates; regenerate it with the command in its
 * header when a schema or plugin changes. */
static void config_reference_doc_is_current(void)
{
    g_autofree char *md = config_reference();
    g_autofree char *doc_path =
        g_build_filename(PVX_TEST_SOURCE_ROOT, "docs", "config-reference.md", NULL);
    g_autofree char *doc = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_file_get_contents(doc_path, &doc, NULL, &error));
    if (strcmp(doc, md) == 0)
        return;
    g_auto(GStrv) a = g_strsplit(doc, "\n", -1), b = g_strsplit(md, "\n", -1);
    guint i = 0;
    while (a[i] && b[i] && strcmp(a[i], b[i]) == 0)
        i++;
    g_error("docs/config-reference.md is out of date (first difference at line %u:\n"
            "  doc:       %s\n  generated: %s)\nRegenerate it from the source root:\n"
            "  ./build/pvx config-reference --plugins-from build/plugins "
            "--output docs/config-reference.md",
            i + 1, a[i] ? a[i] : "(end)", b[i] ? b[i] : "(end)");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cli-runs/runs_lists_finished_failed_stopped_and_running_runs",
                    runs_lists_finished_failed_stopped_and_running_runs);
    g_test_add_func("/cli-runs/runs_and_show_refuse_what_is_not_a_run",
                    runs_and_show_refuse_what_is_not_a_run);
    g_test_add_func("/cli-runs/show_prints_accuracy_maps_and_stages",
                    show_prints_accuracy_maps_and_stages);
    g_test_add_func("/cli-runs/quiet_and_verbose_work_before_and_after_the_command",
                    quiet_and_verbose_work_before_and_after_the_command);
    g_test_add_func("/cli-runs/help_describes_the_new_commands", help_describes_the_new_commands);
    g_test_add_func("/cli-runs/config_reference_covers_every_section_and_plugin",
                    config_reference_covers_every_section_and_plugin);
    g_test_add_func("/cli-runs/config_reference_doc_is_current", config_reference_doc_is_current);
    return g_test_run();
}
