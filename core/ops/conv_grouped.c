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
 * The depthwise kernels work on one input plane at a time, zero-padded and split into its
 * sh·sw phase planes (rows ≡ py mod sh, columns ≡ px mod sw), each hq × wq (wq = ⌈(W + 2·pad_w) /
 * sw⌉, hq likewise) plus a spare zero row. Output (oy, ox) under tap (ky, kx) reads padded
 * (oy·sh + ky·dh, ox·sw + kx·dw): in phase ((ky·dh) mod sh, (kx·dw) mod sw) at row oy + ky·dh / sh,
 * column ox + kx·dw / sw. So with the output laid out wq wide ("extended": columns ow .. wq-1
 * are junk, computed and dropped), output position i = oy·wq + ox reads position i + off(tap) of
 * one phase plane: every tap is one long unit-stride run, whatever the stride and dilation, and
 * the loops vectorise even for 7×7 planes (the sparse convolution in sparse.c does the same).
 *   forward     per chunk of output rows (in L1), e[i] = b + Σ_taps w · P[i + off]: 3×3 as one
 *               expression of nine loads per vector, 5×5 one kernel row of five at a time,
 *               others one tap at a time; then e's rows are copied into y;
 *   input grad  the transpose: dy laid out wq wide (zeros in the junk columns) is added, times
 *               each tap's weight, into a zeroed phase-split plane at the tap's offset, which is
 *               then cropped into dx;
 *   weight grad per output channel and tap, one dot product of the extended dy with the phase
 *               plane at the tap's offset, in 16 float lanes per plane, double over the batch.
 * The padded plane of a 112×112 input is 51 KB and stays in L2 while all k outputs of its
 * channel are computed from it.
 */
#include <string.h>

#include "ops_private.h"

typedef PvxConvGeom Geom;

/* ---- depthwise ------------------------------------------------------------------------------ */

/* Kernel widths and heights the depthwise kernels take (larger ones go through the dense path). */
#define DW_MAX_K 16
/* The helpers below are inlined into each ISA's clone of the range functions (GCC would
 * otherwise build them once, for the baseline, and call them from every clone). */
#if defined(__GNUC__)
#define DW_INLINE static inline __attribute__((always_inline))
#else
#define DW_INLINE static inline
#endif

/* Output rows per chunk of the extended output: about 2048 floats, so that it stays in L1. */
#define DW_CHUNK_FLOATS 2048

/* One input plane padded and split into sh·sw phase planes (see the top comment): phase
 * (py, px) at (py·sw + px)·sub, hq rows of wq floats plus a spare zero row, so that the junk
 * columns of the last output row read inside the buffer. */
typedef struct {
    const Geom *g;
    const float *x, *w, *bias, *dy;
    float *y, *dx, *dw, *db;
    int64_t hq, wq, sub;
    int64_t off[DW_MAX_K * DW_MAX_K]; /* per tap (ky, kx): where it reads, relative to i */
} DwJob;

static void dw_job_init(DwJob *j, const Geom *g)
{
    j->g = g;
    j->hq = (g->h + 2 * g->ph + g->sh - 1) / g->sh;
    j->wq = (g->w + 2 * g->pw + g->sw - 1) / g->sw;
    j->sub = (j->hq + 1) * j->wq;
    for (int64_t ky = 0; ky < g->kh; ky++) {
        for (int64_t kx = 0; kx < g->kw; kx++) {
            int64_t ry = ky * g->dh, rx = kx * g->dw;
            j->off[ky * g->kw + kx] =
                (ry % g->sh * g->sw + rx % g->sw) * j->sub + ry / g->sh * j->wq + rx / g->sw;
        }
    }
}

static int64_t dw_plane(const DwJob *j)
{
    return j->g->sh * j->g->sw * j->sub;
}

/* Output rows per chunk. */
static int64_t dw_chunk_rows(const DwJob *j)
{
    return CLAMP(DW_CHUNK_FLOATS / j->wq, 1, j->g->oh);
}

/* A short run of floats: an inline loop rather than a call. */
DW_INLINE void copy_floats(float *restrict dst, const float *restrict src, int64_t n)
{
    for (int64_t t = 0; t < n; t++)
        dst[t] = src[t];
}

DW_INLINE void zero_floats(float *dst, int64_t n)
{
    for (int64_t t = 0; t < n; t++)
        dst[t] = 0.0f;
}

