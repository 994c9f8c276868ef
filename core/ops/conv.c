/* pvx — 2-d convolution, forward and backward, as im2col/col2im + cblas_sgemm.
 *
 * Per image n, with K = Cin*KH*KW and P = OH*OW output pixels:
 *   forward     y_n[Cout, P]  = w[Cout, K] · col_n[K, P]  (+ b, pre-filled into y so that sgemm
 *                                                            runs with beta = 1 and no extra pass)
 *   weight grad dw[Cout, K]  += dy_n[Cout, P] · col_nᵀ
 *   input grad  dcol[K, P]    = wᵀ · dy_n,  then col2im(dcol) → dx_n
 * col_n is never built whole: it is made for a chunk of output rows at a time in a per-thread
 * scratch buffer small enough to stay in cache while sgemm reads it (VGG-16's second layer would
 * need 115 MB per image otherwise). A 1×1 convolution with stride 1 and no padding needs no col
 * at all: x_n itself is the [Cin, P] matrix.
 * im2col/col2im run on pvx's pool, sgemm on OpenBLAS's threads, one after the other.
 *
 * 3×3 stride-1 convolutions go to the Winograd kernels instead (winograd.c) when
 * PVX_CONV_ALGO allows (see ops.h): forward, input gradient and weight gradient.
 */
#include <cblas.h>
#include <string.h>

#include "ops_private.h"

/* Upper bound on one im2col chunk, in floats (4 MiB): measured on VGG-16's layers, large
 * enough that sgemm runs at full speed, small enough to stay in L2/L3 between im2col and
 * sgemm. */
#define COL_CHUNK_FLOATS (1 << 20)

/* Auto picks Winograd for 3×3 stride-1 convolutions with at least this many input and output
 * channels: below it the 16 GEMMs are too thin (VGG's first layer, Cin = 3, stays on im2col). */
#define WINOGRAD_MIN_CHANNELS 16
/* ... and at least this many 2×2 output tiles over the batch: below it (VGG-16's 14×14 layers at
 * batch 1: 49 tiles) the Winograd GEMMs are too narrow and im2col's single GEMM wins (measured:
 * 5.0 against 6.9 ms; at batch 2, 98 tiles, Winograd wins 8.8 against 10.2 ms). Except in the
 * forward where the Winograd kernels share out output channels instead of tiles
 * (pvx_winograd_forward_splits) and there are at least WINOGRAD_SPLIT_MIN_TILES tiles: 512
 * channels at 14×14, batch 1, 4.3 against im2col's 5.5 ms; at 7×7 (16 tiles), 4.2 against 4.6
 * (best of 31 calls, taking turns; bench-layers measures VGG-16's layers). */
#define WINOGRAD_MIN_TILES 96
#define WINOGRAD_SPLIT_MIN_TILES 16

typedef PvxConvGeom Geom;

PvxConvAlgo pvx_ops_conv_algo(void)
{
    const char *s = g_getenv("PVX_CONV_ALGO");
    if (s == NULL || *s == '\0' || g_str_equal(s, "auto"))
        return PVX_CONV_ALGO_AUTO;
    if (g_str_equal(s, "im2col"))
        return PVX_CONV_ALGO_IM2COL;
    if (g_str_equal(s, "winograd"))
        return PVX_CONV_ALGO_WINOGRAD;
    static gsize warned = 0;
    if (g_once_init_enter(&warned)) {
        g_warning("PVX_CONV_ALGO=\"%s\" is not auto, im2col or winograd; using auto", s);
        g_once_init_leave(&warned, 1);
    }
    return PVX_CONV_ALGO_AUTO;
}

gboolean pvx_conv_geometry(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                           const PvxConv2dParams *p, int groups, PvxConvGeom *g, GError **error)
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
    if (groups == 1 && x->shape[1] != w->shape[1]) {
        g_autofree char *xs = pvx_tensor_shape_string(x);
        g_autofree char *ws = pvx_tensor_shape_string(w);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "conv2d: input %s has %" G_GINT64_FORMAT
                    " channels but weight %s expects %" G_GINT64_FORMAT,
                    xs, (gint64)x->shape[1], ws, (gint64)w->shape[1]);
        return FALSE;
    }
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
    *g = (PvxConvGeom){
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
    g->k = g->cin_g * g->kh * g->kw;
    g->pointwise = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
    return TRUE;
}

