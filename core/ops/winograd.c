/* pvx — 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3).
 *
 * Each 2×2 output tile is computed from a 4×4 input tile d and the 3×3 kernel g as
 *     y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
 * with the 16 products of the bracket summed over input channels — for each of the 16
 * components e that sum is a matrix product:
 *     M[e][T, Cout] = V[e][T, Cin] · U[e][Cin, Cout]
 * where U = G g Gᵀ (weights), V = Bᵀ d B (input tiles) and T counts tiles. This does 16 products
 * per 4 outputs instead of 36: 2.25× fewer flops than im2col, and the GEMMs run on OpenBLAS.
 * The transforms only add, subtract and halve, but the products are of transformed values
 * larger than the originals: measured against float64 PyTorch the error is about twice
 * im2col's (at most 5e-5 relative in the reference tests, whose limit is 1e-4). F(4×4, 3×3)
 * would do 1.8× fewer products again, but simulated in float32 on these layers its error reached
 * 0.9–2.7e-4 on the same measure, over the limit.
 *
 * Layout: channels last, per block. Tiles are processed in blocks of whole tile rows (a tile row
 * = image n, tile row ty; blocks may span images). For each image's part of a block, the input
 * rows its tiles read are first copied into a [rows][w][cin] buffer in the thread's cache (16×16
 * in-register transposes), so that a tile's 16 input values for 16 consecutive channels are 16
 * unit-stride vector loads whatever the image size (zero outside the image: masked loads), and
 * its 16 components 16 unit-stride stores into V[e][t][·]. The output transform reads M[e][t][·]
 * the same way into a [rows][ow][cout] buffer, copied back into the NCHW output by transposes
 * that also apply a folded ReLU's gate (backward) or the ReLU itself (forward). The previous
 * design transformed NCHW planes with loops along the tiles; at 14×14 and below a row holds 7
 * tiles or fewer, too few for those loops, and on the training benchmark's layers this one does
 * the transforms in about half the time.
 *
 * Block sizes: each of a block's 16 GEMMs stays within OpenBLAS's unpacked small-matrix kernels
 * (see BLAS_SMALL_MNK) and V and M within the core's L2 where a tile row allows; else the blocks
 * follow byte budgets that keep V and M in the cache between the transforms and the GEMMs.
 *
 * Backward uses the same machinery:
 *   input gradient: dx = conv(dy, w') with w'[ci][co] = w[co][ci] rotated by 180°, padding
 *     (2 - pad): a forward of the same kind with the weights read transposed and flipped;
 *   weight gradient: dL/dU = Σ_tiles (A dy Aᵀ) ⊙ V, i.e. 16 GEMMs
 *     Macc[e][Cout, Cin] += Dy[e][Tb, Cout]ᵀ · V[e][Tb, Cin] over all blocks, then
 *     dw += Gᵀ Macc G.
 * For padding 1 (output size = input size) the two run fused, block by block, so that each
 * block's rows of dy are copied once for both, and the bias gradient is summed from that copy
 * (pvx_winograd_backward).
 *
 * Threads: in the forward each of pvx's pool threads takes whole blocks on its own — transform,
 * 16 GEMMs with OpenBLAS held to one thread (pvx_ops_blas_serial_begin), inverse transform — so
 * the block stays in that core's caches and no thread waits for another between the steps
 * (alternating pool steps with OpenBLAS-threaded GEMMs measured 1.3–1.8× slower: OpenBLAS's
 * idle threads busy-wait against the pool's). The blocks follow from the shapes alone, not from
 * the thread count. The weight gradient cuts them into a fixed number of chunks of consecutive
 * blocks, each summed into its own copy of the sums by one thread and the copies added in order
 * at the end: no two threads add into the same sums. So no result depends on the number of
 * threads.
 *
 * Every kernel has a plain C version and an AVX-512 one (pvx_ops_use_avx512) doing the same
 * operations in the same order: the two give the same bits (tested).
 */
#include <cblas.h>
#include <string.h>

#include "ops-private.h"

#define NE 16 /* transformed tile components: 4 × 4 */

/* Bytes of one thread's V and M (or Dy) per block that the blocking aims for where the GEMMs are
 * too big for OpenBLAS's small-matrix kernels, and the fewest tiles per block there (below it the
 * GEMMs get thin; with 256 or more input channels, OpenBLAS's repacking of U for every GEMM wants
 * still more). Measured on VGG-16's layers. */
#define FORWARD_BLOCK_BYTES (2 << 20)
#define FORWARD_MIN_TILES 256
#define FORWARD_MIN_TILES_WIDE 512
/* The forward's number of blocks is evened out to a multiple of this (see block_rows): fixed, not
 * the thread count, because OpenBLAS's results for a tile depend on how many tiles share its GEMM,
 * and pvx's results should not depend on the thread count (tested). Two, for this machine's two
 * cores: four made VGG-16's 512-channel 28×28 layer at batch 1 take 4 blocks of 56, 56, 56 and 28
 * tiles instead of 2 of 98, each repacking U in OpenBLAS, 15.5 ms instead of 13.0. */
#define FORWARD_BLOCK_MULTIPLE 2
#define WGRAD_BLOCK_BYTES (4 << 20)
#define WGRAD_MIN_TILES 256
/* At most this many tiles per weight-gradient block: the GEMM sums over a block's tiles, and
 * OpenBLAS's small-matrix kernels do it in one running sum per output — over 5000 tiles (VGG-16's
 * first layer) that tripled the rounding error against PyTorch (1.5e-4, over the reference tests'
 * 1e-4). Blocks of at most 256 tiles, added up block by block, keep it at the packed kernels'. */
#define WGRAD_MAX_TILES 256
/* Groups of consecutive weight-gradient blocks, each summed on its own by one thread (see
 * weight_grad_chunks): a fixed number, so that the sums do not depend on the thread count; four
 * keep two to four threads about equally busy. */
#define WGRAD_CHUNKS 4

