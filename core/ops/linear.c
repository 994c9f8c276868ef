/* pvx — fully connected layer y = x wᵀ + b, forward and backward, on cblas_sgemm. */
#include <cblas.h>

#include "ops_private.h"

static gboolean check_linear(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                             GError **error)
{
    if (!pvx_ops_check_tensor(x, 2, "linear input", error) ||
        !pvx_ops_check_tensor(w, 2, "linear weight", error))
        return FALSE;
    if (x->shape[1] != w->shape[1]) {
        g_autofree char *xs = pvx_tensor_shape_string(x);
        g_autofree char *ws = pvx_tensor_shape_string(w);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "linear: input %s has %" G_GINT64_FORMAT
                    " features but weight %s expects %" G_GINT64_FORMAT,
                    xs, (gint64)x->shape[1], ws, (gint64)w->shape[1]);
        return FALSE;
    }
    if (b != NULL && !pvx_ops_check_shape(b, 1, w->shape, "linear bias", error))
        return FALSE;
    return TRUE;
}

/* GEMMs of at most LINEAR_SERIAL_MACS multiply-adds over a weight of at most
 * LINEAR_SERIAL_WEIGHTS entries run with OpenBLAS held to one thread. Threading them gains
 * little, and after each threaded call OpenBLAS's worker busy-waits (sched_yield) for the next:
 * in the training benchmark, whose fully connected layers are 0.3–8 M multiply-adds over weights
 * of 2.5–65 k entries, those waits took 9 % of the two cores, away from the convolutions' pool
 * threads. Big weights stay threaded even at batch 1 (VGG-16's 4096 × 4096: reading its 64 MB
 * is faster on two cores). */
#define LINEAR_SERIAL_MACS (1 << 24)
#define LINEAR_SERIAL_WEIGHTS (1 << 20)

static gboolean linear_serial(int64_t n, int64_t in, int64_t outf)
{
    return in * outf <= LINEAR_SERIAL_WEIGHTS && n * in * outf <= LINEAR_SERIAL_MACS;
}

PvxTensor *pvx_linear_forward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                              PvxTensor *out, GError **error)
{
    g_return_val_if_fail(x != NULL && w != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!check_linear(x, w, b, error))
        return NULL;
    int64_t n = x->shape[0], in = x->shape[1], outf = w->shape[0];
    int64_t shape[2] = {n, outf};
    PvxTensor *y = pvx_ops_prepare_out(out, 2, shape, "linear output", error);
    if (y == NULL)
        return NULL;
    pvx_ops_threads_ensure();
    /* The bias goes in first so sgemm accumulates onto it (beta = 1) instead of clearing y. */
    if (b != NULL)
        for (int64_t i = 0; i < n; i++)
            for (int64_t o = 0; o < outf; o++)
                y->data[i * outf + o] = b->data[o];
    gboolean serial = linear_serial(n, in, outf);
    if (serial)
        pvx_ops_blas_serial_begin();
    /* One row: sgemv streams w once, where sgemm (OpenBLAS 0.3.21) first packs all of it —
     * VGG-16's 25088×4096 layer at batch 1 took 59 ms as sgemm, 26 ms as sgemv (two threads). */
    if (n == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)outf, (int)in, 1.0f, w->data, (int)in,
                    x->data, 1, b != NULL ? 1.0f : 0.0f, y->data, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)outf, (int)in, 1.0f,
                    x->data, (int)in, w->data, (int)in, b != NULL ? 1.0f : 0.0f, y->data,
                    (int)outf);
    if (serial)
        pvx_ops_blas_serial_end();
    return y;
}

gboolean pvx_linear_backward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *dy,
                             PvxTensor **dx, PvxTensor *dw, PvxTensor *db, GError **error)
{
    g_return_val_if_fail(x != NULL && w != NULL && dy != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!check_linear(x, w, NULL, error))
        return FALSE;
    int64_t n = x->shape[0], in = x->shape[1], outf = w->shape[0];
    int64_t yshape[2] = {n, outf};
    if (!pvx_ops_check_shape(dy, 2, yshape, "linear output gradient", error))
        return FALSE;
    if (dw != NULL && !pvx_ops_check_shape(dw, 2, w->shape, "linear weight gradient", error))
        return FALSE;
    if (db != NULL && !pvx_ops_check_shape(db, 1, w->shape, "linear bias gradient", error))
        return FALSE;
    if (dx != NULL && !pvx_ops_prepare_grad(dx, 2, x->shape, "linear input gradient", error))
        return FALSE;
    pvx_ops_threads_ensure();
    if (db != NULL) {
        for (int64_t o = 0; o < outf; o++) {
            double s = 0.0;
            for (int64_t i = 0; i < n; i++)
                s += dy->data[i * outf + o];
            db->data[o] += (float)s;
        }
    }
    gboolean serial = linear_serial(n, in, outf);
    if (serial)
        pvx_ops_blas_serial_begin();
    if (dw != NULL)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)outf, (int)in, (int)n, 1.0f,
                    dy->data, (int)outf, x->data, (int)in, 1.0f, dw->data, (int)in);
    if (dx != NULL)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)in, (int)outf, 1.0f,
                    dy->data, (int)outf, w->data, (int)in, 0.0f, (*dx)->data, (int)in);
    if (serial)
        pvx_ops_blas_serial_end();
    return TRUE;
}
