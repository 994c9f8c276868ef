/* pvx — validating a loaded experiment tree against the section schema and plugin schemas. */
#include "config_private.h"
#include "pvx-private/names.h"

#include <string.h>

static const char *const plugin_keys[] = {"plugin", "params"};
static const char *const root_path_lists[] = {"plugin_path", NULL};

typedef struct {
    PvxConfig *cfg;
    const PvxRegistry *reg;
} Validator;

static gboolean validate_block(Validator *v, const PvxConfigSectionSpec *spec, const char *path,
                               const PvxNode *node, const PvxNode *near, GError **error);

/* Keys a block may hold besides its parameters: its children, and plugin/params. */
static char **extra_keys(const PvxConfigSectionSpec *spec)
{
    GPtrArray *keys = g_ptr_array_new();
    for (guint k = 0; spec->children && spec->children[k].name; k++)
        g_ptr_array_add(keys, g_strdup(spec->children[k].name));
    if (spec->kind)
        for (guint k = 0; k < G_N_ELEMENTS(plugin_keys); k++)
            g_ptr_array_add(keys, g_strdup(plugin_keys[k]));
    g_ptr_array_add(keys, NULL);
    return (char **)g_ptr_array_free(keys, FALSE);
}

static char *child_path(const char *parent, const char *name)
{
    return *parent ? g_strdup_printf("%s.%s", parent, name) : g_strdup(name);
}

static gboolean not_a_mapping(const PvxNode *node, const char *name, GError **error)
{
    g_autofree char *got = pvx_node_describe(node);
    pvx_node_set_error(node, error, PVX_ERROR_CONFIG_TYPE, "'%s' must be a mapping, got %s", name,
                       got);
    return FALSE;
}

/* TRUE when @specs (may be NULL) declares @name. */
static gboolean specs_declare(const PvxParamSpec *specs, const char *name)
{
    for (const PvxParamSpec *s = specs; s && s->name; s++)
        if (strcmp(s->name, name) == 0)
            return TRUE;
    return FALSE;
}

/* A key under a plugin's params that the plugin does not declare but the section itself does
 * (prune.params.scope, the pruners' shared parameter until ABI 1.1) gets an error saying where
 * it belongs, not just "unknown key". */
static gboolean check_misplaced_keys(const PvxConfigSectionSpec *spec, const char *path,
                                     const PvxPlugin *plugin, const PvxNode *map, GError **error)
{
    for (guint i = 0; map->entries && i < map->entries->len; i++) {
        const PvxNodeEntry *e = &g_array_index(map->entries, PvxNodeEntry, i);
        const char *key = e->key->text;
        if (!key || specs_declare(plugin->params, key) || !specs_declare(spec->specs, key))
            continue;
        pvx_node_set_error(e->key, error, PVX_ERROR_CONFIG_UNKNOWN_KEY,
                           "'%s' is not a parameter of %s %s: it is a key of the %s section "
                           "itself (%s.%s), shared by every %s plugin%s",
                           key, pvx_plugin_kind_name(spec->kind), plugin->desc->name, path, path,
                           key, pvx_plugin_kind_name(spec->kind),
                           spec->kind == PVX_KIND_PRUNER && strcmp(key, "scope") == 0
                               ? "; it moved there from the pruners' params in pvx ABI 1.1"
                               : "");
        return FALSE;
    }
    return TRUE;
}

