/* Experiment files: every error kind names file:line:column exactly; overrides, defaults, paths
 * and the resolved text. Plugin sections use the test-only "cfgds" dataset plugin (CFG_PLUGIN). */
#include "pvx-private/core.h"
#include <glib/gstdio.h>
#include <string.h>

static PvxRegistry *reg;

/* Loads @text as "exp.yaml" with @overrides and validates it; returns the error or NULL. */
static GError *load_and_validate(const char *text, const char *const *overrides)
{
    GError *error = NULL;
    g_autoptr(PvxConfig) cfg = pvx_config_load_string(text, "exp.yaml", overrides, &error);
    if (cfg)
        pvx_config_validate(cfg, reg, NULL, &error);
    return error;
}

static void assert_config_error(const char *text, const char *const *overrides, int code,
                                const char *message)
{
    g_autoptr(GError) error = load_and_validate(text, overrides);
    if (!error)
        g_error("expected \"%s\", but the config validated:\n%s", message, text);
    g_assert_cmpstr(error->message, ==, message);
    g_assert_error(error, PVX_ERROR, code);
}

static PvxConfig *load_valid(const char *text, const char *const *overrides)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxConfig) cfg = pvx_config_load_string(text, "exp.yaml", overrides, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_config_validate(cfg, reg, NULL, &error));
    g_assert_no_error(error);
    return g_steal_pointer(&cfg);
}

static void config_syntax_error_names_line_and_column(void)
{
    assert_config_error("name: exp1\ndataset:\n\tplugin: cfgds\n", NULL, PVX_ERROR_CONFIG_SYNTAX,
                        "exp.yaml:3:1: YAML syntax error: found character that cannot start any "
                        "token (while scanning for the next token)");
    assert_config_error("name: exp1\nseed: 1: 2\n", NULL, PVX_ERROR_CONFIG_SYNTAX,
                        "exp.yaml:2:8: YAML syntax error: mapping values are not allowed in this "
                        "context");
}

static void config_unknown_root_key_lists_valid_keys(void)
{
    assert_config_error("name: exp1\nsede: 3\ndataset:\n  plugin: cfgds\n", NULL,
                        PVX_ERROR_CONFIG_UNKNOWN_KEY,
                        "exp.yaml:2:1: unknown key 'sede' at the top level; valid keys: dataset, "
                        "description, evaluate, explain, metrics, model, name, output, "
                        "plugin_path, preview, prune, seed, study, train");
}

static void config_unknown_section_key_lists_valid_keys(void)
{
    assert_config_error("name: exp1\ndataset:\n  plugin: cfgds\npreview:\n  per_clas: 4\n", NULL,
                        PVX_ERROR_CONFIG_UNKNOWN_KEY,
                        "exp.yaml:5:3: unknown key 'per_clas' in section 'preview'; valid keys: "
                        "out, per_class, split");
    assert_config_error("name: exp1\ndataset:\n  plugin: cfgds\n  param: {}\n", NULL,
                        PVX_ERROR_CONFIG_UNKNOWN_KEY,
                        "exp.yaml:4:3: unknown key 'param' in section 'dataset'; valid keys: "
                        "params, plugin");
}

static void config_unknown_plugin_param_lists_valid_keys(void)
{
    assert_config_error("name: exp1\ndataset:\n  plugin: cfgds\n  params:\n    limt: 5\n", NULL,
                        PVX_ERROR_CONFIG_UNKNOWN_KEY,
                        "exp.yaml:5:5: unknown key 'limt' in params of dataset cfgds; valid keys: "
                        "cache, label, limit, mode, root, scale, shuffle, sizes, tags, weights");
}

static void config_wrong_type_names_value(void)
{
    assert_config_error("name: exp1\nseed: abc\n", NULL, PVX_ERROR_CONFIG_TYPE,
                        "exp.yaml:2:7: 'seed' must be an int, got string \"abc\"");
    /* A quoted number is a string. */
    assert_config_error("name: exp1\nseed: \"5\"\n", NULL, PVX_ERROR_CONFIG_TYPE,
                        "exp.yaml:2:7: 'seed' must be an int, got string \"5\"");
    assert_config_error("name: exp1\ndataset:\n  plugin: cfgds\npreview: 3\n", NULL,
                        PVX_ERROR_CONFIG_TYPE,
                        "exp.yaml:4:10: 'preview' must be a mapping, got int 3");
    assert_config_error("name: exp1\ndataset:\n  plugin: [cfgds]\n", NULL, PVX_ERROR_CONFIG_TYPE,
                        "exp.yaml:3:11: 'plugin' must be the name of a dataset plugin, got a list");
}

