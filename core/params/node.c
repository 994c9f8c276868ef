/* pvx — the YAML node tree: sources, nodes, scalar typing, locations, and the libyaml parser. */
#include "pvx-private/node.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <yaml.h>

/* ---- sources ---------------------------------------------------------------------------- */

static PvxSource *source_new(const char *name, const char *detail, const char *base_dir,
                             gboolean is_file, int error_code)
{
    PvxSource *src = g_atomic_rc_box_new0(PvxSource);
    src->name = g_strdup(name);
    src->detail = g_strdup(detail);
    src->base_dir = base_dir ? g_canonicalize_filename(base_dir, NULL) : g_get_current_dir();
    src->is_file = is_file;
    src->error_code = error_code;
    return src;
}

PvxSource *pvx_source_new_file(const char *name, const char *base_dir)
{
    return source_new(name, NULL, base_dir, TRUE, PVX_ERROR_CONFIG_SYNTAX);
}

PvxSource *pvx_source_new_override(const char *kind, guint index, const char *text,
                                   const char *base_dir)
{
    g_autofree char *name = g_strdup_printf("%s #%u", kind, index);
    g_autofree char *detail = g_strdup_printf("%s '%s'", name, text);
    return source_new(name, detail, base_dir, FALSE, PVX_ERROR_CONFIG_OVERRIDE);
}

PvxSource *pvx_source_new_default(const char *base_dir)
{
    return source_new("default", NULL, base_dir, FALSE, PVX_ERROR_FAILED);
}

PvxSource *pvx_source_ref(PvxSource *src)
{
    return g_atomic_rc_box_acquire(src);
}

static void source_clear(gpointer data)
{
    PvxSource *src = data;
    g_free(src->name);
    g_free(src->detail);
    g_free(src->base_dir);
}

void pvx_source_unref(PvxSource *src)
{
    if (src)
        g_atomic_rc_box_release_full(src, source_clear);
}

/* ---- nodes ------------------------------------------------------------------------------ */

static PvxNode *node_new(PvxNodeType type, PvxSource *src, int line, int column)
{
    PvxNode *node = g_new0(PvxNode, 1);
    node->type = type;
    node->src = pvx_source_ref(src);
    if (src->is_file) {
        node->line = line;
        node->column = column;
    }
    return node;
}

PvxNode *pvx_node_new_scalar(PvxSource *src, int line, int column, const char *text,
                             gboolean quoted)
{
    PvxNode *node = node_new(PVX_NODE_SCALAR, src, line, column);
    node->text = g_strdup(text ? text : "");
    node->quoted = quoted;
    return node;
}

static void entry_clear(gpointer data)
{
    PvxNodeEntry *e = data;
    pvx_node_free(e->key);
    pvx_node_free(e->value);
}

PvxNode *pvx_node_new_map(PvxSource *src, int line, int column)
{
    PvxNode *node = node_new(PVX_NODE_MAP, src, line, column);
    node->entries = g_array_new(FALSE, TRUE, sizeof(PvxNodeEntry));
    g_array_set_clear_func(node->entries, entry_clear);
    return node;
}

PvxNode *pvx_node_new_seq(PvxSource *src, int line, int column)
{
    PvxNode *node = node_new(PVX_NODE_SEQ, src, line, column);
    node->items = g_ptr_array_new_with_free_func((GDestroyNotify)pvx_node_free);
    return node;
}

void pvx_node_free(PvxNode *node)
{
    if (!node)
        return;
    g_free(node->text);
    if (node->entries)
        g_array_unref(node->entries);
    if (node->items)
        g_ptr_array_unref(node->items);
    pvx_source_unref(node->src);
    g_free(node);
}

void pvx_node_map_append(PvxNode *map, PvxNode *key, PvxNode *value)
{
    g_return_if_fail(map && map->type == PVX_NODE_MAP);
    PvxNodeEntry e = {key, value};
    g_array_append_val(map->entries, e);
}

