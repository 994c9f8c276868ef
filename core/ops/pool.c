/* pvx — max-pool 2d and adaptive average pool 2d, forward and backward.
 * Both run one (n, c) plane per work item on pvx's pool: planes never share output elements,
 * so backward needs no atomics. */
#include <math.h>
#include <string.h>

#include "ops_private.h"

/* Planes per thread below which the pool is not worth waking: ~2^15 input elements. */
static int64_t plane_grain(int64_t plane)
{
    return MAX(1, 32768 / MAX(plane, 1));
}

/* ---- max-pool ------------------------------------------------------------------------------ */

typedef struct {
    int64_t h, w, oh, ow, kh, kw, sh, sw, ph, pw;
} PoolGeom;

static gboolean maxpool_geom(const PvxTensor *x, const PvxMaxPool2dParams *p, PoolGeom *g,
                             GError **error)
{
    g_return_val_if_fail(p != NULL, FALSE);
    if (!pvx_ops_check_tensor(x, 4, "max-pool input", error))
        return FALSE;
    int sh = p->stride_h > 0 ? p->stride_h : p->kernel_h;
    int sw = p->stride_w > 0 ? p->stride_w : p->kernel_w;
    if (p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 0 || p->stride_w < 0 || p->pad_h < 0 ||
        p->pad_w < 0 || p->pad_h > p->kernel_h / 2 || p->pad_w > p->kernel_w / 2) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "max-pool: kernel %dx%d, stride %d,%d, padding %d,%d: the kernel must be "
                    "positive and the padding at most half the kernel",
                    p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, p->pad_h, p->pad_w);
        return FALSE;
    }
    *g = (PoolGeom){.h = x->shape[2],
                    .w = x->shape[3],
                    .kh = p->kernel_h,
                    .kw = p->kernel_w,
                    .sh = sh,
                    .sw = sw,
                    .ph = p->pad_h,
                    .pw = p->pad_w};
    int64_t ih = g->h + 2 * g->ph, iw = g->w + 2 * g->pw;
    if (ih < g->kh || iw < g->kw) {
        g_autofree char *xs = pvx_tensor_shape_string(x);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "max-pool: kernel %dx%d does not fit input %s padded by %d,%d", p->kernel_h,
                    p->kernel_w, xs, p->pad_h, p->pad_w);
        return FALSE;
    }
    g->oh = (ih - g->kh) / g->sh + 1;
    g->ow = (iw - g->kw) / g->sw + 1;
    return TRUE;
}

gboolean pvx_maxpool2d_output_shape(const PvxTensor *x, const PvxMaxPool2dParams *p,
                                    int64_t out_shape[4], GError **error)
{
    g_return_val_if_fail(x != NULL && out_shape != NULL, FALSE);
    PoolGeom g;
    if (!maxpool_geom(x, p, &g, error))
        return FALSE;
    out_shape[0] = x->shape[0];
    out_shape[1] = x->shape[1];
    out_shape[2] = g.oh;
    out_shape[3] = g.ow;
    return TRUE;
}

typedef struct {
    const PoolGeom *g;
    const float *x;
    float *y;
    int32_t *ind;
    float *dx;
    const float *dy;
    const float *gate; /* backward: nullable, a maximum gets its gradient only where gate > 0 */
    /* backward, instead of gate: the pool's output, which holds gate at each maximum (a quarter
     * of the reads of a 2×2 pool's gate) */
    const float *ygate;
} PoolJob;

