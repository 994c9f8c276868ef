/* pvx model plugin "vgg": torchvision's VGG-11/13/16/19 (with and without batch-norm) with
 * exactly its layer structure and state-dict names, and vgg-mini, the same scheme with a channel
 * list of your own and a narrow classifier for small images (28×28, 64×64).
 *
 * features.N   conv3x3(pad 1) [batchnorm] relu ... maxpool(2, 2) ...  (N counts every module)
 * avgpool      adaptive average pool to avgpool×avgpool
 * flatten      (torch.flatten in torchvision's forward; no parameters, so no state-dict entry)
 * classifier.0 linear(C·a·a, hidden), .1 relu, .2 dropout, .3 linear(hidden, hidden), .4 relu,
 *              .5 dropout, .6 linear(hidden, num_classes); hidden = 4096 for the standard ones.
 */
#include <string.h>

#include <pvx/pvx.h>

static const char *const arch_choices[] = {
    "vgg11",    "vgg13",    "vgg16",    "vgg19",    "vgg11_bn",
    "vgg13_bn", "vgg16_bn", "vgg19_bn", "vgg-mini", NULL,
};

static const PvxParamSpec vgg_params[] = {
    {"arch", PVX_PARAM_CHOICE, "vgg16", 0, 0, 0, arch_choices,
     "torchvision's variant (the _bn ones with batch-norm) or vgg-mini for small images"},
    {"channels", PVX_PARAM_INT_LIST, "[32, 32, -1, 64, 64, -1, 128, 128, -1]", PVX_PARAM_HAS_MIN,
     -1, 0, NULL,
     "vgg-mini: output channels of each 3x3 conv, -1 for a 2x2 max-pool ('M' in torchvision)"},
    {"hidden", PVX_PARAM_INT, "256", PVX_PARAM_HAS_MIN, 1, 0, NULL,
     "vgg-mini: width of the two hidden classifier layers (torchvision's variants: 4096)"},
    {"batch_norm", PVX_PARAM_BOOL, "false", 0, 0, 0, NULL,
     "batch-norm after every conv (vgg-mini; for the others it makes vggXX the vggXX_bn)"},
    {"dropout", PVX_PARAM_DOUBLE, "0.5", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0.0, 0.99, NULL,
     "dropout probability in the classifier"},
    {"avgpool", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "output size of the adaptive average pool; 0 = 7 (torchvision) or 1 for vgg-mini"},
    {"seed", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "seed of the initial weights (Kaiming-normal conv, normal(0, 0.01) linear, zero bias)"},
    PVX_PARAM_SPEC_END,
};

#define M (-1)
static const int cfg_a[] = {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M, 0};
static const int cfg_b[] = {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M, 0};
static const int cfg_d[] = {64,  64,  M,   128, 128, M,   256, 256, 256, M,
                            512, 512, 512, M,   512, 512, 512, M,   0};
static const int cfg_e[] = {64,  64,  M,   128, 128, M,   256, 256, 256, 256, M,
                            512, 512, 512, 512, M,   512, 512, 512, 512, M,   0};

static const int *standard_cfg(const char *arch)
{
    if (g_str_has_prefix(arch, "vgg11"))
        return cfg_a;
    if (g_str_has_prefix(arch, "vgg13"))
        return cfg_b;
    if (g_str_has_prefix(arch, "vgg16"))
        return cfg_d;
    return cfg_e;
}

