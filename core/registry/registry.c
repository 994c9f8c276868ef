/* pvx — plugin registry: opening shared objects, checking descriptors, lookup. */
#include <string.h>
#include <unistd.h>

#include "pvx/dataset.h"
#include "pvx/metric.h"
#include "pvx/error.h"
#include "pvx/explainer.h"
#include "pvx/model.h"
#include "pvx/pruner.h"
#include "pvx-private/registry.h"
#include "pvx-build-config.h"

struct _PvxRegistry {
    GPtrArray *plugins; /* PvxPlugin*, owned */
    /* (kind, name) → the folder it was found in, to tell duplicates from shadowing */
    GHashTable *origin_dir;
};

static const char *const kind_names[] = {
    [PVX_KIND_DATASET] = "dataset",     [PVX_KIND_MODEL] = "model",   [PVX_KIND_PRUNER] = "pruner",
    [PVX_KIND_EXPLAINER] = "explainer", [PVX_KIND_METRIC] = "metric",
};

const char *pvx_plugin_kind_name(PvxPluginKind kind)
{
    if (kind < PVX_KIND_DATASET || kind > PVX_KIND_LAST)
        return NULL;
    return kind_names[kind];
}

PvxPluginKind pvx_plugin_kind_from_name(const char *name)
{
    for (int k = PVX_KIND_DATASET; k <= PVX_KIND_LAST; k++)
        if (g_strcmp0(kind_names[k], name) == 0)
            return (PvxPluginKind)k;
    return 0;
}

/* Smallest function table the core accepts per kind: every slot it calls unconditionally. Kinds
 * whose tables are not defined yet by this core have no minimum and are refused. */
static size_t kind_min_table_size(PvxPluginKind kind)
{
    switch (kind) {
    case PVX_KIND_DATASET:
        return PVX_DATASET_CLASS_MIN_SIZE;
    case PVX_KIND_MODEL:
        return PVX_MODEL_CLASS_MIN_SIZE;
    case PVX_KIND_EXPLAINER:
        return PVX_EXPLAINER_CLASS_MIN_SIZE;
    case PVX_KIND_METRIC:
        return PVX_METRIC_CLASS_MIN_SIZE;
    case PVX_KIND_PRUNER:
        return PVX_PRUNER_CLASS_MIN_SIZE;
    default:
        return 0;
    }
}

/* Checks that every mandatory slot of a kind's table is filled. */
static gboolean check_klass(const char *path, PvxPluginKind kind, const void *klass, GError **error)
{
    if (kind == PVX_KIND_DATASET) {
        const PvxDatasetClass *k = klass;
        const char *missing = !k->open          ? "open"
                              : !k->close       ? "close"
                              : !k->num_classes ? "num_classes"
                              : !k->class_name  ? "class_name"
                              : !k->split_size  ? "split_size"
                              : !k->item_shape  ? "item_shape"
                              : !k->has_masks   ? "has_masks"
                              : !k->get_item    ? "get_item"
                                                : NULL;
        if (missing) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                        "%s: invalid descriptor: dataset function '%s' is NULL", path, missing);
            return FALSE;
        }
    }
    if (kind == PVX_KIND_MODEL && !((const PvxModelClass *)klass)->build) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                    "%s: invalid descriptor: model function 'build' is NULL", path);
        return FALSE;
    }
    if (kind == PVX_KIND_EXPLAINER) {
        const PvxExplainerClass *k = klass;
        const char *missing = !k->open      ? "open"
                              : !k->close   ? "close"
                              : !k->explain ? "explain"
                                            : NULL;
        if (missing) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                        "%s: invalid descriptor: explainer function '%s' is NULL", path, missing);
            return FALSE;
        }
    }
    if (kind == PVX_KIND_PRUNER) {
        const PvxPrunerClass *k = klass;
        const char *missing = !k->open ? "open" : !k->close ? "close" : !k->score ? "score" : NULL;
        if (missing) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                        "%s: invalid descriptor: pruner function '%s' is NULL", path, missing);
            return FALSE;
        }
    }
    if (kind == PVX_KIND_METRIC) {
        const PvxMetricClass *k = klass;
        const char *missing = !k->open      ? "open"
                              : !k->close   ? "close"
                              : !k->compute ? "compute"
                                            : NULL;
        if (missing) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                        "%s: invalid descriptor: metric function '%s' is NULL", path, missing);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean valid_plugin_name(const char *name)
{
    if (!name || (!g_ascii_islower(name[0]) && !g_ascii_isdigit(name[0])))
        return FALSE;
    for (const char *c = name; *c; c++)
        if (!g_ascii_islower(*c) && !g_ascii_isdigit(*c) && !strchr("_+-", *c))
            return FALSE;
    return TRUE;
}