/* OpenBLAS (0.3.17 on, with its small-matrix kernels built for this CPU, as Debian's are) runs a
 * GEMM of M·N·K ≤ 100³ without packing its operands. On the shapes here (one thread, 32–128
 * channels, on the AVX-512 machine of the README) the unpacked kernels ran at 110–116 GFLOP/s for
 * the forward's [T, Cin]·[Cin, Cout] and 112–118 for the weight gradient's [T, Cout]ᵀ·[T, Cin];
 * the packed ones, with 1024–2048 tiles, at 55–95. So blocks are cut to keep each GEMM at or under
 * that size, where that leaves at least SMALL_MIN_TILES tiles; with 256 channels and more it
 * would not, and the blocks follow the byte sizes above. */
#define BLAS_SMALL_MNK 1000000
#define SMALL_MIN_TILES 32
/* Tiles per block on that path. Smaller blocks keep V and M (or Dy) in the core's L2 next to U:
 * on the training benchmark's layers (32–128 channels, batch 128, two threads), blocks of 28–48
 * tiles ran the forward 10–30 % faster than blocks of 64–256, and the weight gradient up to
 * 40 % faster. */
#define SMALL_BLOCK_TILES 48

/* Scratch slots (see pvx_ops_scratch, per thread): the calling thread holds U (the transformed
 * weights) and the weight gradient's chunk sums (UW); every thread running blocks holds its own
 * channels-last copies of a segment's rows (XT for the input, YT for the output), V, M and (the
 * fused backward) Dy. Slots 0 and 1 are also im2col's and the direct convolution's, never in use
 * during these calls. */
enum { SLOT_XT = 0, SLOT_YT = 1, SLOT_U = 2, SLOT_V = 3, SLOT_M = 4, SLOT_D = 5, SLOT_UW = 6 };

/* The kernels of one instruction set (see the top). */
typedef struct {
    /* dst [np][C] = positions [p0, p0 + np) of the image src [C][P] */
    void (*to_last)(const float *src, int64_t C, int64_t P, int64_t p0, int64_t np, float *dst);
    /* positions [p0, p0 + np) of the image dst [C][P] = src [np][C], zero where gate (nullable,
     * like dst) ≤ 0, and with @relu zero where the value is not > 0 */
    void (*to_first)(const float *src, int64_t C, int64_t P, int64_t p0, int64_t np, float *dst,
                     const float *gate, gboolean relu);
    /* V of @nt tiles side by side: components of rows [i0, i1) (e = 4 i + col), component
     * stride es, tile t at v + t · cin, from the channels-last image x [h][w][cin] read at rows
     * y0 … y0 + 3, columns x0 + 2 t … x0 + 2 t + 3 (zero outside the image) */
    void (*tile_in)(const float *x, int64_t h, int64_t w, int64_t y0, int64_t x0, int64_t nt,
                    int64_t cin, float *v, int64_t es, int i0, int i1);
    /* The output at rows y0, y0 + 1, columns x0 + 2 t, x0 + 2 t + 1 of the channels-last image
     * y [h][w][cout] (those inside it) from @nt tiles' 16 components (stride es, tile t at
     * m + t · cout), + bias */
    void (*tile_out)(const float *m, int64_t es, int64_t cout, const float *bias, float *y,
                     int64_t h, int64_t w, int64_t y0, int64_t x0, int64_t nt);
    /* Dy of @nt tiles: components of rows [i0, i1) from the output gradient at rows y0, y0 + 1,
     * columns x0 + 2 t, x0 + 2 t + 1 of g [h][w][cout] (zero outside), tile t at v + t · cout */
    void (*tile_grad)(const float *g, int64_t h, int64_t w, int64_t y0, int64_t x0, int64_t nt,
                      int64_t cout, float *v, int64_t es, int i0, int i1);
} Kernels;

/* What every thread reads: the convolution, its tiling and the shared buffers. */
typedef struct {
    const PvxWinograd *c;
    int64_t th, tw; /* tiles per image, vertically and horizontally */
    int64_t rows;   /* tile rows in all: r = n · th + ty */
    int64_t per;    /* tile rows per block */
    int64_t nblocks;
    int64_t chunks;    /* weight grad: groups of consecutive blocks, each with its own sums */
    gint next;         /* next block to take (forward: blocks are shared out dynamically) */
    const float *x;    /* forward input / weight-grad input, NCHW */
    const float *w;    /* forward: weights */
    gboolean flip;     /* forward: w is [cin, cout, 3, 3] and is applied rotated (see top) */
    const float *bias; /* forward: nullable */
    const float *gate; /* forward: nullable, the output is zeroed where gate <= 0 */
    gboolean relu;     /* forward: the output is zeroed where it is not > 0 */
    float *u;          /* transformed weights [16][cin][cout] / weight-grad sums [16][cout][cin] */
    float *out;        /* forward output / weight-grad dw */
    const float *dy;   /* weight grad: output gradient, NCHW */
    Kernels k;
} Job;

/* ---- weights ------------------------------------------------------------------------------- */

/* U[e][ci][co] = (G g Gᵀ)[e], G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]. Range over ci. Works on chunks
 * of WCHUNK output channels in local arrays, component-major, so that the arithmetic runs over
 * unit-stride channel vectors and each component is written as one contiguous run. */
