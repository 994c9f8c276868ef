/* pvx — grouped 2-d convolution (PyTorch's Conv2d with groups = g), forward and backward.
 *
 * Three cases:
 * - groups = 1: pvx_conv2d_forward / pvx_conv2d_backward as they are (Winograd, direct, im2col).
 * - depthwise (one input channel per group: g = Cin, Cout = k·Cin): direct kernels here, on the
 *   pool over the N·Cin input planes (forward, input gradient) or the Cout output channels
 *   (weight and bias gradients).
 * - any other g: per group, its input channels are copied into a contiguous [N, Cin/g, H, W]
 *   tensor and run through pvx_conv2d_forward / _backward (so im2col + sgemm, or Winograd),
 *   and the group's output (input gradient) copied back into place.
 *
 * The depthwise kernels work on one input plane at a time, zero-padded and split by column
 * phase: padded row r (H + 2·pad_h rows) holds the sw phases of the padded columns, phase
 * q = c mod sw at [q·wq, q·wq + wq), column c at index c / sw (wq = ⌈(W + 2·pad_w) / sw⌉). An
 * output column ox under tap kx reads padded column ox·sw + kx·dw: phase (kx·dw) mod sw, index
 * ox + (kx·dw) / sw, so every tap is a unit-stride run over ox whatever the stride and dilation
 * (stride 2 included), and loops over output columns vectorise. The padded plane of a 112×112
 * input is 51 KB and stays in L2 while all k outputs of the channel are computed from it.
 *   forward     per output row, y[ox] = b + Σ_taps w · P[row(oy, ky)][off(kx) + ox]; 3×3 as
 *               one expression of nine loads per vector, other sizes one row of KW taps at a
 *               time added into y's row;
 *   input grad  the transpose: every dy row is added, times each tap's weight, into a padded
 *               phase-split accumulation plane, which is then cropped into dx;
 *   weight grad per output channel and tap, dot products of dy's rows with the shifted rows,
 *               in 16 float lanes per plane, summed in double over the batch.
 */
#include <string.h>

#include "ops_private.h"

typedef struct {
    int64_t n, cin, h, w;
    int64_t cout, kh, kw;
    int64_t oh, ow;
    int64_t sh, sw, ph, pw, dh, dw;
    int64_t groups, cin_g, cout_g;
} Geom;

/* Checks x, w (b) against each other and @groups, and fills @g. */
static gboolean geom_init(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                          const PvxConv2dParams *p, int groups, Geom *g, GError **error)
{
    static const PvxConv2dParams defaults = {0};
    if (p == NULL)
        p = &defaults;
    if (groups < 1) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "conv2d: groups must be at least 1, got %d", groups);
        return FALSE;
    }
    if (p->stride_h < 0 || p->stride_w < 0 || p->pad_h < 0 || p->pad_w < 0 || p->dilation_h < 0 ||
        p->dilation_w < 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "conv2d: negative stride, padding or dilation (%d,%d / %d,%d / %d,%d)",
                    p->stride_h, p->stride_w, p->pad_h, p->pad_w, p->dilation_h, p->dilation_w);
        return FALSE;
    }
    if (!pvx_ops_check_tensor(x, 4, "conv2d input", error) ||
        !pvx_ops_check_tensor(w, 4, "conv2d weight", error))
        return FALSE;
    if (x->shape[1] % groups != 0 || w->shape[0] % groups != 0 ||
        w->shape[1] * groups != x->shape[1]) {
        g_autofree char *xs = pvx_tensor_shape_string(x);
        g_autofree char *ws = pvx_tensor_shape_string(w);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "conv2d with %d groups: input %s and weight %s do not fit (the weight must be "
                    "[Cout, Cin/groups, KH, KW], Cin and Cout multiples of groups)",
                    groups, xs, ws);
        return FALSE;
    }
    if (b != NULL && !pvx_ops_check_shape(b, 1, w->shape, "conv2d bias", error))
        return FALSE;
    *g = (Geom){
        .n = x->shape[0],
        .cin = x->shape[1],
        .h = x->shape[2],
        .w = x->shape[3],
        .cout = w->shape[0],
        .kh = w->shape[2],
        .kw = w->shape[3],
        .sh = MAX(p->stride_h, 1),
        .sw = MAX(p->stride_w, 1),
        .ph = p->pad_h,
        .pw = p->pad_w,
        .dh = MAX(p->dilation_h, 1),
        .dw = MAX(p->dilation_w, 1),
        .groups = groups,
        .cin_g = x->shape[1] / groups,
        .cout_g = w->shape[0] / groups,
    };
    int64_t span_h = g->dh * (g->kh - 1) + 1, span_w = g->dw * (g->kw - 1) + 1;
    int64_t ih = g->h + 2 * g->ph, iw = g->w + 2 * g->pw;
    if (g->kh < 1 || g->kw < 1 || ih < span_h || iw < span_w) {
        g_autofree char *xs = pvx_tensor_shape_string(x);
        g_autofree char *ws = pvx_tensor_shape_string(w);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "conv2d: kernel of weight %s (dilation %" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
                    ") does not fit input %s padded by %" G_GINT64_FORMAT ",%" G_GINT64_FORMAT,
                    ws, (gint64)g->dh, (gint64)g->dw, xs, (gint64)g->ph, (gint64)g->pw);
        return FALSE;
    }
    g->oh = (ih - span_h) / g->sh + 1;
    g->ow = (iw - span_w) / g->sw + 1;
    return TRUE;
}

