/* pvx — batch-norm 2d, forward (train/eval) and backward.
 * Work is split over channels: each channel's statistics cover its N planes and nothing else.
 * Sums run in double: a channel of VGG's first block has N*224*224 elements and a float sum
 * would lose the 1e-4 agreement with PyTorch. */
#include <math.h>

#include "ops_private.h"

typedef struct {
    int64_t n, c, plane;
    const float *x, *dy;
    float *y, *dx;
    const float *weight, *bias;
    float *rmean, *rvar;              /* running stats (updated in training forward) */
    float *smean, *sinvstd;           /* saved batch stats (written in training forward) */
    const float *mean_in, *invstd_in; /* the statistics backward normalises with */
    float *dweight, *dbias;
    double eps, momentum;
    gboolean training;
} BnJob;

/* Plane reductions in float with 8 interleaved partial sums: independent chains that vectorise
 * (a single running sum waits on every add). Planes are at most a few thousand values; sums
 * across planes are kept in double by the callers. */

/* Σ (x - mean)² */
static float plane_sum_sq_dev(const float *restrict x, int64_t n, float mean)
{
    float acc[8] = {0};
    int64_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int l = 0; l < 8; l++) {
            float d = x[k + l] - mean;
            acc[l] += d * d;
        }
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; k < n; k++) {
        float d = x[k] - mean;
        s += d * d;
    }
    return s;
}

/* Σ g · (x - mean) */
static float plane_dot_dev(const float *restrict g, const float *restrict x, int64_t n, float mean)
{
    float acc[8] = {0};
    int64_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += g[k + l] * (x[k + l] - mean);
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; k < n; k++)
        s += g[k] * (x[k] - mean);
    return s;
}

static void bn_forward_channels(int64_t c0, int64_t c1, void *data)
{
    const BnJob *j = data;
    int64_t m = j->n * j->plane;
    for (int64_t c = c0; c < c1; c++) {
        double mean, invstd;
        if (j->training) {
            double s = 0.0;
            for (int64_t n = 0; n < j->n; n++)
                s += pvx_ops_plane_sum(j->x + (n * j->c + c) * j->plane, j->plane);
            mean = s / (double)m;
            /* Two passes: the squared deviations from the mean, not E[x²] - mean². */
            double ss = 0.0;
            for (int64_t n = 0; n < j->n; n++)
                ss += plane_sum_sq_dev(j->x + (n * j->c + c) * j->plane, j->plane, (float)mean);
            double var = ss / (double)m;
            invstd = 1.0 / sqrt(var + j->eps);
            double unbiased = m > 1 ? ss / (double)(m - 1) : var;
            if (j->rmean != NULL)
                j->rmean[c] = (float)((1.0 - j->momentum) * j->rmean[c] + j->momentum * mean);
            if (j->rvar != NULL)
                j->rvar[c] = (float)((1.0 - j->momentum) * j->rvar[c] + j->momentum * unbiased);
            if (j->smean != NULL)
                j->smean[c] = (float)mean;
            if (j->sinvstd != NULL)
                j->sinvstd[c] = (float)invstd;
        } else {
            mean = j->rmean[c];
            invstd = 1.0 / sqrt((double)j->rvar[c] + j->eps);
        }
        double gamma = j->weight != NULL ? j->weight[c] : 1.0;
        double beta = j->bias != NULL ? j->bias[c] : 0.0;
        /* y = x * scale + shift, folded once per channel. */
        float scale = (float)(gamma * invstd);
        float shift = (float)(beta - mean * gamma * invstd);
        for (int64_t n = 0; n < j->n; n++) {
            const float *src = j->x + (n * j->c + c) * j->plane;
            float *dst = j->y + (n * j->c + c) * j->plane;
            for (int64_t k = 0; k < j->plane; k++)
                dst[k] = src[k] * scale + shift;
        }
    }
}

