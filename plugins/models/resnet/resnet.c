/* pvx model plugin "resnet": torchvision's ResNet-18/34/50/101/152 with exactly its module
 * structure and state-dict names, and the CIFAR-style ResNet-20/32/56 of He et al. (2016, §4.2)
 * for small images, named the same way.
 *
 * conv1 bn1 relu maxpool       7×7/2 conv, BN, ReLU, 3×3/2 max-pool (padding 1)
 * layerS.B.conv1 .bn1 .relu1 .conv2 .bn2 [.relu2 .conv3 .bn3] [.downsample.0 .downsample.1]
 *          .add layerS.B       a BasicBlock (two 3×3) or Bottleneck (1×1, 3×3 carrying the
 *                              stride, 1×1 to 4× the width), the shortcut (identity, or a strided
 *                              1×1 conv + BN where the shape changes), their sum and the block's
 *                              last ReLU, which carries the block's name: tapping "layer4.1" is a
 *                              forward hook on torchvision's layer4[1]
 * layer1 .. layer4             aliases of each stage's last block
 * avgpool flatten fc           global average pool, torch.flatten, linear
 *
 * CIFAR-style: conv1 is 3×3/1 with 16 channels, no max-pool, three stages of n BasicBlocks
 * (16, 32, 64 channels; n = (depth − 2) / 6), stride 2 at stages 2 and 3. The paper's shortcut
 * pads the identity with zero channels (option A); pvx has no such layer, so the shortcut that
 * changes shape is a projection (option B: downsample.0 1×1/2 conv + downsample.1 BN), as
 * torchvision does it.
 */
#include <string.h>

#include <pvx/pvx.h>

#include "torchvision_blocks.h"

static const char *const arch_choices[] = {
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    "resnet20", "resnet32", "resnet56", NULL,
};

static const PvxParamSpec resnet_params[] = {
    {"arch", PVX_PARAM_CHOICE, "resnet18", 0, 0, 0, arch_choices,
     "torchvision's resnet18..152, or the CIFAR-style resnet20/32/56 for small images"},
    {"zero_init_residual", PVX_PARAM_BOOL, "false", 0, 0, 0, NULL,
     "start the last BN of every residual branch at weight 0 (torchvision's option)"},
    {"seed", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "seed of the initial weights (Kaiming-normal conv, BN 1/0, fc U(±1/sqrt(in)))"},
    PVX_PARAM_SPEC_END,
};

typedef struct {
    const char *arch;
    gboolean bottleneck, cifar;
    int blocks[4]; /* per stage; 0 ends the list */
} Arch;

static const Arch archs[] = {
    {"resnet18", FALSE, FALSE, {2, 2, 2, 2}},  {"resnet34", FALSE, FALSE, {3, 4, 6, 3}},
    {"resnet50", TRUE, FALSE, {3, 4, 6, 3}},   {"resnet101", TRUE, FALSE, {3, 4, 23, 3}},
    {"resnet152", TRUE, FALSE, {3, 8, 36, 3}}, {"resnet20", FALSE, TRUE, {3, 3, 3, 0}},
    {"resnet32", FALSE, TRUE, {5, 5, 5, 0}},   {"resnet56", FALSE, TRUE, {9, 9, 9, 0}},
};

#define BN_NAME(buf, prefix, what) g_snprintf(buf, sizeof buf, "%s.%s", prefix, what)

/* One residual block "layerS.B" reading layer @input (@inplanes channels), @planes wide, its
 * first conv (BasicBlock) or its 3×3 conv (Bottleneck) carrying @stride. */
static gboolean add_block(PvxModel *m, const char *prefix, const char *input, int64_t inplanes,
                          int64_t planes, int stride, gboolean bottleneck, GError **error)
{
    char name[TV_NAME_MAX], last_bn[TV_NAME_MAX], shortcut[TV_NAME_MAX];
    PvxConv2dParams s1 = {.stride_h = 1, .stride_w = 1};
    PvxConv2dParams s3 = {.stride_h = stride, .stride_w = stride, .pad_h = 1, .pad_w = 1};
    int64_t out = bottleneck ? planes * 4 : planes;
    BN_NAME(name, prefix, "conv1");
    if (bottleneck)
        pvx_model_add_conv2d_full(m, name, inplanes, planes, 1, 1, &s1, 1, FALSE);
    else
        pvx_model_add_conv2d_full(m, name, inplanes, planes, 3, 3, &s3, 1, FALSE);
    if (!tv_read_from(m, name, input, error))
        return FALSE;
    BN_NAME(name, prefix, "bn1");
    pvx_model_add_batchnorm2d(m, name, planes);
    BN_NAME(name, prefix, "relu1");
    pvx_model_add_relu(m, name);
    BN_NAME(name, prefix, "conv2");
    if (bottleneck) {
        pvx_model_add_conv2d_full(m, name, planes, planes, 3, 3, &s3, 1, FALSE);
        BN_NAME(name, prefix, "bn2");
        pvx_model_add_batchnorm2d(m, name, planes);
        BN_NAME(name, prefix, "relu2");
        pvx_model_add_relu(m, name);
        BN_NAME(name, prefix, "conv3");
        pvx_model_add_conv2d_full(m, name, planes, out, 1, 1, &s1, 1, FALSE);
        BN_NAME(last_bn, prefix, "bn3");
    } else {
        PvxConv2dParams p = {.stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1};
        pvx_model_add_conv2d_full(m, name, planes, planes, 3, 3, &p, 1, FALSE);
        BN_NAME(last_bn, prefix, "bn2");
    }
    pvx_model_add_batchnorm2d(m, last_bn, out);
    g_strlcpy(shortcut, input, sizeof shortcut);
    if (stride != 1 || inplanes != out) {
        PvxConv2dParams ps = {.stride_h = stride, .stride_w = stride};
        BN_NAME(name, prefix, "downsample.0");
        pvx_model_add_conv2d_full(m, name, inplanes, out, 1, 1, &ps, 1, FALSE);
        if (!tv_read_from(m, name, input, error))
            return FALSE;
        BN_NAME(shortcut, prefix, "downsample.1");
        pvx_model_add_batchnorm2d(m, shortcut, out);
    }
    BN_NAME(name, prefix, "add");
    const char *sum[] = {last_bn, shortcut, NULL};
    pvx_model_add_add(m, name, sum);
    pvx_model_add_relu(m, prefix);
    return TRUE;
}

