/* pvx — conv2d and linear forward on weights compressed to their non-zeros.
 *
 * Weights are kept in CSR: for each output channel (conv) or output feature (linear) the values
 * of its non-zero weights and their column k = (ci·KH + kh)·KW + kw (conv) or input feature
 * (linear). A weight that is exactly 0 — pruned or not — is skipped.
 *
 * Convolution: direct sparse convolution (Park et al. 2017, "Faster CNNs with direct sparse
 * convolutions"), no im2col. Per image the input is copied once into a zero-padded buffer; with
 * stride s > 1 each padded plane is further split into its s×s phases (rows ≡ py, columns ≡ px
 * mod s), which turns every strided (or dilated) tap into a stride-1 shift inside one phase
 * plane. In that buffer, with wq the width of a phase plane, the output at (oy, ox) is
 *     y[co][oy][ox] = b[co] + Σ_{non-zero w[co, ci, kh, kw]} w · xq[off(ci, kh, kw) + oy·wq + ox]
 * so each weight is one FMA over a run of consecutive "extended" positions i = oy·wq + ox, as
 * long as the positions ox in [ow, wq) are computed and then dropped.
 *
 * Alignment: phase rows are padded to a multiple of 16 floats and the band is stored nshift
 * times (nshift = the kernel's distinct column shifts, 3 for 3×3), copy s shifted left by s
 * floats, so that every tap reads its copy at a 64-byte aligned address: the kernel is bound by
 * its loads, and an unaligned 64-byte load crosses two cache lines (measured: 15–25 % faster at
 * CR 8–32 than one unaligned copy).
 *
 * Loops, outermost first:
 *   image → band of output rows: the input rows the band reads (all copies) are padded into a
 *     buffer of at most SPARSE_BAND_BYTES, which stays in L2, so the padded copy never goes out
 *     to memory (VGG's 224×224 layers are bound by memory traffic at high sparsity);
 *   tile of 8 vectors of extended positions;
 *   block of input channels (SPARSE_BLOCK_BYTES of input under the tile);
 *   output channel: its partial sums for the tile are loaded into 8 vector registers, its
 *     non-zeros in the block each cost one broadcast, 8 aligned loads and 8 FMAs
 *     (sparse_kernel.inc), and the sums are stored back; after the last block the positions
 *     that are outputs are copied into y.
 * Threads: with at least two bands (images × bands) per thread, each thread pads whole bands into
 * its own buffer and runs all their tiles, taking bands from a shared counter (one fork-join per
 * layer). A fork-join per band instead (two per band: padding, tiles) cost VGG-16 at CR 32 a third
 * of the second thread's gain: the bands are small (tens of µs of work at high sparsity) and
 * every join waits for the slower thread. With fewer bands (batch 1, small images) the threads
 * share each band's padding and tiles.
 * Measured on this machine this runs at about 25·10⁹ FMA lanes/s per core (≈45 % of the
 * AVX-512 FMA peak).
 * An output channel without non-zeros (a pruned filter) costs its bias fill and copy; an input
 * channel without non-zeros (structured pruning of the layer below) is never read, and its plane
 * is only zeroed, not copied.
 *
 * Linear: x is transposed once to [in][batch] so that each non-zero w[o][i] is one FMA over the
 * batch (a vector of up to 16 images); threads over output rows.
 */
#include <string.h>

#include "ops_private.h"
#include "sparse_private.h"

struct _PvxSparseWeights {
    PvxTensor shape; /* the dense weight's shape; no data (for the shape checks) */
    int64_t rows, cols, nnz;
    int64_t *rowptr; /* rows + 1 */
    int32_t *col;    /* nnz */
    float *val;      /* nnz */
    uint8_t *used;   /* conv: [Cin], 1 where some non-zero reads input channel ci */
};

