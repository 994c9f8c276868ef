/* pvx — which layers a pruning run touches (pvx_prune_select_layers). */
#include <string.h>

#include "pvx/error.h"
#include "pvx/model.h"
#include "pvx-private/prune.h"

static const char *const kind_names[] = {"conv2d", "depthwise", "linear", "conv", NULL};

/* A depthwise convolution: one filter per input channel (groups = Cin > 1, Cout = Cin). A conv
 * with a single input channel and groups 1 is an ordinary conv2d. */
static gboolean is_depthwise(const PvxLayer *l)
{
    return l->type == PVX_LAYER_CONV2D && l->groups > 1 && l->groups == l->in_features &&
           l->out_features == l->in_features;
}

static gboolean kind_matches(const char *kind, const PvxLayer *l)
{
    if (strcmp(kind, "conv2d") == 0 || strcmp(kind, "conv") == 0)
        return l->type == PVX_LAYER_CONV2D && !is_depthwise(l);
    if (strcmp(kind, "depthwise") == 0)
        return is_depthwise(l);
    return strcmp(kind, "linear") == 0 && l->type == PVX_LAYER_LINEAR;
}

/* Every pattern of @patterns must match at least one prunable layer; a typo in an exclude list
 * that silently excludes nothing is a classic way to prune the classifier by accident. */
static gboolean check_patterns(const char *const *patterns, const char *const *prunable,
                               const char *what, GError **error)
{
    for (const char *const *pat = patterns; pat && *pat; pat++) {
        gboolean hit = FALSE;
        for (const char *const *n = prunable; *n && !hit; n++)
            hit = g_pattern_match_simple(*pat, *n);
        if (!hit) {
            g_autofree char *all = g_strjoinv(", ", (char **)prunable);
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "%s pattern '%s' matches no prunable layer (prunable: %s)", what, *pat,
                        all);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean matches_any(const char *const *patterns, const char *name)
{
    for (const char *const *pat = patterns; pat && *pat; pat++)
        if (g_pattern_match_simple(*pat, name))
            return TRUE;
    return FALSE;
}

char **pvx_prune_select_layers(const PvxModel *model, const PvxLayerSelection *sel, GError **error)
{
    g_return_val_if_fail(model != NULL && sel != NULL, NULL);
    const char *const *prunable = pvx_model_prunable_layers(model);
    for (const char *const *k = sel->kinds; k && *k; k++)
        if (!g_strv_contains(kind_names, *k)) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "layer kind '%s' is not one of conv2d, depthwise, linear (conv: conv2d)",
                        *k);
            return NULL;
        }
    if (!check_patterns(sel->include, prunable, "include", error) ||
        !check_patterns(sel->exclude, prunable, "exclude", error))
        return NULL;
    GPtrArray *out = g_ptr_array_new();
    for (const char *const *n = prunable; *n; n++) {
        const PvxLayer *l = pvx_model_find_layer(model, *n, NULL);
        gboolean by_kind = FALSE;
        for (const char *const *k = sel->kinds; k && *k && !by_kind; k++)
            by_kind = kind_matches(*k, l);
        if ((by_kind || matches_any(sel->include, *n)) && !matches_any(sel->exclude, *n))
            g_ptr_array_add(out, g_strdup(*n));
    }
    if (out->len == 0) {
        g_ptr_array_free(out, TRUE);
        g_autofree char *all = g_strjoinv(", ", (char **)prunable);
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "the layer selection matches no layer of %s (prunable: %s)",
                    pvx_model_arch(model), all);
        return NULL;
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}
