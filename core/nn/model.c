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
    [PVX_LAYER_ADD] = "add",
    [PVX_LAYER_CONCAT] = "concat",
    [PVX_LAYER_MUL] = "mul",
    [PVX_LAYER_RELU6] = "relu6",
    [PVX_LAYER_SIGMOID] = "sigmoid",
    [PVX_LAYER_SILU] = "silu",
    [PVX_LAYER_HARDSIGMOID] = "hardsigmoid",
    [PVX_LAYER_HARDSWISH] = "hardswish",
    [PVX_LAYER_IDENTITY] = "identity",
    [PVX_LAYER_STOCHASTIC_DEPTH] = "stochastic_depth",
};

const char *pvx_layer_type_name(PvxLayerType type)
{
    if (type < PVX_LAYER_CONV2D || type > PVX_LAYER_TYPE_LAST)
        return "unknown";
    return type_names[type];
}

void pvx_layer_state_clear(PvxLayerState *s)
{
    g_clear_pointer(&s->input, pvx_tensor_unref);
    g_clear_pointer(&s->input2, pvx_tensor_unref);
    g_clear_pointer(&s->in_channels, g_free);
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
    g_free(l->state->in_idx);
    g_free(l->state);
    g_strfreev(l->inputs);
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
    m->aliases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    m->dirty = TRUE;
    return m;
}