/* ---- depthwise ------------------------------------------------------------------------------ */

/* Kernel widths the depthwise kernels take (wider ones go through the dense path). */
#define DW_MAX_KW 64

/* The padded, phase-split plane (see the top comment): hp rows of rs = sw·wq floats. */
typedef struct {
    const Geom *g;
    const float *x, *w, *bias, *dy;
    float *y, *dx, *dw, *db;
    int64_t hp, wq, rs;
    int64_t off[DW_MAX_KW]; /* per kx: phase · wq + (kx·dw) / sw */
} DwJob;

static void dw_job_init(DwJob *j, const Geom *g)
{
    j->g = g;
    j->hp = g->h + 2 * g->ph;
    j->wq = (g->w + 2 * g->pw + g->sw - 1) / g->sw;
    j->rs = g->sw * j->wq;
    for (int64_t kx = 0; kx < g->kw; kx++)
        j->off[kx] = (kx * g->dw) % g->sw * j->wq + (kx * g->dw) / g->sw;
}

static int64_t dw_plane(const DwJob *j)
{
    return j->hp * j->rs;
}

/* Writes input plane @src (H × W) into @dst, padded and phase-split. */
static void pad_plane(const DwJob *j, const float *src, float *dst)
{
    const Geom *g = j->g;
    for (int64_t r = 0; r < j->hp; r++) {
        float *row = dst + r * j->rs;
        int64_t iy = r - g->ph;
        if (iy < 0 || iy >= g->h) {
            memset(row, 0, (size_t)j->rs * sizeof(float));
            continue;
        }
        const float *in = src + iy * g->w;
        if (g->sw == 1) {
            memset(row, 0, (size_t)g->pw * sizeof(float));
            memcpy(row + g->pw, in, (size_t)g->w * sizeof(float));
            memset(row + g->pw + g->w, 0, (size_t)(j->wq - g->pw - g->w) * sizeof(float));
            continue;
        }
        for (int64_t q = 0; q < g->sw; q++) {
            float *ph = row + q * j->wq;
            for (int64_t v = 0; v < j->wq; v++) {
                int64_t ix = v * g->sw + q - g->pw;
                ph[v] = ix >= 0 && ix < g->w ? in[ix] : 0.0f;
            }
        }
    }
}

/* y[ox] = b + the 3×3 taps over rows r0..r2 at offsets o0..o2: nine loads per vector, no
 * partial sums through memory. */
