/* An explainer plugin built outside the pvx tree: "input-x-gradient".
 *
 * Gradient × input (Shrikumar et al. 2016; Captum's InputXGradient) summed over the colour
 * channels: map[n, i, j] = Σ_c x[n, c, i, j] · ∂y_t / ∂x[n, c, i, j], where y_t is the logit of
 * image n's target class. The map has the input's resolution. With `absolute: true` the
 * channel sum is taken over |x · ∂y_t/∂x|, so evidence for and against the class both count.
 *
 * Build it with the Makefile (or meson.build) next to this file, against an installed pvx:
 *     make && pvx plugins --plugin-dir . input-x-gradient
 * See docs/writing-a-plugin.md for a walk through this file.
 */
#include <math.h>

#include <pvx/pvx.h>

/* The parameters pvx validates before open() sees them (pvx plugins input-x-gradient). */
static const PvxParamSpec params[] = {
    {"absolute", PVX_PARAM_BOOL, "false", 0, 0, 0, NULL,
     "sum |input × gradient| over channels instead of the signed products"},
    PVX_PARAM_SPEC_END,
};

typedef struct {
    gboolean absolute;
} InputXGradient;

static gpointer ex_open(const PvxParams *p, GError **error)
{
    (void)error; /* nothing here can fail: the core has validated every parameter */
    InputXGradient *self = g_new0(InputXGradient, 1);
    self->absolute = pvx_params_get_bool(p, "absolute");
    return self;
}

static void ex_close(gpointer self)
{
    g_free(self);
}

static gboolean ex_explain(gpointer data, const PvxExplainRequest *req, PvxTensor **maps_out,
                           GError **error)
{
    const InputXGradient *self = data;
    /* d Σ_n y[n, target_n] / d x: one backward for the whole batch, no weight gradients. */
    g_autoptr(PvxTensor) dx =
        pvx_explain_input_gradient(req->model, (PvxTensor *)req->input, req->targets, NULL, error);
    if (!dx)
        return FALSE;
    int64_t N = dx->shape[0], C = dx->shape[1], H = dx->shape[2], W = dx->shape[3];
    int64_t P = H * W;
    const float *x = req->input->data, *g = dx->data;
    PvxTensor *maps = pvx_tensor_new_shape(3, N, H, W);
    for (int64_t n = 0; n < N; n++)
        for (int64_t j = 0; j < P; j++) {
            double sum = 0.0;
            for (int64_t c = 0; c < C; c++) {
                double v = (double)x[(n * C + c) * P + j] * g[(n * C + c) * P + j];
                sum += self->absolute ? fabs(v) : v;
            }
            maps->data[n * P + j] = (float)sum;
        }
    g_debug("explained %" G_GINT64_FORMAT " images of %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT, N, H,
            W);
    *maps_out = maps; /* transfer full: the core frees it */
    return TRUE;
}

static const PvxExplainerClass klass = {
    .size = sizeof(PvxExplainerClass),
    .flags = PVX_EXPLAINER_GRADIENTS, /* pixel method: no target layer, maps at input size */
    .open = ex_open,
    .close = ex_close,
    .explain = ex_explain,
};

PVX_PLUGIN_DEFINE(PVX_KIND_EXPLAINER, "input-x-gradient", "1.0.0",
                  "Gradient x input summed over channels (Captum's InputXGradient)", params, &klass)
