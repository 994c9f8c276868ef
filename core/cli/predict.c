/* pvx predict — classify images with a model plugin and HDF5 weights, as torchvision would:
 * resize the shorter side, centre-crop, scale to [0, 1], normalise; print the top-k classes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct {
    PvxCliCommon common;
    char *model, *weights, *classes, *out, *mean_s, *std_s;
    char **params;
    int size, resize, channels, top, batch;
    gboolean no_resize;
} PredictOptions;

static void options_clear(PredictOptions *o)
{
    pvx_cli_common_clear(&o->common);
    g_free(o->model);
    g_free(o->weights);
    g_free(o->classes);
    g_free(o->out);
    g_free(o->mean_s);
    g_free(o->std_s);
    g_strfreev(o->params);
}

/* "0.485,0.456,0.406" → @n floats. */
static gboolean parse_floats(const char *opt, const char *text, int n, float *out, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(text, ",", -1);
    if ((int)g_strv_length(parts) != n)
        goto bad;
    for (int i = 0; i < n; i++) {
        char *end = NULL;
        out[i] = (float)g_ascii_strtod(g_strstrip(parts[i]), &end);
        if (end == parts[i] || *end)
            goto bad;
    }
    return TRUE;
bad:
    g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                "%s '%s': give %d comma-separated numbers (one per channel)", opt, text, n);
    return FALSE;
}

/* The eval transform: convert channels, Resize(resize), CenterCrop(size), ToTensor, Normalize. */
static PvxTensor *load_image(const PredictOptions *o, const char *path, const float *mean,
                             const float *std, GError **error)
{
    g_autoptr(PvxImage) img = pvx_image_load(path, error);
    if (!img) {
        if (error && *error && !strstr((*error)->message, path))
            g_prefix_error(error, "%s: ", path);
        return NULL;
    }
    g_autoptr(PvxImage) conv = pvx_image_convert(img, o->channels);
    g_autoptr(PvxImage) resized = o->no_resize ? NULL : pvx_image_resize_shorter(conv, o->resize);
    g_autoptr(PvxImage) crop = pvx_image_center_crop(resized ? resized : conv, o->size, o->size);
    return pvx_image_to_tensor(crop, mean, std);
}

static int cmp_desc(const void *a, const void *b, void *data)
{
    const float *p = data;
    float x = p[*(const int *)a], y = p[*(const int *)b];
    return x < y ? 1 : x > y ? -1 : (*(const int *)a - *(const int *)b);
}

static gboolean write_out(const char *path, const PvxTensor *logits, char **images, char **classes,
                          GError **error)
{
    g_autoptr(PvxStore) store = g_file_test(path, G_FILE_TEST_EXISTS)
                                    ? pvx_store_open(path, TRUE, error)
                                    : pvx_store_create(path, error);
    if (!store || !pvx_store_begin(store, error))
        return FALSE;
    if (!pvx_store_write_tensor(store, "/logits", logits, error) ||
        !pvx_store_write_strings(store, "/images", (const char *const *)images, error) ||
        !pvx_store_write_strings(store, "/classes", (const char *const *)classes, error)) {
        pvx_store_abort(store);
        return FALSE;
    }
    return pvx_store_commit(store, error);
}

