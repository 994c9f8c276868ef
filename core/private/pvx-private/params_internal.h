/* pvx — private: declared parameters from the inside (core/params): the validated values, how a
 * table is read, and --set overrides on the YAML tree. The experiment-file loader (core/config)
 * builds on them; plugins see only pvx/params.h.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "node.h"
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

/* Applies one override "a.b.c=value" (index is 1-based) to the tree at *root (a mapping).
 * @kind is "--set". */
gboolean pvx_override_apply(PvxNode *root, const char *kind, guint index, const char *text,
                            GError **error);

G_END_DECLS
