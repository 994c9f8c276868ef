/* pvx — the explain stage: raw maps of every CR model and method for selected images, their
 * heat and occlusion maps, and one sheet per image with all CRs side by side. */
#include <stdio.h>
#include <string.h>

#include "pvx-private/core.h"
#include "pvx-private/run_layout.h"

#define STAGE "explain"

static gboolean load_cr(PvxModel *model, PvxStore *store, int cr, GError **error)
{
    if (pvx_load_cr_model(model, store, cr, error))
        return TRUE;
    g_prefix_error(error, "%s: ", "explain");
    return FALSE;
}

/* Predicted class of every item of @split (chunks of @bs). Returns: (transfer full). */
static int64_t *predict_split(PvxModel *model, const PvxDataset *ds, PvxSplit split, int64_t n,
                              int bs, GError **error)
{
    int64_t chw[3];
    pvx_dataset_item_shape(ds, chw);
    int64_t item = chw[0] * chw[1] * chw[2];
    g_autofree int64_t *pred = g_new(int64_t, n);
    for (int64_t b0 = 0; b0 < n; b0 += bs) {
        int64_t nb = MIN((int64_t)bs, n - b0);
        g_autoptr(PvxTensor) x = pvx_tensor_new_shape(4, nb, chw[0], chw[1], chw[2]);
        for (int64_t i = 0; i < nb; i++) {
            PvxDatasetItem it = {0};
            if (!pvx_dataset_get_item(ds, split, b0 + i, &it, error))
                return NULL;
            memcpy(x->data + i * item, it.image->data, sizeof(float) * item);
            pvx_dataset_item_clear(&it);
        }
        g_autoptr(PvxTensor) y = pvx_model_forward(model, x, PVX_FORWARD_INFERENCE, error);
        if (!y)
            return NULL;
        int64_t c = y->shape[1];
        for (int64_t i = 0; i < nb; i++) {
            int64_t best = 0;
            for (int64_t k = 1; k < c; k++)
                if (y->data[i * c + k] > y->data[i * c + best])
                    best = k;
            pred[b0 + i] = best;
        }
    }
    return g_steal_pointer(&pred);
}

GArray *pvx_explain_select_items(PvxRun *run, const PvxDataset *ds, PvxModel *model, const int *crs,
                                 int n_crs, GError **error)
{
    const PvxParams *p = pvx_config_section(pvx_run_config(run), "explain");
    PvxSplit split = PVX_SPLIT_TEST;
    pvx_split_from_name(pvx_params_get_string(p, "split"), &split);
    int64_t n = pvx_dataset_split_size(ds, split);
    if (n <= 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND, "%s: dataset %s has no %s split",
                    pvx_params_where(p, "split"), pvx_dataset_name(ds), pvx_split_name(split));
        return NULL;
    }
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(int64_t));
    const char *sel = pvx_params_get_string(p, "selection");
    if (strcmp(sel, "ids") == 0) {
        gsize k = 0;
        const int64_t *ids = pvx_params_get_int_list(p, "ids", &k);
        for (gsize i = 0; i < k; i++) {
            if (ids[i] >= n) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                            "%s: item %" G_GINT64_FORMAT
                            " is outside the %s split (%" G_GINT64_FORMAT " items)",
                            pvx_params_where(p, "ids"), ids[i], pvx_split_name(split), n);
                return NULL;
            }
            g_array_append_val(out, ids[i]);
        }
        if (k == 0) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_MISSING,
                        "%s: selection 'ids' needs a non-empty `ids` list",
                        pvx_params_where(p, "selection"));
            return NULL;
        }
        return g_steal_pointer(&out);
    }
    int64_t per_class = pvx_params_get_int(p, "per_class");
    gboolean correct = strcmp(sel, "correct") == 0;
    int classes = pvx_dataset_num_classes(ds);
    g_autofree int64_t *labels = g_new(int64_t, n);
    for (int64_t i = 0; i < n; i++) {
        labels[i] = pvx_dataset_get_label(ds, split, i, error);
        if (labels[i] < 0)
            return NULL;
    }
    g_autofree gboolean *ok = g_new(gboolean, n);
    for (int64_t i = 0; i < n; i++)
        ok[i] = TRUE;
    if (correct) {
        int bs = (int)pvx_params_get_int(p, "batch_size");
        for (int c = 0; c < n_crs; c++) {
            if (!load_cr(model, pvx_run_store(run), crs[c], error))
                return NULL;
            g_autofree int64_t *pred = predict_split(model, ds, split, n, MAX(bs, 32), error);
            if (!pred)
                return NULL;
            for (int64_t i = 0; i < n; i++)
                ok[i] = ok[i] && pred[i] == labels[i];
        }
    }
    g_autofree int64_t *taken = g_new0(int64_t, classes);
    for (int64_t i = 0; i < n; i++)
        if (ok[i] && taken[labels[i]] < per_class) {
            taken[labels[i]]++;
            g_array_append_val(out, i);
        }
    for (int c = 0; c < classes; c++)
        if (taken[c] < per_class)
            g_message("explain: class %s has only %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                      " images%s",
                      pvx_dataset_class_name(ds, c), taken[c], per_class,
                      correct ? " classified correctly by every model" : "");
    /* Sorted by split index (class order interleaves otherwise). */
    return g_steal_pointer(&out);
}