static gboolean check_descriptor(const char *path, const PvxPluginDescriptor *d, GError **error)
{
    if (!d) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                    "%s: invalid descriptor: %s() returned NULL", path, PVX_PLUGIN_SYMBOL);
        return FALSE;
    }
    if (d->magic != PVX_PLUGIN_MAGIC) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                    "%s: invalid descriptor: bad magic 0x%08x (expected 0x%08x)", path, d->magic,
                    PVX_PLUGIN_MAGIC);
        return FALSE;
    }
    if (d->abi_major != PVX_ABI_MAJOR || d->abi_minor > PVX_ABI_MINOR) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_ABI,
                    "%s: incompatible ABI: the plugin was built for pvx ABI %u.%u, this pvx "
                    "provides ABI %u.%u (needs the same major and a minor <= %u)",
                    path, d->abi_major, d->abi_minor, PVX_ABI_MAJOR, PVX_ABI_MINOR, PVX_ABI_MINOR);
        return FALSE;
    }
    /* Fields up to klass exist since ABI 1.0; a smaller descriptor cannot be read safely. */
    size_t min_size = offsetof(PvxPluginDescriptor, klass) + sizeof(void *);
    if (d->size < min_size) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                    "%s: invalid descriptor: size %u is smaller than the minimum %zu", path,
                    d->size, min_size);
        return FALSE;
    }
    const char *kind = pvx_plugin_kind_name(d->kind);
    if (!kind) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                    "%s: invalid descriptor: unknown kind %u", path, d->kind);
        return FALSE;
    }
    if (!valid_plugin_name(d->name)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                    "%s: invalid descriptor: name %s%s%s is not [a-z0-9][a-z0-9_+-]*", path,
                    d->name ? "'" : "", d->name ? d->name : "NULL", d->name ? "'" : "");
        return FALSE;
    }
    if (!d->version || !*d->version || !d->description || !*d->description) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                    "%s: invalid descriptor: %s '%s' has no %s", path, kind, d->name,
                    !d->version || !*d->version ? "version" : "description");
        return FALSE;
    }
    size_t min_table = kind_min_table_size(d->kind);
    if (min_table == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                    "%s: invalid descriptor: this pvx (%s) cannot load %s plugins yet", path,
                    PVX_VERSION, kind);
        return FALSE;
    }
    if (!d->klass) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                    "%s: invalid descriptor: %s '%s' has no function table", path, kind, d->name);
        return FALSE;
    }
    uint32_t table_size = *(const uint32_t *)d->klass;
    if (table_size < min_table) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                    "%s: invalid descriptor: %s function table of %u bytes is smaller than the "
                    "%zu bytes this pvx needs",
                    path, kind, table_size, min_table);
        return FALSE;
    }
    if (!check_klass(path, d->kind, d->klass, error))
        return FALSE;
    if (d->params) {
        g_autoptr(GError) perr = NULL;
        if (!pvx_param_specs_check(d->params, &perr)) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                        "%s: invalid descriptor: parameter schema of %s '%s': %s", path, kind,
                        d->name, perr->message);
            return FALSE;
        }
    }
    return TRUE;
}

static void plugin_free(PvxPlugin *p)
{
    /* Modules stay loaded for the life of the process: data the plugins handed out (strings in
     * descriptors, static tables) may still be referenced, and unloading buys nothing. */
    g_free(p->path);
    g_free(p);
}

PvxRegistry *pvx_registry_new(void)
{
    PvxRegistry *reg = g_new0(PvxRegistry, 1);
    reg->plugins = g_ptr_array_new_with_free_func((GDestroyNotify)plugin_free);
    reg->origin_dir = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return reg;
}

void pvx_registry_free(PvxRegistry *reg)
{
    if (!reg)
        return;
    g_ptr_array_unref(reg->plugins);
    g_hash_table_unref(reg->origin_dir);
    g_free(reg);
}

static char *plugin_key(PvxPluginKind kind, const char *name)
{
    return g_strdup_printf("%s/%s", pvx_plugin_kind_name(kind), name);
}

