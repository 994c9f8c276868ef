/* pvx — experiment configuration (YAML, via libyaml).
 *
 * An experiment file is a YAML mapping. Its top-level keys and sections are declared by the core
 * (a table of PvxConfigSectionSpec); a section either holds core parameters (declared with
 * PvxParamSpec) or names a plugin: `{plugin: NAME, params: {...}}`, whose params are validated
 * against that plugin's own schema. Validation is strict: every error names file:line:column —
 * YAML syntax errors, unknown keys (listing the valid ones), wrong types, values out of range or
 * not among the choices, unknown plugins (listing the available ones), missing required keys.
 *
 * Overrides follow Hydra's style: "train.epochs=1", "pruning.schedule.compression_rates=[2,4]",
 * the value being YAML flow text. They are applied to the parsed tree before validation, and
 * errors in them name the override ("--set #2 'train.epoch=1'").
 *
 * The text as given and the resolved text (overrides applied, every default filled in, paths
 * made absolute) are both available for storing with the results.
 */
#pragma once

#include <glib.h>
#include "pvx/params.h"
#include "pvx/plugin.h"
#include "registry.h"

G_BEGIN_DECLS

typedef struct _PvxConfig PvxConfig;

/* Core schema of a section. A section with kind != 0 holds `plugin` and `params` (plus any core
 * keys in @specs); one with kind == 0 holds only the keys of @specs and @children.
 * With PVX_SECTION_LIST the section is a YAML sequence of such blocks (e.g. several explainers). */
enum {
    PVX_SECTION_REQUIRED = 1 << 0,
    PVX_SECTION_LIST = 1 << 1,
};

typedef struct _PvxConfigSectionSpec PvxConfigSectionSpec;
struct _PvxConfigSectionSpec {
    const char *name;
    guint flags;
    PvxPluginKind kind;                   /* 0: no plugin */
    const PvxParamSpec *specs;            /* core keys of the section (may be NULL) */
    const PvxConfigSectionSpec *children; /* nested sections, terminated by {NULL}; may be NULL */
    const char *doc;
};

/* The experiment schema the core knows (top-level keys are the specs of the root section). */
const PvxConfigSectionSpec *pvx_config_schema(void);

/* Parses @path and applies @overrides (NULL-terminated, may be NULL). Only syntax and override
 * errors are found here. Returns: (transfer full). */
PvxConfig *pvx_config_load(const char *path, const char *const *overrides, GError **error);
/* The same from a string; @name stands for the file in messages and relative paths resolve
 * against the current folder. Returns: (transfer full). */
PvxConfig *pvx_config_load_string(const char *text, const char *name, const char *const *overrides,
                                  GError **error);
void pvx_config_free(PvxConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxConfig, pvx_config_free)

/* The root's plugin_path (absolute folders), available right after loading, before validation,
 * so the caller can build the registry. Returns: (transfer none), NULL-terminated, never NULL. */
const char *const *pvx_config_plugin_path(const PvxConfig *cfg);

/* Validates the whole tree against @schema (pvx_config_schema() when NULL) and the schemas of the
 * plugins named in it, looked up in @reg. After success the getters below work. */
gboolean pvx_config_validate(PvxConfig *cfg, const PvxRegistry *reg,
                             const PvxConfigSectionSpec *schema, GError **error);

/* Core parameters of a section by dotted path: "" (the root: name, seed, ...), "preview",
 * "pruning.schedule". A core section (no plugin) that is absent from the file holds its
 * defaults; a plugin section holds an empty table. NULL only for an absent plugin section or
 * an unknown path. Returns: (transfer none). */
const PvxParams *pvx_config_section(const PvxConfig *cfg, const char *path);
/* TRUE when the section is present in the file (or was created by an override). */
gboolean pvx_config_has_section(const PvxConfig *cfg, const char *path);
/* The plugin of a plugin section and its validated params; NULL when the section is absent.
 * For a PVX_SECTION_LIST section, @index picks the entry (0 otherwise).
 * Returns: (transfer none). */
const PvxPlugin *pvx_config_plugin(const PvxConfig *cfg, const char *path, guint index,
                                   const PvxParams **params_out);
/* Entries of a PVX_SECTION_LIST section (0 when absent). */
guint pvx_config_list_length(const PvxConfig *cfg, const char *path);

/* The file's path as given ("<string>" name for load_string). (transfer none) */
const char *pvx_config_path(const PvxConfig *cfg);
/* The text as given. (transfer none) */
const char *pvx_config_text(const PvxConfig *cfg);
/* The resolved config as YAML text (after validation). Returns: (transfer full). */
char *pvx_config_resolved_text(const PvxConfig *cfg);
/* The overrides as given. (transfer none) */
const char *const *pvx_config_overrides(const PvxConfig *cfg);

G_END_DECLS
