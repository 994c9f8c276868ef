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
 * This file is the driver: the blocking, the threads, the GEMMs and the entry points. The kernels
 * (weight and tile transforms, layout copies; plain C and AVX-512, the same bits) are in
 * winograd_kernels.c.
 */
#include <cblas.h>
#include <string.h>

#include "ops_private.h"
#include "winograd_private.h"

#define NE PVX_WINOGRAD_NE

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

/* The forward with at most this many tiles in all (VGG-16's 14×14 layers at batch 1: 49, at
 * batch 2: 98) and at least two blocks of SPLIT_COUT output channels shares out those blocks
 * between the threads instead of blocks of tiles (forward_split). Measured on 512 channels at
 * 14×14 (batch 1 and 2) and 7×7, and on 256 at 14×14 and 7×7: 1.2–1.9× faster than the blocks of
 * tiles (the same bits) and than im2col; at 28×28 (196 tiles) no faster than the tiles. */
#define SPLIT_MAX_TILES 128
#define SPLIT_COUT 64

/* Scratch slots (see pvx_ops_scratch, per thread): the calling thread holds U (the transformed
 * weights) and the weight gradient's chunk sums (UW); every thread running blocks holds its own
 * channels-last copies of a segment's rows (XT for the input, YT for the output), V, M and (the
 * fused backward) Dy. Slots 0 and 1 are also im2col's and the direct convolution's, never in use
 * during these calls. */
enum { SLOT_XT = 0, SLOT_YT = 1, SLOT_U = 2, SLOT_V = 3, SLOT_M = 4, SLOT_D = 5, SLOT_UW = 6 };

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
    PvxWinogradKernels k;
} Job;

/* ---- weights ------------------------------------------------------------------------------- */

/* pvx_parallel_for bodies over input channels and output channels. */
static void weights_transform(int64_t ci0, int64_t ci1, void *data)
{
    const Job *j = data;
    pvx_winograd_weights_transform(j->w, j->c->cin, j->c->cout, j->flip, ci0, ci1, j->u);
}

static void weights_grad_finish(int64_t co0, int64_t co1, void *data)
{
    const Job *j = data;
    pvx_winograd_weights_grad_finish(j->u, j->chunks, j->c->cin, j->c->cout, co0, co1, j->out);
}

/* ---- drivers ------------------------------------------------------------------------------- */

