/* pvx — private: what the files of core/config share (params internals, builders, emission).
 * Not part of the public API. */
#pragma once

#include "node.h"
#include "pvx/config.h"
#include "pvx/params.h"

G_BEGIN_DECLS

typedef struct {
    char *name;
    PvxParamType type;
    guint flags;
    gboolean given;     /* came from the config or an override (null included) */
    gboolean has_value; /* FALSE only for a nullable parameter holding null */
    char *where;        /* "exp.yaml:3:7", "--set #2", "default" */
    gboolean b;
    int64_t i;
    double d;
    char *s;
    gsize n;        /* lists */
    int64_t *ilist; /* n + 1 elements (the last is 0) */
    double *dlist;
    char **slist; /* NULL-terminated */
} PvxParamValue;

struct _PvxParams {
    char *owner;
    guint n;
    PvxParamValue *values;
};

/* How a parameter table is being read, for messages and path resolution. */
typedef struct {
    const char *owner;             /* pvx_params_owner(): "dataset idx", "preview", "experiment" */
    const char *prefix;            /* message prefix: "dataset idx: " or "" */
    const char *context;           /* "in section 'preview'", "at the top level", ... */
    const char *section;           /* "preview" for "missing ... in section 'preview'"; or NULL */
    const char *const *extra_keys; /* keys the mapping may hold that are not parameters */
    const char *const *path_lists; /* STRING_LIST parameters whose entries are paths */
    const char *default_base_dir;  /* where relative defaults resolve (NULL: current folder) */
} PvxParamsContext;

/* Validates @map (a mapping node, or NULL for all defaults) against @specs: unknown keys first
 * (in document order), then each parameter in table order. Returns: (transfer full). */
PvxParams *pvx_params_build(const PvxParamSpec *specs, const PvxParamsContext *ctx,
                            const PvxNode *map, GError **error);

/* "a, b, c": sorted, comma-separated; @extra may be NULL. Returns: (transfer full). */
char *pvx_params_valid_keys(const PvxParamSpec *specs, const char *const *extra);

/* Writes "name: value\n" for every parameter, indented by @indent spaces, as YAML that loads
 * back to the same values. */
void pvx_params_emit(const PvxParams *p, GString *out, int indent);

/* Applies one override "a.b.c=value" (index is 1-based) to the tree at *root (a mapping).
 * @kind is "--set". */
gboolean pvx_override_apply(PvxNode *root, const char *kind, guint index, const char *text,
                            GError **error);

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