static inline void row3x3(float *restrict y, const float *restrict r0, const float *restrict r1,
                          const float *restrict r2, const int64_t *o, const float *wt, float b,
                          int64_t n)
{
    const float *a0 = r0 + o[0], *a1 = r0 + o[1], *a2 = r0 + o[2];
    const float *b0 = r1 + o[0], *b1 = r1 + o[1], *b2 = r1 + o[2];
    const float *c0 = r2 + o[0], *c1 = r2 + o[1], *c2 = r2 + o[2];
    float w0 = wt[0], w1 = wt[1], w2 = wt[2], w3 = wt[3], w4 = wt[4], w5 = wt[5], w6 = wt[6],
          w7 = wt[7], w8 = wt[8];
    for (int64_t t = 0; t < n; t++)
        y[t] = b + w0 * a0[t] + w1 * a1[t] + w2 * a2[t] + w3 * b0[t] + w4 * b1[t] + w5 * b2[t] +
               w6 * c0[t] + w7 * c1[t] + w8 * c2[t];
}

/* y[ox] (+)= the 5 taps of one kernel row over row r: five loads per vector. */
static inline void row_add5(float *restrict y, const float *restrict r, const int64_t *o,
                            const float *wt, float b, gboolean first, int64_t n)
{
    const float *a0 = r + o[0], *a1 = r + o[1], *a2 = r + o[2], *a3 = r + o[3], *a4 = r + o[4];
    float w0 = wt[0], w1 = wt[1], w2 = wt[2], w3 = wt[3], w4 = wt[4];
    if (first) {
        for (int64_t t = 0; t < n; t++)
            y[t] = b + w0 * a0[t] + w1 * a1[t] + w2 * a2[t] + w3 * a3[t] + w4 * a4[t];
    } else {
        for (int64_t t = 0; t < n; t++)
            y[t] = y[t] + w0 * a0[t] + w1 * a1[t] + w2 * a2[t] + w3 * a3[t] + w4 * a4[t];
    }
}

/* y[ox] += v · r[ox]. */
static inline void axpy(float *restrict y, const float *restrict r, float v, int64_t n)
{
    for (int64_t t = 0; t < n; t++)
        y[t] += v * r[t];
}

/* One output plane from the padded input plane @xp. */
static inline void dw_forward_plane(const DwJob *j, const float *xp, const float *wk, float b,
                                    float *y)
{
    const Geom *g = j->g;
    for (int64_t oy = 0; oy < g->oh; oy++) {
        float *yr = y + oy * g->ow;
        const float *base = xp + oy * g->sh * j->rs;
        int64_t step = g->dh * j->rs;
        if (g->kh == 3 && g->kw == 3) {
            row3x3(yr, base, base + step, base + 2 * step, j->off, wk, b, g->ow);
        } else if (g->kw == 5) {
            for (int64_t ky = 0; ky < g->kh; ky++)
                row_add5(yr, base + ky * step, j->off, wk + ky * 5, b, ky == 0, g->ow);
        } else {
            for (int64_t t = 0; t < g->ow; t++)
                yr[t] = b;
            for (int64_t ky = 0; ky < g->kh; ky++)
                for (int64_t kx = 0; kx < g->kw; kx++)
                    axpy(yr, base + ky * step + j->off[kx], wk[ky * g->kw + kx], g->ow);
        }
    }
}

/* Range over N·Cin input planes: pad once, then the plane's cout_g output channels. */
PVX_KERNEL_CLONES static void dw_forward_planes(int64_t i0, int64_t i1, void *data)
{
    const DwJob *j = data;
    const Geom *g = j->g;
    float *xp = pvx_ops_scratch(2, (size_t)dw_plane(j));
    int64_t taps = g->kh * g->kw, out_plane = g->oh * g->ow;
    for (int64_t i = i0; i < i1; i++) {
        int64_t n = i / g->cin, ci = i % g->cin;
        pad_plane(j, j->x + i * g->h * g->w, xp);
        for (int64_t m = 0; m < g->cout_g; m++) {
            int64_t co = ci * g->cout_g + m;
            float b = j->bias != NULL ? j->bias[co] : 0.0f;
            dw_forward_plane(j, xp, j->w + co * taps, b, j->y + (n * g->cout + co) * out_plane);
        }
    }
}

