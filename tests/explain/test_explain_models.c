/* All eleven explainers on every graph model plugin, without PyTorch: resnet20 (1×28×28),
 * resnet18, mobilenet_v2, mobilenet_v3_small and efficientnet_b0 (3×40×40, which their five
 * stride-2 stages bring to 2×2 at the CAM layer), seeded plugin init, batch 2, 10 classes. Each
 * model's default CAM layer must be the one practitioners use (ResNet: layer4, or layer3 for the
 * CIFAR-style ones; MobileNet and EfficientNet: the last features block), and every explainer
 * must return [2, h, w] maps — h×w the layer's for CAM methods, the input's for saliency,
 * integrated gradients and occlusion — finite and, per image, not all zero. Few steps and
 * windows keep the whole file fast; the formulas themselves are checked against PyTorch in
 * test_explain_torch.c. */
#include <stdio.h>

#include "explain_test_util.h"

typedef struct {
    const char *arch, *plugin, *layer;
    int64_t c, hw, cam_hw; /* input channels and size, the CAM layer's size */
} ModelCase;

static const ModelCase model_cases[] = {
    {"resnet20", "resnet", "layer3", 1, 28, 7},
    {"resnet18", "resnet", "layer4", 3, 40, 2},
    {"mobilenet_v2", "mobilenet", "features.18", 3, 40, 2},
    {"mobilenet_v3_small", "mobilenet", "features.12", 3, 40, 2},
    {"efficientnet_b0", "efficientnet", "features.8", 3, 40, 2},
};

typedef struct {
    const char *method;
    gboolean at_layer; /* maps at the CAM layer's size, else at the input's */
    const char *pairs[4];
} MethodCase;

static const MethodCase method_cases[] = {
    {"gradcam", TRUE, {NULL}},
    {"gradcam++", TRUE, {NULL}},
    {"hirescam", TRUE, {NULL}},
    {"xgradcam", TRUE, {NULL}},
    {"layercam", TRUE, {NULL}},
    {"scorecam", TRUE, {NULL}},
    {"ablationcam", TRUE, {NULL}},
    {"eigencam", TRUE, {NULL}},
    {"saliency", FALSE, {NULL}},
    {"integrated-gradients", FALSE, {"steps=4", NULL}},
    {"occlusion", FALSE, {"patch=16", "stride=12", NULL}},
};

#define BATCH 2

static PvxTensor *random_input(const ModelCase *mc, guint32 seed)
{
    PvxTensor *x = pvx_tensor_new_shape(4, (int64_t)BATCH, mc->c, mc->hw, mc->hw);
    GRand *r = g_rand_new_with_seed(seed);
    for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
        x->data[i] = (float)g_rand_double_range(r, -2, 2);
    g_rand_free(r);
    return x;
}

static void check_maps(const ModelCase *mc, const MethodCase *xc, const PvxTensor *maps)
{
    int64_t hw = xc->at_layer ? mc->cam_hw : mc->hw;
    g_autofree char *shape = pvx_tensor_shape_string(maps);
    if (maps->ndim != 3 || maps->shape[0] != BATCH || maps->shape[1] != hw || maps->shape[2] != hw)
        g_error("%s %s: maps of shape %s, expected [%d, %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                "]",
                mc->arch, xc->method, shape, BATCH, hw, hw);
    int64_t per = hw * hw;
    for (int64_t b = 0; b < BATCH; b++) {
        double mx = 0.0;
        for (int64_t i = 0; i < per; i++) {
            float v = maps->data[b * per + i];
            if (!isfinite(v))
                g_error("%s %s: image %" G_GINT64_FORMAT
                        " has a non-finite value at %" G_GINT64_FORMAT,
                        mc->arch, xc->method, b, i);
            mx = fmax(mx, fabs(v));
        }
        if (mx == 0.0)
            g_error("%s %s: image %" G_GINT64_FORMAT "'s map is all zero", mc->arch, xc->method, b);
    }
}

static void explain_every_method_on_model(gconstpointer data)
{
    const ModelCase *mc = data;
    g_autoptr(GError) error = NULL;
    g_autofree char *arch = g_strdup_printf("arch=%s", mc->arch);
    const char *pairs[] = {arch, NULL};
    g_autoptr(PvxModel) m =
        ex_test_build_model(mc->plugin, pairs, mc->c, mc->hw, mc->hw, 10, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(pvx_model_target_layer(m), ==, mc->layer);
    g_autoptr(PvxTensor) x = random_input(mc, 17);
    for (gsize k = 0; k < G_N_ELEMENTS(method_cases); k++) {
        const MethodCase *xc = &method_cases[k];
        g_autoptr(PvxExplainer) ex =
            pvx_explainer_open_by_name(ex_test_registry(), xc->method, xc->pairs, &error);
        g_assert_no_error(error);
        PvxExplainOptions o = {.mode = PVX_TARGET_PREDICTED, .batch_size = 32};
        gint64 t0 = g_get_monotonic_time();
        g_autoptr(PvxTensor) maps = pvx_explain(ex, m, x, &o, NULL, NULL, &error);
        if (!maps)
            g_error("%s %s: %s", mc->arch, xc->method, error->message);
        printf("# %-18s %-20s %6.2f s\n", mc->arch, xc->method,
               (double)(g_get_monotonic_time() - t0) / 1e6);
        check_maps(mc, xc, maps);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(model_cases); i++) {
        g_autofree char *name =
            g_strdup_printf("/explain-models/%s/every_method_runs", model_cases[i].arch);
        g_test_add_data_func(name, &model_cases[i], explain_every_method_on_model);
    }
    return g_test_run();
}