#define WCHUNK 64
static void weights_transform(int64_t ci0, int64_t ci1, void *data)
{
    const Job *j = data;
    int64_t cin = j->c->cin, cout = j->c->cout, plane = cin * cout;
    float g[9][WCHUNK], t[4][3][WCHUNK], u[NE][WCHUNK];
    for (int64_t ci = ci0; ci < ci1; ci++) {
        for (int64_t c0 = 0; c0 < cout; c0 += WCHUNK) {
            int64_t nc = MIN(WCHUNK, cout - c0);
            for (int64_t k = 0; k < nc; k++) {
                const float *s =
                    j->flip ? j->w + (ci * cout + c0 + k) * 9 : j->w + ((c0 + k) * cin + ci) * 9;
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
                memcpy(j->u + e * plane + ci * cout + c0, u[e], (size_t)nc * sizeof(float));
        }
    }
}

/* dw[co][ci] += Gᵀ Macc[.][co][ci] G, Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1], Macc the sum of the
 * chunks' sums in chunk order. Range over co; chunks of input channels in local arrays as in
 * weights_transform. */
static void weights_grad_finish(int64_t co0, int64_t co1, void *data)
{
    const Job *j = data;
    int64_t cin = j->c->cin, plane = j->c->cin * j->c->cout;
    float m[NE][WCHUNK], t[3][4][WCHUNK], d[9][WCHUNK];
    for (int64_t co = co0; co < co1; co++) {
        for (int64_t c0 = 0; c0 < cin; c0 += WCHUNK) {
            int64_t nc = MIN(WCHUNK, cin - c0);
            for (int e = 0; e < NE; e++) {
                memcpy(m[e], j->u + e * plane + co * cin + c0, (size_t)nc * sizeof(float));
                for (int64_t q = 1; q < j->chunks; q++) {
                    const float *s = j->u + (q * NE + e) * plane + co * cin + c0;
                    for (int64_t k = 0; k < nc; k++)
                        m[e][k] += s[k];
                }
            }
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

/* ---- plain C kernels ----------------------------------------------------------------------- */

/* Which of the four rows (or columns) v0 … v0 + 3 lie in [0, n): bit r for v0 + r. */
static inline unsigned inside4(int64_t v0, int64_t n)
{
    unsigned m = 0;
    for (int r = 0; r < 4; r++)
        if (v0 + r >= 0 && v0 + r < n)
            m |= 1u << r;
    return m;
}

static void to_last_generic(const float *src, int64_t C, int64_t P, int64_t p0, int64_t np,
                            float *dst)
{
    for (int64_t p = 0; p < np; p++)
        for (int64_t c = 0; c < C; c++)
            dst[p * C + c] = src[c * P + p0 + p];
}

static void to_first_generic(const float *src, int64_t C, int64_t P, int64_t p0, int64_t np,
                             float *dst, const float *gate, gboolean relu)
{
    for (int64_t c = 0; c < C; c++) {
        float *o = dst + c * P + p0;
        const float *g = gate != NULL ? gate + c * P + p0 : NULL;
        for (int64_t p = 0; p < np; p++) {
            float v = g == NULL || g[p] > 0.0f ? src[p * C + c] : 0.0f;
            o[p] = !relu || v > 0.0f ? v : 0.0f;
        }
    }
}

/* d B along the tile's rows (h[r][col]), then Bᵀ down its columns for rows i of [i0, i1):
 * Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. */
PVX_KERNEL_CLONES static void tile_in_one(const float *x, int64_t h, int64_t w, int64_t y0,
                                          int64_t x0, int64_t cin, float *v, int64_t es, int i0,
                                          int i1)
{
    unsigned rows = inside4(y0, h), cols = inside4(x0, w);
    for (int64_t k = 0; k < cin; k++) {
        float t[4][4];
        for (int r = 0; r < 4; r++) {
            float d[4];
            for (int q = 0; q < 4; q++)
                d[q] = (rows >> r & cols >> q & 1u) ? x[((y0 + r) * w + x0 + q) * cin + k] : 0.0f;
            t[r][0] = d[0] - d[2];
            t[r][1] = d[1] + d[2];
            t[r][2] = d[2] - d[1];
            t[r][3] = d[1] - d[3];
        }
        for (int i = i0; i < i1; i++) {
            for (int col = 0; col < 4; col++) {
                float a;
                switch (i) {
                case 0:
                    a = t[0][col] - t[2][col];
                    break;
                case 1:
                    a = t[1][col] + t[2][col];
                    break;
                case 2:
                    a = t[2][col] - t[1][col];
                    break;
                default:
                    a = t[1][col] - t[3][col];
                    break;
                }
                v[(4 * (i - i0) + col) * es + k] = a;
            }
        }
    }
}

/* y = Aᵀ m A + bias, Aᵀ = [1 1 1 0; 0 1 -1 -1]: s = row p of Aᵀ m, then y[p][0] = s0 + s1 + s2,
 * y[p][1] = s1 - s2 - s3. */
PVX_KERNEL_CLONES static void tile_out_one(const float *m, int64_t es, int64_t cout,
                                           const float *bias, float *y, int64_t h, int64_t w,
                                           int64_t y0, int64_t x0)
{
    for (int64_t k = 0; k < cout; k++) {
        float b = bias != NULL ? bias[k] : 0.0f;
        for (int p = 0; p < 2 && y0 + p < h; p++) {
            float s[4];
            for (int col = 0; col < 4; col++) {
                float m0 = m[col * es + k], m1 = m[(4 + col) * es + k], m2 = m[(8 + col) * es + k],
                      m3 = m[(12 + col) * es + k];
                s[col] = p == 0 ? m0 + m1 + m2 : m1 - m2 - m3;
            }
            float *o = y + ((y0 + p) * w + x0) * cout + k;
            o[0] = s[0] + s[1] + s[2] + b;
            if (x0 + 1 < w)
                o[cout] = s[1] - s[2] - s[3] + b;
        }
    }
}

/* Dy = A dy Aᵀ, A = [1 0; 1 1; 1 -1; 0 -1]: row i of A dy is (p, q) = (a, b), (a + c, b + d),
 * (a - c, b - d), (-c, -d) for the tile [a b; c d]; along it (p, p + q, p - q, -q). */
PVX_KERNEL_CLONES static void tile_grad_one(const float *g, int64_t h, int64_t w, int64_t y0,
                                            int64_t x0, int64_t cout, float *v, int64_t es, int i0,
                                            int i1)
{
    gboolean down = y0 + 1 < h, right = x0 + 1 < w;
    const float *g0 = g + (y0 * w + x0) * cout, *g1 = g0 + w * cout;
    for (int64_t k = 0; k < cout; k++) {
        float a = g0[k], b = right ? g0[cout + k] : 0.0f;
        float c = down ? g1[k] : 0.0f, d = down && right ? g1[cout + k] : 0.0f;
        for (int i = i0; i < i1; i++) {
            float p, q;
            switch (i) {
            case 0:
                p = a;
                q = b;
                break;
            case 1:
                p = a + c;
                q = b + d;
                break;
            case 2:
                p = a - c;
                q = b - d;
                break;
            default:
                p = -c;
                q = -d;
                break;
            }
            float *o = v + 4 * (i - i0) * es + k;
            o[0] = p;
            o[es] = p + q;
            o[2 * es] = p - q;
            o[3 * es] = -q;
        }
    }
}

/* The row forms of the three (see Kernels). */
static void tile_in_generic(const float *x, int64_t h, int64_t w, int64_t y0, int64_t x0,
                            int64_t nt, int64_t cin, float *v, int64_t es, int i0, int i1)
{
    for (int64_t t = 0; t < nt; t++)
        tile_in_one(x, h, w, y0, x0 + 2 * t, cin, v + t * cin, es, i0, i1);
}

static void tile_out_generic(const float *m, int64_t es, int64_t cout, const float *bias, float *y,
                             int64_t h, int64_t w, int64_t y0, int64_t x0, int64_t nt)
{
    for (int64_t t = 0; t < nt; t++)
        tile_out_one(m + t * cout, es, cout, bias, y, h, w, y0, x0 + 2 * t);
}

static void tile_grad_generic(const float *g, int64_t h, int64_t w, int64_t y0, int64_t x0,
                              int64_t nt, int64_t cout, float *v, int64_t es, int i0, int i1)
{
    for (int64_t t = 0; t < nt; t++)
        tile_grad_one(g, h, w, y0, x0 + 2 * t, cout, v + t * cout, es, i0, i1);
}

/* ---- AVX-512 kernels ----------------------------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PVX_WINOGRAD_X86 1
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

/* The first @n of 16 lanes. */
AVX512 static inline __mmask16 lanes(int64_t n)
{
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

AVX512 static inline __m512 neg(__m512 a)
{
    return _mm512_castsi512_ps(
        _mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32((int)0x80000000u)));
}

/* r[j] = column j of the 16 × 16 block r[0..15] (rows), in place. */
AVX512 static inline void transpose16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* u[4 g + c], lane L: column 4 L + c of rows 4 g … 4 g + 3 */
    __m512 u[16];
    for (int g = 0; g < 4; g++) {
        __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
        __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
        u[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int c = 0; c < 4; c++) {
        __m512 p = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
        __m512 q = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xdd);
        __m512 s = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
        __m512 z = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xdd);
        r[c] = _mm512_shuffle_f32x4(p, s, 0x88);
        r[4 + c] = _mm512_shuffle_f32x4(q, z, 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(p, s, 0xdd);
        r[12 + c] = _mm512_shuffle_f32x4(q, z, 0xdd);
    }
}

AVX512 static void to_last_avx512(const float *src, int64_t C, int64_t P, int64_t p0, int64_t np,
                                  float *dst)
{
    /* channel groups outside, so that the loads run along 16 planes at a time (16 streams the
     * prefetchers follow) rather than along all C */
    for (int64_t c0 = 0; c0 < C; c0 += 16) {
        int64_t nc = MIN(16, C - c0);
        __mmask16 cm = lanes(nc);
        for (int64_t p = 0; p < np; p += 16) {
            int64_t n = MIN(16, np - p);
            __mmask16 pm = lanes(n);
            __m512 r[16];
            for (int k = 0; k < 16; k++)
                r[k] = k < nc ? _mm512_maskz_loadu_ps(pm, src + (c0 + k) * P + p0 + p)
                              : _mm512_setzero_ps();
            transpose16(r);
            for (int64_t k = 0; k < n; k++)
                _mm512_mask_storeu_ps(dst + (p + k) * C + c0, cm, r[k]);
        }
    }
}

AVX512 static void to_first_avx512(const float *src, int64_t C, int64_t P, int64_t p0, int64_t np,
                                   float *dst, const float *gate, gboolean relu)
{
    /* channel groups outside, as in to_last_avx512: 16 planes written at a time */
    for (int64_t c0 = 0; c0 < C; c0 += 16) {
        int64_t nc = MIN(16, C - c0);
        __mmask16 cm = lanes(nc);
        for (int64_t p = 0; p < np; p += 16) {
            int64_t n = MIN(16, np - p);
            __mmask16 pm = lanes(n);
            __m512 r[16];
            for (int k = 0; k < 16; k++)
                r[k] =
                    k < n ? _mm512_maskz_loadu_ps(cm, src + (p + k) * C + c0) : _mm512_setzero_ps();
            transpose16(r);
            for (int64_t k = 0; k < nc; k++) {
                int64_t o = (c0 + k) * P + p0 + p;
                __m512 v = r[k];
                if (gate != NULL) {
                    __mmask16 pos = _mm512_mask_cmp_ps_mask(pm, _mm512_maskz_loadu_ps(pm, gate + o),
                                                            _mm512_setzero_ps(), _CMP_GT_OQ);
                    v = _mm512_maskz_mov_ps(pos, v);
                }
                if (relu)
                    v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ),
                                            v);
                _mm512_mask_storeu_ps(dst + o, pm, v);
            }
        }
    }
}

/* The row setup is done once: the four input rows' pointers and presence; per tile only the
 * columns' (the interior tiles of a row all have four). */
AVX512 static void tile_in_avx512(const float *x, int64_t h, int64_t w, int64_t y0, int64_t x0,
                                  int64_t nt, int64_t cin, float *v, int64_t es, int i0, int i1)
{
    const float *row[4];
    __mmask16 ron[4];
    for (int r = 0; r < 4; r++) {
        gboolean in = y0 + r >= 0 && y0 + r < h;
        row[r] = in ? x + (y0 + r) * w * cin : x;
        ron[r] = in ? (__mmask16)0xffff : 0;
    }
    for (int64_t t = 0; t < nt; t++) {
        int64_t xt = x0 + 2 * t, off[4];
        __mmask16 con[4];
        for (int q = 0; q < 4; q++) {
            gboolean in = xt + q >= 0 && xt + q < w;
            off[q] = in ? (xt + q) * cin : 0;
            con[q] = in ? (__mmask16)0xffff : 0;
        }
        float *vt = v + t * cin;
        for (int64_t k = 0; k < cin; k += 16) {
            __mmask16 m = lanes(cin - k);
            __m512 s[4][4];
            for (int r = 0; r < 4; r++) {
                __m512 d[4];
                for (int q = 0; q < 4; q++)
                    d[q] = _mm512_maskz_loadu_ps(ron[r] & con[q] & m, row[r] + off[q] + k);
                s[r][0] = _mm512_sub_ps(d[0], d[2]);
                s[r][1] = _mm512_add_ps(d[1], d[2]);
                s[r][2] = _mm512_sub_ps(d[2], d[1]);
                s[r][3] = _mm512_sub_ps(d[1], d[3]);
            }
            for (int i = i0; i < i1; i++) {
                for (int col = 0; col < 4; col++) {
                    __m512 a;
                    switch (i) {
                    case 0:
                        a = _mm512_sub_ps(s[0][col], s[2][col]);
                        break;
                    case 1:
                        a = _mm512_add_ps(s[1][col], s[2][col]);
                        break;
                    case 2:
                        a = _mm512_sub_ps(s[2][col], s[1][col]);
                        break;
                    default:
                        a = _mm512_sub_ps(s[1][col], s[3][col]);
                        break;
                    }
                    _mm512_mask_storeu_ps(vt + (4 * (i - i0) + col) * es + k, m, a);
                }
            }
        }
    }
}

AVX512 static void tile_out_avx512(const float *m, int64_t es, int64_t cout, const float *bias,
                                   float *y, int64_t h, int64_t w, int64_t y0, int64_t x0,
                                   int64_t nt)
{
    float *row[2];
    __mmask16 ron[2];
    for (int p = 0; p < 2; p++) {
        gboolean in = y0 + p < h;
        row[p] = in ? y + (y0 + p) * w * cout : y;
        ron[p] = in ? (__mmask16)0xffff : 0;
    }
    for (int64_t t = 0; t < nt; t++) {
        int64_t xt = x0 + 2 * t, off[2];
        __mmask16 con[2];
        for (int q = 0; q < 2; q++) {
            gboolean in = xt + q < w;
            off[q] = in ? (xt + q) * cout : 0;
            con[q] = in ? (__mmask16)0xffff : 0;
        }
        const float *mt = m + t * cout;
        for (int64_t k = 0; k < cout; k += 16) {
            __mmask16 mk = lanes(cout - k);
            __m512 b = bias != NULL ? _mm512_maskz_loadu_ps(mk, bias + k) : _mm512_setzero_ps();
            __m512 e[NE];
            for (int i = 0; i < NE; i++)
                e[i] = _mm512_maskz_loadu_ps(mk, mt + i * es + k);
            for (int p = 0; p < 2; p++) {
                __m512 s[4];
                for (int col = 0; col < 4; col++)
                    s[col] =
                        p == 0 ? _mm512_add_ps(_mm512_add_ps(e[col], e[4 + col]), e[8 + col])
                               : _mm512_sub_ps(_mm512_sub_ps(e[4 + col], e[8 + col]), e[12 + col]);
                __m512 a = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[0], s[1]), s[2]), b);
                __m512 c = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[1], s[2]), s[3]), b);
                _mm512_mask_storeu_ps(row[p] + off[0] + k, ron[p] & con[0] & mk, a);
                _mm512_mask_storeu_ps(row[p] + off[1] + k, ron[p] & con[1] & mk, c);
            }
        }
    }
}

