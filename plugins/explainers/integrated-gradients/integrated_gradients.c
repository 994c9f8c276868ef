/* pvx explainer "integrated-gradients" (Sundararajan et al. 2017), as Captum's
 * IntegratedGradients with method="riemann_middle", summed over channels:
 *
 *     map[i, j] = Σ_c (x − x′)[c, i, j] · (1/m) Σ_{k=0}^{m−1} ∂logit_t/∂x [c, i, j] at
 *                 x′ + α_k (x − x′),   α_k = (k + ½)/m,
 *
 * x′ = a constant baseline (in the model's normalised input space; 0 = the dataset mean colour
 * for mean/std-normalised inputs). Summing over channels keeps completeness:
 * Σ map ≈ logit_t(x) − logit_t(x′). Costs m forward+backward passes per image, batched by
 * batch_size.
 */
#include <math.h>
#include <string.h>

#include <pvx/pvx.h>

typedef struct {
    int64_t steps;
    double baseline;
} Ig;

static const PvxParamSpec ig_params[] = {
    {"steps", PVX_PARAM_INT, "32", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 4096, NULL,
     "interpolation steps m (midpoint Riemann sum)"},
    {"baseline", PVX_PARAM_DOUBLE, "0", 0, 0, 0, NULL,
     "constant baseline x' in the model's (normalised) input space"},
    PVX_PARAM_SPEC_END,
};

static gpointer ex_open(const PvxParams *params, GError **error)
{
    (void)error;
    Ig *ig = g_new0(Ig, 1);
    ig->steps = pvx_params_get_int(params, "steps");
    ig->baseline = pvx_params_get_double(params, "baseline");
    return ig;
}

static void ex_close(gpointer self)
{
    g_free(self);
}

static gboolean ex_explain(gpointer self, const PvxExplainRequest *req, PvxTensor **maps_out,
                           GError **error)
{
    const Ig *ig = self;
    const PvxTensor *x = req->input;
    int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int64_t item = C * H * W, m = ig->steps;
    float base = (float)ig->baseline;
    g_autoptr(PvxTensor) maps = pvx_tensor_new_shape(3, N, H, W);
    g_autofree double *gsum = g_new(double, item);
    for (int64_t b = 0; b < N; b++) {
        const float *xb = x->data + b * item;
        memset(gsum, 0, sizeof(double) * item);
        for (int64_t k0 = 0; k0 < m; k0 += req->batch_size) {
            int64_t nb = MIN((int64_t)req->batch_size, m - k0);
            g_autoptr(PvxTensor) batch = pvx_tensor_new_shape(4, nb, C, H, W);
            g_autofree int64_t *t = g_new(int64_t, nb);
            for (int64_t i = 0; i < nb; i++) {
                float alpha = (float)(((double)(k0 + i) + 0.5) / (double)m);
                float *dst = batch->data + i * item;
                for (int64_t j = 0; j < item; j++)
                    dst[j] = base + alpha * (xb[j] - base);
                t[i] = req->targets[b];
            }
            g_autoptr(PvxTensor) dx = pvx_explain_input_gradient(req->model, batch, t, NULL, error);
            if (!dx)
                return FALSE;
            for (int64_t i = 0; i < nb; i++)
                for (int64_t j = 0; j < item; j++)
                    gsum[j] += dx->data[i * item + j];
        }
        float *out = maps->data + b * H * W;
        for (int64_t p = 0; p < H * W; p++) {
            double s = 0.0;
            for (int64_t c = 0; c < C; c++)
                s += ((double)xb[c * H * W + p] - base) * gsum[c * H * W + p] / (double)m;
            out[p] = (float)s;
        }
    }
    *maps_out = g_steal_pointer(&maps);
    return TRUE;
}

static const PvxExplainerClass klass = {
    .size = sizeof(PvxExplainerClass),
    .flags = PVX_EXPLAINER_GRADIENTS,
    .open = ex_open,
    .close = ex_close,
    .explain = ex_explain,
};

PVX_PLUGIN_DEFINE(PVX_KIND_EXPLAINER, "integrated-gradients", "1.0.0",
                  "Integrated gradients from a constant baseline (midpoint rule), summed over "
                  "channels",
                  ig_params, &klass)
