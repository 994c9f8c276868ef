/* pvx — loading an experiment file (parse + overrides) and reading the validated result. */
#include "config_private.h"

#include <string.h>

static void section_value_free(gpointer data)
{
    PvxSectionValue *sv = data;
    pvx_params_free(sv->params);
    pvx_params_free(sv->plugin_params);
    g_free(sv);
}

void pvx_config_free(PvxConfig *cfg)
{
    if (!cfg)
        return;
    g_free(cfg->path);
    g_free(cfg->text);
    g_strfreev(cfg->overrides);
    g_free(cfg->base_dir);
    pvx_node_free(cfg->root);
    g_strfreev(cfg->plugin_path);
    if (cfg->sections)
        g_hash_table_unref(cfg->sections);
    g_free(cfg);
}

/* plugin_path before validation: the string entries of a list, made absolute against the folder
 * of whatever gave them (the file, or the current folder for overrides). Malformed entries are
 * skipped here; validation reports them. */
static char **collect_plugin_path(const PvxNode *root)
{
    GPtrArray *dirs = g_ptr_array_new();
    const PvxNodeEntry *e = pvx_node_map_lookup(root, "plugin_path");
    if (e && e->value->type == PVX_NODE_SEQ) {
        for (guint k = 0; k < e->value->items->len; k++) {
            const PvxNode *item = g_ptr_array_index(e->value->items, k);
            if (item->type != PVX_NODE_SCALAR ||
                pvx_node_scalar_kind(item, NULL, NULL) != PVX_SCALAR_STRING || !*item->text)
                continue;
            g_ptr_array_add(dirs, g_canonicalize_filename(item->text, item->src->base_dir));
        }
    }
    g_ptr_array_add(dirs, NULL);
    return (char **)g_ptr_array_free(dirs, FALSE);
}

static PvxConfig *load_text(char *text, gsize length, const char *name, const char *base_dir,
                            const char *const *overrides, GError **error)
{
    g_autoptr(PvxConfig) cfg = g_new0(PvxConfig, 1);
    cfg->path = g_strdup(name);
    cfg->text = text;
    cfg->overrides = g_strdupv((char **)(overrides ? overrides : (const char *const[]){NULL}));
    cfg->base_dir = g_strdup(base_dir);
    cfg->sections = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, section_value_free);

    g_autoptr(PvxSource) src = pvx_source_new_file(name, base_dir);
    PvxNode *root = NULL;
    if (!pvx_node_parse(text, length, src, &root, error))
        return NULL;
    if (!root || pvx_node_is_null(root)) {
        int line = root ? root->line : 1, column = root ? root->column : 1;
        pvx_node_free(root);
        root = pvx_node_new_map(src, line, column);
    }
    cfg->root = root;
    if (root->type != PVX_NODE_MAP) {
        g_autofree char *got = pvx_node_describe(root);
        pvx_node_set_error(root, error, PVX_ERROR_CONFIG_TYPE,
                           "an experiment file must be a YAML mapping (key: value lines), got %s",
                           got);
        return NULL;
    }
    for (guint k = 0; cfg->overrides[k]; k++)
        if (!pvx_override_apply(root, "--set", k + 1, cfg->overrides[k], error))
            return NULL;
    cfg->plugin_path = collect_plugin_path(root);
    return g_steal_pointer(&cfg);
}

PvxConfig *pvx_config_load(const char *path, const char *const *overrides, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    char *text = NULL;
    gsize length = 0;
    g_autoptr(GError) gerr = NULL;
    if (!g_file_get_contents(path, &text, &length, &gerr)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "cannot read experiment file: %s",
                    gerr->message);
        return NULL;
    }
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    g_autofree char *dir = g_path_get_dirname(abs);
    return load_text(text, length, path, dir, overrides, error);
}

PvxConfig *pvx_config_load_string(const char *text, const char *name, const char *const *overrides,
                                  GError **error)
{
    g_return_val_if_fail(text != NULL, NULL);
    g_autofree char *cwd = g_get_current_dir();
    return load_text(g_strdup(text), strlen(text), name ? name : "<string>", cwd, overrides, error);
}

const char *const *pvx_config_plugin_path(const PvxConfig *cfg)
{
    g_return_val_if_fail(cfg != NULL, NULL);
    return (const char *const *)cfg->plugin_path;
}

PvxSectionValue *pvx_config_section_value(const PvxConfig *cfg, const char *path)
{
    g_return_val_if_fail(cfg != NULL && path != NULL, NULL);
    return g_hash_table_lookup(cfg->sections, path);
}

const PvxParams *pvx_config_section(const PvxConfig *cfg, const char *path)
{
    g_return_val_if_fail(cfg != NULL && cfg->validated, NULL);
    PvxSectionValue *sv = pvx_config_section_value(cfg, path);
    return sv && !sv->is_list ? sv->params : NULL;
}

gboolean pvx_config_has_section(const PvxConfig *cfg, const char *path)
{
    g_return_val_if_fail(cfg != NULL, FALSE);
    if (!cfg->validated) {
        /* Before validation, answer from the tree. */
        const PvxNode *node = cfg->root;
        g_auto(GStrv) segs = g_strsplit(path, ".", -1);
        for (guint k = 0; segs[k] && *path; k++) {
            if (node->type != PVX_NODE_MAP)
                return FALSE;
            const PvxNodeEntry *e = pvx_node_map_lookup(node, segs[k]);
            if (!e)
                return FALSE;
            node = e->value;
        }
        return TRUE;
    }
    PvxSectionValue *sv = pvx_config_section_value(cfg, path);
    return sv && sv->present;
}

const PvxPlugin *pvx_config_plugin(const PvxConfig *cfg, const char *path, guint index,
                                   const PvxParams **params_out)
{
    g_return_val_if_fail(cfg != NULL && cfg->validated && path != NULL, NULL);
    if (params_out)
        *params_out = NULL;
    PvxSectionValue *sv = pvx_config_section_value(cfg, path);
    if (sv && sv->is_list) {
        g_autofree char *entry = g_strdup_printf("%s[%u]", path, index);
        sv = pvx_config_section_value(cfg, entry);
    } else if (index != 0) {
        return NULL;
    }
    if (!sv || !sv->plugin)
        return NULL;
    if (params_out)
        *params_out = sv->plugin_params;
    return sv->plugin;
}

guint pvx_config_list_length(const PvxConfig *cfg, const char *path)
{
    g_return_val_if_fail(cfg != NULL && path != NULL, 0);
    PvxSectionValue *sv = pvx_config_section_value(cfg, path);
    return sv && sv->is_list ? sv->list_len : 0;
}

const char *pvx_config_path(const PvxConfig *cfg)
{
    g_return_val_if_fail(cfg != NULL, NULL);
    return cfg->path;
}

const char *pvx_config_text(const PvxConfig *cfg)
{
    g_return_val_if_fail(cfg != NULL, NULL);
    return cfg->text;
}

const char *const *pvx_config_overrides(const PvxConfig *cfg)
{
    g_return_val_if_fail(cfg != NULL, NULL);
    return (const char *const *)cfg->overrides;
}
