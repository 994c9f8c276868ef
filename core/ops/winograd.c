/* pvx — 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3).
 *
 * Each 2×2 output tile is computed from a 4×4 input tile d and the 3×3 kernel g as
 *     y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
 * with the 16 products of the bracket summed over input channels — for each of the 16
 * components e that sum is a matrix product:
 *     M[e][Cout, T] = U[e][Cout, Cin] · V[e][Cin, T]
 * where U = G g Gᵀ (weights), V = Bᵀ d B (input tiles) and T counts tiles. This does 16 products
 * per 4 outputs instead of 36: 2.25× fewer flops than im2col, and the GEMMs run on OpenBLAS.
 * The transforms only add, subtract and halve, but the products are of transformed values
 * larger than the originals: measured against float64 PyTorch the error is about twice
 * im2col's (at most 5e-5 relative in the reference tests, whose limit is 1e-4). F(4×4, 3×3)
 * would do 1.8× fewer products again, but its larger transform constants are known to raise the
 * error several-fold (not tried here), which would leave no margin under 1e-4.
 *
 * Tiles of all images are processed together, in blocks of whole tile rows ("tile row" = one
 * image n, one tile row ty) sized so that a block's V and M (16·(Cin+Cout)·Tb floats) stay in
 * the last-level cache between the transforms and the GEMMs, while the GEMMs stay large.
 *
 * Backward uses the same machinery:
 *   input gradient: dx = conv(dy, w') with w'[ci][co] = w[co][ci] rotated by 180°, padding
 *     (2 - pad): a forward of the same kind with the weights read transposed and flipped;
 *   weight gradient: dL/dU = Σ_tiles (A dy Aᵀ) ⊙ V, i.e. 16 GEMMs
 *     Macc[e][Cout, Cin] += Dy[e][Cout, Tb] · V[e][Cin, Tb]ᵀ over all blocks, then
 *     dw += Gᵀ Macc G.
 *
 * Threads: in the forward each of pvx's pool threads takes whole blocks on its own — transform,
 * 16 GEMMs with OpenBLAS held to one thread (pvx_ops_blas_serial_begin), inverse transform — so
 * the block stays in that core's caches and no thread waits for another between the steps
 * (alternating pool steps with OpenBLAS-threaded GEMMs measured 1.3–1.8× slower: OpenBLAS's
 * idle threads busy-wait against the pool's). The weight gradient gives each thread whole rows
 * of the 16 components instead, so that no two threads add into the same sums.
 */
#include <cblas.h>
#include <string.h>

#include "ops-private.h"

#define NE 16 /* transformed tile components: 4 × 4 */

/* Bytes of one thread's V and M (or Dy) per block that the tile blocking aims for, and the
 * fewest tiles per block (below it the GEMMs get thin; with 256 or more input channels, OpenBLAS's
 * repacking of U for every GEMM wants still more). Measured on VGG-16's layers. */
#define FORWARD_BLOCK_BYTES (2 << 20)
#define FORWARD_MIN_TILES 256
#define FORWARD_MIN_TILES_WIDE 512
#define WGRAD_BLOCK_BYTES (4 << 20)
#define WGRAD_MIN_TILES 256

/* Scratch slots (see pvx_ops_scratch, per thread): the calling thread holds U (or the weight
 * gradient's sums); every thread running blocks holds its own V and M (or Dy), and row buffers
 * for the transforms. */
enum { SLOT_U = 2, SLOT_V = 3, SLOT_M = 4, SLOT_ROWS = 5 };

/* What every thread reads: the convolution, its tiling and the shared buffers. */
typedef struct {
    const PvxWinograd *c;
    int64_t th, tw;    /* tiles per image, vertically and horizontally */
    int64_t rows;      /* tile rows in all: r = n * th + ty */
    int64_t per;       /* tile rows per block */
    int64_t nblocks;
    gint next;         /* next block to take (forward: blocks are shared out dynamically) */
    const float *x;    /* forward input / weight-grad input */
    const float *w;    /* forward: weights */
    gboolean flip;     /* forward: w is [cin, cout, 3, 3] and is applied rotated (see top) */
    const float *bias; /* forward: nullable */
    float *u;          /* transformed weights [16][cout][cin] / weight-grad sums */
    float *out;        /* forward output / weight-grad dw */
    const float *dy;   /* weight grad: output gradient */
} Job;

