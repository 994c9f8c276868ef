/* End-to-end tests of the pvx command: what a user types, what they see, what lands on disk. */
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

static char *write_config(const char *dir, const char *name, const char *text)
{
    char *path = g_build_filename(dir, name, NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static void cli_plugins_lists_the_dataset_plugins(void)
{
    Result r = run_pvx(NULL, "plugins", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "dataset    idx"));
    g_assert_nonnull(strstr(r.out, "dataset    imagefolder"));
    g_assert_nonnull(strstr(r.out, "dataset    kandinsky"));
    result_clear(&r);
}

static void cli_plugins_name_shows_parameters(void)
{
    Result r = run_pvx(NULL, "plugins", "idx", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "root"));
    g_assert_nonnull(strstr(r.out, "/usr/share/datasets/fashion-mnist"));
    result_clear(&r);
    r = run_pvx(NULL, "plugins", "nosuchplugin", NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "no plugin named 'nosuchplugin'"));
    result_clear(&r);
}

static void cli_broken_plugin_is_reported_not_fatal(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-cli-XXXXXX", NULL);
    g_autofree char *bad = g_build_filename(dir, "broken.so", NULL);
    g_assert_true(g_file_set_contents(bad, "not a library", -1, NULL));
    Result r = run_pvx(NULL, "plugins", "--plugin-dir", dir, NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.err, "broken.so: cannot open plugin"));
    g_assert_nonnull(strstr(r.out, "kandinsky"));
    result_clear(&r);
    remove_tree(dir);
}

static void cli_run_unknown_key_exits_2_with_location(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-cli-XXXXXX", NULL);
    g_autofree char *cfg = write_config(dir, "bad.yaml",
                                        "name: bad\n"
                                        "dataset:\n"
                                        "  plugin: kandinsky\n"
                                        "  params:\n"
                                        "    sizee: 32\n");
    Result r = run_pvx(dir, "run", cfg, NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "bad.yaml:5:5:"));
    g_assert_nonnull(strstr(r.err, "sizee"));
    /* Nothing was run: no results folder appeared. */
    g_autofree char *results = g_build_filename(dir, "results", NULL);
    g_assert_false(g_file_test(results, G_FILE_TEST_EXISTS));
    result_clear(&r);
    remove_tree(dir);
}

/* A run stays inside <output>/<name>/: a run id that leaves it is refused before any work. */
static void cli_run_id_cannot_leave_the_output_folder(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-cli-XXXXXX", NULL);
    g_autofree char *cfg = write_config(dir, "exp.yaml",
                                        "name: exp\n"
                                        "dataset:\n"
                                        "  plugin: kandinsky\n");
    const char *ids[] = {"../../x", "..", ".", "a/b", ""};
    for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
        Result r = run_pvx(dir, "run", cfg, "--run-id", ids[i], NULL);
        if (r.status != 2 || !strstr(r.err, "--run-id must be one folder name"))
            g_error("--run-id '%s': expected exit 2 naming --run-id, got %d:\n%s", ids[i], r.status,
                    r.err);
        result_clear(&r);
    }
    /* Nothing was written, inside the folder or beside it. */
    g_autofree char *results = g_build_filename(dir, "results", NULL);
    g_autofree char *x = g_build_filename(dir, "..", "x", NULL);
    g_assert_false(g_file_test(results, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(x, G_FILE_TEST_EXISTS));
    remove_tree(dir);
}

static void cli_run_unknown_plugin_lists_available(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-cli-XXXXXX", NULL);
    g_autofree char *cfg = write_config(dir, "bad.yaml", "name: bad\ndataset:\n  plugin: mnist\n");
    Result r = run_pvx(dir, "run", cfg, NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "bad.yaml:3:11:"));
    g_assert_nonnull(strstr(r.err, "idx, imagefolder, kandinsky"));
    result_clear(&r);
    remove_tree(dir);
}

