/* pvx explainer "gradcam++": Grad-CAM++ (closed-form alpha, eq. 19 of arXiv 1710.11063)
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
    /* α = G² / (2G² + S_k G³ + 1e-6), 0 where G == 0; w_k = Σ_ij ReLU(G)·α */
    g_autofree double *w = g_new(double, N *K);
    for (int64_t i = 0; i < N * K; i++) {
        const float *a = A + i * P, *g = G + i * P;
        double S = 0.0, s = 0.0;
        for (int64_t j = 0; j < P; j++)
            S += a[j];
        for (int64_t j = 0; j < P; j++) {
            double g1 = g[j], g2 = g1 * g1, g3 = g2 * g1;
            if (g1 == 0.0)
                continue;
            double alpha = g2 / (2.0 * g2 + S * g3 + 1e-6);
            s += (g1 > 0.0 ? g1 : 0.0) * alpha;
        }
        w[i] = s;
    }
    *maps_out = pvx_explain_weighted_sum(act, w);
    return TRUE;
}

static const PvxExplainerClass klass = {
    .size = sizeof(PvxExplainerClass),
    .flags = PVX_EXPLAINER_GRADIENTS | PVX_EXPLAINER_LAYER,
    .explain = ex_explain,
};

PVX_PLUGIN_DEFINE(PVX_KIND_EXPLAINER, "gradcam++", "1.0.0",
                  "Grad-CAM++ (closed-form alpha, eq. 19 of arXiv 1710.11063)", NULL, &klass)
