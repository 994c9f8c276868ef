/* deletion / insertion — the causal metrics of RISE (Petsiuk et al., BMVC 2018; eclique/RISE
 * evaluation.py), built twice from this file (PVX_CAUSAL_INSERTION picks insertion).
 *
 * The map is taken as a person sees it (pvx_metric_map_pixels: ReLU, min-max, bilinear to the
 * image size) and its pixels ordered by relevance, descending (ties: lower row-major index
 * first). Starting from `start`, `ceil(step · H·W)` pixels per step (all channels together) are
 * copied from `finish` in that order until every pixel is; the softmax probability of the
 * explained class is scored on the start image and after every step, n_steps + 1 points with
 * n_steps = ceil(H·W / pixels per step).
 *   deletion:  start = the image, finish = `baseline` (a constant in the model's input space; 0 is
 *              RISE's zeros of the normalised tensor, the dataset's mean colour)
 *   insertion: start = the image blurred by a `blur_size` × `blur_size` Gaussian of σ
 *              `blur_sigma` with zero padding (RISE: 11, 5), finish = the image
 * AUC = (Σ_i s_i − s_0/2 − s_n/2) / n_steps: the trapezoid rule over the fraction of pixels
 * changed, in [0, 1]. A good explanation has a low deletion and a high insertion AUC.
 * Results: `auc` per item, `curve` [n, n_steps + 1].
 * RISE's blur kernel is scipy's gaussian_filter of an 11 × 11 delta (tails reflected back in);
 * pvx's is the plain sampled Gaussian normalised to sum 1.
 */
#include "../xai_metric.h"

typedef struct {
    double step;
    double baseline;
    int blur_size;
    double blur_sigma;
} Causal;

static const PvxParamSpec causal_params[] = {
    {"step", PVX_PARAM_DOUBLE, "0.05", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1e-6, 1, NULL,
     "fraction of the image's pixels changed per step (ceil(step·H·W) pixels)"},
#ifdef PVX_CAUSAL_INSERTION
    {"blur_size", PVX_PARAM_INT, "11", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 255, NULL,
     "side of the Gaussian kernel that blurs the start image (odd)"},
    {"blur_sigma", PVX_PARAM_DOUBLE, "5", PVX_PARAM_HAS_MIN, 1e-3, 0, NULL,
     "sigma of that Gaussian in pixels"},
#else
    {"baseline", PVX_PARAM_DOUBLE, "0", 0, 0, 0, NULL,
     "value deleted pixels take, in the model's (normalised) input space"},
#endif
    PVX_PARAM_SPEC_END,
};

static gpointer causal_open(const PvxParams *params, GError **error)
{
    Causal *c = g_new0(Causal, 1);
    c->step = pvx_params_get_double(params, "step");
#ifdef PVX_CAUSAL_INSERTION
    c->blur_size = (int)pvx_params_get_int(params, "blur_size");
    c->blur_sigma = pvx_params_get_double(params, "blur_sigma");
    if (c->blur_size % 2 == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE, "%s: blur_size must be odd, got %d",
                    pvx_params_where(params, "blur_size"), c->blur_size);
        g_free(c);
        return NULL;
    }
#else
    (void)error;
    c->baseline = pvx_params_get_double(params, "baseline");
#endif
    return c;
}

static void causal_close(gpointer self)
{
    g_free(self);
}

#ifdef PVX_CAUSAL_INSERTION
/* Separable Gaussian blur of @x [C, H, W] with zero padding (= conv2d with the outer product of
 * the 1-D kernel and padding size/2). */
static void blur(const float *x, float *out, int64_t c, int64_t h, int64_t w, int size,
                 double sigma)
{
    int r = size / 2;
    g_autofree double *k = g_new(double, size);
    double sum = 0;
    for (int i = 0; i < size; i++) {
        k[i] = exp(-(double)(i - r) * (i - r) / (2 * sigma * sigma));
        sum += k[i];
    }
    for (int i = 0; i < size; i++)
        k[i] /= sum;
    g_autofree double *tmp = g_new(double, h *w);
    for (int64_t ch = 0; ch < c; ch++) {
        const float *p = x + ch * h * w;
        for (int64_t i = 0; i < h; i++)
            for (int64_t j = 0; j < w; j++) {
                double s = 0;
                for (int t = -r; t <= r; t++)
                    if (j + t >= 0 && j + t < w)
                        s += k[t + r] * p[i * w + j + t];
                tmp[i * w + j] = s;
            }
        for (int64_t i = 0; i < h; i++)
            for (int64_t j = 0; j < w; j++) {
                double s = 0;
                for (int t = -r; t <= r; t++)
                    if (i + t >= 0 && i + t < h)
                        s += k[t + r] * tmp[(i + t) * w + j];
                out[ch * h * w + i * w + j] = (float)s;
            }
    }
}
#endif

