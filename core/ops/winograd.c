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

/* d B along one input row (see row_transform_generic). */
typedef void (*RowTransform)(const PvxWinograd *c, const float *row, int64_t tw, float *h0,
                             float *h1, float *h2, float *h3);

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
    const float *gate; /* forward: nullable, the output is zeroed where gate <= 0 */
    float *u;          /* transformed weights [16][cout][cin] / weight-grad sums */
    float *out;        /* forward output / weight-grad dw */
    const float *dy;   /* weight grad: output gradient */
    RowTransform row_transform; /* the input rows' d B, per CPU */
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

/* Element-wise loops over whole segments. Kept as functions with restrict parameters: GCC
 * honours restrict on parameters (and keeps it through inlining) but not on block-scope
 * pointers, and without it these loops stay scalar behind aliasing doubts. */
static inline void vec_sub(float *restrict y, const float *restrict a, const float *restrict b,
                           int64_t n)
{
    for (int64_t t = 0; t < n; t++)
        y[t] = a[t] - b[t];
}

static inline void vec_add(float *restrict y, const float *restrict a, const float *restrict b,
                           int64_t n)
{
    for (int64_t t = 0; t < n; t++)
        y[t] = a[t] + b[t];
}

/* y = a + b + c + k */
static inline void vec_add3(float *restrict y, const float *restrict a, const float *restrict b,
                            const float *restrict c, float k, int64_t n)
{
    for (int64_t t = 0; t < n; t++)
        y[t] = a[t] + b[t] + c[t] + k;
}

/* y = a - b - c + k */
static inline void vec_sub3(float *restrict y, const float *restrict a, const float *restrict b,
                            const float *restrict c, float k, int64_t n)
{
    for (int64_t t = 0; t < n; t++)
        y[t] = a[t] - b[t] - c[t] + k;
}

/* p = -a, q = -b */
static inline void vec_neg2(float *restrict p, float *restrict q, const float *restrict a,
                            const float *restrict b, int64_t n)
{
    for (int64_t t = 0; t < n; t++) {
        p[t] = -a[t];
        q[t] = -b[t];
    }
}

/* A along a row of A dy: the column pair (p, q) → (p, p + q, p - q, -q). */
static inline void vec_pq(float *restrict v0, float *restrict v1, float *restrict v2,
                          float *restrict v3, const float *restrict p, const float *restrict q,
                          int64_t n)
{
    for (int64_t t = 0; t < n; t++) {
        v0[t] = p[t];
        v1[t] = p[t] + q[t];
        v2[t] = p[t] - q[t];
        v3[t] = -q[t];
    }
}

/* One padded input row d (2n + 2 floats) times B: h0..h3 for n tiles. */
static inline void row_times_b(float *restrict h0, float *restrict h1, float *restrict h2,
                               float *restrict h3, const float *restrict d, int64_t n)
{
    for (int64_t t = 0; t < n; t++) {
        float d0 = d[2 * t], d1 = d[2 * t + 1], d2 = d[2 * t + 2], d3 = d[2 * t + 3];
        h0[t] = d0 - d2;
        h1[t] = d1 + d2;
        h2[t] = d2 - d1;
        h3[t] = d1 - d3;
    }
}

/* y = y where g > 0, else 0 (a ReLU's backward on a row just written). */
static inline void vec_gate(float *restrict y, const float *restrict g, int64_t n)
{
    for (int64_t t = 0; t < n; t++)
        y[t] = g[t] > 0.0f ? y[t] : 0.0f;
}

/* Splits @n pairs of @src into its even (e) and odd (o) elements. */
static inline void deinterleave(float *restrict e, float *restrict o, const float *restrict src,
                                int64_t n)
{
    for (int64_t t = 0; t < n; t++) {
        e[t] = src[2 * t];
        o[t] = src[2 * t + 1];
    }
}

/* Interleaves e and o into dst (n pairs). */
static inline void interleave(float *restrict dst, const float *restrict e,
                              const float *restrict o, int64_t n)
{
    for (int64_t t = 0; t < n; t++) {
        dst[2 * t] = e[t];
        dst[2 * t + 1] = o[t];
    }
}

/* ---- input tiles --------------------------------------------------------------------------- */

/* Row @iy of @plane times B for all tw tiles: h[k][t] from the padded row's columns 2t … 2t + 3
 * (input columns shifted by pw, zero outside). The tiles that lie wholly inside the row read it
 * in place — a copy into a padded buffer, read back at once with other widths and offsets, stalls
 * on store forwarding — and the few at the edges go through a four-float buffer. */