PvxSparseWeights *pvx_sparse_weights_new(const PvxTensor *w)
{
    g_return_val_if_fail(w != NULL, NULL);
    g_return_val_if_fail((w->ndim == 2 || w->ndim == 4) && pvx_tensor_is_contiguous(w), NULL);
    int64_t numel = pvx_tensor_numel(w);
    g_return_val_if_fail(w->shape[0] > 0 && numel / w->shape[0] <= G_MAXINT32, NULL);
    PvxSparseWeights *s = g_new0(PvxSparseWeights, 1);
    s->shape.ndim = w->ndim;
    int64_t stride = 1;
    for (int d = w->ndim - 1; d >= 0; d--) {
        s->shape.shape[d] = w->shape[d];
        s->shape.stride[d] = stride;
        stride *= w->shape[d];
    }
    s->shape.refcount = 1;
    s->rows = w->shape[0];
    s->cols = numel / s->rows;
    const float *src = w->data;
    for (int64_t i = 0; i < numel; i++)
        s->nnz += src[i] != 0.0f;
    s->rowptr = g_new(int64_t, s->rows + 1);
    s->col = g_new(int32_t, MAX(s->nnz, 1));
    s->val = g_new(float, MAX(s->nnz, 1));
    int64_t k = 0;
    for (int64_t r = 0; r < s->rows; r++) {
        s->rowptr[r] = k;
        const float *row = src + r * s->cols;
        for (int64_t c = 0; c < s->cols; c++) {
            if (row[c] != 0.0f) {
                s->col[k] = (int32_t)c;
                s->val[k++] = row[c];
            }
        }
    }
    s->rowptr[s->rows] = k;
    if (w->ndim == 4) {
        int64_t taps = w->shape[2] * w->shape[3];
        s->used = g_new0(uint8_t, w->shape[1]);
        for (int64_t j = 0; j < s->nnz; j++)
            s->used[s->col[j] / taps] = 1;
    }
    return s;
}

void pvx_sparse_weights_free(PvxSparseWeights *s)
{
    if (s == NULL)
        return;
    g_free(s->rowptr);
    g_free(s->col);
    g_free(s->val);
    g_free(s->used);
    g_free(s);
}

int64_t pvx_sparse_weights_nnz(const PvxSparseWeights *s)
{
    g_return_val_if_fail(s != NULL, 0);
    return s->nnz;
}

double pvx_sparse_weights_density(const PvxSparseWeights *s)
{
    g_return_val_if_fail(s != NULL, 0.0);
    return (double)s->nnz / (double)(s->rows * s->cols);
}

const PvxTensor *pvx_sparse_weights_shape(const PvxSparseWeights *s)
{
    g_return_val_if_fail(s != NULL, NULL);
    return &s->shape;
}

/* ---- convolution ---------------------------------------------------------------------------- */

/* A band of the padded, phase-split input of one image: phase rows [u0, u0 + rows) of each of
 * the Cin·sh·sw phase planes, each stored as rows × wq (wq a multiple of 16 floats). Copy s of
 * the band (s = 1 .. nshift-1, copy_len floats apart) is the band shifted left by s floats, so
 * that every tap's loads are 64-byte aligned (see the top comment). */
typedef struct {
    const PvxSparseWeights *sw;
    const float *x; /* image: [Cin, H, W] */
    float *xq;      /* nshift × ([Cin][sh][sw][rows][wq] + slack) */
    int64_t h, w, ph, pw, sh, sww, wq;
    int64_t u0, rows;
    int64_t nshift, copy_len;
} PadJob;

/* Range over input channels: writes the band of the sh·sw phase planes of each, in every copy. */
static void pad_channels(int64_t c0, int64_t c1, void *data)
{
    const PadJob *j = data;
    int64_t planeb = j->rows * j->wq, chan = j->sh * j->sww * planeb;
    for (int64_t ci = c0; ci < c1; ci++) {
        float *dst = j->xq + ci * chan;
        if (!j->sw->used[ci]) {
            for (int64_t s = 0; s < j->nshift; s++)
                memset(dst + s * j->copy_len, 0, (size_t)chan * sizeof(float));
            continue;
        }
        const float *src = j->x + ci * j->h * j->w;
        for (int64_t py = 0; py < j->sh; py++) {
            for (int64_t px = 0; px < j->sww; px++, dst += planeb) {
                /* Phase column v reads input column v·sw + px - pw: valid for v in [lo, hi). */
                int64_t c0v = px - j->pw;
                int64_t lo = c0v >= 0 ? 0 : (-c0v + j->sww - 1) / j->sww;
                int64_t hi = j->w - c0v <= 0 ? 0 : (j->w - c0v + j->sww - 1) / j->sww;
                hi = MIN(hi, j->wq);
                lo = MIN(lo, hi);
                for (int64_t r = 0; r < j->rows; r++) {
                    float *row = dst + r * j->wq;
                    int64_t iy = (j->u0 + r) * j->sh + py - j->ph;
                    if (iy < 0 || iy >= j->h || lo >= hi) {
                        memset(row, 0, (size_t)j->wq * sizeof(float));
                        continue;
                    }
                    const float *in = src + iy * j->w + c0v;
                    memset(row, 0, (size_t)lo * sizeof(float));
                    if (j->sww == 1) {
                        memcpy(row + lo, in + lo, (size_t)(hi - lo) * sizeof(float));
                    } else {
                        for (int64_t v = lo; v < hi; v++)
                            row[v] = in[v * j->sww];
                    }
                    memset(row + hi, 0, (size_t)(j->wq - hi) * sizeof(float));
                }
            }
        }
        /* The shifted copies, from this channel's own data only (another thread may be writing
         * the next channel): its last s floats are zero there, read only by dropped positions. */
        const float *c0p = j->xq + ci * chan;
        for (int64_t s = 1; s < j->nshift; s++) {
            float *cs = j->xq + s * j->copy_len + ci * chan;
            memcpy(cs, c0p + s, (size_t)(chan - s) * sizeof(float));
            memset(cs + chan - s, 0, (size_t)s * sizeof(float));
        }
    }
}