static void maxpool_planes(int64_t p0, int64_t p1, void *data)
{
    const PoolJob *j = data;
    const PoolGeom *g = j->g;
    for (int64_t pl = p0; pl < p1; pl++) {
        const float *src = j->x + pl * g->h * g->w;
        float *dst = j->y + pl * g->oh * g->ow;
        int32_t *ind = j->ind != NULL ? j->ind + pl * g->oh * g->ow : NULL;
        for (int64_t oy = 0; oy < g->oh; oy++) {
            int64_t y0 = oy * g->sh - g->ph;
            int64_t y1 = MIN(y0 + g->kh, g->h);
            y0 = MAX(y0, 0);
            for (int64_t ox = 0; ox < g->ow; ox++) {
                int64_t x0 = ox * g->sw - g->pw;
                int64_t x1 = MIN(x0 + g->kw, g->w);
                x0 = MAX(x0, 0);
                /* PyTorch's rule: strictly greater replaces (first maximum wins), NaN wins. */
                int64_t best = y0 * g->w + x0;
                float mv = -INFINITY;
                for (int64_t iy = y0; iy < y1; iy++) {
                    for (int64_t ix = x0; ix < x1; ix++) {
                        float v = src[iy * g->w + ix];
                        if (v > mv || isnan(v)) {
                            mv = v;
                            best = iy * g->w + ix;
                        }
                    }
                }
                dst[oy * g->ow + ox] = mv;
                if (ind != NULL)
                    ind[oy * g->ow + ox] = (int32_t)best;
            }
        }
    }
}

/* VGG's pool: 2×2 window, stride 2, no padding. Every window lies inside the input, so there is
 * no bounds logic; the same rule as above (strictly greater replaces, a NaN replaces), written
 * as selects. One output row from input rows r0 and r1; @oi nullable, indices counted from
 * @base (the row's first input element). */
static void maxpool_2x2_row(const float *r0, const float *r1, float *out, int32_t *oi, int64_t ow,
                            int32_t base, int32_t w)
{
    if (oi == NULL) {
        for (int64_t ox = 0; ox < ow; ox++) {
            float m = r0[2 * ox], v = r0[2 * ox + 1];
            m = (v > m || v != v) ? v : m;
            v = r1[2 * ox];
            m = (v > m || v != v) ? v : m;
            v = r1[2 * ox + 1];
            out[ox] = (v > m || v != v) ? v : m;
        }
        return;
    }
    for (int64_t ox = 0; ox < ow; ox++) {
        int32_t k = base + 2 * (int32_t)ox, best = k;
        float m = r0[2 * ox], v = r0[2 * ox + 1];
        gboolean take = v > m || v != v;
        m = take ? v : m;
        best = take ? k + 1 : best;
        v = r1[2 * ox];
        take = v > m || v != v;
        m = take ? v : m;
        best = take ? k + w : best;
        v = r1[2 * ox + 1];
        take = v > m || v != v;
        out[ox] = take ? v : m;
        oi[ox] = take ? k + w + 1 : best;
    }
}

typedef void (*Pool2x2Row)(const float *r0, const float *r1, float *out, int32_t *oi, int64_t ow,
                           int32_t base, int32_t w);

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PVX_POOL_X86 1
#include <immintrin.h>

/* The same, 16 outputs per step: each input row's 32 floats split into even and odd columns by
 * two-source permutes, and the three comparisons done on whole vectors (the compiler leaves the
 * stride-2 loop scalar; it was a twentieth of the training benchmark's step). Same selects, so
 * the same bits. */
__attribute__((target("avx512f"))) static void maxpool_2x2_row_avx512(const float *r0,
                                                                      const float *r1, float *out,
                                                                      int32_t *oi, int64_t ow,
                                                                      int32_t base, int32_t w)
{
    const __m512i even =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    for (int64_t ox0 = 0; ox0 < ow; ox0 += 16) {
        int64_t cnt = MIN(16, ow - ox0), n2 = 2 * cnt;
        __mmask16 m = (__mmask16)(cnt == 16 ? 0xffffu : (1u << cnt) - 1u);
        __mmask16 s0 = (__mmask16)(n2 >= 16 ? 0xffffu : (1u << n2) - 1u);
        __mmask16 s1 = (__mmask16)(n2 >= 32 ? 0xffffu : n2 > 16 ? (1u << (n2 - 16)) - 1u : 0u);
        __m512 a0 = _mm512_maskz_loadu_ps(s0, r0 + 2 * ox0);
        __m512 a1 = _mm512_maskz_loadu_ps(s1, r0 + 2 * ox0 + 16);
        __m512 b0 = _mm512_maskz_loadu_ps(s0, r1 + 2 * ox0);
        __m512 b1 = _mm512_maskz_loadu_ps(s1, r1 + 2 * ox0 + 16);
        __m512 v[4] = {_mm512_permutex2var_ps(a0, even, a1), _mm512_permutex2var_ps(a0, odd, a1),
                       _mm512_permutex2var_ps(b0, even, b1), _mm512_permutex2var_ps(b0, odd, b1)};
        __m512i k = _mm512_add_epi32(_mm512_set1_epi32(base + 2 * (int32_t)ox0), even);
        const int32_t step[4] = {0, 1, w, w + 1};
        __m512 mx = v[0];
        __m512i best = k;
        for (int q = 1; q < 4; q++) {
            __mmask16 take = _mm512_cmp_ps_mask(v[q], mx, _CMP_GT_OQ) |
                             _mm512_cmp_ps_mask(v[q], v[q], _CMP_UNORD_Q);
            mx = _mm512_mask_mov_ps(mx, take, v[q]);
            best =
                _mm512_mask_mov_epi32(best, take, _mm512_add_epi32(k, _mm512_set1_epi32(step[q])));
        }
        _mm512_mask_storeu_ps(out + ox0, m, mx);
        if (oi != NULL)
            _mm512_mask_storeu_epi32(oi + ox0, m, best);
    }
}
#endif