static int predict(PredictOptions *o, char **images, int n_images)
{
    g_autoptr(GError) error = NULL;
    float mean[3] = {0, 0, 0}, std[3] = {1, 1, 1};
    if (o->channels == 3) {
        memcpy(mean, pvx_imagenet_mean, sizeof mean);
        memcpy(std, pvx_imagenet_std, sizeof std);
    }
    if ((o->mean_s && !parse_floats("--mean", o->mean_s, o->channels, mean, &error)) ||
        (o->std_s && !parse_floats("--std", o->std_s, o->channels, std, &error))) {
        pvx_cli_error(error);
        return PVX_EXIT_BAD_INPUT;
    }
    g_auto(GStrv) classes = pvx_cli_read_classes(o->classes, &error);
    if (!classes) {
        pvx_cli_error(error);
        return PVX_EXIT_BAD_INPUT;
    }
    int n_classes = (int)g_strv_length(classes);
    /* --param k=v, and --set model.k=v as in configs. */
    g_autoptr(GPtrArray) pairs = g_ptr_array_new();
    for (char **p = o->params; p && *p; p++)
        g_ptr_array_add(pairs, *p);
    for (char **s = o->common.overrides; s && *s; s++) {
        if (!g_str_has_prefix(*s, "model.")) {
            fprintf(stderr, "pvx predict: --set %s: only model.KEY=VALUE applies here\n", *s);
            return PVX_EXIT_BAD_INPUT;
        }
        g_ptr_array_add(pairs, *s + strlen("model."));
    }
    g_ptr_array_add(pairs, NULL);
    g_autoptr(PvxRegistry) reg = pvx_cli_load_registry(&o->common, NULL);
    const PvxPlugin *plugin = pvx_registry_lookup(reg, PVX_KIND_MODEL, o->model, &error);
    g_autofree char *owner = g_strdup_printf("model %s", o->model);
    g_autoptr(PvxParams) params =
        plugin ? pvx_params_new_from_pairs(plugin->params, owner, (const char *const *)pairs->pdata,
                                           &error)
               : NULL;
    int64_t chw[3] = {o->channels, o->size, o->size};
    g_autoptr(PvxModel) model =
        params ? pvx_model_build(plugin, params, chw, n_classes, &error) : NULL;
    if (!model || !pvx_model_load_weights_file(model, o->weights, NULL, &error)) {
        pvx_cli_error(error);
        return PVX_EXIT_BAD_INPUT;
    }
    /* Every image is read before anything runs: a bad one is bad input, not a half-done job. */
    g_autoptr(GPtrArray) tensors = g_ptr_array_new_with_free_func((GDestroyNotify)pvx_tensor_unref);
    for (int i = 0; i < n_images; i++) {
        PvxTensor *t = load_image(o, images[i], mean, std, &error);
        if (!t) {
            pvx_cli_error(error);
            return PVX_EXIT_BAD_INPUT;
        }
        g_ptr_array_add(tensors, t);
    }
    int64_t item = o->channels * (int64_t)o->size * o->size;
    g_autoptr(PvxTensor) all = pvx_tensor_new_shape(2, (int64_t)n_images, (int64_t)n_classes);
    for (int b0 = 0; b0 < n_images; b0 += o->batch) {
        int nb = MIN(o->batch, n_images - b0);
        g_autoptr(PvxTensor) x = pvx_tensor_new_shape(4, (int64_t)nb, chw[0], chw[1], chw[2]);
        for (int i = 0; i < nb; i++)
            memcpy(x->data + i * item, ((PvxTensor *)tensors->pdata[b0 + i])->data,
                   sizeof(float) * item);
        g_autoptr(PvxTensor) y = pvx_model_forward(model, x, PVX_FORWARD_INFERENCE, &error);
        g_autoptr(PvxTensor) prob = y ? pvx_softmax_forward(y, NULL, &error) : NULL;
        if (!prob) {
            pvx_cli_error(error);
            return PVX_EXIT_FAILED;
        }
        memcpy(all->data + (int64_t)b0 * n_classes, y->data, sizeof(float) * nb * n_classes);
        g_autofree int *order = g_new(int, n_classes);
        for (int i = 0; i < nb; i++) {
            const float *p = prob->data + (int64_t)i * n_classes;
            for (int c = 0; c < n_classes; c++)
                order[c] = c;
            g_qsort_with_data(order, n_classes, sizeof(int), cmp_desc, (gpointer)p);
            printf("%s\n", images[b0 + i]);
            for (int k = 0; k < MIN(o->top, n_classes); k++)
                printf("  %d. %.4f  %s (%d)\n", k + 1, p[order[k]], classes[order[k]], order[k]);
        }
    }
    if (o->out && !write_out(o->out, all, images, classes, &error)) {
        pvx_cli_error(error);
        return PVX_EXIT_FAILED;
    }
    return PVX_EXIT_OK;
}