AVX512 static void tile_grad_avx512(const float *g, int64_t h, int64_t w, int64_t y0, int64_t x0,
                                    int64_t nt, int64_t cout, float *v, int64_t es, int i0, int i1)
{
    gboolean down = y0 + 1 < h;
    const float *r0 = g + y0 * w * cout, *r1 = down ? r0 + w * cout : r0;
    __mmask16 onc = down ? 0xffff : 0;
    for (int64_t t = 0; t < nt; t++) {
        int64_t xt = x0 + 2 * t;
        gboolean right = xt + 1 < w;
        int64_t o0 = xt * cout, o1 = right ? o0 + cout : o0;
        __mmask16 onb = right ? 0xffff : 0, ond = onb & onc;
        float *vt = v + t * cout;
        for (int64_t k = 0; k < cout; k += 16) {
            __mmask16 m = lanes(cout - k);
            __m512 a = _mm512_maskz_loadu_ps(m, r0 + o0 + k);
            __m512 b = _mm512_maskz_loadu_ps(m & onb, r0 + o1 + k);
            __m512 c = _mm512_maskz_loadu_ps(m & onc, r1 + o0 + k);
            __m512 d = _mm512_maskz_loadu_ps(m & ond, r1 + o1 + k);
            for (int i = i0; i < i1; i++) {
                __m512 p, q;
                switch (i) {
                case 0:
                    p = a;
                    q = b;
                    break;
                case 1:
                    p = _mm512_add_ps(a, c);
                    q = _mm512_add_ps(b, d);
                    break;
                case 2:
                    p = _mm512_sub_ps(a, c);
                    q = _mm512_sub_ps(b, d);
                    break;
                default:
                    p = neg(c);
                    q = neg(d);
                    break;
                }
                float *dst = vt + 4 * (i - i0) * es + k;
                _mm512_mask_storeu_ps(dst, m, p);
                _mm512_mask_storeu_ps(dst + es, m, _mm512_add_ps(p, q));
                _mm512_mask_storeu_ps(dst + 2 * es, m, _mm512_sub_ps(p, q));
                _mm512_mask_storeu_ps(dst + 3 * es, m, neg(q));
            }
        }
    }
}
#endif