/* Auto runs convolutions with at most this many weights per output channel (Cin·KH·KW: a first
 * layer on 1 or 3 channels, 3×3 or 5×5) directly, stride 1 and dilation 1, when an output plane
 * (computed (W + 2·pad) wide, see DirectJob) fits DIRECT_MAX_PLANE floats, in L1: im2col's GEMM
 * has K this small, and per image it spends more on the call and on building col than on the
 * products. Fashion-MNIST's 1→32 3×3 layer at batch 128, two threads: forward 5.0 ms against
 * 10.0, weight and bias gradient 1.8 ms against 7.7. VGG-16's 224×224 first layer (a plane of
 * 200 KB) stays on im2col, which measured as fast or faster there. */
#define DIRECT_MAX_K 32
#define DIRECT_MAX_PLANE 8192

static gboolean use_direct(const Geom *g)
{
    return pvx_ops_conv_algo() == PVX_CONV_ALGO_AUTO && g->k <= DIRECT_MAX_K && !g->pointwise &&
           g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 &&
           g->oh * (g->w + 2 * g->pw) <= DIRECT_MAX_PLANE;
}

/* The direct kernels work on zero-padded copies of the input planes, xp: hp = h + 2·ph rows
 * (and one spare, see below) of wp = w + 2·pw floats. An output row is computed wp wide, so
 * that output pixel (oy, ox) sits at oy·wp + ox and the weight (ky, kx) reads xp at the same
 * flat index + ky·wp + kx: every weight is one long unit-stride loop over the whole plane. The
 * ow … wp - 1 columns of each row are junk that is never copied out (and reads at most
 * kw - 1 floats past the last row: the spare row). */
typedef struct {
    const Geom *g;
    const float *x, *w, *bias, *dy;
    float *y, *dw;
    float *db;     /* weight gradient: nullable, the bias gradient taken on the way */
    gboolean relu; /* forward: a ReLU applied as the rows are copied out */
    float *xp;     /* [n, cin, hp + 1, wp] */
    int64_t hp, wp;
} DirectJob;

static int64_t xp_plane(const DirectJob *j)
{
    return (j->hp + 1) * j->wp;
}

/* Range over n · Cin input planes: the padded copies. */
static void direct_pad_planes(int64_t i0, int64_t i1, void *data)
{
    const DirectJob *j = data;
    const Geom *g = j->g;
    for (int64_t i = i0; i < i1; i++) {
        float *dst = j->xp + i * xp_plane(j);
        const float *src = j->x + i * g->h * g->w;
        memset(dst, 0, (size_t)xp_plane(j) * sizeof(float));
        for (int64_t y = 0; y < g->h; y++)
            memcpy(dst + (y + g->ph) * j->wp + g->pw, src + y * g->w, (size_t)g->w * sizeof(float));
    }
}

/* A row's worth of floats: short, so an inline loop rather than a call to memcpy. */
static inline void copy_floats(float *restrict dst, const float *restrict src, int64_t n)
{
    for (int64_t t = 0; t < n; t++)
        dst[t] = src[t];
}

/* dst = max(src, 0) as pvx_relu_forward has it (zero for NaN and -0). */
static inline void copy_relu(float *restrict dst, const float *restrict src, int64_t n)
{
    for (int64_t t = 0; t < n; t++)
        dst[t] = src[t] > 0.0f ? src[t] : 0.0f;
}

/* y += v · x over @n floats. */
static inline void axpy(float *restrict y, const float *restrict x, float v, int64_t n)
{
    for (int64_t t = 0; t < n; t++)
        y[t] += v * x[t];
}

/* Range over n · Cout output planes: bias, then every weight's shifted input plane added in turn
 * (ci, ky, kx order) into a wp-wide plane that stays in L1, then its rows copied out. */