void pvx_model_free(PvxModel *m)
{
    if (!m)
        return;
    g_hash_table_unref(m->by_name);
    g_hash_table_unref(m->aliases);
    g_ptr_array_unref(m->layers);
    g_clear_pointer(&m->pool, pvx_buffer_pool_free);
    g_clear_pointer(&m->gpool, pvx_buffer_pool_free);
    g_free(m->graph_error);
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

/* A new layer reading @inputs (NULL: the layer added before it, or the model's input). */
static PvxLayer *add_layer_from(PvxModel *m, const char *name, PvxLayerType type,
                                const char *const *inputs)
{
    g_return_val_if_fail(m != NULL && name != NULL && *name, NULL);
    if (g_hash_table_contains(m->by_name, name) || g_hash_table_contains(m->aliases, name) ||
        strcmp(name, PVX_MODEL_INPUT) == 0) {
        g_critical("pvx_model_add: model %s already has a layer '%s'%s", m->arch, name,
                   strcmp(name, PVX_MODEL_INPUT) == 0 ? " (the name of the model's input)" : "");
        return NULL;
    }
    PvxLayer *l = g_new0(PvxLayer, 1);
    l->name = g_strdup(name);
    l->type = type;
    l->groups = 1;
    l->state = g_new0(PvxLayerState, 1);
    if (inputs) {
        l->inputs = g_strdupv((char **)inputs);
    } else {
        const char *prev = m->output ? m->output->name : PVX_MODEL_INPUT;
        l->inputs = g_new0(char *, 2);
        l->inputs[0] = g_strdup(prev);
    }
    l->n_inputs = (int)g_strv_length(l->inputs);
    g_ptr_array_add(m->layers, l);
    g_hash_table_insert(m->by_name, l->name, GINT_TO_POINTER(m->layers->len));
    m->output = l;
    m->dirty = TRUE;
    return l;
}

static PvxLayer *add_layer(PvxModel *m, const char *name, PvxLayerType type)
{
    return add_layer_from(m, name, type, NULL);
}

/* A parameter and its gradient. */
static void add_param(PvxTensor **p, PvxTensor **grad, int ndim, const int64_t *shape)
{
    *p = pvx_tensor_new(ndim, shape);
    if (grad)
        *grad = pvx_tensor_new(ndim, shape);
}

PvxLayer *pvx_model_add_conv2d_full(PvxModel *m, const char *name, int64_t cin, int64_t cout,
                                    int kh, int kw, const PvxConv2dParams *p, int groups,
                                    gboolean bias)
{
    PvxConv2dParams c = p ? *p : (PvxConv2dParams){0};
    c.stride_h = MAX(c.stride_h, 1);
    c.stride_w = MAX(c.stride_w, 1);
    c.dilation_h = MAX(c.dilation_h, 1);
    c.dilation_w = MAX(c.dilation_w, 1);
    g_return_val_if_fail(cin > 0 && cout > 0 && kh > 0 && kw > 0 && c.pad_h >= 0 && c.pad_w >= 0,
                         NULL);
    g_return_val_if_fail(groups >= 1 && cin % groups == 0 && cout % groups == 0, NULL);
    PvxLayer *l = add_layer(m, name, PVX_LAYER_CONV2D);
    if (!l)
        return NULL;
    l->in_features = cin;
    l->out_features = cout;
    l->kernel_h = kh;
    l->kernel_w = kw;
    l->conv = c;
    l->groups = groups;
    int64_t ws[4] = {cout, cin / groups, kh, kw};
    add_param(&l->weight, &l->weight_grad, 4, ws);
    if (bias)
        add_param(&l->bias, &l->bias_grad, 1, &cout);
    return l;
}

PvxLayer *pvx_model_add_conv2d(PvxModel *m, const char *name, int64_t cin, int64_t cout, int kernel,
                               int stride, int padding, gboolean bias)
{
    g_return_val_if_fail(stride > 0, NULL);
    PvxConv2dParams c = {stride, stride, padding, padding, 1, 1};
    return pvx_model_add_conv2d_full(m, name, cin, cout, kernel, kernel, &c, 1, bias);
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

PvxLayer *pvx_model_add_activation(PvxModel *m, const char *name, PvxLayerType type)
{
    g_return_val_if_fail(type == PVX_LAYER_RELU || type == PVX_LAYER_RELU6 ||
                             type == PVX_LAYER_SIGMOID || type == PVX_LAYER_SILU ||
                             type == PVX_LAYER_HARDSIGMOID || type == PVX_LAYER_HARDSWISH ||
                             type == PVX_LAYER_IDENTITY,
                         NULL);
    return add_layer(m, name, type);
}

static gboolean valid_names(const char *const *inputs, int min, int max)
{
    int n = 0;
    for (; inputs && inputs[n]; n++)
        if (!*inputs[n])
            return FALSE;
    return n >= min && (max < 0 || n <= max);
}

PvxLayer *pvx_model_add_add(PvxModel *m, const char *name, const char *const *inputs)
{
    g_return_val_if_fail(valid_names(inputs, 2, -1), NULL);
    return add_layer_from(m, name, PVX_LAYER_ADD, inputs);
}

PvxLayer *pvx_model_add_concat(PvxModel *m, const char *name, const char *const *inputs)
{
    g_return_val_if_fail(valid_names(inputs, 2, -1), NULL);
    return add_layer_from(m, name, PVX_LAYER_CONCAT, inputs);
}

PvxLayer *pvx_model_add_mul(PvxModel *m, const char *name, const char *x, const char *scale)
{
    g_return_val_if_fail(x != NULL && *x && scale != NULL && *scale, NULL);
    const char *const inputs[] = {x, scale, NULL};
    return add_layer_from(m, name, PVX_LAYER_MUL, inputs);
}

PvxLayer *pvx_model_add_stochastic_depth(PvxModel *m, const char *name, double p)
{
    g_return_val_if_fail(p >= 0.0 && p < 1.0, NULL);
    PvxLayer *l = add_layer(m, name, PVX_LAYER_STOCHASTIC_DEPTH);
    if (l)
        l->p = p;
    return l;
}

gboolean pvx_model_set_inputs(PvxModel *m, const char *name, const char *const *inputs,
                              GError **error)
{
    g_return_val_if_fail(m != NULL, FALSE);
    PvxLayer *l = pvx_model_find_layer(m, name, error);
    if (!l)
        return FALSE;
    int n = 0;
    for (; inputs && inputs[n]; n++) {
        if (!*inputs[n]) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "layer %s: input %d is an empty name", l->name, n + 1);
            return FALSE;
        }
    }
    int min = 1, max = 1;
    if (l->type == PVX_LAYER_ADD || l->type == PVX_LAYER_CONCAT)
        min = 2, max = G_MAXINT;
    else if (l->type == PVX_LAYER_MUL)
        min = max = 2;
    if (n < min || n > max) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "layer %s (%s) reads %s%d input%s; %d given", l->name,
                    pvx_layer_type_name(l->type), max == G_MAXINT ? "at least " : "", min,
                    min == 1 ? "" : "s", n);
        return FALSE;
    }
    g_strfreev(l->inputs);
    l->inputs = g_strdupv((char **)inputs);
    l->n_inputs = n;
    m->dirty = TRUE;
    return TRUE;
}

gboolean pvx_model_add_alias(PvxModel *m, const char *alias, const char *name, GError **error)
{
    g_return_val_if_fail(m != NULL && alias != NULL, FALSE);
    const PvxLayer *l = pvx_model_find_layer(m, name, error);
    if (!l)
        return FALSE;
    if (!*alias || g_hash_table_contains(m->by_name, alias) ||
        g_hash_table_contains(m->aliases, alias) || strcmp(alias, PVX_MODEL_INPUT) == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "model %s: '%s' cannot name layer %s: it is already %s", m->arch, alias,
                    l->name,
                    !*alias                                    ? "empty"
                    : strcmp(alias, PVX_MODEL_INPUT) == 0      ? "the name of the model's input"
                    : g_hash_table_contains(m->by_name, alias) ? "a layer's name"
                                                               : "an alias");
        return FALSE;
    }
    g_hash_table_insert(m->aliases, g_strdup(alias), g_strdup(l->name));
    return TRUE;
}

