/* pvx — finding, opening and checking plugins.
 *
 * A registry holds the plugins loaded from a search path. Loading a file refuses it with a GError
 * that names the file, and for ABI errors both versions:
 *   PVX_ERROR_PLUGIN_OPEN       cannot open (dlopen's reason follows)
 *   PVX_ERROR_PLUGIN_NOT_PVX    opened, but no `pvx_plugin_descriptor` symbol
 *   PVX_ERROR_PLUGIN_ABI        compiled for ABI x.y, this pvx is a.b
 *   PVX_ERROR_PLUGIN_INVALID    bad magic, descriptor too small, missing name/version/description,
 *                               unknown kind, function table missing or too small, a required
 *                               slot NULL, open without close (or close without open), a
 *                               parameter spec size below 1.0's or misaligned, bad param schema
 *   PVX_ERROR_PLUGIN_DUPLICATE  the same (kind, name) from two files of one search-path folder
 * The search path, in order: --plugin-dir, PVX_PLUGIN_PATH (colon-separated), the config's
 * plugin_path, the build tree (when the running pvx is the one in the build tree), the install
 * directory. A (kind, name) found in an earlier folder shadows the same one in a later folder.
 */
#pragma once

#include <glib.h>
#include <gmodule.h>
#include "pvx/plugin.h"

G_BEGIN_DECLS

typedef struct _PvxRegistry PvxRegistry;

typedef struct {
    const PvxPluginDescriptor *desc; /* points into the loaded module */
    char *path;                      /* the .so it came from */
    GModule *module;
    /* The plugin's parameter specs copied into the core's PvxParamSpec layout (read with the
     * descriptor's param_spec_size stride), terminated by PVX_PARAM_SPEC_END; NULL when the
     * plugin declares none. Use this, never desc->params, whose stride may differ. Owned by the
     * registry. */
    const PvxParamSpec *params;
} PvxPlugin;

/* Returns: (transfer full). */
PvxRegistry *pvx_registry_new(void);
void pvx_registry_free(PvxRegistry *reg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxRegistry, pvx_registry_free)

/* Loads one .so and registers it. Refusals as above. */
gboolean pvx_registry_load_file(PvxRegistry *reg, const char *path, GError **error);
/* Loads every *.so below @dir (three levels deep). A file that is refused does not stop the
 * scan: its GError is appended to @failures (an array of GError*, with g_error_free as free
 * function) when given, else logged as a warning. Fails only when @dir is not a readable folder. */
gboolean pvx_registry_scan_dir(PvxRegistry *reg, const char *dir, GPtrArray *failures,
                               GError **error);
/* The default search path (see above) as a new NULL-terminated array; @cli_dirs and
 * @config_dirs may be NULL. Folders that do not exist are left out. Returns: (transfer full). */
char **pvx_registry_search_path(const char *const *cli_dirs, const char *const *config_dirs);
/* Scans every folder of @dirs in order. Collects refusals as pvx_registry_scan_dir does. */
gboolean pvx_registry_scan_path(PvxRegistry *reg, const char *const *dirs, GPtrArray *failures,
                                GError **error);

/* Returns: (transfer none), NULL if there is none. */
const PvxPlugin *pvx_registry_find(const PvxRegistry *reg, PvxPluginKind kind, const char *name);
/* Like find, but sets PVX_ERROR_PLUGIN_UNKNOWN listing the available plugins of that kind. */
const PvxPlugin *pvx_registry_lookup(const PvxRegistry *reg, PvxPluginKind kind, const char *name,
                                     GError **error);
/* Every plugin of @kind (0 = all), sorted by kind then name. Returns: (transfer container). */
GPtrArray *pvx_registry_list(const PvxRegistry *reg, PvxPluginKind kind);
/* "idx, imagefolder, kandinsky" — names of @kind, for messages. Returns: (transfer full). */
char *pvx_registry_names_string(const PvxRegistry *reg, PvxPluginKind kind);

/* Typed access to a plugin's function table: NULL if the kind differs. (transfer none) */
const void *pvx_plugin_klass(const PvxPlugin *plugin, PvxPluginKind kind);

/* Opens an instance of @plugin with validated @params: the one way the core calls a plugin's
 * `open`, whatever its kind. Guarantee: returns TRUE and leaves @error unset, or returns FALSE
 * with @error set, whatever the plugin did.
 *   - no open slot (a stateless plugin, or a model plugin): TRUE, *state_out = NULL;
 *   - open returns state and no error: TRUE, *state_out = the state (transfer full: give it back
 *     with pvx_plugin_close_instance);
 *   - open returns NULL and sets an error: FALSE, that error prefixed with "KIND NAME: ";
 *   - open returns NULL without an error: FALSE, PVX_ERROR_FAILED naming the plugin and
 *     its file ("open returned no state and no error");
 *   - open returns state AND sets an error: the state is closed at once, FALSE with the
 *     plugin's error (prefixed), since a plugin that reports an error has failed. */
gboolean pvx_plugin_open_instance(const PvxPlugin *plugin, const PvxParams *params,
                                  gpointer *state_out, GError **error);
/* Closes what pvx_plugin_open_instance opened: calls the plugin's `close` on @state when the
 * plugin has one (so never for a stateless plugin); nothing otherwise. */
void pvx_plugin_close_instance(const PvxPlugin *plugin, gpointer state);

/* The smallest function table the loader accepts for @kind (up to its last required slot, from
 * the loader's one table of required slots); 0 for an unknown kind. The installed headers'
 * PVX_<KIND>_CLASS_MIN_SIZE must say the same (tests/registry, abi-layout). */
size_t pvx_registry_min_table_size(PvxPluginKind kind);

G_END_DECLS
