/* pvx pruner "magnitude": unstructured, by absolute value — torch.nn.utils.prune's
 * l1_unstructured (prune.scope local) and global_unstructured with L1Unstructured (prune.scope
 * global). No parameters and no state: the score is |w|. */
#include <math.h>

#include <pvx/pvx.h>

static gboolean mag_score(gpointer self, const PvxPruneContext *ctx, PvxTensor **scores,
                          GError **error)
{
    (void)self;
    (void)error;
    for (int l = 0; l < ctx->n_layers; l++) {
        const PvxTensor *w = ctx->layers[l]->weight;
        int64_t n = pvx_tensor_numel(w);
        for (int64_t i = 0; i < n; i++)
            scores[l]->data[i] = fabsf(w->data[i]);
    }
    return TRUE;
}

static const PvxPrunerClass klass = {
    .size = sizeof(PvxPrunerClass),
    .score = mag_score,
};

PVX_PLUGIN_DEFINE(PVX_KIND_PRUNER, "magnitude", "1.1.0",
                  "unstructured magnitude pruning: the smallest |w| go first (ranked per layer or "
                  "globally, as prune.scope says)",
                  NULL, &klass)