static void config_plugin_param_wrong_type_names_owner(void)
{
    assert_config_error("name: exp1\ndataset:\n  plugin: cfgds\n  params:\n    limit: x\n", NULL,
                        PVX_ERROR_CONFIG_TYPE,
                        "exp.yaml:5:12: dataset cfgds: 'limit' must be an int, got string \"x\"");
    /* Only true/false are booleans (YAML 1.2). */
    assert_config_error("name: exp1\ndataset:\n  plugin: cfgds\n  params:\n    shuffle: yes\n",
                        NULL, PVX_ERROR_CONFIG_TYPE,
                        "exp.yaml:5:14: dataset cfgds: 'shuffle' must be a bool (true or false), "
                        "got string \"yes\"");
    assert_config_error("name: exp1\ndataset:\n  plugin: cfgds\n  params:\n    tags: a\n", NULL,
                        PVX_ERROR_CONFIG_TYPE,
                        "exp.yaml:5:11: dataset cfgds: 'tags' must be a list of strings, got "
                        "string \"a\"");
}

static void config_out_of_range_names_bound(void)
{
    assert_config_error("name: exp1\ndataset:\n  plugin: cfgds\npreview:\n  per_class: 100\n", NULL,
                        PVX_ERROR_CONFIG_RANGE,
                        "exp.yaml:5:14: 'per_class' must be <= 64, got 100");
    assert_config_error("name: exp1\nseed: -1\n", NULL, PVX_ERROR_CONFIG_RANGE,
                        "exp.yaml:2:7: 'seed' must be >= 0, got -1");
    /* Each list element is checked, at its own column. */
    assert_config_error("name: exp1\ndataset:\n  plugin: cfgds\n  params:\n    sizes: [4, 0]\n",
                        NULL, PVX_ERROR_CONFIG_RANGE,
                        "exp.yaml:5:16: dataset cfgds: 'sizes'[1] must be >= 1, got 0");
    assert_config_error("name: exp1\ndataset:\n  plugin: cfgds\n  params:\n    scale: 10.5\n", NULL,
                        PVX_ERROR_CONFIG_RANGE,
                        "exp.yaml:5:12: dataset cfgds: 'scale' must be <= 10, got 10.5");
}

static void config_bad_choice_lists_choices(void)
{
    assert_config_error(
        "name: exp1\ndataset:\n  plugin: cfgds\npreview:\n  split: tst\n", NULL,
        PVX_ERROR_CONFIG_RANGE,
        "exp.yaml:5:10: 'split' must be one of: train, val, test; got string \"tst\"");
}

static void config_missing_required_key_points_at_mapping(void)
{
    assert_config_error("# an experiment\nseed: 1\ndataset:\n  plugin: cfgds\n", NULL,
                        PVX_ERROR_CONFIG_MISSING, "exp.yaml:2:1: missing required key 'name'");
    assert_config_error("", NULL, PVX_ERROR_CONFIG_MISSING,
                        "exp.yaml:1:1: missing required key 'name'");
    assert_config_error("\nname: exp1\n", NULL, PVX_ERROR_CONFIG_MISSING,
                        "exp.yaml:2:1: missing required key 'dataset'");
    assert_config_error("name: exp1\ndataset:\n  params: {}\n", NULL, PVX_ERROR_CONFIG_MISSING,
                        "exp.yaml:3:3: missing required key 'plugin' in section 'dataset'");
}

static void config_unknown_plugin_lists_available(void)
{
    assert_config_error("name: exp1\ndataset:\n  plugin: cfgdss\n", NULL, PVX_ERROR_PLUGIN_UNKNOWN,
                        "exp.yaml:3:11: unknown dataset plugin 'cfgdss'; available: cfgds");
}

static void config_duplicate_key_names_both_locations(void)
{
    assert_config_error("name: exp1\nseed: 1\ndataset:\n  plugin: cfgds\nseed: 2\n", NULL,
                        PVX_ERROR_CONFIG_SYNTAX,
                        "exp.yaml:5:1: duplicate key 'seed' (first defined at exp.yaml:2:1)");
}

