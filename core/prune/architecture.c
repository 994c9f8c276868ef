/* pvx — a model's architecture in an HDF5 file and back (pvx_model_save_architecture,
 * pvx_model_new_from_file; layout in pvx-private/prune.h). */
#include <string.h>

#include "arch_private.h"
#include "pvx/error.h"
#include "pvx/model.h"
#include "pvx-private/model_core.h"
#include "pvx-private/prune.h"
#include "pvx-private/weights.h"

#define ARCH_FORMAT "pvx-architecture"
#define ARCH_VERSION 1

static int one_if_zero(int v)
{
    return v > 0 ? v : 1;
}

PvxLayer *pvx_arch_add_layer(PvxModel *m, const PvxLayer *d, gboolean bias)
{
    PvxLayer *l = NULL;
    switch (d->type) {
    case PVX_LAYER_CONV2D:
        l = pvx_model_add_conv2d_full(m, d->name, d->in_features, d->out_features, d->kernel_h,
                                      d->kernel_w, &d->conv, MAX(d->groups, 1), bias);
        break;
    case PVX_LAYER_LINEAR:
        l = pvx_model_add_linear(m, d->name, d->in_features, d->out_features, bias);
        break;
    case PVX_LAYER_MAXPOOL2D:
        l = pvx_model_add_maxpool2d(m, d->name, d->pool.kernel_h, d->pool.stride_h);
        l->pool = d->pool;
        break;
    case PVX_LAYER_ADAPTIVE_AVGPOOL2D:
        l = pvx_model_add_adaptive_avgpool2d(m, d->name, d->out_h, d->out_w);
        break;
    case PVX_LAYER_DROPOUT:
        l = pvx_model_add_dropout(m, d->name, d->p);
        break;
    case PVX_LAYER_BATCHNORM2D:
        l = pvx_model_add_batchnorm2d(m, d->name, d->in_features);
        l->eps = d->eps;
        l->momentum = d->momentum;
        break;
    case PVX_LAYER_FLATTEN:
        l = pvx_model_add_flatten(m, d->name);
        break;
    case PVX_LAYER_ADD:
        l = pvx_model_add_add(m, d->name, (const char *const *)d->inputs);
        break;
    case PVX_LAYER_CONCAT:
        l = pvx_model_add_concat(m, d->name, (const char *const *)d->inputs);
        break;
    case PVX_LAYER_MUL:
        l = pvx_model_add_mul(m, d->name, d->inputs[0], d->inputs[1]);
        break;
    case PVX_LAYER_STOCHASTIC_DEPTH:
        l = pvx_model_add_stochastic_depth(m, d->name, d->p);
        break;
    case PVX_LAYER_RELU:
    case PVX_LAYER_RELU6:
    case PVX_LAYER_SIGMOID:
    case PVX_LAYER_SILU:
    case PVX_LAYER_HARDSIGMOID:
    case PVX_LAYER_HARDSWISH:
    case PVX_LAYER_IDENTITY:
        l = pvx_model_add_activation(m, d->name, d->type);
        break;
    }
    return l;
}

/* ---------------------------------------------------------------------------------------------
 * Writing.
 */

