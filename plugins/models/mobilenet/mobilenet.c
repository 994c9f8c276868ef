/* pvx model plugin "mobilenet": torchvision's MobileNetV2 and MobileNetV3 (small, large) with
 * exactly its module structure and state-dict names.
 *
 * mobilenet_v2
 *   features.0            Conv2dNormActivation 3×3/2 (.0 conv, .1 BN, .2 ReLU6)
 *   features.1..17        InvertedResidual: .conv.0 1×1 expand (Conv2dNormActivation, absent
 *                         when the expansion is 1), .conv.1 3×3 depthwise, .conv.2 1×1 project,
 *                         .conv.3 BN; where stride is 1 and the width stays, the sum with the
 *                         block's input is the layer "features.N" itself
 *   features.18           Conv2dNormActivation 1×1 to 1280·max(1, width_mult)
 *   avgpool flatten       (functional in torchvision: no state)
 *   classifier.0 .1       dropout, linear
 * mobilenet_v3_small / _large
 *   features.0            Conv2dNormActivation 3×3/2, hardswish
 *   features.1..N-1       InvertedResidual: .block.0 expand, .block.1 depthwise k×k, [.block.2
 *                         SqueezeExcitation (.fc1 .fc2 1×1 convs with bias, ReLU, hardsigmoid)],
 *                         then the 1×1 project conv + BN; ReLU or hardswish per block as in
 *                         the paper's tables; the residual sum is the layer "features.N"
 *   features.N            Conv2dNormActivation 1×1 to 6× the last width, hardswish
 *   avgpool flatten       global average, torch.flatten
 *   classifier.0 .1 .2 .3 linear, hardswish, dropout, linear
 * BN: eps 1e-3, momentum 0.01 in v3 (torchvision's choice), PyTorch's defaults in v2.
 * Every block's output answers to "features.N": the residual sum carries the name, and an alias
 * names the last layer of the other blocks. The default CAM layer is the last one
 * (features.18 for v2, features.12 / features.16 for v3 small / large).
 */
#include <string.h>

#include <pvx/pvx.h>

#include "torchvision_blocks.h"

static const char *const arch_choices[] = {
    "mobilenet_v2",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    NULL,
};

static const PvxParamSpec mobilenet_params[] = {
    {"arch", PVX_PARAM_CHOICE, "mobilenet_v2", 0, 0, 0, arch_choices, "torchvision's variant"},
    {"width_mult", PVX_PARAM_DOUBLE, "1.0", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0.05, 8.0, NULL,
     "multiplier of every width, rounded to multiples of 8 as torchvision does"},
    {"dropout", PVX_PARAM_DOUBLE, "0.2", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0.0, 0.99, NULL,
     "dropout probability in the classifier"},
    {"seed", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "seed of the initial weights (Kaiming-normal conv, BN 1/0, linear normal(0, 0.01), zero "
     "biases)"},
    PVX_PARAM_SPEC_END,
};

/* One row of the MobileNetV3 paper's tables 1 and 2, as torchvision's InvertedResidualConfig
 * holds it before the width multiplier. */
typedef struct {
    int in, kernel, expanded, out;
    gboolean se, hardswish;
    int stride;
} V3Row;

static const V3Row v3_large[] = {
    {16, 3, 16, 16, FALSE, FALSE, 1},  {16, 3, 64, 24, FALSE, FALSE, 2},
    {24, 3, 72, 24, FALSE, FALSE, 1},  {24, 5, 72, 40, TRUE, FALSE, 2},
    {40, 5, 120, 40, TRUE, FALSE, 1},  {40, 5, 120, 40, TRUE, FALSE, 1},
    {40, 3, 240, 80, FALSE, TRUE, 2},  {80, 3, 200, 80, FALSE, TRUE, 1},
    {80, 3, 184, 80, FALSE, TRUE, 1},  {80, 3, 184, 80, FALSE, TRUE, 1},
    {80, 3, 480, 112, TRUE, TRUE, 1},  {112, 3, 672, 112, TRUE, TRUE, 1},
    {112, 5, 672, 160, TRUE, TRUE, 2}, {160, 5, 960, 160, TRUE, TRUE, 1},
    {160, 5, 960, 160, TRUE, TRUE, 1},
};

static const V3Row v3_small[] = {
    {16, 3, 16, 16, TRUE, FALSE, 2},  {16, 3, 72, 24, FALSE, FALSE, 2},
    {24, 3, 88, 24, FALSE, FALSE, 1}, {24, 5, 96, 40, TRUE, TRUE, 2},
    {40, 5, 240, 40, TRUE, TRUE, 1},  {40, 5, 240, 40, TRUE, TRUE, 1},
    {40, 5, 120, 48, TRUE, TRUE, 1},  {48, 5, 144, 48, TRUE, TRUE, 1},
    {48, 5, 288, 96, TRUE, TRUE, 2},  {96, 5, 576, 96, TRUE, TRUE, 1},
    {96, 5, 576, 96, TRUE, TRUE, 1},
};

