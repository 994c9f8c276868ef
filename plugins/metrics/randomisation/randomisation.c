/* randomisation — the model-parameter randomisation test (Adebayo et al. 2018, "Sanity Checks
 * for Saliency Maps"; Quantus MPRT with layer_order "top_down").
 *
 * Cascading from the output down, the conv2d and linear layers are re-drawn one after another
 * (each keeps what was randomised above it): weight ~ N(0, σ_w²), bias ~ N(0, σ_b²), with σ the
 * standard deviation of the layer's trained values (its kept weights for a pruned layer, whose
 * mask stays applied). Batch-norm layers keep their values. After each layer the method is re-run
 * on the randomised model (PvxMetricInput.explain) for the same images and classes, and the
 * randomised map is compared with the trained model's map (both as a person sees them,
 * pvx_metric_map_pixels, at the image size): Spearman's rank correlation and SSIM. A method that
 * passes changes a lot: low values. The model's own weights are restored afterwards.
 *   spearman, ssim             per item, after the last randomised layer (`depth` layers)
 *   spearman_layers, ssim_layers [n, depth]: after each layer, top layer first
 */
#include "../xai_metric.h"
#include <pvx/random.h>

static const PvxParamSpec rand_params[] = {
    {"depth", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "layers randomised from the top (0: every conv2d and linear layer)"},
    PVX_PARAM_SPEC_END,
};

static gpointer rand_open(const PvxParams *params, GError **error)
{
    (void)error;
    int64_t *d = g_new(int64_t, 1);
    *d = pvx_params_get_int(params, "depth");
    return d;
}

static void rand_close(gpointer self)
{
    g_free(self);
}

static double std_of(const PvxTensor *t, const PvxTensor *mask)
{
    double s = 0, ss = 0;
    int64_t k = 0;
    for (int64_t i = 0; i < pvx_tensor_numel(t); i++) {
        if (mask && mask->data[i] == 0)
            continue;
        s += t->data[i];
        ss += (double)t->data[i] * t->data[i];
        k++;
    }
    if (k < 2)
        return 0;
    double mean = s / k;
    return sqrt(fmax(0, ss / k - mean * mean));
}

static void redraw(PvxTensor *t, double sigma, PvxRng *r)
{
    for (int64_t i = 0; i < pvx_tensor_numel(t); i++)
        t->data[i] = (float)(sigma * pvx_rng_gaussian(r));
}

static gboolean rand_compute(gpointer self, const PvxMetricInput *in, PvxMetricResult *out,
                             GError **error)
{
    int64_t depth = *(int64_t *)self;
    if (!xai_input_is_new(in, error))
        return FALSE;
    PvxModel *model = in->model;
    GPtrArray *layers = g_ptr_array_new();
    for (int l = pvx_model_n_layers(model) - 1; l >= 0; l--) {
        PvxLayer *L = pvx_model_layer(model, l);
        if ((L->type == PVX_LAYER_CONV2D || L->type == PVX_LAYER_LINEAR) && L->weight)
            g_ptr_array_add(layers, L);
    }
    int64_t n_layers = layers->len;
    if (depth == 0 || depth > n_layers)
        depth = n_layers;
    int64_t n = in->n, h, w;
    xai_pixel_size(in, &h, &w);
    /* the trained model's maps, as a person sees them */
    g_autoptr(GPtrArray) orig = g_ptr_array_new_with_free_func((GDestroyNotify)pvx_tensor_unref);
    for (int64_t i = 0; i < n; i++)
        g_ptr_array_add(orig, pvx_metric_map_pixels(in->maps, i, h, w));
    /* save what gets redrawn */
    g_autoptr(GPtrArray) saved = g_ptr_array_new_with_free_func((GDestroyNotify)pvx_tensor_unref);
    for (int64_t l = 0; l < depth; l++) {
        PvxLayer *L = layers->pdata[l];
        g_ptr_array_add(saved, pvx_tensor_copy(L->weight));
        g_ptr_array_add(saved, L->bias ? pvx_tensor_copy(L->bias) : NULL);
    }
    /* one stream for all redrawn layers, from the top down, weight before bias */
    PvxRng rng;
    pvx_rng_init(&rng, pvx_hash64_str(in->seed, "randomisation"));
    g_autofree double *sp = g_new(double, n *MAX(depth, 1));
    g_autofree double *ss = g_new(double, n *MAX(depth, 1));
    gboolean ok = TRUE;
    for (int64_t l = 0; l < depth && ok; l++) {
        PvxLayer *L = layers->pdata[l];
        redraw(L->weight, std_of(L->weight, L->mask), &rng);
        if (L->bias)
            redraw(L->bias, std_of(L->bias, NULL), &rng);
        pvx_model_apply_masks(model);
        g_autoptr(PvxTensor) maps = NULL;
        ok = in->explain(in->explain_data, model, in->images, in->targets, &maps, error);
        if (ok && (maps->ndim != 3 || maps->shape[0] != n)) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                        "re-running the method gave maps of the wrong shape");
            ok = FALSE;
        }
        for (int64_t i = 0; ok && i < n; i++) {
            g_autoptr(PvxTensor) e = pvx_metric_map_pixels(maps, i, h, w);
            const PvxTensor *o = orig->pdata[i];
            sp[i * depth + l] = pvx_metric_spearman(o->data, e->data, h * w);
            ss[i * depth + l] = pvx_metric_ssim(o->data, e->data, h, w, 1.0);
        }
        g_debug("layer %s randomised", L->name);
    }
    for (int64_t l = 0; l < depth; l++) {
        PvxLayer *L = layers->pdata[l];
        memcpy(L->weight->data, ((PvxTensor *)saved->pdata[2 * l])->data,
               sizeof(float) * pvx_tensor_numel(L->weight));
        if (L->bias)
            memcpy(L->bias->data, ((PvxTensor *)saved->pdata[2 * l + 1])->data,
                   sizeof(float) * pvx_tensor_numel(L->bias));
    }
    g_ptr_array_free(layers, TRUE);
    if (!ok)
        return FALSE;
    if (depth == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "the model has no conv2d or linear layer to randomise");
        return FALSE;
    }
    g_autofree double *last_sp = g_new(double, n);
    g_autofree double *last_ss = g_new(double, n);
    for (int64_t i = 0; i < n; i++) {
        last_sp[i] = sp[i * depth + depth - 1];
        last_ss[i] = ss[i * depth + depth - 1];
    }
    pvx_metric_result_add_values(out, "spearman", n, last_sp);
    pvx_metric_result_add_values(out, "ssim", n, last_ss);
    pvx_metric_result_add_matrix(out, "spearman_layers", n, depth, sp);
    pvx_metric_result_add_matrix(out, "ssim_layers", n, depth, ss);
    return TRUE;
}

static const PvxMetricClass rand_class = {
    .size = sizeof(PvxMetricClass),
    .needs = PVX_METRIC_NEEDS_MAPS | PVX_METRIC_NEEDS_MODEL | PVX_METRIC_NEEDS_IMAGES |
             PVX_METRIC_NEEDS_TARGETS | PVX_METRIC_NEEDS_EXPLAIN,
    .open = rand_open,
    .close = rand_close,
    .compute = rand_compute,
};

PVX_PLUGIN_DEFINE(PVX_KIND_METRIC, "randomisation", "1.0.0",
                  "model-parameter randomisation test (cascading, top down): Spearman and SSIM "
                  "between the trained and the randomised model's maps (low passes)",
                  rand_params, &rand_class)