static gboolean validate_plugin(Validator *v, const PvxConfigSectionSpec *spec, const char *path,
                                const PvxNode *node, PvxSectionValue *sv, GError **error)
{
    const char *kind = pvx_plugin_kind_name(spec->kind);
    const PvxNodeEntry *pe = pvx_node_map_lookup(node, "plugin");
    if (!pe) {
        pvx_node_set_error(node, error, PVX_ERROR_CONFIG_MISSING,
                           "missing required key 'plugin' in section '%s'", path);
        return FALSE;
    }
    if (pe->value->type != PVX_NODE_SCALAR ||
        pvx_node_scalar_kind(pe->value, NULL, NULL) != PVX_SCALAR_STRING) {
        g_autofree char *got = pvx_node_describe(pe->value);
        pvx_node_set_error(pe->value, error, PVX_ERROR_CONFIG_TYPE,
                           "'plugin' must be the name of a %s plugin, got %s", kind, got);
        return FALSE;
    }
    const char *name = pe->value->text;
    if (!v->reg) {
        pvx_node_set_error(pe->value, error, PVX_ERROR_PLUGIN_UNKNOWN,
                           "unknown %s plugin '%s'; no plugins were loaded", kind, name);
        return FALSE;
    }
    g_autoptr(GError) lerr = NULL;
    sv->plugin = pvx_registry_lookup(v->reg, spec->kind, name, &lerr);
    if (!sv->plugin) {
        pvx_node_set_error(pe->value, error, PVX_ERROR_PLUGIN_UNKNOWN, "%s", lerr->message);
        return FALSE;
    }
    const PvxNodeEntry *params = pvx_node_map_lookup(node, "params");
    const PvxNode *map = NULL;
    if (params && !pvx_node_is_null(params->value)) {
        if (params->value->type != PVX_NODE_MAP)
            return not_a_mapping(params->value, "params", error);
        map = params->value;
        if (!check_misplaced_keys(spec, path, sv->plugin, map, error))
            return FALSE;
    }
    g_autofree char *owner = g_strdup_printf("%s %s", kind, name);
    g_autofree char *prefix = g_strdup_printf("%s: ", owner);
    g_autofree char *context = g_strdup_printf("in params of %s", owner);
    PvxParamsContext ctx = {
        .owner = owner,
        .prefix = prefix,
        .context = context,
        .default_base_dir = v->cfg->base_dir,
    };
    /* A missing required plugin param is reported at `params:` or, without one, the section. */
    g_autoptr(PvxNode) empty = NULL;
    if (!map) {
        const PvxNode *at = params ? params->value : node;
        empty = pvx_node_new_map(at->src, at->line, at->column);
        map = empty;
    }
    sv->plugin_params = pvx_params_build(sv->plugin->params, &ctx, map, error);
    return sv->plugin_params != NULL;
}

static gboolean validate_list(Validator *v, const PvxConfigSectionSpec *spec, const char *path,
                              const PvxNode *node, GError **error)
{
    PvxSectionValue *sv = g_new0(PvxSectionValue, 1);
    sv->spec = spec;
    sv->is_list = TRUE;
    sv->present = node != NULL;
    g_hash_table_replace(v->cfg->sections, g_strdup(path), sv);
    if (!node)
        return TRUE;
    if (node->type != PVX_NODE_SEQ) {
        g_autofree char *got = pvx_node_describe(node);
        pvx_node_set_error(node, error, PVX_ERROR_CONFIG_TYPE, "'%s' must be a list, got %s",
                           spec->name, got);
        return FALSE;
    }
    for (guint k = 0; k < node->items->len; k++) {
        const PvxNode *item = g_ptr_array_index(node->items, k);
        g_autofree char *entry = g_strdup_printf("%s[%u]", path, k);
        if (item->type != PVX_NODE_MAP)
            return not_a_mapping(item, entry, error);
        if (!validate_block(v, spec, entry, item, item, error))
            return FALSE;
        sv->list_len = k + 1;
    }
    return TRUE;
}