/* The kernels this CPU runs (pvx_ops_use_avx512). */
static Kernels pick_kernels(void)
{
#ifdef PVX_WINOGRAD_X86
    if (pvx_ops_use_avx512())
        return (Kernels){to_last_avx512, to_first_avx512, tile_in_avx512, tile_out_avx512,
                         tile_grad_avx512};
#endif
    return (Kernels){to_last_generic, to_first_generic, tile_in_generic, tile_out_generic,
                     tile_grad_generic};
}

/* ---- drivers ------------------------------------------------------------------------------- */

static void job_tiling(Job *j, const PvxWinograd *c)
{
    j->c = c;
    j->k = pick_kernels();
    j->th = (c->oh + 1) / 2;
    j->tw = (c->ow + 1) / 2;
    j->rows = c->n * j->th;
}

/* Tile rows per block. Where a tile row keeps the block's GEMMs under BLAS_SMALL_MNK for @mk
 * (M·K of the forward's GEMMs, M·N of the weight gradient's), as many rows as keep them there
 * and within SMALL_BLOCK_TILES tiles (at least one row); else as many as fit @bytes for
 * @floats_per_tile floats per tile, at least @min_tiles. Then evened out so that the blocks are
 * about equal and their number is a multiple of @multiple where there are enough rows — a few
 * blocks shared out between threads leave none with a thin last block while the others wait. */