static gboolean check_vec(const PvxTensor *t, int64_t c, const char *what, GError **error)
{
    return t == NULL || pvx_ops_check_shape(t, 1, &c, what, error);
}

static gboolean check_params(const PvxBatchNorm2dParams *p, GError **error)
{
    if (!(p->eps > 0.0) || !(p->momentum >= 0.0 && p->momentum <= 1.0)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "batch-norm: eps %g must be positive and momentum %g in [0, 1]", p->eps,
                    p->momentum);
        return FALSE;
    }
    return TRUE;
}

PvxTensor *pvx_batchnorm2d_forward(const PvxTensor *x, const PvxTensor *weight,
                                   const PvxTensor *bias, PvxTensor *running_mean,
                                   PvxTensor *running_var, const PvxBatchNorm2dParams *p,
                                   PvxTensor *save_mean, PvxTensor *save_invstd, PvxTensor *out,
                                   GError **error)
{
    g_return_val_if_fail(x != NULL && p != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!check_params(p, error) || !pvx_ops_check_tensor(x, 4, "batch-norm input", error))
        return NULL;
    if (!p->training && (running_mean == NULL || running_var == NULL)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "batch-norm: evaluation mode needs running_mean and running_var");
        return NULL;
    }
    int64_t c = x->shape[1];
    if (!check_vec(weight, c, "batch-norm weight", error) ||
        !check_vec(bias, c, "batch-norm bias", error) ||
        !check_vec(running_mean, c, "batch-norm running_mean", error) ||
        !check_vec(running_var, c, "batch-norm running_var", error) ||
        !check_vec(save_mean, c, "batch-norm save_mean", error) ||
        !check_vec(save_invstd, c, "batch-norm save_invstd", error))
        return NULL;
    if (p->training && x->shape[0] * x->shape[2] * x->shape[3] < 2) {
        g_autofree char *xs = pvx_tensor_shape_string(x);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "batch-norm: training needs more than one value per channel, input is %s", xs);
        return NULL;
    }
    PvxTensor *y = pvx_ops_prepare_out(out, 4, x->shape, "batch-norm output", error);
    if (y == NULL)
        return NULL;
    BnJob j = {
        .n = x->shape[0],
        .c = c,
        .plane = x->shape[2] * x->shape[3],
        .x = x->data,
        .y = y->data,
        .weight = weight != NULL ? weight->data : NULL,
        .bias = bias != NULL ? bias->data : NULL,
        .rmean = running_mean != NULL ? running_mean->data : NULL,
        .rvar = running_var != NULL ? running_var->data : NULL,
        .smean = save_mean != NULL ? save_mean->data : NULL,
        .sinvstd = save_invstd != NULL ? save_invstd->data : NULL,
        .eps = p->eps,
        .momentum = p->momentum,
        .training = p->training,
    };
    pvx_parallel_for(c, MAX(1, 32768 / MAX(j.n * j.plane, 1)), bn_forward_channels, &j);
    return y;
}

static void bn_backward_channels(int64_t c0, int64_t c1, void *data)
{
    const BnJob *j = data;
    double m = (double)(j->n * j->plane);
    for (int64_t c = c0; c < c1; c++) {
        double mean = j->mean_in[c], invstd = j->invstd_in[c];
        double sum_dy = 0.0, sum_dy_dev = 0.0; /* Σ dy, Σ dy (x - mean) */
        for (int64_t n = 0; n < j->n; n++) {
            const float *xs = j->x + (n * j->c + c) * j->plane;
            const float *g = j->dy + (n * j->c + c) * j->plane;
            sum_dy += pvx_ops_plane_sum(g, j->plane);
            sum_dy_dev += plane_dot_dev(g, xs, j->plane, (float)mean);
        }
        double sum_dy_xhat = sum_dy_dev * invstd;
        if (j->dweight != NULL)
            j->dweight[c] += (float)sum_dy_xhat;
        if (j->dbias != NULL)
            j->dbias[c] += (float)sum_dy;
        if (j->dx == NULL)
            continue;
        double gamma = j->weight != NULL ? j->weight[c] : 1.0;
        for (int64_t n = 0; n < j->n; n++) {
            const float *xs = j->x + (n * j->c + c) * j->plane;
            const float *g = j->dy + (n * j->c + c) * j->plane;
            float *d = j->dx + (n * j->c + c) * j->plane;
            if (j->training) {
                /* Through the batch statistics: dx = γ σ⁻¹ (dy - mean(dy) - x̂ mean(dy x̂)). */
                float a = (float)(gamma * invstd);
                float mdy = (float)(sum_dy / m), mdyx = (float)(sum_dy_xhat / m);
                float fm = (float)mean, fi = (float)invstd;
                for (int64_t k = 0; k < j->plane; k++)
                    d[k] = a * (g[k] - mdy - (xs[k] - fm) * fi * mdyx);
            } else {
                float a = (float)(gamma * invstd);
                for (int64_t k = 0; k < j->plane; k++)
                    d[k] = a * g[k];
            }
        }
    }
}

