/* pvx — the Winograd F(2×2, 3×3) convolution's kernels (winograd_private.h): the weight transforms,
 * the tile transforms and the layout copies between NCHW and channels-last rows, in plain C and
 * in AVX-512. The blocking, threading and GEMMs that drive them are in winograd.c, whose top
 * comment gives the method.
 *
 * Every kernel has a plain C version and an AVX-512 one (pvx_ops_use_avx512) doing the same
 * operations in the same order: the two give the same bits (tested).
 */
#include <string.h>

#include "ops_private.h"
#include "winograd_private.h"

#define NE PVX_WINOGRAD_NE

/* ---- weights ------------------------------------------------------------------------------- */

/* U[e][ci][co] = (G g Gᵀ)[e], G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]. Works on chunks of WCHUNK output
 * channels in local arrays, component-major, so that the arithmetic runs over unit-stride channel
 * vectors and each component is written as one contiguous run. */
#define WCHUNK 64
void pvx_winograd_weights_transform(const float *w, int64_t cin, int64_t cout, gboolean flip,
                                    int64_t ci0, int64_t ci1, float *u)
{
    int64_t plane = cin * cout;
    float g[9][WCHUNK], t[4][3][WCHUNK], ue[NE][WCHUNK];
    for (int64_t ci = ci0; ci < ci1; ci++) {
        for (int64_t c0 = 0; c0 < cout; c0 += WCHUNK) {
            int64_t nc = MIN(WCHUNK, cout - c0);
            for (int64_t k = 0; k < nc; k++) {
                const float *s =
                    flip ? w + (ci * cout + c0 + k) * 9 : w + ((c0 + k) * cin + ci) * 9;
                for (int q = 0; q < 9; q++)
                    g[q][k] = s[flip ? 8 - q : q];
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
                    ue[4 * r + 0][k] = t[r][0][k];
                    ue[4 * r + 1][k] = 0.5f * (t[r][0][k] + t[r][1][k] + t[r][2][k]);
                    ue[4 * r + 2][k] = 0.5f * (t[r][0][k] - t[r][1][k] + t[r][2][k]);
                    ue[4 * r + 3][k] = t[r][2][k];
                }
            }
            for (int e = 0; e < NE; e++)
                memcpy(u + e * plane + ci * cout + c0, ue[e], (size_t)nc * sizeof(float));
        }
    }
}

/* dw[co][ci] += Gᵀ Macc[.][co][ci] G, Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1], Macc the sum of the
 * chunks' sums in chunk order. Chunks of input channels in local arrays as in
 * pvx_winograd_weights_transform. */
void pvx_winograd_weights_grad_finish(const float *sums, int64_t chunks, int64_t cin, int64_t cout,
                                      int64_t co0, int64_t co1, float *dw)
{
    int64_t plane = cin * cout;
    float m[NE][WCHUNK], t[3][4][WCHUNK], d[9][WCHUNK];
    for (int64_t co = co0; co < co1; co++) {
        for (int64_t c0 = 0; c0 < cin; c0 += WCHUNK) {
            int64_t nc = MIN(WCHUNK, cin - c0);
            for (int e = 0; e < NE; e++) {
                memcpy(m[e], sums + e * plane + co * cin + c0, (size_t)nc * sizeof(float));
                for (int64_t q = 1; q < chunks; q++) {
                    const float *s = sums + (q * NE + e) * plane + co * cin + c0;
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
            float *dst = dw + (co * cin + c0) * 9;
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

PvxWinogradKernels pvx_winograd_kernels(void)
{
#ifdef PVX_WINOGRAD_X86
    if (pvx_ops_use_avx512())
        return (PvxWinogradKernels){to_last_avx512, to_first_avx512, tile_in_avx512,
                                    tile_out_avx512, tile_grad_avx512};
#endif
    return (PvxWinogradKernels){to_last_generic, to_first_generic, tile_in_generic,
                                tile_out_generic, tile_grad_generic};
}

/* ---- bias gradient ------------------------------------------------------------------------- */

/* Cloned per vector width as a static function: GCC gives the dispatching symbol of a
 * non-static clone default visibility whatever -fvisibility says, and libpvx would export it. */
static PVX_KERNEL_CLONES void channel_sums(const float *restrict rows, int64_t nrows, int64_t w,
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

void pvx_winograd_channel_sums(const float *restrict rows, int64_t nrows, int64_t w, int64_t C,
                               float *restrict tmp, double *restrict s)
{
    channel_sums(rows, nrows, w, C, tmp, s);
}
