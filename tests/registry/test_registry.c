/* Tests of the plugin loader: each refusal, lookup, listing and the search path. */
#include <string.h>
#include <unistd.h>

#include "pvx-private/core.h"

static void assert_refused(const char *path, int code, const char *fragment)
{
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    g_autoptr(GError) error = NULL;
    g_assert_false(pvx_registry_load_file(reg, path, &error));
    g_assert_error(error, PVX_ERROR, code);
    g_autofree char *base = g_path_get_basename(path);
    /* Every refusal names the file. */
    g_assert_nonnull(strstr(error->message, base));
    if (fragment && !strstr(error->message, fragment))
        g_error("message '%s' lacks '%s'", error->message, fragment);
    g_assert_null(pvx_registry_find(reg, PVX_KIND_DATASET, "testds"));
}

static void registry_loads_good_plugin(void)
{
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_registry_load_file(reg, PLUGIN_GOOD, &error));
    g_assert_no_error(error);
    const PvxPlugin *p = pvx_registry_find(reg, PVX_KIND_DATASET, "testds");
    g_assert_nonnull(p);
    g_assert_cmpstr(p->desc->version, ==, "1.2.3");
    g_assert_nonnull(pvx_plugin_klass(p, PVX_KIND_DATASET));
    g_assert_null(pvx_plugin_klass(p, PVX_KIND_MODEL));
    /* The plugin actually runs through the core's dataset handle. */
    g_autoptr(PvxParams) params = pvx_params_new_defaults(p->params, "dataset testds", &error);
    g_assert_no_error(error);
    g_autoptr(PvxDataset) ds = pvx_dataset_open(p, params, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_dataset_num_classes(ds), ==, 2);
    PvxDatasetItem item = {0};
    g_assert_true(pvx_dataset_get_item(ds, PVX_SPLIT_TEST, 3, &item, &error));
    g_assert_cmpint(item.label, ==, 1);
    g_assert_cmpfloat(item.image->data[0], ==, 3.0f);
    g_assert_cmpstr(item.id, ==, "test-000003");
    pvx_dataset_item_clear(&item);
    g_assert_false(pvx_dataset_get_item(ds, PVX_SPLIT_TEST, 4, &item, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
}

static void registry_refuses_unopenable_file(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-reg-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "garbage.so", NULL);
    g_assert_true(g_file_set_contents(path, "this is not an ELF file\n", -1, NULL));
    assert_refused(path, PVX_ERROR_PLUGIN_OPEN, "cannot open plugin");
    g_autofree char *missing = g_build_filename(dir, "missing.so", NULL);
    assert_refused(missing, PVX_ERROR_PLUGIN_OPEN, "cannot open plugin");
    unlink(path);
    rmdir(dir);
}

static void registry_refuses_library_without_descriptor(void)
{
    assert_refused(PLUGIN_NOT_PVX, PVX_ERROR_PLUGIN_NOT_PVX, "not a pvx plugin");
}

static void registry_refuses_other_abi_major_naming_both_versions(void)
{
    g_autofree char *plugin = g_strdup_printf("ABI %d.%d", PVX_ABI_MAJOR + 1, PVX_ABI_MINOR);
    g_autofree char *core = g_strdup_printf("ABI %d.%d", PVX_ABI_MAJOR, PVX_ABI_MINOR);
    assert_refused(PLUGIN_ABI_MAJOR, PVX_ERROR_PLUGIN_ABI, plugin);
    assert_refused(PLUGIN_ABI_MAJOR, PVX_ERROR_PLUGIN_ABI, core);
}

static void registry_refuses_newer_abi_minor(void)
{
    g_autofree char *plugin = g_strdup_printf("ABI %d.%d", PVX_ABI_MAJOR, PVX_ABI_MINOR + 1);
    assert_refused(PLUGIN_ABI_MINOR, PVX_ERROR_PLUGIN_ABI, plugin);
}

static void registry_refuses_invalid_descriptors(void)
{
    assert_refused(PLUGIN_NULL_NAME, PVX_ERROR_PLUGIN_INVALID, "name NULL");
    assert_refused(PLUGIN_SHORT_TABLE, PVX_ERROR_PLUGIN_INVALID, "function table");
    assert_refused(PLUGIN_MISSING_SLOT, PVX_ERROR_PLUGIN_INVALID, "'get_item' is NULL");
    assert_refused(PLUGIN_BROKEN_PARAMS, PVX_ERROR_PLUGIN_INVALID, "parameter schema");
    assert_refused(PLUGIN_NARROW_SPECS, PVX_ERROR_PLUGIN_INVALID, "parameter spec size 56");
    assert_refused(PLUGIN_HUGE_SPECS, PVX_ERROR_PLUGIN_INVALID, "implausibly large");
}