gboolean pvx_model_save_architecture(const PvxModel *model, const int64_t input_chw[3],
                                     int num_classes, PvxStore *store, const char *group,
                                     GError **error)
{
    g_return_val_if_fail(model != NULL && store != NULL && group != NULL, FALSE);
    if (!pvx_model_check_graph(model, error))
        return FALSE;
    int n = pvx_model_n_layers(model);
    int64_t n64 = n, pair[2] = {n, 2};
    g_autofree const char **names = g_new0(const char *, n + 1);
    g_autofree const char **types = g_new0(const char *, n + 1);
    g_autoptr(GPtrArray) inputs = g_ptr_array_new();
    g_autofree int64_t *n_inputs = g_new0(int64_t, n), *in_f = g_new0(int64_t, n),
                       *out_f = g_new0(int64_t, n), *groups = g_new0(int64_t, n),
                       *bias = g_new0(int64_t, n), *kernel = g_new0(int64_t, 2 * n),
                       *stride = g_new0(int64_t, 2 * n), *pad = g_new0(int64_t, 2 * n),
                       *dil = g_new0(int64_t, 2 * n), *pk = g_new0(int64_t, 2 * n),
                       *ps = g_new0(int64_t, 2 * n), *pp = g_new0(int64_t, 2 * n),
                       *osz = g_new0(int64_t, 2 * n);
    g_autofree double *p = g_new0(double, n), *eps = g_new0(double, n),
                      *momentum = g_new0(double, n);
    for (int i = 0; i < n; i++) {
        const PvxLayer *l = pvx_model_layer(model, i);
        names[i] = l->name;
        types[i] = pvx_layer_type_name(l->type);
        n_inputs[i] = l->n_inputs;
        for (int k = 0; k < l->n_inputs; k++)
            g_ptr_array_add(inputs, l->inputs[k]);
        in_f[i] = l->in_features;
        out_f[i] = l->out_features;
        bias[i] = l->bias != NULL;
        if (l->type == PVX_LAYER_CONV2D) {
            groups[i] = MAX(l->groups, 1);
            kernel[2 * i] = l->kernel_h;
            kernel[2 * i + 1] = l->kernel_w;
            stride[2 * i] = one_if_zero(l->conv.stride_h);
            stride[2 * i + 1] = one_if_zero(l->conv.stride_w);
            pad[2 * i] = l->conv.pad_h;
            pad[2 * i + 1] = l->conv.pad_w;
            dil[2 * i] = one_if_zero(l->conv.dilation_h);
            dil[2 * i + 1] = one_if_zero(l->conv.dilation_w);
        } else if (l->type == PVX_LAYER_MAXPOOL2D) {
            pk[2 * i] = l->pool.kernel_h;
            pk[2 * i + 1] = l->pool.kernel_w;
            ps[2 * i] = l->pool.stride_h ? l->pool.stride_h : l->pool.kernel_h;
            ps[2 * i + 1] = l->pool.stride_w ? l->pool.stride_w : l->pool.kernel_w;
            pp[2 * i] = l->pool.pad_h;
            pp[2 * i + 1] = l->pool.pad_w;
        } else if (l->type == PVX_LAYER_ADAPTIVE_AVGPOOL2D) {
            osz[2 * i] = l->out_h;
            osz[2 * i + 1] = l->out_w;
        }
        p[i] = l->p;
        eps[i] = l->eps;
        momentum[i] = l->momentum;
    }
    g_ptr_array_add(inputs, NULL);
    int64_t chw[3] = {input_chw[0], input_chw[1], input_chw[2]};
    int64_t three = 3;
    g_auto(GStrv) aliases = pvx_model_aliases(model);
    const char *target = pvx_model_target_layer(model);
#define PATH(x) g_autofree char *path_##x = g_strdup_printf("%s/" #x, group)
    PATH(names);
    PATH(types);
    PATH(n_inputs);
    PATH(inputs);
    PATH(in_features);
    PATH(out_features);
    PATH(groups);
    PATH(bias);
    PATH(kernel);
    PATH(stride);
    PATH(padding);
    PATH(dilation);
    PATH(pool_kernel);
    PATH(pool_stride);
    PATH(pool_padding);
    PATH(output_size);
    PATH(p);
    PATH(eps);
    PATH(momentum);
    PATH(aliases);
    PATH(prunable);
    PATH(input_shape);
#undef PATH
    gboolean ok =
        pvx_store_write_strings(store, path_names, names, error) &&
        pvx_store_write_strings(store, path_types, types, error) &&
        pvx_store_write_i64(store, path_n_inputs, 1, &n64, n_inputs, error) &&
        pvx_store_write_strings(store, path_inputs, (const char *const *)inputs->pdata, error) &&
        pvx_store_write_i64(store, path_in_features, 1, &n64, in_f, error) &&
        pvx_store_write_i64(store, path_out_features, 1, &n64, out_f, error) &&
        pvx_store_write_i64(store, path_groups, 1, &n64, groups, error) &&
        pvx_store_write_i64(store, path_bias, 1, &n64, bias, error) &&
        pvx_store_write_i64(store, path_kernel, 2, pair, kernel, error) &&
        pvx_store_write_i64(store, path_stride, 2, pair, stride, error) &&
        pvx_store_write_i64(store, path_padding, 2, pair, pad, error) &&
        pvx_store_write_i64(store, path_dilation, 2, pair, dil, error) &&
        pvx_store_write_i64(store, path_pool_kernel, 2, pair, pk, error) &&
        pvx_store_write_i64(store, path_pool_stride, 2, pair, ps, error) &&
        pvx_store_write_i64(store, path_pool_padding, 2, pair, pp, error) &&
        pvx_store_write_i64(store, path_output_size, 2, pair, osz, error) &&
        pvx_store_write_f64(store, path_p, 1, &n64, p, error) &&
        pvx_store_write_f64(store, path_eps, 1, &n64, eps, error) &&
        pvx_store_write_f64(store, path_momentum, 1, &n64, momentum, error) &&
        (!aliases[0] ||
         pvx_store_write_strings(store, path_aliases, (const char *const *)aliases, error)) &&
        pvx_store_write_strings(store, path_prunable, pvx_model_prunable_layers(model), error) &&
        pvx_store_write_i64(store, path_input_shape, 1, &three, chw, error) &&
        pvx_store_set_attr_string(store, group, "format", ARCH_FORMAT, error) &&
        pvx_store_set_attr_int(store, group, "version", ARCH_VERSION, error) &&
        pvx_store_set_attr_string(store, group, "arch", pvx_model_arch(model), error) &&
        pvx_store_set_attr_int(store, group, "num_classes", num_classes, error) &&
        (!target || pvx_store_set_attr_string(store, group, "target_layer", target, error));
    return ok;
}