PvxNodeEntry *pvx_node_map_lookup(const PvxNode *map, const char *name)
{
    g_return_val_if_fail(map && map->type == PVX_NODE_MAP, NULL);
    for (guint i = 0; i < map->entries->len; i++) {
        PvxNodeEntry *e = &g_array_index(map->entries, PvxNodeEntry, i);
        if (strcmp(e->key->text, name) == 0)
            return e;
    }
    return NULL;
}

/* ---- scalar typing ---------------------------------------------------------------------- */

static gboolean all_in(const char *s, const char *set)
{
    if (!*s)
        return FALSE;
    for (; *s; s++)
        if (!strchr(set, *s))
            return FALSE;
    return TRUE;
}

static gboolean looks_float(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".INF"))
        return TRUE;
    gboolean digits = FALSE;
    while (g_ascii_isdigit(*s))
        s++, digits = TRUE;
    if (*s == '.') {
        s++;
        while (g_ascii_isdigit(*s))
            s++, digits = TRUE;
    }
    if (!digits)
        return FALSE;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!g_ascii_isdigit(*s))
            return FALSE;
        while (g_ascii_isdigit(*s))
            s++;
    }
    return *s == '\0';
}

PvxScalarKind pvx_node_scalar_kind(const PvxNode *node, int64_t *i, double *d)
{
    g_return_val_if_fail(node && node->type == PVX_NODE_SCALAR, PVX_SCALAR_STRING);
    const char *t = node->text;
    if (node->quoted)
        return PVX_SCALAR_STRING;
    if (!*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL"))
        return PVX_SCALAR_NULL;
    if (!strcmp(t, "true") || !strcmp(t, "false")) {
        if (i)
            *i = t[0] == 't';
        return PVX_SCALAR_BOOL;
    }
    const char *digits = (*t == '+' || *t == '-') ? t + 1 : t;
    int base = 0;
    const char *body = NULL;
    if (all_in(digits, "0123456789"))
        base = 10, body = t;
    else if (g_str_has_prefix(t, "0x") && all_in(t + 2, "0123456789abcdefABCDEF"))
        base = 16, body = t + 2;
    else if (g_str_has_prefix(t, "0o") && all_in(t + 2, "01234567"))
        base = 8, body = t + 2;
    if (base) {
        errno = 0;
        gint64 v = g_ascii_strtoll(body, NULL, base);
        if (errno == ERANGE)
            return PVX_SCALAR_INT_OVERFLOW;
        if (i)
            *i = v;
        if (d)
            *d = (double)v;
        return PVX_SCALAR_INT;
    }
    if (!strcmp(t, ".nan") || !strcmp(t, ".NaN") || !strcmp(t, ".NAN")) {
        if (d)
            *d = NAN;
        return PVX_SCALAR_FLOAT;
    }
    if (looks_float(t)) {
        if (d) {
            const char *inf = strstr(t, "inf");
            if (!inf)
                inf = strstr(t, "Inf");
            if (!inf)
                inf = strstr(t, "INF");
            *d = inf ? (t[0] == '-' ? -INFINITY : INFINITY) : g_ascii_strtod(t, NULL);
        }
        return PVX_SCALAR_FLOAT;
    }
    return PVX_SCALAR_STRING;
}

gboolean pvx_node_is_null(const PvxNode *node)
{
    return node && node->type == PVX_NODE_SCALAR &&
           pvx_node_scalar_kind(node, NULL, NULL) == PVX_SCALAR_NULL;
}

/* ---- locations and descriptions --------------------------------------------------------- */

static char *loc_string(const PvxSource *src, int line, int column, gboolean detail)
{
    if (src->is_file)
        return g_strdup_printf("%s:%d:%d", src->name, line, column);
    return g_strdup(detail && src->detail ? src->detail : src->name);
}

char *pvx_node_where(const PvxNode *node)
{
    return loc_string(node->src, node->line, node->column, FALSE);
}

char *pvx_node_loc(const PvxNode *node)
{
    return loc_string(node->src, node->line, node->column, TRUE);
}

char *pvx_node_describe(const PvxNode *node)
{
    switch (node->type) {
    case PVX_NODE_MAP:
        return g_strdup("a mapping");
    case PVX_NODE_SEQ:
        return g_strdup("a list");
    case PVX_NODE_SCALAR:
        break;
    }
    switch (pvx_node_scalar_kind(node, NULL, NULL)) {
    case PVX_SCALAR_NULL:
        return g_strdup("null");
    case PVX_SCALAR_BOOL:
        return g_strdup_printf("bool %s", node->text);
    case PVX_SCALAR_INT:
    case PVX_SCALAR_INT_OVERFLOW:
        return g_strdup_printf("int %s", node->text);
    case PVX_SCALAR_FLOAT:
        return g_strdup_printf("number %s", node->text);
    case PVX_SCALAR_STRING:
        break;
    }
    g_autofree char *esc = g_strescape(node->text, NULL);
    return g_strdup_printf("string \"%s\"", esc);
}

void pvx_node_set_error(const PvxNode *node, GError **error, int code, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_autofree char *loc = pvx_node_loc(node);
    g_set_error(error, PVX_ERROR, code, "%s: %s", loc, msg);
}

/* ---- parsing ---------------------------------------------------------------------------- */

typedef struct {
    PvxNode *node;
    PvxNode *pending_key; /* maps: the key read, waiting for its value */
} Frame;

typedef struct {
    PvxSource *src;
    PvxNode *root;
    GArray *stack; /* Frame */
} ParseState;

static void set_mark_error(PvxSource *src, yaml_mark_t mark, GError **error, const char *format,
                           ...) G_GNUC_PRINTF(4, 5);

static void set_mark_error(PvxSource *src, yaml_mark_t mark, GError **error, const char *format,
                           ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_autofree char *loc = loc_string(src, (int)mark.line + 1, (int)mark.column + 1, TRUE);
    g_set_error(error, PVX_ERROR, src->error_code, "%s: %s", loc, msg);
}

/* Attaches @node (transfer full) where the parser stands. */
static gboolean attach(ParseState *st, PvxNode *node, GError **error)
{
    if (st->stack->len == 0) {
        st->root = node;
        return TRUE;
    }
    Frame *top = &g_array_index(st->stack, Frame, st->stack->len - 1);
    if (top->node->type == PVX_NODE_SEQ) {
        g_ptr_array_add(top->node->items, node);
        return TRUE;
    }
    if (top->pending_key) {
        pvx_node_map_append(top->node, top->pending_key, node);
        top->pending_key = NULL;
        return TRUE;
    }
    if (node->type != PVX_NODE_SCALAR) {
        pvx_node_set_error(node, error, st->src->error_code,
                           "YAML syntax error: a mapping key must be a plain string, got %s",
                           node->type == PVX_NODE_MAP ? "a mapping" : "a list");
        pvx_node_free(node);
        return FALSE;
    }
    PvxNodeEntry *dup = pvx_node_map_lookup(top->node, node->text);
    if (dup) {
        g_autofree char *first = pvx_node_loc(dup->key);
        pvx_node_set_error(node, error, st->src->error_code,
                           "duplicate key '%s' (first defined at %s)", node->text, first);
        pvx_node_free(node);
        return FALSE;
    }
    top->pending_key = node;
    return TRUE;
}

static PvxNode *scalar_from_event(ParseState *st, const yaml_event_t *ev, GError **error)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    gboolean quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
                      ev->data.scalar.style != YAML_ANY_SCALAR_STYLE;
    if (tag) {
        if (!strcmp(tag, YAML_STR_TAG) || !strcmp(tag, "!")) {
            quoted = TRUE;
        } else {
            set_mark_error(st->src, ev->start_mark, error,
                           "YAML tag '%s' is not supported (only !!str)", tag);
            return NULL;
        }
    }
    return pvx_node_new_scalar(st->src, (int)ev->start_mark.line + 1,
                               (int)ev->start_mark.column + 1, (const char *)ev->data.scalar.value,
                               quoted);
}