/* Bytes of input (all shifted copies) that one block of input channels may touch per tile:
 * the block's input stays in L2 (1 MiB per core there) while every output channel reads it.
 * Measured on VGG-16's layers (bench-sparse --layers): 64 KiB is 15 % faster than 16 KiB (L1:
 * then the blocks get so small that loading and storing the partial sums dominates at high
 * sparsity) and than 256 KiB. */
#define SPARSE_BLOCK_BYTES (64 << 10)
/* Bytes of padded input per band of output rows: what stays in L2 (1 MiB per core there). */
#define SPARSE_BAND_BYTES (512 << 10)

static void conv_tiles(int64_t t0, int64_t t1, void *data)
{
    const PvxSparseConvJob *j = data;
    const PvxSparseKernels *k = pvx_sparse_kernels();
    float *part = pvx_ops_scratch(1, (size_t)(j->cout * k->tile));
    k->conv_tiles(j, t0, t1, part);
}

/* The geometry both the forward and the automatic rule need. */
typedef struct {
    int64_t n, cin, h, w, cout, kh, kw, oh, ow;
    int64_t sh, sw, ph, pw, dh, dw;
    int64_t hq, wq, tiles; /* phase plane, tiles of extended positions per image */
} SparseGeom;

static gboolean sparse_geom(const PvxTensor *x, const PvxTensor *wshape, const PvxTensor *b,
                            const PvxConv2dParams *p, SparseGeom *g, GError **error)
{
    static const PvxConv2dParams defaults = {0};
    int64_t os[4];
    if (!pvx_conv2d_output_shape(x, wshape, b, p, os, error))
        return FALSE;
    if (p == NULL)
        p = &defaults;
    *g = (SparseGeom){.n = x->shape[0],
                      .cin = x->shape[1],
                      .h = x->shape[2],
                      .w = x->shape[3],
                      .cout = wshape->shape[0],
                      .kh = wshape->shape[2],
                      .kw = wshape->shape[3],
                      .oh = os[2],
                      .ow = os[3],
                      .sh = MAX(p->stride_h, 1),
                      .sw = MAX(p->stride_w, 1),
                      .ph = p->pad_h,
                      .pw = p->pad_w,
                      .dh = MAX(p->dilation_h, 1),
                      .dw = MAX(p->dilation_w, 1)};
    g->hq = (g->h + 2 * g->ph + g->sh - 1) / g->sh;
    /* Phase rows are padded to whole 64-byte lines: every load of the kernel is aligned. */
    g->wq = ((g->w + 2 * g->pw + g->sw - 1) / g->sw + 15) / 16 * 16;
    int64_t tile = pvx_sparse_kernels()->tile;
    g->tiles = (g->oh * g->wq + tile - 1) / tile;
    return TRUE;
}

/* One convolution's bands: (image, band of output rows) pairs, numbered n·nbands + band. */
typedef struct {
    const PvxSparseWeights *w;
    const float *x, *b;
    float *y;
    const SparseGeom *g;
    const int32_t *off;
    const int64_t *seg;
    int64_t ncb, band, rows, nbands, nshift, copy_len, nplanes, planeb;
    gint next; /* conv_bands: the next band to take */
} BandsJob;

/* The calling thread's band buffer, its slack after the planes zeroed (the pads never write it). */
static float *band_buffer(const BandsJob *j)
{
    float *xq = pvx_ops_scratch(0, (size_t)(j->nshift * j->copy_len));
    for (int64_t s = 0; s < j->nshift; s++)
        memset(xq + s * j->copy_len + j->nplanes * j->planeb, 0,
               (size_t)(j->copy_len - j->nplanes * j->planeb) * sizeof(float));
    return xq;
}