const PvxPlugin *pvx_registry_find(const PvxRegistry *reg, PvxPluginKind kind, const char *name)
{
    g_return_val_if_fail(reg != NULL, NULL);
    for (guint i = 0; i < reg->plugins->len; i++) {
        const PvxPlugin *p = g_ptr_array_index(reg->plugins, i);
        if (p->desc->kind == (uint32_t)kind && g_strcmp0(p->desc->name, name) == 0)
            return p;
    }
    return NULL;
}

/* Registers a checked plugin. Within one folder a second (kind, name) is a duplicate; from a
 * later folder of the search path it is shadowed by the first. */
static gboolean registry_add(PvxRegistry *reg, const char *path, GModule *module,
                             const PvxPluginDescriptor *d, GError **error)
{
    const PvxPlugin *existing = pvx_registry_find(reg, d->kind, d->name);
    if (existing) {
        g_autofree char *key = plugin_key(d->kind, d->name);
        g_autofree char *dir = g_path_get_dirname(path);
        const char *first_dir = g_hash_table_lookup(reg->origin_dir, key);
        if (g_strcmp0(first_dir, dir) == 0 || g_strcmp0(existing->path, path) == 0) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_DUPLICATE,
                        "%s: duplicate plugin: %s '%s' is already registered from %s", path,
                        pvx_plugin_kind_name(d->kind), d->name, existing->path);
            return FALSE;
        }
        g_debug("%s: %s '%s' is shadowed by %s", path, pvx_plugin_kind_name(d->kind), d->name,
                existing->path);
        return TRUE;
    }
    PvxPlugin *p = g_new0(PvxPlugin, 1);
    p->desc = d;
    p->path = g_strdup(path);
    p->module = module;
    g_ptr_array_add(reg->plugins, p);
    g_hash_table_insert(reg->origin_dir, plugin_key(d->kind, d->name), g_path_get_dirname(path));
    return TRUE;
}

/* Directory of a file, canonical, for duplicate detection across relative/absolute spellings. */
static char *canonical_path(const char *path)
{
    return g_canonicalize_filename(path, NULL);
}

gboolean pvx_registry_load_file(PvxRegistry *reg, const char *path, GError **error)
{
    g_return_val_if_fail(reg != NULL && path != NULL, FALSE);
    g_autofree char *abs = canonical_path(path);
    /* Local binding: two plugins may define the same static helper names without clashing. */
    GModule *module = g_module_open(abs, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY);
    if (!module) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_OPEN, "%s: cannot open plugin: %s", abs,
                    g_module_error());
        return FALSE;
    }
    gpointer sym = NULL;
    if (!g_module_symbol(module, PVX_PLUGIN_SYMBOL, &sym) || !sym) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_NOT_PVX,
                    "%s: not a pvx plugin: it exports no '%s' symbol", abs, PVX_PLUGIN_SYMBOL);
        g_module_close(module);
        return FALSE;
    }
    const PvxPluginDescriptor *d = ((PvxPluginDescribeFunc)sym)();
    if (!check_descriptor(abs, d, error)) {
        g_module_close(module);
        return FALSE;
    }
    if (!registry_add(reg, abs, module, d, error)) {
        g_module_close(module);
        return FALSE;
    }
    /* Descriptors point into the module: keep it for the life of the process. */
    g_module_make_resident(module);
    g_debug("loaded %s '%s' %s from %s", pvx_plugin_kind_name(d->kind), d->name, d->version, abs);
    return TRUE;
}

static int compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Collects *.so below @dir into @files, sorted per folder so loading order is deterministic. */
static void collect_so(const char *dir, int depth, GPtrArray *files)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d)
        return;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, compare_strings);
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        g_autofree char *full = g_build_filename(dir, n, NULL);
        if (g_file_test(full, G_FILE_TEST_IS_DIR)) {
            /* meson keeps object files in "<target>.p" folders: nothing to load there. */
            if (depth > 0 && !g_str_has_suffix(n, ".p"))
                collect_so(full, depth - 1, files);
        } else if (g_str_has_suffix(n, ".so")) {
            g_ptr_array_add(files, g_steal_pointer(&full));
        }
    }
}