static void row_transform_generic(const PvxWinograd *c, const float *row, int64_t tw, float *h0,
                                  float *h1, float *h2, float *h3)
{
    /* first tile with 2t - pw >= 0 (pw is negative in the input gradient of pad > 2) */
    int64_t lo = MAX((c->pw + 1) / 2, 0);
    int64_t hi = c->w + c->pw >= 3 ? (c->w + c->pw - 2) / 2 : 0; /* end of 2t + 3 - pw < w */
    hi = MIN(hi, tw);
    lo = MIN(lo, hi);
    if (hi > lo)
        row_times_b(h0 + lo, h1 + lo, h2 + lo, h3 + lo, row + 2 * lo - c->pw, hi - lo);
    for (int64_t t = 0; t < tw; t++) {
        if (t == lo && hi > lo) { /* the interior is done */
            t = hi - 1;
            continue;
        }
        float d[4];
        for (int k = 0; k < 4; k++) {
            int64_t x = 2 * t + k - c->pw;
            d[k] = x >= 0 && x < c->w ? row[x] : 0.0f;
        }
        h0[t] = d[0] - d[2];
        h1[t] = d[1] + d[2];
        h2[t] = d[2] - d[1];
        h3[t] = d[1] - d[3];
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PVX_WINOGRAD_X86 1
#include <immintrin.h>

/* Columns x0 … x0 + 15 of a row of @w floats, zero outside it: a masked load, which reads (and
 * can fault on) only the lanes inside the row. */
__attribute__((target("avx512f"))) static inline __m512 load_cols(const float *row, int64_t x0,
                                                                  int64_t w)
{
    int64_t lo = MAX(-x0, 0), hi = MIN(w - x0, 16);
    if (lo == 0 && hi == 16)
        return _mm512_loadu_ps(row + x0);
    if (hi <= lo)
        return _mm512_setzero_ps();
    __mmask16 m = (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
    /* lane l reads row[x0 + l]; the lanes before the row are masked out */
    return _mm512_maskz_loadu_ps(m, (const float *)((uintptr_t)row + (uintptr_t)(x0 * 4)));
}

/* The same with AVX-512, 16 tiles per step: at 28×28 and below a row holds 14 tiles or fewer,
 * too few for the compiler's vectorised loops (and its stride-2 loads), and the scalar loop cost
 * a tenth of a training step. The 34 floats the 16 tiles read come as four masked loads (zeros
 * for the padding on either side), split into even and odd columns by two-source permutes. Same
 * operations as the generic path, so bit-identical results. */
__attribute__((target("avx512f"))) static void
row_transform_avx512(const PvxWinograd *c, const float *row, int64_t tw, float *h0, float *h1,
                     float *h2, float *h3)
{
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4,
                                          2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5,
                                         3, 1);
    for (int64_t t0 = 0; t0 < tw; t0 += 16) {
        int64_t x0 = 2 * t0 - c->pw; /* column of the first tile's d0 */
        __m512 a = load_cols(row, x0, c->w), b = load_cols(row, x0 + 16, c->w);
        __m512 p = load_cols(row, x0 + 2, c->w), q = load_cols(row, x0 + 18, c->w);
        __m512 d0 = _mm512_permutex2var_ps(a, even, b), d1 = _mm512_permutex2var_ps(a, odd, b);
        __m512 d2 = _mm512_permutex2var_ps(p, even, q), d3 = _mm512_permutex2var_ps(p, odd, q);
        __mmask16 m = tw - t0 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (tw - t0)) - 1u);
        _mm512_mask_storeu_ps(h0 + t0, m, _mm512_sub_ps(d0, d2));
        _mm512_mask_storeu_ps(h1 + t0, m, _mm512_add_ps(d1, d2));
        _mm512_mask_storeu_ps(h2 + t0, m, _mm512_sub_ps(d2, d1));
        _mm512_mask_storeu_ps(h3 + t0, m, _mm512_sub_ps(d1, d3));
    }
}
#endif

/* The row transform this CPU runs (pvx_ops_use_avx512). */
static RowTransform pick_row_transform(void)
{
#ifdef PVX_WINOGRAD_X86
    if (pvx_ops_use_avx512())
        return row_transform_avx512;
#endif
    return row_transform_generic;
}

