/* pvx explain — explain images with explainer plugins, one shot, no config: model + weights as
 * pvx predict takes them, one or more methods; prints the predicted class, writes a heat map and
 * an occlusion map per image and method, and with --out the raw maps into an HDF5 file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct {
    PvxCliCommon common;
    char *model, *weights, *classes, *out, *out_dir, *layer, *target, *colormap, *fill;
    char **params, **methods;
    int size, resize, batch;
    double opacity, keep;
    gboolean no_resize, no_png;
} ExplainOptions;

static void options_clear(ExplainOptions *o)
{
    pvx_cli_common_clear(&o->common);
    g_free(o->model);
    g_free(o->weights);
    g_free(o->classes);
    g_free(o->out);
    g_free(o->out_dir);
    g_free(o->layer);
    g_free(o->target);
    g_free(o->colormap);
    g_free(o->fill);
    g_strfreev(o->params);
    g_strfreev(o->methods);
}

/* "name" or "name:k=v,k=v" → an open explainer. Returns: (transfer full). */
static PvxExplainer *open_method(const PvxRegistry *reg, const char *spec, char **name_out,
                                 GError **error)
{
    const char *colon = strchr(spec, ':');
    g_autofree char *name = colon ? g_strndup(spec, colon - spec) : g_strdup(spec);
    g_auto(GStrv) pairs = colon && colon[1] ? g_strsplit(colon + 1, ",", -1) : NULL;
    PvxExplainer *ex = pvx_explainer_open_by_name(reg, name, (const char *const *)pairs, error);
    if (!ex) {
        g_prefix_error(error, "--method %s: ", spec);
        return NULL;
    }
    *name_out = g_steal_pointer(&name);
    return ex;
}

static gboolean write_h5(const char *path, const PvxTensor *logits, const int64_t *targets,
                         int64_t n, char **images, GPtrArray *names, GPtrArray *maps,
                         GError **error)
{
    g_autoptr(PvxStore) store = g_file_test(path, G_FILE_TEST_EXISTS)
                                    ? pvx_store_open(path, TRUE, error)
                                    : pvx_store_create(path, error);
    if (!store || !pvx_store_begin(store, error))
        return FALSE;
    gboolean ok = pvx_store_write_tensor(store, "/logits", logits, error) &&
                  pvx_store_write_i64(store, "/target", 1, &n, targets, error) &&
                  pvx_store_write_strings(store, "/images", (const char *const *)images, error);
    for (guint i = 0; ok && i < names->len; i++) {
        g_autofree char *p = g_strdup_printf("/maps/%s", (char *)names->pdata[i]);
        ok = pvx_store_write_tensor(store, p, maps->pdata[i], error);
    }
    if (!ok) {
        pvx_store_abort(store);
        return FALSE;
    }
    return pvx_store_commit(store, error);
}

/* Writes the rows [b0, b0 + nb) of @maps into the full [N, h, w] tensor *all. */
static void gather(PvxTensor **all, const PvxTensor *maps, int64_t n, int64_t b0)
{
    if (!*all)
        *all = pvx_tensor_new_shape(3, n, maps->shape[1], maps->shape[2]);
    int64_t per = maps->shape[1] * maps->shape[2];
    memcpy((*all)->data + b0 * per, maps->data, sizeof(float) * per * maps->shape[0]);
}

/* The explanation settings from --target and --layer, --batch (@eo) and the pictures' from
 * --opacity, --keep, --colormap and --fill (@ro); prints why on stderr and returns FALSE when
 * one is unusable. */
static gboolean explain_settings(const ExplainOptions *o, PvxExplainOptions *eo,
                                 PvxMapRenderOptions *ro)
{
    *eo = (PvxExplainOptions){
        .mode = PVX_TARGET_PREDICTED, .layer = o->layer, .batch_size = o->batch};
    if (o->target && strcmp(o->target, "predicted") != 0) {
        char *end = NULL;
        eo->mode = PVX_TARGET_FIXED;
        eo->fixed = g_ascii_strtoll(o->target, &end, 10);
        if (end == o->target || *end) {
            fprintf(stderr, "pvx explain: --target %s: give 'predicted' or a class index\n",
                    o->target);
            return FALSE;
        }
    }
    pvx_map_render_options_init(ro);
    ro->opacity = o->opacity;
    ro->keep_fraction = o->keep;
    if ((o->colormap && !pvx_colormap_from_name(o->colormap, &ro->colormap)) ||
        (o->fill && !pvx_occlusion_fill_from_name(o->fill, &ro->fill))) {
        fprintf(stderr, "pvx explain: --colormap is jet or viridis; --fill is black, grey or "
                        "blur\n");
        return FALSE;
    }
    return TRUE;
}