static PadJob band_pad_job(const BandsJob *j, float *xq, int64_t n, int64_t oy0)
{
    const SparseGeom *g = j->g;
    return (PadJob){j->w,      j->x + n * g->cin * g->h * g->w,
                    xq,        g->h,
                    g->w,      g->ph,
                    g->pw,     g->sh,
                    g->sw,     g->wq,
                    oy0,       j->rows,
                    j->nshift, j->copy_len};
}

static PvxSparseConvJob band_conv_job(const BandsJob *j, const float *xq, int64_t n, int64_t oy0)
{
    const SparseGeom *g = j->g;
    return (PvxSparseConvJob){.cout = g->cout,
                              .ncb = j->ncb,
                              .seg = j->seg,
                              .val = j->w->val,
                              .off = j->off,
                              .bias = j->b,
                              .x = xq,
                              .y = j->y + n * g->cout * g->oh * g->ow + oy0 * g->ow,
                              .yplane = g->oh * g->ow,
                              .oh = MIN(oy0 + j->band, g->oh) - oy0,
                              .ow = g->ow,
                              .wq = g->wq};
}

/* One part per thread: takes bands until none is left, padding each into the thread's own
 * buffer and running all its tiles. */
static void conv_bands(int64_t p0, int64_t p1, void *data)
{
    (void)p0, (void)p1;
    BandsJob *j = data;
    const PvxSparseKernels *k = pvx_sparse_kernels();
    float *xq = band_buffer(j);
    float *part = pvx_ops_scratch(1, (size_t)(j->g->cout * k->tile));
    int64_t items = j->g->n * j->nbands;
    for (;;) {
        int64_t i = g_atomic_int_add(&j->next, 1);
        if (i >= items)
            break;
        int64_t n = i / j->nbands, oy0 = (i % j->nbands) * j->band;
        PadJob pj = band_pad_job(j, xq, n, oy0);
        pad_channels(0, j->g->cin, &pj);
        PvxSparseConvJob cj = band_conv_job(j, xq, n, oy0);
        k->conv_tiles(&cj, 0, (cj.oh * j->g->wq + k->tile - 1) / k->tile, part);
    }
}