/* ---------------------------------------------------------------------------------------------
 * Reading.
 */

typedef struct {
    char **names, **types, **inputs, **aliases, **prunable;
    int64_t *n_inputs, *in_f, *out_f, *groups, *bias, *kernel, *stride, *pad, *dil, *pk, *ps, *pp,
        *osz;
    double *p, *eps, *momentum;
} Columns;

static void columns_clear(Columns *c)
{
    g_strfreev(c->names);
    g_strfreev(c->types);
    g_strfreev(c->inputs);
    g_strfreev(c->aliases);
    g_strfreev(c->prunable);
    int64_t *ints[] = {c->n_inputs, c->in_f, c->out_f, c->groups, c->bias, c->kernel, c->stride,
                       c->pad,      c->dil,  c->pk,    c->ps,     c->pp,   c->osz};
    for (gsize i = 0; i < G_N_ELEMENTS(ints); i++)
        g_free(ints[i]);
    g_free(c->p);
    g_free(c->eps);
    g_free(c->momentum);
}

/* Reads int64 column @name of @rows rows and @cols columns. */
static int64_t *read_ints(PvxStore *s, const char *group, const char *name, int64_t rows, int cols,
                          GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/%s", group, name);
    int nd = 0;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    int64_t *v = pvx_store_read_i64(s, path, &nd, shape, error);
    if (v && (nd != (cols == 1 ? 1 : 2) || shape[0] != rows || (cols > 1 && shape[1] != cols))) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "%s: %s has the wrong shape for %" G_GINT64_FORMAT " layers", path, name, rows);
        g_clear_pointer(&v, g_free);
    }
    return v;
}

static double *read_doubles(PvxStore *s, const char *group, const char *name, int64_t rows,
                            GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/%s", group, name);
    int nd = 0;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    double *v = pvx_store_read_f64(s, path, &nd, shape, error);
    if (v && (nd != 1 || shape[0] != rows)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "%s: %s has the wrong shape for %" G_GINT64_FORMAT " layers", path, name, rows);
        g_clear_pointer(&v, g_free);
    }
    return v;
}

static gboolean type_from_name(const char *name, PvxLayerType *out)
{
    for (int t = 1; t <= PVX_LAYER_TYPE_LAST; t++)
        if (g_strcmp0(pvx_layer_type_name((PvxLayerType)t), name) == 0) {
            *out = (PvxLayerType)t;
            return TRUE;
        }
    return FALSE;
}

