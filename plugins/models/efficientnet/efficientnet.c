/* pvx model plugin "efficientnet": torchvision's EfficientNet-B0..B3 with exactly its module
 * structure and state-dict names.
 *
 * features.0            Conv2dNormActivation 3×3/2 to 32·w channels, SiLU (.0 conv, .1 BN, .2)
 * features.1..7         seven stages of MBConv blocks features.S.B:
 *                         .block.0   1×1 expand, BN, SiLU (absent when the ratio is 1)
 *                         .block.1   k×k depthwise (the stage's first block carries the stride)
 *                         .block.2   SqueezeExcitation: .avgpool .fc1 (to max(1, in/4)) .activation
 *                                    (SiLU) .fc2 .scale_activation (sigmoid), the product itself
 *                         .block.3   1×1 project + BN
 *                         .stochastic_depth, and the sum with the block's input, which is the
 *                                    layer "features.S.B" (only where stride is 1 and the width
 *                                    stays; elsewhere "features.S.B" is an alias of .block.3.1)
 * features.8            Conv2dNormActivation 1×1 to 4× the last width (1280 for B0), SiLU
 * avgpool flatten       global average, torch.flatten
 * classifier.0 .1       dropout, linear
 * Stage S's name "features.S" is an alias of its last block. Widths and depths scale as
 * torchvision's MBConvConfig: channels _make_divisible(c·w, 8), repeats ceil(n·d), with (w, d) =
 * (1.0, 1.0), (1.0, 1.1), (1.1, 1.2), (1.2, 1.4) for B0..B3. Stochastic depth of the k-th of K
 * blocks: p·k/K. BN: PyTorch's defaults (eps 1e-5, momentum 0.1), as torchvision's B0..B3.
 */
#include <string.h>

#include <pvx/pvx.h>

#include "torchvision_blocks.h"

static const char *const arch_choices[] = {
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", NULL,
};

static const PvxParamSpec efficientnet_params[] = {
    {"arch", PVX_PARAM_CHOICE, "efficientnet_b0", 0, 0, 0, arch_choices, "torchvision's variant"},
    {"dropout", PVX_PARAM_DOUBLE, NULL, PVX_PARAM_NULLABLE | PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX,
     0.0, 0.99, NULL, "dropout before the classifier; null = torchvision's (0.2 B0/B1, 0.3 B2/B3)"},
    {"stochastic_depth", PVX_PARAM_DOUBLE, "0.2", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0.0, 0.99,
     NULL, "stochastic depth probability of the last block (block k of K: p·k/K)"},
    {"seed", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "seed of the initial weights (Kaiming-normal conv, BN 1/0, linear U(±1/sqrt(out)), zero "
     "biases)"},
    PVX_PARAM_SPEC_END,
};

/* torchvision's MBConvConfig rows for B0 before scaling: expand ratio, kernel, stride, input
 * and output channels, repeats. */
static const int stages[7][6] = {
    {1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},   {6, 5, 2, 24, 40, 2},   {6, 3, 2, 40, 80, 3},
    {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1},
};

typedef struct {
    const char *arch;
    double width, depth, dropout;
} Variant;

static const Variant variants[] = {
    {"efficientnet_b0", 1.0, 1.0, 0.2},
    {"efficientnet_b1", 1.0, 1.1, 0.2},
    {"efficientnet_b2", 1.1, 1.2, 0.3},
    {"efficientnet_b3", 1.2, 1.4, 0.3},
};

static int stage_repeats(int s, double depth)
{
    return (int)ceil(stages[s][5] * depth);
}

/* One MBConv block @block reading layer @input; on return @input names its output layer. */
static gboolean add_mbconv(PvxModel *m, const char *block, char *input, int64_t in, int64_t out,
                           int ratio, int kernel, int stride, double sd_prob, GError **error)
{
    char name[TV_NAME_MAX], last[TV_NAME_MAX];
    int64_t expanded = tv_make_divisible((double)in * ratio, 8);
    int k = 0;
    const char *from = input;
    if (expanded != in) {
        g_snprintf(name, sizeof name, "%s.block.%d", block, k++);
        if (!tv_conv_norm_act(m, name, from, in, expanded, 1, 1, 1, 1e-5, 0.1, PVX_LAYER_SILU, last,
                              error))
            return FALSE;
        from = NULL;
    }
    g_snprintf(name, sizeof name, "%s.block.%d", block, k++);
    if (!tv_conv_norm_act(m, name, from, expanded, expanded, kernel, stride, (int)expanded, 1e-5,
                          0.1, PVX_LAYER_SILU, last, error))
        return FALSE;
    g_snprintf(name, sizeof name, "%s.block.%d", block, k++);
    if (!tv_squeeze_excitation(m, name, last, expanded, MAX(1, in / 4), PVX_LAYER_SILU,
                               PVX_LAYER_SIGMOID, error))
        return FALSE;
    g_snprintf(name, sizeof name, "%s.block.%d", block, k++);
    if (!tv_conv_norm_act(m, name, NULL, expanded, out, 1, 1, 1, 1e-5, 0.1, 0, last, error))
        return FALSE;
    if (stride == 1 && in == out) {
        g_snprintf(name, sizeof name, "%s.stochastic_depth", block);
        pvx_model_add_stochastic_depth(m, name, sd_prob);
        const char *sum[] = {name, input, NULL};
        pvx_model_add_add(m, block, sum);
        g_strlcpy(input, block, TV_NAME_MAX);
        return TRUE;
    }
    if (!pvx_model_add_alias(m, block, last, error))
        return FALSE;
    g_strlcpy(input, last, TV_NAME_MAX);
    return TRUE;
}

