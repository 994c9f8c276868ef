/* pvx explainer "occlusion" (Zeiler & Fergus 2014), as Captum's Occlusion with a square window
 * over all channels:
 *
 * a patch×patch window slides with `stride` from the top-left corner; when the last step does
 * not reach the border, one more window is placed flush with it, so every pixel is covered.
 * For each window the input is copied with the window (all channels) set to `baseline`, and the
 * drop of the target logit y − y_occluded is credited to every pixel of the window.
 * map[i, j] = mean of the drops of the windows that cover (i, j). Costs one forward per window
 * and image (batch_size per forward): ((H − patch)/stride + 1)² forwards.
 */
#include <math.h>
#include <string.h>

#include <pvx/pvx.h>

typedef struct {
    int64_t patch, stride;
    double baseline;
} Occ;

static const PvxParamSpec occ_params[] = {
    {"patch", PVX_PARAM_INT, "8", PVX_PARAM_HAS_MIN, 1, 0, NULL,
     "side of the square occluding window in pixels"},
    {"stride", PVX_PARAM_INT, "4", PVX_PARAM_HAS_MIN, 1, 0, NULL, "step of the window"},
    {"baseline", PVX_PARAM_DOUBLE, "0", 0, 0, 0, NULL,
     "value of the occluded pixels in the model's (normalised) input space"},
    PVX_PARAM_SPEC_END,
};

static gpointer ex_open(const PvxParams *params, GError **error)
{
    (void)error;
    Occ *o = g_new0(Occ, 1);
    o->patch = pvx_params_get_int(params, "patch");
    o->stride = pvx_params_get_int(params, "stride");
    o->baseline = pvx_params_get_double(params, "baseline");
    return o;
}

static void ex_close(gpointer self)
{
    g_free(self);
}

/* Window starts along a side of @size: 0, s, 2s, ... and size − patch when not reached. */
static GArray *starts(int64_t size, int64_t patch, int64_t stride)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(int64_t));
    int64_t last = MAX(size - patch, 0);
    for (int64_t s = 0; s <= last; s += stride)
        g_array_append_val(a, s);
    if (g_array_index(a, int64_t, a->len - 1) != last)
        g_array_append_val(a, last);
    return a;
}

static gboolean ex_explain(gpointer self, const PvxExplainRequest *req, PvxTensor **maps_out,
                           GError **error)
{
    const Occ *o = self;
    const PvxTensor *x = req->input;
    int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int64_t item = C * H * W, ph = MIN(o->patch, H), pw = MIN(o->patch, W);
    g_autoptr(GArray) ys = starts(H, ph, o->stride);
    g_autoptr(GArray) xs = starts(W, pw, o->stride);
    int64_t nwin = (int64_t)ys->len * xs->len;
    g_autoptr(PvxTensor) maps = pvx_tensor_new_shape(3, N, H, W);
    g_autofree double *sum = g_new(double, H *W);
    g_autofree double *cnt = g_new(double, H *W);
    g_autofree double *drops = g_new(double, nwin);
    float base = (float)o->baseline;
    for (int64_t b = 0; b < N; b++) {
        const float *xb = x->data + b * item;
        int64_t t = req->targets[b];
        double y = 0.0;
        g_autoptr(PvxTensor) one = pvx_tensor_new_from_data(4, (int64_t[]){1, C, H, W}, xb);
        if (!pvx_explain_target_scores(req->model, one, &t, 1, &y, error))
            return FALSE;
        for (int64_t w0 = 0; w0 < nwin; w0 += req->batch_size) {
            int64_t nb = MIN((int64_t)req->batch_size, nwin - w0);
            g_autoptr(PvxTensor) batch = pvx_tensor_new_shape(4, nb, C, H, W);
            g_autofree int64_t *tt = g_new(int64_t, nb);
            for (int64_t i = 0; i < nb; i++) {
                int64_t wi = w0 + i;
                int64_t y0 = g_array_index(ys, int64_t, wi / xs->len);
                int64_t x0 = g_array_index(xs, int64_t, wi % xs->len);
                float *dst = batch->data + i * item;
                memcpy(dst, xb, sizeof(float) * item);
                for (int64_t c = 0; c < C; c++)
                    for (int64_t r = y0; r < y0 + ph; r++)
                        for (int64_t q = x0; q < x0 + pw; q++)
                            dst[(c * H + r) * W + q] = base;
                tt[i] = t;
            }
            if (!pvx_explain_target_scores(req->model, batch, tt, (int)nb, drops + w0, error))
                return FALSE;
        }
        memset(sum, 0, sizeof(double) * H * W);
        memset(cnt, 0, sizeof(double) * H * W);
        for (int64_t wi = 0; wi < nwin; wi++) {
            int64_t y0 = g_array_index(ys, int64_t, wi / xs->len);
            int64_t x0 = g_array_index(xs, int64_t, wi % xs->len);
            double d = y - drops[wi];
            for (int64_t r = y0; r < y0 + ph; r++)
                for (int64_t q = x0; q < x0 + pw; q++) {
                    sum[r * W + q] += d;
                    cnt[r * W + q] += 1.0;
                }
        }
        for (int64_t p = 0; p < H * W; p++)
            maps->data[b * H * W + p] = (float)(cnt[p] > 0 ? sum[p] / cnt[p] : 0.0);
    }
    *maps_out = g_steal_pointer(&maps);
    return TRUE;
}

static const PvxExplainerClass klass = {
    .size = sizeof(PvxExplainerClass),
    .flags = PVX_EXPLAINER_PERTURBATION,
    .open = ex_open,
    .close = ex_close,
    .explain = ex_explain,
};

PVX_PLUGIN_DEFINE(PVX_KIND_EXPLAINER, "occlusion", "1.0.0",
                  "Occlusion: mean drop of the target logit when a sliding window covering the "
                  "pixel is set to a baseline",
                  occ_params, &klass)
