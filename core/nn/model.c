/* pvx — models as ordered lists of named layers: building, inspecting, masks, taps. */
#include <math.h>
#include <string.h>

#include "nn_private.h"

static const char *const type_names[] = {
    [PVX_LAYER_CONV2D] = "conv2d",
    [PVX_LAYER_LINEAR] = "linear",
    [PVX_LAYER_RELU] = "relu",
    [PVX_LAYER_MAXPOOL2D] = "maxpool2d",
    [PVX_LAYER_ADAPTIVE_AVGPOOL2D] = "adaptive_avgpool2d",
    [PVX_LAYER_DROPOUT] = "dropout",
    [PVX_LAYER_BATCHNORM2D] = "batchnorm2d",
    [PVX_LAYER_FLATTEN] = "flatten",
};

const char *pvx_layer_type_name(PvxLayerType type)
{
    if (type < PVX_LAYER_CONV2D || type > PVX_LAYER_FLATTEN)
        return "unknown";
    return type_names[type];
}

void pvx_layer_state_clear(PvxLayerState *s)
{
    g_clear_pointer(&s->input, pvx_tensor_unref);
    g_clear_pointer(&s->output, pvx_tensor_unref);
    g_clear_pointer(&s->indices, pvx_indices_free);
    g_clear_pointer(&s->drop_mask, pvx_tensor_unref);
    g_clear_pointer(&s->save_mean, pvx_tensor_unref);
    g_clear_pointer(&s->save_invstd, pvx_tensor_unref);
    g_clear_pointer(&s->tap_act, pvx_tensor_unref);
    g_clear_pointer(&s->tap_grad, pvx_tensor_unref);
    pvx_layer_sparse_invalidate(s);
}

static void layer_free(PvxLayer *l)
{
    pvx_layer_state_clear(l->state);
    g_free(l->state);
    g_clear_pointer(&l->weight, pvx_tensor_unref);
    g_clear_pointer(&l->bias, pvx_tensor_unref);
    g_clear_pointer(&l->running_mean, pvx_tensor_unref);
    g_clear_pointer(&l->running_var, pvx_tensor_unref);
    g_clear_pointer(&l->mask, pvx_tensor_unref);
    g_clear_pointer(&l->weight_grad, pvx_tensor_unref);
    g_clear_pointer(&l->bias_grad, pvx_tensor_unref);
    g_free(l->name);
    g_free(l);
}

PvxModel *pvx_model_new(const char *arch)
{
    PvxModel *m = g_new0(PvxModel, 1);
    m->arch = g_strdup(arch ? arch : "custom");
    m->layers = g_ptr_array_new_with_free_func((GDestroyNotify)layer_free);
    m->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    return m;
}

void pvx_model_free(PvxModel *m)
{
    if (!m)
        return;
    g_hash_table_unref(m->by_name);
    g_ptr_array_unref(m->layers);
    for (int i = 0; i < 2; i++) {
        g_clear_pointer(&m->buf[i], pvx_tensor_unref);
        g_clear_pointer(&m->gbuf[i], pvx_tensor_unref);
    }
    g_free(m->target_layer);
    g_strfreev(m->prunable);
    g_free(m->arch);
    g_free(m);
}

const char *pvx_model_arch(const PvxModel *m)
{
    g_return_val_if_fail(m != NULL, NULL);
    return m->arch;
}

static PvxLayer *add_layer(PvxModel *m, const char *name, PvxLayerType type)
{
    g_return_val_if_fail(m != NULL && name != NULL && *name, NULL);
    if (g_hash_table_contains(m->by_name, name)) {
        g_critical("pvx_model_add: model %s already has a layer '%s'", m->arch, name);
        return NULL;
    }
    PvxLayer *l = g_new0(PvxLayer, 1);
    l->name = g_strdup(name);
    l->type = type;
    l->state = g_new0(PvxLayerState, 1);
    g_ptr_array_add(m->layers, l);
    g_hash_table_insert(m->by_name, l->name, GINT_TO_POINTER(m->layers->len));
    return l;
}

/* A parameter and its gradient. */
static void add_param(PvxTensor **p, PvxTensor **grad, int ndim, const int64_t *shape)
{
    *p = pvx_tensor_new(ndim, shape);
    if (grad)
        *grad = pvx_tensor_new(ndim, shape);
}