/* The model plugin --model with --param, for [3, size, size] inputs and @n_classes classes,
 * with the weights of --weights. Returns: (transfer full) or NULL. */
static PvxModel *load_model(const ExplainOptions *o, const PvxRegistry *reg, int n_classes,
                            GError **error)
{
    g_autoptr(GPtrArray) pairs = g_ptr_array_new();
    for (char **p = o->params; p && *p; p++)
        g_ptr_array_add(pairs, *p);
    g_ptr_array_add(pairs, NULL);
    const PvxPlugin *plugin = pvx_registry_lookup(reg, PVX_KIND_MODEL, o->model, error);
    g_autofree char *owner = g_strdup_printf("model %s", o->model);
    g_autoptr(PvxParams) params =
        plugin ? pvx_params_new_from_pairs(plugin->params, owner, (const char *const *)pairs->pdata,
                                           error)
               : NULL;
    int64_t chw[3] = {3, o->size, o->size};
    g_autoptr(PvxModel) model =
        params ? pvx_model_build(plugin, params, chw, n_classes, error) : NULL;
    if (!model || !pvx_model_load_weights_file(model, o->weights, NULL, error))
        return NULL;
    return g_steal_pointer(&model);
}

/* Opens the explainer of every --method into @explainers (PvxExplainer) and its name into
 * @names (char *, transfer full). */
static gboolean open_methods(const PvxRegistry *reg, char **methods, GPtrArray *explainers,
                             GPtrArray *names, GError **error)
{
    for (char **m = methods; *m; m++) {
        char *name = NULL;
        PvxExplainer *ex = open_method(reg, *m, &name, error);
        if (!ex)
            return FALSE;
        g_ptr_array_add(explainers, ex);
        g_ptr_array_add(names, name);
    }
    return TRUE;
}

/* Reads every image, resized (unless --no-resize) and centre-cropped to --size; the crops go to
 * @pics (PvxImage, transfer full). Returns: (transfer full) [N, 3, size, size], normalised with
 * the ImageNet mean and std, or NULL. */
static PvxTensor *load_images(const ExplainOptions *o, char **images, int n_images, GPtrArray *pics,
                              GError **error)
{
    int64_t item = 3 * (int64_t)o->size * o->size;
    g_autoptr(PvxTensor) x = pvx_tensor_new_shape(4, (int64_t)n_images, 3, o->size, o->size);
    for (int i = 0; i < n_images; i++) {
        g_autoptr(PvxImage) img = pvx_image_load(images[i], error);
        if (!img)
            return NULL;
        g_autoptr(PvxImage) rgb = pvx_image_convert(img, 3);
        g_autoptr(PvxImage) resized =
            o->no_resize ? NULL : pvx_image_resize_shorter(rgb, o->resize);
        PvxImage *crop = pvx_image_center_crop(resized ? resized : rgb, o->size, o->size);
        g_autoptr(PvxTensor) t = pvx_image_to_tensor(crop, pvx_imagenet_mean, pvx_imagenet_std);
        memcpy(x->data + i * item, t->data, sizeof(float) * item);
        g_ptr_array_add(pics, crop);
    }
    return g_steal_pointer(&x);
}

/* Prints each image's predicted class (from @logits [nb, n_classes]) and the class explained
 * (@targets [nb]). */
static void print_predictions(char **images, char **classes, int n_classes, const PvxTensor *logits,
                              const int64_t *targets, int nb)
{
    g_autoptr(PvxTensor) prob = pvx_softmax_forward(logits, NULL, NULL);
    for (int i = 0; i < nb; i++) {
        int64_t pred = 0;
        for (int c = 1; c < n_classes; c++)
            if (logits->data[i * n_classes + c] > logits->data[i * n_classes + pred])
                pred = c;
        printf("%s: predicted %s (%" G_GINT64_FORMAT ", p %.4f); explaining class %s "
               "(%" G_GINT64_FORMAT ")\n",
               images[i], classes[pred], pred, prob->data[i * n_classes + pred],
               classes[targets[i]], targets[i]);
    }
}