/* Writes input plane @src (H × W) into @dst, padded and phase-split. */
DW_INLINE void pad_plane(const DwJob *j, const float *src, float *dst)
{
    const Geom *g = j->g;
    for (int64_t py = 0; py < g->sh; py++) {
        for (int64_t px = 0; px < g->sw; px++) {
            float *pl = dst + (py * g->sw + px) * j->sub;
            /* Phase column v reads input column v·sw + px - pw: valid for v in [lo, hi). */
            int64_t o = px - g->pw;
            int64_t lo = o >= 0 ? 0 : (-o + g->sw - 1) / g->sw;
            int64_t hi = g->w - o <= 0 ? 0 : (g->w - o + g->sw - 1) / g->sw;
            hi = MIN(hi, j->wq);
            lo = MIN(lo, hi);
            for (int64_t u = 0; u <= j->hq; u++) {
                float *row = pl + u * j->wq;
                int64_t iy = u * g->sh + py - g->ph;
                if (u == j->hq || iy < 0 || iy >= g->h) {
                    zero_floats(row, j->wq);
                    continue;
                }
                const float *in = src + iy * g->w + o;
                zero_floats(row, lo);
                if (g->sw == 1) {
                    copy_floats(row + lo, in + lo, hi - lo);
                } else if (g->sw == 2) {
                    for (int64_t v = lo; v < hi; v++)
                        row[v] = in[2 * v];
                } else {
                    for (int64_t v = lo; v < hi; v++)
                        row[v] = in[v * g->sw];
                }
                zero_floats(row + hi, j->wq - hi);
            }
        }
    }
}

/* e[i] = b + the nine 3×3 taps at i: nine loads per vector, no partial sums through memory. */
DW_INLINE void taps3x3(float *restrict e, const float *restrict p, const int64_t *o, float b,
                       const float *wt, int64_t n)
{
    const float *a0 = p + o[0], *a1 = p + o[1], *a2 = p + o[2], *a3 = p + o[3], *a4 = p + o[4];
    const float *a5 = p + o[5], *a6 = p + o[6], *a7 = p + o[7], *a8 = p + o[8];
    float w0 = wt[0], w1 = wt[1], w2 = wt[2], w3 = wt[3], w4 = wt[4], w5 = wt[5], w6 = wt[6],
          w7 = wt[7], w8 = wt[8];
    for (int64_t i = 0; i < n; i++)
        e[i] = b + w0 * a0[i] + w1 * a1[i] + w2 * a2[i] + w3 * a3[i] + w4 * a4[i] + w5 * a5[i] +
               w6 * a6[i] + w7 * a7[i] + w8 * a8[i];
}

/* e[i] (first: b +, else e[i] +) the five taps of one kernel row at i. */
DW_INLINE void taps5(float *restrict e, const float *restrict p, const int64_t *o, float b,
                     const float *wt, gboolean first, int64_t n)
{
    const float *a0 = p + o[0], *a1 = p + o[1], *a2 = p + o[2], *a3 = p + o[3], *a4 = p + o[4];
    float w0 = wt[0], w1 = wt[1], w2 = wt[2], w3 = wt[3], w4 = wt[4];
    if (first) {
        for (int64_t i = 0; i < n; i++)
            e[i] = b + w0 * a0[i] + w1 * a1[i] + w2 * a2[i] + w3 * a3[i] + w4 * a4[i];
    } else {
        for (int64_t i = 0; i < n; i++)
            e[i] = e[i] + w0 * a0[i] + w1 * a1[i] + w2 * a2[i] + w3 * a3[i] + w4 * a4[i];
    }
}

/* e[i] += v · p[i]. */
DW_INLINE void axpy(float *restrict e, const float *restrict p, float v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        e[i] += v * p[i];
}

/* One output plane from the phase-split input plane @xp, through the extended chunk @e. */
DW_INLINE void dw_forward_plane(const DwJob *j, const float *xp, const float *wk, float b, float *e,
                                float *y)
{
    const Geom *g = j->g;
    int64_t rows = dw_chunk_rows(j), taps = g->kh * g->kw;
    for (int64_t oy0 = 0; oy0 < g->oh; oy0 += rows) {
        int64_t nr = MIN(rows, g->oh - oy0), n = nr * j->wq;
        const float *p = xp + oy0 * j->wq;
        if (g->kh == 3 && g->kw == 3) {
            taps3x3(e, p, j->off, b, wk, n);
        } else if (g->kw == 5) {
            for (int64_t ky = 0; ky < g->kh; ky++)
                taps5(e, p, j->off + ky * 5, b, wk + ky * 5, ky == 0, n);
        } else {
            for (int64_t i = 0; i < n; i++)
                e[i] = b;
            for (int64_t t = 0; t < taps; t++)
                axpy(e, p + j->off[t], wk[t], n);
        }
        for (int64_t r = 0; r < nr; r++)
            copy_floats(y + (oy0 + r) * g->ow, e + r * j->wq, g->ow);
    }
}

/* Range over N·Cin input planes: pad once, then the plane's cout_g output channels. */
PVX_KERNEL_CLONES static void dw_forward_planes(int64_t i0, int64_t i1, void *data)
{
    const DwJob *j = data;
    const Geom *g = j->g;
    float *xp = pvx_ops_scratch(2, (size_t)dw_plane(j));
    float *e = pvx_ops_scratch(3, (size_t)(dw_chunk_rows(j) * j->wq));
    int64_t taps = g->kh * g->kw, out_plane = g->oh * g->ow;
    for (int64_t i = i0; i < i1; i++) {
        int64_t n = i / g->cin, ci = i % g->cin;
        pad_plane(j, j->x + i * g->h * g->w, xp);
        for (int64_t m = 0; m < g->cout_g; m++) {
            int64_t co = ci * g->cout_g + m;
            float b = j->bias != NULL ? j->bias[co] : 0.0f;
            dw_forward_plane(j, xp, j->w + co * taps, b, e, j->y + (n * g->cout + co) * out_plane);
        }
    }
}

