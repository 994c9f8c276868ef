/* pvx explainer "xgradcam": XGrad-CAM: gradient weighted by the normalised activation
 * Formula as pytorch-grad-cam implements it (docs/explainers.md; reference/xai-anchors.md §4). */
#include <math.h>

#include <pvx/pvx.h>

static gboolean ex_explain(gpointer self, const PvxExplainRequest *req, PvxTensor **maps_out,
                           GError **error)
{
    (void)self;
    g_autoptr(PvxTensor) act = NULL, grad = NULL;
    if (!pvx_explain_layer_gradients(req->model, (PvxTensor *)req->input, req->targets,
                                     req->target_layer, &act, &grad, NULL, error))
        return FALSE;
    int64_t N = act->shape[0], K = act->shape[1], P = act->shape[2] * act->shape[3];
    const float *A = act->data, *G = grad->data;
    /* w_k = Σ_ij G_kij A_kij / (Σ_ij A_kij + 1e-7) */
    g_autofree double *w = g_new(double, N *K);
    for (int64_t i = 0; i < N * K; i++) {
        double S = 0.0, s = 0.0;
        for (int64_t j = 0; j < P; j++) {
            S += A[i * P + j];
            s += (double)G[i * P + j] * A[i * P + j];
        }
        w[i] = s / (S + 1e-7);
    }
    *maps_out = pvx_explain_weighted_sum(act, w);
    return TRUE;
}

static const PvxExplainerClass klass = {
    .size = sizeof(PvxExplainerClass),
    .flags = PVX_EXPLAINER_GRADIENTS | PVX_EXPLAINER_LAYER,
    .explain = ex_explain,
};

PVX_PLUGIN_DEFINE(PVX_KIND_EXPLAINER, "xgradcam", "1.0.0",
                  "XGrad-CAM: gradient weighted by the normalised activation", NULL, &klass)
