/* pvx — metric results and running metric plugins. */
#include <string.h>

#include "pvx/error.h"
#include "pvx/metric.h"
#include "pvx-private/registry.h"
#include "pvx-private/store.h"
#include "pvx-private/metric_run.h"

typedef struct {
    char *name;
    gboolean per_item;
    int64_t rows, cols;
    double *values;
} Entry;

struct _PvxMetricResult {
    GPtrArray *entries; /* Entry*, in insertion order */
};

static void entry_free(Entry *e)
{
    g_free(e->name);
    g_free(e->values);
    g_free(e);
}

PvxMetricResult *pvx_metric_result_new(void)
{
    PvxMetricResult *r = g_new0(PvxMetricResult, 1);
    r->entries = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
    return r;
}

void pvx_metric_result_free(PvxMetricResult *r)
{
    if (!r)
        return;
    g_ptr_array_unref(r->entries);
    g_free(r);
}

static Entry *find(const PvxMetricResult *r, const char *name)
{
    for (guint i = 0; i < r->entries->len; i++) {
        Entry *e = g_ptr_array_index(r->entries, i);
        if (strcmp(e->name, name) == 0)
            return e;
    }
    return NULL;
}

static void add(PvxMetricResult *r, const char *name, gboolean per_item, int64_t rows, int64_t cols,
                const double *values)
{
    g_return_if_fail(name && *name && rows >= 0 && cols >= 0);
    Entry *e = find(r, name);
    if (!e) {
        e = g_new0(Entry, 1);
        e->name = g_strdup(name);
        g_ptr_array_add(r->entries, e);
    }
    g_free(e->values);
    e->per_item = per_item;
    e->rows = rows;
    e->cols = cols;
    e->values = g_memdup2(values, (gsize)(rows * cols) * sizeof(double));
}

void pvx_metric_result_add_scalar(PvxMetricResult *r, const char *name, double value)
{
    add(r, name, FALSE, 1, 1, &value);
}

void pvx_metric_result_add_matrix(PvxMetricResult *r, const char *name, int64_t rows, int64_t cols,
                                  const double *values)
{
    add(r, name, FALSE, rows, cols, values);
}

void pvx_metric_result_add_values(PvxMetricResult *r, const char *name, int64_t n,
                                  const double *values)
{
    add(r, name, TRUE, n, 1, values);
}

gboolean pvx_metric_result_get_scalar(const PvxMetricResult *r, const char *name, double *out)
{
    const Entry *e = find(r, name);
    if (!e || e->per_item || e->rows != 1 || e->cols != 1)
        return FALSE;
    *out = e->values[0];
    return TRUE;
}

const double *pvx_metric_result_get_matrix(const PvxMetricResult *r, const char *name,
                                           int64_t *rows, int64_t *cols)
{
    const Entry *e = find(r, name);
    if (!e)
        return NULL;
    if (rows)
        *rows = e->rows;
    if (cols)
        *cols = e->cols;
    return e->values;
}

GPtrArray *pvx_metric_result_names(const PvxMetricResult *r)
{
    GPtrArray *names = g_ptr_array_new();
    for (guint i = 0; i < r->entries->len; i++)
        g_ptr_array_add(names, ((Entry *)g_ptr_array_index(r->entries, i))->name);
    return names;
}

gboolean pvx_metric_result_is_per_item(const PvxMetricResult *r, const char *name)
{
    const Entry *e = find(r, name);
    return e && e->per_item;
}

static const char *input_name(guint32 need)
{
    switch (need) {
    case PVX_METRIC_NEEDS_LOGITS:
        return "predictions (logits)";
    case PVX_METRIC_NEEDS_LABELS:
        return "labels";
    case PVX_METRIC_NEEDS_MAPS:
        return "explanation maps";
    case PVX_METRIC_NEEDS_MASKS:
        return "ground-truth masks";
    case PVX_METRIC_NEEDS_MODEL:
        return "the model";
    case PVX_METRIC_NEEDS_IMAGES:
        return "the explained images";
    case PVX_METRIC_NEEDS_TARGETS:
        return "the explained classes (targets)";
    case PVX_METRIC_NEEDS_REFERENCE_MAPS:
        return "the CR 1 maps of the method (reference maps)";
    case PVX_METRIC_NEEDS_EXPLAIN:
        return "a way to re-run the explanation method";
    default:
        return "an input this pvx does not know";
    }
}

gboolean pvx_metric_check_inputs(const PvxPlugin *plugin, guint32 available, const char *context,
                                 GError **error)
{
    const PvxMetricClass *klass = pvx_plugin_klass(plugin, PVX_KIND_METRIC);
    g_return_val_if_fail(klass != NULL, FALSE);
    guint32 missing = klass->needs & ~available;
    if (!missing)
        return TRUE;
    guint32 first = missing & (~missing + 1);
    g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                "metric %s needs %s, which %s does not provide", plugin->desc->name,
                input_name(first), context);
    return FALSE;
}