static void config_alias_is_refused(void)
{
    assert_config_error("name: &n exp1\ndescription: *n\n", NULL, PVX_ERROR_CONFIG_SYNTAX,
                        "exp.yaml:2:14: YAML aliases (*n) are not supported; write the value out");
}

static void config_root_must_be_a_mapping(void)
{
    assert_config_error("- a\n- b\n", NULL, PVX_ERROR_CONFIG_TYPE,
                        "exp.yaml:1:1: an experiment file must be a YAML mapping (key: value "
                        "lines), got a list");
}

static void config_name_must_be_folder_safe(void)
{
    assert_config_error("name: my exp\ndataset:\n  plugin: cfgds\n", NULL, PVX_ERROR_CONFIG_RANGE,
                        "exp.yaml:1:7: 'name' must be letters, digits, '_', '.' or '-' only, and "
                        "not '.' or '..' (it is a folder of the output), got \"my exp\"");
    /* the name is one folder of the output: never the output's parent or the output itself */
    assert_config_error("name: ..\ndataset:\n  plugin: cfgds\n", NULL, PVX_ERROR_CONFIG_RANGE,
                        "exp.yaml:1:7: 'name' must be letters, digits, '_', '.' or '-' only, and "
                        "not '.' or '..' (it is a folder of the output), got \"..\"");
    assert_config_error("name: .\ndataset:\n  plugin: cfgds\n", NULL, PVX_ERROR_CONFIG_RANGE,
                        "exp.yaml:1:7: 'name' must be letters, digits, '_', '.' or '-' only, and "
                        "not '.' or '..' (it is a folder of the output), got \".\"");
    assert_config_error("name: ../x\ndataset:\n  plugin: cfgds\n", NULL, PVX_ERROR_CONFIG_RANGE,
                        "exp.yaml:1:7: 'name' must be letters, digits, '_', '.' or '-' only, and "
                        "not '.' or '..' (it is a folder of the output), got \"../x\"");
}

static const char *base_text = "name: exp1\n"
                               "seed: 1\n"
                               "dataset:\n"
                               "  plugin: cfgds\n"
                               "  params:\n"
                               "    limit: 10\n";

static void config_bad_override_names_override(void)
{
    const char *no_eq[] = {"seed=2", "seed", NULL};
    assert_config_error(base_text, no_eq, PVX_ERROR_CONFIG_OVERRIDE,
                        "--set #2 'seed': expected KEY.PATH=VALUE (e.g. train.epochs=1)");
    const char *unknown[] = {"seed=2", "preview.per_clas=1", NULL};
    assert_config_error(base_text, unknown, PVX_ERROR_CONFIG_UNKNOWN_KEY,
                        "--set #2 'preview.per_clas=1': unknown key 'per_clas' in section "
                        "'preview'; valid keys: out, per_class, split");
    const char *through_scalar[] = {"seed.x=1", NULL};
    assert_config_error(base_text, through_scalar, PVX_ERROR_CONFIG_OVERRIDE,
                        "--set #1 'seed.x=1': 'seed' is int 1 (exp.yaml:2:7), not a mapping");
    const char *empty_segment[] = {"dataset..limit=1", NULL};
    assert_config_error(base_text, empty_segment, PVX_ERROR_CONFIG_OVERRIDE,
                        "--set #1 'dataset..limit=1': 'dataset..limit' is not a valid key path "
                        "(empty or blank segment)");
    const char *wrong_type[] = {"dataset.params.limit=many", NULL};
    assert_config_error(base_text, wrong_type, PVX_ERROR_CONFIG_TYPE,
                        "--set #1 'dataset.params.limit=many': dataset cfgds: 'limit' must be an "
                        "int, got string \"many\"");
    const char *bad_yaml[] = {"dataset.params.sizes=[1,", NULL};
    g_autoptr(GError) error = load_and_validate(base_text, bad_yaml);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_CONFIG_OVERRIDE);
    g_assert_true(g_str_has_prefix(error->message,
                                   "--set #1 'dataset.params.sizes=[1,': YAML syntax error: "));
}