PvxTensor *pvx_conv2d_forward_sparse(const PvxTensor *x, const PvxSparseWeights *w,
                                     const PvxTensor *b, const PvxConv2dParams *p, PvxTensor *out,
                                     GError **error)
{
    g_return_val_if_fail(x != NULL && w != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (w->shape.ndim != 4) {
        g_autofree char *ws = pvx_tensor_shape_string(&w->shape);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "sparse conv2d: weight of shape %s is not a conv weight [Cout, Cin, KH, KW]",
                    ws);
        return NULL;
    }
    SparseGeom g;
    if (!sparse_geom(x, &w->shape, b, p, &g, error))
        return NULL;
    int64_t nplanes = g.cin * g.sh * g.sw;
    int64_t shape[4] = {g.n, g.cout, g.oh, g.ow};
    PvxTensor *y = pvx_ops_prepare_out(out, 4, shape, "conv2d output", error);
    if (y == NULL)
        return NULL;
    pvx_ops_threads_ensure();
    const PvxSparseKernels *k = pvx_sparse_kernels();

    /* Bands of output rows: the input rows a band reads (its phase rows plus the kernel's
     * reach), in all shifted copies, are padded into a buffer small enough to stay in L2 while
     * the band's tiles run, so the padded copy never goes out to memory. At least enough rows
     * for two tiles per thread. */
    int64_t khe = (g.kh - 1) * g.dh / g.sh + 1, kwe = (g.kw - 1) * g.dw / g.sw + 1;
    int64_t nshift = kwe;
    int64_t row_bytes = nshift * nplanes * g.wq * (int64_t)sizeof(float);
    int64_t band = SPARSE_BAND_BYTES / MAX(row_bytes, 1) - (khe - 1);
    int nt = pvx_num_threads();
    band = MAX(band, (2 * nt * k->tile + g.wq - 1) / g.wq);
    band = CLAMP(band, 1, g.oh);
    /* With at least two bands (images × bands per image) per thread, each thread pads and runs
     * whole bands into its own buffer, taking the next band as it finishes one: one fork-join
     * per layer, no serial phase, and a thread slowed by another process only takes fewer
     * bands. Else (batch 1, small images) the threads share each band's padding and tiles. */
    gboolean own_bands = nt > 1 && g.n * ((g.oh + band - 1) / band) >= 2 * (int64_t)nt;
    int64_t rows = band + khe - 1, planeb = rows * g.wq;
    /* Slack after the planes: the last tile runs up to a tile past the band's last row, and a
     * kernel row shift of up to wq (see the top comment: only dropped positions read it). */
    int64_t slack = g.wq + k->tile;
    int64_t copy_len = (nplanes * planeb + slack + 15) / 16 * 16;
    if (nshift * copy_len > G_MAXINT32 / 2) {
        g_autofree char *xs = pvx_tensor_shape_string(x);
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "sparse conv2d: input %s too large for 32-bit offsets", xs);
        pvx_tensor_unref(y);
        return NULL;
    }

    /* Where each non-zero reads, relative to the band's extended position 0: its column shift
     * picks the copy, the rest is a multiple of 16 floats. */
    int32_t *off = g_new(int32_t, MAX(w->nnz, 1));
    for (int64_t j = 0; j < w->nnz; j++) {
        int64_t c = w->col[j];
        int64_t ci = c / (g.kh * g.kw), ky = (c / g.kw) % g.kh, kx = c % g.kw;
        int64_t ty = ky * g.dh, tx = kx * g.dw;
        off[j] =
            (int32_t)((tx / g.sw) * copy_len +
                      ((ci * g.sh + ty % g.sh) * g.sw + tx % g.sw) * planeb + (ty / g.sh) * g.wq);
    }
    /* Input channel blocks: the floats of one channel a tile reads, over its phase planes and
     * copies. */
    int64_t touched = MIN(khe * k->tile, k->tile + (khe - 1) * g.wq) * g.sh * g.sw * nshift;
    int64_t cbs = CLAMP(SPARSE_BLOCK_BYTES / (int64_t)(sizeof(float) * touched), 1, g.cin);
    int64_t ncb = (g.cin + cbs - 1) / cbs, ns = ncb + 1, taps = g.kh * g.kw;
    int64_t *seg = g_new(int64_t, g.cout * ns);
    for (int64_t co = 0; co < g.cout; co++) {
        int64_t j = w->rowptr[co], end = w->rowptr[co + 1];
        for (int64_t cb = 0; cb < ncb; cb++) {
            while (j < end && w->col[j] / taps < cb * cbs)
                j++;
            seg[co * ns + cb] = j;
        }
        seg[co * ns + ncb] = end;
    }
    BandsJob bj = {.w = w,
                   .x = x->data,
                   .y = y->data,
                   .b = b != NULL ? b->data : NULL,
                   .g = &g,
                   .off = off,
                   .seg = seg,
                   .ncb = ncb,
                   .band = band,
                   .rows = rows,
                   .nbands = (g.oh + band - 1) / band,
                   .nshift = nshift,
                   .copy_len = copy_len,
                   .nplanes = nplanes,
                   .planeb = planeb,
                   .next = 0};
    if (own_bands) {
        pvx_parallel_for(nt, 1, conv_bands, &bj);
    } else {
        /* Few bands (batch 1, small images): the threads share each band's padding and tiles. */
        float *xq = band_buffer(&bj);
        for (int64_t n = 0; n < g.n; n++) {
            for (int64_t oy0 = 0; oy0 < g.oh; oy0 += band) {
                PadJob pj = band_pad_job(&bj, xq, n, oy0);
                pvx_parallel_for(g.cin, MAX(1, 16384 / MAX(nshift * planeb * g.sh * g.sw, 1)),
                                 pad_channels, &pj);
                PvxSparseConvJob cj = band_conv_job(&bj, xq, n, oy0);
                pvx_parallel_for((cj.oh * g.wq + k->tile - 1) / k->tile, 1, conv_tiles, &cj);
            }
        }
    }
    g_free(off);
    g_free(seg);
    return y;
}

/* ---- linear --------------------------------------------------------------------------------- */

static void linear_rows(int64_t r0, int64_t r1, void *data)
{
    pvx_sparse_kernels()->linear_rows(data, r0, r1);
}

typedef struct {
    const float *x;
    float *xt;
    int64_t n, in, ldx;
} TransposeJob;