static guint32 available_inputs(const PvxMetricInput *in)
{
    guint32 a = (in->logits ? PVX_METRIC_NEEDS_LOGITS : 0) |
                (in->labels ? PVX_METRIC_NEEDS_LABELS : 0) |
                (in->maps ? PVX_METRIC_NEEDS_MAPS : 0) | (in->masks ? PVX_METRIC_NEEDS_MASKS : 0);
    if (PVX_METRIC_INPUT_HAS(in, method))
        a |= (in->model ? PVX_METRIC_NEEDS_MODEL : 0) | (in->images ? PVX_METRIC_NEEDS_IMAGES : 0) |
             (in->targets ? PVX_METRIC_NEEDS_TARGETS : 0) |
             (in->reference_maps ? PVX_METRIC_NEEDS_REFERENCE_MAPS : 0) |
             (in->explain ? PVX_METRIC_NEEDS_EXPLAIN : 0);
    return a;
}

/* Shapes of the inputs added with the xai metrics; NULL when they fit. */
static const char *bad_xai_input(const PvxMetricInput *in)
{
    if (!PVX_METRIC_INPUT_HAS(in, method))
        return NULL;
    if (in->images && (in->images->ndim != 4 || in->images->shape[0] != in->n ||
                       !pvx_tensor_is_contiguous(in->images)))
        return "images";
    if (in->reference_maps &&
        (in->reference_maps->ndim != 3 || in->reference_maps->shape[0] != in->n))
        return "reference maps";
    if (in->masks && in->images &&
        (in->masks->shape[1] != in->images->shape[2] ||
         in->masks->shape[2] != in->images->shape[3]))
        return "masks";
    for (int64_t i = 0; in->targets && i < in->n; i++)
        if (in->targets[i] < 0 || in->targets[i] >= in->num_classes)
            return "targets";
    return NULL;
}

PvxMetricResult *pvx_metric_run(const PvxPlugin *plugin, const PvxParams *params,
                                const PvxMetricInput *in, GError **error)
{
    const PvxMetricClass *klass = pvx_plugin_klass(plugin, PVX_KIND_METRIC);
    if (!klass) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "plugin '%s' is not a metric",
                    plugin->desc->name);
        return NULL;
    }
    if (!pvx_metric_check_inputs(plugin, available_inputs(in), "this stage", error))
        return NULL;
    const char *bad = NULL;
    if (in->logits && (in->logits->ndim != 2 || in->logits->shape[0] != in->n ||
                       in->logits->shape[1] != in->num_classes))
        bad = "logits";
    else if (in->maps && (in->maps->ndim != 3 || in->maps->shape[0] != in->n))
        bad = "maps";
    else if (in->masks && (in->masks->ndim != 3 || in->masks->shape[0] != in->n))
        bad = "masks";
    else
        bad = bad_xai_input(in);
    if (bad) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "metric %s: %s do not fit %" G_GINT64_FORMAT " items of %d classes",
                    plugin->desc->name, bad, (gint64)in->n, in->num_classes);
        return NULL;
    }
    for (int64_t i = 0; in->labels && i < in->n; i++) {
        if (in->labels[i] < 0 || in->labels[i] >= in->num_classes) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "metric %s: label %" G_GINT64_FORMAT " of item %" G_GINT64_FORMAT
                        " is outside 0..%d",
                        plugin->desc->name, (gint64)in->labels[i], (gint64)i, in->num_classes - 1);
            return NULL;
        }
    }
    gpointer self = NULL;
    if (!pvx_plugin_open_instance(plugin, params, &self, error))
        return NULL;
    g_autoptr(GError) local = NULL;
    PvxMetricResult *r = pvx_metric_result_new();
    gboolean ok = klass->compute(self, in, r, &local);
    pvx_plugin_close_instance(plugin, self);
    if (!ok) {
        pvx_metric_result_free(r);
        g_set_error(error, PVX_ERROR, PVX_ERROR_FAILED, "metric %s: %s", plugin->desc->name,
                    local ? local->message : "failed without saying why");
        return NULL;
    }
    return r;
}

gboolean pvx_metric_result_write(const PvxMetricResult *r, PvxStore *store, const char *group,
                                 GError **error)
{
    for (guint i = 0; i < r->entries->len; i++) {
        const Entry *e = g_ptr_array_index(r->entries, i);
        if (!e->per_item && e->rows == 1 && e->cols == 1) {
            if (!pvx_store_set_attr_double(store, group, e->name, e->values[0], error))
                return FALSE;
            continue;
        }
        g_autofree char *path = g_strconcat(group, "/", e->name, NULL);
        int64_t shape[2] = {e->rows, e->cols};
        if (!pvx_store_write_f64(store, path, e->per_item ? 1 : 2, shape, e->values, error))
            return FALSE;
        if (e->per_item && !pvx_store_set_attr_string(store, path, "kind", "per-item", error))
            return FALSE;
    }
    return TRUE;
}