/* One block of tile rows [r0, r1) (tb tiles) as one thread sees it; v and m hold components
 * [e0, e0 + ne) of its V [ne][cin][tb] and M or Dy [ne][cout][tb]. */
typedef struct {
    int64_t r0, r1, tb;
    int e0, ne;
    float *v, *m;
} Block;

/* ---- weights ------------------------------------------------------------------------------- */

/* U[e][co][ci] = (G g Gᵀ)[e], G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]. Range over co. Works on chunks
 * of WCHUNK input channels in local arrays, component-major, so that the arithmetic runs over
 * unit-stride channel vectors and each component is written as one contiguous run. */
#define WCHUNK 64
static void weights_transform(int64_t co0, int64_t co1, void *data)
{
    const Job *j = data;
    int64_t cin = j->c->cin, cout = j->c->cout, plane = cin * cout;
    float g[9][WCHUNK], t[4][3][WCHUNK], u[NE][WCHUNK];
    for (int64_t co = co0; co < co1; co++) {
        for (int64_t c0 = 0; c0 < cin; c0 += WCHUNK) {
            int64_t nc = MIN(WCHUNK, cin - c0);
            for (int64_t k = 0; k < nc; k++) {
                const float *s = j->flip ? j->w + ((c0 + k) * cout + co) * 9
                                         : j->w + (co * cin + c0 + k) * 9;
                for (int q = 0; q < 9; q++)
                    g[q][k] = s[j->flip ? 8 - q : q];
            }
            for (int c = 0; c < 3; c++) {
                for (int64_t k = 0; k < nc; k++) {
                    t[0][c][k] = g[c][k];
                    t[1][c][k] = 0.5f * (g[c][k] + g[3 + c][k] + g[6 + c][k]);
                    t[2][c][k] = 0.5f * (g[c][k] - g[3 + c][k] + g[6 + c][k]);
                    t[3][c][k] = g[6 + c][k];
                }
            }
            for (int r = 0; r < 4; r++) {
                for (int64_t k = 0; k < nc; k++) {
                    u[4 * r + 0][k] = t[r][0][k];
                    u[4 * r + 1][k] = 0.5f * (t[r][0][k] + t[r][1][k] + t[r][2][k]);
                    u[4 * r + 2][k] = 0.5f * (t[r][0][k] - t[r][1][k] + t[r][2][k]);
                    u[4 * r + 3][k] = t[r][2][k];
                }
            }
            for (int e = 0; e < NE; e++)
                memcpy(j->u + e * plane + co * cin + c0, u[e], (size_t)nc * sizeof(float));
        }
    }
}

/* ---- input tiles --------------------------------------------------------------------------- */

/* Copies input row iy of @plane into dst[0, len) shifted by pad_w columns, zero outside. */
static void load_row(const PvxWinograd *c, const float *plane, int64_t iy, int64_t len,
                     float *dst)
{
    if (iy < 0 || iy >= c->h) {
        memset(dst, 0, (size_t)len * sizeof(float));
        return;
    }
    const float *row = plane + iy * c->w;
    int64_t lo = MAX(c->pw, 0), hi = MIN(c->pw + c->w, len); /* dst[k] = row[k - pw] */
    if (lo >= hi) {
        memset(dst, 0, (size_t)len * sizeof(float));
        return;
    }
    memset(dst, 0, (size_t)lo * sizeof(float));
    memcpy(dst + lo, row + (lo - c->pw), (size_t)(hi - lo) * sizeof(float));
    memset(dst + hi, 0, (size_t)(len - hi) * sizeof(float));
}

