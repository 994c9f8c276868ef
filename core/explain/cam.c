/* pvx — building blocks of explainer plugins: layer activations and gradients for a target
 * class, input gradients, target scores, the model from a layer on, weighted channel sums and
 * bilinear resizing. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "explain_private.h"

/* One-hot gradient of Σ_n logit[n, targets[n]]. Returns: (transfer full). */
static PvxTensor *one_hot(const PvxTensor *logits, const int64_t *targets)
{
    PvxTensor *dy = pvx_tensor_new_like(logits);
    int64_t n = logits->shape[0], c = logits->shape[1];
    for (int64_t i = 0; i < n; i++)
        dy->data[i * c + targets[i]] = 1.0f;
    return dy;
}

gboolean pvx_explain_layer_gradients(PvxModel *model, PvxTensor *x, const int64_t *targets,
                                     const char *layer, PvxTensor **act_out, PvxTensor **grad_out,
                                     PvxTensor **logits_out, GError **error)
{
    g_return_val_if_fail(model && x && targets && layer, FALSE);
    if (!pvx_model_tap(model, layer, error))
        return FALSE;
    gboolean ok = FALSE;
    g_autoptr(PvxTensor) logits = pvx_model_forward(model, x, PVX_FORWARD_EXPLAIN, error);
    if (logits) {
        g_autoptr(PvxTensor) dy = one_hot(logits, targets);
        ok = pvx_model_backward(model, dy, FALSE, NULL, error);
    }
    if (ok) {
        const PvxTensor *a = pvx_model_tap_activation(model, layer);
        const PvxTensor *g = pvx_model_tap_gradient(model, layer);
        if (!a || !g) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_FAILED,
                        "layer %s kept no activation or gradient", layer);
            ok = FALSE;
        } else {
            if (act_out)
                *act_out = pvx_tensor_copy(a);
            if (grad_out)
                *grad_out = pvx_tensor_copy(g);
            if (logits_out)
                *logits_out = g_steal_pointer(&logits);
        }
    }
    pvx_model_untap(model, layer);
    pvx_model_release_buffers(model);
    return ok;
}

PvxTensor *pvx_explain_input_gradient(PvxModel *model, PvxTensor *x, const int64_t *targets,
                                      PvxTensor **logits_out, GError **error)
{
    g_autoptr(PvxTensor) logits = pvx_model_forward(model, x, PVX_FORWARD_EXPLAIN, error);
    if (!logits)
        return NULL;
    g_autoptr(PvxTensor) dy = one_hot(logits, targets);
    PvxTensor *dx = NULL;
    gboolean ok = pvx_model_backward(model, dy, FALSE, &dx, error);
    pvx_model_release_buffers(model);
    if (!ok)
        return NULL;
    if (logits_out)
        *logits_out = g_steal_pointer(&logits);
    return dx;
}

gboolean pvx_explain_target_scores(PvxModel *model, PvxTensor *x, const int64_t *targets,
                                   int batch_size, double *scores_out, GError **error)
{
    int64_t n = x->shape[0];
    if (batch_size < 1)
        batch_size = 16;
    for (int64_t b0 = 0; b0 < n; b0 += batch_size) {
        int64_t nb = MIN((int64_t)batch_size, n - b0);
        g_autoptr(PvxTensor) xb = pvx_tensor_narrow0(x, b0, nb);
        g_autoptr(PvxTensor) y = pvx_model_forward(model, xb, PVX_FORWARD_INFERENCE, error);
        if (!y)
            return FALSE;
        int64_t c = y->shape[1];
        for (int64_t i = 0; i < nb; i++)
            scores_out[b0 + i] = y->data[i * c + targets[b0 + i]];
    }
    return TRUE;
}