static gboolean collection_tag_ok(ParseState *st, const yaml_event_t *ev, const char *tag,
                                  const char *allowed, GError **error)
{
    if (!tag || !strcmp(tag, allowed) || !strcmp(tag, "!"))
        return TRUE;
    set_mark_error(st->src, ev->start_mark, error, "YAML tag '%s' is not supported", tag);
    return FALSE;
}

static gboolean handle_event(ParseState *st, const yaml_event_t *ev, int *documents, gboolean *done,
                             GError **error)
{
    int line = (int)ev->start_mark.line + 1, column = (int)ev->start_mark.column + 1;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*documents > 1) {
            set_mark_error(st->src, ev->start_mark, error,
                           "YAML syntax error: only one document is allowed");
            return FALSE;
        }
        return TRUE;
    case YAML_ALIAS_EVENT:
        set_mark_error(st->src, ev->start_mark, error,
                       "YAML aliases (*%s) are not supported; write the value out",
                       (const char *)ev->data.alias.anchor);
        return FALSE;
    case YAML_SCALAR_EVENT: {
        PvxNode *node = scalar_from_event(st, ev, error);
        return node && attach(st, node, error);
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        gboolean is_map = ev->type == YAML_MAPPING_START_EVENT;
        const char *tag =
            (const char *)(is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
        if (!collection_tag_ok(st, ev, tag, is_map ? YAML_MAP_TAG : YAML_SEQ_TAG, error))
            return FALSE;
        PvxNode *node = is_map ? pvx_node_new_map(st->src, line, column)
                               : pvx_node_new_seq(st->src, line, column);
        if (!attach(st, node, error))
            return FALSE;
        Frame f = {node, NULL};
        g_array_append_val(st->stack, f);
        return TRUE;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        g_array_set_size(st->stack, st->stack->len - 1);
        return TRUE;
    case YAML_STREAM_END_EVENT:
        *done = TRUE;
        return TRUE;
    default:
        return TRUE;
    }
}