PVX_KERNEL_CLONES static void direct_forward_planes(int64_t i0, int64_t i1, void *data)
{
    const DirectJob *j = data;
    const Geom *g = j->g;
    int64_t len = g->oh * j->wp;
    float *acc = pvx_ops_scratch(1, (size_t)len);
    for (int64_t i = i0; i < i1; i++) {
        int64_t n = i / g->cout, co = i % g->cout;
        float b = j->bias != NULL ? j->bias[co] : 0.0f;
        for (int64_t t = 0; t < len; t++)
            acc[t] = b;
        for (int64_t ci = 0; ci < g->cin; ci++) {
            const float *xp = j->xp + (n * g->cin + ci) * xp_plane(j);
            const float *wk = j->w + (co * g->cin + ci) * g->kh * g->kw;
            for (int64_t ky = 0; ky < g->kh; ky++)
                for (int64_t kx = 0; kx < g->kw; kx++)
                    axpy(acc, xp + ky * j->wp + kx, wk[ky * g->kw + kx], len);
        }
        float *y = j->y + i * g->oh * g->ow;
        for (int64_t oy = 0; oy < g->oh; oy++) {
            if (j->relu)
                copy_relu(y + oy * g->ow, acc + oy * j->wp, g->ow);
            else
                copy_floats(y + oy * g->ow, acc + oy * j->wp, g->ow);
        }
    }
}

/* Σ a·b over @n floats in 16 running sums. */
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

/* Range over Cout: dw[co] += Σ_n dy[n, co] ⋆ xp[n]. dy's plane is laid out wp wide with zeros
 * in the junk columns, so each weight is one dot product over the plane: a float sum in 16
 * lanes per image, double across images. Each thread owns its output channels. */
PVX_KERNEL_CLONES static void direct_weight_grad_channels(int64_t c0, int64_t c1, void *data)
{
    const DirectJob *j = data;
    const Geom *g = j->g;
    int64_t len = g->oh * j->wp, taps = g->kh * g->kw;
    float *dyp = pvx_ops_scratch(1, (size_t)len);
    double sum[DIRECT_MAX_K];
    memset(dyp, 0, (size_t)len * sizeof(float));
    for (int64_t co = c0; co < c1; co++) {
        memset(sum, 0, sizeof sum);
        double bias_sum = 0.0;
        for (int64_t n = 0; n < g->n; n++) {
            const float *dy = j->dy + (n * g->cout + co) * g->oh * g->ow;
            if (j->db != NULL) /* as bias_grad_channels, while the plane is in cache */
                bias_sum += pvx_ops_plane_sum(dy, g->oh * g->ow);
            for (int64_t oy = 0; oy < g->oh; oy++)
                copy_floats(dyp + oy * j->wp, dy + oy * g->ow, g->ow);
            for (int64_t ci = 0; ci < g->cin; ci++) {
                const float *xp = j->xp + (n * g->cin + ci) * xp_plane(j);
                for (int64_t ky = 0; ky < g->kh; ky++) {
                    for (int64_t kx = 0; kx < g->kw; kx++) {
                        float acc[16] = {0};
                        dot16(acc, dyp, xp + ky * j->wp + kx, len);
                        float part = 0.0f;
                        for (int l = 0; l < 16; l++)
                            part += acc[l];
                        sum[ci * taps + ky * g->kw + kx] += part;
                    }
                }
            }
        }
        float *dw = j->dw + co * g->k;
        for (int64_t k = 0; k < g->k; k++)
            dw[k] += (float)sum[k];
        if (j->db != NULL)
            j->db[co] += (float)bias_sum;
    }
}

/* Sets up @j and the padded copies of x (scratch slot 0 of the calling thread). */
static void direct_begin(DirectJob *j, const Geom *g, const float *x)
{
    j->g = g;
    j->x = x;
    j->hp = g->h + 2 * g->ph;
    j->wp = g->w + 2 * g->pw;
    j->xp = pvx_ops_scratch(0, (size_t)(g->n * g->cin * xp_plane(j)));
    pvx_parallel_for(g->n * g->cin, 16, direct_pad_planes, j);
}

/* Whether to run on the Winograd kernels, and their description of the convolution. */
/* Whether to run on the Winograd kernels, and their description of the convolution. @forward:
 * for the forward only (else for the backward too). */
