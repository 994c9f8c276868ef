/* pvx pruner "random": unstructured, seeded — the baseline every pruning paper needs. Each
 * weight gets a uniform score from the step's seed and its position, so the same seed prunes the
 * same weights whatever the thread count; pruned weights stay pruned, as with every pruner. */
#include <pvx/pvx.h>

static const PvxParamSpec random_params[] = {
    {"seed", PVX_PARAM_INT, NULL, PVX_PARAM_NULLABLE | PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "extra seed mixed into the run's (null: the run's seed alone)"},
    PVX_PARAM_SPEC_END,
};

typedef struct {
    guint64 seed;
} Random;

static gpointer rnd_open(const PvxParams *params, GError **error)
{
    (void)error;
    Random *r = g_new0(Random, 1);
    r->seed = pvx_params_is_set(params, "seed") ? (guint64)pvx_params_get_int(params, "seed") : 0;
    return r;
}

static void rnd_close(gpointer self)
{
    g_free(self);
}

static gboolean rnd_score(gpointer self, const PvxPruneContext *ctx, PvxTensor **scores,
                          GError **error)
{
    (void)error;
    const Random *r = self;
    guint64 seed = pvx_hash64(ctx->seed, r->seed, 0x72616e646f6dULL);
    for (int l = 0; l < ctx->n_layers; l++) {
        int64_t n = pvx_tensor_numel(scores[l]);
        for (int64_t i = 0; i < n; i++)
            /* 24 random bits: exactly representable in float32. */
            scores[l]->data[i] =
                (float)(pvx_hash64(seed, (guint64)l, (guint64)i) >> 40) / 16777216.0f;
    }
    return TRUE;
}

static const PvxPrunerClass klass = {
    .size = sizeof(PvxPrunerClass),
    .open = rnd_open,
    .close = rnd_close,
    .score = rnd_score,
};

PVX_PLUGIN_DEFINE(PVX_KIND_PRUNER, "random", "1.1.0",
                  "unstructured random pruning (seeded): the baseline", random_params, &klass)