static int64_t block_rows(int64_t tw, int64_t rows, int64_t mk, int64_t floats_per_tile,
                          int64_t bytes, int64_t min_tiles, int64_t multiple)
{
    int64_t small = BLAS_SMALL_MNK / MAX(mk, 1), tiles;
    if (small >= MAX(tw, SMALL_MIN_TILES))
        tiles = MAX(MIN(small, SMALL_BLOCK_TILES), tw);
    else
        tiles = MAX(bytes / (int64_t)(sizeof(float) * MAX(floats_per_tile, 1)), min_tiles);
    int64_t per = CLAMP(tiles / tw, 1, rows);
    int64_t nblocks = (rows + per - 1) / per;
    nblocks = MIN((nblocks + multiple - 1) / multiple * multiple, rows);
    return (rows + nblocks - 1) / nblocks;
}

/* The part of a block in one image: tile rows [ty0, ty0 + nt) of image n, the block's tiles from
 * t0 on; the input rows they read, [ylo, yhi), and the output rows they write, [oy0, oy1). */
typedef struct {
    int64_t n, ty0, nt, t0;
    int64_t ylo, yhi, oy0, oy1;
} Segment;

/* The segment of the block [r0, r1) that starts at tile row @r. */
static Segment segment_at(const Job *j, int64_t r0, int64_t r1, int64_t r)
{
    const PvxWinograd *c = j->c;
    int64_t n = r / j->th, end = MIN(r1, (n + 1) * j->th);
    Segment g = {.n = n, .ty0 = r % j->th, .nt = end - r, .t0 = (r - r0) * j->tw};
    g.ylo = CLAMP(2 * g.ty0 - c->ph, 0, c->h);
    g.yhi = CLAMP(2 * (g.ty0 + g.nt) + 2 - c->ph, g.ylo, c->h);
    g.oy0 = 2 * g.ty0;
    g.oy1 = MIN(2 * (g.ty0 + g.nt), c->oh);
    return g;
}

/* Floats of a thread's channels-last copies of a segment's input rows and output rows. */
static size_t rows_in_floats(const Job *j)
{
    int64_t nt = MIN(j->per, j->th);
    return (size_t)(MIN(2 * nt + 2, j->c->h) * j->c->w * j->c->cin);
}

static size_t rows_out_floats(const Job *j)
{
    return (size_t)(2 * MIN(j->per, j->th) * j->c->ow * j->c->cout);
}

/* V of the segment's tiles, components of rows [i0, i1), into v [4 (i1 - i0)][tb][cin] (at
 * the segment's tiles), by way of its input rows copied channels-last into @xt. */
static void input_transform(const Job *j, const Segment *g, int64_t tb, int i0, int i1, float *xt,
                            float *v)
{
    const PvxWinograd *c = j->c;
    int64_t rows = g->yhi - g->ylo;
    if (rows > 0)
        j->k.to_last(j->x + g->n * c->cin * c->h * c->w, c->cin, c->h * c->w, g->ylo * c->w,
                     rows * c->w, xt);
    for (int64_t a = 0; a < g->nt; a++) {
        int64_t l = g->t0 + a * j->tw;
        j->k.tile_in(xt, rows, c->w, 2 * (g->ty0 + a) - c->ph - g->ylo, -c->pw, j->tw, c->cin,
                     v + l * c->cin, tb * c->cin, i0, i1);
    }
}

/* M = V · U for the block's tb tiles: 16 GEMMs [tb, cin] · [cin, cout]. */
static void forward_gemms(const Job *j, int64_t tb, const float *v, float *m)
{
    const PvxWinograd *c = j->c;
    for (int e = 0; e < NE; e++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)tb, (int)c->cout, (int)c->cin,
                    1.0f, v + e * tb * c->cin, (int)c->cin, j->u + e * c->cin * c->cout,
                    (int)c->cout, 0.0f, m + e * tb * c->cout, (int)c->cout);
}

/* The output of block [r0, r1) (tb tiles) from its M: per segment, the output transform into
 * @yt (channels-last rows), then those rows copied into the NCHW output, gated. */
static void output_rows(const Job *j, int64_t r0, int64_t r1, int64_t tb, const float *m, float *yt)
{
    const PvxWinograd *c = j->c;
    int64_t image = c->cout * c->oh * c->ow;
    for (int64_t r = r0; r < r1;) {
        Segment g = segment_at(j, r0, r1, r);
        r += g.nt;
        for (int64_t a = 0; a < g.nt; a++) {
            int64_t l = g.t0 + a * j->tw;
            j->k.tile_out(m + l * c->cout, tb * c->cout, c->cout, j->bias, yt, g.oy1 - g.oy0, c->ow,
                          2 * a, 0, j->tw);
        }
        j->k.to_first(yt, c->cout, c->oh * c->ow, g.oy0 * c->ow, (g.oy1 - g.oy0) * c->ow,
                      j->out + g.n * image, j->gate != NULL ? j->gate + g.n * image : NULL,
                      j->relu);
    }
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
    float *v = pvx_ops_scratch(SLOT_V, (size_t)(NE * c->cin * tb_max));
    float *m = pvx_ops_scratch(SLOT_M, (size_t)(NE * c->cout * tb_max));
    float *xt = pvx_ops_scratch(SLOT_XT, rows_in_floats(j));
    float *yt = pvx_ops_scratch(SLOT_YT, rows_out_floats(j));
    for (;;) {
        int64_t k = g_atomic_int_add(&j->next, 1);
        if (k >= j->nblocks)
            break;
        int64_t r0 = k * j->per, r1 = MIN(r0 + j->per, j->rows), tb = (r1 - r0) * j->tw;
        for (int64_t r = r0; r < r1;) {
            Segment g = segment_at(j, r0, r1, r);
            r += g.nt;
            input_transform(j, &g, tb, 0, 4, xt, v);
        }
        forward_gemms(j, tb, v, m);
        output_rows(j, r0, r1, tb, m, yt);
    }
}