PvxTensor *pvx_explain_layer_activation(PvxModel *model, PvxTensor *x, const char *layer,
                                        PvxTensor **logits_out, GError **error)
{
    if (!pvx_model_tap(model, layer, error))
        return NULL;
    PvxTensor *act = NULL;
    g_autoptr(PvxTensor) logits = pvx_model_forward(model, x, PVX_FORWARD_INFERENCE, error);
    if (logits) {
        const PvxTensor *a = pvx_model_tap_activation(model, layer);
        if (a)
            act = pvx_tensor_copy(a);
        else
            g_set_error(error, PVX_ERROR, PVX_ERROR_FAILED, "layer %s kept no activation", layer);
    }
    pvx_model_untap(model, layer);
    if (act && logits_out)
        *logits_out = g_steal_pointer(&logits);
    return act;
}

PvxTensor *pvx_explain_forward_from(PvxModel *model, const char *layer, const PvxTensor *act,
                                    GError **error)
{
    return pvx_model_forward_from(model, layer, act, error);
}

PvxTensor *pvx_explain_weighted_sum(const PvxTensor *act, const double *weights)
{
    g_return_val_if_fail(act && act->ndim == 4 && weights, NULL);
    int64_t n = act->shape[0], k = act->shape[1], hw = act->shape[2] * act->shape[3];
    PvxTensor *out = pvx_tensor_new_shape(3, n, act->shape[2], act->shape[3]);
    g_autofree double *acc = g_new(double, hw);
    for (int64_t b = 0; b < n; b++) {
        memset(acc, 0, sizeof(double) * hw);
        for (int64_t c = 0; c < k; c++) {
            double w = weights[b * k + c];
            if (w == 0.0)
                continue;
            const float *a = act->data + (b * k + c) * hw;
            for (int64_t i = 0; i < hw; i++)
                acc[i] += w * a[i];
        }
        for (int64_t i = 0; i < hw; i++)
            out->data[b * hw + i] = (float)acc[i];
    }
    return out;
}

/* Source index pair and weight of output coordinate @i. */
static void bilinear_coord(int64_t i, int64_t in, int64_t out, gboolean align, int64_t *i0,
                           int64_t *i1, double *frac)
{
    double src;
    if (align)
        src = out > 1 ? (double)i * (double)(in - 1) / (double)(out - 1) : 0.0;
    else
        src = MAX(((double)i + 0.5) * (double)in / (double)out - 0.5, 0.0);
    int64_t f = (int64_t)floor(src);
    f = MIN(f, in - 1);
    *i0 = f;
    *i1 = MIN(f + 1, in - 1);
    *frac = src - (double)f;
}

PvxTensor *pvx_explain_resize_bilinear(const PvxTensor *maps, int64_t out_h, int64_t out_w,
                                       gboolean align_corners)
{
    g_return_val_if_fail(maps && maps->ndim >= 2 && pvx_tensor_is_contiguous(maps), NULL);
    int nd = maps->ndim;
    int64_t h = maps->shape[nd - 2], w = maps->shape[nd - 1];
    int64_t planes = pvx_tensor_numel(maps) / (h * w);
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    memcpy(shape, maps->shape, sizeof(int64_t) * nd);
    shape[nd - 2] = out_h;
    shape[nd - 1] = out_w;
    PvxTensor *out = pvx_tensor_new(nd, shape);
    g_autofree int64_t *x0 = g_new(int64_t, out_w), *x1 = g_new(int64_t, out_w);
    g_autofree double *fx = g_new(double, out_w);
    for (int64_t x = 0; x < out_w; x++)
        bilinear_coord(x, w, out_w, align_corners, &x0[x], &x1[x], &fx[x]);
    for (int64_t p = 0; p < planes; p++) {
        const float *src = maps->data + p * h * w;
        float *dst = out->data + p * out_h * out_w;
        for (int64_t y = 0; y < out_h; y++) {
            int64_t y0, y1;
            double fy;
            bilinear_coord(y, h, out_h, align_corners, &y0, &y1, &fy);
            const float *r0 = src + y0 * w, *r1 = src + y1 * w;
            for (int64_t x = 0; x < out_w; x++) {
                double top = r0[x0[x]] + (r0[x1[x]] - r0[x0[x]]) * fx[x];
                double bot = r1[x0[x]] + (r1[x1[x]] - r1[x0[x]]) * fx[x];
                dst[y * out_w + x] = (float)(top + (bot - top) * fy);
            }
        }
    }
    return out;
}