/* V[e][ci][t] = (Bᵀ d B)[e] for the block's tiles, Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0;
 * 0 1 0 -1], components e in [b->e0, b->e0 + b->ne) (whole rows of 4). Rows first (whole
 * padded rows at once, so that the loops are unit-stride and vectorise), then columns on the
 * rows split into even and odd columns. */
static void input_transform(const Job *j, const Block *b)
{
    const PvxWinograd *c = j->c;
    int64_t tw = j->tw, len = 2 * tw + 2, half = tw + 1;
    float *buf = pvx_ops_scratch(SLOT_ROWS, (size_t)(4 * len + 8 * half));
    float *d[4] = { buf, buf + len, buf + 2 * len, buf + 3 * len };
    float *ev = buf + 4 * len, *od = ev + 4 * half; /* [4][half] each */
    int i0 = b->e0 / 4, i1 = (b->e0 + b->ne) / 4;
    int64_t stride = c->cin * b->tb;
    for (int64_t ci = 0; ci < c->cin; ci++) {
        for (int64_t r = b->r0; r < b->r1; r++) {
            int64_t n = r / j->th, ty = r % j->th;
            const float *plane = j->x + (n * c->cin + ci) * c->h * c->w;
            for (int k = 0; k < 4; k++)
                load_row(c, plane, 2 * ty - c->ph + k, len, d[k]);
            for (int64_t k = 0; k < half; k++) {
                float a0 = d[0][2 * k], a1 = d[1][2 * k], a2 = d[2][2 * k], a3 = d[3][2 * k];
                float b0 = d[0][2 * k + 1], b1 = d[1][2 * k + 1], b2 = d[2][2 * k + 1],
                      b3 = d[3][2 * k + 1];
                ev[k] = a0 - a2;
                ev[half + k] = a1 + a2;
                ev[2 * half + k] = a2 - a1;
                ev[3 * half + k] = a1 - a3;
                od[k] = b0 - b2;
                od[half + k] = b1 + b2;
                od[2 * half + k] = b2 - b1;
                od[3 * half + k] = b1 - b3;
            }
            float *dst = b->v + ci * b->tb + (r - b->r0) * tw;
            for (int i = i0; i < i1; i++) {
                const float *e = ev + i * half, *o = od + i * half;
                float *v0 = dst + (4 * i - b->e0) * stride, *v1 = v0 + stride, *v2 = v1 + stride,
                      *v3 = v2 + stride;
                for (int64_t t = 0; t < tw; t++) {
                    v0[t] = e[t] - e[t + 1];
                    v1[t] = o[t] + e[t + 1];
                    v2[t] = e[t + 1] - o[t];
                    v3[t] = o[t] - o[t + 1];
                }
            }
        }
    }
}

/* ---- output tiles -------------------------------------------------------------------------- */

/* y = Aᵀ m A (+ bias), Aᵀ = [1 1 1 0; 0 1 -1 -1], written into the output tiles that exist. */
static void output_transform(const Job *j, const Block *b)
{
    const PvxWinograd *c = j->c;
    int64_t tw = j->tw, stride = c->cout * b->tb;
    float *buf = pvx_ops_scratch(SLOT_ROWS, (size_t)(8 * tw));
    float *s0 = buf, *s1 = buf + 4 * tw; /* [4][tw]: rows of Aᵀ m */
    int64_t full = c->ow / 2;            /* tiles whose two columns both exist */
    for (int64_t co = 0; co < c->cout; co++) {
        float bias = j->bias != NULL ? j->bias[co] : 0.0f;
        for (int64_t r = b->r0; r < b->r1; r++) {
            int64_t n = r / j->th, ty = r % j->th;
            const float *m = b->m + co * b->tb + (r - b->r0) * tw;
            for (int col = 0; col < 4; col++) {
                const float *m0 = m + col * stride, *m1 = m0 + 4 * stride,
                            *m2 = m1 + 4 * stride, *m3 = m2 + 4 * stride;
                float *a = s0 + col * tw, *z = s1 + col * tw;
                for (int64_t t = 0; t < tw; t++) {
                    a[t] = m0[t] + m1[t] + m2[t];
                    z[t] = m1[t] - m2[t] - m3[t];
                }
            }
            float *plane = j->out + (n * c->cout + co) * c->oh * c->ow;
            for (int row = 0; row < 2; row++) {
                int64_t oy = 2 * ty + row;
                if (oy >= c->oh)
                    break;
                const float *q = row == 0 ? s0 : s1;
                const float *q0 = q, *q1 = q + tw, *q2 = q + 2 * tw, *q3 = q + 3 * tw;
                float *dst = plane + oy * c->ow;
                for (int64_t t = 0; t < full; t++) {
                    dst[2 * t] = q0[t] + q1[t] + q2[t] + bias;
                    dst[2 * t + 1] = q1[t] - q2[t] - q3[t] + bias;
                }
                if (full < tw)
                    dst[2 * full] = q0[full] + q1[full] + q2[full] + bias;
            }
        }
    }
}

