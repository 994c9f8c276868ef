/* pvx — declared parameters: building validated PvxParams from a spec table and a YAML node,
 * and checking spec tables themselves. The getters live in params_get.c. */
#include "pvx-private/params_internal.h"

#include <math.h>
#include <string.h>

static const char *const no_keys[] = {NULL};

/* ---- type names ------------------------------------------------------------------------- */

static gboolean type_known(PvxParamType t)
{
    return t >= PVX_PARAM_BOOL && t <= PVX_PARAM_PATH;
}

static gboolean type_is_list(PvxParamType t)
{
    return t == PVX_PARAM_INT_LIST || t == PVX_PARAM_DOUBLE_LIST || t == PVX_PARAM_STRING_LIST;
}

static gboolean type_is_numeric(PvxParamType t)
{
    return t == PVX_PARAM_INT || t == PVX_PARAM_DOUBLE || t == PVX_PARAM_INT_LIST ||
           t == PVX_PARAM_DOUBLE_LIST;
}

static PvxParamType element_type(PvxParamType t)
{
    switch (t) {
    case PVX_PARAM_INT_LIST:
        return PVX_PARAM_INT;
    case PVX_PARAM_DOUBLE_LIST:
        return PVX_PARAM_DOUBLE;
    case PVX_PARAM_STRING_LIST:
        return PVX_PARAM_STRING;
    default:
        return t;
    }
}

static char *choices_string(const char *const *choices, const char *sep)
{
    GString *s = g_string_new(NULL);
    for (guint k = 0; choices && choices[k]; k++)
        g_string_append_printf(s, "%s%s", k ? sep : "", choices[k]);
    return g_string_free(s, FALSE);
}

/* For "must be %s". */
static char *type_phrase(const PvxParamSpec *spec, PvxParamType t)
{
    switch (t) {
    case PVX_PARAM_BOOL:
        return g_strdup("a bool (true or false)");
    case PVX_PARAM_INT:
        return g_strdup("an int");
    case PVX_PARAM_DOUBLE:
        return g_strdup("a number");
    case PVX_PARAM_STRING:
        return g_strdup("a string");
    case PVX_PARAM_PATH:
        return g_strdup("a path (string)");
    case PVX_PARAM_CHOICE: {
        g_autofree char *c = choices_string(spec->choices, ", ");
        return g_strdup_printf("one of: %s;", c);
    }
    case PVX_PARAM_INT_LIST:
        return g_strdup("a list of ints");
    case PVX_PARAM_DOUBLE_LIST:
        return g_strdup("a list of numbers");
    case PVX_PARAM_STRING_LIST:
        return g_strdup("a list of strings");
    }
    return g_strdup("?");
}

char *pvx_param_type_describe(const PvxParamSpec *spec)
{
    g_return_val_if_fail(spec != NULL, NULL);
    switch (spec->type) {
    case PVX_PARAM_BOOL:
        return g_strdup("bool");
    case PVX_PARAM_INT:
        return g_strdup("int");
    case PVX_PARAM_DOUBLE:
        return g_strdup("double");
    case PVX_PARAM_STRING:
        return g_strdup("string");
    case PVX_PARAM_PATH:
        return g_strdup("path");
    case PVX_PARAM_CHOICE: {
        g_autofree char *c = choices_string(spec->choices, ", ");
        return g_strdup_printf("one of {%s}", c);
    }
    case PVX_PARAM_INT_LIST:
        return g_strdup("list of int");
    case PVX_PARAM_DOUBLE_LIST:
        return g_strdup("list of double");
    case PVX_PARAM_STRING_LIST:
        return g_strdup("list of string");
    }
    return g_strdup("unknown");
}

/* 64 rather than 64.000000; 0.5 as 0.5. */
static char *format_bound(double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        return g_strdup_printf("%.0f", v);
    return g_strdup_printf("%g", v);
}

/* ---- one value -------------------------------------------------------------------------- */

static void value_clear(PvxParamValue *v)
{
    g_free(v->name);
    g_free(v->where);
    g_free(v->s);
    g_free(v->ilist);
    g_free(v->dlist);
    g_strfreev(v->slist);
}

