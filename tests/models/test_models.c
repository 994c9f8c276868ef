/* The resnet, mobilenet and efficientnet plugins without PyTorch: parameter counts, default CAM
 * layers and aliases, prunable layers, the graph's joins, and the seeded initialisation. */
#include "models_test_util.h"

typedef struct {
    const char *arch;
    int64_t params; /* torchvision's sum(p.numel()) at 1000 classes (CIFAR ones: 10) */
} Count;

/* resnet20/32/56 and efficientnet_b1..b3: as tests/models/models_reference.py counts them. */
static const Count counts[] = {
    {"resnet18", 11689512},
    {"resnet34", 21797672},
    {"resnet50", 25557032},
    {"resnet101", 44549160},
    {"resnet152", 60192808},
    {"resnet20", 272474},
    {"resnet32", 466906},
    {"resnet56", 855770},
    {"mobilenet_v2", 3504872},
    {"mobilenet_v3_small", 2542856},
    {"mobilenet_v3_large", 5483032},
    {"efficientnet_b0", 5288548},
    {"efficientnet_b1", 7794184},
    {"efficientnet_b2", 9109994},
    {"efficientnet_b3", 12233232},
};

static PvxModel *build(const char *arch, const char *const *extra)
{
    gboolean cifar = models_test_is_cifar(arch);
    return models_test_build_arch(arch, extra, 3, 32, 32, cifar ? 10 : 1000);
}

static void models_param_counts_match_torchvision(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(counts); i++) {
        g_autoptr(PvxModel) m = build(counts[i].arch, NULL);
        g_test_message("%s: %" G_GINT64_FORMAT " parameters", counts[i].arch,
                       pvx_model_num_params(m));
        g_assert_cmpint(pvx_model_num_params(m), ==, counts[i].params);
        g_assert_cmpstr(pvx_model_arch(m), ==, counts[i].arch);
    }
}

/* The layer an alias (or a name) stands for. */
static const char *resolve(const PvxModel *m, const char *name)
{
    g_autoptr(GError) error = NULL;
    PvxLayer *l = pvx_model_find_layer(m, name, &error);
    g_assert_no_error(error);
    return l->name;
}

