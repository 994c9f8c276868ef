/* pvx — the metric plugin kind.
 *
 * A metric consumes what a stage produced — predictions, explanation maps, ground-truth masks,
 * human answers — and produces named results: scalars ("top1"), per-item values (one number per
 * image) and matrices ("confusion"). The core hands a metric a PvxMetricInput with everything it
 * has; the metric declares in `needs` which inputs it requires, and the core refuses to run it
 * (before any work starts) when one is missing, naming the metric and the input.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include "nn.h"
#include "params.h"
#include "tensor.h"

PVX_BEGIN_DECLS

/* What a metric may need. Append-only. */
enum {
    PVX_METRIC_NEEDS_LOGITS = 1 << 0,  /* logits [N, C] */
    PVX_METRIC_NEEDS_LABELS = 1 << 1,  /* labels [N] */
    PVX_METRIC_NEEDS_MAPS = 1 << 2,    /* explanation maps [N, h, w] */
    PVX_METRIC_NEEDS_MASKS = 1 << 3,   /* ground-truth relevance masks [N, H, W] */
    PVX_METRIC_NEEDS_MODEL = 1 << 4,   /* the model the maps came from, for extra forwards */
    PVX_METRIC_NEEDS_IMAGES = 1 << 5,  /* the explained images [N, C, H, W], model input space */
    PVX_METRIC_NEEDS_TARGETS = 1 << 6, /* the class each map explains [N] */
    PVX_METRIC_NEEDS_REFERENCE_MAPS = 1 << 7, /* the same method's maps of the CR 1 model */
    PVX_METRIC_NEEDS_EXPLAIN = 1 << 8, /* a callback that re-runs the method on another model */
};

/* Re-runs the explanation method that made the maps on @model (any model of the same
 * architecture, e.g. a randomised copy) for @images [n, C, H, W] and @targets (n classes).
 * *maps_out receives (transfer full) raw maps [n, h, w] as the explain stage stores them. */
typedef gboolean (*PvxMetricExplainFunc)(gpointer data, PvxModel *model, const PvxTensor *images,
                                         const int64_t *targets, PvxTensor **maps_out,
                                         GError **error);

typedef struct {
    uint32_t size; /* sizeof(PvxMetricInput) as the core saw it */
    int64_t n;     /* items */
    int num_classes;
    const char *const *class_names; /* num_classes entries, or NULL */
    const PvxTensor *logits;        /* [n, num_classes] or NULL */
    const int64_t *labels;          /* n entries or NULL */
    const PvxTensor *maps;          /* [n, h, w] or NULL */
    const PvxTensor *masks;         /* [n, H, W] or NULL */
    const char *const *item_ids;    /* n entries or NULL */
    /* ---- since the xai metrics (issue 7); read them only when `size` covers them
     * (PVX_METRIC_INPUT_HAS). Maps are raw maps [n, h, w] at the target layer's size (or the
     * image's for pixel methods); pvx_metric_map_pixels gives the map a person sees. */
    const PvxTensor *images;         /* [n, C, H, W], normalised as the model expects, or NULL */
    const int64_t *targets;          /* n classes the maps explain, or NULL */
    PvxModel *model;                 /* the model of compression rate `cr`, or NULL; a metric
                                      * may forward it and must leave its weights as found */
    const PvxTensor *reference_maps; /* [n, h, w] the same method's maps at CR 1, or NULL */
    int cr;                       /* compression rate of model and maps (1: unpruned), 0 unknown */
    PvxMetricExplainFunc explain; /* NULL when the method cannot be re-run */
    gpointer explain_data;
    int batch_size;     /* images per forward for extra forwards; 0: 32 */
    guint64 seed;       /* seed of the metric's random choices */
    const char *method; /* the explanation method's name (messages), or NULL */
} PvxMetricInput;

/* TRUE when @in (a PvxMetricInput*) was filled by a core that knows @field. */
#define PVX_METRIC_INPUT_HAS(in, field)                                                            \
    ((in)->size >= offsetof(PvxMetricInput, field) + sizeof((in)->field))

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
    /* Optional since ABI 1.1, and only as a pair: a stateless plugin declares neither and its
     * callbacks get self = NULL. open returns (transfer full) the plugin's state, or NULL + error
     * naming the param (pvx_params_where) (the core opens every kind the same way); close
     * frees it. */
    gpointer (*open)(const PvxParams *params, GError **error);
    void (*close)(gpointer self);
    /* Computes the metric over @in into @out. */
    gboolean (*compute)(gpointer self, const PvxMetricInput *in, PvxMetricResult *out,
                        GError **error);
} PvxMetricClass;