gboolean pvx_batchnorm2d_backward(const PvxTensor *x, const PvxTensor *weight,
                                  const PvxTensor *running_mean, const PvxTensor *running_var,
                                  const PvxTensor *save_mean, const PvxTensor *save_invstd,
                                  const PvxBatchNorm2dParams *p, const PvxTensor *dy,
                                  PvxTensor **dx, PvxTensor *dweight, PvxTensor *dbias,
                                  GError **error)
{
    g_return_val_if_fail(x != NULL && dy != NULL && p != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!check_params(p, error) || !pvx_ops_check_tensor(x, 4, "batch-norm input", error) ||
        !pvx_ops_check_shape(dy, 4, x->shape, "batch-norm output gradient", error))
        return FALSE;
    int64_t c = x->shape[1];
    const PvxTensor *need_a = p->training ? save_mean : running_mean;
    const PvxTensor *need_b = p->training ? save_invstd : running_var;
    if (need_a == NULL || need_b == NULL) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "batch-norm backward needs %s",
                    p->training ? "save_mean and save_invstd from the training forward"
                                : "running_mean and running_var in evaluation mode");
        return FALSE;
    }
    if (!check_vec(weight, c, "batch-norm weight", error) ||
        !check_vec(need_a, c, p->training ? "batch-norm save_mean" : "batch-norm running_mean",
                   error) ||
        !check_vec(need_b, c, p->training ? "batch-norm save_invstd" : "batch-norm running_var",
                   error) ||
        !check_vec(dweight, c, "batch-norm weight gradient", error) ||
        !check_vec(dbias, c, "batch-norm bias gradient", error))
        return FALSE;
    if (dx != NULL && !pvx_ops_prepare_grad(dx, 4, x->shape, "batch-norm input gradient", error))
        return FALSE;
    if (dx == NULL && dweight == NULL && dbias == NULL)
        return TRUE;
    g_autofree float *invstd = NULL;
    const float *invstd_in = need_b->data;
    if (!p->training) {
        invstd = g_new(float, c);
        for (int64_t i = 0; i < c; i++)
            invstd[i] = (float)(1.0 / sqrt((double)need_b->data[i] + p->eps));
        invstd_in = invstd;
    }
    BnJob j = {
        .n = x->shape[0],
        .c = c,
        .plane = x->shape[2] * x->shape[3],
        .x = x->data,
        .dy = dy->data,
        .dx = dx != NULL ? (*dx)->data : NULL,
        .weight = weight != NULL ? weight->data : NULL,
        .mean_in = need_a->data,
        .invstd_in = invstd_in,
        .dweight = dweight != NULL ? dweight->data : NULL,
        .dbias = dbias != NULL ? dbias->data : NULL,
        .eps = p->eps,
        .training = p->training,
    };
    pvx_parallel_for(c, MAX(1, 32768 / MAX(j.n * j.plane, 1)), bn_backward_channels, &j);
    return TRUE;
}