PvxLayer *pvx_model_add_conv2d(PvxModel *m, const char *name, int64_t cin, int64_t cout, int kernel,
                               int stride, int padding, gboolean bias)
{
    g_return_val_if_fail(cin > 0 && cout > 0 && kernel > 0 && stride > 0 && padding >= 0, NULL);
    PvxLayer *l = add_layer(m, name, PVX_LAYER_CONV2D);
    if (!l)
        return NULL;
    l->in_features = cin;
    l->out_features = cout;
    l->kernel_h = l->kernel_w = kernel;
    l->conv = (PvxConv2dParams){stride, stride, padding, padding, 1, 1};
    int64_t ws[4] = {cout, cin, kernel, kernel};
    add_param(&l->weight, &l->weight_grad, 4, ws);
    if (bias)
        add_param(&l->bias, &l->bias_grad, 1, &cout);
    return l;
}

PvxLayer *pvx_model_add_linear(PvxModel *m, const char *name, int64_t in, int64_t out,
                               gboolean bias)
{
    g_return_val_if_fail(in > 0 && out > 0, NULL);
    PvxLayer *l = add_layer(m, name, PVX_LAYER_LINEAR);
    if (!l)
        return NULL;
    l->in_features = in;
    l->out_features = out;
    int64_t ws[2] = {out, in};
    add_param(&l->weight, &l->weight_grad, 2, ws);
    if (bias)
        add_param(&l->bias, &l->bias_grad, 1, &out);
    return l;
}

PvxLayer *pvx_model_add_relu(PvxModel *m, const char *name)
{
    return add_layer(m, name, PVX_LAYER_RELU);
}

PvxLayer *pvx_model_add_maxpool2d(PvxModel *m, const char *name, int kernel, int stride)
{
    g_return_val_if_fail(kernel > 0 && stride >= 0, NULL);
    PvxLayer *l = add_layer(m, name, PVX_LAYER_MAXPOOL2D);
    if (l)
        l->pool = (PvxMaxPool2dParams){
            kernel, kernel, stride ? stride : kernel, stride ? stride : kernel, 0, 0};
    return l;
}

PvxLayer *pvx_model_add_adaptive_avgpool2d(PvxModel *m, const char *name, int out_h, int out_w)
{
    g_return_val_if_fail(out_h > 0 && out_w > 0, NULL);
    PvxLayer *l = add_layer(m, name, PVX_LAYER_ADAPTIVE_AVGPOOL2D);
    if (l) {
        l->out_h = out_h;
        l->out_w = out_w;
    }
    return l;
}

PvxLayer *pvx_model_add_dropout(PvxModel *m, const char *name, double p)
{
    g_return_val_if_fail(p >= 0.0 && p < 1.0, NULL);
    PvxLayer *l = add_layer(m, name, PVX_LAYER_DROPOUT);
    if (l)
        l->p = p;
    return l;
}

PvxLayer *pvx_model_add_batchnorm2d(PvxModel *m, const char *name, int64_t c)
{
    g_return_val_if_fail(c > 0, NULL);
    PvxLayer *l = add_layer(m, name, PVX_LAYER_BATCHNORM2D);
    if (!l)
        return NULL;
    l->in_features = l->out_features = c;
    l->eps = 1e-5;
    l->momentum = 0.1;
    add_param(&l->weight, &l->weight_grad, 1, &c);
    add_param(&l->bias, &l->bias_grad, 1, &c);
    add_param(&l->running_mean, NULL, 1, &c);
    add_param(&l->running_var, NULL, 1, &c);
    pvx_tensor_fill(l->weight, 1.0f);
    pvx_tensor_fill(l->running_var, 1.0f);
    return l;
}

PvxLayer *pvx_model_add_flatten(PvxModel *m, const char *name)
{
    return add_layer(m, name, PVX_LAYER_FLATTEN);
}

int pvx_model_n_layers(const PvxModel *m)
{
    g_return_val_if_fail(m != NULL, 0);
    return (int)m->layers->len;
}

PvxLayer *pvx_model_layer(const PvxModel *m, int index)
{
    g_return_val_if_fail(m != NULL && index >= 0 && index < (int)m->layers->len, NULL);
    return g_ptr_array_index(m->layers, index);
}

int pvx_model_layer_index(const PvxModel *m, const char *name)
{
    g_return_val_if_fail(m != NULL, -1);
    if (!name)
        return -1;
    return GPOINTER_TO_INT(g_hash_table_lookup(m->by_name, name)) - 1;
}

