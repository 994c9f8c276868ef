/* pvx — dataset items. */
#include <stddef.h>
#include <string.h>

#include "pvx-private/dataset_handle.h"
#include "pvx/error.h"

void pvx_dataset_item_clear(PvxDatasetItem *item)
{
    if (!item)
        return;
    g_clear_pointer(&item->image, pvx_tensor_unref);
    g_clear_pointer(&item->mask, pvx_tensor_unref);
    g_clear_pointer(&item->raw, pvx_image_free);
    g_clear_pointer(&item->id, g_free);
    item->label = 0;
}

struct _PvxDataset {
    const PvxPlugin *plugin;
    const PvxDatasetClass *klass;
    gpointer self;
};

PvxDataset *pvx_dataset_open(const PvxPlugin *plugin, const PvxParams *params, GError **error)
{
    const PvxDatasetClass *klass = pvx_plugin_klass(plugin, PVX_KIND_DATASET);
    if (!klass) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "plugin '%s' is a %s, not a dataset", plugin->desc->name,
                    pvx_plugin_kind_name(plugin->desc->kind));
        return NULL;
    }
    gpointer self = NULL;
    if (!pvx_plugin_open_instance(plugin, params, &self, error))
        return NULL;
    PvxDataset *ds = g_new0(PvxDataset, 1);
    ds->plugin = plugin;
    ds->klass = klass;
    ds->self = self;
    return ds;
}

void pvx_dataset_close(PvxDataset *ds)
{
    if (!ds)
        return;
    pvx_plugin_close_instance(ds->plugin, ds->self);
    g_free(ds);
}

const char *pvx_dataset_name(const PvxDataset *ds)
{
    return ds->plugin->desc->name;
}

const PvxPlugin *pvx_dataset_plugin(const PvxDataset *ds)
{
    return ds->plugin;
}

int pvx_dataset_num_classes(const PvxDataset *ds)
{
    return ds->klass->num_classes(ds->self);
}

const char *pvx_dataset_class_name(const PvxDataset *ds, int index)
{
    g_return_val_if_fail(index >= 0 && index < pvx_dataset_num_classes(ds), NULL);
    return ds->klass->class_name(ds->self, index);
}

int64_t pvx_dataset_split_size(const PvxDataset *ds, PvxSplit split)
{
    return ds->klass->split_size(ds->self, split);
}

void pvx_dataset_item_shape(const PvxDataset *ds, int64_t chw[3])
{
    ds->klass->item_shape(ds->self, chw);
}

gboolean pvx_dataset_has_masks(const PvxDataset *ds)
{
    return ds->klass->has_masks(ds->self);
}

gboolean pvx_dataset_get_item(const PvxDataset *ds, PvxSplit split, int64_t index,
                              PvxDatasetItem *item, GError **error)
{
    const char *name = pvx_dataset_name(ds);
    int64_t n = pvx_dataset_split_size(ds, split);
    if (index < 0 || index >= n) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "dataset %s: item %" G_GINT64_FORMAT
                    " is outside the %s split (%" G_GINT64_FORMAT " items)",
                    name, (gint64)index, pvx_split_name(split), (gint64)MAX(n, 0));
        return FALSE;
    }
    memset(item, 0, sizeof *item);
    g_autoptr(GError) local = NULL;
    if (!ds->klass->get_item(ds->self, split, index, item, &local)) {
        pvx_dataset_item_clear(item);
        if (local)
            g_propagate_prefixed_error(error, g_steal_pointer(&local), "dataset %s: ", name);
        else
            g_set_error(error, PVX_ERROR, PVX_ERROR_FAILED,
                        "dataset %s: item %s/%" G_GINT64_FORMAT " failed without saying why", name,
                        pvx_split_name(split), (gint64)index);
        return FALSE;
    }
    int64_t chw[3];
    pvx_dataset_item_shape(ds, chw);
    const char *problem = NULL;
    if (!item->image || item->image->ndim != 3 || item->image->shape[0] != chw[0] ||
        item->image->shape[1] != chw[1] || item->image->shape[2] != chw[2])
        problem = "an image of the wrong shape";
    else if (item->label < 0 || item->label >= pvx_dataset_num_classes(ds))
        problem = "a label outside the class range";
    else if (item->mask && (item->mask->ndim != 2 || item->mask->shape[0] != chw[1] ||
                            item->mask->shape[1] != chw[2]))
        problem = "a mask of the wrong shape";
    else if (item->raw && (item->raw->width != chw[2] || item->raw->height != chw[1]))
        problem = "a raw image of the wrong size";
    if (problem) {
        g_autofree char *want = pvx_shape_string(3, chw);
        g_autofree char *got =
            item->image ? pvx_tensor_shape_string(item->image) : g_strdup("none");
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                    "dataset %s: item %s/%" G_GINT64_FORMAT " has %s (image %s, expected %s; "
                    "label %d of %d classes)",
                    name, pvx_split_name(split), (gint64)index, problem, got, want, item->label,
                    pvx_dataset_num_classes(ds));
        pvx_dataset_item_clear(item);
        return FALSE;
    }
    if (!item->id)
        item->id = g_strdup_printf("%s-%06" G_GINT64_FORMAT, pvx_split_name(split), (gint64)index);
    return TRUE;
}

int pvx_dataset_get_label(const PvxDataset *ds, PvxSplit split, int64_t index, GError **error)
{
    /* The slot exists only in tables large enough to hold it (older plugins lack it). */
    if (ds->klass->size >= offsetof(PvxDatasetClass, item_label) + sizeof(void *) &&
        ds->klass->item_label && index >= 0 && index < pvx_dataset_split_size(ds, split)) {
        int label = ds->klass->item_label(ds->self, split, index);
        if (label >= 0 && label < pvx_dataset_num_classes(ds))
            return label;
    }
    PvxDatasetItem item = {0};
    if (!pvx_dataset_get_item(ds, split, index, &item, error))
        return -1;
    int label = item.label;
    pvx_dataset_item_clear(&item);
    return label;
}