static gboolean read_columns(PvxStore *s, const char *group, Columns *c, int64_t *n_out,
                             GError **error)
{
    g_autofree char *p_names = g_strdup_printf("%s/names", group);
    g_autofree char *p_types = g_strdup_printf("%s/types", group);
    g_autofree char *p_inputs = g_strdup_printf("%s/inputs", group);
    g_autofree char *p_aliases = g_strdup_printf("%s/aliases", group);
    g_autofree char *p_prunable = g_strdup_printf("%s/prunable", group);
    if (!(c->names = pvx_store_read_strings(s, p_names, error)) ||
        !(c->types = pvx_store_read_strings(s, p_types, error)) ||
        !(c->inputs = pvx_store_read_strings(s, p_inputs, error)))
        return FALSE;
    int64_t n = g_strv_length(c->names);
    if ((int64_t)g_strv_length(c->types) != n || n == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE, "%s: %s: names and types differ in length",
                    pvx_store_path(s), group);
        return FALSE;
    }
    if (!(c->n_inputs = read_ints(s, group, "n_inputs", n, 1, error)) ||
        !(c->in_f = read_ints(s, group, "in_features", n, 1, error)) ||
        !(c->out_f = read_ints(s, group, "out_features", n, 1, error)) ||
        !(c->groups = read_ints(s, group, "groups", n, 1, error)) ||
        !(c->bias = read_ints(s, group, "bias", n, 1, error)) ||
        !(c->kernel = read_ints(s, group, "kernel", n, 2, error)) ||
        !(c->stride = read_ints(s, group, "stride", n, 2, error)) ||
        !(c->pad = read_ints(s, group, "padding", n, 2, error)) ||
        !(c->dil = read_ints(s, group, "dilation", n, 2, error)) ||
        !(c->pk = read_ints(s, group, "pool_kernel", n, 2, error)) ||
        !(c->ps = read_ints(s, group, "pool_stride", n, 2, error)) ||
        !(c->pp = read_ints(s, group, "pool_padding", n, 2, error)) ||
        !(c->osz = read_ints(s, group, "output_size", n, 2, error)) ||
        !(c->p = read_doubles(s, group, "p", n, error)) ||
        !(c->eps = read_doubles(s, group, "eps", n, error)) ||
        !(c->momentum = read_doubles(s, group, "momentum", n, error)))
        return FALSE;
    if (pvx_store_exists(s, p_aliases) &&
        !(c->aliases = pvx_store_read_strings(s, p_aliases, error)))
        return FALSE;
    if (pvx_store_exists(s, p_prunable) &&
        !(c->prunable = pvx_store_read_strings(s, p_prunable, error)))
        return FALSE;
    int64_t total_inputs = 0;
    for (int64_t i = 0; i < n; i++)
        total_inputs += c->n_inputs[i];
    if ((int64_t)g_strv_length(c->inputs) != total_inputs) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "%s: %s/inputs has %u names, n_inputs sums to %" G_GINT64_FORMAT,
                    pvx_store_path(s), group, g_strv_length(c->inputs), total_inputs);
        return FALSE;
    }
    *n_out = n;
    return TRUE;
}

/* Layer @i of the columns as a description for pvx_arch_add_layer; @ins receives its inputs. */
static gboolean describe(const Columns *c, int64_t i, int64_t at, PvxLayer *d, char **ins)
{
    memset(d, 0, sizeof *d);
    if (!type_from_name(c->types[i], &d->type))
        return FALSE;
    d->name = c->names[i];
    d->n_inputs = (int)c->n_inputs[i];
    for (int k = 0; k < d->n_inputs; k++)
        ins[k] = c->inputs[at + k];
    ins[d->n_inputs] = NULL;
    d->inputs = ins;
    d->in_features = c->in_f[i];
    d->out_features = c->out_f[i];
    d->groups = (int)c->groups[i];
    d->kernel_h = (int)c->kernel[2 * i];
    d->kernel_w = (int)c->kernel[2 * i + 1];
    d->conv = (PvxConv2dParams){(int)c->stride[2 * i], (int)c->stride[2 * i + 1],
                                (int)c->pad[2 * i],    (int)c->pad[2 * i + 1],
                                (int)c->dil[2 * i],    (int)c->dil[2 * i + 1]};
    d->pool =
        (PvxMaxPool2dParams){(int)c->pk[2 * i],     (int)c->pk[2 * i + 1], (int)c->ps[2 * i],
                             (int)c->ps[2 * i + 1], (int)c->pp[2 * i],     (int)c->pp[2 * i + 1]};
    d->out_h = (int)c->osz[2 * i];
    d->out_w = (int)c->osz[2 * i + 1];
    d->p = c->p[i];
    d->eps = c->eps[i];
    d->momentum = c->momentum[i];
    gboolean bad_inputs =
        d->n_inputs < 1 || (d->type == PVX_LAYER_MUL && d->n_inputs != 2) ||
        ((d->type == PVX_LAYER_ADD || d->type == PVX_LAYER_CONCAT) && d->n_inputs < 2) ||
        (d->type != PVX_LAYER_MUL && d->type != PVX_LAYER_ADD && d->type != PVX_LAYER_CONCAT &&
         d->n_inputs != 1);
    gboolean bad_conv =
        d->type == PVX_LAYER_CONV2D &&
        (d->groups < 1 || d->in_features % d->groups != 0 || d->out_features % d->groups != 0 ||
         d->kernel_h < 1 || d->kernel_w < 1 || d->in_features < 1);
    gboolean bad_features =
        (d->type == PVX_LAYER_LINEAR && (d->in_features < 1 || d->out_features < 1)) ||
        (d->type == PVX_LAYER_BATCHNORM2D && d->in_features < 1) ||
        (d->type == PVX_LAYER_MAXPOOL2D && d->pool.kernel_h < 1);
    return !bad_inputs && !bad_conv && !bad_features;
}