static void cli_run_writes_results_and_preview(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-cli-XXXXXX", NULL);
    g_autofree char *cfg = write_config(dir, "k.yaml",
                                        "name: small\n"
                                        "seed: 3\n"
                                        "dataset:\n"
                                        "  plugin: kandinsky\n"
                                        "  params: {size: 32, classes: 3, train_size: 30, "
                                        "val_size: 6, test_size: 12}\n"
                                        "preview:\n"
                                        "  per_class: 2\n");
    Result r = run_pvx(dir, "run", cfg, "--run-id", "r1", "--set", "preview.per_class=3", NULL);
    if (r.status != 0)
        g_printerr("%s%s", r.out, r.err);
    g_assert_cmpint(r.status, ==, 0);
    result_clear(&r);

    g_autofree char *h5 = g_build_filename(dir, "results", "small", "r1", "results.h5", NULL);
    g_autofree char *png = g_build_filename(dir, "results", "small", "r1", "preview.png", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = pvx_store_open(h5, FALSE, &error);
    g_assert_no_error(error);
    g_auto(GStrv) names = pvx_store_read_strings(store, "/dataset/class_names", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(names), ==, 3);
    g_autofree char *state = pvx_store_get_attr_string(store, "/provenance", "state", &error);
    g_assert_cmpstr(state, ==, "finished");
    g_autofree char *resolved = pvx_store_get_attr_string(store, "/config", "resolved", &error);
    g_assert_no_error(error);
    /* The override is in the resolved config, and so are the defaults. */
    g_assert_nonnull(strstr(resolved, "per_class: 3"));
    g_assert_nonnull(strstr(resolved, "objects:"));
    g_autofree char *stage = pvx_store_get_attr_string(store, "/stages/preview", "state", &error);
    g_assert_cmpstr(stage, ==, "finished");
    g_autoptr(PvxImage) img = pvx_image_load(png, &error);
    g_assert_no_error(error);
    g_assert_cmpint(img->width, >, 3 * 32);
    g_assert_cmpint(img->height, >, 3 * 32);

    /* The same run id again is refused rather than overwriting results. */
    r = run_pvx(dir, "run", cfg, "--run-id", "r1", NULL);
    g_assert_cmpint(r.status, !=, 0);
    g_assert_nonnull(strstr(r.err, "already exists"));
    result_clear(&r);
    remove_tree(dir);
}

static void cli_bad_override_names_it(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-cli-XXXXXX", NULL);
    g_autofree char *cfg = write_config(dir, "k.yaml", "name: k\ndataset:\n  plugin: kandinsky\n");
    Result r = run_pvx(dir, "run", cfg, "--set", "seed=abc", NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "--set #1"));
    result_clear(&r);
    remove_tree(dir);
}

static void cli_data_preview_writes_png(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-cli-XXXXXX", NULL);
    g_autofree char *cfg = write_config(dir, "k.yaml",
                                        "name: k\ndataset:\n  plugin: kandinsky\n"
                                        "  params: {size: 32, classes: 2, test_size: 10}\n");
    g_autofree char *png = g_build_filename(dir, "grid.png", NULL);
    Result r = run_pvx(dir, "data", "preview", cfg, "--out", png, "--per-class", "2", NULL);
    if (r.status != 0)
        g_printerr("%s%s", r.out, r.err);
    g_assert_cmpint(r.status, ==, 0);
    g_autoptr(PvxImage) img = pvx_image_load(png, NULL);
    g_assert_nonnull(img);
    result_clear(&r);
    r = run_pvx(dir, "data", "preview", cfg, "--split", "nope", NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "unknown split 'nope'"));
    result_clear(&r);
    remove_tree(dir);
}

static void cli_unknown_command_exits_2(void)
{
    Result r = run_pvx(NULL, "frobnicate", NULL);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "unknown command 'frobnicate'"));
    result_clear(&r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cli/plugins_lists_the_dataset_plugins",
                    cli_plugins_lists_the_dataset_plugins);
    g_test_add_func("/cli/plugins_name_shows_parameters", cli_plugins_name_shows_parameters);
    g_test_add_func("/cli/broken_plugin_is_reported_not_fatal",
                    cli_broken_plugin_is_reported_not_fatal);
    g_test_add_func("/cli/run_unknown_key_exits_2_with_location",
                    cli_run_unknown_key_exits_2_with_location);
    g_test_add_func("/cli/run_id_cannot_leave_the_output_folder",
                    cli_run_id_cannot_leave_the_output_folder);
    g_test_add_func("/cli/run_unknown_plugin_lists_available",
                    cli_run_unknown_plugin_lists_available);
    g_test_add_func("/cli/run_writes_results_and_preview", cli_run_writes_results_and_preview);
    g_test_add_func("/cli/bad_override_names_it", cli_bad_override_names_it);
    g_test_add_func("/cli/data_preview_writes_png", cli_data_preview_writes_png);
    g_test_add_func("/cli/unknown_command_exits_2", cli_unknown_command_exits_2);
    return g_test_run();
}