static void maxpool_2x2_planes(int64_t p0, int64_t p1, void *data)
{
    const PoolJob *j = data;
    const PoolGeom *g = j->g;
    Pool2x2Row row = maxpool_2x2_row;
#ifdef PVX_POOL_X86
    if (pvx_ops_use_avx512())
        row = maxpool_2x2_row_avx512;
#endif
    for (int64_t pl = p0; pl < p1; pl++) {
        const float *src = j->x + pl * g->h * g->w;
        float *dst = j->y + pl * g->oh * g->ow;
        int32_t *ind = j->ind != NULL ? j->ind + pl * g->oh * g->ow : NULL;
        for (int64_t oy = 0; oy < g->oh; oy++) {
            const float *r0 = src + 2 * oy * g->w;
            row(r0, r0 + g->w, dst + oy * g->ow, ind != NULL ? ind + oy * g->ow : NULL, g->ow,
                (int32_t)(2 * oy * g->w), (int32_t)g->w);
        }
    }
}

PvxTensor *pvx_maxpool2d_forward(const PvxTensor *x, const PvxMaxPool2dParams *p, PvxTensor *out,
                                 PvxIndices **indices, GError **error)
{
    g_return_val_if_fail(x != NULL && p != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    PoolGeom g;
    if (!maxpool_geom(x, p, &g, error))
        return NULL;
    if (g.h * g.w > G_MAXINT32) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "max-pool: input plane of %" G_GINT64_FORMAT
                    " elements is too large for 32-bit indices",
                    (gint64)(g.h * g.w));
        return NULL;
    }
    int64_t shape[4] = {x->shape[0], x->shape[1], g.oh, g.ow};
    PvxTensor *y = pvx_ops_prepare_out(out, 4, shape, "max-pool output", error);
    if (y == NULL)
        return NULL;
    int64_t numel = shape[0] * shape[1] * g.oh * g.ow;
    if (indices != NULL && (*indices == NULL || (*indices)->numel != numel)) {
        pvx_indices_free(*indices);
        *indices = pvx_indices_new(numel);
    }
    int32_t *ind = indices != NULL ? (*indices)->data : NULL;
    PoolJob j = {&g, x->data, y->data, ind, NULL, NULL, NULL, NULL};
    gboolean vgg = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0;
    pvx_parallel_for(shape[0] * shape[1], plane_grain(g.h * g.w),
                     vgg ? maxpool_2x2_planes : maxpool_planes, &j);
    return y;
}

