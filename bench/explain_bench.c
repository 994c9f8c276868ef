/* explain-bench — Grad-CAM on VGG-16 at 224×224 in pvx and in PyTorch, in the same run, and the
 * cost of Score-CAM.
 *
 * Grad-CAM at batch B (default 8), target layer features.29, fixed target class; per image time
 * = the minimum over --reps repetitions (after one warm-up) / B. Two pvx numbers:
 *   pvx_explain   what `pvx explain` and the stage pay: the core's checking inference forward
 *                 (logits for the targets, the layer's shape) + the plugin's forward that keeps
 *                 activations + backward down to features.29 + the weighted sum;
 *   gradcam core  the computation alone (forward + backward to the layer + sum), what the
 *                 PyTorch side computes (hooks at features[29], autograd.grad to that tensor).
 * Score-CAM: one forward per live channel of features.29 (512 at most; constant channels share
 * one), batched; measured as the inference time of a batch of --score-batch masked images and
 * extrapolated to the image's live channels (a full Score-CAM of one VGG-16 image is minutes on
 * two cores), unless --scorecam-full.
 *
 *   build-x/bench/explain-bench [--batch 8] [--reps 3] [--no-torch] [--scorecam-full]
 */
#include <stdio.h>
#include <string.h>

#include "pvx-private/core.h"

static double now(void)
{
    return (double)g_get_monotonic_time() / 1e6;
}