/* Writes <image>_<method>_heat.png and _occl.png into --out-dir for each of the @nb maps of
 * @maps [nb, h, w], drawn over @pics (the crops of @images). */
static gboolean save_pictures(const ExplainOptions *o, const PvxMapRenderOptions *ro, char **images,
                              PvxImage *const *pics, const char *method, const PvxTensor *maps,
                              int nb, GError **error)
{
    int64_t per = maps->shape[1] * maps->shape[2];
    for (int i = 0; i < nb; i++) {
        g_autoptr(PvxTensor) raw = pvx_tensor_new_from_data(
            2, (int64_t[]){maps->shape[1], maps->shape[2]}, maps->data + i * per);
        g_autoptr(PvxImage) heat = NULL, occl = NULL;
        g_autofree char *base = g_path_get_basename(images[i]);
        char *dot = strrchr(base, '.');
        if (dot)
            *dot = '\0';
        g_autofree char *hn = pvx_map_file_name(base, method, -1, "heat");
        g_autofree char *on = pvx_map_file_name(base, method, -1, "occl");
        g_autofree char *hp = g_build_filename(o->out_dir, hn, NULL);
        g_autofree char *op = g_build_filename(o->out_dir, on, NULL);
        if (!pvx_render_map_pair(pics[i], raw, ro, &heat, &occl, error) ||
            !pvx_image_save_png(heat, hp, error) || !pvx_image_save_png(occl, op, error))
            return FALSE;
        g_message("wrote %s and %s", hp, op);
    }
    return TRUE;
}

/* One `pvx explain`: its inputs, and what the explanation gathers over the batches. */
typedef struct {
    const ExplainOptions *o;
    char **images; /* the IMAGE arguments */
    int n_images;
    char **classes; /* class names, NULL-terminated */
    int n_classes;
    PvxExplainOptions eo;
    PvxMapRenderOptions ro;
    PvxModel *model;
    GPtrArray *explainers; /* PvxExplainer: one per --method */
    GPtrArray *names;      /* char *: their method names */
    PvxTensor *x;          /* [N, 3, size, size] the preprocessed images */
    GPtrArray *pics;       /* PvxImage: the crops the pictures are drawn over */
    PvxTensor *logits;     /* [N, n_classes] from the first method */
    int64_t *targets;      /* [N] the explained classes, from the first method */
    GPtrArray *maps;       /* PvxTensor [N, h, w] per method */
} ExplainJob;