void pvx_winograd_forward(const PvxWinograd *c, const float *x, const float *w, gboolean flip,
                          const float *bias, const float *gate, gboolean relu, float *y)
{
    Job j = {.x = x, .w = w, .flip = flip, .bias = bias, .gate = gate, .relu = relu, .out = y};
    job_tiling(&j, c);
    if (j.rows == 0 || j.tw == 0)
        return;
    j.per = block_rows(j.tw, j.rows, c->cin * c->cout, NE * (c->cin + c->cout), FORWARD_BLOCK_BYTES,
                       c->cin >= 256 ? FORWARD_MIN_TILES_WIDE : FORWARD_MIN_TILES,
                       FORWARD_BLOCK_MULTIPLE);
    j.nblocks = (j.rows + j.per - 1) / j.per;
    j.u = pvx_ops_scratch(SLOT_U, (size_t)(NE * c->cin * c->cout));
    pvx_parallel_for(c->cin, MAX(1, 4096 / MAX(c->cout, 1)), weights_transform, &j);
    int threads = (int)MIN((int64_t)pvx_num_threads(), j.nblocks);
    pvx_ops_blas_serial_begin();
    pvx_parallel_for(threads, 1, forward_blocks, &j);
    pvx_ops_blas_serial_end();
}

/* Dy of the segment's tiles into dy [16][tb][cout], from its output gradient rows oy0 … oy1 - 1
 * copied channels-last at @gt. */
static void grad_tiles(const Job *j, const Segment *g, int64_t tb, const float *gt, float *dy)
{
    const PvxWinograd *c = j->c;
    for (int64_t a = 0; a < g->nt; a++) {
        int64_t l = g->t0 + a * j->tw;
        j->k.tile_grad(gt, g->oy1 - g->oy0, c->ow, 2 * a, 0, j->tw, c->cout, dy + l * c->cout,
                       tb * c->cout, 0, 4);
    }
}

/* u [16][cout][cin] (+)= Dyᵀ · V over the block's tb tiles: 16 GEMMs, the first block of a
 * chunk overwriting. */
static void wgrad_gemms(const Job *j, int64_t tb, const float *dy, const float *v, float *u,
                        gboolean first)
{
    const PvxWinograd *c = j->c;
    for (int e = 0; e < NE; e++)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)c->cout, (int)c->cin, (int)tb,
                    1.0f, dy + e * tb * c->cout, (int)c->cout, v + e * tb * c->cin, (int)c->cin,
                    first ? 0.0f : 1.0f, u + e * c->cout * c->cin, (int)c->cin);
}

/* Weight gradient of chunks [q0, q1): each chunk's blocks, in order, summed into the chunk's
 * own U [16][cout][cin]. The chunks are fixed by the blocks alone, not by the threads, and
 * weights_grad_finish adds them in order: the result does not depend on the number of threads. */
static void weight_grad_chunks(int64_t q0, int64_t q1, void *data)
{
    Job *j = data;
    const PvxWinograd *c = j->c;
    int64_t tb_max = j->per * j->tw, image = c->cout * c->oh * c->ow;
    float *v = pvx_ops_scratch(SLOT_V, (size_t)(NE * c->cin * tb_max));
    float *dy = pvx_ops_scratch(SLOT_M, (size_t)(NE * c->cout * tb_max));
    float *xt = pvx_ops_scratch(SLOT_XT, rows_in_floats(j));
    float *gt = pvx_ops_scratch(SLOT_YT, rows_out_floats(j));
    for (int64_t q = q0; q < q1; q++) {
        float *u = j->u + q * NE * c->cout * c->cin;
        int64_t k0 = q * j->nblocks / j->chunks, k1 = (q + 1) * j->nblocks / j->chunks;
        for (int64_t k = k0; k < k1; k++) {
            int64_t r0 = k * j->per, r1 = MIN(r0 + j->per, j->rows), tb = (r1 - r0) * j->tw;
            for (int64_t r = r0; r < r1;) {
                Segment g = segment_at(j, r0, r1, r);
                r += g.nt;
                input_transform(j, &g, tb, 0, 4, xt, v);
                j->k.to_last(j->dy + g.n * image, c->cout, c->oh * c->ow, g.oy0 * c->ow,
                             (g.oy1 - g.oy0) * c->ow, gt);
                grad_tiles(j, &g, tb, gt, dy);
            }
            wgrad_gemms(j, tb, dy, v, u, k == k0);
        }
    }
}

/* The weight gradient's tiling (shared by the fused backward): blocks, chunks, the chunks' sums. */
static void wgrad_tiling(Job *j)
{
    const PvxWinograd *c = j->c;
    j->per = block_rows(j->tw, j->rows, c->cin * c->cout, NE * (c->cin + c->cout),
                        WGRAD_BLOCK_BYTES, WGRAD_MIN_TILES, 1);
    j->per = MAX(1, MIN(j->per, WGRAD_MAX_TILES / j->tw));
    j->nblocks = (j->rows + j->per - 1) / j->per;
    j->chunks = MIN(WGRAD_CHUNKS, j->nblocks);
    j->u = pvx_ops_scratch(SLOT_UW, (size_t)(j->chunks * NE * c->cin * c->cout));
}

void pvx_winograd_weight_grad(const PvxWinograd *c, const float *x, const float *dy, float *dw)
{
    Job j = {.x = x, .dy = dy, .out = dw};
    job_tiling(&j, c);
    if (j.rows == 0 || j.tw == 0)
        return;
    wgrad_tiling(&j);
    pvx_ops_blas_serial_begin();
    pvx_parallel_for(j.chunks, 1, weight_grad_chunks, &j);
    pvx_ops_blas_serial_end();
    pvx_parallel_for(c->cout, MAX(1, 4096 / MAX(c->cin, 1)), weights_grad_finish, &j);
}