/* "'lr'" or "'rates'[2]". */
static char *subject(const char *prefix, const PvxParamSpec *spec, int index)
{
    if (index < 0)
        return g_strdup_printf("%s'%s'", prefix, spec->name);
    return g_strdup_printf("%s'%s'[%d]", prefix, spec->name, index);
}

static gboolean type_error(const PvxNode *node, const char *subj, const PvxParamSpec *spec,
                           PvxParamType t, GError **error)
{
    g_autofree char *phrase = type_phrase(spec, t);
    g_autofree char *got = pvx_node_describe(node);
    /* The choice phrase ends in ';' already. */
    gboolean semi = t == PVX_PARAM_CHOICE;
    pvx_node_set_error(node, error, PVX_ERROR_CONFIG_TYPE, "%s must be %s%s got %s", subj, phrase,
                       semi ? "" : ",", got);
    return FALSE;
}

static gboolean check_range(const PvxNode *node, const char *subj, const PvxParamSpec *spec,
                            double v, GError **error)
{
    if ((spec->flags & PVX_PARAM_HAS_MIN) && !(v >= spec->min)) {
        g_autofree char *b = format_bound(spec->min);
        pvx_node_set_error(node, error, PVX_ERROR_CONFIG_RANGE, "%s must be >= %s, got %s", subj, b,
                           node->text);
        return FALSE;
    }
    if ((spec->flags & PVX_PARAM_HAS_MAX) && !(v <= spec->max)) {
        g_autofree char *b = format_bound(spec->max);
        pvx_node_set_error(node, error, PVX_ERROR_CONFIG_RANGE, "%s must be <= %s, got %s", subj, b,
                           node->text);
        return FALSE;
    }
    return TRUE;
}

static char *resolve_path(const char *text, const char *base_dir)
{
    return g_canonicalize_filename(text, base_dir);
}

/* Reads one scalar of type @t (a list's element type for lists) into *i / *d / *s / *b. */
static gboolean scalar_value(const PvxNode *node, const PvxParamSpec *spec, PvxParamType t,
                             const char *subj, gboolean path_list, gboolean *b, int64_t *i,
                             double *d, char **s, GError **error)
{
    if (node->type != PVX_NODE_SCALAR)
        return type_error(node, subj, spec, t, error);
    int64_t iv = 0;
    double dv = 0;
    PvxScalarKind kind = pvx_node_scalar_kind(node, &iv, &dv);
    switch (t) {
    case PVX_PARAM_BOOL:
        if (kind != PVX_SCALAR_BOOL)
            return type_error(node, subj, spec, t, error);
        *b = iv != 0;
        return TRUE;
    case PVX_PARAM_INT:
        if (kind == PVX_SCALAR_INT_OVERFLOW) {
            pvx_node_set_error(node, error, PVX_ERROR_CONFIG_RANGE,
                               "%s does not fit a 64-bit int, got %s", subj, node->text);
            return FALSE;
        }
        if (kind != PVX_SCALAR_INT)
            return type_error(node, subj, spec, t, error);
        *i = iv;
        return check_range(node, subj, spec, (double)iv, error);
    case PVX_PARAM_DOUBLE:
        if (kind == PVX_SCALAR_INT_OVERFLOW)
            dv = g_ascii_strtod(node->text, NULL);
        else if (kind != PVX_SCALAR_INT && kind != PVX_SCALAR_FLOAT)
            return type_error(node, subj, spec, t, error);
        if (isnan(dv)) {
            pvx_node_set_error(node, error, PVX_ERROR_CONFIG_RANGE, "%s must not be NaN", subj);
            return FALSE;
        }
        *d = dv;
        return check_range(node, subj, spec, dv, error);
    case PVX_PARAM_STRING:
    case PVX_PARAM_CHOICE:
    case PVX_PARAM_PATH:
        if (kind != PVX_SCALAR_STRING)
            return type_error(node, subj, spec, t, error);
        if (t == PVX_PARAM_CHOICE && !g_strv_contains(spec->choices, node->text)) {
            g_autofree char *c = choices_string(spec->choices, ", ");
            g_autofree char *got = pvx_node_describe(node);
            pvx_node_set_error(node, error, PVX_ERROR_CONFIG_RANGE, "%s must be one of: %s; got %s",
                               subj, c, got);
            return FALSE;
        }
        if ((t == PVX_PARAM_PATH || path_list) && node->text[0] == '\0') {
            pvx_node_set_error(node, error, PVX_ERROR_CONFIG_RANGE, "%s must not be an empty path",
                               subj);
            return FALSE;
        }
        *s = (t == PVX_PARAM_PATH || path_list) ? resolve_path(node->text, node->src->base_dir)
                                                : g_strdup(node->text);
        return TRUE;
    default:
        g_assert_not_reached();
    }
}