/* A 1.0 descriptor's param_spec_size was reserved room, and 1.0's loader never looked at it: the
 * core reads a 1.0 plugin's table at 1.0's stride whatever that room holds. */
static void registry_reads_abi_1_0_specs_at_1_0_stride_whatever_the_reserved_room_holds(void)
{
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_registry_load_file(reg, PLUGIN_ABI10_JUNK, &error));
    g_assert_no_error(error);
    const PvxPlugin *p = pvx_registry_find(reg, PVX_KIND_DATASET, "junk");
    g_assert_nonnull(p);
    g_assert_cmpuint(p->desc->param_spec_size, ==, 12345);
    g_assert_nonnull(p->params);
    g_assert_cmpstr(p->params[0].name, ==, "classes");
}

static void registry_loads_table_of_exactly_the_required_slots(void)
{
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_registry_load_file(reg, PLUGIN_MIN_TABLE, &error));
    g_assert_no_error(error);
    const PvxPlugin *p = pvx_registry_find(reg, PVX_KIND_DATASET, "mintable");
    g_autoptr(PvxParams) params = pvx_params_new_defaults(p->params, "dataset mintable", &error);
    g_autoptr(PvxDataset) ds = pvx_dataset_open(p, params, &error);
    g_assert_no_error(error);
    /* item_label lies beyond the table: the core falls back to get_item. */
    g_assert_cmpint(pvx_dataset_get_label(ds, PVX_SPLIT_TEST, 3, &error), ==, 1);
    g_assert_no_error(error);
}

static void registry_refuses_open_and_close_apart(void)
{
    assert_refused(PLUGIN_CLOSE_WITHOUT_OPEN, PVX_ERROR_PLUGIN_INVALID, "has close without open");
    assert_refused(PLUGIN_OPEN_WITHOUT_CLOSE, PVX_ERROR_PLUGIN_INVALID, "has open without close");
}

/* Loads the complete test plugin of a kind, then refuses the one without its required slot. */
static void assert_kind_slot_required(const char *good, const char *missing, PvxPluginKind kind,
                                      const char *name, const char *slot)
{
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_registry_load_file(reg, good, &error));
    g_assert_no_error(error);
    g_assert_nonnull(pvx_registry_find(reg, kind, name));
    g_autofree char *fragment =
        g_strdup_printf("%s function '%s' is NULL", pvx_plugin_kind_name(kind), slot);
    g_autoptr(PvxRegistry) reg2 = pvx_registry_new();
    g_assert_false(pvx_registry_load_file(reg2, missing, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID);
    if (!strstr(error->message, fragment))
        g_error("message '%s' lacks '%s'", error->message, fragment);
    g_assert_null(pvx_registry_find(reg2, kind, name));
}

static void registry_refuses_missing_required_slot_of_every_kind(void)
{
    /* The dataset kind: registry_refuses_invalid_descriptors (get_item). */
    assert_kind_slot_required(PLUGIN_MODEL, PLUGIN_MODEL_MISSING_SLOT, PVX_KIND_MODEL, "test-model",
                              "build");
    assert_kind_slot_required(PLUGIN_PRUNER, PLUGIN_PRUNER_MISSING_SLOT, PVX_KIND_PRUNER,
                              "test-pruner", "score");
    assert_kind_slot_required(PLUGIN_EXPLAINER, PLUGIN_EXPLAINER_MISSING_SLOT, PVX_KIND_EXPLAINER,
                              "test-explainer", "explain");
    assert_kind_slot_required(PLUGIN_METRIC, PLUGIN_METRIC_MISSING_SLOT, PVX_KIND_METRIC,
                              "test-metric", "compute");
}

