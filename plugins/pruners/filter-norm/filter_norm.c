/* pvx pruner "filter-norm": structured — whole conv filters by the Lp norm of their (masked)
 * weights, as torch.nn.utils.prune.ln_structured along dim 0 (Li et al. 2017 with L1). The core
 * prunes filters tied through the graph together (residual adds, depthwise convs, concats, SE
 * muls; a coupled channel scores the sum of its filters' norms) with the input channels of the
 * layers reading them, and `pvx prune export` writes the physically smaller model of any
 * architecture (docs/pruning.md). */
#include <math.h>

#include <pvx/pvx.h>

static const char *const norms[] = {"l1", "l2", NULL};

static const PvxParamSpec filter_norm_params[] = {
    {"norm", PVX_PARAM_CHOICE, "l1", 0, 0, 0, norms, "filter importance: L1 or L2 norm"},
    PVX_PARAM_SPEC_END,
};

static gpointer fn_open(const PvxParams *params, GError **error)
{
    (void)error;
    gboolean *l2 = g_new0(gboolean, 1);
    *l2 = g_strcmp0(pvx_params_get_string(params, "norm"), "l2") == 0;
    return l2;
}

static void fn_close(gpointer self)
{
    g_free(self);
}

static gboolean fn_score(gpointer self, const PvxPruneContext *ctx, PvxTensor **scores,
                         GError **error)
{
    (void)error;
    gboolean l2 = *(gboolean *)self;
    for (int l = 0; l < ctx->n_layers; l++) {
        const PvxTensor *w = ctx->layers[l]->weight;
        int64_t cout = w->shape[0], row = pvx_tensor_numel(w) / cout;
        for (int64_t o = 0; o < cout; o++) {
            double s = 0.0;
            for (int64_t i = 0; i < row; i++) {
                double v = w->data[o * row + i];
                s += l2 ? v * v : fabs(v);
            }
            scores[l]->data[o] = (float)(l2 ? sqrt(s) : s);
        }
    }
    return TRUE;
}

static const PvxPrunerClass klass = {
    .size = sizeof(PvxPrunerClass),
    .flags = PVX_PRUNER_STRUCTURED,
    .open = fn_open,
    .close = fn_close,
    .score = fn_score,
};

PVX_PLUGIN_DEFINE(PVX_KIND_PRUNER, "filter-norm", "1.0.0",
                  "structured pruning of whole conv filters by their L1/L2 norm",
                  filter_norm_params, &klass)
