/* pvx — cross-entropy loss (mean over the batch, integer targets), forward and backward.
 * Log-sum-exp is max-shifted and summed in double, so large logits neither overflow nor lose the
 * small probabilities. */
#include <math.h>

#include "ops_private.h"

static gboolean check_ce(const PvxTensor *logits, const int64_t *targets, GError **error)
{
    if (!pvx_ops_check_tensor(logits, 2, "cross-entropy logits", error))
        return FALSE;
    int64_t n = logits->shape[0], c = logits->shape[1];
    if (n < 1 || c < 1) {
        g_autofree char *s = pvx_tensor_shape_string(logits);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE, "cross-entropy: empty logits %s", s);
        return FALSE;
    }
    for (int64_t i = 0; i < n; i++) {
        if (targets[i] < 0 || targets[i] >= c) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "cross-entropy: target %" G_GINT64_FORMAT " of item %" G_GINT64_FORMAT
                        " is not a class index in [0, %" G_GINT64_FORMAT ")",
                        (gint64)targets[i], (gint64)i, (gint64)c);
            return FALSE;
        }
    }
    return TRUE;
}

/* max and log Σ exp(x - max) of one row. */
static void row_lse(const float *x, int64_t c, double *mx, double *lse)
{
    float m = -INFINITY;
    for (int64_t k = 0; k < c; k++)
        m = fmaxf(m, x[k]);
    double s = 0.0;
    for (int64_t k = 0; k < c; k++)
        s += exp((double)x[k] - m);
    *mx = m;
    *lse = log(s);
}

gboolean pvx_cross_entropy_forward(const PvxTensor *logits, const int64_t *targets, double *loss,
                                   GError **error)
{
    g_return_val_if_fail(logits != NULL && targets != NULL && loss != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!check_ce(logits, targets, error))
        return FALSE;
    int64_t n = logits->shape[0], c = logits->shape[1];
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *row = logits->data + i * c;
        double mx, lse;
        row_lse(row, c, &mx, &lse);
        total += mx + lse - row[targets[i]];
    }
    *loss = total / (double)n;
    return TRUE;
}

gboolean pvx_cross_entropy_backward(const PvxTensor *logits, const int64_t *targets, double dloss,
                                    PvxTensor **dlogits, GError **error)
{
    g_return_val_if_fail(logits != NULL && targets != NULL && dlogits != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!check_ce(logits, targets, error) ||
        !pvx_ops_prepare_grad(dlogits, 2, logits->shape, "cross-entropy logits gradient", error))
        return FALSE;
    int64_t n = logits->shape[0], c = logits->shape[1];
    double scale = dloss / (double)n;
    for (int64_t i = 0; i < n; i++) {
        const float *row = logits->data + i * c;
        float *d = (*dlogits)->data + i * c;
        double mx, lse;
        row_lse(row, c, &mx, &lse);
        for (int64_t k = 0; k < c; k++) {
            double prob = exp((double)row[k] - mx - lse);
            d[k] = (float)(scale * (prob - (k == targets[i] ? 1.0 : 0.0)));
        }
    }
    return TRUE;
}