static gboolean use_winograd(const Geom *g, gboolean forward, PvxWinograd *wg)
{
    if (g->kh != 3 || g->kw != 3 || g->sh != 1 || g->sw != 1 || g->dh != 1 || g->dw != 1)
        return FALSE;
    PvxWinograd c = {.n = g->n,
                     .cin = g->cin,
                     .h = g->h,
                     .w = g->w,
                     .cout = g->cout,
                     .oh = g->oh,
                     .ow = g->ow,
                     .ph = g->ph,
                     .pw = g->pw};
    int64_t tiles = g->n * ((g->oh + 1) / 2) * ((g->ow + 1) / 2);
    switch (pvx_ops_conv_algo()) {
    case PVX_CONV_ALGO_IM2COL:
        return FALSE;
    case PVX_CONV_ALGO_AUTO:
        if (g->cin < WINOGRAD_MIN_CHANNELS || g->cout < WINOGRAD_MIN_CHANNELS)
            return FALSE;
        if (tiles < WINOGRAD_MIN_TILES &&
            !(forward && tiles >= WINOGRAD_SPLIT_MIN_TILES && pvx_winograd_forward_splits(&c)))
            return FALSE;
        break;
    case PVX_CONV_ALGO_WINOGRAD:
        break;
    }
    *wg = c;
    return TRUE;
}

gboolean pvx_conv2d_output_shape(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                                 const PvxConv2dParams *p, int64_t out_shape[4], GError **error)
{
    g_return_val_if_fail(x != NULL && w != NULL && out_shape != NULL, FALSE);
    Geom g;
    if (!pvx_conv_geometry(x, w, b, p, 1, &g, error))
        return FALSE;
    out_shape[0] = g.n;
    out_shape[1] = g.cout;
    out_shape[2] = g.oh;
    out_shape[3] = g.ow;
    return TRUE;
}

/* Output rows per chunk so that a [K, rows*OW] col matrix stays under COL_CHUNK_FLOATS. */
static int64_t chunk_rows(const Geom *g)
{
    int64_t rows = COL_CHUNK_FLOATS / MAX(g->k * g->ow, 1);
    return CLAMP(rows, 1, g->oh);
}

/* Valid output columns [lo, hi) for kernel column kw: those whose input column is inside. */
static void valid_cols(const Geom *g, int64_t kw, int64_t *lo, int64_t *hi)
{
    int64_t off = kw * g->dw - g->pw; /* iw = ow * sw + off */
    *lo = off >= 0 ? 0 : (-off + g->sw - 1) / g->sw;
    *hi = g->w - off <= 0 ? 0 : (g->w - off + g->sw - 1) / g->sw;
    *hi = MIN(*hi, g->ow);
    *lo = MIN(*lo, *hi);
}

typedef struct {
    const Geom *g;
    const float *x;   /* image n: [Cin, H, W] */
    float *col;       /* [K, rows * OW] */
    int64_t oh0, oh1; /* output rows of this chunk */
    /* optional: pre-fill y rows with the bias (forward) */
    const float *bias;
    float *y; /* image n: [Cout, P] */
} ColJob;

static void im2col_rows(int64_t r0, int64_t r1, void *data)
{
    const ColJob *j = data;
    const Geom *g = j->g;
    int64_t ncols = (j->oh1 - j->oh0) * g->ow;
    for (int64_t r = r0; r < r1; r++) {
        int64_t ci = r / (g->kh * g->kw);
        int64_t ky = (r / g->kw) % g->kh;
        int64_t kx = r % g->kw;
        const float *src = j->x + ci * g->h * g->w;
        float *dst = j->col + r * ncols;
        int64_t lo, hi;
        valid_cols(g, kx, &lo, &hi);
        int64_t off = kx * g->dw - g->pw;
        for (int64_t oy = j->oh0; oy < j->oh1; oy++, dst += g->ow) {
            int64_t iy = oy * g->sh - g->ph + ky * g->dh;
            if (iy < 0 || iy >= g->h) {
                memset(dst, 0, (size_t)g->ow * sizeof(float));
                continue;
            }
            const float *row = src + iy * g->w + off;
            if (lo > 0)
                memset(dst, 0, (size_t)lo * sizeof(float));
            if (g->sw == 1) {
                memcpy(dst + lo, row + lo, (size_t)(hi - lo) * sizeof(float));
            } else {
                for (int64_t ox = lo; ox < hi; ox++)
                    dst[ox] = row[ox * g->sw];
            }
            if (hi < g->ow)
                memset(dst + hi, 0, (size_t)(g->ow - hi) * sizeof(float));
        }
    }
    if (j->bias != NULL) {
        /* This thread's share of the output rows, proportional to its share of col rows. */
        int64_t c0 = r0 * g->cout / g->k, c1 = r1 * g->cout / g->k;
        int64_t plane = g->oh * g->ow;
        for (int64_t co = c0; co < c1; co++) {
            float *dst = j->y + co * plane + j->oh0 * g->ow;
            float v = j->bias[co];
            for (int64_t i = 0; i < ncols; i++)
                dst[i] = v;
        }
    }
}

