/* pvx — model weights and masks in the HDF5 store under torchvision's names. */
#include <string.h>

#include "nn_private.h"
#include "pvx-private/weights.h"

static char *join(const char *group, const char *name)
{
    gsize n = strlen(group);
    return g_strdup_printf("%s%s%s", group, n && group[n - 1] == '/' ? "" : "/", name);
}

gboolean pvx_model_save_weights(const PvxModel *m, PvxStore *store, const char *group,
                                GError **error)
{
    g_return_val_if_fail(m != NULL && store != NULL && group != NULL, FALSE);
    g_auto(GStrv) names = NULL;
    g_autoptr(GPtrArray) tensors = pvx_model_state(m, &names);
    for (guint i = 0; i < tensors->len; i++) {
        g_autofree char *path = join(group, names[i]);
        if (!pvx_store_write_tensor(store, path, g_ptr_array_index(tensors, i), error))
            return FALSE;
    }
    return TRUE;
}

/* A BN layer's num_batches_tracked, which torchvision checkpoints carry. */
static gboolean is_bn_counter(const PvxModel *m, const char *name)
{
    if (!g_str_has_suffix(name, ".num_batches_tracked"))
        return FALSE;
    g_autofree char *layer = g_strndup(name, strlen(name) - strlen(".num_batches_tracked"));
    int i = pvx_model_layer_index(m, layer);
    return i >= 0 && pvx_model_layer(m, i)->type == PVX_LAYER_BATCHNORM2D;
}

static void append_list(GString *msg, const char *what, GPtrArray *items)
{
    if (items->len == 0)
        return;
    g_string_append_printf(msg, "%s %u %s%s: ", msg->len ? ";" : "", items->len, what,
                           items->len == 1 ? "" : "s");
    for (guint i = 0; i < items->len; i++)
        g_string_append_printf(msg, "%s%s", i ? ", " : "", (char *)g_ptr_array_index(items, i));
}

static gboolean excluded(const char *const *exclude, const char *name)
{
    for (const char *const *e = exclude; e && *e; e++)
        if (g_pattern_match_simple(*e, name))
            return TRUE;
    return FALSE;
}

gboolean pvx_model_load_weights(PvxModel *m, PvxStore *store, const char *group, GError **error)
{
    return pvx_model_load_weights_except(m, store, group, NULL, error);
}

gboolean pvx_model_load_weights_except(PvxModel *m, PvxStore *store, const char *group,
                                       const char *const *exclude, GError **error)
{
    g_return_val_if_fail(m != NULL && store != NULL && group != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!pvx_store_exists(store, group)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND, "%s: no weights: there is no '%s'",
                    pvx_store_path(store), group);
        return FALSE;
    }
    g_auto(GStrv) listed = pvx_store_list(store, group, error);
    if (!listed)
        return FALSE;
    g_auto(GStrv) names = NULL;
    g_autoptr(GPtrArray) tensors = pvx_model_state(m, &names);
    g_autoptr(GPtrArray) missing = g_ptr_array_new();
    g_autoptr(GPtrArray) extra = g_ptr_array_new();
    for (guint i = 0; names[i]; i++)
        if (!excluded(exclude, names[i]) && !g_strv_contains((const char *const *)listed, names[i]))
            g_ptr_array_add(missing, names[i]);
    for (guint i = 0; listed[i]; i++)
        if (!excluded(exclude, listed[i]) &&
            !g_strv_contains((const char *const *)names, listed[i]) && !is_bn_counter(m, listed[i]))
            g_ptr_array_add(extra, listed[i]);
    if (missing->len || extra->len) {
        g_autoptr(GString) msg = g_string_new(NULL);
        append_list(msg, "missing tensor", missing);
        append_list(msg, "extra tensor", extra);
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "%s: the weights in '%s' do not fit model %s:%s", pvx_store_path(store), group,
                    m->arch, msg->str);
        return FALSE;
    }
    for (guint i = 0; i < tensors->len; i++) {
        if (excluded(exclude, names[i]))
            continue;
        g_autofree char *path = join(group, names[i]);
        PvxTensor *t = g_ptr_array_index(tensors, i);
        g_autoptr(GError) local = NULL;
        if (!pvx_store_read_tensor_into(store, path, t, &local)) {
            if (g_error_matches(local, PVX_ERROR, PVX_ERROR_SHAPE)) {
                g_autoptr(PvxTensor) probe = pvx_store_read_tensor(store, path, NULL);
                g_autofree char *have = probe ? pvx_tensor_shape_string(probe) : g_strdup("?");
                g_autofree char *want = pvx_tensor_shape_string(t);
                g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                            "%s: tensor %s has shape %s in the file, model %s expects %s",
                            pvx_store_path(store), names[i], have, m->arch, want);
            } else {
                g_propagate_error(error, g_steal_pointer(&local));
            }
            return FALSE;
        }
    }
    pvx_model_apply_masks(m);
    return TRUE;
}