/* ---- output gradient tiles (weight gradient) ----------------------------------------------- */

/* Dy[e][co][t] = (A dy Aᵀ)[e] for the 2×2 tile of dy (zero where the output does not exist),
 * A = [1 0; 1 1; 1 -1; 0 -1], components e in [b->e0, b->e0 + b->ne) (whole rows of 4). */
static void grad_transform(const Job *j, const Block *b)
{
    const PvxWinograd *c = j->c;
    int64_t tw = j->tw, stride = c->cout * b->tb, full = c->ow / 2;
    int i0 = b->e0 / 4, i1 = (b->e0 + b->ne) / 4;
    float *buf = pvx_ops_scratch(SLOT_ROWS, (size_t)(12 * tw));
    float *e0 = buf, *o0 = buf + tw, *e1 = buf + 2 * tw, *o1 = buf + 3 * tw;
    float *pr = buf + 4 * tw, *qr = buf + 8 * tw; /* [4][tw]: rows of A dy, even / odd column */
    for (int64_t co = 0; co < c->cout; co++) {
        for (int64_t r = b->r0; r < b->r1; r++) {
            int64_t n = r / j->th, ty = r % j->th;
            const float *plane = j->dy + (n * c->cout + co) * c->oh * c->ow;
            float *ev[2] = { e0, e1 }, *od[2] = { o0, o1 };
            for (int row = 0; row < 2; row++) {
                int64_t oy = 2 * ty + row;
                if (oy >= c->oh) {
                    memset(ev[row], 0, (size_t)tw * sizeof(float));
                    memset(od[row], 0, (size_t)tw * sizeof(float));
                    continue;
                }
                const float *src = plane + oy * c->ow;
                for (int64_t t = 0; t < full; t++) {
                    ev[row][t] = src[2 * t];
                    od[row][t] = src[2 * t + 1];
                }
                if (full < tw) {
                    ev[row][full] = src[2 * full];
                    od[row][full] = 0.0f;
                }
            }
            /* Rows of A dy: d0, d0 + d1, d0 - d1, -d1. */
            for (int64_t t = 0; t < tw; t++) {
                pr[t] = e0[t];
                pr[tw + t] = e0[t] + e1[t];
                pr[2 * tw + t] = e0[t] - e1[t];
                pr[3 * tw + t] = -e1[t];
                qr[t] = o0[t];
                qr[tw + t] = o0[t] + o1[t];
                qr[2 * tw + t] = o0[t] - o1[t];
                qr[3 * tw + t] = -o1[t];
            }
            /* Then each row's column pair (p, q) → (p, p + q, p - q, -q). */
            float *dst = b->m + co * b->tb + (r - b->r0) * tw;
            for (int i = i0; i < i1; i++) {
                const float *pi = pr + i * tw, *qi = qr + i * tw;
                float *v0 = dst + (4 * i - b->e0) * stride, *v1 = v0 + stride,
                      *v2 = v1 + stride, *v3 = v2 + stride;
                for (int64_t t = 0; t < tw; t++) {
                    v0[t] = pi[t];
                    v1[t] = pi[t] + qi[t];
                    v2[t] = pi[t] - qi[t];
                    v3[t] = -qi[t];
                }
            }
        }
    }
}