/* Accumulates a chunk's dcol into dx_n; the ranges are input channels, so no two threads write
 * the same element. The first chunk (oh0 == 0) clears its channels first. */
static void col2im_channels(int64_t c0, int64_t c1, void *data)
{
    const ColJob *j = data;
    const Geom *g = j->g;
    int64_t ncols = (j->oh1 - j->oh0) * g->ow;
    float *dx = (float *)j->x;
    for (int64_t ci = c0; ci < c1; ci++) {
        float *plane = dx + ci * g->h * g->w;
        if (j->oh0 == 0)
            memset(plane, 0, (size_t)(g->h * g->w) * sizeof(float));
        for (int64_t ky = 0; ky < g->kh; ky++) {
            for (int64_t kx = 0; kx < g->kw; kx++) {
                int64_t r = (ci * g->kh + ky) * g->kw + kx;
                const float *src = j->col + r * ncols;
                int64_t lo, hi;
                valid_cols(g, kx, &lo, &hi);
                int64_t off = kx * g->dw - g->pw;
                for (int64_t oy = j->oh0; oy < j->oh1; oy++, src += g->ow) {
                    int64_t iy = oy * g->sh - g->ph + ky * g->dh;
                    if (iy < 0 || iy >= g->h)
                        continue;
                    float *row = plane + iy * g->w + off;
                    if (g->sw == 1) {
                        for (int64_t ox = lo; ox < hi; ox++)
                            row[ox] += src[ox];
                    } else {
                        for (int64_t ox = lo; ox < hi; ox++)
                            row[ox * g->sw] += src[ox];
                    }
                }
            }
        }
    }
}

typedef struct {
    const Geom *g;
    const float *bias;
    float *y;
} BiasJob;

/* Range over n * Cout planes. */
static void fill_bias_planes(int64_t i0, int64_t i1, void *data)
{
    const BiasJob *j = data;
    int64_t plane = j->g->oh * j->g->ow;
    for (int64_t i = i0; i < i1; i++) {
        float v = j->bias[i % j->g->cout];
        float *dst = j->y + i * plane;
        for (int64_t k = 0; k < plane; k++)
            dst[k] = v;
    }
}

/* @y after pvx_relu_forward in place (cannot fail on a tensor an op just wrote). */
static PvxTensor *relu_in_place(PvxTensor *y)
{
    g_autoptr(PvxTensor) r = pvx_relu_forward(y, y, NULL);
    g_assert(r == y);
    return y;
}