static void transpose_cols(int64_t i0, int64_t i1, void *data)
{
    const TransposeJob *j = data;
    for (int64_t i = i0; i < i1; i++) {
        float *dst = j->xt + i * j->ldx;
        for (int64_t n = 0; n < j->n; n++)
            dst[n] = j->x[n * j->in + i];
        for (int64_t n = j->n; n < j->ldx; n++)
            dst[n] = 0.0f;
    }
}

PvxTensor *pvx_linear_forward_sparse(const PvxTensor *x, const PvxSparseWeights *w,
                                     const PvxTensor *b, PvxTensor *out, GError **error)
{
    g_return_val_if_fail(x != NULL && w != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (w->shape.ndim != 2) {
        g_autofree char *ws = pvx_tensor_shape_string(&w->shape);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "sparse linear: weight of shape %s is not a linear weight [out, in]", ws);
        return NULL;
    }
    if (!pvx_ops_check_tensor(x, 2, "linear input", error))
        return NULL;
    if (x->shape[1] != w->cols) {
        g_autofree char *xs = pvx_tensor_shape_string(x);
        g_autofree char *ws = pvx_tensor_shape_string(&w->shape);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "linear: input %s has %" G_GINT64_FORMAT
                    " features but weight %s expects %" G_GINT64_FORMAT,
                    xs, (gint64)x->shape[1], ws, (gint64)w->cols);
        return NULL;
    }
    if (b != NULL && !pvx_ops_check_shape(b, 1, &w->rows, "linear bias", error))
        return NULL;
    int64_t n = x->shape[0], in = w->cols;
    int64_t shape[2] = {n, w->rows};
    PvxTensor *y = pvx_ops_prepare_out(out, 2, shape, "linear output", error);
    if (y == NULL)
        return NULL;
    pvx_ops_threads_ensure();
    /* Rows of 16: a whole vector for every kernel, zeros past the batch. */
    int64_t ldx = (n + 15) / 16 * 16;
    float *xt = pvx_ops_scratch(0, (size_t)(in * ldx));
    TransposeJob tj = {x->data, xt, n, in, ldx};
    pvx_parallel_for(in, 1024, transpose_cols, &tj);
    PvxSparseLinearJob lj = {.w = {w->rows, w->rowptr, w->val},
                             .col = w->col,
                             .bias = b != NULL ? b->data : NULL,
                             .xt = xt,
                             .ldx = ldx,
                             .batch = n,
                             .y = y->data};
    pvx_parallel_for(w->rows, MAX(1, 65536 / MAX(w->nnz / w->rows * ldx, 1)), linear_rows, &lj);
    return y;
}

/* ---- the automatic choice ------------------------------------------------------------------- */

/* The cost model, in seconds of one core on the machine measured (AMD EPYC Zen 4, 2 cores, KVM;
 * bench-sparse --layers --threads 1 --cpu-time --batch 2, VGG-16's conv layers at CR 1…32,
 * fitted by relative least squares: docs/sparse.md). Both sides scale alike with the thread
 * count. Sparse conv: per weight non-zero and extended output position (one lane of one FMA),
 * per output channel and extended position (bias fill, partial sums, the copy into y), per
 * padded input element and shifted copy. Dense conv: per multiply-add of the direct
 * convolution — Winograd (it does 2.25× fewer; the constant of the fastest layer measured, so
 * the model never flatters sparse through the dense side), im2col with a deep (K ≥ 64) or a
 * shallow (K < 64: VGG's first layer) GEMM. The SSE2 kernels (no FMA, 4 lanes) are assumed 2.5×
 * slower per lane (not measured: this machine has AVX-512; AVX2 measured the same as AVX-512). */
#define SPARSE_S_PER_LANE 3.4e-11
#define SPARSE_S_PER_OUT_LANE 3.4e-10
#define SPARSE_S_PER_PAD 3.4e-10
#define SPARSE_SSE2_FACTOR 2.5
#define DENSE_S_PER_MAC_WINOGRAD 1.16e-11
#define DENSE_S_PER_MAC_IM2COL 2.6e-11
#define DENSE_S_PER_MAC_IM2COL_SHALLOW 4.5e-11
/* Linear: sparse per non-zero and 16-image chunk of the batch (CSR and gathers, bound by memory
 * bandwidth); dense per weight (streaming it) plus per multiply-add. */
#define SPARSE_S_PER_NNZ_LINEAR 8.9e-10
#define DENSE_S_PER_WEIGHT_LINEAR 4.8e-10
#define DENSE_S_PER_MAC_LINEAR 3.0e-11
/* The sparse path must be predicted this much faster: near the break-even point dense stays
 * (the model is within ~25 % of the measurements; VGG-16's 3×3 layers break even near density
 * 0.3 and the rule picks sparse from about 0.2). */