static gboolean value_from_node(PvxParamValue *v, const PvxParamSpec *spec, const char *prefix,
                                gboolean path_list, const PvxNode *node, GError **error)
{
    g_autofree char *subj = subject(prefix, spec, -1);
    if (pvx_node_is_null(node)) {
        if (!(spec->flags & PVX_PARAM_NULLABLE))
            return type_error(node, subj, spec, spec->type, error);
        v->has_value = FALSE;
        return TRUE;
    }
    v->has_value = TRUE;
    if (!type_is_list(spec->type))
        return scalar_value(node, spec, spec->type, subj, FALSE, &v->b, &v->i, &v->d, &v->s, error);
    if (node->type != PVX_NODE_SEQ)
        return type_error(node, subj, spec, spec->type, error);
    guint n = node->items->len;
    v->n = n;
    v->ilist = g_new0(int64_t, n + 1);
    v->dlist = g_new0(double, n + 1);
    v->slist = g_new0(char *, n + 1);
    PvxParamType et = element_type(spec->type);
    for (guint k = 0; k < n; k++) {
        const PvxNode *item = g_ptr_array_index(node->items, k);
        g_autofree char *esubj = subject(prefix, spec, (int)k);
        gboolean b;
        if (!scalar_value(item, spec, et, esubj, path_list, &b, &v->ilist[k], &v->dlist[k],
                          &v->slist[k], error))
            return FALSE;
    }
    return TRUE;
}

/* ---- building a table ------------------------------------------------------------------- */

static int compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *pvx_params_valid_keys(const PvxParamSpec *specs, const char *const *extra)
{
    g_autoptr(GPtrArray) keys = g_ptr_array_new();
    for (guint k = 0; specs && specs[k].name; k++)
        g_ptr_array_add(keys, (gpointer)specs[k].name);
    for (guint k = 0; extra && extra[k]; k++)
        g_ptr_array_add(keys, (gpointer)extra[k]);
    if (keys->len == 0)
        return g_strdup("(none)");
    g_ptr_array_sort(keys, compare_strings);
    GString *s = g_string_new(NULL);
    for (guint k = 0; k < keys->len; k++)
        g_string_append_printf(s, "%s%s", k ? ", " : "", (const char *)g_ptr_array_index(keys, k));
    return g_string_free(s, FALSE);
}

static const PvxParamSpec *spec_find(const PvxParamSpec *specs, const char *name)
{
    for (guint k = 0; specs && specs[k].name; k++)
        if (!strcmp(specs[k].name, name))
            return &specs[k];
    return NULL;
}

/* The default of @spec as a node. Returns: (transfer full), NULL + error when it does not
 * parse; *out NULL for no default. */
static gboolean default_node(const PvxParamSpec *spec, PvxSource *src, PvxNode **out,
                             GError **error)
{
    *out = NULL;
    if (!spec->default_value)
        return TRUE;
    g_autoptr(GError) perr = NULL;
    if (!pvx_node_parse(spec->default_value, strlen(spec->default_value), src, out, &perr)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "the default of '%s' is not valid YAML: %s", spec->name, perr->message);
        return FALSE;
    }
    if (!*out)
        *out = pvx_node_new_scalar(src, 0, 0, "", FALSE);
    return TRUE;
}