int main(int argc, char **argv)
{
    int batch = 8, reps = 3, score_batch = 16;
    gboolean no_torch = FALSE, score_full = FALSE;
    GOptionEntry entries[] = {
        {"batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Grad-CAM batch (8)", "B"},
        {"reps", 'r', 0, G_OPTION_ARG_INT, &reps, "repetitions (3)", "R"},
        {"score-batch", 0, 0, G_OPTION_ARG_INT, &score_batch, "Score-CAM forward batch (16)", "B"},
        {"no-torch", 0, 0, G_OPTION_ARG_NONE, &no_torch, "skip PyTorch", NULL},
        {"scorecam-full", 0, 0, G_OPTION_ARG_NONE, &score_full, "run a whole Score-CAM", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("— Grad-CAM / Score-CAM benchmark");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || batch < 1 || reps < 1) {
        fprintf(stderr, "explain-bench: %s\n", error ? error->message : "bad arguments");
        return 2;
    }
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    if (!pvx_registry_scan_dir(reg, PVX_BENCH_PLUGIN_DIR, NULL, &error))
        g_error("%s", error->message);
    const PvxPlugin *vgg = pvx_registry_lookup(reg, PVX_KIND_MODEL, "vgg", &error);
    g_autoptr(PvxParams) params =
        vgg ? pvx_params_new_defaults(vgg->params, "model vgg", &error) : NULL;
    int64_t chw[3] = {3, 224, 224};
    g_autoptr(PvxModel) m = params ? pvx_model_build(vgg, params, chw, 1000, &error) : NULL;
    if (!m)
        g_error("%s", error->message);
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)batch, (int64_t)3, (int64_t)224, (int64_t)224);
    GRand *r = g_rand_new_with_seed(1);
    for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
        x->data[i] = (float)g_rand_double_range(r, -2, 2);
    g_rand_free(r);
    g_autofree int64_t *targets = g_new(int64_t, batch);
    for (int i = 0; i < batch; i++)
        targets[i] = 7;
    g_autoptr(PvxExplainer) ex = pvx_explainer_open_by_name(reg, "gradcam", NULL, &error);
    if (!ex)
        g_error("%s", error->message);
    printf("threads %d, VGG-16 224x224, Grad-CAM at features.29, batch %d\n", pvx_num_threads(),
           batch);
    double best_full = 1e30, best_core = 1e30;
    for (int rep = 0; rep <= reps; rep++) {
        PvxExplainOptions o = {.mode = PVX_TARGET_FIXED, .fixed = 7};
        double t0 = now();
        g_autoptr(PvxTensor) maps = pvx_explain(ex, m, x, &o, NULL, NULL, &error);
        double t1 = now();
        if (!maps)
            g_error("%s", error->message);
        g_autoptr(PvxTensor) act = NULL, grad = NULL;
        if (!pvx_explain_layer_gradients(m, x, targets, "features.29", &act, &grad, NULL, &error))
            g_error("%s", error->message);
        int64_t K = act->shape[1], P = act->shape[2] * act->shape[3];
        g_autofree double *w = g_new(double, batch *K);
        for (int64_t i = 0; i < batch * K; i++) {
            double s = 0;
            for (int64_t j = 0; j < P; j++)
                s += grad->data[i * P + j];
            w[i] = s / (double)P;
        }
        g_autoptr(PvxTensor) cam = pvx_explain_weighted_sum(act, w);
        double t2 = now();
        if (rep > 0) { /* rep 0 warms up */
            best_full = MIN(best_full, t1 - t0);
            best_core = MIN(best_core, t2 - t1);
        }
    }
    printf("pvx   gradcam pvx_explain   %8.1f ms/image\n", 1e3 * best_full / batch);
    printf("pvx   gradcam core          %8.1f ms/image\n", 1e3 * best_core / batch);
    double torch = 0;
    if (!no_torch) {
        g_autofree char *b = g_strdup_printf("%d", batch);
        g_autofree char *rp = g_strdup_printf("%d", reps);
        g_autofree char *th = g_strdup_printf("%d", pvx_num_threads());
        const char *child[] = {
            "/usr/bin/python3", PVX_BENCH_SOURCE_DIR "/explain_bench_torch.py", th, b, rp, NULL};
        g_autofree char *out = NULL;
        int status = 0;
        if (!g_spawn_sync(NULL, (char **)child, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                          &status, &error) ||
            !g_spawn_check_wait_status(status, &error))
            g_error("explain_bench_torch.py: %s", error->message);
        torch = g_ascii_strtod(out, NULL);
        printf("torch gradcam               %8.1f ms/image\n", 1e3 * torch / batch);
        printf("speed-up vs torch: core %.2fx, pvx_explain %.2fx (target >= 1.5x)\n",
               torch / best_core, torch / best_full);
    }
    /* Score-CAM's cost on one image. */
    g_autoptr(PvxTensor) one = pvx_tensor_narrow0(x, 0, 1);
    g_autoptr(PvxTensor) one_c = pvx_tensor_copy(one);
    g_autoptr(PvxTensor) act = pvx_explain_layer_activation(m, one_c, "features.29", NULL, &error);
    int64_t K = act->shape[1], P = act->shape[2] * act->shape[3], live = 0;
    for (int64_t k = 0; k < K; k++) {
        float mn = act->data[k * P], mx = mn;
        for (int64_t j = 1; j < P; j++) {
            mn = MIN(mn, act->data[k * P + j]);
            mx = MAX(mx, act->data[k * P + j]);
        }
        live += mx != mn;
    }
    g_autoptr(PvxTensor) xs =
        pvx_tensor_new_shape(4, (int64_t)score_batch, (int64_t)3, (int64_t)224, (int64_t)224);
    for (int i = 0; i < score_batch; i++)
        memcpy(xs->data + (int64_t)i * 3 * 224 * 224, one_c->data, sizeof(float) * 3 * 224 * 224);
    double t0 = now();
    g_autoptr(PvxTensor) y = pvx_model_forward(m, xs, PVX_FORWARD_INFERENCE, &error);
    double per_fwd = (now() - t0) / score_batch;
    printf("scorecam: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
           " channels live -> %" G_GINT64_FORMAT " forwards; %.1f ms per masked image at batch "
           "%d -> about %.0f s per image (%.0fx Grad-CAM)\n",
           live, K, live + (live < K), 1e3 * per_fwd, score_batch, (live + (live < K)) * per_fwd,
           (live + (live < K)) * per_fwd / (best_core / batch));
    if (score_full) {
        g_autoptr(PvxExplainer) sc = pvx_explainer_open_by_name(reg, "scorecam", NULL, &error);
        PvxExplainOptions o = {.mode = PVX_TARGET_FIXED, .fixed = 7, .batch_size = score_batch};
        t0 = now();
        g_autoptr(PvxTensor) maps = pvx_explain(sc, m, one_c, &o, NULL, NULL, &error);
        if (!maps)
            g_error("%s", error->message);
        printf("scorecam full: %.1f s for one image\n", now() - t0);
    }
    return 0;
}