/* The picture a person sees: the dataset's raw image, else the tensor clamped to [0, 1]. */
static PvxImage *item_picture(const PvxDatasetItem *it)
{
    if (it->raw)
        return pvx_image_convert(it->raw, 3);
    g_autoptr(PvxImage) img = pvx_image_from_tensor(it->image, NULL, NULL);
    return pvx_image_convert(img, 3);
}

typedef struct {
    char *name;
    PvxExplainer *ex;
    PvxTensor **maps; /* per CR: [N, h, w] */
} Method;

static void method_free(Method *m, int n_crs)
{
    for (int c = 0; c < n_crs; c++)
        g_clear_pointer(&m->maps[c], pvx_tensor_unref);
    g_free(m->maps);
    pvx_explainer_close(m->ex);
    g_free(m->name);
}

static gboolean write_pictures(PvxRun *run, const PvxDataset *ds, PvxSplit split,
                               const GArray *items, char **ids, Method *methods, int n_methods,
                               const int *crs, int n_crs, const PvxParams *p, GError **error)
{
    PvxMapRenderOptions ro;
    pvx_map_render_options_init(&ro);
    pvx_colormap_from_name(pvx_params_get_string(p, "colormap"), &ro.colormap);
    pvx_occlusion_fill_from_name(pvx_params_get_string(p, "fill"), &ro.fill);
    ro.opacity = pvx_params_get_double(p, "opacity");
    ro.keep_fraction = pvx_params_get_double(p, "keep_fraction");
    ro.blur_sigma = pvx_params_get_double(p, "blur_sigma");
    char **col_labels = g_new0(char *, n_crs + 2);
    col_labels[0] = g_strdup("image");
    for (int c = 0; c < n_crs; c++)
        col_labels[c + 1] = g_strdup_printf("CR %d", crs[c]);
    const char *row_labels[] = {"heat map", "occlusion"};
    for (int mi = 0; mi < n_methods; mi++) {
        g_autofree char *dir = g_build_filename(pvx_run_dir(run), "maps", methods[mi].name, NULL);
        if (g_mkdir_with_parents(dir, 0755) != 0) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "cannot create %s", dir);
            goto fail;
        }
        for (guint i = 0; i < items->len; i++) {
            PvxDatasetItem it = {0};
            if (!pvx_dataset_get_item(ds, split, g_array_index(items, int64_t, i), &it, error))
                goto fail;
            g_autoptr(PvxImage) pic = item_picture(&it);
            int label = it.label;
            pvx_dataset_item_clear(&it);
            g_autoptr(GPtrArray) tiles =
                g_ptr_array_new_with_free_func((GDestroyNotify)pvx_image_free);
            g_ptr_array_set_size(tiles, 2 * (n_crs + 1));
            tiles->pdata[0] = pvx_image_copy(pic);
            for (int c = 0; c < n_crs; c++) {
                const PvxTensor *all = methods[mi].maps[c];
                int64_t per = all->shape[1] * all->shape[2];
                g_autoptr(PvxTensor) raw = pvx_tensor_new_from_data(
                    2, (int64_t[]){all->shape[1], all->shape[2]}, all->data + i * per);
                PvxImage *heat = NULL, *occl = NULL;
                if (!pvx_render_map_pair(pic, raw, &ro, &heat, &occl, error))
                    goto fail;
                tiles->pdata[c + 1] = heat;
                tiles->pdata[n_crs + 1 + c + 1] = occl;
                g_autofree char *hn = pvx_map_file_name(ids[i], methods[mi].name, crs[c], "heat");
                g_autofree char *on = pvx_map_file_name(ids[i], methods[mi].name, crs[c], "occl");
                g_autofree char *hp = g_build_filename(dir, hn, NULL);
                g_autofree char *op = g_build_filename(dir, on, NULL);
                if (!pvx_image_save_png(heat, hp, error) || !pvx_image_save_png(occl, op, error))
                    goto fail;
            }
            g_autofree char *title = g_strdup_printf("%s  %s  (%s)", ids[i], methods[mi].name,
                                                     pvx_dataset_class_name(ds, label));
            PvxGridOptions go = {.title = title,
                                 .row_labels = row_labels,
                                 .col_labels = (const char *const *)col_labels};
            g_autoptr(PvxImage) sheet =
                pvx_render_grid((PvxImage *const *)tiles->pdata, 2, n_crs + 1, &go, error);
            g_autofree char *sn = pvx_map_file_name(ids[i], methods[mi].name, -1, "sheet");
            g_autofree char *sp = g_build_filename(dir, sn, NULL);
            if (!sheet || !pvx_image_save_png(sheet, sp, error))
                goto fail;
        }
    }
    g_strfreev(col_labels);
    return TRUE;