/* dw[co][ci] += Gᵀ Macc[.][co][ci] G, Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1]. Range over co; chunks
 * of input channels in local arrays as in weights_transform. */
static void weights_grad_finish(int64_t co0, int64_t co1, void *data)
{
    const Job *j = data;
    int64_t cin = j->c->cin, plane = j->c->cin * j->c->cout;
    float m[NE][WCHUNK], t[3][4][WCHUNK], d[9][WCHUNK];
    for (int64_t co = co0; co < co1; co++) {
        for (int64_t c0 = 0; c0 < cin; c0 += WCHUNK) {
            int64_t nc = MIN(WCHUNK, cin - c0);
            for (int e = 0; e < NE; e++)
                memcpy(m[e], j->u + e * plane + co * cin + c0, (size_t)nc * sizeof(float));
            for (int c = 0; c < 4; c++) {
                for (int64_t k = 0; k < nc; k++) {
                    float m1 = m[4 + c][k], m2 = m[8 + c][k];
                    t[0][c][k] = m[c][k] + 0.5f * (m1 + m2);
                    t[1][c][k] = 0.5f * (m1 - m2);
                    t[2][c][k] = 0.5f * (m1 + m2) + m[12 + c][k];
                }
            }
            for (int r = 0; r < 3; r++) {
                for (int64_t k = 0; k < nc; k++) {
                    float t1 = t[r][1][k], t2 = t[r][2][k];
                    d[3 * r + 0][k] = t[r][0][k] + 0.5f * (t1 + t2);
                    d[3 * r + 1][k] = 0.5f * (t1 - t2);
                    d[3 * r + 2][k] = 0.5f * (t1 + t2) + t[r][3][k];
                }
            }
            float *dst = j->out + (co * cin + c0) * 9;
            for (int64_t k = 0; k < nc; k++)
                for (int q = 0; q < 9; q++)
                    dst[k * 9 + q] += d[q][k];
        }
    }
}

/* ---- drivers ------------------------------------------------------------------------------- */

/* Tile rows per block: as many as fit @bytes for @floats_per_tile floats per tile, at least
 * @min_tiles tiles; then evened out so that the blocks are about equal and (forward) their number
 * is a multiple of @threads — no thread is left with a thin last block while the others wait. */
static int64_t block_rows(int64_t tw, int64_t rows, int64_t floats_per_tile, int64_t bytes,
                          int64_t min_tiles, int64_t threads)
{
    int64_t tiles = bytes / (int64_t)(sizeof(float) * MAX(floats_per_tile, 1));
    tiles = MAX(tiles, min_tiles);
    int64_t per = CLAMP(tiles / tw, 1, rows);
    int64_t nblocks = (rows + per - 1) / per;
    nblocks = MIN((nblocks + threads - 1) / threads * threads, rows);
    return (rows + nblocks - 1) / nblocks;
}

static void job_tiling(Job *j, const PvxWinograd *c)
{
    j->c = c;
    j->th = (c->oh + 1) / 2;
    j->tw = (c->ow + 1) / 2;
    j->rows = c->n * j->th;
}

/* One thread's share of the forward: takes blocks until none is left, and runs each through
 * input transform, 16 single-threaded GEMMs and output transform without waiting for the other
 * threads — the block's V and M stay in this core's caches. */
static void forward_blocks(int64_t t0, int64_t t1, void *data)
{
    (void)t0;
    (void)t1;
    Job *j = data;
    const PvxWinograd *c = j->c;
    int64_t tb_max = j->per * j->tw;
    Block b = { .e0 = 0, .ne = NE };
    b.v = pvx_ops_scratch(SLOT_V, (size_t)(NE * c->cin * tb_max));
    b.m = pvx_ops_scratch(SLOT_M, (size_t)(NE * c->cout * tb_max));
    for (;;) {
        int64_t k = g_atomic_int_add(&j->next, 1);
        if (k >= j->nblocks)
            break;
        b.r0 = k * j->per;
        b.r1 = MIN(b.r0 + j->per, j->rows);
        b.tb = (b.r1 - b.r0) * j->tw;
        input_transform(j, &b);
        for (int e = 0; e < NE; e++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->cout, (int)b.tb,
                        (int)c->cin, 1.0f, j->u + e * c->cout * c->cin, (int)c->cin,
                        b.v + e * c->cin * b.tb, (int)b.tb, 0.0f, b.m + e * c->cout * b.tb,
                        (int)b.tb);
        output_transform(j, &b);
    }
}