/* LAPACK (OpenBLAS ships it). */
extern void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
                   double *w, double *work, const int *lwork, int *info);

/* Top eigenpair of the symmetric n×n @a (destroyed): vector into @v, returns the eigenvalue. */
static gboolean top_eigen(double *a, int n, double *v, double *lambda, GError **error)
{
    g_autofree double *w = g_new(double, n);
    int lwork = -1, info = 0;
    double q = 0.0;
    dsyev_("V", "U", &n, a, &n, w, &q, &lwork, &info);
    lwork = MAX((int)q, 3 * n);
    g_autofree double *work = g_new(double, lwork);
    dsyev_("V", "U", &n, a, &n, w, work, &lwork, &info);
    if (info != 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NUMERIC,
                    "eigen decomposition failed (LAPACK dsyev info %d)", info);
        return FALSE;
    }
    /* Ascending eigenvalues; eigenvectors are the columns (column-major). */
    memcpy(v, a + (size_t)(n - 1) * n, sizeof(double) * n);
    *lambda = w[n - 1];
    return TRUE;
}

PvxTensor *pvx_explain_eigen_projection(const PvxTensor *act, GError **error)
{
    g_return_val_if_fail(act && act->ndim == 4, NULL);
    int64_t N = act->shape[0], K = act->shape[1], h = act->shape[2], w = act->shape[3];
    int64_t P = h * w;
    g_autoptr(PvxTensor) out = pvx_tensor_new_shape(3, N, h, w);
    g_autofree double *x = g_new(double, P *K); /* X_c, row-major P × K */
    g_autofree double *p = g_new(double, P);
    int64_t n = MIN(P, K);
    g_autofree double *gram = g_new(double, n *n);
    g_autofree double *v = g_new(double, n);
    for (int64_t b = 0; b < N; b++) {
        const float *a = act->data + b * K * P;
        for (int64_t k = 0; k < K; k++) {
            double mean = 0.0;
            for (int64_t i = 0; i < P; i++) {
                double val = isnan(a[k * P + i]) ? 0.0 : a[k * P + i];
                x[i * K + k] = val;
                mean += val;
            }
            mean /= (double)P;
            for (int64_t i = 0; i < P; i++)
                x[i * K + k] -= mean;
        }
        if (P <= K) { /* X_c X_cᵀ, P × P */
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)P, (int)P, (int)K, 1.0, x,
                        (int)K, x, (int)K, 0.0, gram, (int)P);
        } else { /* X_cᵀ X_c, K × K */
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)K, (int)P, 1.0, x,
                        (int)K, x, (int)K, 0.0, gram, (int)K);
        }
        double lambda = 0.0;
        if (!top_eigen(gram, (int)n, v, &lambda, error))
            return NULL;
        if (P <= K) {
            double s = sqrt(MAX(lambda, 0.0));
            for (int64_t i = 0; i < P; i++)
                p[i] = s * v[i];
        } else {
            for (int64_t i = 0; i < P; i++) {
                double acc = 0.0;
                for (int64_t k = 0; k < K; k++)
                    acc += x[i * K + k] * v[k];
                p[i] = acc;
            }
        }
        /* The sign rule (see explainer.h). */
        double dot = 0.0, mn = INFINITY, mx = -INFINITY;
        for (int64_t i = 0; i < P; i++) {
            double total = 0.0;
            for (int64_t k = 0; k < K; k++)
                total += isnan(a[k * P + i]) ? 0.0 : a[k * P + i];
            dot += p[i] * total;
            mn = fmin(mn, p[i]);
            mx = fmax(mx, p[i]);
        }
        double sign = dot < 0.0 || (dot == 0.0 && fabs(mn) > fabs(mx)) ? -1.0 : 1.0;
        for (int64_t i = 0; i < P; i++)
            out->data[b * P + i] = (float)(sign * p[i]);
    }
    return g_steal_pointer(&out);
}
