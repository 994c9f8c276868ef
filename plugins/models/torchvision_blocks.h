/* Pieces the torchvision-style model plugins (resnet, mobilenet, efficientnet) share: channel
 * rounding, torchvision's uniform initialisations drawn from pvx's generator, and the two
 * building blocks torchvision.ops provides (Conv2dNormActivation, SqueezeExcitation), with
 * torchvision's module names.
 *
 * Everything is static inline: each plugin is one shared module and includes what it uses.
 * Layer names are built into caller-owned buffers of TV_NAME_MAX bytes.
 */
#pragma once

#include <math.h>

#include <pvx/pvx.h>

#define TV_NAME_MAX 96

/* torchvision's _make_divisible(v, divisor): v rounded to the nearest multiple of @divisor, at
 * least @divisor, and moved up one step when rounding lost more than 10% of v. */
static inline int64_t tv_make_divisible(double v, int divisor)
{
    int64_t nv = (int64_t)(v + divisor / 2.0) / divisor * divisor;
    if (nv < divisor)
        nv = divisor;
    if ((double)nv < 0.9 * v)
        nv += divisor;
    return nv;
}

/* Fills @t with U(-@bound, @bound) drawn from one pvx stream: xoshiro256** seeded with
 * pvx_hash64(@seed, @stream, 0x756e69666f726d) ("uniform"), so it never shares numbers with
 * pvx_model_init's normal streams. Used with @stream = the layer's index in running order. */
static inline void tv_fill_uniform(PvxTensor *t, double bound, guint64 seed, guint64 stream)
{
    PvxRng r;
    pvx_rng_init(&r, pvx_hash64(seed, stream, G_GUINT64_CONSTANT(0x756e69666f726d)));
    int64_t n = pvx_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        t->data[i] = (float)((2.0 * pvx_rng_uniform(&r) - 1.0) * bound);
}

/* Makes layer @name read @input (one name; PVX_MODEL_INPUT for the model's input). */
static inline gboolean tv_read_from(PvxModel *m, const char *name, const char *input,
                                    GError **error)
{
    const char *inputs[] = {input, NULL};
    return pvx_model_set_inputs(m, name, inputs, error);
}

/* torchvision.ops.Conv2dNormActivation: PREFIX.0 conv2d (k×k, stride, padding (k-1)/2, @groups,
 * no bias), PREFIX.1 batchnorm2d (@eps, @momentum), PREFIX.2 the activation @act (0: none).
 * The conv reads @input (a layer name, PVX_MODEL_INPUT, or NULL for the layer added before).
 * @out (TV_NAME_MAX bytes) receives the name of the block's last layer, its output. */
static inline gboolean tv_conv_norm_act(PvxModel *m, const char *prefix, const char *input,
                                        int64_t cin, int64_t cout, int k, int stride, int groups,
                                        double eps, double momentum, PvxLayerType act, char *out,
                                        GError **error)
{
    char name[TV_NAME_MAX];
    PvxConv2dParams p = {
        .stride_h = stride, .stride_w = stride, .pad_h = (k - 1) / 2, .pad_w = (k - 1) / 2};
    g_snprintf(name, sizeof name, "%s.0", prefix);
    pvx_model_add_conv2d_full(m, name, cin, cout, k, k, &p, groups, FALSE);
    if (input && !tv_read_from(m, name, input, error))
        return FALSE;
    g_snprintf(name, sizeof name, "%s.1", prefix);
    PvxLayer *bn = pvx_model_add_batchnorm2d(m, name, cout);
    bn->eps = eps;
    bn->momentum = momentum;
    if (act) {
        g_snprintf(name, sizeof name, "%s.2", prefix);
        pvx_model_add_activation(m, name, act);
    }
    g_strlcpy(out, name, TV_NAME_MAX);
    return TRUE;
}

/* torchvision.ops.SqueezeExcitation on the output of layer @x with @channels channels:
 * PREFIX.avgpool (global average), PREFIX.fc1 (1×1 conv to @squeeze, with bias),
 * PREFIX.activation (@act), PREFIX.fc2 (1×1 conv back to @channels, with bias),
 * PREFIX.scale_activation (@scale_act), and PREFIX itself: the channel-wise product
 * scale ⊙ x, which is the module's output. */
static inline gboolean tv_squeeze_excitation(PvxModel *m, const char *prefix, const char *x,
                                             int64_t channels, int64_t squeeze, PvxLayerType act,
                                             PvxLayerType scale_act, GError **error)
{
    char name[TV_NAME_MAX], scale[TV_NAME_MAX];
    PvxConv2dParams p = {0};
    g_snprintf(name, sizeof name, "%s.avgpool", prefix);
    pvx_model_add_adaptive_avgpool2d(m, name, 1, 1);
    if (!tv_read_from(m, name, x, error))
        return FALSE;
    g_snprintf(name, sizeof name, "%s.fc1", prefix);
    pvx_model_add_conv2d_full(m, name, channels, squeeze, 1, 1, &p, 1, TRUE);
    g_snprintf(name, sizeof name, "%s.activation", prefix);
    pvx_model_add_activation(m, name, act);
    g_snprintf(name, sizeof name, "%s.fc2", prefix);
    pvx_model_add_conv2d_full(m, name, squeeze, channels, 1, 1, &p, 1, TRUE);
    g_snprintf(scale, sizeof scale, "%s.scale_activation", prefix);
    pvx_model_add_activation(m, scale, scale_act);
    pvx_model_add_mul(m, prefix, x, scale);
    return TRUE;
}

/* The error of pvx_model_check_input, prefixed with the architecture and the image size. */
static inline gboolean tv_check_input(const PvxModel *m, const char *arch, const int64_t chw[3],
                                      GError **error)
{
    if (pvx_model_check_input(m, chw, NULL, NULL, error))
        return TRUE;
    g_prefix_error(error,
                   "%s for %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " images: ",
                   arch, chw[0], chw[1], chw[2]);
    return FALSE;
}