static void explain_job_clear(ExplainJob *job)
{
    g_clear_pointer(&job->maps, g_ptr_array_unref);
    g_clear_pointer(&job->targets, g_free);
    g_clear_pointer(&job->logits, pvx_tensor_unref);
    g_clear_pointer(&job->x, pvx_tensor_unref);
    g_clear_pointer(&job->pics, g_ptr_array_unref);
    g_clear_pointer(&job->names, g_ptr_array_unref);
    g_clear_pointer(&job->explainers, g_ptr_array_unref);
    g_clear_pointer(&job->model, pvx_model_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ExplainJob, explain_job_clear)

/* Explains the images in batches of --batch with every method: prints the predictions (first
 * method), writes the pictures (unless --no-png) and gathers logits, targets and maps into @job.
 * Returns an exit code. */
static int explain_batches(ExplainJob *job)
{
    const ExplainOptions *o = job->o;
    int n_images = job->n_images, n_classes = job->n_classes;
    g_autoptr(GError) error = NULL;
    job->logits = pvx_tensor_new_shape(2, (int64_t)n_images, (int64_t)n_classes);
    job->targets = g_new0(int64_t, n_images);
    job->maps = g_ptr_array_new_with_free_func((GDestroyNotify)pvx_tensor_unref);
    for (guint k = 0; k < job->explainers->len; k++)
        g_ptr_array_add(job->maps, NULL);
    for (int b0 = 0; b0 < n_images; b0 += o->batch) {
        int nb = MIN(o->batch, n_images - b0);
        g_autoptr(PvxTensor) xb = pvx_tensor_narrow0(job->x, b0, nb);
        for (guint k = 0; k < job->explainers->len; k++) {
            g_autoptr(PvxTensor) logits = NULL;
            g_autofree int64_t *targets = NULL;
            g_autoptr(PvxTensor) maps = pvx_explain(job->explainers->pdata[k], job->model, xb,
                                                    &job->eo, &logits, &targets, &error);
            if (!maps) {
                pvx_cli_error(error);
                return error->code == PVX_ERROR_NOT_FOUND ||
                               error->code == PVX_ERROR_INVALID_ARGUMENT
                           ? PVX_EXIT_BAD_INPUT
                           : PVX_EXIT_FAILED;
            }
            gather((PvxTensor **)&job->maps->pdata[k], maps, n_images, b0);
            if (k == 0) {
                memcpy(job->logits->data + (int64_t)b0 * n_classes, logits->data,
                       sizeof(float) * nb * n_classes);
                memcpy(job->targets + b0, targets, sizeof(int64_t) * nb);
                print_predictions(job->images + b0, job->classes, n_classes, logits, targets, nb);
            }
            if (!o->no_png && !save_pictures(o, &job->ro, job->images + b0,
                                             (PvxImage *const *)job->pics->pdata + b0,
                                             job->names->pdata[k], maps, nb, &error)) {
                pvx_cli_error(error);
                return PVX_EXIT_FAILED;
            }
        }
    }
    return PVX_EXIT_OK;
}

static int explain(ExplainOptions *o, char **images, int n_images)
{
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) classes = pvx_cli_read_classes(o->classes, &error);
    if (!classes) {
        pvx_cli_error(error);
        return PVX_EXIT_BAD_INPUT;
    }
    g_autoptr(PvxRegistry) reg = NULL;
    g_auto(ExplainJob) job = {
        .o = o,
        .images = images,
        .n_images = n_images,
        .classes = classes,
        .n_classes = (int)g_strv_length(classes),
    };
    if (!explain_settings(o, &job.eo, &job.ro))
        return PVX_EXIT_BAD_INPUT;
    reg = pvx_cli_load_registry(&o->common, NULL);
    job.model = load_model(o, reg, job.n_classes, &error);
    job.explainers = g_ptr_array_new_with_free_func((GDestroyNotify)pvx_explainer_close);
    job.names = g_ptr_array_new_with_free_func(g_free);
    if (!job.model || !open_methods(reg, o->methods, job.explainers, job.names, &error)) {
        pvx_cli_error(error);
        return PVX_EXIT_BAD_INPUT;
    }
    /* Every image is read before anything runs. */
    job.pics = g_ptr_array_new_with_free_func((GDestroyNotify)pvx_image_free);
    job.x = load_images(o, images, n_images, job.pics, &error);
    if (!job.x) {
        pvx_cli_error(error);
        return PVX_EXIT_BAD_INPUT;
    }
    if (!o->no_png && g_mkdir_with_parents(o->out_dir, 0755) != 0) {
        fprintf(stderr, "pvx explain: cannot create %s\n", o->out_dir);
        return PVX_EXIT_FAILED;
    }
    int rc = explain_batches(&job);
    if (rc != PVX_EXIT_OK)
        return rc;
    if (o->out &&
        !write_h5(o->out, job.logits, job.targets, n_images, images, job.names, job.maps, &error)) {
        pvx_cli_error(error);
        return PVX_EXIT_FAILED;
    }
    return PVX_EXIT_OK;
}