/* The transforms work per image segment of a block — tile rows [ty0, ty0 + nt) of image n,
 * starting at tile t0 of the block — so that their loops run over whole planes of tiles
 * (nt · tw floats, unit stride) rather than one tile row at a time: at 28×28 and smaller a tile
 * row is 14 floats or fewer, too short for the vector units. */
typedef struct {
    int64_t n, ty0, nt, t0;
} Segment;

/* The segment of the block that starts at tile row @r, which is in [b->r0, b->r1). */
static Segment segment_at(const Job *j, const Block *b, int64_t r)
{
    int64_t n = r / j->th, end = MIN(b->r1, (n + 1) * j->th);
    return (Segment){ .n = n, .ty0 = r % j->th, .nt = end - r, .t0 = (r - b->r0) * j->tw };
}

/* Scratch floats the transforms need per thread (SLOT_ROWS): eight planes of (th + 1) · tw
 * floats (a whole image's tile rows: a segment never spans more than one image). */
static size_t rows_scratch(const Job *j)
{
    return (size_t)(8 * (j->th + 1) * j->tw);
}

/* V[e][ci][t] = (Bᵀ d B)[e] for the block's tiles, Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0;
 * 0 1 0 -1], components e = 4 i + col in [b->e0, b->e0 + b->ne) (whole rows of 4). Per segment
 * and input channel: first d B along each padded input row the segment reads (each row once,
 * though neighbouring tile rows share two), stored by row parity as H[col][parity][a][tx] for
 * row 2a + parity; then Bᵀ down the columns, which pairs row a with row a + 1 of a parity — a
 * shift by tw in the flat plane, so each of the 16 outputs is one unit-stride loop. */
PVX_KERNEL_CLONES static void input_transform(const Job *j, const Block *b)
{
    const PvxWinograd *c = j->c;
    int64_t tw = j->tw, hplane = (j->th + 1) * tw;
    float *buf = pvx_ops_scratch(SLOT_ROWS, rows_scratch(j));
    int i0 = b->e0 / 4, i1 = (b->e0 + b->ne) / 4;
    int64_t stride = c->cin * b->tb;
    for (int64_t r = b->r0; r < b->r1;) {
        Segment g = segment_at(j, b, r);
        r += g.nt;
        int64_t L = g.nt * tw;
        for (int64_t ci = 0; ci < c->cin; ci++) {
            const float *plane = j->x + (g.n * c->cin + ci) * c->h * c->w;
            if (ci + 1 < c->cin) {
                /* the next channel's rows, a cache line at a time, while this one works */
                int64_t y0 = CLAMP(2 * g.ty0 - c->ph, 0, c->h);
                int64_t y1 = CLAMP(2 * (g.ty0 + g.nt) + 2 - c->ph, 0, c->h);
                const char *nx = (const char *)(plane + c->h * c->w + y0 * c->w);
                for (int64_t o = 0; o < (y1 - y0) * c->w * 4; o += 64)
                    __builtin_prefetch(nx + o);
            }
            for (int64_t k = 0; k < 2 * g.nt + 2; k++) {
                float *h = buf + (k & 1) * hplane + (k >> 1) * tw;
                float *h0 = h, *h1 = h + 2 * hplane, *h2 = h + 4 * hplane, *h3 = h + 6 * hplane;
                int64_t iy = 2 * g.ty0 - c->ph + k;
                if (iy < 0 || iy >= c->h) {
                    memset(h0, 0, (size_t)tw * sizeof(float));
                    memset(h1, 0, (size_t)tw * sizeof(float));
                    memset(h2, 0, (size_t)tw * sizeof(float));
                    memset(h3, 0, (size_t)tw * sizeof(float));
                    continue;
                }
                j->row_transform(c, plane + iy * c->w, tw, h0, h1, h2, h3);
            }
            float *dst = b->v + ci * b->tb + g.t0;
            for (int i = i0; i < i1; i++) {
                for (int col = 0; col < 4; col++) {
                    const float *he = buf + (2 * col) * hplane;
                    const float *ho = he + hplane;
                    float *v = dst + (4 * i + col - b->e0) * stride;
                    switch (i) {
                    case 0: /* d0 - d2 */
                        vec_sub(v, he, he + tw, L);
                        break;
                    case 1: /* d1 + d2 */
                        vec_add(v, ho, he + tw, L);
                        break;
                    case 2: /* d2 - d1 */
                        vec_sub(v, he + tw, ho, L);
                        break;
                    default: /* d1 - d3 */
                        vec_sub(v, ho, ho + tw, L);
                        break;
                    }
                }
            }
        }
    }
}