/* pvx_model_build gives the open wrapper's guarantee: an error if and only if there is no model. */
static void registry_model_build_error_iff_no_model(void)
{
    const int64_t chw[3] = {1, 2, 2};
    const char *paths[] = {PLUGIN_MODEL_BUILD_SILENT, PLUGIN_MODEL_BUILD_BOTH};
    const char *fragments[] = {"failed to build without saying why",
                               "model test-model: half-built"};
    for (int i = 0; i < 2; i++) {
        g_autoptr(PvxRegistry) reg = pvx_registry_new();
        g_autoptr(GError) error = NULL;
        g_assert_true(pvx_registry_load_file(reg, paths[i], &error));
        const PvxPlugin *p = pvx_registry_find(reg, PVX_KIND_MODEL, "test-model");
        g_autoptr(PvxParams) params = pvx_params_new_defaults(p->params, "model", &error);
        g_assert_no_error(error);
        g_autoptr(PvxModel) m = pvx_model_build(p, params, chw, 2, &error);
        g_assert_null(m);
        g_assert_nonnull(error);
        if (!strstr(error->message, fragments[i]))
            g_error("message '%s' lacks '%s'", error->message, fragments[i]);
    }
    /* and the well-behaved one builds */
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_registry_load_file(reg, PLUGIN_MODEL, &error));
    const PvxPlugin *p = pvx_registry_find(reg, PVX_KIND_MODEL, "test-model");
    g_autoptr(PvxParams) params = pvx_params_new_defaults(p->params, "model", &error);
    g_autoptr(PvxModel) m = pvx_model_build(p, params, chw, 2, &error);
    g_assert_no_error(error);
    g_assert_nonnull(m);
}

/* Loads @path into @reg and returns its plugin of @kind named @name. */
static const PvxPlugin *load_one(PvxRegistry *reg, const char *path, PvxPluginKind kind,
                                 const char *name)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_registry_load_file(reg, path, &error));
    g_assert_no_error(error);
    const PvxPlugin *p = pvx_registry_find(reg, kind, name);
    g_assert_nonnull(p);
    return p;
}

/* The plugin's own count of close calls. */
static int closed_count(const PvxPlugin *p)
{
    gpointer sym = NULL;
    g_assert_true(g_module_symbol(p->module, "pvx_test_closed", &sym));
    return *(const int *)sym;
}

static void registry_opens_stateless_plugin_with_null_state(void)
{
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    const PvxPlugin *p = load_one(reg, PLUGIN_STATELESS, PVX_KIND_DATASET, "stateless");
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxParams) params = pvx_params_new_defaults(p->params, "dataset stateless", &error);
    g_assert_no_error(error);
    gpointer state = GINT_TO_POINTER(1);
    g_assert_true(pvx_plugin_open_instance(p, params, &state, &error));
    g_assert_no_error(error);
    g_assert_null(state);
    /* closing a plugin without close is a no-op (nothing to call; it must not crash) */
    pvx_plugin_close_instance(p, state);
    /* And through the dataset handle, which passes self = NULL to every callback. */
    g_autoptr(PvxDataset) ds = pvx_dataset_open(p, params, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_dataset_num_classes(ds), ==, 2);
    PvxDatasetItem item = {0};
    g_assert_true(pvx_dataset_get_item(ds, PVX_SPLIT_TEST, 3, &item, &error));
    g_assert_no_error(error);
    g_assert_cmpint(item.label, ==, 1);
    pvx_dataset_item_clear(&item);
}

static void registry_open_failing_silently_gets_a_core_error(void)
{
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    const PvxPlugin *p = load_one(reg, PLUGIN_OPEN_SILENT_FAILURE, PVX_KIND_DATASET, "silent");
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxParams) params = pvx_params_new_defaults(p->params, "dataset silent", &error);
    g_assert_no_error(error);
    gpointer state = NULL;
    g_assert_false(pvx_plugin_open_instance(p, params, &state, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_FAILED);
    g_assert_true(g_str_has_prefix(error->message, "dataset silent: "));
    g_assert_nonnull(strstr(error->message, "no state and no error"));
    g_assert_nonnull(strstr(error->message, "pvx-test-open-silent-failure.so"));
    g_clear_error(&error);
    g_assert_null(pvx_dataset_open(p, params, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_FAILED);
    g_assert_cmpint(closed_count(p), ==, 0);
}

static void registry_open_returning_state_and_error_is_closed_and_fails(void)
{
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    const PvxPlugin *p = load_one(reg, PLUGIN_OPEN_STATE_AND_ERROR, PVX_KIND_DATASET, "both");
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxParams) params = pvx_params_new_defaults(p->params, "dataset both", &error);
    g_assert_no_error(error);
    gpointer state = NULL;
    g_assert_false(pvx_plugin_open_instance(p, params, &state, &error));
    /* The plugin's own error, prefixed; its state closed at once. */
    g_assert_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE);
    g_assert_cmpstr(error->message, ==, "dataset both: default: not today");
    g_assert_null(state);
    g_assert_cmpint(closed_count(p), ==, 1);
    g_clear_error(&error);
    g_assert_null(pvx_dataset_open(p, params, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE);
    g_assert_cmpint(closed_count(p), ==, 2);
}