PvxLayer *pvx_model_lookup(const PvxModel *m, const char *name)
{
    if (!name)
        return NULL;
    int i = GPOINTER_TO_INT(g_hash_table_lookup(m->by_name, name)) - 1;
    if (i < 0) {
        const char *target = g_hash_table_lookup(m->aliases, name);
        if (target)
            i = GPOINTER_TO_INT(g_hash_table_lookup(m->by_name, target)) - 1;
    }
    return i < 0 ? NULL : g_ptr_array_index(m->layers, i);
}

int pvx_model_n_layers(const PvxModel *m)
{
    g_return_val_if_fail(m != NULL, 0);
    return (int)m->layers->len;
}

PvxLayer *pvx_model_layer(const PvxModel *m, int index)
{
    g_return_val_if_fail(m != NULL && index >= 0 && index < (int)m->layers->len, NULL);
    pvx_model_resolve((PvxModel *)m, NULL); /* running order */
    return g_ptr_array_index(m->layers, index);
}

int pvx_model_layer_index(const PvxModel *m, const char *name)
{
    g_return_val_if_fail(m != NULL, -1);
    pvx_model_resolve((PvxModel *)m, NULL);
    const PvxLayer *l = pvx_model_lookup(m, name);
    return l ? GPOINTER_TO_INT(g_hash_table_lookup(m->by_name, l->name)) - 1 : -1;
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
    PvxLayer *l = pvx_model_lookup(m, name);
    if (!l) {
        g_autofree char *names = pvx_model_layer_names_string(m);
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "model %s has no layer '%s'; its layers are: %s", m->arch,
                    name ? name : "(null)", names);
        return NULL;
    }
    return l;
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
        int kh, kw, sh, sw, ph, pw, dh = 1, dw = 1;
        if (l->type == PVX_LAYER_CONV2D) {
            kh = l->kernel_h, kw = l->kernel_w, sh = l->conv.stride_h, sw = l->conv.stride_w;
            ph = l->conv.pad_h, pw = l->conv.pad_w;
            dh = MAX(l->conv.dilation_h, 1), dw = MAX(l->conv.dilation_w, 1);
        } else {
            kh = l->pool.kernel_h, kw = l->pool.kernel_w, sh = l->pool.stride_h;
            sw = l->pool.stride_w, ph = l->pool.pad_h, pw = l->pool.pad_w;
        }
        sh = MAX(sh, 1), sw = MAX(sw, 1);
        if (ndim != 4 || (l->type == PVX_LAYER_CONV2D && in[1] != l->in_features)) {
            if (l->type == PVX_LAYER_CONV2D)
                g_snprintf(expected, sizeof expected, "expected [N, %" G_GINT64_FORMAT ", H, W]",
                           l->in_features);
            else
                g_snprintf(expected, sizeof expected, "expected [N, C, H, W]");
            return shape_error(l, ndim, in, expected, error);
        }
        int64_t ekh = (int64_t)dh * (kh - 1) + 1, ekw = (int64_t)dw * (kw - 1) + 1;
        int64_t oh = (in[2] + 2 * ph - ekh) / sh + 1, ow = (in[3] + 2 * pw - ekw) / sw + 1;
        if (in[2] + 2 * ph < ekh || in[3] + 2 * pw < ekw || oh < 1 || ow < 1) {
            g_snprintf(expected, sizeof expected,
                       "the image is smaller than the %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                       " window (input too small?)",
                       ekh, ekw);
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
    case PVX_LAYER_RELU6:
    case PVX_LAYER_SIGMOID:
    case PVX_LAYER_SILU:
    case PVX_LAYER_HARDSIGMOID:
    case PVX_LAYER_HARDSWISH:
    case PVX_LAYER_IDENTITY:
    case PVX_LAYER_ADD:
    case PVX_LAYER_CONCAT:
    case PVX_LAYER_MUL:
        *ondim = ndim;
        memcpy(out, in, sizeof(int64_t) * ndim);
        return TRUE;
    case PVX_LAYER_STOCHASTIC_DEPTH:
        if (ndim < 1)
            return shape_error(l, ndim, in, "expected [N, ...]", error);
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

static gboolean join_error(const PvxLayer *l, int a, int b, int nda, const int64_t *sa, int ndb,
                           const int64_t *sb, const char *why, GError **error)
{
    g_autofree char *x = pvx_shape_string(nda, sa);
    g_autofree char *y = pvx_shape_string(ndb, sb);
    g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                "layer %s (%s) cannot join %s of shape %s and %s of shape %s: %s", l->name,
                pvx_layer_type_name(l->type), l->inputs[a], x, l->inputs[b], y, why);
    return FALSE;
}