static PvxModel *build(PvxStore *s, const char *group, const Columns *c, int64_t n, GError **error)
{
    g_autofree char *arch = pvx_store_get_attr_string(s, group, "arch", NULL);
    g_autoptr(PvxModel) m = pvx_model_new(arch ? arch : "exported");
    int64_t at = 0;
    for (int64_t i = 0; i < n; i++) {
        PvxLayer d;
        g_autofree char **ins = g_new0(char *, c->n_inputs[i] + 1);
        if (c->n_inputs[i] < 0 || !describe(c, i, at, &d, ins) ||
            pvx_model_find_layer(m, c->names[i], NULL)) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "%s: layer %s (%s) is described wrongly: an unknown type, a duplicate "
                        "name, or inputs, channels or groups that do not fit",
                        pvx_store_path(s), c->names[i], c->types[i]);
            return NULL;
        }
        at += c->n_inputs[i];
        pvx_arch_add_layer(m, &d, c->bias[i] != 0);
        if (!pvx_model_set_inputs(m, d.name, (const char *const *)d.inputs, error))
            return NULL;
    }
    for (char **a = c->aliases; a && a[0] && a[1]; a += 2)
        if (!pvx_model_add_alias(m, a[0], a[1], error))
            return NULL;
    if (!pvx_model_check_graph(m, error))
        return NULL;
    g_autofree char *target = pvx_store_get_attr_string(s, group, "target_layer", NULL);
    if ((target && !pvx_model_set_target_layer(m, target, error)) ||
        (c->prunable && !pvx_model_set_prunable_layers(m, (const char *const *)c->prunable, error)))
        return NULL;
    return g_steal_pointer(&m);
}

PvxModel *pvx_model_load_architecture(PvxStore *s, const char *group, GError **error)
{
    g_return_val_if_fail(s != NULL && group != NULL, NULL);
    g_autofree char *format = pvx_store_get_attr_string(s, group, "format", NULL);
    int64_t version = 0;
    if (g_strcmp0(format, ARCH_FORMAT) != 0 ||
        !pvx_store_get_attr_int(s, group, "version", &version, NULL)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "%s: no model architecture at %s (pvx prune export writes one)",
                    pvx_store_path(s), group);
        return NULL;
    }
    if (version != ARCH_VERSION) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: architecture format version %" G_GINT64_FORMAT " (this pvx reads %d)",
                    pvx_store_path(s), version, ARCH_VERSION);
        return NULL;
    }
    Columns c = {0};
    int64_t n = 0;
    PvxModel *m = read_columns(s, group, &c, &n, error) ? build(s, group, &c, n, error) : NULL;
    columns_clear(&c);
    return m;
}

PvxModel *pvx_model_new_from_file(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_autoptr(PvxStore) s = pvx_store_open(path, FALSE, error);
    if (!s)
        return NULL;
    g_autoptr(PvxModel) m = pvx_model_load_architecture(s, "/architecture", error);
    if (!m || !pvx_model_load_weights(m, s, "/weights", error))
        return NULL;
    return g_steal_pointer(&m);
}
