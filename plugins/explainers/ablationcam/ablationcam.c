/* pvx explainer "ablationcam": Ablation-CAM as pytorch-grad-cam implements it.
 *
 * y = the target logit; y_k = the same with channel k of the target layer's output replaced by
 * v (v = 0 when the image's activation minimum is 0 — always after a ReLU —, else that minimum
 * − 1e7); w_k = (y − y_k) / y; map = Σ_k w_k A_k. Only the layers after the target layer run for
 * the ablated copies (batch_size copies per forward), so at VGG-16's features.29 each channel
 * costs a max-pool and the classifier, not a whole network.
 */
#include <math.h>
#include <string.h>

#include <pvx/pvx.h>

static gboolean ex_explain(gpointer self, const PvxExplainRequest *req, PvxTensor **maps_out,
                           GError **error)
{
    (void)self;
    g_autoptr(PvxTensor) logits = NULL;
    g_autoptr(PvxTensor) act = pvx_explain_layer_activation(req->model, (PvxTensor *)req->input,
                                                            req->target_layer, &logits, error);
    if (!act)
        return FALSE;
    int64_t N = act->shape[0], K = act->shape[1], P = act->shape[2] * act->shape[3];
    int64_t classes = logits->shape[1];
    g_autofree double *weights = g_new(double, N *K);
    for (int64_t b = 0; b < N; b++) {
        const float *a = act->data + b * K * P;
        int64_t t = req->targets[b];
        double y = logits->data[b * classes + t];
        float mn = INFINITY;
        for (int64_t i = 0; i < K * P; i++)
            mn = fminf(mn, a[i]);
        float v = mn == 0.0f ? 0.0f : mn - 1e7f;
        for (int64_t k0 = 0; k0 < K; k0 += req->batch_size) {
            int64_t nb = MIN((int64_t)req->batch_size, K - k0);
            g_autoptr(PvxTensor) copies =
                pvx_tensor_new_shape(4, nb, K, act->shape[2], act->shape[3]);
            for (int64_t i = 0; i < nb; i++) {
                float *dst = copies->data + i * K * P;
                memcpy(dst, a, sizeof(float) * K * P);
                for (int64_t j = 0; j < P; j++)
                    dst[(k0 + i) * P + j] = v;
            }
            g_autoptr(PvxTensor) out =
                pvx_explain_forward_from(req->model, req->target_layer, copies, error);
            if (!out)
                return FALSE;
            for (int64_t i = 0; i < nb; i++)
                weights[b * K + k0 + i] = (y - out->data[i * classes + t]) / y;
        }
    }
    *maps_out = pvx_explain_weighted_sum(act, weights);
    return TRUE;
}

static const PvxExplainerClass klass = {
    .size = sizeof(PvxExplainerClass),
    .flags = PVX_EXPLAINER_LAYER | PVX_EXPLAINER_PERTURBATION,
    .explain = ex_explain,
};

PVX_PLUGIN_DEFINE(PVX_KIND_EXPLAINER, "ablationcam", "1.0.0",
                  "Ablation-CAM: relative drop of the target logit when each channel is ablated",
                  NULL, &klass)
