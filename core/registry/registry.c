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

/* ---------------------------------------------------------------------------------------------
 * The function tables, stated once: per kind, where open and close sit (optional since ABI 1.1,
 * and only as a pair) and which slots the core calls unconditionally. The loader checks a table
 * against this and nothing else; the smallest table it accepts ends with the last required slot.
 * Slots not listed are optional: the core reads them only when the table's size covers them.
 */
typedef struct {
    const char *name;
    size_t offset;
} KindSlot;

/* clang-format off */
#define KIND_SLOT(type_, slot_) {#slot_, offsetof(type_, slot_)}
/* clang-format on */
#define KIND_MAX_REQUIRED 8

typedef struct {
    /* Offsets of open and close; 0 when the kind has none (offset 0 is the table's size). */
    size_t open_offset, close_offset;
    KindSlot required[KIND_MAX_REQUIRED]; /* ends at the first {NULL, 0} */
} KindTable;

static const KindTable kind_tables[] = {
    [PVX_KIND_DATASET] =
        {
            offsetof(PvxDatasetClass, open),
            offsetof(PvxDatasetClass, close),
            {
                KIND_SLOT(PvxDatasetClass, num_classes),
                KIND_SLOT(PvxDatasetClass, class_name),
                KIND_SLOT(PvxDatasetClass, split_size),
                KIND_SLOT(PvxDatasetClass, item_shape),
                KIND_SLOT(PvxDatasetClass, has_masks),
                KIND_SLOT(PvxDatasetClass, get_item),
            },
        },
    [PVX_KIND_MODEL] = {0, 0, {KIND_SLOT(PvxModelClass, build)}},
    [PVX_KIND_PRUNER] =
        {
            offsetof(PvxPrunerClass, open),
            offsetof(PvxPrunerClass, close),
            {KIND_SLOT(PvxPrunerClass, score)},
        },
    [PVX_KIND_EXPLAINER] =
        {
            offsetof(PvxExplainerClass, open),
            offsetof(PvxExplainerClass, close),
            {KIND_SLOT(PvxExplainerClass, explain)},
        },
    [PVX_KIND_METRIC] =
        {
            offsetof(PvxMetricClass, open),
            offsetof(PvxMetricClass, close),
            {KIND_SLOT(PvxMetricClass, compute)},
        },
};

static const KindTable *kind_table(uint32_t kind)
{
    if (kind < PVX_KIND_DATASET || kind > PVX_KIND_LAST || kind >= G_N_ELEMENTS(kind_tables))
        return NULL;
    return &kind_tables[kind];
}

/* Smallest function table the core accepts for a kind: up to its last required slot. */
static size_t kind_min_table_size(const KindTable *t)
{
    size_t min = sizeof(uint32_t);
    for (int i = 0; i < KIND_MAX_REQUIRED && t->required[i].name; i++)
        min = MAX(min, t->required[i].offset + sizeof(void (*)(void)));
    return min;
}

size_t pvx_registry_min_table_size(PvxPluginKind kind)
{
    const KindTable *t = kind_table(kind);
    return t ? kind_min_table_size(t) : 0;
}

/* The function pointer at @offset of table @klass (which begins with its size); NULL when the
 * table is too small to hold it (an older plugin) or the slot is empty. */
typedef void (*AnySlot)(void);
static AnySlot klass_slot(const void *klass, size_t offset)
{
    if (offset == 0 || *(const uint32_t *)klass < offset + sizeof(AnySlot))
        return NULL;
    AnySlot fn;
    memcpy(&fn, (const char *)klass + offset, sizeof fn);
    return fn;
}

/* Checks a table against its kind's row: every required slot filled, open and close both or
 * neither. */