static void maxpool_backward_planes(int64_t p0, int64_t p1, void *data)
{
    const PoolJob *j = data;
    const PoolGeom *g = j->g;
    int64_t in_plane = g->h * g->w, out_plane = g->oh * g->ow;
    memset(j->dx + p0 * in_plane, 0, (size_t)((p1 - p0) * in_plane) * sizeof(float));
    for (int64_t pl = p0; pl < p1; pl++) {
        float *dst = j->dx + pl * in_plane;
        const float *g_out = j->dy + pl * out_plane;
        const int32_t *ind = j->ind + pl * out_plane;
        if (j->ygate != NULL) {
            const float *yg = j->ygate + pl * out_plane;
            for (int64_t k = 0; k < out_plane; k++)
                dst[ind[k]] += yg[k] > 0.0f ? g_out[k] : 0.0f;
        } else if (j->gate == NULL) {
            for (int64_t k = 0; k < out_plane; k++)
                dst[ind[k]] += g_out[k];
        } else {
            const float *gate = j->gate + pl * in_plane;
            for (int64_t k = 0; k < out_plane; k++)
                dst[ind[k]] += gate[ind[k]] > 0.0f ? g_out[k] : 0.0f;
        }
    }
}

/* One output row of the 2×2 backward: input rows r0 and r1 (2·ow columns) from the row's
 * indices @oi and gradients @go, an index counted from @base (the row's first input element).
 * With @gate (the plane's ReLU output), a maximum gets its gradient only where gate > 0.
 * Returns whether an index lay outside its own 2×2 window. */
static int maxpool_2x2_backward_row(float *r0, float *r1, const int32_t *oi, const float *go,
                                    const float *gate, const float *yg, int64_t ow, int32_t base,
                                    int32_t w, int32_t in_plane)
{
    int bad = 0;
    for (int64_t ox = 0; ox < ow; ox++) {
        int32_t k = oi[ox] - base - 2 * (int32_t)ox;
        float v = go[ox];
        if (yg != NULL
                ? !(yg[ox] > 0.0f)
                : gate != NULL && (uint32_t)oi[ox] < (uint32_t)in_plane && !(gate[oi[ox]] > 0.0f))
            v = 0.0f;
        r0[2 * ox] = k == 0 ? v : 0.0f;
        r0[2 * ox + 1] = k == 1 ? v : 0.0f;
        r1[2 * ox] = k == w ? v : 0.0f;
        r1[2 * ox + 1] = k == w + 1 ? v : 0.0f;
        bad |= k != 0 && k != 1 && k != w && k != w + 1;
    }
    return bad;
}

typedef int (*Pool2x2BackwardRow)(float *r0, float *r1, const int32_t *oi, const float *go,
                                  const float *gate, const float *yg, int64_t ow, int32_t base,
                                  int32_t w, int32_t in_plane);

#ifdef PVX_POOL_X86
/* The same, 16 outputs per step: the window position of each maximum compared at once, the
 * ReLU gate gathered, and the four results interleaved into the two input rows by two-source
 * permutes. The scalar loop is a tenth of the training step's element-wise time at 28×28; the
 * compiler leaves it scalar. Same values as maxpool_2x2_backward_row, bit for bit. */