static gboolean validate_children(Validator *v, const PvxConfigSectionSpec *spec, const char *path,
                                  const PvxNode *node, const PvxNode *near, GError **error)
{
    for (guint k = 0; spec->children && spec->children[k].name; k++) {
        const PvxConfigSectionSpec *child = &spec->children[k];
        g_autofree char *cpath = child_path(path, child->name);
        const PvxNodeEntry *e = node ? pvx_node_map_lookup(node, child->name) : NULL;
        const PvxNode *value = e ? e->value : NULL;
        gboolean null_value = value && pvx_node_is_null(value);
        if ((!value || (null_value && (child->flags & PVX_SECTION_LIST))) &&
            (child->flags & PVX_SECTION_REQUIRED)) {
            const PvxNode *at = value ? value : near;
            pvx_node_set_error(at, error, PVX_ERROR_CONFIG_MISSING,
                               "missing required key '%s'%s%s%s", child->name,
                               *path ? " in section '" : "", path, *path ? "'" : "");
            return FALSE;
        }
        if (child->flags & PVX_SECTION_LIST) {
            if (!validate_list(v, child, cpath, null_value ? NULL : value, error))
                return FALSE;
            continue;
        }
        if (!value && child->kind)
            continue; /* an absent plugin section has no values */
        if (value && !null_value && value->type != PVX_NODE_MAP)
            return not_a_mapping(value, child->name, error);
        /* `preview:` with nothing after it counts as present and empty. */
        g_autoptr(PvxNode) empty =
            null_value ? pvx_node_new_map(value->src, value->line, value->column) : NULL;
        const PvxNode *map = empty ? empty : value;
        if (!validate_block(v, child, cpath, map, map ? map : near, error))
            return FALSE;
    }
    return TRUE;
}

/* @node: the block's mapping, or NULL when absent (defaults); @near: the closest mapping in the
 * file, for messages about absent things. */
static gboolean validate_block(Validator *v, const PvxConfigSectionSpec *spec, const char *path,
                               const PvxNode *node, const PvxNode *near, GError **error)
{
    gboolean root = *path == '\0';
    g_auto(GStrv) extra = extra_keys(spec);
    g_autofree char *context =
        root ? g_strdup("at the top level") : g_strdup_printf("in section '%s'", path);
    PvxParamsContext ctx = {
        .owner = root ? "experiment" : path,
        .prefix = "",
        .context = context,
        .section = root ? NULL : path,
        .extra_keys = (const char *const *)extra,
        .path_lists = root ? root_path_lists : NULL,
        .default_base_dir = v->cfg->base_dir,
    };
    PvxSectionValue *sv = g_new0(PvxSectionValue, 1);
    sv->spec = spec;
    sv->present = node != NULL;
    g_hash_table_replace(v->cfg->sections, g_strdup(path), sv);
    /* An absent section with a required key is reported at the closest mapping in the file. */
    g_autoptr(PvxNode) absent = node ? NULL : pvx_node_new_map(near->src, near->line, near->column);
    sv->params = pvx_params_build(spec->specs, &ctx, node ? node : absent, error);
    if (!sv->params)
        return FALSE;
    if (spec->kind && !validate_plugin(v, spec, path, node, sv, error))
        return FALSE;
    return validate_children(v, spec, path, node, near, error);
}

static gboolean check_name(const PvxConfig *cfg, GError **error)
{
    const char *name = pvx_params_get_string(pvx_config_section_value(cfg, "")->params, "name");
    if (pvx_folder_name_is_safe(name))
        return TRUE;
    const PvxNodeEntry *e = pvx_node_map_lookup(cfg->root, "name");
    g_autofree char *esc = g_strescape(name, NULL);
    pvx_node_set_error(e->value, error, PVX_ERROR_CONFIG_RANGE,
                       "'name' must be letters, digits, '_', '.' or '-' only, and not '.' or '..' "
                       "(it is a folder of the output), got \"%s\"",
                       esc);
    return FALSE;
}

gboolean pvx_config_validate(PvxConfig *cfg, const PvxRegistry *reg,
                             const PvxConfigSectionSpec *schema, GError **error)
{
    g_return_val_if_fail(cfg != NULL, FALSE);
    cfg->validated = FALSE;
    cfg->schema = schema ? schema : pvx_config_schema();
    g_hash_table_remove_all(cfg->sections);
    Validator v = {cfg, reg};
    if (!validate_block(&v, cfg->schema, "", cfg->root, cfg->root, error))
        goto fail;
    /* The experiment name becomes a folder name. */
    if (cfg->schema == pvx_config_schema() && !check_name(cfg, error))
        goto fail;
    cfg->validated = TRUE;
    return TRUE;
fail:
    g_hash_table_remove_all(cfg->sections);
    return FALSE;
}
