/* pvx — what the sparse ops (sparse.c) share with their vector kernels (sparse_kernels.c); not
 * installed. */
#pragma once

#include <glib.h>
#include <stdint.h>

/* Non-zeros of a weight matrix [rows, cols] in CSR order. */
typedef struct {
    int64_t rows;
    const int64_t *rowptr; /* rows + 1 */
    const float *val;      /* nnz */
} PvxSparseRows;

/* A band of output rows of one image of a direct sparse convolution (see sparse.c):
 *   y[co, i] = bias[co] + Σ_j val[j] · x[off[j] + i]   for i over the "extended" output positions
 *   i = oy * wq + ox, ox < wq; positions with ox ≥ ow are computed and dropped.
 * The non-zeros of row co that read input channel block cb are [seg[co·(ncb+1) + cb],
 * seg[co·(ncb+1) + cb + 1]). Tiles of tile positions: [t0, t1) of them; @part is the calling
 * thread's scratch of cout · tile floats for the partial sums. */
typedef struct {
    int64_t cout, ncb;
    const int64_t *seg; /* [cout][ncb + 1] */
    const float *val;   /* nnz */
    const int32_t *off; /* nnz: where each weight reads, relative to position 0 of x (a
                         * multiple of 16: the loads are aligned) */
    const float *bias;  /* nullable */
    const float *x;     /* the band's padded, phase-split input (all shifted copies), 64-byte
                         * aligned, with slack after each copy */
    float *y;           /* output row 0 of the band in plane 0: planes [cout] of yplane floats */
    int64_t yplane;     /* floats per output plane */
    int64_t oh, ow, wq; /* rows of the band, output width, phase plane width */
} PvxSparseConvJob;

/* y[n, o] = bias[o] + Σ_j val[j] · xt[col[j], n] for n < batch, over rows [r0, r1). @xt is x
 * transposed, [cols][ldx] with ldx ≥ batch. y is [batch, rows]. */
typedef struct {
    PvxSparseRows w;
    const int32_t *col;
    const float *bias; /* nullable */
    const float *xt;
    int64_t ldx, batch;
    float *y;
} PvxSparseLinearJob;

/* The kernels for the best instruction set this CPU has (AVX-512, AVX2+FMA or SSE2). */
typedef struct {
    const char *isa;
    int64_t tile; /* conv output positions per tile */
    void (*conv_tiles)(const PvxSparseConvJob *j, int64_t t0, int64_t t1, float *part);
    void (*linear_rows)(const PvxSparseLinearJob *j, int64_t r0, int64_t r1);
} PvxSparseKernels;

const PvxSparseKernels *pvx_sparse_kernels(void);