__attribute__((target("avx512f"))) static int
maxpool_2x2_backward_row_avx512(float *r0, float *r1, const int32_t *oi, const float *go,
                                const float *gate, const float *yg, int64_t ow, int32_t base,
                                int32_t w, int32_t in_plane)
{
    const __m512i iota2 =
        _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i hi =
        _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    const __m512 zero = _mm512_setzero_ps();
    int bad = 0;
    for (int64_t ox0 = 0; ox0 < ow; ox0 += 16) {
        int64_t cnt = MIN(16, ow - ox0);
        __mmask16 m = (__mmask16)(cnt == 16 ? 0xffffu : (1u << cnt) - 1u);
        __m512i idx = _mm512_maskz_loadu_epi32(m, oi + ox0);
        __m512 v = _mm512_maskz_loadu_ps(m, go + ox0);
        if (yg != NULL) {
            __mmask16 pos =
                _mm512_mask_cmp_ps_mask(m, _mm512_maskz_loadu_ps(m, yg + ox0), zero, _CMP_GT_OQ);
            v = _mm512_maskz_mov_ps(pos, v);
        } else if (gate != NULL) {
            __mmask16 in = _mm512_mask_cmplt_epu32_mask(m, idx, _mm512_set1_epi32(in_plane));
            __m512 g = _mm512_mask_i32gather_ps(zero, in, idx, gate, 4);
            __mmask16 pos = _mm512_mask_cmp_ps_mask(in, g, zero, _CMP_GT_OQ);
            v = _mm512_maskz_mov_ps((__mmask16)(pos | (m & ~in)), v);
        }
        __m512i k = _mm512_sub_epi32(
            idx, _mm512_add_epi32(_mm512_set1_epi32(base + 2 * (int32_t)ox0), iota2));
        __mmask16 m0 = _mm512_mask_cmpeq_epi32_mask(m, k, _mm512_setzero_si512());
        __mmask16 m1 = _mm512_mask_cmpeq_epi32_mask(m, k, _mm512_set1_epi32(1));
        __mmask16 m2 = _mm512_mask_cmpeq_epi32_mask(m, k, _mm512_set1_epi32(w));
        __mmask16 m3 = _mm512_mask_cmpeq_epi32_mask(m, k, _mm512_set1_epi32(w + 1));
        bad |= (m & ~(m0 | m1 | m2 | m3)) != 0;
        __m512 e0 = _mm512_maskz_mov_ps(m0, v), e1 = _mm512_maskz_mov_ps(m1, v);
        __m512 e2 = _mm512_maskz_mov_ps(m2, v), e3 = _mm512_maskz_mov_ps(m3, v);
        int64_t n2 = 2 * cnt; /* floats per input row */
        __mmask16 s0 = (__mmask16)(n2 >= 16 ? 0xffffu : (1u << n2) - 1u);
        __mmask16 s1 = (__mmask16)(n2 >= 32 ? 0xffffu : n2 > 16 ? (1u << (n2 - 16)) - 1u : 0u);
        _mm512_mask_storeu_ps(r0 + 2 * ox0, s0, _mm512_permutex2var_ps(e0, lo, e1));
        _mm512_mask_storeu_ps(r0 + 2 * ox0 + 16, s1, _mm512_permutex2var_ps(e0, hi, e1));
        _mm512_mask_storeu_ps(r1 + 2 * ox0, s0, _mm512_permutex2var_ps(e2, lo, e3));
        _mm512_mask_storeu_ps(r1 + 2 * ox0 + 16, s1, _mm512_permutex2var_ps(e2, hi, e3));
    }
    return bad;
}
#endif

/* When dy is half of x's size (rounded down), the indices may come from a 2×2 stride-2 pool:
 * then every input element receives either its window's gradient or zero, written in one pass
 * without the clearing pass. The backward does not know the pool's parameters, so a plane whose
 * indices are not all inside their own 2×2 window is redone by the general scatter. */
static void maxpool_2x2_backward_planes(int64_t p0, int64_t p1, void *data)
{
    const PoolJob *j = data;
    const PoolGeom *g = j->g;
    int64_t in_plane = g->h * g->w, out_plane = g->oh * g->ow;
    Pool2x2BackwardRow row = maxpool_2x2_backward_row;
#ifdef PVX_POOL_X86
    if (pvx_ops_use_avx512())
        row = maxpool_2x2_backward_row_avx512;
#endif
    for (int64_t pl = p0; pl < p1; pl++) {
        float *dst = j->dx + pl * in_plane;
        const float *g_out = j->dy + pl * out_plane;
        const int32_t *ind = j->ind + pl * out_plane;
        const float *gate = j->gate != NULL ? j->gate + pl * in_plane : NULL;
        const float *yg = j->ygate != NULL ? j->ygate + pl * out_plane : NULL;
        int bad = 0;
        for (int64_t oy = 0; oy < g->oh; oy++) {
            float *r0 = dst + 2 * oy * g->w, *r1 = r0 + g->w;
            bad |= row(r0, r1, ind + oy * g->ow, g_out + oy * g->ow, gate,
                       yg != NULL ? yg + oy * g->ow : NULL, g->ow, (int32_t)(2 * oy * g->w),
                       (int32_t)g->w, (int32_t)in_plane);
            if (g->w & 1)
                r0[g->w - 1] = r1[g->w - 1] = 0.0f;
        }
        if (g->h & 1)
            memset(dst + (g->h - 1) * g->w, 0, (size_t)g->w * sizeof(float));
        if (bad)
            maxpool_backward_planes(pl, pl + 1, data);
    }
}

