/* A plugin built against the frozen ABI 1.0 headers (abi-1.0/, commit a057819), as a plugin
 * compiled before ABI 1.1 is: its descriptor has no param_spec_size (0), its tables declare open
 * and close, and the pruner still has the 1.0 `scope` slot. Compiled twice: -DKIND_DATASET and
 * -DKIND_PRUNER. test_registry.c loads both into the current core and uses them. */
#include <math.h>

#include "pvx/plugin.h"
#ifdef KIND_DATASET
#include "pvx/dataset.h"
#else
#include "pvx/pruner.h"
#endif

#if PVX_ABI_MAJOR != 1 || PVX_ABI_MINOR != 0
#error "test_plugin_1_0.c must be built against the frozen 1.0 headers"
#endif

/* How many times close ran, for the test (looked up with g_module_symbol). */
G_MODULE_EXPORT int pvx_test_closed;
int pvx_test_closed = 0;

typedef struct {
    int64_t value; /* the "classes" (dataset) or "offset" (pruner) parameter */
} State;

static gpointer old_open(const PvxParams *params, GError **error)
{
    (void)error;
    State *s = g_new0(State, 1);
#ifdef KIND_DATASET
    s->value = pvx_params_get_int(params, "classes");
#else
    s->value = pvx_params_get_int(params, "offset");
#endif
    return s;
}

static void old_close(gpointer self)
{
    pvx_test_closed++;
    g_free(self);
}

#ifdef KIND_DATASET
static int old_num_classes(gpointer self)
{
    return (int)((State *)self)->value;
}

static const char *old_class_name(gpointer self, int index)
{
    (void)self;
    return index == 0 ? "first" : "later";
}

static int64_t old_split_size(gpointer self, PvxSplit split)
{
    (void)self;
    return split == PVX_SPLIT_TEST ? 6 : -1;
}

static void old_item_shape(gpointer self, int64_t chw[3])
{
    (void)self;
    chw[0] = 1, chw[1] = 1, chw[2] = 3;
}

static gboolean old_has_masks(gpointer self)
{
    (void)self;
    return FALSE;
}

static gboolean old_get_item(gpointer self, PvxSplit split, int64_t index, PvxDatasetItem *item,
                             GError **error)
{
    (void)split, (void)error;
    item->image = pvx_tensor_new_shape(3, (int64_t)1, (int64_t)1, (int64_t)3);
    pvx_tensor_fill(item->image, (float)index / 2);
    item->label = (int)(index % ((State *)self)->value);
    return TRUE;
}

static const PvxParamSpec params[] = {
    {"classes", PVX_PARAM_INT, "3", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 10, NULL,
     "number of classes"},
    {"label", PVX_PARAM_STRING, "\"old\"", 0, 0, 0, NULL, "a second entry, read at the 1.0 stride"},
    PVX_PARAM_SPEC_END,
};

static const PvxDatasetClass klass = {
    .size = sizeof(PvxDatasetClass),
    .open = old_open,
    .close = old_close,
    .num_classes = old_num_classes,
    .class_name = old_class_name,
    .split_size = old_split_size,
    .item_shape = old_item_shape,
    .has_masks = old_has_masks,
    .get_item = old_get_item,
};

PVX_PLUGIN_DEFINE(PVX_KIND_DATASET, "old-dataset", "1.0.0", "a dataset built against ABI 1.0",
                  params, &klass)
#else
/* score = |w| + offset · (the layer's index): with offset > 0, later layers rank higher. */
static gboolean old_score(gpointer self, const PvxPruneContext *ctx, PvxTensor **scores,
                          GError **error)
{
    (void)error;
    const State *s = self;
    for (int l = 0; l < ctx->n_layers; l++) {
        const PvxTensor *w = ctx->layers[l]->weight;
        for (int64_t i = 0; i < w->shape[0] * w->shape[1]; i++)
            scores[l]->data[i] = fabsf(w->data[i]) + (float)(s->value * l);
    }
    return TRUE;
}

/* The 1.0 slot: asks for a global ranking. A 1.1 core reads it only to reconcile it with the
 * config's prune.scope before a run (tests/prune: followed when prune.scope is not set, refused
 * when it disagrees); pvx_prune_step ranks as it is told. */
static PvxPruneScope old_scope(gpointer self)
{
    (void)self;
    return PVX_PRUNE_SCOPE_GLOBAL;
}

static const char *const scopes[] = {"local", "global", NULL};

static const PvxParamSpec params[] = {
    {"offset", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL, "added per layer index"},
    {"scope", PVX_PARAM_CHOICE, "global", 0, 0, 0, scopes, "the 1.0 way to ask for a ranking"},
    PVX_PARAM_SPEC_END,
};

static const PvxPrunerClass klass = {
    .size = sizeof(PvxPrunerClass),
    .open = old_open,
    .close = old_close,
    .score = old_score,
    .scope = old_scope,
};

PVX_PLUGIN_DEFINE(PVX_KIND_PRUNER, "old-pruner", "1.0.0", "a pruner built against ABI 1.0", params,
                  &klass)
#endif
