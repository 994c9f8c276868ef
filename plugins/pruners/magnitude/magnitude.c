/* pvx pruner "magnitude": unstructured, by absolute value — torch.nn.utils.prune's
 * l1_unstructured (scope local) and global_unstructured with L1Unstructured (scope global). */
#include <math.h>

#include <pvx/pvx.h>

static const char *const scopes[] = {"local", "global", NULL};

static const PvxParamSpec magnitude_params[] = {
    {"scope", PVX_PARAM_CHOICE, "local", 0, 0, 0, scopes,
     "local: every selected layer keeps the same fraction (the paper); global: one ranking "
     "across all selected layers"},
    PVX_PARAM_SPEC_END,
};

typedef struct {
    PvxPruneScope scope;
} Magnitude;

static gpointer mag_open(const PvxParams *params, GError **error)
{
    (void)error;
    Magnitude *m = g_new0(Magnitude, 1);
    m->scope = g_strcmp0(pvx_params_get_string(params, "scope"), "global") == 0
                   ? PVX_PRUNE_SCOPE_GLOBAL
                   : PVX_PRUNE_SCOPE_LOCAL;
    return m;
}

static void mag_close(gpointer self)
{
    g_free(self);
}

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

static PvxPruneScope mag_scope(gpointer self)
{
    return ((Magnitude *)self)->scope;
}

static const PvxPrunerClass klass = {
    .size = sizeof(PvxPrunerClass),
    .open = mag_open,
    .close = mag_close,
    .score = mag_score,
    .scope = mag_scope,
};

PVX_PLUGIN_DEFINE(PVX_KIND_PRUNER, "magnitude", "1.0.0",
                  "unstructured magnitude pruning: the smallest |w| go first (local or global)",
                  magnitude_params, &klass)