#define PVX_METRIC_CLASS_MIN_SIZE (offsetof(PvxMetricClass, compute) + sizeof(void *))

/* ---------------------------------------------------------------------------------------------
 * Building blocks for metric plugins that score explanation maps (core/metric/xai.c,
 * core/metric/stats.c). Maps are compared as a person sees them: pvx_metric_map_pixels.
 */

/* Raw map @i of @maps [n, h, w] as rendered (heatmap.h): ReLU, min-max per map
 * ((m − min)/(max − min + 1e-7); a constant map becomes 0), bilinear to @height × @width with
 * align_corners = FALSE (not resampled when already that size). Returns: (transfer full)
 * [height, width] in [0, 1). */
PvxTensor *pvx_metric_map_pixels(const PvxTensor *maps, int64_t i, int64_t height, int64_t width);

/* Softmax probability of class targets[j] for every image of @x [m, C, H, W] (inference
 * forwards in chunks of @batch_size, 0: 32), written to @probs_out[m]. */
gboolean pvx_metric_target_probs(PvxModel *model, const PvxTensor *x, const int64_t *targets,
                                 int batch_size, double *probs_out, GError **error);

/* Indices 0..n-1 ordered by @values descending; equal values keep their index order (a stable
 * sort: the lower row-major index first). Returns: (transfer full) g_malloc'd. */
int64_t *pvx_metric_order_desc(const float *values, int64_t n);

/* Spearman's rank correlation of @a and @b (n values each; ties get their average rank).
 * NaN when n < 2 or either side is constant. */
double pvx_metric_spearman(const float *a, const float *b, int64_t n);
/* Mean structural similarity of two [h, w] maps with values in [0, @data_range], as
 * scikit-image's structural_similarity with its defaults: a uniform 7 × 7 window (shrunk to the
 * largest odd size ≤ min(h, w)), sample covariances, K1 = 0.01, K2 = 0.03, averaged over the
 * window positions that lie inside the map. 1 for identical maps. */
double pvx_metric_ssim(const float *a, const float *b, int64_t h, int64_t w, double data_range);
/* Intersection over union of two 0/1 byte masks of @n pixels; NaN when both are empty. */
double pvx_metric_iou(const uint8_t *a, const uint8_t *b, int64_t n);
/* 0/1 mask of the round(@fraction · n) largest values (ties: lower index first), at least 1.
 * Returns: (transfer full) g_malloc'd n bytes. */
uint8_t *pvx_metric_top_fraction(const float *values, int64_t n, double fraction);

/* Summary of per-item values over the finite ones. */
typedef struct {
    int64_t n;     /* finite values */
    double mean;   /* NaN when n == 0 */
    double std;    /* sample standard deviation (n − 1); NaN when n < 2 */
    double ci_low; /* percentile bootstrap confidence interval of the mean */
    double ci_high;
} PvxMetricSummary;

/* Mean, standard deviation and a percentile bootstrap CI at @level (0.95) of the mean of the
 * finite entries of @values (@n entries): @resamples resamples with replacement drawn from a
 * xoshiro256** stream seeded with @seed; the bounds are the (1 − level)/2 and (1 + level)/2
 * quantiles of the resampled means (linear interpolation, numpy's default). @resamples 0: no CI
 * (NaN bounds). */
void pvx_metric_summarize(const double *values, int64_t n, int resamples, double level,
                          guint64 seed, PvxMetricSummary *out);

/* Wilcoxon signed-rank test of paired @x, @y (@n pairs; pairs with a non-finite side are
 * dropped), two-sided, H0: the differences x − y are symmetric about 0. Zero differences are
 * dropped (Wilcoxon's method, scipy's default zero_method "wilcox"). With no ties and at most 50
 * non-zero differences the p-value is exact (the distribution of W+ by counting); otherwise the
 * normal approximation with the tie correction of the variance and no continuity correction
 * (scipy.stats.wilcoxon's defaults). *stat_out (may be NULL) receives min(W+, W−), *used_out
 * (may be NULL) the non-zero pairs. Returns the p-value; NaN when no pair is left, 1 when every
 * difference is 0. */
double pvx_metric_wilcoxon(const double *x, const double *y, int64_t n, double *stat_out,
                           int64_t *used_out);

PVX_END_DECLS