char *pvx_model_layer_names_string(const PvxModel *m)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < m->layers->len; i++) {
        const PvxLayer *l = g_ptr_array_index(m->layers, i);
        g_string_append_printf(s, "%s%s", i ? ", " : "", l->name);
    }
    return g_string_free(s, FALSE);
}

PvxLayer *pvx_model_find_layer(const PvxModel *m, const char *name, GError **error)
{
    g_return_val_if_fail(m != NULL, NULL);
    int i = pvx_model_layer_index(m, name);
    if (i < 0) {
        g_autofree char *names = pvx_model_layer_names_string(m);
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "model %s has no layer '%s'; its layers are: %s", m->arch,
                    name ? name : "(null)", names);
        return NULL;
    }
    return g_ptr_array_index(m->layers, i);
}

GPtrArray *pvx_model_state(const PvxModel *m, char ***names_out)
{
    GPtrArray *tensors = g_ptr_array_new();
    GPtrArray *names = g_ptr_array_new();
    for (guint i = 0; i < m->layers->len; i++) {
        const PvxLayer *l = g_ptr_array_index(m->layers, i);
        PvxTensor *const ts[4] = {l->weight, l->bias, l->running_mean, l->running_var};
        static const char *const suffix[4] = {"weight", "bias", "running_mean", "running_var"};
        for (int k = 0; k < 4; k++) {
            if (!ts[k])
                continue;
            g_ptr_array_add(tensors, ts[k]);
            g_ptr_array_add(names, g_strdup_printf("%s.%s", l->name, suffix[k]));
        }
    }
    g_ptr_array_add(names, NULL);
    char **strv = (char **)g_ptr_array_free(names, FALSE);
    if (names_out)
        *names_out = strv;
    else
        g_strfreev(strv);
    return tensors;
}

int64_t pvx_model_num_params(const PvxModel *m)
{
    int64_t n = 0;
    for (guint i = 0; i < m->layers->len; i++) {
        const PvxLayer *l = g_ptr_array_index(m->layers, i);
        if (l->weight)
            n += pvx_tensor_numel(l->weight);
        if (l->bias)
            n += pvx_tensor_numel(l->bias);
    }
    return n;
}

static gboolean shape_error(const PvxLayer *l, int ndim, const int64_t *in, const char *expected,
                            GError **error)
{
    g_autofree char *s = pvx_shape_string(ndim, in);
    g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                "layer %s (%s) cannot take an input of shape %s: %s", l->name,
                pvx_layer_type_name(l->type), s, expected);
    return FALSE;
}