static PvxModel *efficientnet_build(const PvxParams *params, const int64_t chw[3], int num_classes,
                                    GError **error)
{
    const char *arch = pvx_params_get_string(params, "arch");
    const Variant *v = NULL;
    for (gsize i = 0; i < G_N_ELEMENTS(variants); i++)
        if (strcmp(variants[i].arch, arch) == 0)
            v = &variants[i];
    g_return_val_if_fail(v != NULL, NULL); /* the core validated the choice */
    double dropout = pvx_params_has_value(params, "dropout")
                         ? pvx_params_get_double(params, "dropout")
                         : v->dropout;
    double sd = pvx_params_get_double(params, "stochastic_depth");
    g_autoptr(PvxModel) m = pvx_model_new(v->arch);
    char input[TV_NAME_MAX], block[TV_NAME_MAX], stage[TV_NAME_MAX];
    int64_t in = tv_make_divisible(stages[0][3] * v->width, 8);
    if (!tv_conv_norm_act(m, "features.0", PVX_MODEL_INPUT, chw[0], in, 3, 2, 1, 1e-5, 0.1,
                          PVX_LAYER_SILU, input, error) ||
        !pvx_model_add_alias(m, "features.0", input, error))
        return NULL;
    int total = 0, id = 0;
    for (int s = 0; s < 7; s++)
        total += stage_repeats(s, v->depth);
    for (int s = 0; s < 7; s++) {
        int64_t out = tv_make_divisible(stages[s][4] * v->width, 8);
        for (int b = 0; b < stage_repeats(s, v->depth); b++, id++) {
            g_snprintf(block, sizeof block, "features.%d.%d", s + 1, b);
            if (!add_mbconv(m, block, input, b == 0 ? in : out, out, stages[s][0], stages[s][1],
                            b == 0 ? stages[s][2] : 1, sd * id / total, error))
                return NULL;
        }
        in = out;
        g_snprintf(stage, sizeof stage, "features.%d", s + 1);
        if (!pvx_model_add_alias(m, stage, input, error))
            return NULL;
    }
    if (!tv_conv_norm_act(m, "features.8", NULL, in, 4 * in, 1, 1, 1, 1e-5, 0.1, PVX_LAYER_SILU,
                          input, error) ||
        !pvx_model_add_alias(m, "features.8", input, error))
        return NULL;
    pvx_model_add_adaptive_avgpool2d(m, "avgpool", 1, 1);
    pvx_model_add_flatten(m, "flatten");
    pvx_model_add_dropout(m, "classifier.0", dropout);
    PvxLayer *fc = pvx_model_add_linear(m, "classifier.1", 4 * in, num_classes, TRUE);
    if (!tv_check_input(m, v->arch, chw, error))
        return NULL;
    guint64 seed = (guint64)pvx_params_get_int(params, "seed");
    /* pvx_model_init is torchvision's init for the convs and BNs; the linear layer draws
     * U(±1/√out_features) with bias 0 instead of normal(0, 0.01). */
    pvx_model_init(m, seed);
    tv_fill_uniform(fc->weight, 1.0 / sqrt((double)num_classes), seed,
                    (guint64)pvx_model_layer_index(m, "classifier.1"));
    g_debug("built %s: %" G_GINT64_FORMAT " parameters", v->arch, pvx_model_num_params(m));
    return g_steal_pointer(&m);
}

/* The last features block, features.8 (1×1 conv, BN, SiLU). */
static const char *efficientnet_target_layer(const PvxModel *m)
{
    (void)m;
    return "features.8";
}

static const PvxModelClass efficientnet_class = {
    .size = sizeof(PvxModelClass),
    .build = efficientnet_build,
    .target_layer = efficientnet_target_layer,
    .prunable_layers = NULL, /* every conv2d and linear layer */
};

PVX_PLUGIN_DEFINE(PVX_KIND_MODEL, "efficientnet", "1.0.0",
                  "EfficientNet-B0..B3 as torchvision builds them", efficientnet_params,
                  &efficientnet_class)