static gboolean maxpool_backward(const PvxTensor *x, const PvxTensor *y, const PvxIndices *indices,
                                 const PvxTensor *dy, PvxTensor **dx, gboolean relu, GError **error)
{
    g_return_val_if_fail(x != NULL && indices != NULL && dy != NULL && dx != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!pvx_ops_check_tensor(x, 4, "max-pool input", error) ||
        !pvx_ops_check_tensor(dy, 4, "max-pool output gradient", error))
        return FALSE;
    if (dy->shape[0] != x->shape[0] || dy->shape[1] != x->shape[1] ||
        indices->numel != pvx_tensor_numel(dy)) {
        g_autofree char *xs = pvx_tensor_shape_string(x);
        g_autofree char *ds = pvx_tensor_shape_string(dy);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "max-pool backward: output gradient %s (%" G_GINT64_FORMAT " indices) does "
                    "not belong to input %s",
                    ds, (gint64)indices->numel, xs);
        return FALSE;
    }
    if (y != NULL && !pvx_ops_check_shape(y, 4, dy->shape, "max-pool output", error))
        return FALSE;
    if (!pvx_ops_prepare_grad(dx, 4, x->shape, "max-pool input gradient", error))
        return FALSE;
    PoolGeom g = {.h = x->shape[2], .w = x->shape[3], .oh = dy->shape[2], .ow = dy->shape[3]};
    PoolJob j = {&g,
                 NULL,
                 NULL,
                 indices->data,
                 (*dx)->data,
                 dy->data,
                 relu && y == NULL ? x->data : NULL,
                 relu && y != NULL ? y->data : NULL};
    gboolean halves = g.oh == g.h / 2 && g.ow == g.w / 2 && g.oh > 0 && g.ow > 0;
    pvx_parallel_for(x->shape[0] * x->shape[1], plane_grain(g.h * g.w),
                     halves ? maxpool_2x2_backward_planes : maxpool_backward_planes, &j);
    return TRUE;
}

gboolean pvx_maxpool2d_backward(const PvxTensor *x, const PvxIndices *indices, const PvxTensor *dy,
                                PvxTensor **dx, GError **error)
{
    return maxpool_backward(x, NULL, indices, dy, dx, FALSE, error);
}

gboolean pvx_maxpool2d_relu_backward(const PvxTensor *x, const PvxIndices *indices,
                                     const PvxTensor *dy, PvxTensor **dx, GError **error)
{
    return maxpool_backward(x, NULL, indices, dy, dx, TRUE, error);
}

gboolean pvx_maxpool2d_relu_backward_out(const PvxTensor *x, const PvxTensor *y,
                                         const PvxIndices *indices, const PvxTensor *dy,
                                         PvxTensor **dx, GError **error)
{
    g_return_val_if_fail(y != NULL, FALSE);
    return maxpool_backward(x, y, indices, dy, dx, TRUE, error);
}

/* ---- adaptive average pool ----------------------------------------------------------------- */

static inline int64_t bin_start(int64_t i, int64_t in, int64_t out)
{
    return (i * in) / out;
}

static inline int64_t bin_end(int64_t i, int64_t in, int64_t out)
{
    return ((i + 1) * in + out - 1) / out;
}

static void avgpool_planes(int64_t p0, int64_t p1, void *data)
{
    const PoolJob *j = data;
    const PoolGeom *g = j->g;
    for (int64_t pl = p0; pl < p1; pl++) {
        const float *src = j->x + pl * g->h * g->w;
        float *dst = j->y + pl * g->oh * g->ow;
        for (int64_t oy = 0; oy < g->oh; oy++) {
            int64_t y0 = bin_start(oy, g->h, g->oh), y1 = bin_end(oy, g->h, g->oh);
            for (int64_t ox = 0; ox < g->ow; ox++) {
                int64_t x0 = bin_start(ox, g->w, g->ow), x1 = bin_end(ox, g->w, g->ow);
                double s = 0.0;
                for (int64_t iy = y0; iy < y1; iy++)
                    for (int64_t ix = x0; ix < x1; ix++)
                        s += src[iy * g->w + ix];
                dst[oy * g->ow + ox] = (float)(s / (double)((y1 - y0) * (x1 - x0)));
            }
        }
    }
}