static PvxTensor *conv2d_forward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                                 const PvxConv2dParams *p, PvxTensor *out, gboolean relu,
                                 GError **error)
{
    g_return_val_if_fail(x != NULL && w != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    Geom g;
    if (!pvx_conv_geometry(x, w, b, p, 1, &g, error))
        return NULL;
    int64_t shape[4] = {g.n, g.cout, g.oh, g.ow};
    PvxTensor *y = pvx_ops_prepare_out(out, 4, shape, "conv2d output", error);
    if (y == NULL)
        return NULL;
    pvx_ops_threads_ensure();
    int64_t plane = g.oh * g.ow;
    const float *bias = b != NULL ? b->data : NULL;
    PvxWinograd wg;
    if (use_winograd(&g, TRUE, &wg)) {
        pvx_winograd_forward(&wg, x->data, w->data, FALSE, bias, NULL, relu, y->data);
        return y;
    }
    if (use_direct(&g)) {
        DirectJob j = {.w = w->data, .bias = bias, .y = y->data, .relu = relu};
        direct_begin(&j, &g, x->data);
        pvx_parallel_for(g.n * g.cout, 8, direct_forward_planes, &j);
        return y;
    }
    if (g.pointwise) {
        if (bias != NULL) {
            BiasJob bj = {&g, bias, y->data};
            pvx_parallel_for(g.n * g.cout, 1, fill_bias_planes, &bj);
        }
        for (int64_t n = 0; n < g.n; n++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)g.cout, (int)plane,
                        (int)g.k, 1.0f, w->data, (int)g.k, x->data + n * g.cin * g.h * g.w,
                        (int)plane, bias != NULL ? 1.0f : 0.0f, y->data + n * g.cout * plane,
                        (int)plane);
        return relu ? relu_in_place(y) : y;
    }
    int64_t rows = chunk_rows(&g);
    float *col = pvx_ops_scratch(0, (size_t)(g.k * rows * g.ow));
    for (int64_t n = 0; n < g.n; n++) {
        float *yn = y->data + n * g.cout * plane;
        for (int64_t oh0 = 0; oh0 < g.oh; oh0 += rows) {
            ColJob j = {&g, x->data + n * g.cin * g.h * g.w, col, oh0, MIN(oh0 + rows, g.oh), bias,
                        yn};
            int64_t ncols = (j.oh1 - j.oh0) * g.ow;
            pvx_parallel_for(g.k, 4, im2col_rows, &j);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)g.cout, (int)ncols,
                        (int)g.k, 1.0f, w->data, (int)g.k, col, (int)ncols,
                        bias != NULL ? 1.0f : 0.0f, yn + oh0 * g.ow, (int)plane);
        }
    }
    return relu ? relu_in_place(y) : y;
}

PvxTensor *pvx_conv2d_forward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                              const PvxConv2dParams *p, PvxTensor *out, GError **error)
{
    return conv2d_forward(x, w, b, p, out, FALSE, error);
}

PvxTensor *pvx_conv2d_relu_forward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                                   const PvxConv2dParams *p, PvxTensor *out, GError **error)
{
    return conv2d_forward(x, w, b, p, out, TRUE, error);
}

typedef struct {
    const Geom *g;
    const float *dy;
    float *db;
} BiasGradJob;

static void bias_grad_channels(int64_t c0, int64_t c1, void *data)
{
    const BiasGradJob *j = data;
    int64_t plane = j->g->oh * j->g->ow;
    for (int64_t co = c0; co < c1; co++) {
        double s = 0.0;
        for (int64_t n = 0; n < j->g->n; n++)
            s += pvx_ops_plane_sum(j->dy + (n * j->g->cout + co) * plane, plane);
        j->db[co] += (float)s;
    }
}

