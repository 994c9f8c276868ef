/* pvx — the metric plugin kind.
 *
 * A metric consumes what a stage produced — predictions, explanation maps, ground-truth masks,
 * human answers — and produces named results: scalars ("top1"), per-item values (one number per
 * image) and matrices ("confusion"). The core hands a metric a PvxMetricInput with everything it
 * has; the metric declares in `needs` which inputs it requires, and the core refuses to run it
 * (before any work starts) when one is missing, naming the metric and the input.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include "params.h"
#include "tensor.h"

G_BEGIN_DECLS

/* What a metric may need. Append-only. */
enum {
    PVX_METRIC_NEEDS_LOGITS = 1 << 0, /* logits [N, C] */
    PVX_METRIC_NEEDS_LABELS = 1 << 1, /* labels [N] */
    PVX_METRIC_NEEDS_MAPS = 1 << 2,   /* explanation maps [N, h, w] */
    PVX_METRIC_NEEDS_MASKS = 1 << 3,  /* ground-truth relevance masks [N, H, W] */
};

typedef struct {
    uint32_t size;                 /* sizeof(PvxMetricInput) as the core saw it */
    int64_t n;                     /* items */
    int num_classes;
    const char *const *class_names; /* num_classes entries, or NULL */
    const PvxTensor *logits;       /* [n, num_classes] or NULL */
    const int64_t *labels;         /* n entries or NULL */
    const PvxTensor *maps;         /* [n, h, w] or NULL */
    const PvxTensor *masks;        /* [n, H, W] or NULL */
    const char *const *item_ids;   /* n entries or NULL */
} PvxMetricInput;

/* Named results of one metric run, filled by the plugin, owned by the core. */
typedef struct _PvxMetricResult PvxMetricResult;

/* Returns: (transfer full). */
PvxMetricResult *pvx_metric_result_new(void);
void pvx_metric_result_free(PvxMetricResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxMetricResult, pvx_metric_result_free)

/* Adds (or replaces) a named scalar. Names: [a-z0-9_]+. */
void pvx_metric_result_add_scalar(PvxMetricResult *r, const char *name, double value);
/* Adds a named row-major matrix of @rows × @cols doubles (copied). A vector is rows = 1... or
 * better cols = 1; per-item values use pvx_metric_result_add_values. */
void pvx_metric_result_add_matrix(PvxMetricResult *r, const char *name, int64_t rows, int64_t cols,
                                  const double *values);
/* Adds named per-item values (one per input item, copied). */
void pvx_metric_result_add_values(PvxMetricResult *r, const char *name, int64_t n,
                                  const double *values);

/* Reading back (the core, tests, reports). */
gboolean pvx_metric_result_get_scalar(const PvxMetricResult *r, const char *name, double *out);
/* Returns: (transfer none) the data, with the shape in @rows/@cols; NULL if absent. Per-item
 * values read back as an n × 1 matrix. */
const double *pvx_metric_result_get_matrix(const PvxMetricResult *r, const char *name,
                                           int64_t *rows, int64_t *cols);
/* Names of all results in the order they were added. Returns: (transfer container). */
GPtrArray *pvx_metric_result_names(const PvxMetricResult *r);
/* TRUE for per-item values (as opposed to a matrix). */
gboolean pvx_metric_result_is_per_item(const PvxMetricResult *r, const char *name);

typedef struct {
    uint32_t size; /* sizeof(PvxMetricClass) as the plugin saw it */
    /* PVX_METRIC_NEEDS_* flags. */
    guint32 needs;
    /* Returns: (transfer full) plugin state, NULL + error. */
    gpointer (*open)(const PvxParams *params, GError **error);
    void (*close)(gpointer self);
    /* Computes the metric over @in into @out. */
    gboolean (*compute)(gpointer self, const PvxMetricInput *in, PvxMetricResult *out,
                        GError **error);
} PvxMetricClass;

#define PVX_METRIC_CLASS_MIN_SIZE (offsetof(PvxMetricClass, compute) + sizeof(void *))

G_END_DECLS