/* dy's plane laid out wq wide with zeros in the junk columns (and a zero spare row). */
DW_INLINE void extend_plane(const DwJob *j, const float *dy, float *e)
{
    const Geom *g = j->g;
    for (int64_t oy = 0; oy < g->oh; oy++) {
        copy_floats(e + oy * j->wq, dy + oy * g->ow, g->ow);
        zero_floats(e + oy * j->wq + g->ow, j->wq - g->ow);
    }
}

/* Range over N·Cin input planes: dx's plane from its cout_g output gradients, every tap's
 * weight times the extended dy added into the phase-split plane at the tap's offset. */
PVX_KERNEL_CLONES static void dw_input_grad_planes(int64_t i0, int64_t i1, void *data)
{
    const DwJob *j = data;
    const Geom *g = j->g;
    float *acc = pvx_ops_scratch(2, (size_t)dw_plane(j));
    float *e = pvx_ops_scratch(3, (size_t)(g->oh * j->wq));
    int64_t taps = g->kh * g->kw, out_plane = g->oh * g->ow, len = g->oh * j->wq;
    for (int64_t i = i0; i < i1; i++) {
        int64_t n = i / g->cin, ci = i % g->cin;
        zero_floats(acc, dw_plane(j));
        for (int64_t m = 0; m < g->cout_g; m++) {
            int64_t co = ci * g->cout_g + m;
            extend_plane(j, j->dy + (n * g->cout + co) * out_plane, e);
            const float *wk = j->w + co * taps;
            for (int64_t t = 0; t < taps; t++)
                axpy(acc + j->off[t], e, wk[t], len);
        }
        float *dx = j->dx + i * g->h * g->w;
        for (int64_t iy = 0; iy < g->h; iy++) {
            int64_t r = iy + g->ph, py = r % g->sh;
            float *out = dx + iy * g->w;
            for (int64_t px = 0; px < g->sw; px++) {
                const float *row = acc + (py * g->sw + px) * j->sub + r / g->sh * j->wq;
                /* dx column ix = v·sw + px - pw for the phase's columns v in [lo, hi) */
                int64_t o = px - g->pw;
                int64_t lo = o >= 0 ? 0 : (-o + g->sw - 1) / g->sw;
                int64_t hi = g->w - o <= 0 ? 0 : (g->w - o + g->sw - 1) / g->sw;
                hi = MIN(hi, j->wq);
                if (g->sw == 1) {
                    copy_floats(out + lo + o, row + lo, hi - lo);
                } else {
                    for (int64_t v = lo; v < hi; v++)
                        out[v * g->sw + o] = row[v];
                }
            }
        }
    }
}

/* Σ a·b over @n floats in 16 running lane sums, then their sum. */
DW_INLINE float dot(const float *restrict a, const float *restrict b, int64_t n)
{
    float acc[16] = {0};
    int64_t t = 0;
    for (; t + 16 <= n; t += 16)
        for (int l = 0; l < 16; l++)
            acc[l] += a[t + l] * b[t + l];
    for (int l = 0; t < n; t++, l++)
        acc[l] += a[t] * b[t];
    float s = 0.0f;
    for (int l = 0; l < 16; l++)
        s += acc[l];
    return s;
}

/* Range over Cout: dw[co] += Σ_n dy[n, co] ⋆ x[n, co / cout_g] (per tap one dot product of the
 * extended dy with the phase plane at the tap's offset: the junk columns hold zeros),
 * db[co] += Σ dy[n, co]. Float within a plane, double over the batch. */
PVX_KERNEL_CLONES static void dw_weight_grad_channels(int64_t c0, int64_t c1, void *data)
{
    const DwJob *j = data;
    const Geom *g = j->g;
    float *xp = pvx_ops_scratch(2, (size_t)dw_plane(j));
    float *e = pvx_ops_scratch(3, (size_t)(g->oh * j->wq));
    int64_t taps = g->kh * g->kw, out_plane = g->oh * g->ow, len = g->oh * j->wq;
    double sum[DW_MAX_K * DW_MAX_K];
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
            extend_plane(j, dy, e);
            for (int64_t t = 0; t < taps; t++)
                sum[t] += dot(e, xp + j->off[t], len);
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
    return g->cin_g == 1 && g->groups > 1 && g->kh <= DW_MAX_K && g->kw <= DW_MAX_K;
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
    if (!pvx_conv_geometry(x, w, b, p, groups, &g, error))
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
    if (!pvx_conv_geometry(x, w, NULL, p, groups, &g, error))
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
