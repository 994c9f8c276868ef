/* A model plugin built outside the pvx tree: "resnet-tiny", a residual network for small images.
 *
 *     stem.conv stem.bn stem.relu        3×3 conv (width channels), BN, ReLU
 *     block1.*  → alias "block1"         basic block, identity shortcut
 *     block2.*  → alias "block2"         basic block, stride 2, 2×width channels, projection
 *                                        shortcut (1×1/2 conv + BN)
 *     avgpool flatten fc                 global average pool, flatten, linear
 *
 * A basic block (He et al. 2016) is conv3×3-BN-ReLU-conv3×3-BN, added to the shortcut, then a
 * ReLU. Grad-CAM and the other CAM methods explain "block2", the last block's output, unless the
 * config names another layer.
 *
 * Build it with the Makefile (or meson.build) next to this file, against an installed pvx:
 *     make && pvx plugins --plugin-dir . resnet-tiny
 * See docs/writing-a-plugin.md for a walk through this file.
 */
#include <pvx/pvx.h>

/* The parameters pvx validates before build() sees them (pvx plugins resnet-tiny). */
static const PvxParamSpec params[] = {
    {"width", PVX_PARAM_INT, "16", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 512, NULL,
     "channels of the stem and the first block (the second block has twice as many)"},
    {"seed", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL, "seed of the initial weights"},
    PVX_PARAM_SPEC_END,
};

#define LAYER_NAME_MAX 64

/* "@block.@part" in @buf (LAYER_NAME_MAX bytes). Returns @buf. */
static const char *layer_name(char *buf, const char *block, const char *part)
{
    g_snprintf(buf, LAYER_NAME_MAX, "%s.%s", block, part);
    return buf;
}

/* Adds the basic block @block reading layer @input (@in_ch channels): @out_ch channels out, its
 * first conv and its shortcut carrying @stride. The block's output is its last ReLU,
 * "@block.relu", which the alias @block also names. */
static gboolean add_basic_block(PvxModel *m, const char *block, const char *input, int64_t in_ch,
                                int64_t out_ch, int stride, GError **error)
{
    char name[LAYER_NAME_MAX], bn2[LAYER_NAME_MAX], shortcut[LAYER_NAME_MAX], relu[LAYER_NAME_MAX];

    /* The residual branch. conv1 names its input, so the block can follow any layer; every other
     * layer reads the layer added just before it. */
    layer_name(name, block, "conv1");
    pvx_model_add_conv2d(m, name, in_ch, out_ch, 3, stride, 1, FALSE);
    if (!pvx_model_set_inputs(m, name, (const char *const[]){input, NULL}, error))
        return FALSE;
    pvx_model_add_batchnorm2d(m, layer_name(name, block, "bn1"), out_ch);
    pvx_model_add_relu(m, layer_name(name, block, "relu1"));
    pvx_model_add_conv2d(m, layer_name(name, block, "conv2"), out_ch, out_ch, 3, 1, 1, FALSE);
    pvx_model_add_batchnorm2d(m, layer_name(bn2, block, "bn2"), out_ch);

    /* The shortcut: the block's input itself, or, where the shape changes, a projection — a
     * strided 1×1 conv reading the block's input (not bn2, the layer added just before it),
     * then a BN. */
    g_strlcpy(shortcut, input, sizeof shortcut);
    if (stride != 1 || in_ch != out_ch) {
        layer_name(name, block, "shortcut.conv");
        pvx_model_add_conv2d(m, name, in_ch, out_ch, 1, stride, 0, FALSE);
        if (!pvx_model_set_inputs(m, name, (const char *const[]){input, NULL}, error))
            return FALSE;
        pvx_model_add_batchnorm2d(m, layer_name(shortcut, block, "shortcut.bn"), out_ch);
    }

    /* The join names both of its inputs; the ReLU after it reads it by default. */
    pvx_model_add_add(m, layer_name(name, block, "add"),
                      (const char *const[]){bn2, shortcut, NULL});
    pvx_model_add_relu(m, layer_name(relu, block, "relu"));
    return pvx_model_add_alias(m, block, relu, error);
}

static PvxModel *tiny_build(const PvxParams *p, const int64_t input_chw[3], int num_classes,
                            GError **error)
{
    int64_t width = pvx_params_get_int(p, "width");
    g_autoptr(PvxModel) m = pvx_model_new("resnet-tiny");

    /* The stem reads the model's input: the first layer added does so by default. */
    pvx_model_add_conv2d(m, "stem.conv", input_chw[0], width, 3, 1, 1, FALSE);
    pvx_model_add_batchnorm2d(m, "stem.bn", width);
    pvx_model_add_relu(m, "stem.relu");

    if (!add_basic_block(m, "block1", "stem.relu", width, width, 1, error) ||
        !add_basic_block(m, "block2", "block1.relu", width, 2 * width, 2, error))
        return NULL;

    pvx_model_add_adaptive_avgpool2d(m, "avgpool", 1, 1);
    pvx_model_add_flatten(m, "flatten");
    pvx_model_add_linear(m, "fc", 2 * width, num_classes, TRUE);

    /* Kaiming-normal convs, BN 1/0, linear normal(0, 0.01), from pvx's seeded generator: the
     * same seed gives the same weights on every machine and thread count. */
    pvx_model_init(m, (guint64)pvx_params_get_int(p, "seed"));
    g_debug("built resnet-tiny: %" G_GINT64_FORMAT " parameters", pvx_model_num_params(m));
    return g_steal_pointer(&m);
}

/* The default CAM layer: the output of the last block, as practitioners hook ResNet's layer4. */
static const char *tiny_target_layer(const PvxModel *model)
{
    (void)model;
    return "block2";
}

static const PvxModelClass klass = {
    .size = sizeof(PvxModelClass), .build = tiny_build, .target_layer = tiny_target_layer,
    /* .prunable_layers left NULL: every conv2d and linear layer may be pruned. */
};

PVX_PLUGIN_DEFINE(PVX_KIND_MODEL, "resnet-tiny", "1.0.0",
                  "A residual network for small images: stem, two basic blocks, linear", params,
                  &klass)