/* ---- output tiles -------------------------------------------------------------------------- */

/* y = Aᵀ m A (+ bias), Aᵀ = [1 1 1 0; 0 1 -1 -1], written into the output tiles that exist.
 * Per segment and output channel, for each output row of the tiles (p = 0, 1): Aᵀ down the
 * columns (s[col] = row p of Aᵀ m), then A along the rows into the even and odd output columns
 * (ye, yo), all over the whole segment; then ye and yo are interleaved into the output rows. */
PVX_KERNEL_CLONES static void output_transform(const Job *j, const Block *b)
{
    const PvxWinograd *c = j->c;
    int64_t tw = j->tw, stride = c->cout * b->tb, plane_tiles = j->th * tw;
    float *buf = pvx_ops_scratch(SLOT_ROWS, rows_scratch(j));
    float *s[4] = { buf, buf + plane_tiles, buf + 2 * plane_tiles, buf + 3 * plane_tiles };
    float *ye = buf + 4 * plane_tiles, *yo = buf + 5 * plane_tiles;
    int64_t full = c->ow / 2; /* tiles whose two columns both exist */
    for (int64_t r = b->r0; r < b->r1;) {
        Segment g = segment_at(j, b, r);
        r += g.nt;
        int64_t L = g.nt * tw;
        for (int64_t co = 0; co < c->cout; co++) {
            float bias = j->bias != NULL ? j->bias[co] : 0.0f;
            const float *m = b->m + co * b->tb + g.t0;
            float *plane = j->out + (g.n * c->cout + co) * c->oh * c->ow;
            for (int p = 0; p < 2; p++) {
                for (int col = 0; col < 4; col++) {
                    const float *m0 = m + col * stride, *m1 = m0 + 4 * stride,
                                *m2 = m1 + 4 * stride, *m3 = m2 + 4 * stride;
                    if (p == 0)
                        vec_add3(s[col], m0, m1, m2, 0.0f, L);
                    else
                        vec_sub3(s[col], m1, m2, m3, 0.0f, L);
                }
                vec_add3(ye, s[0], s[1], s[2], bias, L);
                vec_sub3(yo, s[1], s[2], s[3], bias, L);
                for (int64_t a = 0; a < g.nt; a++) {
                    int64_t oy = 2 * (g.ty0 + a) + p;
                    if (oy >= c->oh)
                        break;
                    float *dst = plane + oy * c->ow;
                    interleave(dst, ye + a * tw, yo + a * tw, full);
                    if (full < tw)
                        dst[2 * full] = ye[a * tw + full];
                    if (j->gate != NULL)
                        vec_gate(dst, j->gate + (dst - j->out), c->ow);
                }
            }
        }
    }
}

/* ---- output gradient tiles (weight gradient) ----------------------------------------------- */

/* Dy[e][co][t] = (A dy Aᵀ)[e] for the 2×2 tile of dy (zero where the output does not exist),
 * A = [1 0; 1 1; 1 -1; 0 -1], components e in [b->e0, b->e0 + b->ne) (whole rows of 4). Per
 * segment and output channel: the tiles' four values split into planes (even / odd output row
 * × even / odd column), then A down the rows (p, q: the even and odd column of row i of A dy)
 * and along them, each a unit-stride loop over the segment. */
