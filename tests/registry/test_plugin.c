/* A test-only dataset plugin, compiled several times with different defines to produce one good
 * plugin, a stateless one, one of each kind of broken plugin the loader must refuse and the
 * misbehaving opens pvx_plugin_open_instance must turn into errors. */
#include <pvx/pvx.h>

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "testds"
#endif

/* How many times close ran, for the test (looked up with g_module_symbol). */
G_MODULE_EXPORT int pvx_test_closed;
int pvx_test_closed = 0;

G_GNUC_UNUSED static gpointer ds_open(const PvxParams *params, GError **error)
{
    gpointer state = GINT_TO_POINTER((int)pvx_params_get_int(params, "classes"));
#if defined(OPEN_SILENT_FAILURE)
    /* A bug: failure without saying why. */
    (void)state, (void)error;
    return NULL;
#elif defined(OPEN_STATE_AND_ERROR)
    /* A bug: an error, and state all the same. */
    g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE, "%s: not today",
                pvx_params_where(params, "classes"));
    return state;
#else
    (void)error;
    return state;
#endif
}

G_GNUC_UNUSED static void ds_close(gpointer self)
{
    (void)self;
    pvx_test_closed++;
}

/* Stateless builds get self = NULL: two classes. */
static int ds_num_classes(gpointer self)
{
    return self ? GPOINTER_TO_INT(self) : 2;
}

static const char *ds_class_name(gpointer self, int index)
{
    (void)self;
    return index == 0 ? "zero" : "other";
}

static int64_t ds_split_size(gpointer self, PvxSplit split)
{
    (void)self;
    return split == PVX_SPLIT_VAL ? -1 : 4;
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

G_GNUC_UNUSED static gboolean ds_get_item(gpointer self, PvxSplit split, int64_t index,
                                          PvxDatasetItem *item, GError **error)
{
    (void)split, (void)error;
    item->image = pvx_tensor_new_shape(3, (int64_t)1, (int64_t)2, (int64_t)2);
    pvx_tensor_fill(item->image, (float)index);
    item->label = (int)(index % ds_num_classes(self));
    return TRUE;
}

#if defined(WIDE_SPECS) || defined(NARROW_SPECS)
/* A spec struct as a later ABI might declare it (larger), or a corrupt size (too small): the core
 * must read the table with the descriptor's param_spec_size as stride. */
typedef struct {
    PvxParamSpec base;
    double future[3]; /* fields this core does not know */
} WideSpec;

static const char *const modes[] = {"a", "b", NULL};
static const WideSpec params[] = {
    {{"classes", PVX_PARAM_INT, "3", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 10, NULL,
      "number of classes"},
     {1, 2, 3}},
    {{"mode", PVX_PARAM_CHOICE, "b", 0, 0, 0, modes, "a second entry, one stride further"},
     {4, 5, 6}},
    {PVX_PARAM_SPEC_END, {0, 0, 0}},
};
#else
static const PvxParamSpec params[] = {
    {"classes", PVX_PARAM_INT, "2", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 10, NULL,
     "number of classes"},
#ifdef BROKEN_PARAMS
    /* A choice parameter without choices: the loader must refuse the schema. */
    {"mode", PVX_PARAM_CHOICE, "a", 0, 0, 0, NULL, "a broken choice"},
#endif
    PVX_PARAM_SPEC_END,
};
#endif

static const PvxDatasetClass klass = {
#if defined(SHORT_TABLE)
    .size = offsetof(PvxDatasetClass, split_size),
#elif defined(MIN_TABLE)
    /* Exactly up to the last required slot, as a plugin from before item_label was. */
    .size = PVX_DATASET_CLASS_MIN_SIZE,
#else
    .size = sizeof(PvxDatasetClass),
#endif
#if !defined(STATELESS) && !defined(CLOSE_WITHOUT_OPEN)
    .open = ds_open,
#endif
#if !defined(STATELESS) && !defined(OPEN_WITHOUT_CLOSE)
    .close = ds_close,
#endif
    .num_classes = ds_num_classes,
    .class_name = ds_class_name,
    .split_size = ds_split_size,
    .item_shape = ds_item_shape,
    .has_masks = ds_has_masks,
#ifndef MISSING_SLOT
    .get_item = ds_get_item,
#endif
};

#if defined(NOT_PVX)
/* Exports a function, but no descriptor. */
G_MODULE_EXPORT int not_a_descriptor(void);
G_MODULE_EXPORT int not_a_descriptor(void)
{
    return (int)(GPOINTER_TO_SIZE(&klass) & 1) + (int)G_N_ELEMENTS(params);
}
#elif defined(ABI_MAJOR) || defined(ABI_MINOR) || defined(NULL_NAME) || defined(WIDE_SPECS) ||     \
    defined(NARROW_SPECS) || defined(HUGE_SPECS) || defined(ABI10_JUNK)
/* Hand-written descriptor, as a plugin built against another pvx would carry. */
G_MODULE_EXPORT const PvxPluginDescriptor *pvx_plugin_descriptor(void);
G_MODULE_EXPORT const PvxPluginDescriptor *pvx_plugin_descriptor(void)
{
    static const PvxPluginDescriptor desc = {
        .magic = PVX_PLUGIN_MAGIC,
#ifdef ABI_MAJOR
        .abi_major = PVX_ABI_MAJOR + 1,
#else
        .abi_major = PVX_ABI_MAJOR,
#endif
#ifdef ABI_MINOR
        .abi_minor = PVX_ABI_MINOR + 1,
#elif defined(ABI10_JUNK)
        .abi_minor = 0,
#else
        .abi_minor = PVX_ABI_MINOR,
#endif
        .size = sizeof(PvxPluginDescriptor),
        .kind = PVX_KIND_DATASET,
#ifdef NULL_NAME
        .name = NULL,
#else
        .name = PLUGIN_NAME,
#endif
        .version = "1.0.0",
        .description = "test plugin",
        .params = (const PvxParamSpec *)params,
        .klass = &klass,
#if defined(WIDE_SPECS)
        .param_spec_size = sizeof(WideSpec),
#elif defined(NARROW_SPECS)
        .param_spec_size = offsetof(PvxParamSpec, doc),
#elif defined(HUGE_SPECS)
        .param_spec_size = 1u << 20, /* a corrupt size: stepping by it leaves the table */
#elif defined(ABI10_JUNK)
        .param_spec_size = 12345, /* 1.0's reserved room held anything: not a stride */
#else
        .param_spec_size = sizeof(PvxParamSpec),
#endif
    };
    return &desc;
}
#else
PVX_PLUGIN_DEFINE(PVX_KIND_DATASET, PLUGIN_NAME, "1.2.3", "A tiny dataset for loader tests", params,
                  &klass)
#endif