static gboolean check_klass(const char *path, const PvxPluginDescriptor *d, const KindTable *t,
                            GError **error)
{
    const char *kind = pvx_plugin_kind_name(d->kind);
    for (int i = 0; i < KIND_MAX_REQUIRED && t->required[i].name; i++) {
        if (!klass_slot(d->klass, t->required[i].offset)) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                        "%s: invalid descriptor: %s function '%s' is NULL", path, kind,
                        t->required[i].name);
            return FALSE;
        }
    }
    gboolean has_open = klass_slot(d->klass, t->open_offset) != NULL;
    gboolean has_close = klass_slot(d->klass, t->close_offset) != NULL;
    if (has_open != has_close) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                    "%s: invalid descriptor: %s '%s' has %s without %s (open and close come as a "
                    "pair; a stateless plugin declares neither)",
                    path, kind, d->name, has_open ? "open" : "close", has_open ? "close" : "open");
        return FALSE;
    }
    return TRUE;
}

/* Largest spec entry and longest spec table the loader reads: far above any real plugin, low
 * enough that a corrupt size or a missing PVX_PARAM_SPEC_END is refused, not followed through
 * memory. */
#define PARAM_SPEC_SIZE_MAX 4096
#define PARAM_SPECS_MAX 1024

/* The plugin's sizeof(PvxParamSpec). Recorded since ABI 1.1; a 1.0 descriptor had reserved room
 * there (not necessarily zero) and may end before it, so 1.0 plugins are read at 1.0's stride. */
static size_t param_spec_stride(const PvxPluginDescriptor *d)
{
    size_t end = offsetof(PvxPluginDescriptor, param_spec_size) + sizeof d->param_spec_size;
    if (d->abi_minor < 1 || d->size < end || d->param_spec_size == 0)
        return PVX_PARAM_SPEC_SIZE_1_0;
    return d->param_spec_size;
}

/* Copies the plugin's spec table into the core's layout, reading entries a stride apart (the
 * plugin's sizeof(PvxParamSpec)): fields the core does not know are skipped, fields the plugin
 * did not have stay zero. NULL + error for a stride below 1.0's, above PARAM_SPEC_SIZE_MAX or
 * misaligned, and for a table without its end within PARAM_SPECS_MAX entries. */
static PvxParamSpec *copy_param_specs(const PvxPluginDescriptor *d, GError **error)
{
    size_t stride = param_spec_stride(d);
    if (stride < PVX_PARAM_SPEC_SIZE_1_0 || stride > PARAM_SPEC_SIZE_MAX ||
        stride % G_ALIGNOF(PvxParamSpec) != 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                    "parameter spec size %zu is %s (ABI 1.0's is %zu)", stride,
                    stride < PVX_PARAM_SPEC_SIZE_1_0 ? "too small"
                    : stride > PARAM_SPEC_SIZE_MAX   ? "implausibly large"
                                                     : "not a multiple of its alignment",
                    (size_t)PVX_PARAM_SPEC_SIZE_1_0);
        return NULL;
    }
    GArray *specs = g_array_new(TRUE, TRUE, sizeof(PvxParamSpec));
    const char *entry = (const char *)d->params;
    for (int i = 0;; i++, entry += stride) {
        if (i == PARAM_SPECS_MAX) {
            g_array_free(specs, TRUE);
            g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                        "more than %d parameters: is the table missing PVX_PARAM_SPEC_END?",
                        PARAM_SPECS_MAX);
            return NULL;
        }
        PvxParamSpec spec = {0};
        memcpy(&spec, entry, MIN(stride, sizeof spec));
        if (!spec.name)
            break;
        g_array_append_val(specs, spec);
    }
    /* The zero-terminated array ends with PVX_PARAM_SPEC_END. */
    return (PvxParamSpec *)g_array_free(specs, FALSE);
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

/* Checks a descriptor and its table; on success *specs_out receives the plugin's parameter
 * specs in the core's layout (transfer full; NULL when it declares none). */