/* Range over N·Cin input planes: dx's plane from its cout_g output gradients. */
PVX_KERNEL_CLONES static void dw_input_grad_planes(int64_t i0, int64_t i1, void *data)
{
    const DwJob *j = data;
    const Geom *g = j->g;
    float *acc = pvx_ops_scratch(2, (size_t)dw_plane(j));
    int64_t taps = g->kh * g->kw, out_plane = g->oh * g->ow;
    for (int64_t i = i0; i < i1; i++) {
        int64_t n = i / g->cin, ci = i % g->cin;
        memset(acc, 0, (size_t)dw_plane(j) * sizeof(float));
        for (int64_t m = 0; m < g->cout_g; m++) {
            int64_t co = ci * g->cout_g + m;
            const float *wk = j->w + co * taps;
            const float *dy = j->dy + (n * g->cout + co) * out_plane;
            for (int64_t oy = 0; oy < g->oh; oy++) {
                const float *d = dy + oy * g->ow;
                for (int64_t ky = 0; ky < g->kh; ky++) {
                    float *row = acc + (oy * g->sh + ky * g->dh) * j->rs;
                    for (int64_t kx = 0; kx < g->kw; kx++)
                        axpy(row + j->off[kx], d, wk[ky * g->kw + kx], g->ow);
                }
            }
        }
        float *dx = j->dx + i * g->h * g->w;
        for (int64_t iy = 0; iy < g->h; iy++) {
            const float *row = acc + (iy + g->ph) * j->rs;
            float *out = dx + iy * g->w;
            if (g->sw == 1) {
                memcpy(out, row + g->pw, (size_t)g->w * sizeof(float));
                continue;
            }
            for (int64_t ix = 0; ix < g->w; ix++) {
                int64_t c = ix + g->pw;
                out[ix] = row[c % g->sw * j->wq + c / g->sw];
            }
        }
    }
}

/* Σ a·b over @n floats into 16 running lane sums. */
static inline void dot16(float *restrict acc, const float *restrict a, const float *restrict b,
                         int64_t n)
{
    int64_t t = 0;
    for (; t + 16 <= n; t += 16)
        for (int l = 0; l < 16; l++)
            acc[l] += a[t + l] * b[t + l];
    for (int l = 0; t < n; t++, l++)
        acc[l] += a[t] * b[t];
}

/* Range over Cout: dw[co] += Σ_n dy[n, co] ⋆ x[n, co / cout_g], db[co] += Σ dy[n, co]. */
PVX_KERNEL_CLONES static void dw_weight_grad_channels(int64_t c0, int64_t c1, void *data)
{
    const DwJob *j = data;
    const Geom *g = j->g;
    float *xp = pvx_ops_scratch(2, (size_t)dw_plane(j));
    int64_t taps = g->kh * g->kw, out_plane = g->oh * g->ow;
    double *sum = g_newa(double, taps);
    for (int64_t co = c0; co < c1; co++) {
        int64_t ci = co / g->cout_g;
        memset(sum, 0, (size_t)taps * sizeof(double));
        double bias_sum = 0.0;
        for (int64_t n = 0; n < g->n; n++) {
            const float *dy = j->dy + (n * g->cout + co) * out_plane;
            if (j->db != NULL)
                bias_sum += pvx_ops_plane_sum(dy, out_plane);
            if (j->dw == NULL)
                continue;
            pad_plane(j, j->x + (n * g->cin + ci) * g->h * g->w, xp);
            for (int64_t ky = 0; ky < g->kh; ky++) {
                for (int64_t kx = 0; kx < g->kw; kx++) {
                    float acc[16] = {0};
                    for (int64_t oy = 0; oy < g->oh; oy++)
                        dot16(acc, dy + oy * g->ow,
                              xp + (oy * g->sh + ky * g->dh) * j->rs + j->off[kx], g->ow);
                    float part = 0.0f;
                    for (int l = 0; l < 16; l++)
                        part += acc[l];
                    sum[ky * g->kw + kx] += part;
                }
            }
        }
        if (j->dw != NULL)
            for (int64_t t = 0; t < taps; t++)
                j->dw[co * taps + t] += (float)sum[t];
        if (j->db != NULL)
            j->db[co] += (float)bias_sum;
    }
}

static gboolean is_depthwise(const Geom *g)
{
    return g->cin_g == 1 && g->groups > 1 && g->kw <= DW_MAX_KW;
}