/* MobileNetV2's (t, c, n, s): expansion, width, repeats, first stride. */
static const int v2_setting[][4] = {
    {1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2},  {6, 64, 4, 2},
    {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
};

/* Ends block "features.N" whose last layer is @last: with a residual the sum of @last and the
 * block's @input is the layer "features.N"; otherwise "features.N" becomes an alias of @last.
 * Either way @input (TV_NAME_MAX) then names the block's output layer. */
static gboolean end_block(PvxModel *m, const char *block, const char *last, gboolean residual,
                          char *input, GError **error)
{
    if (residual) {
        const char *sum[] = {last, input, NULL};
        pvx_model_add_add(m, block, sum);
        g_strlcpy(input, block, TV_NAME_MAX);
        return TRUE;
    }
    if (!pvx_model_add_alias(m, block, last, error))
        return FALSE;
    g_strlcpy(input, last, TV_NAME_MAX);
    return TRUE;
}

static gboolean build_v2(PvxModel *m, int64_t c, double width, int num_classes, double dropout,
                         GError **error)
{
    char input[TV_NAME_MAX], last[TV_NAME_MAX], block[TV_NAME_MAX], name[TV_NAME_MAX];
    int64_t in = tv_make_divisible(32 * width, 8);
    int64_t last_channel = tv_make_divisible(1280 * MAX(1.0, width), 8);
    const double eps = 1e-5, mom = 0.1;
    if (!tv_conv_norm_act(m, "features.0", PVX_MODEL_INPUT, c, in, 3, 2, 1, eps, mom,
                          PVX_LAYER_RELU6, last, error) ||
        !end_block(m, "features.0", last, FALSE, input, error))
        return FALSE;
    int idx = 1;
    for (gsize r = 0; r < G_N_ELEMENTS(v2_setting); r++) {
        int t = v2_setting[r][0], n = v2_setting[r][2], s = v2_setting[r][3];
        int64_t out = tv_make_divisible(v2_setting[r][1] * width, 8);
        for (int i = 0; i < n; i++, idx++) {
            int stride = i == 0 ? s : 1;
            int64_t hidden = in * t;
            int k = 0; /* index inside .conv */
            g_snprintf(block, sizeof block, "features.%d", idx);
            const char *from = input;
            if (t != 1) {
                g_snprintf(name, sizeof name, "%s.conv.%d", block, k++);
                if (!tv_conv_norm_act(m, name, from, in, hidden, 1, 1, 1, eps, mom, PVX_LAYER_RELU6,
                                      last, error))
                    return FALSE;
                from = NULL;
            }
            g_snprintf(name, sizeof name, "%s.conv.%d", block, k++);
            if (!tv_conv_norm_act(m, name, from, hidden, hidden, 3, stride, (int)hidden, eps, mom,
                                  PVX_LAYER_RELU6, last, error))
                return FALSE;
            PvxConv2dParams p1 = {0};
            g_snprintf(name, sizeof name, "%s.conv.%d", block, k++);
            pvx_model_add_conv2d_full(m, name, hidden, out, 1, 1, &p1, 1, FALSE);
            g_snprintf(last, sizeof last, "%s.conv.%d", block, k++);
            pvx_model_add_batchnorm2d(m, last, out);
            if (!end_block(m, block, last, stride == 1 && in == out, input, error))
                return FALSE;
            in = out;
        }
    }
    g_snprintf(block, sizeof block, "features.%d", idx);
    if (!tv_conv_norm_act(m, block, NULL, in, last_channel, 1, 1, 1, eps, mom, PVX_LAYER_RELU6,
                          last, error) ||
        !end_block(m, block, last, FALSE, input, error))
        return FALSE;
    pvx_model_add_adaptive_avgpool2d(m, "avgpool", 1, 1);
    pvx_model_add_flatten(m, "flatten");
    pvx_model_add_dropout(m, "classifier.0", dropout);
    pvx_model_add_linear(m, "classifier.1", last_channel, num_classes, TRUE);
    return TRUE;
}

static gboolean build_v3(PvxModel *m, gboolean large, int64_t c, double width, int num_classes,
                         double dropout, GError **error)
{
    char input[TV_NAME_MAX], last[TV_NAME_MAX], block[TV_NAME_MAX], name[TV_NAME_MAX];
    const V3Row *rows = large ? v3_large : v3_small;
    gsize n_rows = large ? G_N_ELEMENTS(v3_large) : G_N_ELEMENTS(v3_small);
    int64_t last_channel = tv_make_divisible((large ? 1280 : 1024) * width, 8);
    const double eps = 1e-3, mom = 0.01;
    int64_t first = tv_make_divisible(rows[0].in * width, 8);
    if (!tv_conv_norm_act(m, "features.0", PVX_MODEL_INPUT, c, first, 3, 2, 1, eps, mom,
                          PVX_LAYER_HARDSWISH, last, error) ||
        !end_block(m, "features.0", last, FALSE, input, error))
        return FALSE;
    int64_t in = first;
    for (gsize r = 0; r < n_rows; r++) {
        const V3Row *row = &rows[r];
        int64_t expanded = tv_make_divisible(row->expanded * width, 8);
        int64_t out = tv_make_divisible(row->out * width, 8);
        PvxLayerType act = row->hardswish ? PVX_LAYER_HARDSWISH : PVX_LAYER_RELU;
        int k = 0;
        g_snprintf(block, sizeof block, "features.%d", (int)r + 1);
        const char *from = input;
        if (expanded != in) {
            g_snprintf(name, sizeof name, "%s.block.%d", block, k++);
            if (!tv_conv_norm_act(m, name, from, in, expanded, 1, 1, 1, eps, mom, act, last, error))
                return FALSE;
            from = NULL;
        }
        g_snprintf(name, sizeof name, "%s.block.%d", block, k++);
        if (!tv_conv_norm_act(m, name, from, expanded, expanded, row->kernel, row->stride,
                              (int)expanded, eps, mom, act, last, error))
            return FALSE;
        if (row->se) {
            g_snprintf(name, sizeof name, "%s.block.%d", block, k++);
            if (!tv_squeeze_excitation(m, name, last, expanded,
                                       tv_make_divisible((double)(expanded / 4), 8), PVX_LAYER_RELU,
                                       PVX_LAYER_HARDSIGMOID, error))
                return FALSE;
        }
        g_snprintf(name, sizeof name, "%s.block.%d", block, k++);
        if (!tv_conv_norm_act(m, name, NULL, expanded, out, 1, 1, 1, eps, mom, 0, last, error) ||
            !end_block(m, block, last, row->stride == 1 && in == out, input, error))
            return FALSE;
        in = out;
    }
    g_snprintf(block, sizeof block, "features.%d", (int)n_rows + 1);
    if (!tv_conv_norm_act(m, block, NULL, in, 6 * in, 1, 1, 1, eps, mom, PVX_LAYER_HARDSWISH, last,
                          error) ||
        !end_block(m, block, last, FALSE, input, error))
        return FALSE;
    pvx_model_add_adaptive_avgpool2d(m, "avgpool", 1, 1);
    pvx_model_add_flatten(m, "flatten");
    pvx_model_add_linear(m, "classifier.0", 6 * in, last_channel, TRUE);
    pvx_model_add_activation(m, "classifier.1", PVX_LAYER_HARDSWISH);
    pvx_model_add_dropout(m, "classifier.2", dropout);
    pvx_model_add_linear(m, "classifier.3", last_channel, num_classes, TRUE);
    return TRUE;
}

static PvxModel *mobilenet_build(const PvxParams *params, const int64_t chw[3], int num_classes,
                                 GError **error)
{
    const char *arch = pvx_params_get_string(params, "arch");
    double width = pvx_params_get_double(params, "width_mult");
    double dropout = pvx_params_get_double(params, "dropout");
    g_autofree char *name = width == 1.0 ? g_strdup(arch) : g_strdup_printf("%s_x%g", arch, width);
    g_autoptr(PvxModel) m = pvx_model_new(name);
    gboolean ok = strcmp(arch, "mobilenet_v2") == 0
                      ? build_v2(m, chw[0], width, num_classes, dropout, error)
                      : build_v3(m, strcmp(arch, "mobilenet_v3_large") == 0, chw[0], width,
                                 num_classes, dropout, error);
    if (!ok || !tv_check_input(m, arch, chw, error))
        return NULL;
    /* torchvision's init is pvx_model_init's: conv Kaiming-normal (fan_out), BN 1/0,
     * linear normal(0, 0.01), every bias 0. */
    pvx_model_init(m, (guint64)pvx_params_get_int(params, "seed"));
    g_debug("built %s: %" G_GINT64_FORMAT " parameters", name, pvx_model_num_params(m));
    return g_steal_pointer(&m);
}

/* The last features block ("features.18" for v2), which every block name answers to. */
static const char *mobilenet_target_layer(const PvxModel *m)
{
    const char *arch = pvx_model_arch(m);
    if (g_str_has_prefix(arch, "mobilenet_v3_small"))
        return "features.12";
    if (g_str_has_prefix(arch, "mobilenet_v3_large"))
        return "features.16";
    return "features.18";
}

static const PvxModelClass mobilenet_class = {
    .size = sizeof(PvxModelClass),
    .build = mobilenet_build,
    .target_layer = mobilenet_target_layer,
    .prunable_layers = NULL, /* every conv2d and linear layer */
};

PVX_PLUGIN_DEFINE(PVX_KIND_MODEL, "mobilenet", "1.0.0",
                  "MobileNetV2 and MobileNetV3 (small, large) as torchvision builds them",
                  mobilenet_params, &mobilenet_class)
