/* pvx dataset plugin "kandinsky": synthetic pictures with a known relevant region, after the
 * Kandinsky patterns the pruning/explainability paper points to for ground truth.
 *
 * Each size×size RGB picture shows `objects` coloured shapes on a grey, noisy background. The
 * class is decided by exactly one object, whose (shape, colour) is a class combination; every
 * other object is a distractor whose combination is never one (see kandinsky_scene.h for how the
 * class list is derived). The item's mask is the deciding object's pixels, so an explanation map
 * can be scored against ground truth. Items are generated on the fly and depend only on
 * (seed, split, index), so get_item is thread-safe and independent of access order.
 *
 * Normalisation: (value/255 - 0.5) / 0.5 per channel, mapping [0, 255] to [-1, 1]. The
 * background sits at 0.5 and the palette spreads around it, so measured statistics would depend
 * on the scene parameters; a fixed, documented choice keeps trained models reusable across them.
 */
#include <string.h>

#include <pvx/pvx.h>

#include "kandinsky_scene.h"

#define KD_MEAN 0.5f
#define KD_STD 0.5f

typedef struct {
    KdConfig cfg;
    int64_t split_size[PVX_SPLIT_COUNT];
    char **class_names; /* n_classes, NULL-terminated */
} KdDataset;

static void kd_close(gpointer self)
{
    KdDataset *ds = self;
    if (!ds)
        return;
    g_strfreev(ds->class_names);
    g_free(ds);
}

static gpointer kd_open(const PvxParams *params, GError **error)
{
    KdDataset *ds = g_new0(KdDataset, 1);
    KdConfig *cfg = &ds->cfg;
    cfg->seed = (uint64_t)pvx_params_get_int(params, "seed");
    cfg->size = (int)pvx_params_get_int(params, "size");
    cfg->n_classes = (int)pvx_params_get_int(params, "classes");
    cfg->n_objects = (int)pvx_params_get_int(params, "objects");
    cfg->noise = pvx_params_get_double(params, "noise");
    cfg->min_size = pvx_params_get_double(params, "min_size");
    cfg->max_size = pvx_params_get_double(params, "max_size");
    cfg->antialias = pvx_params_get_bool(params, "antialias");

    /* The spec table bounds each value; what it cannot say is how they relate. */
    if (cfg->min_size > cfg->max_size) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                    "%s: min_size %g is above max_size %g (%s)",
                    pvx_params_where(params, "min_size"), cfg->min_size, cfg->max_size,
                    pvx_params_where(params, "max_size"));
        kd_close(ds);
        return NULL;
    }
    if (cfg->min_size * cfg->size < 4.0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                    "%s: min_size %g of a %d-pixel image is %.1f pixels; shapes need at least 4 "
                    "to be told apart",
                    pvx_params_where(params, "min_size"), cfg->min_size, cfg->size,
                    cfg->min_size * cfg->size);
        kd_close(ds);
        return NULL;
    }

    static const char *const size_keys[PVX_SPLIT_COUNT] = {"train_size", "val_size", "test_size"};
    for (int s = 0; s < PVX_SPLIT_COUNT; s++) {
        int64_t n = pvx_params_get_int(params, size_keys[s]);
        ds->split_size[s] = n > 0 ? n : -1; /* a size of 0 means the split does not exist */
    }

    ds->class_names = g_new0(char *, cfg->n_classes + 1);
    for (int c = 0; c < cfg->n_classes; c++)
        ds->class_names[c] = kd_class_name(c);
    g_debug("%d classes from '%s' to '%s', %d objects, %d×%d", cfg->n_classes, ds->class_names[0],
            ds->class_names[cfg->n_classes - 1], cfg->n_objects, cfg->size, cfg->size);
    return ds;
}

static int kd_num_classes(gpointer self)
{
    return ((KdDataset *)self)->cfg.n_classes;
}

static const char *kd_class_name_of(gpointer self, int index)
{
    KdDataset *ds = self;
    g_return_val_if_fail(index >= 0 && index < ds->cfg.n_classes, NULL);
    return ds->class_names[index];
}

static int64_t kd_split_size(gpointer self, PvxSplit split)
{
    KdDataset *ds = self;
    if ((int)split < 0 || (int)split >= PVX_SPLIT_COUNT)
        return -1;
    return ds->split_size[split];
}

