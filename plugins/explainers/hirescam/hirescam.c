/* pvx explainer "hirescam": HiResCAM: sum over channels of gradient times activation, no pooling
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
    /* raw = Σ_k G_k ⊙ A_k */
    PvxTensor *m = pvx_tensor_new_shape(3, N, act->shape[2], act->shape[3]);
    for (int64_t b = 0; b < N; b++)
        for (int64_t j = 0; j < P; j++) {
            double s = 0.0;
            for (int64_t k = 0; k < K; k++)
                s += (double)G[(b * K + k) * P + j] * A[(b * K + k) * P + j];
            m->data[b * P + j] = (float)s;
        }
    *maps_out = m;
    return TRUE;
}

static const PvxExplainerClass klass = {
    .size = sizeof(PvxExplainerClass),
    .flags = PVX_EXPLAINER_GRADIENTS | PVX_EXPLAINER_LAYER,
    .explain = ex_explain,
};

PVX_PLUGIN_DEFINE(PVX_KIND_EXPLAINER, "hirescam", "1.0.0",
                  "HiResCAM: sum over channels of gradient times activation, no pooling", NULL,
                  &klass)