static void config_override_applied_with_list_value(void)
{
    const char *overrides[] = {"dataset.params.sizes=[8, 16]", "preview.split=val", "seed=7",
                               "dataset.params.label=\"123\"", NULL};
    g_autoptr(PvxConfig) cfg = load_valid(base_text, overrides);
    const PvxParams *dp = NULL;
    const PvxPlugin *plugin = pvx_config_plugin(cfg, "dataset", 0, &dp);
    g_assert_nonnull(plugin);
    g_assert_cmpstr(plugin->desc->name, ==, "cfgds");
    gsize n = 0;
    const int64_t *sizes = pvx_params_get_int_list(dp, "sizes", &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpint(sizes[0], ==, 8);
    g_assert_cmpint(sizes[1], ==, 16);
    g_assert_cmpstr(pvx_params_where(dp, "sizes"), ==, "--set #1");
    g_assert_cmpstr(pvx_params_get_string(dp, "label"), ==, "123");
    g_assert_cmpint(pvx_params_get_int(dp, "limit"), ==, 10);
    g_assert_cmpstr(pvx_params_where(dp, "limit"), ==, "exp.yaml:6:12");
    /* The override created the preview section. */
    g_assert_true(pvx_config_has_section(cfg, "preview"));
    const PvxParams *pv = pvx_config_section(cfg, "preview");
    g_assert_cmpstr(pvx_params_get_string(pv, "split"), ==, "val");
    g_assert_cmpstr(pvx_params_where(pv, "split"), ==, "--set #2");
    const PvxParams *root = pvx_config_section(cfg, "");
    g_assert_cmpint(pvx_params_get_int(root, "seed"), ==, 7);
    g_assert_cmpstr(pvx_params_where(root, "seed"), ==, "--set #3");
    g_assert_cmpstr(pvx_config_overrides(cfg)[1], ==, "preview.split=val");
}

static void config_defaults_fill_absent_values(void)
{
    g_autoptr(PvxConfig) cfg = load_valid("name: exp1\ndataset:\n  plugin: cfgds\n", NULL);
    g_assert_false(pvx_config_has_section(cfg, "preview"));
    const PvxParams *pv = pvx_config_section(cfg, "preview");
    g_assert_nonnull(pv);
    g_assert_cmpint(pvx_params_get_int(pv, "per_class"), ==, 8);
    g_assert_cmpstr(pvx_params_get_string(pv, "split"), ==, "test");
    g_assert_false(pvx_params_has_value(pv, "out"));
    g_assert_cmpstr(pvx_params_where(pv, "per_class"), ==, "default");
    const PvxParams *root = pvx_config_section(cfg, "");
    g_assert_cmpstr(pvx_params_get_string(root, "description"), ==, "");
    g_assert_cmpint(pvx_params_get_int(root, "seed"), ==, 0);
    g_assert_cmpstr(pvx_params_where(root, "name"), ==, "exp.yaml:1:7");
    const PvxParams *dp = NULL;
    pvx_config_plugin(cfg, "dataset", 0, &dp);
    g_assert_cmpfloat(pvx_params_get_double(dp, "scale"), ==, 0.5);
    g_assert_cmpstr(pvx_params_get_string(dp, "mode"), ==, "fast");
    g_assert_false(pvx_params_is_set(dp, "limit"));
}

static void config_plugin_params_reach_the_plugin(void)
{
    g_autoptr(PvxConfig) cfg = load_valid(base_text, NULL);
    const PvxParams *dp = NULL;
    const PvxPlugin *plugin = pvx_config_plugin(cfg, "dataset", 0, &dp);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxDataset) ds = pvx_dataset_open(plugin, dp, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_dataset_split_size(ds, PVX_SPLIT_TEST), ==, 10);
}