/* Planes per pool range: about 32 K multiply-adds each, so that small planes (7×7) batch up. */
static int64_t dw_grain(int64_t per_item)
{
    return MAX(32768 / MAX(per_item, 1), 1);
}

/* ---- other groups: per group through the dense kernels -------------------------------------- */

/* dst[i, dst_c0 .. dst_c0 + c) = src[i, src_c0 .. src_c0 + c) for i < n, between [n, dst_c, plane]
 * and [n, src_c, plane] tensors. */
static void copy_channels(float *dst, int64_t dst_c, const float *src, int64_t src_c, int64_t n,
                          int64_t c, int64_t plane, int64_t dst_c0, int64_t src_c0)
{
    for (int64_t i = 0; i < n; i++)
        memcpy(dst + (i * dst_c + dst_c0) * plane, src + (i * src_c + src_c0) * plane,
               (size_t)(c * plane) * sizeof(float));
}

/* Group @k's weight rows (or their bias entries) as a new tensor. */
static PvxTensor *group_rows(const PvxTensor *t, int64_t k, int64_t rows)
{
    int64_t shape[4] = {rows, 0, 0, 0};
    int64_t per = 1;
    for (int d = 1; d < t->ndim; d++) {
        shape[d] = t->shape[d];
        per *= t->shape[d];
    }
    return pvx_tensor_new_from_data(t->ndim, shape, t->data + k * rows * per);
}

static gboolean grouped_forward_dense(const Geom *g, const PvxTensor *x, const PvxTensor *w,
                                      const PvxTensor *b, const PvxConv2dParams *p, PvxTensor *y,
                                      GError **error)
{
    int64_t xs[4] = {g->n, g->cin_g, g->h, g->w};
    g_autoptr(PvxTensor) xg = pvx_tensor_new(4, xs);
    int64_t ys[4] = {g->n, g->cout_g, g->oh, g->ow};
    g_autoptr(PvxTensor) yg = pvx_tensor_new(4, ys);
    for (int64_t k = 0; k < g->groups; k++) {
        copy_channels(xg->data, g->cin_g, x->data, g->cin, g->n, g->cin_g, g->h * g->w, 0,
                      k * g->cin_g);
        g_autoptr(PvxTensor) wg = group_rows(w, k, g->cout_g);
        g_autoptr(PvxTensor) bg = b != NULL ? group_rows(b, k, g->cout_g) : NULL;
        g_autoptr(PvxTensor) r = pvx_conv2d_forward(xg, wg, bg, p, yg, error);
        if (r == NULL)
            return FALSE;
        copy_channels(y->data, g->cout, yg->data, g->cout_g, g->n, g->cout_g, g->oh * g->ow,
                      k * g->cout_g, 0);
    }
    return TRUE;
}

/* dst[i] += src[i]. */
static void add_into(float *dst, const float *src, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] += src[i];
}

static gboolean grouped_backward_dense(const Geom *g, const PvxTensor *x, const PvxTensor *w,
                                       const PvxTensor *dy, const PvxConv2dParams *p, PvxTensor *dx,
                                       PvxTensor *dw, PvxTensor *db, GError **error)
{
    int64_t xs[4] = {g->n, g->cin_g, g->h, g->w}, ys[4] = {g->n, g->cout_g, g->oh, g->ow};
    g_autoptr(PvxTensor) xg = pvx_tensor_new(4, xs);
    g_autoptr(PvxTensor) dyg = pvx_tensor_new(4, ys);
    g_autoptr(PvxTensor) dxg = dx != NULL ? pvx_tensor_new(4, xs) : NULL;
    int64_t wsz = g->cout_g * g->cin_g * g->kh * g->kw;
    for (int64_t k = 0; k < g->groups; k++) {
        if (dw != NULL)
            copy_channels(xg->data, g->cin_g, x->data, g->cin, g->n, g->cin_g, g->h * g->w, 0,
                          k * g->cin_g);
        copy_channels(dyg->data, g->cout_g, dy->data, g->cout, g->n, g->cout_g, g->oh * g->ow, 0,
                      k * g->cout_g);
        g_autoptr(PvxTensor) wg = group_rows(w, k, g->cout_g);
        g_autoptr(PvxTensor) dwg = dw != NULL ? pvx_tensor_new_like(wg) : NULL;
        g_autoptr(PvxTensor) dbg = db != NULL ? pvx_tensor_new_shape(1, g->cout_g) : NULL;
        if (!pvx_conv2d_backward(xg, wg, dyg, p, dx != NULL ? &dxg : NULL, dwg, dbg, error))
            return FALSE;
        if (dw != NULL)
            add_into(dw->data + k * wsz, dwg->data, wsz);
        if (db != NULL)
            add_into(db->data + k * g->cout_g, dbg->data, g->cout_g);
        if (dx != NULL)
            copy_channels(dx->data, g->cin, dxg->data, g->cin_g, g->n, g->cin_g, g->h * g->w,
                          k * g->cin_g, 0);
    }
    return TRUE;
}