void pvx_winograd_forward(const PvxWinograd *c, const float *x, const float *w, gboolean flip,
                          const float *bias, float *y)
{
    Job j = { .x = x, .w = w, .flip = flip, .bias = bias, .out = y };
    job_tiling(&j, c);
    if (j.rows == 0)
        return;
    j.per = block_rows(j.tw, j.rows, NE * (c->cin + c->cout), FORWARD_BLOCK_BYTES,
                       c->cin >= 256 ? FORWARD_MIN_TILES_WIDE : FORWARD_MIN_TILES,
                       pvx_num_threads());
    j.nblocks = (j.rows + j.per - 1) / j.per;
    j.u = pvx_ops_scratch(SLOT_U, (size_t)(NE * c->cin * c->cout));
    pvx_parallel_for(c->cout, MAX(1, 4096 / MAX(c->cin, 1)), weights_transform, &j);
    int threads = (int)MIN((int64_t)pvx_num_threads(), j.nblocks);
    pvx_ops_blas_serial_begin();
    pvx_parallel_for(threads, 1, forward_blocks, &j);
    pvx_ops_blas_serial_end();
}

/* Weight gradient on components rows [t0, t1) of 4 (so each thread owns whole rows of U's sums
 * and no two threads write the same sum): all blocks, in order. */
static void weight_grad_rows(int64_t t0, int64_t t1, void *data)
{
    Job *j = data;
    const PvxWinograd *c = j->c;
    int64_t tb_max = j->per * j->tw;
    Block b = { .e0 = (int)(4 * t0), .ne = (int)(4 * (t1 - t0)) };
    b.v = pvx_ops_scratch(SLOT_V, (size_t)(b.ne * c->cin * tb_max));
    b.m = pvx_ops_scratch(SLOT_M, (size_t)(b.ne * c->cout * tb_max));
    for (int64_t k = 0; k < j->nblocks; k++) {
        b.r0 = k * j->per;
        b.r1 = MIN(b.r0 + j->per, j->rows);
        b.tb = (b.r1 - b.r0) * j->tw;
        input_transform(j, &b);
        grad_transform(j, &b);
        for (int e = 0; e < b.ne; e++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)c->cout, (int)c->cin,
                        (int)b.tb, 1.0f, b.m + e * c->cout * b.tb, (int)b.tb,
                        b.v + e * c->cin * b.tb, (int)b.tb, k == 0 ? 0.0f : 1.0f,
                        j->u + (b.e0 + e) * c->cout * c->cin, (int)c->cin);
    }
}

void pvx_winograd_weight_grad(const PvxWinograd *c, const float *x, const float *dy, float *dw)
{
    Job j = { .x = x, .dy = dy, .out = dw };
    job_tiling(&j, c);
    if (j.rows == 0)
        return;
    int threads = (int)MIN(pvx_num_threads(), 4);
    j.per = block_rows(j.tw, j.rows, NE * (c->cin + c->cout) / threads, WGRAD_BLOCK_BYTES,
                       WGRAD_MIN_TILES, 1);
    j.nblocks = (j.rows + j.per - 1) / j.per;
    j.u = pvx_ops_scratch(SLOT_U, (size_t)(NE * c->cin * c->cout));
    pvx_ops_blas_serial_begin();
    pvx_parallel_for(4, 4 / threads, weight_grad_rows, &j);
    pvx_ops_blas_serial_end();
    pvx_parallel_for(c->cout, MAX(1, 4096 / MAX(c->cin, 1)), weights_grad_finish, &j);
}