static gboolean check_adaptive(const PvxTensor *x, int out_h, int out_w, GError **error)
{
    if (!pvx_ops_check_tensor(x, 4, "adaptive average pool input", error))
        return FALSE;
    if (out_h < 1 || out_w < 1) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "adaptive average pool: output size %dx%d must be positive", out_h, out_w);
        return FALSE;
    }
    if (x->shape[2] < 1 || x->shape[3] < 1) {
        g_autofree char *xs = pvx_tensor_shape_string(x);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE, "adaptive average pool: empty input %s", xs);
        return FALSE;
    }
    return TRUE;
}

PvxTensor *pvx_adaptive_avgpool2d_forward(const PvxTensor *x, int out_h, int out_w, PvxTensor *out,
                                          GError **error)
{
    g_return_val_if_fail(x != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!check_adaptive(x, out_h, out_w, error))
        return NULL;
    int64_t shape[4] = {x->shape[0], x->shape[1], out_h, out_w};
    PvxTensor *y = pvx_ops_prepare_out(out, 4, shape, "adaptive average pool output", error);
    if (y == NULL)
        return NULL;
    PoolGeom g = {.h = x->shape[2], .w = x->shape[3], .oh = out_h, .ow = out_w};
    PoolJob j = {&g, x->data, y->data, NULL, NULL, NULL, NULL, NULL};
    pvx_parallel_for(shape[0] * shape[1], plane_grain(g.h * g.w), avgpool_planes, &j);
    return y;
}

static void avgpool_backward_planes(int64_t p0, int64_t p1, void *data)
{
    const PoolJob *j = data;
    const PoolGeom *g = j->g;
    int64_t in_plane = g->h * g->w;
    memset(j->dx + p0 * in_plane, 0, (size_t)((p1 - p0) * in_plane) * sizeof(float));
    for (int64_t pl = p0; pl < p1; pl++) {
        float *dst = j->dx + pl * in_plane;
        const float *src = j->dy + pl * g->oh * g->ow;
        for (int64_t oy = 0; oy < g->oh; oy++) {
            int64_t y0 = bin_start(oy, g->h, g->oh), y1 = bin_end(oy, g->h, g->oh);
            for (int64_t ox = 0; ox < g->ow; ox++) {
                int64_t x0 = bin_start(ox, g->w, g->ow), x1 = bin_end(ox, g->w, g->ow);
                float v = src[oy * g->ow + ox] / (float)((y1 - y0) * (x1 - x0));
                for (int64_t iy = y0; iy < y1; iy++)
                    for (int64_t ix = x0; ix < x1; ix++)
                        dst[iy * g->w + ix] += v;
            }
        }
    }
}

gboolean pvx_adaptive_avgpool2d_backward(const PvxTensor *x, const PvxTensor *dy, PvxTensor **dx,
                                         GError **error)
{
    g_return_val_if_fail(x != NULL && dy != NULL && dx != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!pvx_ops_check_tensor(dy, 4, "adaptive average pool output gradient", error) ||
        !check_adaptive(x, (int)dy->shape[2], (int)dy->shape[3], error))
        return FALSE;
    int64_t shape[4] = {x->shape[0], x->shape[1], dy->shape[2], dy->shape[3]};
    if (!pvx_ops_check_shape(dy, 4, shape, "adaptive average pool output gradient", error) ||
        !pvx_ops_prepare_grad(dx, 4, x->shape, "adaptive average pool input gradient", error))
        return FALSE;
    PoolGeom g = {.h = x->shape[2], .w = x->shape[3], .oh = dy->shape[2], .ow = dy->shape[3]};
    PoolJob j = {&g, NULL, NULL, NULL, (*dx)->data, dy->data, NULL, NULL};
    pvx_parallel_for(shape[0] * shape[1], plane_grain(g.h * g.w), avgpool_backward_planes, &j);
    return TRUE;
}