gboolean pvx_layer_output_shape(const PvxLayer *l, int ndim, const int64_t *in, int *ondim,
                                int64_t *out, GError **error)
{
    char expected[160];
    switch (l->type) {
    case PVX_LAYER_CONV2D:
    case PVX_LAYER_MAXPOOL2D: {
        int kh, kw, sh, sw, ph, pw;
        if (l->type == PVX_LAYER_CONV2D) {
            kh = l->kernel_h, kw = l->kernel_w, sh = l->conv.stride_h, sw = l->conv.stride_w;
            ph = l->conv.pad_h, pw = l->conv.pad_w;
        } else {
            kh = l->pool.kernel_h, kw = l->pool.kernel_w, sh = l->pool.stride_h;
            sw = l->pool.stride_w, ph = l->pool.pad_h, pw = l->pool.pad_w;
        }
        if (ndim != 4 || (l->type == PVX_LAYER_CONV2D && in[1] != l->in_features)) {
            if (l->type == PVX_LAYER_CONV2D)
                g_snprintf(expected, sizeof expected, "expected [N, %" G_GINT64_FORMAT ", H, W]",
                           l->in_features);
            else
                g_snprintf(expected, sizeof expected, "expected [N, C, H, W]");
            return shape_error(l, ndim, in, expected, error);
        }
        int64_t oh = (in[2] + 2 * ph - kh) / sh + 1, ow = (in[3] + 2 * pw - kw) / sw + 1;
        if (in[2] + 2 * ph < kh || in[3] + 2 * pw < kw || oh < 1 || ow < 1) {
            g_snprintf(expected, sizeof expected,
                       "the image is smaller than the %dx%d window (input too small?)", kh, kw);
            return shape_error(l, ndim, in, expected, error);
        }
        *ondim = 4;
        out[0] = in[0];
        out[1] = l->type == PVX_LAYER_CONV2D ? l->out_features : in[1];
        out[2] = oh;
        out[3] = ow;
        return TRUE;
    }
    case PVX_LAYER_LINEAR:
        if (ndim != 2 || in[1] != l->in_features) {
            g_snprintf(expected, sizeof expected, "expected [N, %" G_GINT64_FORMAT "]",
                       l->in_features);
            return shape_error(l, ndim, in, expected, error);
        }
        *ondim = 2;
        out[0] = in[0];
        out[1] = l->out_features;
        return TRUE;
    case PVX_LAYER_BATCHNORM2D:
        if (ndim != 4 || in[1] != l->in_features) {
            g_snprintf(expected, sizeof expected, "expected [N, %" G_GINT64_FORMAT ", H, W]",
                       l->in_features);
            return shape_error(l, ndim, in, expected, error);
        }
        /* fall through */
    case PVX_LAYER_RELU:
    case PVX_LAYER_DROPOUT:
        *ondim = ndim;
        memcpy(out, in, sizeof(int64_t) * ndim);
        return TRUE;
    case PVX_LAYER_ADAPTIVE_AVGPOOL2D:
        if (ndim != 4)
            return shape_error(l, ndim, in, "expected [N, C, H, W]", error);
        *ondim = 4;
        out[0] = in[0];
        out[1] = in[1];
        out[2] = l->out_h;
        out[3] = l->out_w;
        return TRUE;
    case PVX_LAYER_FLATTEN:
        if (ndim < 2)
            return shape_error(l, ndim, in, "expected at least [N, K]", error);
        *ondim = 2;
        out[0] = in[0];
        out[1] = 1;
        for (int d = 1; d < ndim; d++)
            out[1] *= in[d];
        return TRUE;
    }
    return shape_error(l, ndim, in, "unknown layer type", error);
}

/* Propagates [1, C, H, W] through the layers; @flops (nullable) receives 2 × multiply-adds. */
static gboolean propagate(const PvxModel *m, const int64_t chw[3], int *out_ndim,
                          int64_t *out_shape, double *flops, double *per_layer, GError **error)
{
    int ndim = 4;
    int64_t shape[PVX_TENSOR_MAX_DIMS] = {1, chw[0], chw[1], chw[2]};
    double f = 0.0;
    for (guint i = 0; i < m->layers->len; i++) {
        const PvxLayer *l = g_ptr_array_index(m->layers, i);
        int nd;
        int64_t next[PVX_TENSOR_MAX_DIMS];
        if (!pvx_layer_output_shape(l, ndim, shape, &nd, next, error))
            return FALSE;
        double lf = 0.0;
        if (l->type == PVX_LAYER_CONV2D)
            lf = 2.0 * (double)l->in_features * l->kernel_h * l->kernel_w * next[1] * next[2] *
                 next[3];
        else if (l->type == PVX_LAYER_LINEAR)
            lf = 2.0 * (double)l->in_features * l->out_features;
        f += lf;
        if (per_layer)
            per_layer[i] = lf;
        ndim = nd;
        memcpy(shape, next, sizeof next);
    }
    if (out_ndim)
        *out_ndim = ndim;
    if (out_shape)
        memcpy(out_shape, shape, sizeof(int64_t) * ndim);
    if (flops)
        *flops = f;
    return TRUE;
}

gboolean pvx_model_check_input(const PvxModel *m, const int64_t chw[3], int *out_ndim,
                               int64_t out_shape[PVX_TENSOR_MAX_DIMS], GError **error)
{
    g_return_val_if_fail(m != NULL && chw != NULL, FALSE);
    return propagate(m, chw, out_ndim, out_shape, NULL, NULL, error);
}

double pvx_model_flops(const PvxModel *m, const int64_t chw[3])
{
    double f;
    if (!propagate(m, chw, NULL, NULL, &f, NULL, NULL))
        return -1.0;
    return f;
}

