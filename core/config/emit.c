/* pvx — the resolved config as YAML: every value validated, defaults filled in, overrides
 * applied, paths absolute. The text loads and validates back to the same values. */
#include "config_private.h"

#include <math.h>
#include <string.h>

#include "pvx-private/escape.h"

/* The shortest text that reads back as the same double, always recognisable as a float. */
static void emit_double(GString *out, double d)
{
    if (isinf(d)) {
        g_string_append(out, d < 0 ? "-.inf" : ".inf");
        return;
    }
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    for (int digits = 15; digits <= 17; digits++) {
        g_ascii_formatd(buf, sizeof buf,
                        digits == 15   ? "%.15g"
                        : digits == 16 ? "%.16g"
                                       : "%.17g",
                        d);
        if (g_ascii_strtod(buf, NULL) == d)
            break;
    }
    g_string_append(out, buf);
    if (!strpbrk(buf, ".eE"))
        g_string_append(out, ".0");
}

static void emit_value(GString *out, const PvxParamValue *v)
{
    if (!v->has_value) {
        g_string_append(out, "null");
        return;
    }
    switch (v->type) {
    case PVX_PARAM_BOOL:
        g_string_append(out, v->b ? "true" : "false");
        return;
    case PVX_PARAM_INT:
        g_string_append_printf(out, "%" G_GINT64_FORMAT, (gint64)v->i);
        return;
    case PVX_PARAM_DOUBLE:
        emit_double(out, v->d);
        return;
    case PVX_PARAM_STRING:
    case PVX_PARAM_CHOICE:
    case PVX_PARAM_PATH:
        pvx_escape_yaml(out, v->s);
        return;
    case PVX_PARAM_INT_LIST:
    case PVX_PARAM_DOUBLE_LIST:
    case PVX_PARAM_STRING_LIST:
        g_string_append_c(out, '[');
        for (gsize k = 0; k < v->n; k++) {
            if (k)
                g_string_append(out, ", ");
            if (v->type == PVX_PARAM_INT_LIST)
                g_string_append_printf(out, "%" G_GINT64_FORMAT, (gint64)v->ilist[k]);
            else if (v->type == PVX_PARAM_DOUBLE_LIST)
                emit_double(out, v->dlist[k]);
            else
                pvx_escape_yaml(out, v->slist[k]);
        }
        g_string_append_c(out, ']');
        return;
    }
}

void pvx_params_emit(const PvxParams *p, GString *out, int indent)
{
    for (guint k = 0; p && k < p->n; k++) {
        g_string_append_printf(out, "%*s%s: ", indent, "", p->values[k].name);
        emit_value(out, &p->values[k]);
        g_string_append_c(out, '\n');
    }
}

static void emit_block(const PvxConfig *cfg, const char *path, int indent, GString *out);

/* "key:\n<body>" or "key: {}\n" when the body is empty. */
static void emit_keyed(GString *out, int indent, const char *key, const GString *body)
{
    if (body->len)
        g_string_append_printf(out, "%*s%s:\n%s", indent, "", key, body->str);
    else
        g_string_append_printf(out, "%*s%s: {}\n", indent, "", key);
}

static void emit_children(const PvxConfig *cfg, const PvxConfigSectionSpec *spec, const char *path,
                          int indent, GString *out)
{
    for (guint k = 0; spec->children && spec->children[k].name; k++) {
        const PvxConfigSectionSpec *child = &spec->children[k];
        g_autofree char *cpath =
            *path ? g_strdup_printf("%s.%s", path, child->name) : g_strdup(child->name);
        PvxSectionValue *sv = pvx_config_section_value(cfg, cpath);
        if (!sv)
            continue;
        if (!sv->is_list) {
            /* An absent plugin section stays absent (its core keys alone would not validate). */
            if (child->kind && !sv->plugin)
                continue;
            g_autoptr(GString) body = g_string_new(NULL);
            emit_block(cfg, cpath, indent + 2, body);
            emit_keyed(out, indent, child->name, body);
            continue;
        }
        if (sv->list_len == 0) {
            if (sv->present)
                g_string_append_printf(out, "%*s%s: []\n", indent, "", child->name);
            continue;
        }
        g_string_append_printf(out, "%*s%s:\n", indent, "", child->name);
        for (guint i = 0; i < sv->list_len; i++) {
            g_autofree char *entry = g_strdup_printf("%s[%u]", cpath, i);
            g_autoptr(GString) body = g_string_new(NULL);
            emit_block(cfg, entry, indent + 4, body);
            if (body->len == 0) {
                g_string_append_printf(out, "%*s- {}\n", indent + 2, "");
                continue;
            }
            /* The first line's indent becomes the "- " of the entry. */
            g_string_append_printf(out, "%*s- %s", indent + 2, "", body->str + indent + 4);
        }
    }
}

static void emit_block(const PvxConfig *cfg, const char *path, int indent, GString *out)
{
    PvxSectionValue *sv = pvx_config_section_value(cfg, path);
    pvx_params_emit(sv->params, out, indent);
    if (sv->plugin) {
        g_string_append_printf(out, "%*splugin: ", indent, "");
        pvx_escape_yaml(out, sv->plugin->desc->name);
        g_string_append_c(out, '\n');
        g_autoptr(GString) body = g_string_new(NULL);
        pvx_params_emit(sv->plugin_params, body, indent + 2);
        emit_keyed(out, indent, "params", body);
    }
    emit_children(cfg, sv->spec, path, indent, out);
}

char *pvx_config_resolved_text(const PvxConfig *cfg)
{
    g_return_val_if_fail(cfg != NULL && cfg->validated, NULL);
    GString *out = g_string_new(NULL);
    g_string_append_printf(out, "# resolved from %s", cfg->path);
    for (guint k = 0; cfg->overrides[k]; k++) {
        g_autofree char *flat = g_strdelimit(g_strdup(cfg->overrides[k]), "\r\n", ' ');
        g_string_append_printf(out, "%s--set #%u '%s'", k ? ", " : " with ", k + 1, flat);
    }
    g_string_append_c(out, '\n');
    emit_block(cfg, "", 0, out);
    return g_string_free(out, FALSE);
}