static void syntax_error(PvxSource *src, const yaml_parser_t *parser, GError **error)
{
    const char *problem = parser->problem ? parser->problem : "unknown error";
    if (parser->error == YAML_READER_ERROR) {
        g_autofree char *loc = loc_string(src, 1, 1, TRUE);
        g_set_error(error, PVX_ERROR, src->error_code, "%s: YAML syntax error: %s (at byte %zu)",
                    src->is_file ? src->name : loc, problem, parser->problem_offset);
        return;
    }
    if (parser->context)
        set_mark_error(src, parser->problem_mark, error, "YAML syntax error: %s (%s)", problem,
                       parser->context);
    else
        set_mark_error(src, parser->problem_mark, error, "YAML syntax error: %s", problem);
}

gboolean pvx_node_parse(const char *text, gsize length, PvxSource *src, PvxNode **out,
                        GError **error)
{
    g_return_val_if_fail(text != NULL && src != NULL && out != NULL, FALSE);
    *out = NULL;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_FAILED, "%s: cannot initialise the YAML parser",
                    src->name);
        return FALSE;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, length);

    ParseState st = {src, NULL, g_array_new(FALSE, TRUE, sizeof(Frame))};
    gboolean ok = TRUE, done = FALSE;
    int documents = 0;
    while (ok && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(src, &parser, error);
            ok = FALSE;
            break;
        }
        ok = handle_event(&st, &ev, &documents, &done, error);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    /* On failure a key may be waiting outside the tree. */
    for (guint i = 0; i < st.stack->len; i++)
        pvx_node_free(g_array_index(st.stack, Frame, i).pending_key);
    g_array_unref(st.stack);
    if (!ok) {
        pvx_node_free(st.root);
        return FALSE;
    }
    *out = st.root;
    return TRUE;
}