static const Arch *find_arch(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(archs); i++)
        if (strcmp(archs[i].arch, name) == 0)
            return &archs[i];
    return NULL;
}

/* torchvision's initialisation on top of pvx_model_init (which already draws the convs
 * Kaiming-normal with mode fan_out and sets BN to 1/0): fc as nn.Linear's reset_parameters
 * (kaiming_uniform_(a=√5), i.e. U(±1/√in) for weight and bias), and zero_init_residual. */
static void resnet_init(PvxModel *m, guint64 seed, gboolean zero_init_residual, gboolean bottleneck)
{
    pvx_model_init(m, seed);
    for (int i = 0; i < pvx_model_n_layers(m); i++) {
        PvxLayer *l = pvx_model_layer(m, i);
        if (l->type == PVX_LAYER_LINEAR) {
            double bound = 1.0 / sqrt((double)l->in_features);
            tv_fill_uniform(l->weight, bound, seed, (guint64)i);
            if (l->bias)
                tv_fill_uniform(l->bias, bound, seed, (guint64)i + (G_GUINT64_CONSTANT(1) << 32));
        } else if (zero_init_residual && l->type == PVX_LAYER_BATCHNORM2D &&
                   g_str_has_prefix(l->name, "layer") &&
                   g_str_has_suffix(l->name, bottleneck ? ".bn3" : ".bn2")) {
            pvx_tensor_zero(l->weight);
        }
    }
}

static PvxModel *resnet_build(const PvxParams *params, const int64_t chw[3], int num_classes,
                              GError **error)
{
    const char *arch_name = pvx_params_get_string(params, "arch");
    const Arch *a = find_arch(arch_name);
    g_return_val_if_fail(a != NULL, NULL); /* the core validated the choice */
    g_autoptr(PvxModel) m = pvx_model_new(a->arch);
    int64_t inplanes = a->cifar ? 16 : 64;
    if (a->cifar) {
        pvx_model_add_conv2d(m, "conv1", chw[0], 16, 3, 1, 1, FALSE);
        pvx_model_add_batchnorm2d(m, "bn1", 16);
        pvx_model_add_relu(m, "relu");
    } else {
        pvx_model_add_conv2d(m, "conv1", chw[0], 64, 7, 2, 3, FALSE);
        pvx_model_add_batchnorm2d(m, "bn1", 64);
        pvx_model_add_relu(m, "relu");
        PvxLayer *pool = pvx_model_add_maxpool2d(m, "maxpool", 3, 2);
        pool->pool.pad_h = pool->pool.pad_w = 1;
    }
    char input[TV_NAME_MAX], block[TV_NAME_MAX], stage[16];
    g_strlcpy(input, a->cifar ? "relu" : "maxpool", sizeof input);
    int n_stages = a->cifar ? 3 : 4;
    for (int s = 0; s < n_stages; s++) {
        int64_t planes = (a->cifar ? 16 : 64) << s;
        for (int b = 0; b < a->blocks[s]; b++) {
            g_snprintf(block, sizeof block, "layer%d.%d", s + 1, b);
            int stride = b == 0 && s > 0 ? 2 : 1;
            if (!add_block(m, block, input, inplanes, planes, stride, a->bottleneck, error))
                return NULL;
            inplanes = a->bottleneck ? planes * 4 : planes;
            g_strlcpy(input, block, sizeof input);
        }
        g_snprintf(stage, sizeof stage, "layer%d", s + 1);
        if (!pvx_model_add_alias(m, stage, input, error))
            return NULL;
    }
    pvx_model_add_adaptive_avgpool2d(m, "avgpool", 1, 1);
    pvx_model_add_flatten(m, "flatten");
    pvx_model_add_linear(m, "fc", inplanes, num_classes, TRUE);
    if (!tv_check_input(m, a->arch, chw, error))
        return NULL;
    resnet_init(m, (guint64)pvx_params_get_int(params, "seed"),
                pvx_params_get_bool(params, "zero_init_residual"), a->bottleneck);
    g_debug("built %s: %" G_GINT64_FORMAT " parameters", a->arch, pvx_model_num_params(m));
    return g_steal_pointer(&m);
}

/* The output of the last stage, as practitioners hook torchvision's model.layer4. */
static const char *resnet_target_layer(const PvxModel *m)
{
    return pvx_model_find_layer(m, "layer4", NULL) ? "layer4" : "layer3";
}

static const PvxModelClass resnet_class = {
    .size = sizeof(PvxModelClass),
    .build = resnet_build,
    .target_layer = resnet_target_layer,
    .prunable_layers = NULL, /* every conv2d and linear layer */
};

PVX_PLUGIN_DEFINE(PVX_KIND_MODEL, "resnet", "1.0.0",
                  "ResNet-18/34/50/101/152 as torchvision builds them, and CIFAR-style "
                  "ResNet-20/32/56 for small images",
                  resnet_params, &resnet_class)