static void registry_reads_spec_table_at_the_plugins_stride(void)
{
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    const PvxPlugin *p = load_one(reg, PLUGIN_WIDE_SPECS, PVX_KIND_DATASET, "wide");
    g_assert_cmpuint(p->desc->param_spec_size, >, sizeof(PvxParamSpec));
    /* Copied into the core's layout: two entries and the end. */
    g_assert_cmpstr(p->params[0].name, ==, "classes");
    g_assert_cmpstr(p->params[0].default_value, ==, "3");
    g_assert_cmpfloat(p->params[0].max, ==, 10);
    g_assert_cmpstr(p->params[1].name, ==, "mode");
    g_assert_cmpint(p->params[1].type, ==, PVX_PARAM_CHOICE);
    g_assert_cmpstr(p->params[1].choices[1], ==, "b");
    g_assert_null(p->params[2].name);
    g_autoptr(GError) error = NULL;
    const char *pairs[] = {"mode=a", NULL};
    g_autoptr(PvxParams) params =
        pvx_params_new_from_pairs(p->params, "dataset wide", pairs, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(pvx_params_get_string(params, "mode"), ==, "a");
    g_autoptr(PvxDataset) ds = pvx_dataset_open(p, params, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_dataset_num_classes(ds), ==, 3);
}

static void registry_loads_and_runs_abi_1_0_dataset(void)
{
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    const PvxPlugin *p = load_one(reg, PLUGIN_ABI10_DATASET, PVX_KIND_DATASET, "old-dataset");
    g_assert_cmpuint(p->desc->abi_minor, ==, 0);
    g_assert_cmpuint(p->desc->param_spec_size, ==, 0);
    g_assert_cmpstr(p->params[1].name, ==, "label");
    g_assert_null(p->params[2].name);
    g_autoptr(GError) error = NULL;
    const char *pairs[] = {"classes=4", NULL};
    g_autoptr(PvxParams) params =
        pvx_params_new_from_pairs(p->params, "dataset old-dataset", pairs, &error);
    g_assert_no_error(error);
    PvxDataset *ds = pvx_dataset_open(p, params, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_dataset_num_classes(ds), ==, 4);
    g_assert_cmpint(pvx_dataset_split_size(ds, PVX_SPLIT_TEST), ==, 6);
    PvxDatasetItem item = {0};
    g_assert_true(pvx_dataset_get_item(ds, PVX_SPLIT_TEST, 5, &item, &error));
    g_assert_no_error(error);
    g_assert_cmpint(item.label, ==, 1);
    g_assert_cmpfloat(item.image->data[2], ==, 2.5f);
    pvx_dataset_item_clear(&item);
    g_assert_cmpint(closed_count(p), ==, 0);
    pvx_dataset_close(ds);
    g_assert_cmpint(closed_count(p), ==, 1);
}

static void registry_loads_and_runs_abi_1_0_pruner(void)
{
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    const PvxPlugin *p = load_one(reg, PLUGIN_ABI10_PRUNER, PVX_KIND_PRUNER, "old-pruner");
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxParams) params = pvx_params_new_defaults(p->params, "pruner old-pruner", &error);
    g_assert_no_error(error);
    g_autoptr(PvxModel) m = pvx_model_new("test");
    PvxLayer *fc1 = pvx_model_add_linear(m, "fc1", 4, 2, FALSE);
    PvxLayer *fc2 = pvx_model_add_linear(m, "fc2", 2, 2, FALSE);
    for (int i = 0; i < 8; i++)
        fc1->weight->data[i] = (float)(i + 1);
    for (int i = 0; i < 4; i++)
        fc2->weight->data[i] = 1e-3f * (float)(i + 1);
    PvxPruner *pr = pvx_pruner_open(p, params, &error);
    g_assert_no_error(error);
    /* What the 1.0 slot asks for is readable (the prune stage reconciles it with prune.scope). */
    PvxPruneScope asked = PVX_PRUNE_SCOPE_LOCAL;
    g_assert_true(pvx_pruner_legacy_scope(pr, &asked));
    g_assert_cmpint(asked, ==, PVX_PRUNE_SCOPE_GLOBAL);
    const char *layers[] = {"fc1", "fc2", NULL};
    g_assert_true(pvx_prune_step(m, layers, pr, PVX_PRUNE_SCOPE_LOCAL, 1, 2, 0, 0, NULL, &error));
    g_assert_no_error(error);
    /* Local, as pvx_prune_step was told: each layer keeps half (global would have taken all of
     * fc2's tiny weights and left fc1 6). */
    for (int i = 0; i < 8; i++)
        g_assert_cmpfloat(fc1->mask->data[i], ==, i >= 4 ? 1.0f : 0.0f);
    for (int i = 0; i < 4; i++)
        g_assert_cmpfloat(fc2->mask->data[i], ==, i >= 2 ? 1.0f : 0.0f);
    g_assert_cmpint(closed_count(p), ==, 0);
    pvx_pruner_close(pr);
    g_assert_cmpint(closed_count(p), ==, 1);
}