#define SPARSE_MARGIN 0.75

/* As conv.c's automatic choice (WINOGRAD_MIN_CHANNELS, WINOGRAD_MIN_TILES there). */
static gboolean dense_uses_winograd(const SparseGeom *g)
{
    if (g->kh != 3 || g->kw != 3 || g->sh != 1 || g->sw != 1 || g->dh != 1 || g->dw != 1)
        return FALSE;
    switch (pvx_ops_conv_algo()) {
    case PVX_CONV_ALGO_IM2COL:
        return FALSE;
    case PVX_CONV_ALGO_WINOGRAD:
        return TRUE;
    case PVX_CONV_ALGO_AUTO:
        break;
    }
    return g->cin >= 16 && g->cout >= 16 && g->n * ((g->oh + 1) / 2) * ((g->ow + 1) / 2) >= 96;
}

static PvxTensor shape_tensor(int ndim, const int64_t *shape)
{
    PvxTensor t = {.ndim = ndim, .refcount = 1};
    int64_t stride = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        t.shape[d] = shape[d];
        t.stride[d] = stride;
        stride *= shape[d];
    }
    return t;
}

/* The cost model's predictions, in seconds, of the sparse forward with @nnz non-zeros and of the
 * dense forward of the convolution @g describes. */
static double sparse_cost(const SparseGeom *g, int64_t nnz)
{
    const PvxSparseKernels *k = pvx_sparse_kernels();
    double lanes = (double)g->n * (double)g->tiles * (double)k->tile;
    double isa = g_str_equal(k->isa, "sse2") ? SPARSE_SSE2_FACTOR : 1.0;
    return isa * SPARSE_S_PER_LANE * (double)nnz * lanes +
           SPARSE_S_PER_OUT_LANE * (double)g->cout * lanes +
           SPARSE_S_PER_PAD * (double)(g->n * g->cin * g->sh * g->sw * g->hq * g->wq) *
               (double)((g->kw - 1) * g->dw / g->sw + 1);
}

static double dense_cost(const SparseGeom *g)
{
    int64_t depth = g->cin * g->kh * g->kw;
    double macs = (double)(g->n * g->cout * g->oh * g->ow) * (double)depth;
    return macs * (dense_uses_winograd(g) ? DENSE_S_PER_MAC_WINOGRAD
                   : depth >= 64          ? DENSE_S_PER_MAC_IM2COL
                                          : DENSE_S_PER_MAC_IM2COL_SHALLOW);
}

gboolean pvx_conv2d_sparse_pays(const int64_t x_shape[4], const int64_t w_shape[4],
                                const PvxConv2dParams *p, int64_t nnz)
{
    g_return_val_if_fail(x_shape != NULL && w_shape != NULL, FALSE);
    PvxTensor xs = shape_tensor(4, x_shape), ws = shape_tensor(4, w_shape);
    SparseGeom g;
    if (!sparse_geom(&xs, &ws, NULL, p, &g, NULL))
        return FALSE;
    return sparse_cost(&g, nnz) < SPARSE_MARGIN * dense_cost(&g);
}

gboolean pvx_linear_sparse_pays(const int64_t x_shape[2], const int64_t w_shape[2], int64_t nnz)
{
    g_return_val_if_fail(x_shape != NULL && w_shape != NULL, FALSE);
    if (x_shape[1] != w_shape[1])
        return FALSE;
    double chunks = (double)((x_shape[0] + 15) / 16);
    double weights = (double)(w_shape[0] * w_shape[1]);
    double sparse = SPARSE_S_PER_NNZ_LINEAR * (double)nnz * chunks;
    double dense =
        weights * (DENSE_S_PER_WEIGHT_LINEAR + DENSE_S_PER_MAC_LINEAR * (double)x_shape[0]);
    return sparse < SPARSE_MARGIN * dense;
}

/* ---- grouped convolution ------------------------------------------------------------------- */

/* The grouped weight [Cout, Cin/g, KH, KW] as the block-diagonal weight [Cout, Cin, KH, KW] of
 * the same convolution: output channel co's non-zeros move to the columns of its group's input
 * channels. The zeros outside the blocks are never stored, so the direct sparse convolution
 * runs the grouped convolution at the cost of its own non-zeros. (transfer full) */