int pvx_cli_predict(int argc, char **argv)
{
    PredictOptions o = {.size = 224, .resize = 256, .channels = 3, .top = 5, .batch = 8};
    g_autofree GOptionEntry *common = pvx_cli_common_entries(&o.common);
    GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_STRING, &o.model, "Model plugin (default vgg)", "NAME"},
        {"param", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &o.params,
         "Model parameter, e.g. --param arch=vgg16 (repeatable; --set model.arch=... too)",
         "KEY=VALUE"},
        {"weights", 'w', 0, G_OPTION_ARG_FILENAME, &o.weights,
         "HDF5 weights, torchvision names, group /weights unless FILE:/group (required)",
         "FILE[:/GROUP]"},
        {"classes", 'c', 0, G_OPTION_ARG_STRING, &o.classes,
         "Class names, one a line, or a class count (required)", "FILE|N"},
        {"size", 0, 0, G_OPTION_ARG_INT, &o.size, "Centre-crop size = model input (default 224)",
         "N"},
        {"resize", 0, 0, G_OPTION_ARG_INT, &o.resize,
         "Resize the shorter side to N first (default 256)", "N"},
        {"no-resize", 0, 0, G_OPTION_ARG_NONE, &o.no_resize,
         "Skip the resize (images already at the input size; the crop still applies)", NULL},
        {"channels", 0, 0, G_OPTION_ARG_INT, &o.channels, "1 (gray) or 3 (RGB, default)", "C"},
        {"mean", 0, 0, G_OPTION_ARG_STRING, &o.mean_s,
         "Per-channel mean of value/255 (default ImageNet's for RGB, 0 for gray)", "A,B,C"},
        {"std", 0, 0, G_OPTION_ARG_STRING, &o.std_s,
         "Per-channel std (default ImageNet's for RGB, 1 for gray)", "A,B,C"},
        {"top", 'k', 0, G_OPTION_ARG_INT, &o.top, "Classes printed per image (default 5)", "K"},
        {"batch", 'b', 0, G_OPTION_ARG_INT, &o.batch, "Images per forward (default 8)", "B"},
        {"out", 'o', 0, G_OPTION_ARG_FILENAME, &o.out,
         "Write dataset logits [N, classes] float32 (and images, classes) to this HDF5 file",
         "FILE.h5"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("IMAGE... — classify images");
    g_option_context_set_summary(
        ctx,
        "Classifies PNG/JPEG images with a model plugin and HDF5 weights, preprocessing as\n"
        "torchvision's evaluation transform (Resize(256), CenterCrop(224), ImageNet mean/std),\n"
        "and prints the top classes of each image.\n\n"
        "Example: pvx predict --param arch=vgg16 --weights vgg16.h5 --classes imagenet.txt "
        "cat.jpg");
    g_option_context_add_main_entries(ctx, common, NULL);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    int rc = PVX_EXIT_BAD_INPUT;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "pvx predict: %s\n", error->message);
        goto out;
    }
    pvx_cli_apply_verbosity(&o.common);
    const char *problem = argc < 2                             ? "give at least one IMAGE"
                          : !o.weights                         ? "--weights is required"
                          : !o.classes                         ? "--classes is required"
                          : o.size < 1                         ? "--size must be positive"
                          : o.resize < 1                       ? "--resize must be positive"
                          : o.channels != 1 && o.channels != 3 ? "--channels must be 1 or 3"
                          : o.top < 1                          ? "--top must be positive"
                          : o.batch < 1                        ? "--batch must be positive"
                                                               : NULL;
    if (problem) {
        fprintf(stderr, "pvx predict: %s (see pvx predict --help)\n", problem);
        goto out;
    }
    if (!o.model)
        o.model = g_strdup("vgg");
    rc = predict(&o, argv + 1, argc - 1);
out:
    options_clear(&o);
    return rc;
}
