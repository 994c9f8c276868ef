/* accuracy — top-k accuracy, per-class accuracy and the confusion matrix of predictions.
 *
 * Ranks follow torch.argmax: among equal logits the lower class index ranks first. An item is
 * top-k correct when its true class ranks among the first k. Per-class accuracy is the top-1
 * accuracy over the items of each true class (NaN for a class with no items). The confusion
 * matrix counts items by true class (row) and predicted class (column).
 */
#include <math.h>
#include <string.h>

#include <pvx/pvx.h>

typedef struct {
    gsize n_k;
    int64_t k[8];
} Accuracy;

static const PvxParamSpec accuracy_params[] = {
    {"topk", PVX_PARAM_INT_LIST, "[1, 5]", PVX_PARAM_HAS_MIN, 1, 0, NULL,
     "k of each top-k accuracy reported (top1, top5, ...); k above the class count is skipped"},
    PVX_PARAM_SPEC_END,
};

static gpointer accuracy_open(const PvxParams *params, GError **error)
{
    gsize n = 0;
    const int64_t *k = pvx_params_get_int_list(params, "topk", &n);
    if (n == 0 || n > G_N_ELEMENTS(((Accuracy *)NULL)->k)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                    "%s: 'topk' needs 1 to 8 values, got %zu", pvx_params_where(params, "topk"), n);
        return NULL;
    }
    Accuracy *a = g_new0(Accuracy, 1);
    a->n_k = n;
    memcpy(a->k, k, n * sizeof(int64_t));
    return a;
}

static void accuracy_close(gpointer self)
{
    g_free(self);
}

/* Rank of class @t in a row of logits (0 = the prediction), torch.argmax's tie order. */
static int64_t rank_of(const float *row, int c, int64_t t)
{
    int64_t rank = 0;
    for (int j = 0; j < c; j++)
        if (row[j] > row[t] || (row[j] == row[t] && j < t))
            rank++;
    return rank;
}

static int argmax(const float *row, int c)
{
    int best = 0;
    for (int j = 1; j < c; j++)
        if (row[j] > row[best])
            best = j;
    return best;
}

static gboolean accuracy_compute(gpointer self, const PvxMetricInput *in, PvxMetricResult *out,
                                 GError **error)
{
    const Accuracy *a = self;
    int c = in->num_classes;
    int64_t n = in->n;
    if (n == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "no items to score");
        return FALSE;
    }
    g_autofree double *correct = g_new0(double, n);
    g_autofree double *confusion = g_new0(double, (gsize)c *c);
    g_autofree int64_t *hits = g_new0(int64_t, a->n_k);
    for (int64_t i = 0; i < n; i++) {
        const float *row = in->logits->data + i * c;
        int64_t t = in->labels[i];
        int64_t rank = rank_of(row, c, t);
        for (gsize q = 0; q < a->n_k; q++)
            hits[q] += rank < a->k[q];
        correct[i] = rank == 0;
        confusion[t * c + argmax(row, c)] += 1;
    }
    for (gsize q = 0; q < a->n_k; q++) {
        if (a->k[q] > c)
            continue;
        g_autofree char *name = g_strdup_printf("top%" G_GINT64_FORMAT, (gint64)a->k[q]);
        pvx_metric_result_add_scalar(out, name, (double)hits[q] / (double)n);
    }
    g_autofree double *per_class = g_new0(double, c);
    double balanced = 0;
    int present = 0;
    for (int t = 0; t < c; t++) {
        double total = 0;
        for (int p = 0; p < c; p++)
            total += confusion[t * c + p];
        per_class[t] = total > 0 ? confusion[t * c + t] / total : NAN;
        if (total > 0) {
            balanced += per_class[t];
            present++;
        }
    }
    pvx_metric_result_add_scalar(out, "balanced", present ? balanced / present : NAN);
    pvx_metric_result_add_scalar(out, "n", (double)n);
    pvx_metric_result_add_matrix(out, "per_class", c, 1, per_class);
    pvx_metric_result_add_matrix(out, "confusion", c, c, confusion);
    pvx_metric_result_add_values(out, "correct", n, correct);
    return TRUE;
}

static const PvxMetricClass accuracy_class = {
    .size = sizeof(PvxMetricClass),
    .needs = PVX_METRIC_NEEDS_LOGITS | PVX_METRIC_NEEDS_LABELS,
    .open = accuracy_open,
    .close = accuracy_close,
    .compute = accuracy_compute,
};

PVX_PLUGIN_DEFINE(PVX_KIND_METRIC, "accuracy", "1.0.0",
                  "top-1/top-k accuracy, per-class accuracy and confusion matrix of predictions",
                  accuracy_params, &accuracy_class)
