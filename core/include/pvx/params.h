/* pvx — declared parameters.
 *
 * A plugin (and each section of an experiment file) declares its parameters as a table of
 * PvxParamSpec. The core validates the YAML against that table before the plugin sees anything:
 * unknown keys, wrong types, values out of range or not among the choices are errors that name
 * file:line:column. The plugin then reads the validated values through PvxParams getters, which
 * cannot fail for a declared name (asking for an undeclared one is a programmer error).
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

PVX_BEGIN_DECLS

/* Append-only. */
typedef enum {
    PVX_PARAM_BOOL = 1,
    PVX_PARAM_INT,    /* 64-bit integer */
    PVX_PARAM_DOUBLE, /* an integer literal is accepted too */
    PVX_PARAM_STRING,
    PVX_PARAM_CHOICE,   /* a string that must be one of spec->choices */
    PVX_PARAM_INT_LIST, /* a YAML sequence of integers: [2, 4, 8] */
    PVX_PARAM_DOUBLE_LIST,
    PVX_PARAM_STRING_LIST,
    PVX_PARAM_PATH, /* a string; relative paths resolve against the config file's folder */
} PvxParamType;

/* Flags of a spec. */
enum {
    PVX_PARAM_REQUIRED = 1 << 0, /* no default: the config must give it */
    PVX_PARAM_HAS_MIN = 1 << 1,  /* value (or every list element) >= min */
    PVX_PARAM_HAS_MAX = 1 << 2,  /* value (or every list element) <= max */
    PVX_PARAM_NULLABLE = 1 << 3, /* `null` (or `~`) is allowed and means "not set" */
};

/* One declared parameter. Plugins hand the core a table of these, terminated by
 * PVX_PARAM_SPEC_END; the descriptor records sizeof(PvxParamSpec) (param_spec_size), so fields
 * may only be appended and the core reads each entry with the plugin's stride. */
typedef struct {
    const char *name;
    PvxParamType type;
    /* The default as YAML text ("0.5", "[2, 4]", "true", "jet", "null"); NULL only with
     * PVX_PARAM_REQUIRED or PVX_PARAM_NULLABLE (then the default is "not set"). */
    const char *default_value;
    guint flags;
    double min, max;            /* with PVX_PARAM_HAS_MIN / _MAX */
    const char *const *choices; /* PVX_PARAM_CHOICE: NULL-terminated list */
    const char *doc;            /* one line */
} PvxParamSpec;

/* sizeof(PvxParamSpec) in ABI 1.0 (x86-64, and any LP64 target): the smallest entry the core
 * reads, and the stride it assumes when a descriptor's param_spec_size is 0. */
#define PVX_PARAM_SPEC_SIZE_1_0 (offsetof(PvxParamSpec, doc) + sizeof(const char *))

/* Convenience initialisers for spec tables. */
#define PVX_PARAM_SPEC_END                                                                         \
    {                                                                                              \
        NULL, 0, NULL, 0, 0, 0, NULL, NULL                                                         \
    }

/* Validated values for one spec table. Owned by the core; plugins only read. */
typedef struct _PvxParams PvxParams;

gboolean pvx_params_get_bool(const PvxParams *p, const char *name);
int64_t pvx_params_get_int(const PvxParams *p, const char *name);
double pvx_params_get_double(const PvxParams *p, const char *name);
/* STRING, CHOICE and PATH (PATH already resolved to an absolute path). NULL when nullable and
 * not set. Returns: (transfer none). */
const char *pvx_params_get_string(const PvxParams *p, const char *name);
/* TRUE when the value was given (in the config or an override), FALSE when it is the default
 * or a nullable parameter left unset. */
gboolean pvx_params_is_set(const PvxParams *p, const char *name);
/* TRUE when a nullable parameter holds a value. */
gboolean pvx_params_has_value(const PvxParams *p, const char *name);
/* Lists. *n_out receives the length. Returns: (transfer none). */
const int64_t *pvx_params_get_int_list(const PvxParams *p, const char *name, gsize *n_out);
const double *pvx_params_get_double_list(const PvxParams *p, const char *name, gsize *n_out);
const char *const *pvx_params_get_string_list(const PvxParams *p, const char *name, gsize *n_out);

/* "exp.yaml:12:9" where the value came from (the config file, "--set #2", or "default").
 * Plugins use it to name the place in their own error messages. Returns: (transfer none). */
const char *pvx_params_where(const PvxParams *p, const char *name);
/* Name of the owner of this parameter set ("dataset idx"), for messages. (transfer none) */
const char *pvx_params_owner(const PvxParams *p);

/* Builds a PvxParams holding every default of @specs (used by tools and tests that run a plugin
 * without a config). NULL + error if a default does not validate. Returns: (transfer full). */
PvxParams *pvx_params_new_defaults(const PvxParamSpec *specs, const char *owner, GError **error);
/* Like pvx_params_new_defaults, then applies "key=value" pairs (value as YAML flow text).
 * Returns: (transfer full). */
PvxParams *pvx_params_new_from_pairs(const PvxParamSpec *specs, const char *owner,
                                     const char *const *pairs, GError **error);
void pvx_params_free(PvxParams *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxParams, pvx_params_free)

/* Checks a spec table itself (names unique and non-empty, known types, defaults valid, choices
 * present for CHOICE). Used by the registry when it loads a plugin. */
gboolean pvx_param_specs_check(const PvxParamSpec *specs, GError **error);
/* "int", "double", "string", "one of {a, b}", "list of int", ... Returns: (transfer full). */
char *pvx_param_type_describe(const PvxParamSpec *spec);

PVX_END_DECLS
