/* pvx — Hydra-style overrides: "train.epochs=1", "pruning.rates=[2,4]", "explain.0.plugin=x".
 * The value is YAML flow text; the key path may create missing mappings. */
#include "pvx-private/params_internal.h"

#include <string.h>

static gboolean parse_index(const char *seg, guint *out)
{
    if (!*seg)
        return FALSE;
    for (const char *c = seg; *c; c++)
        if (!g_ascii_isdigit(*c))
            return FALSE;
    *out = (guint)g_ascii_strtoull(seg, NULL, 10);
    return TRUE;
}

static gboolean not_container(PvxSource *src, const PvxNode *node, const char *path, GError **error)
{
    g_autofree char *got = pvx_node_describe(node);
    g_autofree char *where = pvx_node_where(node);
    g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_OVERRIDE, "%s: '%s' is %s (%s), not a mapping",
                src->detail, path, got, where);
    return FALSE;
}

/* Replaces *slot (transfer full) with @value (transfer full). */
static void replace(PvxNode **slot, PvxNode *value)
{
    pvx_node_free(*slot);
    *slot = value;
}

gboolean pvx_override_apply(PvxNode *root, const char *kind, guint index, const char *text,
                            GError **error)
{
    g_return_val_if_fail(root && root->type == PVX_NODE_MAP && text, FALSE);
    g_autoptr(PvxSource) src = pvx_source_new_override(kind, index, text, NULL);
    const char *eq = strchr(text, '=');
    g_autofree char *key = eq ? g_strstrip(g_strndup(text, (gsize)(eq - text))) : NULL;
    if (!key || !*key) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_OVERRIDE,
                    "%s: expected KEY.PATH=VALUE (e.g. train.epochs=1)", src->detail);
        return FALSE;
    }
    g_auto(GStrv) segs = g_strsplit(key, ".", -1);
    guint n = g_strv_length(segs);
    for (guint k = 0; k < n; k++) {
        if (!*segs[k] || strpbrk(segs[k], " \t")) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_OVERRIDE,
                        "%s: '%s' is not a valid key path (empty or blank segment)", src->detail,
                        key);
            return FALSE;
        }
    }
    PvxNode *value = NULL;
    if (!pvx_node_parse(eq + 1, strlen(eq + 1), src, &value, error))
        return FALSE;
    if (!value)
        value = pvx_node_new_scalar(src, 0, 0, "", FALSE);

    PvxNode *cur = root;
    GString *path = g_string_new(NULL);
    for (guint k = 0; k < n; k++) {
        const char *seg = segs[k];
        gboolean last = k + 1 == n;
        g_string_append_printf(path, "%s%s", k ? "." : "", seg);
        PvxNode **slot = NULL;
        guint idx;
        if (cur->type == PVX_NODE_SEQ && parse_index(seg, &idx)) {
            if (idx >= cur->items->len) {
                g_autofree char *where = pvx_node_where(cur);
                g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_OVERRIDE,
                            "%s: index %u is out of range: the list at %s has %u entries",
                            src->detail, idx, where, cur->items->len);
                goto fail;
            }
            slot = (PvxNode **)&g_ptr_array_index(cur->items, idx);
        } else if (cur->type == PVX_NODE_MAP) {
            PvxNodeEntry *e = pvx_node_map_lookup(cur, seg);
            if (!e) {
                pvx_node_map_append(cur, pvx_node_new_scalar(src, 0, 0, seg, FALSE),
                                    pvx_node_new_scalar(src, 0, 0, "", FALSE));
                e = &g_array_index(cur->entries, PvxNodeEntry, cur->entries->len - 1);
            }
            slot = &e->value;
        } else {
            /* path currently includes this segment; name the parent */
            g_string_truncate(path, path->len - strlen(seg) - (k ? 1 : 0));
            not_container(src, cur, path->str, error);
            goto fail;
        }
        if (last) {
            replace(slot, g_steal_pointer(&value));
            break;
        }
        if (pvx_node_is_null(*slot))
            replace(slot, pvx_node_new_map(src, 0, 0));
        cur = *slot;
        if (cur->type == PVX_NODE_SCALAR) {
            not_container(src, cur, path->str, error);
            goto fail;
        }
    }
    g_string_free(path, TRUE);
    return TRUE;

fail:
    g_string_free(path, TRUE);
    pvx_node_free(value);
    return FALSE;
}
