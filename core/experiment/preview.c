/* pvx — the dataset preview: a grid of samples per class, masks outlined. */
#include "pvx-private/core.h"
#include "pvx-private/render.h"

/* Tiles are enlarged (small images) or shrunk (large ones) to about this many pixels. */
#define PREVIEW_TILE_MIN 64
#define PREVIEW_TILE_MAX 160
#define PREVIEW_TILE_SHRINK 128

/* Two-tone outline (white ring, black ring inside it) stays visible on objects of any colour. */
static const uint8_t outline_outer[3] = {255, 255, 255};
static const uint8_t outline_inner[3] = {0, 0, 0};

/* The picture of an item at preview size, with its ground-truth mask outlined. */
static PvxImage *item_tile(const PvxDatasetItem *item)
{
    g_autoptr(PvxImage) base =
        item->raw ? pvx_image_copy(item->raw) : pvx_image_from_tensor(item->image, NULL, NULL);
    int side = MAX(base->width, base->height);
    PvxImage *tile;
    int outline = 1;
    if (side < PREVIEW_TILE_MIN) {
        int factor = (PREVIEW_TILE_MIN + side - 1) / side;
        tile = pvx_image_scale_nearest(base, factor);
        outline = MAX(1, factor / 2);
    } else if (side > PREVIEW_TILE_MAX) {
        double s = (double)PREVIEW_TILE_SHRINK / side;
        tile = pvx_image_resize(base, MAX(1, (int)(base->width * s + 0.5)),
                                MAX(1, (int)(base->height * s + 0.5)));
    } else {
        tile = g_steal_pointer(&base);
    }
    if (item->mask) {
        if (tile->channels == 1) {
            /* The outline is coloured: give gray images colour channels first. */
            PvxImage *rgb = pvx_image_convert(tile, 3);
            pvx_image_free(tile);
            tile = rgb;
        }
        pvx_image_outline_mask(tile, item->mask, outline_inner, outline + 1);
        pvx_image_outline_mask(tile, item->mask, outline_outer, outline);
    }
    return tile;
}

gboolean pvx_preview_write(const PvxDataset *ds, PvxSplit split, int per_class, const char *path,
                           GError **error)
{
    g_return_val_if_fail(per_class >= 1, FALSE);
    int n_classes = pvx_dataset_num_classes(ds);
    int64_t n = pvx_dataset_split_size(ds, split);
    if (n <= 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "dataset %s has no '%s' split",
                    pvx_dataset_name(ds), pvx_split_name(split));
        return FALSE;
    }
    /* The first per_class items of each class in split order: deterministic and cheap. */
    g_autofree int64_t *chosen = g_new(int64_t, (gsize)n_classes * per_class);
    g_autofree int *count = g_new0(int, n_classes);
    int filled = 0;
    for (int64_t i = 0; i < n && filled < n_classes; i++) {
        int label = pvx_dataset_get_label(ds, split, i, error);
        if (label < 0)
            return FALSE;
        if (count[label] < per_class) {
            chosen[(gsize)label * per_class + count[label]] = i;
            if (++count[label] == per_class)
                filled++;
        }
    }
    gsize n_tiles = (gsize)n_classes * per_class;
    g_autoptr(GPtrArray) tiles = g_ptr_array_new_full(n_tiles, (GDestroyNotify)pvx_image_free);
    gboolean any = FALSE;
    for (int c = 0; c < n_classes; c++) {
        for (int k = 0; k < per_class; k++) {
            PvxImage *tile = NULL;
            if (k < count[c]) {
                PvxDatasetItem item = {0};
                if (!pvx_dataset_get_item(ds, split, chosen[(gsize)c * per_class + k], &item,
                                          error))
                    return FALSE;
                tile = item_tile(&item);
                pvx_dataset_item_clear(&item);
                any = TRUE;
            }
            g_ptr_array_add(tiles, tile);
        }
    }
    if (!any) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "dataset %s: the '%s' split has no items to show", pvx_dataset_name(ds),
                    pvx_split_name(split));
        return FALSE;
    }
    g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func(g_free);
    for (int c = 0; c < n_classes; c++)
        g_ptr_array_add(labels, g_strdup_printf("%d %s", c, pvx_dataset_class_name(ds, c)));
    g_autofree char *title = g_strdup_printf(
        "%s - %s split, first %d per class%s", pvx_dataset_name(ds), pvx_split_name(split),
        per_class, pvx_dataset_has_masks(ds) ? " - ground truth outlined" : "");
    PvxGridOptions opts = {
        .title = title,
        .row_labels = (const char *const *)labels->pdata,
        .margin = 6,
        .text_scale = 2,
    };
    g_autoptr(PvxImage) grid =
        pvx_render_grid((PvxImage *const *)tiles->pdata, n_classes, per_class, &opts, error);
    if (!grid)
        return FALSE;
    return pvx_image_save_png(grid, path, error);
}