static void config_paths_resolve_against_config_folder(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("pvx-config-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *dir = g_build_filename(tmp, "configs", NULL);
    g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
    g_autofree char *path = g_build_filename(dir, "exp.yaml", NULL);
    const char *text = "name: exp1\n"
                       "output: ../out\n"
                       "plugin_path: [plugins, /opt/pvx]\n"
                       "dataset:\n"
                       "  plugin: cfgds\n"
                       "  params:\n"
                       "    root: data/mnist\n";
    g_assert_true(g_file_set_contents(path, text, -1, &error));
    g_autoptr(PvxConfig) cfg = pvx_config_load(path, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(pvx_config_path(cfg), ==, path);
    g_assert_cmpstr(pvx_config_text(cfg), ==, text);
    /* plugin_path is known before validation, to build the registry. */
    const char *const *pp = pvx_config_plugin_path(cfg);
    g_autofree char *plugins = g_build_filename(dir, "plugins", NULL);
    g_assert_cmpstr(pp[0], ==, plugins);
    g_assert_cmpstr(pp[1], ==, "/opt/pvx");
    g_assert_null(pp[2]);
    g_assert_true(pvx_config_validate(cfg, reg, NULL, &error));
    g_assert_no_error(error);
    /* `output` is a plain string: runs go under the folder pvx runs in, not the config's. */
    g_assert_cmpstr(pvx_params_get_string(pvx_config_section(cfg, ""), "output"), ==, "../out");
    const PvxParams *dp = NULL;
    pvx_config_plugin(cfg, "dataset", 0, &dp);
    g_autofree char *root = g_build_filename(dir, "data", "mnist", NULL);
    g_assert_cmpstr(pvx_params_get_string(dp, "root"), ==, root);
    g_autofree char *where = g_strdup_printf("%s:7:11", path);
    g_assert_cmpstr(pvx_params_where(dp, "root"), ==, where);
    g_assert_null(pvx_params_get_string(dp, "cache"));
    g_assert_cmpint(g_remove(path), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
    g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

/* Every value, compared between two validated configs. */
static void assert_same_params(const PvxParams *a, const PvxParams *b, const char *const *names)
{
    for (guint k = 0; names[k]; k++)
        g_assert_cmpint(pvx_params_has_value(a, names[k]), ==, pvx_params_has_value(b, names[k]));
}

static void config_resolved_text_round_trips(void)
{
    const char *text = "name: exp1\n"
                       "description: \"quote \\\" back\\\\slash\\nnew line: # not a comment\"\n"
                       "plugin_path: [plug]\n"
                       "dataset:\n"
                       "  plugin: cfgds\n"
                       "  params:\n"
                       "    scale: 0.1\n"
                       "    weights: [0.3, 1, 1e-7]\n"
                       "    tags: [yes, '1', \"\"]\n"
                       "    cache: c.h5\n"
                       "preview:\n";
    const char *overrides[] = {"dataset.params.sizes=[3,5]", "preview.per_class=64", NULL};
    g_autoptr(PvxConfig) a = load_valid(text, overrides);
    g_autofree char *ra = pvx_config_resolved_text(a);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxConfig) b = pvx_config_load_string(ra, "resolved.yaml", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_config_validate(b, reg, NULL, &error));
    g_assert_no_error(error);
    g_autofree char *rb = pvx_config_resolved_text(b);
    /* Identical apart from the first comment line. */
    g_assert_cmpstr(strchr(ra, '\n'), ==, strchr(rb, '\n'));
    g_assert_true(g_str_has_prefix(ra, "# resolved from exp.yaml with --set #1 "));

    const PvxParams *ra_root = pvx_config_section(a, ""), *rb_root = pvx_config_section(b, "");
    g_assert_cmpstr(pvx_params_get_string(rb_root, "description"), ==,
                    "quote \" back\\slash\nnew line: # not a comment");
    g_assert_cmpstr(pvx_params_get_string(ra_root, "output"), ==,
                    pvx_params_get_string(rb_root, "output"));
    gsize n = 0;
    const char *const *pp = pvx_params_get_string_list(rb_root, "plugin_path", &n);
    g_assert_cmpuint(n, ==, 1);
    g_assert_true(g_path_is_absolute(pp[0]));
    const PvxParams *da = NULL, *db = NULL;
    pvx_config_plugin(a, "dataset", 0, &da);
    pvx_config_plugin(b, "dataset", 0, &db);
    g_assert_cmpfloat(pvx_params_get_double(db, "scale"), ==, 0.1);
    const double *w = pvx_params_get_double_list(db, "weights", &n);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpfloat(w[0], ==, 0.3);
    g_assert_cmpfloat(w[1], ==, 1.0);
    g_assert_cmpfloat(w[2], ==, 1e-7);
    const char *const *tags = pvx_params_get_string_list(db, "tags", &n);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpstr(tags[0], ==, "yes");
    g_assert_cmpstr(tags[1], ==, "1");
    g_assert_cmpstr(tags[2], ==, "");
    const int64_t *sizes = pvx_params_get_int_list(db, "sizes", &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpint(sizes[1], ==, 5);
    g_assert_cmpstr(pvx_params_get_string(da, "cache"), ==, pvx_params_get_string(db, "cache"));
    g_assert_cmpstr(pvx_params_get_string(da, "root"), ==, pvx_params_get_string(db, "root"));
    g_assert_cmpint(pvx_params_get_int(pvx_config_section(b, "preview"), "per_class"), ==, 64);
    const char *names[] = {"shuffle", "limit", "scale", "label", "mode", "sizes",
                           "weights", "tags",  "root",  "cache", NULL};
    assert_same_params(da, db, names);
}

/* A schema with nested and list sections, as later stages will add. */
static const PvxParamSpec train_specs[] = {
    {"epochs", PVX_PARAM_INT, NULL, PVX_PARAM_REQUIRED | PVX_PARAM_HAS_MIN, 1, 0, NULL, ""},
    {"lr", PVX_PARAM_DOUBLE, "0.1", PVX_PARAM_HAS_MIN, 0, 0, NULL, ""},
    {"batch_size", PVX_PARAM_INT, "32", 0, 0, 0, NULL, ""},
    PVX_PARAM_SPEC_END,
};
static const PvxParamSpec schedule_specs[] = {
    {"rates", PVX_PARAM_INT_LIST, "[2]", 0, 0, 0, NULL, ""},
    PVX_PARAM_SPEC_END,
};
static const PvxConfigSectionSpec train_children[] = {
    {"schedule", 0, 0, schedule_specs, NULL, ""},
    {NULL, 0, 0, NULL, NULL, NULL},
};
static const PvxConfigSectionSpec custom_sections[] = {
    {"train", 0, 0, train_specs, train_children, ""},
    {"data", PVX_SECTION_LIST, PVX_KIND_DATASET, NULL, NULL, ""},
    {NULL, 0, 0, NULL, NULL, NULL},
};
static const PvxParamSpec custom_root_specs[] = {
    {"name", PVX_PARAM_STRING, "x", 0, 0, 0, NULL, ""},
    PVX_PARAM_SPEC_END,
};
static const PvxConfigSectionSpec custom_root = {"", 0, 0, custom_root_specs, custom_sections, ""};

static GError *validate_custom(const char *text, const char *const *overrides, PvxConfig **out)
{
    GError *error = NULL;
    g_autoptr(PvxConfig) cfg = pvx_config_load_string(text, "exp.yaml", overrides, &error);
    if (cfg && pvx_config_validate(cfg, reg, &custom_root, &error) && out)
        *out = g_steal_pointer(&cfg);
    return error;
}

static void config_nested_and_list_sections(void)
{
    g_autoptr(GError) e1 = validate_custom("name: a\ntrain:\n  epoch: 1\n", NULL, NULL);
    g_assert_error(e1, PVX_ERROR, PVX_ERROR_CONFIG_UNKNOWN_KEY);
    g_assert_cmpstr(e1->message, ==,
                    "exp.yaml:3:3: unknown key 'epoch' in section 'train'; "
                    "valid keys: batch_size, epochs, lr, schedule");
    /* An absent section with a required key: reported at the closest mapping. */
    g_autoptr(GError) e2 = validate_custom("name: a\n", NULL, NULL);
    g_assert_error(e2, PVX_ERROR, PVX_ERROR_CONFIG_MISSING);
    g_assert_cmpstr(e2->message, ==,
                    "exp.yaml:1:1: missing required key 'epochs' in section 'train'");
    g_autoptr(GError) e3 =
        validate_custom("train: {epochs: 1}\ndata: {plugin: cfgds}\n", NULL, NULL);
    g_assert_error(e3, PVX_ERROR, PVX_ERROR_CONFIG_TYPE);
    g_assert_cmpstr(e3->message, ==, "exp.yaml:2:7: 'data' must be a list, got a mapping");
    g_autoptr(GError) e4 = validate_custom("train: {epochs: 1}\ndata:\n  - plugin: cfgds\n"
                                           "  - params: {limit: 3}\n",
                                           NULL, NULL);
    g_assert_error(e4, PVX_ERROR, PVX_ERROR_CONFIG_MISSING);
    g_assert_cmpstr(e4->message, ==,
                    "exp.yaml:4:5: missing required key 'plugin' in section 'data[1]'");

    const char *text = "name: a\n"
                       "train:\n"
                       "  epochs: 2\n"
                       "  schedule:\n"
                       "    rates: [2, 4]\n"
                       "data:\n"
                       "  - plugin: cfgds\n"
                       "  - plugin: cfgds\n"
                       "    params: {limit: 3}\n";
    const char *overrides[] = {"data.1.params.limit=5", "train.schedule.rates=[8]", NULL};
    PvxConfig *raw = NULL;
    g_autoptr(GError) error = validate_custom(text, overrides, &raw);
    g_assert_no_error(error);
    g_autoptr(PvxConfig) cfg = raw;
    g_assert_cmpuint(pvx_config_list_length(cfg, "data"), ==, 2);
    const PvxParams *p0 = NULL, *p1 = NULL;
    g_assert_nonnull(pvx_config_plugin(cfg, "data", 0, &p0));
    g_assert_nonnull(pvx_config_plugin(cfg, "data", 1, &p1));
    g_assert_null(pvx_config_plugin(cfg, "data", 2, NULL));
    g_assert_cmpint(pvx_params_get_int(p0, "limit"), ==, 100);
    g_assert_cmpint(pvx_params_get_int(p1, "limit"), ==, 5);
    g_assert_cmpstr(pvx_params_where(p1, "limit"), ==, "--set #1");
    gsize n = 0;
    const int64_t *rates =
        pvx_params_get_int_list(pvx_config_section(cfg, "train.schedule"), "rates", &n);
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmpint(rates[0], ==, 8);
    g_assert_cmpfloat(pvx_params_get_double(pvx_config_section(cfg, "train"), "lr"), ==, 0.1);

    /* The resolved text of lists and nested sections loads back to the same text. */
    g_autofree char *ra = pvx_config_resolved_text(cfg);
    g_test_message("resolved:\n%s", ra);
    PvxConfig *raw_b = NULL;
    g_autoptr(GError) eb = validate_custom(ra, NULL, &raw_b);
    g_assert_no_error(eb);
    g_autoptr(PvxConfig) b = raw_b;
    g_autofree char *rb = pvx_config_resolved_text(b);
    g_assert_cmpstr(strchr(ra, '\n'), ==, strchr(rb, '\n'));
    g_assert_cmpuint(pvx_config_list_length(b, "data"), ==, 2);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autoptr(GError) error = NULL;
    reg = pvx_registry_new();
    if (!pvx_registry_load_file(reg, CFG_PLUGIN, &error))
        g_error("cannot load the test plugin: %s", error->message);

    g_test_add_func("/config/syntax_error_names_line_and_column",
                    config_syntax_error_names_line_and_column);
    g_test_add_func("/config/unknown_root_key_lists_valid_keys",
                    config_unknown_root_key_lists_valid_keys);
    g_test_add_func("/config/unknown_section_key_lists_valid_keys",
                    config_unknown_section_key_lists_valid_keys);
    g_test_add_func("/config/unknown_plugin_param_lists_valid_keys",
                    config_unknown_plugin_param_lists_valid_keys);
    g_test_add_func("/config/wrong_type_names_value", config_wrong_type_names_value);
    g_test_add_func("/config/plugin_param_wrong_type_names_owner",
                    config_plugin_param_wrong_type_names_owner);
    g_test_add_func("/config/out_of_range_names_bound", config_out_of_range_names_bound);
    g_test_add_func("/config/bad_choice_lists_choices", config_bad_choice_lists_choices);
    g_test_add_func("/config/missing_required_key_points_at_mapping",
                    config_missing_required_key_points_at_mapping);
    g_test_add_func("/config/unknown_plugin_lists_available",
                    config_unknown_plugin_lists_available);
    g_test_add_func("/config/duplicate_key_names_both_locations",
                    config_duplicate_key_names_both_locations);
    g_test_add_func("/config/alias_is_refused", config_alias_is_refused);
    g_test_add_func("/config/root_must_be_a_mapping", config_root_must_be_a_mapping);
    g_test_add_func("/config/name_must_be_folder_safe", config_name_must_be_folder_safe);
    g_test_add_func("/config/bad_override_names_override", config_bad_override_names_override);
    g_test_add_func("/config/override_applied_with_list_value",
                    config_override_applied_with_list_value);
    g_test_add_func("/config/defaults_fill_absent_values", config_defaults_fill_absent_values);
    g_test_add_func("/config/plugin_params_reach_the_plugin",
                    config_plugin_params_reach_the_plugin);
    g_test_add_func("/config/paths_resolve_against_config_folder",
                    config_paths_resolve_against_config_folder);
    g_test_add_func("/config/resolved_text_round_trips", config_resolved_text_round_trips);
    g_test_add_func("/config/nested_and_list_sections", config_nested_and_list_sections);
    int rc = g_test_run();
    pvx_registry_free(reg);
    return rc;
}