gboolean pvx_registry_scan_dir(PvxRegistry *reg, const char *dir, GPtrArray *failures,
                               GError **error)
{
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND, "%s: plugin folder does not exist", dir);
        return FALSE;
    }
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    collect_so(dir, 3, files);
    for (guint i = 0; i < files->len; i++) {
        GError *ferr = NULL;
        if (!pvx_registry_load_file(reg, g_ptr_array_index(files, i), &ferr)) {
            if (failures)
                g_ptr_array_add(failures, ferr);
            else {
                g_warning("%s", ferr->message);
                g_error_free(ferr);
            }
        }
    }
    return TRUE;
}

/* TRUE when the running executable lives inside the build tree this library was built in. */
static gboolean running_from_build_tree(void)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (!exe)
        return FALSE;
    g_autofree char *root = g_canonicalize_filename(PVX_BUILD_ROOT, NULL);
    return g_str_has_prefix(exe, root) && exe[strlen(root)] == '/';
}

static void add_dir(GPtrArray *dirs, const char *dir)
{
    if (!dir || !*dir)
        return;
    g_autofree char *abs = g_canonicalize_filename(dir, NULL);
    if (!g_file_test(abs, G_FILE_TEST_IS_DIR))
        return;
    for (guint i = 0; i < dirs->len; i++)
        if (strcmp(g_ptr_array_index(dirs, i), abs) == 0)
            return;
    g_ptr_array_add(dirs, g_steal_pointer(&abs));
}

char **pvx_registry_search_path(const char *const *cli_dirs, const char *const *config_dirs)
{
    GPtrArray *dirs = g_ptr_array_new();
    for (const char *const *d = cli_dirs; d && *d; d++)
        add_dir(dirs, *d);
    const char *env = g_getenv("PVX_PLUGIN_PATH");
    if (env) {
        g_auto(GStrv) parts = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);
        for (char **p = parts; *p; p++)
            add_dir(dirs, *p);
    }
    for (const char *const *d = config_dirs; d && *d; d++)
        add_dir(dirs, *d);
    if (running_from_build_tree())
        add_dir(dirs, PVX_BUILD_PLUGIN_DIR);
    add_dir(dirs, PVX_PLUGIN_INSTALL_DIR);
    g_ptr_array_add(dirs, NULL);
    return (char **)g_ptr_array_free(dirs, FALSE);
}

gboolean pvx_registry_scan_path(PvxRegistry *reg, const char *const *dirs, GPtrArray *failures,
                                GError **error)
{
    for (const char *const *d = dirs; d && *d; d++)
        if (!pvx_registry_scan_dir(reg, *d, failures, error))
            return FALSE;
    return TRUE;
}

static int compare_plugins(gconstpointer a, gconstpointer b)
{
    const PvxPlugin *pa = *(const PvxPlugin *const *)a, *pb = *(const PvxPlugin *const *)b;
    if (pa->desc->kind != pb->desc->kind)
        return pa->desc->kind < pb->desc->kind ? -1 : 1;
    return strcmp(pa->desc->name, pb->desc->name);
}

GPtrArray *pvx_registry_list(const PvxRegistry *reg, PvxPluginKind kind)
{
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < reg->plugins->len; i++) {
        PvxPlugin *p = g_ptr_array_index(reg->plugins, i);
        if (kind == 0 || p->desc->kind == (uint32_t)kind)
            g_ptr_array_add(out, p);
    }
    g_ptr_array_sort(out, compare_plugins);
    return out;
}

char *pvx_registry_names_string(const PvxRegistry *reg, PvxPluginKind kind)
{
    g_autoptr(GPtrArray) list = pvx_registry_list(reg, kind);
    if (list->len == 0)
        return g_strdup("(none found)");
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < list->len; i++) {
        const PvxPlugin *p = g_ptr_array_index(list, i);
        g_string_append_printf(s, "%s%s", i ? ", " : "", p->desc->name);
    }
    return g_string_free(s, FALSE);
}

const PvxPlugin *pvx_registry_lookup(const PvxRegistry *reg, PvxPluginKind kind, const char *name,
                                     GError **error)
{
    const PvxPlugin *p = pvx_registry_find(reg, kind, name);
    if (!p) {
        g_autofree char *names = pvx_registry_names_string(reg, kind);
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_UNKNOWN,
                    "unknown %s plugin '%s'; available: %s", pvx_plugin_kind_name(kind), name,
                    names);
    }
    return p;
}

const void *pvx_plugin_klass(const PvxPlugin *plugin, PvxPluginKind kind)
{
    g_return_val_if_fail(plugin != NULL, NULL);
    return plugin->desc->kind == (uint32_t)kind ? plugin->desc->klass : NULL;
}
