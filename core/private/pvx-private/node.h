/* pvx — private: the YAML node tree the config code works on.
 *
 * libyaml's events become a tree of maps, sequences and scalars that remembers where every node
 * came from: a file (with 1-based line and column, as an editor shows them), an override
 * ("--set #2") or a parameter default. Not part of the public API.
 */
#pragma once

#include <glib.h>
#include "pvx/error.h"

G_BEGIN_DECLS

/* Where a tree came from. Refcounted (g_atomic_rc_box); every node holds a reference. */
typedef struct {
    char *name;     /* the file name as given, "--set #2", or "default" */
    char *detail;   /* for overrides: "--set #2 'a.b=1'" (used in error messages); else NULL */
    char *base_dir; /* absolute folder relative paths resolve against */
    gboolean is_file;
    int error_code; /* PvxError for syntax errors in this source */
} PvxSource;

/* Returns: (transfer full). @base_dir NULL means the current folder. */
PvxSource *pvx_source_new_file(const char *name, const char *base_dir);
PvxSource *pvx_source_new_override(const char *kind, guint index, const char *text,
                                   const char *base_dir);
PvxSource *pvx_source_new_default(const char *base_dir);
PvxSource *pvx_source_ref(PvxSource *src);
void pvx_source_unref(PvxSource *src);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxSource, pvx_source_unref)

typedef enum {
    PVX_NODE_SCALAR = 1,
    PVX_NODE_MAP,
    PVX_NODE_SEQ,
} PvxNodeType;

typedef struct _PvxNode PvxNode;

typedef struct {
    PvxNode *key; /* a scalar */
    PvxNode *value;
} PvxNodeEntry;

struct _PvxNode {
    PvxNodeType type;
    PvxSource *src;
    int line, column; /* 1-based; 0 when the source has no lines (overrides, defaults) */
    char *text;       /* scalar text */
    gboolean quoted;  /* scalar was quoted, a block scalar, or tagged !!str: always a string */
    GArray *entries;  /* PVX_NODE_MAP: PvxNodeEntry, in document order */
    GPtrArray *items; /* PVX_NODE_SEQ: PvxNode* */
};

/* Plain-scalar interpretation (YAML 1.2 core schema, with only true/false as booleans). */
typedef enum {
    PVX_SCALAR_NULL,
    PVX_SCALAR_BOOL,
    PVX_SCALAR_INT,
    PVX_SCALAR_FLOAT,
    PVX_SCALAR_STRING,
    PVX_SCALAR_INT_OVERFLOW, /* looks like an int but does not fit 64 bits */
} PvxScalarKind;

/* Returns: (transfer full). */
PvxNode *pvx_node_new_scalar(PvxSource *src, int line, int column, const char *text,
                             gboolean quoted);
PvxNode *pvx_node_new_map(PvxSource *src, int line, int column);
PvxNode *pvx_node_new_seq(PvxSource *src, int line, int column);
void pvx_node_free(PvxNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxNode, pvx_node_free)

/* Takes ownership of @key and @value. */
void pvx_node_map_append(PvxNode *map, PvxNode *key, PvxNode *value);
/* The entry with key @name, or NULL. (transfer none) */
PvxNodeEntry *pvx_node_map_lookup(const PvxNode *map, const char *name);

gboolean pvx_node_is_null(const PvxNode *node);
/* Classifies a scalar; fills *i or *d for INT / FLOAT / BOOL (b in *i). */
PvxScalarKind pvx_node_scalar_kind(const PvxNode *node, int64_t *i, double *d);

/* "exp.yaml:3:7", "--set #2" or "default". Returns: (transfer full). */
char *pvx_node_where(const PvxNode *node);
/* Like where, but for messages: overrides read "--set #2 'a.b=1'". Returns: (transfer full). */
char *pvx_node_loc(const PvxNode *node);
/* "string \"abc\"", "int 5", "null", "a mapping", ... Returns: (transfer full). */
char *pvx_node_describe(const PvxNode *node);

/* Sets @error with the code and message, prefixed by the node's location ("exp.yaml:3:7: "). */
void pvx_node_set_error(const PvxNode *node, GError **error, int code, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

/* Parses one YAML document into *out (transfer full); an empty document gives *out = NULL.
 * Aliases, unknown tags and further documents are refused. Errors use src->error_code. */
gboolean pvx_node_parse(const char *text, gsize length, PvxSource *src, PvxNode **out,
                        GError **error);

G_END_DECLS