static void models_default_cam_layers_and_aliases(void)
{
    const struct {
        const char *arch, *target, *layer;
    } cases[] = {
        {"resnet18", "layer4", "layer4.1"},
        {"resnet50", "layer4", "layer4.2"},
        {"resnet20", "layer3", "layer3.2"},
        {"mobilenet_v2", "features.18", "features.18.2"},
        {"mobilenet_v3_small", "features.12", "features.12.2"},
        {"mobilenet_v3_large", "features.16", "features.16.2"},
        {"efficientnet_b0", "features.8", "features.8.2"},
        {"efficientnet_b3", "features.8", "features.8.2"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(PvxModel) m = build(cases[i].arch, NULL);
        g_assert_cmpstr(pvx_model_target_layer(m), ==, cases[i].target);
        g_assert_cmpstr(resolve(m, cases[i].target), ==, cases[i].layer);
        g_autoptr(GError) error = NULL;
        g_assert_true(pvx_model_tap(m, cases[i].target, &error));
        g_assert_no_error(error);
    }
    /* ResNet: the block's last ReLU carries the block's name; each stage is an alias. */
    g_autoptr(PvxModel) r = build("resnet18", NULL);
    g_assert_cmpint(pvx_model_find_layer(r, "layer1.1", NULL)->type, ==, PVX_LAYER_RELU);
    g_assert_cmpstr(resolve(r, "layer1"), ==, "layer1.1");
    g_assert_cmpstr(resolve(r, "layer3"), ==, "layer3.1");
    /* MobileNetV2: a residual block's sum is "features.N"; a block without one is an alias of
     * its last BN. */
    g_autoptr(PvxModel) v2 = build("mobilenet_v2", NULL);
    g_assert_cmpint(pvx_model_find_layer(v2, "features.3", NULL)->type, ==, PVX_LAYER_ADD);
    g_assert_cmpstr(resolve(v2, "features.2"), ==, "features.2.conv.3");
    g_assert_cmpstr(resolve(v2, "features.1"), ==, "features.1.conv.2");
    g_assert_cmpstr(resolve(v2, "features.0"), ==, "features.0.2");
    /* EfficientNet: blocks and stages. */
    g_autoptr(PvxModel) e = build("efficientnet_b0", NULL);
    g_assert_cmpint(pvx_model_find_layer(e, "features.2.1", NULL)->type, ==, PVX_LAYER_ADD);
    g_assert_cmpstr(resolve(e, "features.2.0"), ==, "features.2.0.block.3.1");
    g_assert_cmpstr(resolve(e, "features.2"), ==, "features.2.1");
    g_assert_cmpstr(resolve(e, "features.7"), ==, "features.7.0.block.3.1");
}

/* The joins and hyper-parameters torchvision's modules have. */
static void models_graph_matches_torchvision_modules(void)
{
    g_autoptr(PvxModel) r18 = build("resnet18", NULL);
    PvxLayer *add = pvx_model_find_layer(r18, "layer1.0.add", NULL);
    g_assert_cmpint(add->n_inputs, ==, 2);
    g_assert_cmpstr(add->inputs[0], ==, "layer1.0.bn2");
    g_assert_cmpstr(add->inputs[1], ==, "maxpool");
    PvxLayer *ds = pvx_model_find_layer(r18, "layer2.0.downsample.0", NULL);
    g_assert_cmpstr(ds->inputs[0], ==, "layer1.1");
    g_assert_cmpint(ds->conv.stride_h, ==, 2);
    g_assert_cmpint(pvx_model_find_layer(r18, "layer2.0.conv1", NULL)->conv.stride_h, ==, 2);
    g_assert_null(pvx_model_find_layer(r18, "layer1.0.downsample.0", NULL));
    PvxLayer *pool = pvx_model_find_layer(r18, "maxpool", NULL);
    g_assert_cmpint(pool->pool.kernel_h, ==, 3);
    g_assert_cmpint(pool->pool.pad_h, ==, 1);
    /* Bottleneck: the stride sits on the 3×3 conv (ResNet v1.5, as torchvision). */
    g_autoptr(PvxModel) r50 = build("resnet50", NULL);
    g_assert_cmpint(pvx_model_find_layer(r50, "layer2.0.conv1", NULL)->conv.stride_h, ==, 1);
    g_assert_cmpint(pvx_model_find_layer(r50, "layer2.0.conv2", NULL)->conv.stride_h, ==, 2);
    g_assert_nonnull(pvx_model_find_layer(r50, "layer1.0.downsample.0", NULL));
    /* Depthwise convolutions and squeeze-and-excitation. */
    g_autoptr(PvxModel) v2 = build("mobilenet_v2", NULL);
    PvxLayer *dw = pvx_model_find_layer(v2, "features.2.conv.1.0", NULL);
    g_assert_cmpint(dw->groups, ==, 96);
    g_assert_cmpint(dw->in_features, ==, 96);
    g_assert_cmpfloat(pvx_model_find_layer(v2, "features.2.conv.0.1", NULL)->eps, ==, 1e-5);
    g_autoptr(PvxModel) v3 = build("mobilenet_v3_small", NULL);
    PvxLayer *mul = pvx_model_find_layer(v3, "features.1.block.1", NULL);
    g_assert_cmpint(mul->type, ==, PVX_LAYER_MUL);
    g_assert_cmpstr(mul->inputs[0], ==, "features.1.block.0.2");
    g_assert_cmpstr(mul->inputs[1], ==, "features.1.block.1.scale_activation");
    g_assert_cmpint(pvx_model_find_layer(v3, "features.1.block.1.fc1", NULL)->out_features, ==, 8);
    PvxLayer *bn = pvx_model_find_layer(v3, "features.1.block.0.1", NULL);
    g_assert_cmpfloat(bn->eps, ==, 1e-3);
    g_assert_cmpfloat(bn->momentum, ==, 0.01);
    g_autoptr(PvxModel) e = build("efficientnet_b0", NULL);
    PvxLayer *sd = pvx_model_find_layer(e, "features.6.3.stochastic_depth", NULL);
    g_assert_cmpint(sd->type, ==, PVX_LAYER_STOCHASTIC_DEPTH);
    g_assert_cmpfloat_with_epsilon(sd->p, 0.2 * 14 / 16, 1e-12);
    g_assert_cmpint(pvx_model_find_layer(e, "features.6.3.block.2.fc1", NULL)->out_features, ==,
                    48);
    g_assert_cmpfloat_with_epsilon(pvx_model_find_layer(e, "classifier.0", NULL)->p, 0.2, 1e-12);
    g_autoptr(PvxModel) b3 = build("efficientnet_b3", NULL);
    g_assert_cmpfloat_with_epsilon(pvx_model_find_layer(b3, "classifier.0", NULL)->p, 0.3, 1e-12);
    const char *pairs[] = {"dropout=0", "stochastic_depth=0", NULL};
    g_autoptr(PvxModel) e0 = build("efficientnet_b0", pairs);
    g_assert_cmpfloat(pvx_model_find_layer(e0, "classifier.0", NULL)->p, ==, 0.0);
    g_assert_cmpfloat(pvx_model_find_layer(e0, "features.6.3.stochastic_depth", NULL)->p, ==, 0.0);
}

static void models_prunable_layers_are_every_conv_and_linear(void)
{
    const char *archs[] = {"resnet18", "mobilenet_v3_small", "efficientnet_b0", NULL};
    for (const char *const *a = archs; *a; a++) {
        g_autoptr(PvxModel) m = build(*a, NULL);
        const char *const *names = pvx_model_prunable_layers(m);
        int k = 0;
        for (int i = 0; i < pvx_model_n_layers(m); i++) {
            PvxLayer *l = pvx_model_layer(m, i);
            if (l->type != PVX_LAYER_CONV2D && l->type != PVX_LAYER_LINEAR)
                continue;
            g_assert_nonnull(names[k]);
            g_assert_cmpstr(names[k], ==, l->name);
            k++;
        }
        g_assert_null(names[k]);
        g_test_message("%s: %d prunable layers", *a, k);
    }
}

static void tensor_moments(const PvxTensor *t, double *mean, double *std, double *absmax)
{
    int64_t n = pvx_tensor_numel(t);
    double s = 0, s2 = 0, mx = 0;
    for (int64_t i = 0; i < n; i++) {
        s += t->data[i];
        s2 += (double)t->data[i] * t->data[i];
        mx = fmax(mx, fabs(t->data[i]));
    }
    *mean = s / n;
    *std = sqrt(s2 / n - *mean * *mean);
    *absmax = mx;
}

static PvxLayer *layer(const PvxModel *m, const char *name)
{
    g_autoptr(GError) error = NULL;
    PvxLayer *l = pvx_model_find_layer(m, name, &error);
    g_assert_no_error(error);
    return l;
}

static double max_abs_diff(const PvxTensor *a, const PvxTensor *b)
{
    g_assert_true(pvx_tensor_same_shape(a, b));
    double d = 0;
    for (int64_t i = 0; i < pvx_tensor_numel(a); i++)
        d = fmax(d, fabs((double)a->data[i] - b->data[i]));
    return d;
}

static gboolean all_equal(const PvxTensor *t, float v)
{
    for (int64_t i = 0; i < pvx_tensor_numel(t); i++)
        if (t->data[i] != v)
            return FALSE;
    return TRUE;
}

/* torchvision's init: conv Kaiming-normal (fan_out), BN 1/0, ResNet's fc U(±1/√in) for weight
 * and bias, MobileNet's linear normal(0, 0.01) with bias 0, EfficientNet's U(±1/√out), bias 0;
 * seeded, so the same seed gives the same weights. */
static void models_init_as_torchvision(void)
{
    double mean, std, mx;
    const char *seed3[] = {"seed=3", NULL};
    g_autoptr(PvxModel) r = build("resnet18", seed3);
    tensor_moments(layer(r, "layer3.0.conv2")->weight, &mean, &std, &mx);
    g_assert_cmpfloat(fabs(std / sqrt(2.0 / (256 * 9)) - 1), <, 0.02); /* 590k samples */
    g_assert_cmpfloat(fabs(mean), <, 0.01 * std);
    PvxLayer *fc = layer(r, "fc");
    double bound = 1 / sqrt(512.0);
    tensor_moments(fc->weight, &mean, &std, &mx);
    g_assert_cmpfloat(mx, <=, bound);
    g_assert_cmpfloat(mx, >, 0.999 * bound);
    g_assert_cmpfloat(fabs(std / (bound / sqrt(3.0)) - 1), <, 0.01);
    tensor_moments(fc->bias, &mean, &std, &mx);
    g_assert_cmpfloat(mx, <=, bound);
    g_assert_cmpfloat(fabs(std / (bound / sqrt(3.0)) - 1), <, 0.1); /* 1000 samples */
    g_assert_true(all_equal(layer(r, "layer1.0.bn2")->weight, 1.0f));
    g_assert_true(all_equal(layer(r, "layer1.0.bn2")->bias, 0.0f));
    g_assert_true(all_equal(layer(r, "layer1.0.bn2")->running_var, 1.0f));
    /* Same seed, same weights; another seed, other weights. */
    g_autoptr(PvxModel) r2 = build("resnet18", seed3);
    g_assert_cmpfloat(max_abs_diff(fc->weight, layer(r2, "fc")->weight), ==, 0.0);
    g_assert_cmpfloat(max_abs_diff(fc->bias, layer(r2, "fc")->bias), ==, 0.0);
    g_assert_cmpfloat(max_abs_diff(layer(r, "conv1")->weight, layer(r2, "conv1")->weight), ==, 0.0);
    g_autoptr(PvxModel) r0 = build("resnet18", NULL);
    g_assert_cmpfloat(max_abs_diff(fc->weight, layer(r0, "fc")->weight), >, 0.0);
    g_assert_cmpfloat(max_abs_diff(fc->bias, layer(r0, "fc")->bias), >, 0.0);
    /* weight and bias are separate streams */
    g_assert_cmpfloat(fabs(fc->weight->data[0] - fc->bias->data[0]), >, 0.0);

    const char *zero[] = {"zero_init_residual=true", NULL};
    g_autoptr(PvxModel) rz = build("resnet18", zero);
    g_assert_true(all_equal(layer(rz, "layer1.0.bn2")->weight, 0.0f));
    g_assert_true(all_equal(layer(rz, "layer4.1.bn2")->weight, 0.0f));
    g_assert_true(all_equal(layer(rz, "layer1.0.bn1")->weight, 1.0f));
    g_assert_true(all_equal(layer(rz, "layer2.0.downsample.1")->weight, 1.0f));
    g_autoptr(PvxModel) rz50 = build("resnet50", zero);
    g_assert_true(all_equal(layer(rz50, "layer1.0.bn3")->weight, 0.0f));
    g_assert_true(all_equal(layer(rz50, "layer1.0.bn2")->weight, 1.0f));

    g_autoptr(PvxModel) v2 = build("mobilenet_v2", NULL);
    PvxLayer *dw = layer(v2, "features.17.conv.1.0"); /* 960 channels, depthwise 3×3 */
    tensor_moments(dw->weight, &mean, &std, &mx);
    g_assert_cmpfloat(fabs(std / sqrt(2.0 / (960 * 9)) - 1), <, 0.05);
    tensor_moments(layer(v2, "classifier.1")->weight, &mean, &std, &mx);
    g_assert_cmpfloat(fabs(std / 0.01 - 1), <, 0.01);
    g_assert_true(all_equal(layer(v2, "classifier.1")->bias, 0.0f));
    g_autoptr(PvxModel) v3 = build("mobilenet_v3_large", NULL);
    g_assert_true(all_equal(layer(v3, "features.4.block.2.fc1")->bias, 0.0f));

    g_autoptr(PvxModel) e = build("efficientnet_b0", NULL);
    PvxLayer *head = layer(e, "classifier.1");
    tensor_moments(head->weight, &mean, &std, &mx);
    g_assert_cmpfloat(mx, <=, 1 / sqrt(1000.0));
    g_assert_cmpfloat(mx, >, 0.999 / sqrt(1000.0));
    g_assert_true(all_equal(head->bias, 0.0f));
}

/* A parameter out of its range is refused before the plugin runs, naming the parameter. */
static void models_bad_params_name_the_param(void)
{
    const struct {
        const char *plugin, *pair, *param;
    } cases[] = {
        {"mobilenet", "width_mult=0", "width_mult"},
        {"mobilenet", "dropout=1", "dropout"},
        {"efficientnet", "stochastic_depth=1", "stochastic_depth"},
        {"resnet", "arch=resnet19", "arch"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *pairs[] = {cases[i].pair, NULL};
        g_autoptr(GError) error = NULL;
        g_autoptr(PvxModel) m = models_test_build(cases[i].plugin, pairs, 3, 32, 32, 10, &error);
        g_assert_null(m);
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_assert_nonnull(strstr(error->message, cases[i].param));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/models/param_counts_match_torchvision",
                    models_param_counts_match_torchvision);
    g_test_add_func("/models/default_cam_layers_and_aliases",
                    models_default_cam_layers_and_aliases);
    g_test_add_func("/models/graph_matches_torchvision_modules",
                    models_graph_matches_torchvision_modules);
    g_test_add_func("/models/prunable_layers_are_every_conv_and_linear",
                    models_prunable_layers_are_every_conv_and_linear);
    g_test_add_func("/models/init_as_torchvision", models_init_as_torchvision);
    g_test_add_func("/models/bad_params_name_the_param", models_bad_params_name_the_param);
    return g_test_run();
}