PvxParams *pvx_params_build(const PvxParamSpec *specs, const PvxParamsContext *ctx,
                            const PvxNode *map, GError **error)
{
    g_return_val_if_fail(ctx != NULL, NULL);
    g_return_val_if_fail(map == NULL || map->type == PVX_NODE_MAP, NULL);
    const char *const *extra = ctx->extra_keys ? ctx->extra_keys : no_keys;
    const char *prefix = ctx->prefix ? ctx->prefix : "";

    for (guint k = 0; map && k < map->entries->len; k++) {
        const PvxNodeEntry *e = &g_array_index(map->entries, PvxNodeEntry, k);
        if (spec_find(specs, e->key->text) || g_strv_contains(extra, e->key->text))
            continue;
        g_autofree char *valid = pvx_params_valid_keys(specs, extra);
        pvx_node_set_error(e->key, error, PVX_ERROR_CONFIG_UNKNOWN_KEY,
                           "unknown key '%s' %s; valid keys: %s", e->key->text,
                           ctx->context ? ctx->context : "", valid);
        return NULL;
    }

    guint n = 0;
    while (specs && specs[n].name)
        n++;
    g_autoptr(PvxParams) p = g_new0(PvxParams, 1);
    p->owner = g_strdup(ctx->owner ? ctx->owner : "");
    p->values = g_new0(PvxParamValue, n);
    p->n = n;
    g_autoptr(PvxSource) dsrc = pvx_source_new_default(ctx->default_base_dir);

    for (guint k = 0; k < n; k++) {
        const PvxParamSpec *spec = &specs[k];
        PvxParamValue *v = &p->values[k];
        v->name = g_strdup(spec->name);
        v->type = spec->type;
        v->flags = spec->flags;
        gboolean path_list = ctx->path_lists && g_strv_contains(ctx->path_lists, spec->name);
        const PvxNodeEntry *e = map ? pvx_node_map_lookup(map, spec->name) : NULL;
        if (e) {
            v->given = TRUE;
            v->where = pvx_node_where(e->value);
            if (!value_from_node(v, spec, prefix, path_list, e->value, error))
                return NULL;
            continue;
        }
        v->where = g_strdup("default");
        if (spec->flags & PVX_PARAM_REQUIRED) {
            if (map) {
                g_autofree char *in =
                    ctx->section ? g_strdup_printf(" in section '%s'", ctx->section) : g_strdup("");
                pvx_node_set_error(map, error, PVX_ERROR_CONFIG_MISSING,
                                   "%smissing required key '%s'%s", prefix, spec->name, in);
            } else {
                g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_MISSING,
                            "%smissing required key '%s'", prefix, spec->name);
            }
            return NULL;
        }
        g_autoptr(PvxNode) dn = NULL;
        if (!default_node(spec, dsrc, &dn, error))
            return NULL;
        if (!dn) { /* nullable without a default: not set */
            v->has_value = FALSE;
            continue;
        }
        if (!value_from_node(v, spec, prefix, path_list, dn, error))
            return NULL;
    }
    return g_steal_pointer(&p);
}

void pvx_params_free(PvxParams *p)
{
    if (!p)
        return;
    for (guint k = 0; k < p->n; k++)
        value_clear(&p->values[k]);
    g_free(p->values);
    g_free(p->owner);
    g_free(p);
}

PvxParams *pvx_params_new_defaults(const PvxParamSpec *specs, const char *owner, GError **error)
{
    return pvx_params_new_from_pairs(specs, owner, NULL, error);
}