static void kd_item_shape(gpointer self, int64_t chw[3])
{
    KdDataset *ds = self;
    chw[0] = 3;
    chw[1] = ds->cfg.size;
    chw[2] = ds->cfg.size;
}

static gboolean kd_has_masks(gpointer self)
{
    (void)self;
    return TRUE;
}

/* Labels cycle through the classes (index % classes), so every split is exactly balanced and
 * the label is known without drawing the scene. */
static int kd_item_label(gpointer self, PvxSplit split, int64_t index)
{
    KdDataset *ds = self;
    if (index < 0 || index >= kd_split_size(ds, split))
        return -1;
    return (int)(index % ds->cfg.n_classes);
}

static gboolean kd_get_item(gpointer self, PvxSplit split, int64_t index, PvxDatasetItem *item,
                            GError **error)
{
    KdDataset *ds = self;
    if (index < 0 || index >= kd_split_size(ds, split)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "no item %" G_GINT64_FORMAT " in split %s", index, pvx_split_name(split));
        return FALSE;
    }
    int n = ds->cfg.size;
    size_t npix = (size_t)n * n;

    KdScene scene;
    kd_scene_generate(&ds->cfg, (int)split, index, &scene);
    PvxImage *raw = pvx_image_new(n, n, 3);
    PvxTensor *mask = pvx_tensor_new_shape(2, (int64_t)n, (int64_t)n);
    kd_scene_render(&ds->cfg, &scene, (int)split, index, raw->data, mask->data);

    /* Interleaved bytes to planar C×H×W, from the quantised picture so tensor and raw agree. */
    PvxTensor *image = pvx_tensor_new_shape(3, (int64_t)3, (int64_t)n, (int64_t)n);
    for (size_t p = 0; p < npix; p++)
        for (int c = 0; c < 3; c++)
            image->data[c * npix + p] = ((float)raw->data[p * 3 + c] / 255.0f - KD_MEAN) / KD_STD;

    item->image = image;
    item->mask = mask;
    item->raw = raw;
    item->label = scene.label;
    item->id = g_strdup_printf("%s-%06" G_GINT64_FORMAT, pvx_split_name(split), index);
    return TRUE;
}

static const PvxParamSpec kd_params[] = {
    {"seed", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "items are a pure function of (seed, split, index)"},
    {"size", PVX_PARAM_INT, "64", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 16, 1024, NULL,
     "image side in pixels"},
    {"classes", PVX_PARAM_INT, "4", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 2, KD_MAX_CLASSES, NULL,
     "number of (shape, colour) classes: red circle, green square, blue triangle, ..."},
    {"objects", PVX_PARAM_INT, "4", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, KD_MAX_OBJECTS, NULL,
     "objects per image: the deciding one plus distractors"},
    {"noise", PVX_PARAM_DOUBLE, "0.1", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 1, NULL,
     "std of Gaussian pixel noise, in [0, 1] intensity units"},
    {"min_size", PVX_PARAM_DOUBLE, "0.15", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0.01, 1, NULL,
     "smallest object diameter, as a fraction of the image side"},
    {"max_size", PVX_PARAM_DOUBLE, "0.3", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0.01, 1, NULL,
     "largest object diameter, as a fraction of the image side"},
    {"antialias", PVX_PARAM_BOOL, "true", 0, 0, 0, NULL,
     "draw edges with 4×4 supersampling (false: crisp, one sample per pixel)"},
    {"train_size", PVX_PARAM_INT, "5000", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "train items (0 = no split)"},
    {"val_size", PVX_PARAM_INT, "1000", PVX_PARAM_HAS_MIN, 0, 0, NULL, "val items (0 = no split)"},
    {"test_size", PVX_PARAM_INT, "1000", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "test items (0 = no split)"},
    PVX_PARAM_SPEC_END,
};

static const PvxDatasetClass kd_class = {
    .size = sizeof(PvxDatasetClass),
    .open = kd_open,
    .close = kd_close,
    .num_classes = kd_num_classes,
    .class_name = kd_class_name_of,
    .split_size = kd_split_size,
    .item_shape = kd_item_shape,
    .has_masks = kd_has_masks,
    .get_item = kd_get_item,
    .item_label = kd_item_label,
};

PVX_PLUGIN_DEFINE(PVX_KIND_DATASET, "kandinsky", "1.0.0",
                  "synthetic shapes whose one deciding object is the ground-truth mask", kd_params,
                  &kd_class)
