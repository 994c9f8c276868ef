/* pvx — the Winograd convolution's kernels, shared by its driver (winograd.c) and the kernels
 * themselves (winograd_kernels.c). Core-private (core/ops), not installed, not plugin surface.
 * The method, layouts and names (U, V, M, Dy, tiles, components) are described at the top of
 * winograd.c. All arrays are float32, row-major, owned by the caller.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

/* Transformed tile components: 4 × 4. */
#define PVX_WINOGRAD_NE 16

/* The row kernels of one instruction set (winograd_kernels.c). */
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
} PvxWinogradKernels;

/* The row kernels this CPU runs: AVX-512 where pvx_ops_use_avx512(), else plain C (same bits). */
PvxWinogradKernels pvx_winograd_kernels(void);

/* U[16][cin][cout] = G g Gᵀ for input channels [ci0, ci1) (the rest of u untouched), from the
 * weights w [cout][cin][3][3], or with @flip from w [cin][cout][3][3] rotated by 180° (the input
 * gradient's convolution). */
void pvx_winograd_weights_transform(const float *w, int64_t cin, int64_t cout, gboolean flip,
                                    int64_t ci0, int64_t ci1, float *u);

/* dw[co][ci][3][3] += Gᵀ Macc G for output channels [co0, co1), Macc[16][cout][cin] the sum, in
 * chunk order, of the @chunks sums at sums[chunks][16][cout][cin]. */
void pvx_winograd_weights_grad_finish(const float *sums, int64_t chunks, int64_t cin, int64_t cout,
                                      int64_t co0, int64_t co1, float *dw);

/* s[c] += Σ_p rows[p · C + c] over @nrows channels-last rows [@w][@C] (tmp: [@C] scratch): each
 * channel summed in float along a row, then into its double sum (one float sum over a whole
 * segment, a few hundred values, measured 1.3e-5 relative against PyTorch on VGG-16's 14×14
 * layers). */
void pvx_winograd_channel_sums(const float *restrict rows, int64_t nrows, int64_t w, int64_t C,
                               float *restrict tmp, double *restrict s);