gboolean pvx_layer_output_shape_n(const PvxLayer *l, int n, const int *ndim, const PvxShape *in,
                                  int *ondim, int64_t *out, GError **error)
{
    switch (l->type) {
    case PVX_LAYER_ADD:
        for (int k = 1; k < n; k++)
            if (ndim[k] != ndim[0] || memcmp(in[k], in[0], sizeof(int64_t) * ndim[0]) != 0)
                return join_error(l, 0, k, ndim[0], in[0], ndim[k], in[k],
                                  "an add needs equal shapes", error);
        break;
    case PVX_LAYER_CONCAT: {
        int64_t c = 0;
        for (int k = 0; k < n; k++) {
            if (ndim[k] != 4 || in[k][0] != in[0][0] || in[k][2] != in[0][2] ||
                in[k][3] != in[0][3])
                return join_error(l, 0, k, ndim[0], in[0], ndim[k], in[k],
                                  "a concat needs [N, Ci, H, W] inputs with equal N, H and W",
                                  error);
            c += in[k][1];
        }
        *ondim = 4;
        memcpy(out, in[0], sizeof(int64_t) * 4);
        out[1] = c;
        return TRUE;
    }
    case PVX_LAYER_MUL:
        if (ndim[0] != 4 || ndim[1] != 4 || in[1][0] != in[0][0] || in[1][1] != in[0][1] ||
            in[1][2] != 1 || in[1][3] != 1)
            return join_error(l, 0, 1, ndim[0], in[0], ndim[1], in[1],
                              "a mul needs x [N, C, H, W] and a scale [N, C, 1, 1]", error);
        break;
    default:
        break;
    }
    return pvx_layer_output_shape(l, ndim[0], in[0], ondim, out, error);
}

static double layer_flops(const PvxLayer *l, const int64_t *out)
{
    if (l->type == PVX_LAYER_CONV2D)
        return 2.0 * (double)(l->in_features / MAX(l->groups, 1)) * l->kernel_h * l->kernel_w *
               out[1] * out[2] * out[3];
    if (l->type == PVX_LAYER_LINEAR)
        return 2.0 * (double)l->in_features * l->out_features;
    return 0.0;
}

/* Propagates [1, C, H, W] through the layers; @flops (nullable) receives 2 × multiply-adds. */
static gboolean propagate(const PvxModel *cm, const int64_t chw[3], int *out_ndim,
                          int64_t *out_shape, double *flops, double *per_layer, GError **error)
{
    PvxModel *m = (PvxModel *)cm;
    guint n = m->layers->len;
    if (n == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "model %s has no layers",
                    m->arch);
        return FALSE;
    }
    const int64_t in[4] = {1, chw[0], chw[1], chw[2]};
    g_autofree int *nds = g_new(int, n);
    g_autofree PvxShape *shapes = g_new(PvxShape, n);
    if (!pvx_model_propagate_shapes(m, in, nds, shapes, error))
        return FALSE;
    double f = 0.0;
    for (guint i = 0; i < n; i++) {
        double lf = layer_flops(g_ptr_array_index(m->layers, i), shapes[i]);
        f += lf;
        if (per_layer)
            per_layer[i] = lf;
    }
    if (out_ndim)
        *out_ndim = nds[n - 1];
    if (out_shape)
        memcpy(out_shape, shapes[n - 1], sizeof(int64_t) * nds[n - 1]);
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
    PvxLayer *l = pvx_model_lookup(m, name);
    if (!l)
        return;
    l->state->tapped = FALSE;
    g_clear_pointer(&l->state->tap_act, pvx_tensor_unref);
    g_clear_pointer(&l->state->tap_grad, pvx_tensor_unref);
}

PvxTensor *pvx_model_tap_activation(const PvxModel *m, const char *name)
{
    const PvxLayer *l = pvx_model_lookup(m, name);
    if (!l)
        return NULL;
    return l->state->tapped ? l->state->tap_act : NULL;
}

PvxTensor *pvx_model_tap_gradient(const PvxModel *m, const char *name)
{
    const PvxLayer *l = pvx_model_lookup(m, name);
    if (!l)
        return NULL;
    return l->state->tapped ? l->state->tap_grad : NULL;
}