static PvxSparseWeights *block_diagonal(const PvxSparseWeights *w, int64_t groups)
{
    PvxSparseWeights *s = g_new0(PvxSparseWeights, 1);
    s->shape = w->shape;
    s->shape.shape[1] = w->shape.shape[1] * groups;
    int64_t stride = 1;
    for (int d = 3; d >= 0; d--) {
        s->shape.stride[d] = stride;
        stride *= s->shape.shape[d];
    }
    s->rows = w->rows;
    s->cols = w->cols * groups;
    s->nnz = w->nnz;
    s->rowptr = g_memdup2(w->rowptr, (gsize)(w->rows + 1) * sizeof(int64_t));
    s->col = g_new(int32_t, MAX(w->nnz, 1));
    s->val = g_memdup2(w->val, (gsize)MAX(w->nnz, 1) * sizeof(float));
    int64_t cout_g = w->rows / groups, taps = w->shape.shape[2] * w->shape.shape[3];
    s->used = g_new0(uint8_t, s->shape.shape[1]);
    for (int64_t co = 0; co < w->rows; co++) {
        int64_t shift = co / cout_g * w->cols;
        for (int64_t j = w->rowptr[co]; j < w->rowptr[co + 1]; j++) {
            s->col[j] = (int32_t)(w->col[j] + shift);
            s->used[s->col[j] / taps] = 1;
        }
    }
    return s;
}

/* FALSE + error (PVX_ERROR_SHAPE naming both shapes) unless @w_shape is a conv weight with
 * @groups groups for @x_shape's channels. */
static gboolean check_grouped(const int64_t *x_shape, const PvxTensor *w_shape, int groups,
                              GError **error)
{
    if (groups < 1) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "sparse conv2d: groups must be at least 1, got %d", groups);
        return FALSE;
    }
    if (w_shape->ndim != 4 || w_shape->shape[0] % groups != 0 ||
        w_shape->shape[1] * groups != x_shape[1] ||
        x_shape[1] * w_shape->shape[2] * w_shape->shape[3] > G_MAXINT32) {
        g_autofree char *xs = pvx_shape_string(4, x_shape);
        g_autofree char *ws = pvx_tensor_shape_string(w_shape);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "sparse conv2d with %d groups: input %s and weight %s do not fit (the weight "
                    "must be [Cout, Cin/groups, KH, KW], Cout a multiple of groups)",
                    groups, xs, ws);
        return FALSE;
    }
    return TRUE;
}

PvxTensor *pvx_conv2d_grouped_forward_sparse(const PvxTensor *x, const PvxSparseWeights *w,
                                             const PvxTensor *b, const PvxConv2dParams *p,
                                             int groups, PvxTensor *out, GError **error)
{
    g_return_val_if_fail(x != NULL && w != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (groups == 1)
        return pvx_conv2d_forward_sparse(x, w, b, p, out, error);
    if (!pvx_ops_check_tensor(x, 4, "conv2d input", error) ||
        !check_grouped(x->shape, &w->shape, groups, error))
        return NULL;
    g_autoptr(PvxSparseWeights) full = block_diagonal(w, groups);
    return pvx_conv2d_forward_sparse(x, full, b, p, out, error);
}

gboolean pvx_conv2d_grouped_sparse_pays(const int64_t x_shape[4], const int64_t w_shape[4],
                                        const PvxConv2dParams *p, int groups, int64_t nnz)
{
    g_return_val_if_fail(x_shape != NULL && w_shape != NULL, FALSE);
    if (groups == 1)
        return pvx_conv2d_sparse_pays(x_shape, w_shape, p, nnz);
    PvxTensor ws = shape_tensor(4, w_shape);
    if (!check_grouped(x_shape, &ws, groups, NULL))
        return FALSE;
    if (w_shape[1] == 1) /* depthwise: never (see ops.h) */
        return FALSE;
    int64_t full_shape[4] = {w_shape[0], x_shape[1], w_shape[2], w_shape[3]};
    PvxTensor xs = shape_tensor(4, x_shape), fs = shape_tensor(4, full_shape);
    SparseGeom g;
    if (!sparse_geom(&xs, &fs, NULL, p, &g, NULL))
        return FALSE;
    /* The dense side runs group by group: one group's convolution, groups times. */
    SparseGeom dg = g;
    dg.cin = x_shape[1] / groups;
    dg.cout = w_shape[0] / groups;
    return sparse_cost(&g, nnz) < SPARSE_MARGIN * (double)groups * dense_cost(&dg);
}
