/* A test-only dataset plugin ("cfgds") declaring a parameter of every type, so the config tests
 * can validate a plugin section. Its functions are trivial but real: `limit` items per split,
 * `classes` classes, 1×2×2 images filled with the item index. */
#include <pvx/pvx.h>

static const char *const modes[] = {"fast", "exact", NULL};

static const PvxParamSpec params[] = {
    {"shuffle", PVX_PARAM_BOOL, "false", 0, 0, 0, NULL, "shuffle the items"},
    {"limit", PVX_PARAM_INT, "100", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 1000000, NULL,
     "items per split"},
    {"scale", PVX_PARAM_DOUBLE, "0.5", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 10, NULL,
     "pixel scale"},
    {"label", PVX_PARAM_STRING, "plain", 0, 0, 0, NULL, "a label"},
    {"mode", PVX_PARAM_CHOICE, "fast", 0, 0, 0, modes, "loading mode"},
    {"sizes", PVX_PARAM_INT_LIST, "[2, 4]", PVX_PARAM_HAS_MIN, 1, 0, NULL, "sizes"},
    {"weights", PVX_PARAM_DOUBLE_LIST, "[0.25, 1e-3]", PVX_PARAM_HAS_MAX, 0, 1, NULL, "weights"},
    {"tags", PVX_PARAM_STRING_LIST, "[a, b]", 0, 0, 0, NULL, "tags"},
    {"root", PVX_PARAM_PATH, "data", 0, 0, 0, NULL, "data folder"},
    {"cache", PVX_PARAM_PATH, NULL, PVX_PARAM_NULLABLE, 0, 0, NULL, "cache file, or null"},
    PVX_PARAM_SPEC_END,
};

typedef struct {
    int64_t limit;
} CfgDs;

static gpointer ds_open(const PvxParams *p, GError **error)
{
    (void)error;
    CfgDs *self = g_new0(CfgDs, 1);
    self->limit = pvx_params_get_int(p, "limit");
    return self;
}

static void ds_close(gpointer self)
{
    g_free(self);
}

static int ds_num_classes(gpointer self)
{
    (void)self;
    return 2;
}

static const char *ds_class_name(gpointer self, int index)
{
    (void)self;
    return index == 0 ? "even" : "odd";
}

static int64_t ds_split_size(gpointer self, PvxSplit split)
{
    (void)split;
    return ((CfgDs *)self)->limit;
}

static void ds_item_shape(gpointer self, int64_t chw[3])
{
    (void)self;
    chw[0] = 1, chw[1] = 2, chw[2] = 2;
}

static gboolean ds_has_masks(gpointer self)
{
    (void)self;
    return FALSE;
}

static gboolean ds_get_item(gpointer self, PvxSplit split, int64_t index, PvxDatasetItem *item,
                            GError **error)
{
    (void)self, (void)split, (void)error;
    item->image = pvx_tensor_new_shape(3, (int64_t)1, (int64_t)2, (int64_t)2);
    pvx_tensor_fill(item->image, (float)index);
    item->label = (int)(index % 2);
    item->id = g_strdup_printf("%s-%06" G_GINT64_FORMAT, pvx_split_name(split), index);
    return TRUE;
}

static const PvxDatasetClass klass = {
    .size = sizeof(PvxDatasetClass),
    .open = ds_open,
    .close = ds_close,
    .num_classes = ds_num_classes,
    .class_name = ds_class_name,
    .split_size = ds_split_size,
    .item_shape = ds_item_shape,
    .has_masks = ds_has_masks,
    .get_item = ds_get_item,
};

PVX_PLUGIN_DEFINE(PVX_KIND_DATASET, "cfgds", "1.0.0", "config test dataset", params, &klass)