static char *copy_into(const char *dir, const char *src)
{
    g_autofree char *base = g_path_get_basename(src);
    char *dst = g_build_filename(dir, base, NULL);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(src, &bytes, &len, NULL));
    g_assert_true(g_file_set_contents(dst, bytes, (gssize)len, NULL));
    return dst;
}

static void remove_tree(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        unlink(p);
    }
    rmdir(dir);
}

static void registry_refuses_duplicate_in_one_folder(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-reg-XXXXXX", NULL);
    g_autofree char *a = copy_into(dir, PLUGIN_TWIN_A);
    g_autofree char *b = copy_into(dir, PLUGIN_TWIN_B);
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    g_autoptr(GPtrArray) failures = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_registry_scan_dir(reg, dir, failures, &error));
    g_assert_cmpuint(failures->len, ==, 1);
    GError *dup = g_ptr_array_index(failures, 0);
    g_assert_error(dup, PVX_ERROR, PVX_ERROR_PLUGIN_DUPLICATE);
    /* Both files are named: the refused one and the one registered first. */
    g_assert_nonnull(strstr(dup->message, "pvx-test-twin-a.so"));
    g_assert_nonnull(strstr(dup->message, "pvx-test-twin-b.so"));
    g_assert_nonnull(pvx_registry_find(reg, PVX_KIND_DATASET, "twin"));
    remove_tree(dir);
}

static void registry_earlier_folder_shadows_later(void)
{
    g_autofree char *first = g_dir_make_tmp("pvx-reg-XXXXXX", NULL);
    g_autofree char *second = g_dir_make_tmp("pvx-reg-XXXXXX", NULL);
    g_autofree char *a = copy_into(first, PLUGIN_TWIN_A);
    g_autofree char *b = copy_into(second, PLUGIN_TWIN_B);
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    g_autoptr(GPtrArray) failures = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    const char *dirs[] = {first, second, NULL};
    g_assert_true(pvx_registry_scan_path(reg, dirs, failures, NULL));
    g_assert_cmpuint(failures->len, ==, 0);
    const PvxPlugin *p = pvx_registry_find(reg, PVX_KIND_DATASET, "twin");
    g_assert_nonnull(p);
    g_assert_true(g_str_has_prefix(p->path, first));
    remove_tree(first);
    remove_tree(second);
}

static void registry_scan_collects_refusals_and_keeps_going(void)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-reg-XXXXXX", NULL);
    g_autofree char *a = copy_into(dir, PLUGIN_ABI_MAJOR);
    g_autofree char *b = copy_into(dir, PLUGIN_GOOD);
    g_autofree char *c = copy_into(dir, PLUGIN_NOT_PVX);
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    g_autoptr(GPtrArray) failures = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    g_assert_true(pvx_registry_scan_dir(reg, dir, failures, NULL));
    g_assert_cmpuint(failures->len, ==, 2);
    g_assert_nonnull(pvx_registry_find(reg, PVX_KIND_DATASET, "testds"));
    remove_tree(dir);
}