/* pvx_conv2d_backward, and with @relu pvx_conv2d_relu_backward. */
static gboolean conv_backward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *dy,
                              const PvxConv2dParams *p, PvxTensor **dx, PvxTensor *dw,
                              PvxTensor *db, gboolean relu, GError **error)
{
    g_return_val_if_fail(x != NULL && w != NULL && dy != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    Geom g;
    if (!pvx_conv_geometry(x, w, NULL, p, 1, &g, error))
        return FALSE;
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
    int64_t plane = g.oh * g.ow, in_plane = g.h * g.w;

    gboolean direct_dw = dw != NULL && use_direct(&g);
    /* Winograd's fused backward (both gradients, padding 1) sums the bias gradient itself. */
    PvxWinograd wg;
    gboolean winograd = use_winograd(&g, FALSE, &wg);
    gboolean fused = winograd && dw != NULL && dx != NULL && g.ph == 1 && g.pw == 1 &&
                     g.oh == g.h && g.ow == g.w;
    if (fused) {
        pvx_winograd_backward(&wg, x->data, w->data, dy->data, relu ? x->data : NULL, (*dx)->data,
                              dw->data, db != NULL ? db->data : NULL);
        return TRUE;
    }
    if (db != NULL && !direct_dw) {
        BiasGradJob bj = {&g, dy->data, db->data};
        pvx_parallel_for(g.cout, 8, bias_grad_channels, &bj);
    }
    if (direct_dw) {
        DirectJob j = {.dy = dy->data, .dw = dw->data, .db = db != NULL ? db->data : NULL};
        direct_begin(&j, &g, x->data);
        pvx_parallel_for(g.cout, 1, direct_weight_grad_channels, &j);
        dw = NULL; /* done; the input gradient, if wanted, still goes below */
    }
    if (dw == NULL && dx == NULL)
        return TRUE;

    if (winograd) {
        if (dw != NULL)
            pvx_winograd_weight_grad(&wg, x->data, dy->data, dw->data);
        if (dx != NULL) {
            /* dx = conv(dy, w rotated and transposed) with padding 2 - pad: same output size. */
            PvxWinograd t = pvx_winograd_input_grad(&wg);
            pvx_winograd_forward(&t, dy->data, w->data, TRUE, NULL, relu ? x->data : NULL, FALSE,
                                 (*dx)->data);
        }
        return TRUE;
    }

    if (g.pointwise) {
        for (int64_t n = 0; n < g.n; n++) {
            const float *xn = x->data + n * g.cin * in_plane;
            const float *dyn = dy->data + n * g.cout * plane;
            if (dw != NULL)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)g.cout, (int)g.cin,
                            (int)plane, 1.0f, dyn, (int)plane, xn, (int)plane, 1.0f, dw->data,
                            (int)g.cin);
            if (dx != NULL)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)g.cin, (int)plane,
                            (int)g.cout, 1.0f, w->data, (int)g.cin, dyn, (int)plane, 0.0f,
                            (*dx)->data + n * g.cin * in_plane, (int)plane);
        }
        if (dx != NULL && relu)
            pvx_ops_relu_gate((*dx)->data, x->data, pvx_tensor_numel(x));
        return TRUE;
    }

    int64_t rows = chunk_rows(&g);
    float *col = dw != NULL ? pvx_ops_scratch(0, (size_t)(g.k * rows * g.ow)) : NULL;
    float *dcol = dx != NULL ? pvx_ops_scratch(1, (size_t)(g.k * rows * g.ow)) : NULL;
    for (int64_t n = 0; n < g.n; n++) {
        const float *xn = x->data + n * g.cin * in_plane;
        const float *dyn = dy->data + n * g.cout * plane;
        for (int64_t oh0 = 0; oh0 < g.oh; oh0 += rows) {
            int64_t oh1 = MIN(oh0 + rows, g.oh);
            int64_t ncols = (oh1 - oh0) * g.ow;
            if (dw != NULL) {
                ColJob j = {&g, xn, col, oh0, oh1, NULL, NULL};
                pvx_parallel_for(g.k, 4, im2col_rows, &j);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)g.cout, (int)g.k,
                            (int)ncols, 1.0f, dyn + oh0 * g.ow, (int)plane, col, (int)ncols, 1.0f,
                            dw->data, (int)g.k);
            }
            if (dx != NULL) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)g.k, (int)ncols,
                            (int)g.cout, 1.0f, w->data, (int)g.k, dyn + oh0 * g.ow, (int)plane,
                            0.0f, dcol, (int)ncols);
                ColJob j = {&g, (*dx)->data + n * g.cin * in_plane, dcol, oh0, oh1, NULL, NULL};
                pvx_parallel_for(g.cin, 1, col2im_channels, &j);
            }
        }
    }
    if (dx != NULL && relu)
        pvx_ops_relu_gate((*dx)->data, x->data, pvx_tensor_numel(x));
    return TRUE;
}

gboolean pvx_conv2d_backward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *dy,
                             const PvxConv2dParams *p, PvxTensor **dx, PvxTensor *dw, PvxTensor *db,
                             GError **error)
{
    return conv_backward(x, w, dy, p, dx, dw, db, FALSE, error);
}

gboolean pvx_conv2d_relu_backward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *dy,
                                  const PvxConv2dParams *p, PvxTensor **dx, PvxTensor *dw,
                                  PvxTensor *db, GError **error)
{
    return conv_backward(x, w, dy, p, dx, dw, db, TRUE, error);
}