PvxParams *pvx_params_new_from_pairs(const PvxParamSpec *specs, const char *owner,
                                     const char *const *pairs, GError **error)
{
    g_autofree char *prefix = owner && *owner ? g_strdup_printf("%s: ", owner) : g_strdup("");
    g_autofree char *context =
        owner && *owner ? g_strdup_printf("in params of %s", owner) : g_strdup("in params");
    PvxParamsContext ctx = {.owner = owner, .prefix = prefix, .context = context};
    if (!pairs || !pairs[0])
        return pvx_params_build(specs, &ctx, NULL, error);

    g_autoptr(PvxSource) root_src = pvx_source_new_default(NULL);
    g_autoptr(PvxNode) map = pvx_node_new_map(root_src, 0, 0);
    for (guint k = 0; pairs[k]; k++) {
        if (strchr(pairs[k], '=') && strchr(pairs[k], '.') &&
            strchr(pairs[k], '.') < strchr(pairs[k], '=')) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_OVERRIDE,
                        "--set #%u '%s': expected NAME=VALUE with a parameter name of %s", k + 1,
                        pairs[k], owner ? owner : "the table");
            return NULL;
        }
        if (!pvx_override_apply(map, "--set", k + 1, pairs[k], error))
            return NULL;
    }
    return pvx_params_build(specs, &ctx, map, error);
}

/* ---- checking spec tables --------------------------------------------------------------- */

static gboolean spec_error(GError **error, const PvxParamSpec *spec, guint index,
                           const char *format, ...) G_GNUC_PRINTF(4, 5);

static gboolean spec_error(GError **error, const PvxParamSpec *spec, guint index,
                           const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    if (spec->name && *spec->name)
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "parameter '%s': %s", spec->name,
                    msg);
    else
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "parameter #%u: %s", index, msg);
    return FALSE;
}

static gboolean spec_check_one(const PvxParamSpec *specs, guint k, GError **error)
{
    const PvxParamSpec *spec = &specs[k];
    if (!*spec->name)
        return spec_error(error, spec, k, "empty name");
    for (guint j = 0; j < k; j++)
        if (!strcmp(specs[j].name, spec->name))
            return spec_error(error, spec, k, "declared twice");
    if (!type_known(spec->type))
        return spec_error(error, spec, k, "unknown type %d", (int)spec->type);
    guint known = PVX_PARAM_REQUIRED | PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX | PVX_PARAM_NULLABLE;
    if (spec->flags & ~known)
        return spec_error(error, spec, k, "unknown flags 0x%x", spec->flags & ~known);
    if ((spec->flags & (PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX)) && !type_is_numeric(spec->type))
        return spec_error(error, spec, k, "min/max given for a non-numeric type");
    if ((spec->flags & PVX_PARAM_HAS_MIN) && (spec->flags & PVX_PARAM_HAS_MAX) &&
        !(spec->min <= spec->max))
        return spec_error(error, spec, k, "min %g is above max %g", spec->min, spec->max);
    if (spec->type == PVX_PARAM_CHOICE) {
        if (!spec->choices || !spec->choices[0])
            return spec_error(error, spec, k, "a choice parameter without choices");
        for (guint c = 0; spec->choices[c]; c++)
            if (!*spec->choices[c])
                return spec_error(error, spec, k, "an empty choice");
    }
    if (spec->flags & PVX_PARAM_REQUIRED) {
        if (spec->default_value)
            return spec_error(error, spec, k, "a required parameter cannot have a default");
        return TRUE;
    }
    if (!spec->default_value) {
        if (spec->flags & PVX_PARAM_NULLABLE)
            return TRUE;
        return spec_error(error, spec, k, "no default (and neither required nor nullable)");
    }
    /* The default must parse and validate like a config value would. */
    g_autoptr(PvxSource) src = pvx_source_new_default(NULL);
    g_autoptr(PvxNode) node = NULL;
    g_autoptr(GError) err = NULL;
    if (!default_node(spec, src, &node, &err))
        return spec_error(error, spec, k, "%s", err->message);
    PvxParamValue v = {0};
    gboolean ok = value_from_node(&v, spec, "", FALSE, node, &err);
    value_clear(&v);
    if (!ok)
        return spec_error(error, spec, k, "invalid default \"%s\": %s", spec->default_value,
                          err->message);
    return TRUE;
}

gboolean pvx_param_specs_check(const PvxParamSpec *specs, GError **error)
{
    for (guint k = 0; specs && specs[k].name; k++)
        if (!spec_check_one(specs, k, error))
            return FALSE;
    return TRUE;
}