static void job_tiling(Job *j, const PvxWinograd *c)
{
    j->c = c;
    j->k = pvx_winograd_kernels();
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

/* ---- few tiles: output-channel blocks ------------------------------------------------------- */

/* pvx_parallel_for body of the split forward's first step: V of tile rows [r0, r1) (all tiles
 * of the batch are one block of j->rows · j->tw tiles), one image's part at a time. */
static void split_input_rows(int64_t r0, int64_t r1, void *data)
{
    const Job *j = data;
    const PvxWinograd *c = j->c;
    int64_t tb = j->rows * j->tw;
    float *xt = pvx_ops_scratch(SLOT_XT, (size_t)(MIN(2 * (r1 - r0) + 2, c->h) * c->w * c->cin));
    for (int64_t r = r0; r < r1;) {
        Segment g = segment_at(j, r0, r1, r);
        g.t0 = r * j->tw;
        r += g.nt;
        input_transform(j, &g, tb, 0, 4, xt, j->u);
    }
}

/* pvx_parallel_for body of the split forward's second step: takes blocks of SPLIT_COUT output
 * channels until none is left; per block, the weights' transform for those channels, 16 GEMMs
 * [tiles, cin] · [cin, block] on the V of the first step (j->u) and the output transform of
 * those channels — the block's U and M stay in this core's L2. */
static void split_cout_blocks(int64_t t0, int64_t t1, void *data)
{
    (void)t0;
    (void)t1;
    Job *j = data;
    const PvxWinograd *c = j->c;
    int64_t tb = j->rows * j->tw, plane = c->oh * c->ow, image = c->cout * plane;
    float *u = pvx_ops_scratch(SLOT_D, (size_t)(NE * c->cin * SPLIT_COUT));
    float *m = pvx_ops_scratch(SLOT_M, (size_t)(NE * tb * SPLIT_COUT));
    float *yt = pvx_ops_scratch(SLOT_YT, (size_t)(plane * SPLIT_COUT));
    for (;;) {
        int64_t co0 = (int64_t)g_atomic_int_add(&j->next, 1) * SPLIT_COUT;
        if (co0 >= c->cout)
            break;
        int64_t cb = MIN(SPLIT_COUT, c->cout - co0);
        /* w [cout][cin][3][3] from output channel co0 on is the weight of cb channels */
        pvx_winograd_weights_transform(j->w + co0 * c->cin * 9, c->cin, cb, FALSE, 0, c->cin, u);
        for (int e = 0; e < NE; e++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)tb, (int)cb, (int)c->cin,
                        1.0f, j->u + e * tb * c->cin, (int)c->cin, u + e * c->cin * cb, (int)cb,
                        0.0f, m + e * tb * cb, (int)cb);
        const float *bias = j->bias != NULL ? j->bias + co0 : NULL;
        for (int64_t n = 0; n < c->n; n++) {
            for (int64_t ty = 0; ty < j->th; ty++)
                j->k.tile_out(m + (n * j->th + ty) * j->tw * cb, tb * cb, cb, bias, yt, c->oh,
                              c->ow, 2 * ty, 0, j->tw);
            int64_t o = n * image + co0 * plane;
            j->k.to_first(yt, cb, plane, 0, plane, j->out + o, j->gate != NULL ? j->gate + o : NULL,
                          j->relu);
        }
    }
}

/* The forward for few tiles (a small image at batch 1): the tiles are too few to share out (two
 * blocks of 25 tiles at 14×14 each ran 16 thin GEMMs over the whole U, and the weights'
 * transform, written to memory and read back by both threads, cost as much as the GEMMs), so
 * the threads share out the output channels instead: V of all tiles first (parallel over tile
 * rows), then blocks of output channels, each transforming its own weights. The blocks are fixed
 * by the shapes alone, not the thread count. Not for the input gradient (@flip). */
static void forward_split(Job *j)
{
    const PvxWinograd *c = j->c;
    j->per = 1;
    j->u = pvx_ops_scratch(SLOT_V, (size_t)(NE * j->rows * j->tw * c->cin));
    pvx_parallel_for(j->rows, 1, split_input_rows, j);
    int64_t nblocks = (c->cout + SPLIT_COUT - 1) / SPLIT_COUT;
    int threads = (int)MIN((int64_t)pvx_num_threads(), nblocks);
    pvx_ops_blas_serial_begin();
    pvx_parallel_for(threads, 1, split_cout_blocks, j);
    pvx_ops_blas_serial_end();
}

gboolean pvx_winograd_forward_splits(const PvxWinograd *c)
{
    return c->n * ((c->oh + 1) / 2) * ((c->ow + 1) / 2) <= SPLIT_MAX_TILES &&
           c->cout >= 2 * SPLIT_COUT;
}

void pvx_winograd_forward(const PvxWinograd *c, const float *x, const float *w, gboolean flip,
                          const float *bias, const float *gate, gboolean relu, float *y)
{
    Job j = {.x = x, .w = w, .flip = flip, .bias = bias, .gate = gate, .relu = relu, .out = y};
    job_tiling(&j, c);
    if (j.rows == 0 || j.tw == 0)
        return;
    if (!flip && pvx_winograd_forward_splits(c)) {
        forward_split(&j);
        return;
    }
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
                    pvx_winograd_channel_sums(g, gw.oy1 - gw.oy0, c->ow, c->cout,
                                              bk->btmp + q * c->cout, bk->bsum + q * c->cout);
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