PVX_KERNEL_CLONES static void grad_transform(const Job *j, const Block *b)
{
    const PvxWinograd *c = j->c;
    int64_t tw = j->tw, stride = c->cout * b->tb, full = c->ow / 2, plane_tiles = j->th * tw;
    int i0 = b->e0 / 4, i1 = (b->e0 + b->ne) / 4;
    float *buf = pvx_ops_scratch(SLOT_ROWS, rows_scratch(j));
    /* [row parity][column parity] planes of the segment's tiles, then p and q */
    float *e0 = buf, *o0 = buf + plane_tiles, *e1 = buf + 2 * plane_tiles,
          *o1 = buf + 3 * plane_tiles, *pr = buf + 4 * plane_tiles, *qr = buf + 5 * plane_tiles;
    for (int64_t r = b->r0; r < b->r1;) {
        Segment g = segment_at(j, b, r);
        r += g.nt;
        int64_t L = g.nt * tw;
        for (int64_t co = 0; co < c->cout; co++) {
            const float *plane = j->dy + (g.n * c->cout + co) * c->oh * c->ow;
            for (int64_t k = 0; k < 2 * g.nt; k++) {
                float *ev = ((k & 1) ? e1 : e0) + (k >> 1) * tw;
                float *od = ((k & 1) ? o1 : o0) + (k >> 1) * tw;
                int64_t oy = 2 * g.ty0 + k;
                if (oy >= c->oh) {
                    memset(ev, 0, (size_t)tw * sizeof(float));
                    memset(od, 0, (size_t)tw * sizeof(float));
                    continue;
                }
                const float *src = plane + oy * c->ow;
                deinterleave(ev, od, src, full);
                if (full < tw) {
                    ev[full] = src[2 * full];
                    od[full] = 0.0f;
                }
            }
            float *dst = b->m + co * b->tb + g.t0;
            for (int i = i0; i < i1; i++) {
                /* Row i of A dy: d0, d0 + d1, d0 - d1, -d1 (d0, d1: the tile's two rows); row 0
                 * is read in place. */
                const float *p = pr, *q = qr;
                switch (i) {
                case 0:
                    p = e0;
                    q = o0;
                    break;
                case 1:
                    vec_add(pr, e0, e1, L);
                    vec_add(qr, o0, o1, L);
                    break;
                case 2:
                    vec_sub(pr, e0, e1, L);
                    vec_sub(qr, o0, o1, L);
                    break;
                default:
                    vec_neg2(pr, qr, e1, o1, L);
                    break;
                }
                float *v0 = dst + (4 * i - b->e0) * stride;
                vec_pq(v0, v0 + stride, v0 + 2 * stride, v0 + 3 * stride, p, q, L);
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

/* OpenBLAS (0.3.17 on, with its small-matrix kernels built for this CPU, as Debian's are) runs a
 * GEMM of M·N·K ≤ 100³ without packing its operands. On the shapes here (one thread, M = Cout,
 * N = tiles, K = Cin of 32–128, on the AVX-512 machine of the README) the unpacked kernels ran at
 * 100–110 GFLOP/s where the packed ones, with N = 1024–2048, ran at 55–95 (2× apart at 32
 * channels). So where one tile row fits, the blocks are cut to keep each of the 16 GEMMs at or
 * under that size; with 256 channels and more a tile row is already over it, and the blocks
 * stay large. */
#define BLAS_SMALL_MNK 1000000

/* Tile rows per block for GEMMs of @mk = M·K (forward) or M·N (weight gradient) over the block's
 * tiles: under BLAS_SMALL_MNK where one tile row fits, else @fallback. Evened out like
 * block_rows. */
static int64_t small_block_rows(int64_t tw, int64_t rows, int64_t mk, int64_t threads,
                                int64_t fallback)
{
    int64_t tiles = BLAS_SMALL_MNK / MAX(mk, 1);
    if (tiles < tw)
        return fallback;
    int64_t per = CLAMP(tiles / tw, 1, rows);
    int64_t nblocks = (rows + per - 1) / per;
    nblocks = MIN((nblocks + threads - 1) / threads * threads, rows);
    return (rows + nblocks - 1) / nblocks;
}

static void job_tiling(Job *j, const PvxWinograd *c)
{
    j->c = c;
    j->row_transform = pick_row_transform();
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
                          const float *bias, const float *gate, float *y)
{
    Job j = { .x = x, .w = w, .flip = flip, .bias = bias, .gate = gate, .out = y };
    job_tiling(&j, c);
    if (j.rows == 0)
        return;
    j.per = block_rows(j.tw, j.rows, NE * (c->cin + c->cout), FORWARD_BLOCK_BYTES,
                       c->cin >= 256 ? FORWARD_MIN_TILES_WIDE : FORWARD_MIN_TILES,
                       pvx_num_threads());
    j.per = small_block_rows(j.tw, j.rows, c->cin * c->cout, pvx_num_threads(), j.per);
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
    j.per = small_block_rows(j.tw, j.rows, c->cin * c->cout, 1, j.per);
    j.nblocks = (j.rows + j.per - 1) / j.per;
    j.u = pvx_ops_scratch(SLOT_U, (size_t)(NE * c->cin * c->cout));
    pvx_ops_blas_serial_begin();
    pvx_parallel_for(4, 4 / threads, weight_grad_rows, &j);
    pvx_ops_blas_serial_end();
    pvx_parallel_for(c->cout, MAX(1, 4096 / MAX(c->cin, 1)), weights_grad_finish, &j);
}