static PvxModel *vgg_build(const PvxParams *params, const int64_t chw[3], int num_classes,
                           GError **error)
{
    const char *arch = pvx_params_get_string(params, "arch");
    gboolean mini = strcmp(arch, "vgg-mini") == 0;
    gboolean bn = g_str_has_suffix(arch, "_bn") || pvx_params_get_bool(params, "batch_norm");
    double dropout = pvx_params_get_double(params, "dropout");
    int64_t avg = pvx_params_get_int(params, "avgpool");
    int64_t hidden = mini ? pvx_params_get_int(params, "hidden") : 4096;
    if (avg == 0)
        avg = mini ? 1 : 7;
    if (avg > 4096) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                    "%s: avgpool %" G_GINT64_FORMAT " is too large",
                    pvx_params_where(params, "avgpool"), avg);
        return NULL;
    }
    g_autoptr(GArray) cfg = g_array_new(FALSE, FALSE, sizeof(int));
    if (mini) {
        gsize n = 0;
        const int64_t *ch = pvx_params_get_int_list(params, "channels", &n);
        for (gsize i = 0; i < n; i++) {
            if (ch[i] == 0 || ch[i] > 65536) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                            "%s: channels[%zu] is %" G_GINT64_FORMAT
                            "; give a channel count in 1..65536 or -1 for a max-pool",
                            pvx_params_where(params, "channels"), i, ch[i]);
                return NULL;
            }
            int v = (int)ch[i];
            g_array_append_val(cfg, v);
        }
    } else {
        for (const int *c = standard_cfg(arch); *c; c++)
            g_array_append_val(cfg, *c);
    }
    gboolean any_conv = FALSE;
    for (guint i = 0; i < cfg->len; i++)
        any_conv |= g_array_index(cfg, int, i) > 0;
    if (!any_conv) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                    "%s: channels needs at least one conv layer (a positive count)",
                    pvx_params_where(params, "channels"));
        return NULL;
    }
    g_autofree char *name = g_strdup_printf(
        "%s%s", arch, bn && !g_str_has_suffix(arch, "_bn") ? (mini ? "+bn" : "_bn") : "");
    g_autoptr(PvxModel) m = pvx_model_new(name);
    int64_t in = chw[0];
    int idx = 0;
    char lname[32];
#define NEXT() (g_snprintf(lname, sizeof lname, "features.%d", idx++), lname)
    for (guint i = 0; i < cfg->len; i++) {
        int v = g_array_index(cfg, int, i);
        if (v == M) {
            pvx_model_add_maxpool2d(m, NEXT(), 2, 2);
            continue;
        }
        pvx_model_add_conv2d(m, NEXT(), in, v, 3, 1, 1, TRUE);
        if (bn)
            pvx_model_add_batchnorm2d(m, NEXT(), v);
        pvx_model_add_relu(m, NEXT());
        in = v;
    }
#undef NEXT
    pvx_model_add_adaptive_avgpool2d(m, "avgpool", (int)avg, (int)avg);
    pvx_model_add_flatten(m, "flatten");
    pvx_model_add_linear(m, "classifier.0", in * avg * avg, hidden, TRUE);
    pvx_model_add_relu(m, "classifier.1");
    pvx_model_add_dropout(m, "classifier.2", dropout);
    pvx_model_add_linear(m, "classifier.3", hidden, hidden, TRUE);
    pvx_model_add_relu(m, "classifier.4");
    pvx_model_add_dropout(m, "classifier.5", dropout);
    pvx_model_add_linear(m, "classifier.6", hidden, num_classes, TRUE);
    if (!pvx_model_check_input(m, chw, NULL, NULL, error)) {
        g_prefix_error(error, "%s for %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " images: ", arch,
                       chw[1], chw[2]);
        return NULL;
    }
    pvx_model_init(m, (guint64)pvx_params_get_int(params, "seed"));
    g_debug("built %s: %" G_GINT64_FORMAT " parameters", name, pvx_model_num_params(m));
    return g_steal_pointer(&m);
}

/* The ReLU after the last conv (features.29 for vgg16): what Grad-CAM explains. */
static const char *vgg_target_layer(const PvxModel *m)
{
    const char *target = NULL;
    for (int i = 0; i < pvx_model_n_layers(m); i++) {
        const PvxLayer *l = pvx_model_layer(m, i);
        if (g_str_has_prefix(l->name, "features.") && l->type == PVX_LAYER_RELU)
            target = l->name;
    }
    return target;
}

static const PvxModelClass vgg_class = {
    .size = sizeof(PvxModelClass),
    .build = vgg_build,
    .target_layer = vgg_target_layer,
    .prunable_layers = NULL, /* every conv2d and linear layer */
};

PVX_PLUGIN_DEFINE(PVX_KIND_MODEL, "vgg", "1.0.0",
                  "VGG-11/13/16/19 (+BN) as torchvision builds them, and vgg-mini for small images",
                  vgg_params, &vgg_class)