/* The input gradient (d: a forward over dy) and the weight gradient (w) of one convolution,
 * tiled alike; with the bias gradient, each chunk's sums of dy per channel. */
typedef struct {
    Job d, w;
    double *bsum; /* nullable: [chunks][cout] */
    float *btmp;  /* [chunks][cout] */
} Backward;

/* s[c] += Σ_p rows[p · C + c] over @nrows rows of @w positions: each channel summed in float
 * along a row, then into its double sum (one float sum over a whole segment, a few hundred
 * values, measured 1.3e-5 relative against PyTorch on VGG-16's 14×14 layers). */
PVX_KERNEL_CLONES static void channel_sums(const float *restrict rows, int64_t nrows, int64_t w,
                                           int64_t C, float *restrict tmp, double *restrict s)
{
    for (int64_t r = 0; r < nrows; r++) {
        for (int64_t c = 0; c < C; c++)
            tmp[c] = 0.0f;
        for (int64_t p = r * w; p < (r + 1) * w; p++)
            for (int64_t c = 0; c < C; c++)
                tmp[c] += rows[p * C + c];
        for (int64_t c = 0; c < C; c++)
            s[c] += tmp[c];
    }
}

/* Both gradients for chunks [q0, q1) of the weight gradient's blocks. Per block: dy's rows are
 * copied channels-last once, for the input gradient's input tiles and the weight gradient's Dy
 * both; then the input gradient's GEMMs and output; then x's tiles and the weight gradient's
 * GEMMs. */
static void backward_chunks(int64_t q0, int64_t q1, void *data)
{
    Backward *bk = data;
    const Job *jd = &bk->d, *jw = &bk->w;
    const PvxWinograd *c = jw->c;
    int64_t tb_max = jw->per * jw->tw;
    float *v = pvx_ops_scratch(SLOT_V, (size_t)(NE * MAX(c->cin, c->cout) * tb_max));
    float *m = pvx_ops_scratch(SLOT_M, (size_t)(NE * c->cin * tb_max));
    float *dyt = pvx_ops_scratch(SLOT_D, (size_t)(NE * c->cout * tb_max));
    float *rt = pvx_ops_scratch(SLOT_XT, MAX(rows_in_floats(jd), rows_in_floats(jw)));
    float *yt = pvx_ops_scratch(SLOT_YT, rows_out_floats(jd));
    for (int64_t q = q0; q < q1; q++) {
        float *u = jw->u + q * NE * c->cout * c->cin;
        int64_t k0 = q * jw->nblocks / jw->chunks, k1 = (q + 1) * jw->nblocks / jw->chunks;
        for (int64_t k = k0; k < k1; k++) {
            int64_t r0 = k * jw->per, r1 = MIN(r0 + jw->per, jw->rows), tb = (r1 - r0) * jw->tw;
            for (int64_t r = r0; r < r1;) {
                Segment gd = segment_at(jd, r0, r1, r), gw = segment_at(jw, r0, r1, r);
                r += gw.nt;
                /* dy rows [gd.ylo, gd.yhi) into rt, which holds the Dy rows [gw.oy0, gw.oy1) */
                input_transform(jd, &gd, tb, 0, 4, rt, v);
                const float *g = rt + (gw.oy0 - gd.ylo) * c->ow * c->cout;
                grad_tiles(jw, &gw, tb, g, dyt);
                if (bk->bsum != NULL)
                    channel_sums(g, gw.oy1 - gw.oy0, c->ow, c->cout, bk->btmp + q * c->cout,
                                 bk->bsum + q * c->cout);
            }
            forward_gemms(jd, tb, v, m);
            output_rows(jd, r0, r1, tb, m, yt);
            for (int64_t r = r0; r < r1;) {
                Segment gw = segment_at(jw, r0, r1, r);
                r += gw.nt;
                input_transform(jw, &gw, tb, 0, 4, rt, v);
            }
            wgrad_gemms(jw, tb, dyt, v, u, k == k0);
        }
    }
}

void pvx_winograd_backward(const PvxWinograd *c, const float *x, const float *w, const float *dy,
                           const float *gate, float *dx, float *dw, float *db)
{
    g_return_if_fail(c->ph == 1 && c->pw == 1 && c->oh == c->h && c->ow == c->w);
    PvxWinograd cd = pvx_winograd_input_grad(c);
    Backward bk = {.d = {.x = dy, .w = w, .flip = TRUE, .gate = gate, .out = dx},
                   .w = {.x = x, .dy = dy, .out = dw}};
    job_tiling(&bk.d, &cd);
    job_tiling(&bk.w, c);
    if (bk.w.rows == 0 || bk.w.tw == 0)
        return;
    wgrad_tiling(&bk.w);
    bk.d.per = bk.w.per;
    bk.d.nblocks = bk.w.nblocks;
    bk.d.u = pvx_ops_scratch(SLOT_U, (size_t)(NE * c->cin * c->cout));
    pvx_parallel_for(cd.cin, MAX(1, 4096 / MAX(cd.cout, 1)), weights_transform, &bk.d);
    if (db != NULL) {
        bk.bsum = g_new0(double, bk.w.chunks * c->cout);
        bk.btmp = g_new(float, bk.w.chunks * c->cout);
    }
    pvx_ops_blas_serial_begin();
    pvx_parallel_for(bk.w.chunks, 1, backward_chunks, &bk);
    pvx_ops_blas_serial_end();
    pvx_parallel_for(c->cout, MAX(1, 4096 / MAX(c->cin, 1)), weights_grad_finish, &bk.w);
    if (db != NULL) {
        for (int64_t co = 0; co < c->cout; co++) {
            double sum = 0.0;
            for (int64_t q = 0; q < bk.w.chunks; q++)
                sum += bk.bsum[q * c->cout + co];
            db[co] += (float)sum;
        }
        g_free(bk.bsum);
        g_free(bk.btmp);
    }
}