static gboolean causal_compute(gpointer self, const PvxMetricInput *in, PvxMetricResult *out,
                               GError **error)
{
    const Causal *cfg = self;
    if (!xai_input_is_new(in, error))
        return FALSE;
    int64_t n = in->n, c = in->images->shape[1], h = in->images->shape[2], w = in->images->shape[3],
            hw = h * w, item = c * hw;
    int64_t per_step = MAX((int64_t)1, (int64_t)ceil(cfg->step * (double)hw - 1e-9));
    int64_t n_steps = (hw + per_step - 1) / per_step;
    int64_t points = n_steps + 1;
    int bs = xai_batch_size(in);
    g_autofree double *auc = g_new(double, n);
    g_autofree double *curves = g_new(double, n *points);
    g_autofree float *start = g_new(float, item);
    g_autofree float *finish = g_new(float, item);
    g_autofree int64_t *targets = g_new(int64_t, bs);
    for (int64_t i = 0; i < n; i++) {
        const float *x = in->images->data + i * item;
#ifdef PVX_CAUSAL_INSERTION
        blur(x, start, c, h, w, cfg->blur_size, cfg->blur_sigma);
        memcpy(finish, x, sizeof(float) * item);
#else
        memcpy(start, x, sizeof(float) * item);
        for (int64_t k = 0; k < item; k++)
            finish[k] = (float)cfg->baseline;
#endif
        g_autoptr(PvxTensor) sal = pvx_metric_map_pixels(in->maps, i, h, w);
        g_autofree int64_t *order = pvx_metric_order_desc(sal->data, hw);
        double *curve = curves + i * points;
        /* Build the images of the curve a batch at a time: image k has the first k·per_step
         * pixels of the order replaced. */
        for (int64_t k0 = 0; k0 < points; k0 += bs) {
            int64_t nb = MIN((int64_t)bs, points - k0);
            g_autoptr(PvxTensor) xb = pvx_tensor_new_shape(4, nb, c, h, w);
            for (int64_t b = 0; b < nb; b++) {
                int64_t k = k0 + b;
                if (k > 0) {
                    int64_t lo = (k - 1) * per_step, hi = MIN(k * per_step, hw);
                    for (int64_t q = lo; q < hi; q++)
                        for (int64_t ch = 0; ch < c; ch++)
                            start[ch * hw + order[q]] = finish[ch * hw + order[q]];
                }
                memcpy(xb->data + b * item, start, sizeof(float) * item);
                targets[b] = in->targets[i];
            }
            if (!pvx_metric_target_probs(in->model, xb, targets, bs, curve + k0, error))
                return FALSE;
        }
        double s = 0;
        for (int64_t k = 0; k < points; k++)
            s += curve[k];
        auc[i] = (s - curve[0] / 2 - curve[n_steps] / 2) / (double)n_steps;
    }
    pvx_metric_result_add_values(out, "auc", n, auc);
    pvx_metric_result_add_matrix(out, "curve", n, points, curves);
    return TRUE;
}

static const PvxMetricClass causal_class = {
    .size = sizeof(PvxMetricClass),
    .needs = PVX_METRIC_NEEDS_MAPS | PVX_METRIC_NEEDS_MODEL | PVX_METRIC_NEEDS_IMAGES |
             PVX_METRIC_NEEDS_TARGETS,
    .open = causal_open,
    .close = causal_close,
    .compute = causal_compute,
};

#ifdef PVX_CAUSAL_INSERTION
PVX_PLUGIN_DEFINE(PVX_KIND_METRIC, "insertion", "1.0.0",
                  "RISE insertion: AUC of the class probability as pixels are inserted into a "
                  "blurred image in order of relevance (higher is better)",
                  causal_params, &causal_class)
#else
PVX_PLUGIN_DEFINE(PVX_KIND_METRIC, "deletion", "1.0.0",
                  "RISE deletion: AUC of the class probability as pixels are deleted in order of "
                  "relevance (lower is better)",
                  causal_params, &causal_class)
#endif
