/* pvx explainer "saliency": the vanilla gradient (Simonyan et al. 2014), as Captum's Saliency
 * with abs=True reduced over channels: map[i, j] = max_c |d logit_target / d x[c, i, j]|, at the
 * input's resolution. */
#include <math.h>

#include <pvx/pvx.h>

static gboolean ex_explain(gpointer self, const PvxExplainRequest *req, PvxTensor **maps_out,
                           GError **error)
{
    (void)self;
    g_autoptr(PvxTensor) dx =
        pvx_explain_input_gradient(req->model, (PvxTensor *)req->input, req->targets, NULL, error);
    if (!dx)
        return FALSE;
    int64_t N = dx->shape[0], C = dx->shape[1], P = dx->shape[2] * dx->shape[3];
    PvxTensor *m = pvx_tensor_new_shape(3, N, dx->shape[2], dx->shape[3]);
    for (int64_t b = 0; b < N; b++)
        for (int64_t j = 0; j < P; j++) {
            float v = 0.0f;
            for (int64_t c = 0; c < C; c++)
                v = fmaxf(v, fabsf(dx->data[(b * C + c) * P + j]));
            m->data[b * P + j] = v;
        }
    *maps_out = m;
    return TRUE;
}

static const PvxExplainerClass klass = {
    .size = sizeof(PvxExplainerClass),
    .flags = PVX_EXPLAINER_GRADIENTS,
    .explain = ex_explain,
};

PVX_PLUGIN_DEFINE(PVX_KIND_EXPLAINER, "saliency", "1.0.0",
                  "Saliency: max over channels of |input gradient of the target logit|", NULL,
                  &klass)
