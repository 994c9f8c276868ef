/* pvx explainer "scorecam": Score-CAM as pytorch-grad-cam implements it.
 *
 * For each channel k of the target layer's activation A: U_k = A_k upsampled to the input size
 * (bilinear, align_corners = True, as nn.UpsamplingBilinear2d), M_k = (U_k − min)/(max − min +
 * 1e-8), s_k = the target logit of the model on X ⊙ M_k (same mask on every input channel);
 * w = softmax_k(s); map = Σ_k w_k A_k (at the layer's resolution).
 *
 * Cost: one forward per channel and image (512 VGG-16 forwards per image at features.29). pvx
 * keeps it bearable by (1) batching the masked inputs (`batch_size` per forward, inference mode,
 * no activations kept, no taps), and (2) computing the score of all channels whose activation
 * is constant only once: their masks are exactly 0, so their masked inputs are all the same
 * zero image (dead ReLU channels are common, more so in pruned networks). Both are exact.
 */
#include <math.h>
#include <string.h>

#include <pvx/pvx.h>

#define LOG_DOMAIN "pvx-scorecam"

/* Scores of @count masked copies of image @x (C×H×W) with masks @masks (count × H×W). */
static gboolean masked_scores(PvxModel *model, const float *x, int64_t C, int64_t H, int64_t W,
                              const float *const *masks, int64_t count, int64_t target, int bs,
                              double *scores, GError **error)
{
    int64_t HW = H * W;
    for (int64_t k0 = 0; k0 < count; k0 += bs) {
        int64_t nb = MIN((int64_t)bs, count - k0);
        g_autoptr(PvxTensor) batch = pvx_tensor_new_shape(4, nb, C, H, W);
        for (int64_t i = 0; i < nb; i++) {
            const float *m = masks[k0 + i];
            float *dst = batch->data + i * C * HW;
            for (int64_t c = 0; c < C; c++)
                for (int64_t j = 0; j < HW; j++)
                    dst[c * HW + j] = m ? x[c * HW + j] * m[j] : 0.0f;
        }
        g_autofree int64_t *t = g_new(int64_t, nb);
        for (int64_t i = 0; i < nb; i++)
            t[i] = target;
        if (!pvx_explain_target_scores(model, batch, t, (int)nb, scores + k0, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean ex_explain(gpointer self, const PvxExplainRequest *req, PvxTensor **maps_out,
                           GError **error)
{
    (void)self;
    g_autoptr(PvxTensor) act = pvx_explain_layer_activation(req->model, (PvxTensor *)req->input,
                                                            req->target_layer, NULL, error);
    if (!act)
        return FALSE;
    int64_t N = act->shape[0], K = act->shape[1], h = act->shape[2], w = act->shape[3];
    int64_t C = req->input->shape[1], H = req->input->shape[2], W = req->input->shape[3];
    int64_t HW = H * W;
    g_autofree double *weights = g_new(double, N *K);
    g_autofree double *scores = g_new(double, K);
    g_autofree const float **masks = g_new(const float *, K);
    int64_t forwards = 0;
    for (int64_t b = 0; b < N; b++) {
        g_autoptr(PvxTensor) plane =
            pvx_tensor_new_from_data(3, (int64_t[]){K, h, w}, act->data + b * K * h * w);
        g_autoptr(PvxTensor) up = pvx_explain_resize_bilinear(plane, H, W, TRUE);
        int64_t live = 0;
        g_autofree int64_t *live_k = g_new(int64_t, K);
        gboolean any_dead = FALSE;
        for (int64_t k = 0; k < K; k++) {
            float *u = up->data + k * HW;
            float mn = INFINITY, mx = -INFINITY;
            for (int64_t j = 0; j < HW; j++) {
                mn = fminf(mn, u[j]);
                mx = fmaxf(mx, u[j]);
            }
            if (mx == mn) { /* the mask is exactly 0 */
                any_dead = TRUE;
                continue;
            }
            float den = (mx - mn) + 1e-8f;
            for (int64_t j = 0; j < HW; j++)
                u[j] = (u[j] - mn) / den;
            masks[live] = u;
            live_k[live++] = k;
        }
        const float *x = req->input->data + b * C * HW;
        int64_t t = req->targets[b];
        g_autofree double *s = g_new(double, live + 1);
        if (!masked_scores(req->model, x, C, H, W, masks, live, t, req->batch_size, s, error))
            return FALSE;
        double dead = 0.0;
        const float *none = NULL;
        if (any_dead && !masked_scores(req->model, x, C, H, W, &none, 1, t, 1, &dead, error))
            return FALSE;
        forwards += live + (any_dead ? 1 : 0);
        for (int64_t k = 0; k < K; k++)
            scores[k] = dead;
        for (int64_t i = 0; i < live; i++)
            scores[live_k[i]] = s[i];
        double mx = -INFINITY, sum = 0.0;
        for (int64_t k = 0; k < K; k++)
            mx = fmax(mx, scores[k]);
        for (int64_t k = 0; k < K; k++)
            sum += weights[b * K + k] = exp(scores[k] - mx);
        for (int64_t k = 0; k < K; k++)
            weights[b * K + k] /= sum;
        g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
              "image %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
              " channels constant (one forward for all of them)",
              b, K - live, K);
    }
    g_log(LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
          "%" G_GINT64_FORMAT " masked forwards for %" G_GINT64_FORMAT " images", forwards, N);
    *maps_out = pvx_explain_weighted_sum(act, weights);
    return TRUE;
}

static const PvxExplainerClass klass = {
    .size = sizeof(PvxExplainerClass),
    .flags = PVX_EXPLAINER_LAYER | PVX_EXPLAINER_PERTURBATION,
    .explain = ex_explain,
};

PVX_PLUGIN_DEFINE(PVX_KIND_EXPLAINER, "scorecam", "1.0.0",
                  "Score-CAM: softmax of the target logits of the input masked by each upsampled "
                  "channel (one forward per channel; constant channels share one)",
                  NULL, &klass)
