/* pvx — private: what the files of core/config share (the validated sections, emission). The
 * parameter tables they build on are core/params' (pvx-private/params_internal.h). */
#pragma once

#include "pvx-private/config.h"
#include "pvx-private/node.h"
#include "pvx-private/params_internal.h"
#include "pvx/params.h"

G_BEGIN_DECLS

/* Writes "name: value\n" for every parameter, indented by @indent spaces, as YAML that loads
 * back to the same values. */
void pvx_params_emit(const PvxParams *p, GString *out, int indent);

/* One validated section (or one entry of a list section), stored by path: "" (root),
 * "preview", "explain[1]", "explain[1].child". A list section itself is stored under its
 * plain path with is_list set and list_len entries. */
typedef struct {
    const PvxConfigSectionSpec *spec;
    gboolean present; /* in the file or created by an override */
    gboolean is_list;
    guint list_len;
    PvxParams *params;       /* core keys (an empty table when the section declares none) */
    const PvxPlugin *plugin; /* plugin sections */
    PvxParams *plugin_params;
} PvxSectionValue;

struct _PvxConfig {
    char *path; /* as given */
    char *text;
    char **overrides;
    char *base_dir; /* absolute folder of the file (current folder for strings) */
    PvxNode *root;  /* a mapping, overrides applied */
    char **plugin_path;
    gboolean validated;
    const PvxConfigSectionSpec *schema;
    GHashTable *sections; /* path -> PvxSectionValue* */
};

/* Returns: (transfer none), NULL when absent. */
PvxSectionValue *pvx_config_section_value(const PvxConfig *cfg, const char *path);

G_END_DECLS