/* ---- entry points --------------------------------------------------------------------------- */

PvxTensor *pvx_conv2d_grouped_forward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                                      const PvxConv2dParams *p, int groups, PvxTensor *out,
                                      GError **error)
{
    g_return_val_if_fail(x != NULL && w != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    Geom g;
    if (!geom_init(x, w, b, p, groups, &g, error))
        return NULL;
    if (groups == 1)
        return pvx_conv2d_forward(x, w, b, p, out, error);
    int64_t shape[4] = {g.n, g.cout, g.oh, g.ow};
    PvxTensor *y = pvx_ops_prepare_out(out, 4, shape, "conv2d output", error);
    if (y == NULL)
        return NULL;
    pvx_ops_threads_ensure();
    if (is_depthwise(&g)) {
        DwJob j = {.x = x->data, .w = w->data, .bias = b != NULL ? b->data : NULL, .y = y->data};
        dw_job_init(&j, &g);
        pvx_parallel_for(g.n * g.cin, dw_grain(g.cout_g * g.oh * g.ow * g.kh * g.kw),
                         dw_forward_planes, &j);
        return y;
    }
    if (!grouped_forward_dense(&g, x, w, b, p, y, error)) {
        pvx_tensor_unref(y);
        return NULL;
    }
    return y;
}

gboolean pvx_conv2d_grouped_backward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *dy,
                                     const PvxConv2dParams *p, int groups, PvxTensor **dx,
                                     PvxTensor *dw, PvxTensor *db, GError **error)
{
    g_return_val_if_fail(x != NULL && w != NULL && dy != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    Geom g;
    if (!geom_init(x, w, NULL, p, groups, &g, error))
        return FALSE;
    if (groups == 1)
        return pvx_conv2d_backward(x, w, dy, p, dx, dw, db, error);
    int64_t yshape[4] = {g.n, g.cout, g.oh, g.ow};
    if (!pvx_ops_check_shape(dy, 4, yshape, "conv2d output gradient", error))
        return FALSE;
    if (dw != NULL && !pvx_ops_check_shape(dw, 4, w->shape, "conv2d weight gradient", error))
        return FALSE;
    if (db != NULL && !pvx_ops_check_shape(db, 1, w->shape, "conv2d bias gradient", error))
        return FALSE;
    if (dx != NULL && !pvx_ops_prepare_grad(dx, 4, x->shape, "conv2d input gradient", error))
        return FALSE;
    pvx_ops_threads_ensure();
    if (!is_depthwise(&g))
        return grouped_backward_dense(&g, x, w, dy, p, dx != NULL ? *dx : NULL, dw, db, error);
    DwJob j = {.x = x->data,
               .w = w->data,
               .dy = dy->data,
               .dw = dw != NULL ? dw->data : NULL,
               .db = db != NULL ? db->data : NULL};
    dw_job_init(&j, &g);
    int64_t macs = g.oh * g.ow * g.kh * g.kw;
    if (dw != NULL || db != NULL)
        pvx_parallel_for(g.cout, dw_grain(g.n * macs), dw_weight_grad_channels, &j);
    if (dx != NULL) {
        j.dx = (*dx)->data;
        pvx_parallel_for(g.n * g.cin, dw_grain(g.cout_g * macs), dw_input_grad_planes, &j);
    }
    return TRUE;
}
