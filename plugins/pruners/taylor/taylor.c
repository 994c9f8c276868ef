/* pvx pruner "taylor": first-order Taylor importance |w · dL/dw| (Molchanov et al. 2017/2019),
 * summed over a few batches of training data — the estimated change of the loss when the weight
 * is removed. Unstructured. */
#include <math.h>

#include <pvx/pvx.h>

static const PvxParamSpec taylor_params[] = {
    {"batches", PVX_PARAM_INT, "8", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 100000, NULL,
     "batches of training data (the train section's batch size) the importance is summed over"},
    PVX_PARAM_SPEC_END,
};

typedef struct {
    int batches;
} Taylor;

static gpointer ty_open(const PvxParams *params, GError **error)
{
    (void)error;
    Taylor *t = g_new0(Taylor, 1);
    t->batches = (int)pvx_params_get_int(params, "batches");
    return t;
}

static void ty_close(gpointer self)
{
    g_free(self);
}

static gboolean ty_score(gpointer self, const PvxPruneContext *ctx, PvxTensor **scores,
                         GError **error)
{
    const Taylor *t = self;
    int batches = MIN(t->batches, ctx->n_batches);
    if (batches < 1) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "no training batches to compute gradients on");
        return FALSE;
    }
    for (int b = 0; b < batches; b++) {
        if (!ctx->gradients(ctx, b, error))
            return FALSE;
        for (int l = 0; l < ctx->n_layers; l++) {
            const PvxLayer *layer = ctx->layers[l];
            int64_t n = pvx_tensor_numel(layer->weight);
            const float *w = layer->weight->data, *g = layer->weight_grad->data;
            float *s = scores[l]->data;
            for (int64_t i = 0; i < n; i++)
                s[i] += fabsf(w[i] * g[i]);
        }
    }
    return TRUE;
}

static const PvxPrunerClass klass = {
    .size = sizeof(PvxPrunerClass),
    .flags = PVX_PRUNER_NEEDS_GRADIENTS,
    .open = ty_open,
    .close = ty_close,
    .score = ty_score,
};

PVX_PLUGIN_DEFINE(PVX_KIND_PRUNER, "taylor", "1.1.0",
                  "first-order Taylor importance |w * dL/dw| over a few training batches",
                  taylor_params, &klass)
