/* pvx explainer "eigencam": EigenCAM — the target layer's activations projected on their first
 * principal component (pytorch-grad-cam's get_2d_projection), class-agnostic, no gradients.
 * The SVD's sign is arbitrary; pvx fixes it so the projection points towards where the layer is
 * most active (rule in explainer.h, pvx_explain_eigen_projection), so the map is never wiped
 * out by the ReLU of rendering because of a sign flip. */
#include <pvx/pvx.h>

static gboolean ex_explain(gpointer self, const PvxExplainRequest *req, PvxTensor **maps_out,
                           GError **error)
{
    (void)self;
    g_autoptr(PvxTensor) act = pvx_explain_layer_activation(req->model, (PvxTensor *)req->input,
                                                            req->target_layer, NULL, error);
    if (!act)
        return FALSE;
    *maps_out = pvx_explain_eigen_projection(act, error);
    return *maps_out != NULL;
}

static const PvxExplainerClass klass = {
    .size = sizeof(PvxExplainerClass),
    .flags = PVX_EXPLAINER_LAYER | PVX_EXPLAINER_CLASS_AGNOSTIC,
    .explain = ex_explain,
};

PVX_PLUGIN_DEFINE(PVX_KIND_EXPLAINER, "eigencam", "1.0.0",
                  "EigenCAM: first principal component of the target layer's activations "
                  "(class-agnostic; sign fixed towards the active region)",
                  NULL, &klass)