fail:
    g_strfreev(col_labels);
    return FALSE;
}

gboolean pvx_stage_explain(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds,
                           PvxModel *model, const int *crs, int n_crs, GError **error)
{
    (void)reg;
    g_return_val_if_fail(run && ds && model && crs && n_crs > 0, FALSE);
    if (pvx_run_stage_finished(run, STAGE)) {
        g_message("explain: already finished");
        return TRUE;
    }
    const PvxConfig *cfg = pvx_run_config(run);
    const PvxParams *p = pvx_config_section(cfg, "explain");
    guint n_methods = pvx_config_list_length(cfg, "explain.methods");
    if (!pvx_config_has_section(cfg, "explain") || n_methods == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_MISSING,
                    "%s: the explain stage needs an `explain` section with at least one entry "
                    "in `methods` (e.g. - plugin: gradcam)",
                    pvx_config_path(cfg));
        return FALSE;
    }
    pvx_run_stage_work_begins(run, STAGE); /* choosing the images is part of the stage */
    PvxSplit split = PVX_SPLIT_TEST;
    pvx_split_from_name(pvx_params_get_string(p, "split"), &split);
    PvxExplainOptions eo = {.mode = PVX_TARGET_PREDICTED,
                            .layer = pvx_params_get_string(p, "layer"),
                            .batch_size = (int)pvx_params_get_int(p, "batch_size")};
    gboolean by_label = strcmp(pvx_params_get_string(p, "target"), "label") == 0;
    if (by_label)
        eo.mode = PVX_TARGET_LABEL;
    int bs = eo.batch_size;

    Method *methods = g_new0(Method, n_methods);
    guint opened = 0;
    gboolean ok = FALSE;
    g_autoptr(GArray) items = NULL;
    g_autoptr(PvxTensor) x = NULL;
    g_autofree int64_t *labels = NULL;
    char **ids = NULL;
    int64_t N = 0, chw[3], item;
    for (; opened < n_methods; opened++) {
        const PvxParams *mp = NULL;
        const PvxPlugin *pl = pvx_config_plugin(cfg, "explain.methods", opened, &mp);
        methods[opened].ex = pvx_explainer_open(pl, mp, error);
        if (!methods[opened].ex)
            goto out;
        methods[opened].name = g_strdup(pl->desc->name);
        methods[opened].maps = g_new0(PvxTensor *, n_crs);
    }
    items = pvx_explain_select_items(run, ds, model, crs, n_crs, error);
    if (!items)
        goto out;
    if (items->len == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND, "explain: no image was selected");
        goto out;
    }
    N = items->len;
    pvx_dataset_item_shape(ds, chw);
    item = chw[0] * chw[1] * chw[2];
    x = pvx_tensor_new_shape(4, N, chw[0], chw[1], chw[2]);
    labels = g_new(int64_t, N);
    ids = g_new0(char *, N + 1);
    for (int64_t i = 0; i < N; i++) {
        PvxDatasetItem it = {0};
        if (!pvx_dataset_get_item(ds, split, g_array_index(items, int64_t, i), &it, error))
            goto out;
        memcpy(x->data + i * item, it.image->data, sizeof(float) * item);
        labels[i] = it.label;
        ids[i] = it.id ? g_strdup(it.id)
                       : g_strdup_printf("%s-%06" G_GINT64_FORMAT, pvx_split_name(split),
                                         g_array_index(items, int64_t, i));
        pvx_dataset_item_clear(&it);
    }
    eo.labels = labels;
    if (!pvx_run_stage_begin(run, STAGE, error))
        goto out;
    PvxStore *store = pvx_run_store(run);
    if (!pvx_store_write_strings(store, pvx_layout_explain_ids(), (const char *const *)ids,
                                 error) ||
        !pvx_store_write_i64(store, pvx_layout_explain_index(), 1, &N,
                             (const int64_t *)(void *)items->data, error))
        goto out;
    for (int c = 0; c < n_crs; c++) {
        if (!load_cr(model, store, crs[c], error))
            goto out;
        for (guint mi = 0; mi < n_methods; mi++) {
            gint64 t0 = g_get_monotonic_time();
            g_autofree int64_t *targets = g_new(int64_t, N);
            for (int64_t b0 = 0; b0 < N; b0 += bs) {
                int64_t nb = MIN((int64_t)bs, N - b0);
                g_autoptr(PvxTensor) xb = pvx_tensor_narrow0(x, b0, nb);
                PvxExplainOptions o = eo;
                o.labels = labels + b0;
                g_autofree int64_t *tb = NULL;
                g_autoptr(PvxTensor) maps =
                    pvx_explain(methods[mi].ex, model, xb, &o, NULL, &tb, error);
                if (!maps) {
                    g_prefix_error(error, "explain CR %d: ", crs[c]);
                    goto out;
                }
                if (!methods[mi].maps[c])
                    methods[mi].maps[c] =
                        pvx_tensor_new_shape(3, N, maps->shape[1], maps->shape[2]);
                int64_t per = maps->shape[1] * maps->shape[2];
                memcpy(methods[mi].maps[c]->data + b0 * per, maps->data, sizeof(float) * nb * per);
                memcpy(targets + b0, tb, sizeof(int64_t) * nb);
            }
            g_autofree char *raw = pvx_layout_maps_raw(methods[mi].name, crs[c]);
            g_autofree char *tp = pvx_layout_maps_target(methods[mi].name, crs[c]);
            g_autofree char *ip = pvx_layout_maps_ids(methods[mi].name, crs[c]);
            const char *layer = (pvx_explainer_flags(methods[mi].ex) & PVX_EXPLAINER_LAYER)
                                    ? (eo.layer ? eo.layer : pvx_model_target_layer(model))
                                    : "input";
            if (!pvx_store_write_tensor(store, raw, methods[mi].maps[c], error) ||
                !pvx_store_write_i64(store, tp, 1, &N, targets, error) ||
                !pvx_store_write_strings(store, ip, (const char *const *)ids, error) ||
                !pvx_store_set_attr_string(store, raw, "layer", layer, error) ||
                !pvx_store_set_attr_string(store, raw, "target", by_label ? "label" : "predicted",
                                           error))
                goto out;
            g_message("explain: %s, CR %d: %" G_GINT64_FORMAT " images in %.1f s", methods[mi].name,
                      crs[c], N, (g_get_monotonic_time() - t0) / 1e6);
        }
    }
    if (pvx_params_get_bool(p, "pngs") &&
        !write_pictures(run, ds, split, items, ids, methods, (int)n_methods, crs, n_crs, p, error))
        goto out;
    ok = pvx_run_stage_end(run, error);
out:
    if (!ok && pvx_store_in_transaction(pvx_run_store(run)))
        pvx_store_abort(pvx_run_store(run));
    for (guint i = 0; i < opened; i++)
        method_free(&methods[i], n_crs);
    g_free(methods);
    g_strfreev(ids);
    return ok;
}