gboolean pvx_model_layer_flops(const PvxModel *m, const int64_t chw[3], double *per_layer)
{
    g_return_val_if_fail(m != NULL && chw != NULL && per_layer != NULL, FALSE);
    return propagate(m, chw, NULL, NULL, NULL, per_layer, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Masks
 */

static PvxLayer *maskable_layer(PvxModel *m, const char *name, GError **error)
{
    PvxLayer *l = pvx_model_find_layer(m, name, error);
    if (l && l->type != PVX_LAYER_CONV2D && l->type != PVX_LAYER_LINEAR) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "layer %s is a %s layer; only conv2d and linear layers take masks", name,
                    pvx_layer_type_name(l->type));
        return NULL;
    }
    return l;
}

static void mask_weight(PvxLayer *l)
{
    int64_t n = pvx_tensor_numel(l->weight);
    float *w = l->weight->data;
    const float *k = l->mask->data;
    for (int64_t i = 0; i < n; i++)
        w[i] *= k[i];
}

gboolean pvx_model_set_mask(PvxModel *m, const char *name, const PvxTensor *mask, GError **error)
{
    PvxLayer *l = maskable_layer(m, name, error);
    if (!l)
        return FALSE;
    pvx_layer_sparse_invalidate(l->state);
    if (!mask) {
        g_clear_pointer(&l->mask, pvx_tensor_unref);
        return TRUE;
    }
    if (!pvx_tensor_same_shape(mask, l->weight)) {
        g_autofree char *a = pvx_tensor_shape_string(mask);
        g_autofree char *b = pvx_tensor_shape_string(l->weight);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "mask for %s.weight has shape %s, the weight has shape %s", name, a, b);
        return FALSE;
    }
    g_autoptr(PvxTensor) copy = pvx_tensor_copy(mask);
    int64_t n = pvx_tensor_numel(copy);
    for (int64_t i = 0; i < n; i++) {
        if (copy->data[i] != 0.0f && copy->data[i] != 1.0f) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "mask for %s.weight holds %g at element %" G_GINT64_FORMAT
                        "; masks hold only 0 and 1",
                        name, copy->data[i], i);
            return FALSE;
        }
    }
    g_clear_pointer(&l->mask, pvx_tensor_unref);
    l->mask = g_steal_pointer(&copy);
    mask_weight(l);
    return TRUE;
}

gboolean pvx_model_set_mask_u8(PvxModel *m, const char *name, const uint8_t *mask, GError **error)
{
    PvxLayer *l = maskable_layer(m, name, error);
    if (!l)
        return FALSE;
    g_return_val_if_fail(mask != NULL, FALSE);
    g_autoptr(PvxTensor) t = pvx_tensor_new_like(l->weight);
    int64_t n = pvx_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        t->data[i] = (float)mask[i];
    return pvx_model_set_mask(m, name, t, error);
}

void pvx_model_clear_masks(PvxModel *m)
{
    for (guint i = 0; i < m->layers->len; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        if (l->mask)
            pvx_model_set_mask(m, l->name, NULL, NULL);
    }
}

void pvx_model_apply_masks(PvxModel *m)
{
    pvx_model_sparse_invalidate(m); /* the weights may have changed (see nn.h) */
    for (guint i = 0; i < m->layers->len; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        if (l->mask)
            mask_weight(l);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Taps
 */

gboolean pvx_model_tap(PvxModel *m, const char *name, GError **error)
{
    PvxLayer *l = pvx_model_find_layer(m, name, error);
    if (!l)
        return FALSE;
    l->state->tapped = TRUE;
    return TRUE;
}

void pvx_model_untap(PvxModel *m, const char *name)
{
    int i = pvx_model_layer_index(m, name);
    if (i < 0)
        return;
    PvxLayer *l = g_ptr_array_index(m->layers, i);
    l->state->tapped = FALSE;
    g_clear_pointer(&l->state->tap_act, pvx_tensor_unref);
    g_clear_pointer(&l->state->tap_grad, pvx_tensor_unref);
}

PvxTensor *pvx_model_tap_activation(const PvxModel *m, const char *name)
{
    int i = pvx_model_layer_index(m, name);
    if (i < 0)
        return NULL;
    const PvxLayer *l = g_ptr_array_index(m->layers, i);
    return l->state->tapped ? l->state->tap_act : NULL;
}

PvxTensor *pvx_model_tap_gradient(const PvxModel *m, const char *name)
{
    int i = pvx_model_layer_index(m, name);
    if (i < 0)
        return NULL;
    const PvxLayer *l = g_ptr_array_index(m->layers, i);
    return l->state->tapped ? l->state->tap_grad : NULL;
}