gboolean pvx_model_load_weights_file(PvxModel *m, const char *path, const char *group,
                                     GError **error)
{
    return pvx_model_load_weights_file_except(m, path, group, NULL, error);
}

gboolean pvx_model_load_weights_file_except(PvxModel *m, const char *path, const char *group,
                                            const char *const *exclude, GError **error)
{
    g_return_val_if_fail(m != NULL && path != NULL, FALSE);
    g_autofree char *file = g_strdup(path);
    g_autofree char *grp = g_strdup(group ? group : "/weights");
    char *colon = strstr(file, ":/");
    if (colon && !g_file_test(file, G_FILE_TEST_EXISTS)) {
        *colon = '\0';
        g_free(grp);
        grp = g_strdup(colon + 1);
    }
    g_autoptr(PvxStore) store = pvx_store_open(file, FALSE, error);
    if (!store)
        return FALSE;
    return pvx_model_load_weights_except(m, store, grp, exclude, error);
}

gboolean pvx_model_save_masks(const PvxModel *m, PvxStore *store, const char *group, GError **error)
{
    for (guint i = 0; i < m->layers->len; i++) {
        const PvxLayer *l = g_ptr_array_index(m->layers, i);
        if (!l->mask)
            continue;
        int64_t n = pvx_tensor_numel(l->mask);
        g_autofree uint8_t *u8 = g_malloc(n);
        for (int64_t k = 0; k < n; k++)
            u8[k] = l->mask->data[k] != 0.0f;
        g_autofree char *name = g_strdup_printf("%s.weight", l->name);
        g_autofree char *path = join(group, name);
        if (!pvx_store_write_u8(store, path, l->mask->ndim, l->mask->shape, u8, error))
            return FALSE;
    }
    return TRUE;
}

gboolean pvx_model_load_masks(PvxModel *m, PvxStore *store, const char *group, GError **error)
{
    if (!pvx_store_exists(store, group))
        return TRUE;
    for (guint i = 0; i < m->layers->len; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        if (l->type != PVX_LAYER_CONV2D && l->type != PVX_LAYER_LINEAR)
            continue;
        g_autofree char *name = g_strdup_printf("%s.weight", l->name);
        g_autofree char *path = join(group, name);
        if (!pvx_store_exists(store, path))
            continue;
        int ndim = 0;
        int64_t shape[PVX_TENSOR_MAX_DIMS];
        g_autofree uint8_t *u8 = pvx_store_read_u8(store, path, &ndim, shape, error);
        if (!u8)
            return FALSE;
        if (ndim != l->weight->ndim ||
            memcmp(shape, l->weight->shape, sizeof(int64_t) * ndim) != 0) {
            g_autofree char *have = pvx_shape_string(ndim, shape);
            g_autofree char *want = pvx_tensor_shape_string(l->weight);
            g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                        "%s: mask %s has shape %s in the file, model %s expects %s",
                        pvx_store_path(store), name, have, m->arch, want);
            return FALSE;
        }
        if (!pvx_model_set_mask_u8(m, l->name, u8, error))
            return FALSE;
    }
    return TRUE;
}