static void registry_lookup_unknown_lists_available(void)
{
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    g_assert_true(pvx_registry_load_file(reg, PLUGIN_GOOD, NULL));
    g_autoptr(GError) error = NULL;
    g_assert_null(pvx_registry_lookup(reg, PVX_KIND_DATASET, "nope", &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_UNKNOWN);
    g_assert_cmpstr(error->message, ==, "unknown dataset plugin 'nope'; available: testds");
}

static void registry_search_path_order(void)
{
    g_autofree char *cli = g_dir_make_tmp("pvx-reg-XXXXXX", NULL);
    g_autofree char *env = g_dir_make_tmp("pvx-reg-XXXXXX", NULL);
    g_autofree char *cfg = g_dir_make_tmp("pvx-reg-XXXXXX", NULL);
    g_setenv("PVX_PLUGIN_PATH", env, TRUE);
    const char *cli_dirs[] = {cli, "/nonexistent/pvx", NULL};
    const char *cfg_dirs[] = {cfg, NULL};
    g_auto(GStrv) path = pvx_registry_search_path(cli_dirs, cfg_dirs);
    g_unsetenv("PVX_PLUGIN_PATH");
    g_assert_cmpuint(g_strv_length(path), >=, 3);
    g_assert_cmpstr(path[0], ==, cli);
    g_assert_cmpstr(path[1], ==, env);
    g_assert_cmpstr(path[2], ==, cfg);
    rmdir(cli);
    rmdir(env);
    rmdir(cfg);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/registry/loads_good_plugin", registry_loads_good_plugin);
    g_test_add_func("/registry/refuses_unopenable_file", registry_refuses_unopenable_file);
    g_test_add_func("/registry/refuses_library_without_descriptor",
                    registry_refuses_library_without_descriptor);
    g_test_add_func("/registry/refuses_other_abi_major_naming_both_versions",
                    registry_refuses_other_abi_major_naming_both_versions);
    g_test_add_func("/registry/refuses_newer_abi_minor", registry_refuses_newer_abi_minor);
    g_test_add_func("/registry/refuses_invalid_descriptors", registry_refuses_invalid_descriptors);
    g_test_add_func("/registry/reads_abi_1_0_specs_at_1_0_stride_whatever_the_reserved_room_holds",
                    registry_reads_abi_1_0_specs_at_1_0_stride_whatever_the_reserved_room_holds);
    g_test_add_func("/registry/model_build_error_iff_no_model",
                    registry_model_build_error_iff_no_model);
    g_test_add_func("/registry/loads_table_of_exactly_the_required_slots",
                    registry_loads_table_of_exactly_the_required_slots);
    g_test_add_func("/registry/refuses_open_and_close_apart",
                    registry_refuses_open_and_close_apart);
    g_test_add_func("/registry/refuses_missing_required_slot_of_every_kind",
                    registry_refuses_missing_required_slot_of_every_kind);
    g_test_add_func("/registry/opens_stateless_plugin_with_null_state",
                    registry_opens_stateless_plugin_with_null_state);
    g_test_add_func("/registry/open_failing_silently_gets_a_core_error",
                    registry_open_failing_silently_gets_a_core_error);
    g_test_add_func("/registry/open_returning_state_and_error_is_closed_and_fails",
                    registry_open_returning_state_and_error_is_closed_and_fails);
    g_test_add_func("/registry/reads_spec_table_at_the_plugins_stride",
                    registry_reads_spec_table_at_the_plugins_stride);
    g_test_add_func("/registry/loads_and_runs_abi_1_0_dataset",
                    registry_loads_and_runs_abi_1_0_dataset);
    g_test_add_func("/registry/loads_and_runs_abi_1_0_pruner",
                    registry_loads_and_runs_abi_1_0_pruner);
    g_test_add_func("/registry/refuses_duplicate_in_one_folder",
                    registry_refuses_duplicate_in_one_folder);
    g_test_add_func("/registry/earlier_folder_shadows_later",
                    registry_earlier_folder_shadows_later);
    g_test_add_func("/registry/scan_collects_refusals_and_keeps_going",
                    registry_scan_collects_refusals_and_keeps_going);
    g_test_add_func("/registry/lookup_unknown_lists_available",
                    registry_lookup_unknown_lists_available);
    g_test_add_func("/registry/search_path_order", registry_search_path_order);
    return g_test_run();
}