int pvx_cli_explain(int argc, char **argv)
{
    ExplainOptions o = {.size = 224, .resize = 256, .batch = 8, .opacity = 0.4, .keep = 0.1};
    g_autofree GOptionEntry *common = pvx_cli_common_entries(&o.common);
    GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_STRING, &o.model, "Model plugin (default vgg)", "NAME"},
        {"param", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &o.params,
         "Model parameter, e.g. --param arch=vgg16 (repeatable)", "KEY=VALUE"},
        {"weights", 'w', 0, G_OPTION_ARG_FILENAME, &o.weights,
         "HDF5 weights, torchvision names, group /weights unless FILE:/group (required)",
         "FILE[:/GROUP]"},
        {"classes", 'c', 0, G_OPTION_ARG_STRING, &o.classes,
         "Class names, one a line, or a class count (required)", "FILE|N"},
        {"method", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &o.methods,
         "Explainer plugin, optionally with params: gradcam, occlusion:patch=16,stride=8 "
         "(repeatable; default gradcam)",
         "NAME[:K=V,...]"},
        {"layer", 'l', 0, G_OPTION_ARG_STRING, &o.layer,
         "Target layer of CAM methods (default: the model's, features.29 for vgg16)", "NAME"},
        {"target", 't', 0, G_OPTION_ARG_STRING, &o.target,
         "Class to explain: 'predicted' (default) or a class index", "predicted|N"},
        {"size", 0, 0, G_OPTION_ARG_INT, &o.size, "Centre-crop size = model input (default 224)",
         "N"},
        {"resize", 0, 0, G_OPTION_ARG_INT, &o.resize,
         "Resize the shorter side to N first (default 256)", "N"},
        {"no-resize", 0, 0, G_OPTION_ARG_NONE, &o.no_resize, "Skip the resize", NULL},
        {"batch", 'b', 0, G_OPTION_ARG_INT, &o.batch, "Images per explanation batch (default 8)",
         "B"},
        {"out-dir", 'd', 0, G_OPTION_ARG_FILENAME, &o.out_dir,
         "Folder for <image>_<method>_heat.png and _occl.png (default .)", "DIR"},
        {"no-png", 0, 0, G_OPTION_ARG_NONE, &o.no_png, "Write no pictures", NULL},
        {"opacity", 0, 0, G_OPTION_ARG_DOUBLE, &o.opacity, "Heat-map opacity (default 0.4)", "A"},
        {"keep", 0, 0, G_OPTION_ARG_DOUBLE, &o.keep,
         "Occlusion map: fraction of most relevant pixels kept (default 0.1)", "F"},
        {"colormap", 0, 0, G_OPTION_ARG_STRING, &o.colormap, "jet (default) or viridis", "NAME"},
        {"fill", 0, 0, G_OPTION_ARG_STRING, &o.fill, "Occlusion map: black (default), grey or blur",
         "HOW"},
        {"out", 'o', 0, G_OPTION_ARG_FILENAME, &o.out,
         "Write logits [N, C], target [N] and maps/<method> [N, h, w] (raw) to this HDF5 file",
         "FILE.h5"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("IMAGE... — explain a model's decisions");
    g_option_context_set_summary(
        ctx, "Explains images with explainer plugins (gradcam, gradcam++, hirescam, xgradcam,\n"
             "layercam, scorecam, ablationcam, eigencam, saliency, integrated-gradients,\n"
             "occlusion): prints the predicted class and writes a heat map and an occlusion map\n"
             "per image and method. Preprocessing as pvx predict (ImageNet mean/std).\n\n"
             "Example: pvx explain --param arch=vgg16 -w vgg16.h5 -c imagenet.txt -e gradcam "
             "-e scorecam cat.jpg");
    g_option_context_add_main_entries(ctx, common, NULL);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    int rc = PVX_EXIT_BAD_INPUT;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "pvx explain: %s\n", error->message);
        goto out;
    }
    pvx_cli_apply_verbosity(&o.common);
    const char *problem = argc < 2                     ? "give at least one IMAGE"
                          : !o.weights                 ? "--weights is required"
                          : !o.classes                 ? "--classes is required"
                          : o.size < 1 || o.resize < 1 ? "--size and --resize must be positive"
                          : o.batch < 1                ? "--batch must be positive"
                          : !(o.opacity >= 0 && o.opacity <= 1) ? "--opacity must be in [0, 1]"
                          : !(o.keep >= 0 && o.keep <= 1)       ? "--keep must be in [0, 1]"
                                                                : NULL;
    if (problem) {
        fprintf(stderr, "pvx explain: %s (see pvx explain --help)\n", problem);
        goto out;
    }
    if (!o.model)
        o.model = g_strdup("vgg");
    if (!o.out_dir)
        o.out_dir = g_strdup(".");
    if (!o.methods) {
        o.methods = g_new0(char *, 2);
        o.methods[0] = g_strdup("gradcam");
    }
    rc = explain(&o, argv + 1, argc - 1);
out:
    options_clear(&o);
    return rc;
}