static gboolean check_descriptor(const char *path, const PvxPluginDescriptor *d,
                                 PvxParamSpec **specs_out, GError **error)
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
    const KindTable *table = kind_table(d->kind);
    if (!table) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                    "%s: invalid descriptor: this pvx (%s) cannot load %s plugins yet", path,
                    PVX_VERSION, kind);
        return FALSE;
    }
    size_t min_table = kind_min_table_size(table);
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
    if (!check_klass(path, d, table, error))
        return FALSE;
    *specs_out = NULL;
    if (d->params) {
        g_autoptr(GError) perr = NULL;
        g_autofree PvxParamSpec *specs = copy_param_specs(d, &perr);
        if (!specs || !pvx_param_specs_check(specs, &perr)) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_PLUGIN_INVALID,
                        "%s: invalid descriptor: parameter schema of %s '%s': %s", path, kind,
                        d->name, perr->message);
            return FALSE;
        }
        *specs_out = g_steal_pointer(&specs);
    }
    return TRUE;
}

static void plugin_free(PvxPlugin *p)
{
    /* Modules stay loaded for the life of the process: data the plugins handed out (strings in
     * descriptors, static tables) may still be referenced, and unloading buys nothing. */
    g_free(p->path);
    g_free((PvxParamSpec *)p->params);
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

/* Registers a checked plugin (*added TRUE). Within one folder a second (kind, name) is a
 * duplicate (an error); from a later folder of the search path it is shadowed by the first
 * (TRUE, *added FALSE: the caller closes its module). */
static gboolean registry_add(PvxRegistry *reg, const char *path, GModule *module,
                             const PvxPluginDescriptor *d, PvxParamSpec **specs, gboolean *added,
                             GError **error)
{
    *added = FALSE;
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
    p->params = g_steal_pointer(specs);
    g_ptr_array_add(reg->plugins, p);
    g_hash_table_insert(reg->origin_dir, plugin_key(d->kind, d->name), g_path_get_dirname(path));
    *added = TRUE;
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
    g_autofree PvxParamSpec *specs = NULL;
    if (!check_descriptor(abs, d, &specs, error)) {
        g_module_close(module);
        return FALSE;
    }
    gboolean added = FALSE;
    if (!registry_add(reg, abs, module, d, &specs, &added, error)) {
        g_module_close(module);
        return FALSE;
    }
    if (!added) {
        g_module_close(module); /* shadowed: nothing of it is kept */
        return TRUE;
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

typedef gpointer (*OpenFunc)(const PvxParams *params, GError **error);
typedef void (*CloseFunc)(gpointer self);

gboolean pvx_plugin_open_instance(const PvxPlugin *plugin, const PvxParams *params,
                                  gpointer *state_out, GError **error)
{
    g_return_val_if_fail(plugin != NULL && state_out != NULL, FALSE);
    *state_out = NULL;
    const KindTable *t = kind_table(plugin->desc->kind);
    g_return_val_if_fail(t != NULL, FALSE);
    OpenFunc open = (OpenFunc)klass_slot(plugin->desc->klass, t->open_offset);
    if (!open)
        return TRUE;
    const char *kind = pvx_plugin_kind_name(plugin->desc->kind);
    GError *local = NULL;
    gpointer state = open(params, &local);
    if (state && !local) {
        *state_out = state;
        return TRUE;
    }
    if (state) {
        /* The plugin reported an error: it failed, whatever it returned. */
        pvx_plugin_close_instance(plugin, state);
    }
    if (local) {
        g_propagate_prefixed_error(error, local, "%s %s: ", kind, plugin->desc->name);
    } else {
        g_set_error(error, PVX_ERROR, PVX_ERROR_FAILED,
                    "%s %s: open returned no state and no error (a bug in the plugin, %s)", kind,
                    plugin->desc->name, plugin->path);
    }
    return FALSE;
}

void pvx_plugin_close_instance(const PvxPlugin *plugin, gpointer state)
{
    g_return_if_fail(plugin != NULL);
    const KindTable *t = kind_table(plugin->desc->kind);
    g_return_if_fail(t != NULL);
    CloseFunc close = (CloseFunc)klass_slot(plugin->desc->klass, t->close_offset);
    if (close)
        close(state);
}
