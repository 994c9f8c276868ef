/* pvx — explanation maps as pictures: normalisation, upsampling, colormaps, heat maps, occlusion
 * maps. Conventions in heatmap.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explain_private.h"

gboolean pvx_colormap_from_name(const char *name, PvxColormap *out)
{
    if (g_strcmp0(name, "jet") == 0)
        *out = PVX_COLORMAP_JET;
    else if (g_strcmp0(name, "viridis") == 0)
        *out = PVX_COLORMAP_VIRIDIS;
    else
        return FALSE;
    return TRUE;
}

gboolean pvx_occlusion_fill_from_name(const char *name, PvxOcclusionFill *out)
{
    if (g_strcmp0(name, "black") == 0)
        *out = PVX_OCCLUDE_BLACK;
    else if (g_strcmp0(name, "grey") == 0 || g_strcmp0(name, "gray") == 0)
        *out = PVX_OCCLUDE_GREY;
    else if (g_strcmp0(name, "blur") == 0)
        *out = PVX_OCCLUDE_BLUR;
    else
        return FALSE;
    return TRUE;
}

/* matplotlib's _jet_data: (x, y) breakpoints of each channel (y0 == y1 everywhere). */
typedef struct {
    int n;
    double x[6], y[6];
} Segments;
static const Segments jet_r = {5, {0, 0.35, 0.66, 0.89, 1}, {0, 0, 1, 1, 0.5}};
static const Segments jet_g = {6, {0, 0.125, 0.375, 0.64, 0.91, 1}, {0, 0, 1, 1, 0, 0}};
static const Segments jet_b = {5, {0, 0.11, 0.34, 0.65, 1}, {0.5, 1, 1, 0, 0}};

static double segment_value(const Segments *s, double x)
{
    for (int i = 1; i < s->n; i++)
        if (x <= s->x[i])
            return s->y[i - 1] +
                   (s->y[i] - s->y[i - 1]) * (x - s->x[i - 1]) / (s->x[i] - s->x[i - 1]);
    return s->y[s->n - 1];
}

static uint8_t to_byte(double c)
{
    return (uint8_t)CLAMP(lround(255.0 * c), 0, 255);
}

void pvx_colormap_rgb(PvxColormap cmap, double v, uint8_t rgb[3])
{
    int i = pvx_viridis_index(v); /* matplotlib's LUT sampling, for jet too */
    if (cmap == PVX_COLORMAP_VIRIDIS) {
        for (int c = 0; c < 3; c++)
            rgb[c] = to_byte(pvx_viridis_table[i][c]);
        return;
    }
    double x = i / 255.0;
    rgb[0] = to_byte(segment_value(&jet_r, x));
    rgb[1] = to_byte(segment_value(&jet_g, x));
    rgb[2] = to_byte(segment_value(&jet_b, x));
}

void pvx_map_render_options_init(PvxMapRenderOptions *o)
{
    memset(o, 0, sizeof *o);
    o->relu = TRUE;
    o->colormap = PVX_COLORMAP_JET;
    o->opacity = 0.4;
    o->keep_fraction = 0.1;
    o->fill = PVX_OCCLUDE_BLACK;
    o->blur_sigma = 8.0;
}

PvxTensor *pvx_map_normalize(const PvxTensor *raw, int width, int height, gboolean relu)
{
    g_return_val_if_fail(raw != NULL && raw->ndim >= 2 && width > 0 && height > 0, NULL);
    g_return_val_if_fail(pvx_tensor_is_contiguous(raw), NULL);
    int64_t h = raw->shape[raw->ndim - 2], w = raw->shape[raw->ndim - 1];
    g_return_val_if_fail(pvx_tensor_numel(raw) == h * w, NULL);
    g_autoptr(PvxTensor) m = pvx_tensor_new_shape(2, h, w);
    float mn = INFINITY, mx = -INFINITY;
    for (int64_t i = 0; i < h * w; i++) {
        float v = raw->data[i];
        if (relu && !(v > 0.0f))
            v = 0.0f;
        m->data[i] = v;
        mn = fminf(mn, v);
        mx = fmaxf(mx, v);
    }
    /* pytorch-grad-cam's scale_cam_image: img - min, / (max + 1e-7), in float32. */
    for (int64_t i = 0; i < h * w; i++) {
        float v = m->data[i] - mn;
        m->data[i] = v / ((mx - mn) + 1e-7f);
    }
    if (h == height && w == width)
        return g_steal_pointer(&m);
    return pvx_explain_resize_bilinear(m, height, width, FALSE);
}

PvxImage *pvx_render_heatmap(const PvxImage *img, const PvxTensor *map01, PvxColormap cmap,
                             double opacity, GError **error)
{
    g_return_val_if_fail(img != NULL && map01 != NULL, NULL);
    if (pvx_tensor_numel(map01) != (int64_t)img->width * img->height ||
        map01->shape[map01->ndim - 1] != img->width) {
        g_autofree char *s = pvx_tensor_shape_string(map01);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "heat map: a map of shape %s for an image of %dx%d", s, img->width,
                    img->height);
        return NULL;
    }
    g_autoptr(PvxImage) rgb = pvx_image_convert(img, 3);
    PvxImage *out = pvx_image_new(img->width, img->height, 3);
    int64_t n = (int64_t)img->width * img->height;
    for (int64_t i = 0; i < n; i++) {
        uint8_t col[3];
        pvx_colormap_rgb(cmap, map01->data[i], col);
        for (int c = 0; c < 3; c++) {
            double v = (1.0 - opacity) * rgb->data[i * 3 + c] + opacity * col[c];
            out->data[i * 3 + c] = (uint8_t)CLAMP(lround(v), 0, 255);
        }
    }
    return out;
}

typedef struct {
    const float *v;
} RankCtx;

/* Descending by value, NaN last, ties: lower index first. */
static int cmp_rank(const void *a, const void *b, void *data)
{
    const float *v = ((const RankCtx *)data)->v;
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    float x = v[i], y = v[j];
    gboolean xn = isnan(x), yn = isnan(y);
    if (xn != yn)
        return xn ? 1 : -1;
    if (!xn && x != y)
        return x > y ? -1 : 1;
    return i < j ? -1 : i > j ? 1 : 0;
}

uint8_t *pvx_occlusion_keep_mask(const PvxTensor *map, double keep_fraction, int64_t *kept_out)
{
    g_return_val_if_fail(map != NULL && pvx_tensor_is_contiguous(map), NULL);
    int64_t n = pvx_tensor_numel(map);
    keep_fraction = CLAMP(keep_fraction, 0.0, 1.0);
    int64_t k = (int64_t)llround(keep_fraction * (double)n);
    k = CLAMP(k, 0, n);
    uint8_t *keep = g_malloc0(n ? n : 1);
    g_autofree int64_t *order = g_new(int64_t, n ? n : 1);
    for (int64_t i = 0; i < n; i++)
        order[i] = i;
    RankCtx ctx = {map->data};
    g_qsort_with_data(order, (gint)n, sizeof(int64_t), cmp_rank, &ctx);
    for (int64_t i = 0; i < k; i++)
        keep[order[i]] = 1;
    if (kept_out)
        *kept_out = k;
    return keep;
}

PvxImage *pvx_image_blur(const PvxImage *img, double sigma)
{
    g_return_val_if_fail(img != NULL, NULL);
    if (!(sigma > 0.0))
        return pvx_image_copy(img);
    int r = (int)ceil(3.0 * sigma), W = img->width, H = img->height, C = img->channels;
    g_autofree double *k = g_new(double, 2 * r + 1);
    double sum = 0.0;
    for (int i = -r; i <= r; i++)
        sum += k[i + r] = exp(-0.5 * i * i / (sigma * sigma));
    for (int i = 0; i <= 2 * r; i++)
        k[i] /= sum;
    g_autofree double *tmp = g_new(double, (size_t)W *H *C);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++) {
                double acc = 0.0;
                for (int i = -r; i <= r; i++) {
                    int xx = CLAMP(x + i, 0, W - 1);
                    acc += k[i + r] * img->data[((size_t)y * W + xx) * C + c];
                }
                tmp[((size_t)y * W + x) * C + c] = acc;
            }
    PvxImage *out = pvx_image_new(W, H, C);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++) {
                double acc = 0.0;
                for (int i = -r; i <= r; i++) {
                    int yy = CLAMP(y + i, 0, H - 1);
                    acc += k[i + r] * tmp[((size_t)yy * W + x) * C + c];
                }
                out->data[((size_t)y * W + x) * C + c] = (uint8_t)CLAMP(lround(acc), 0, 255);
            }
    return out;
}

PvxImage *pvx_render_occlusion(const PvxImage *img, const PvxTensor *map, double keep_fraction,
                               PvxOcclusionFill fill, double blur_sigma, GError **error)
{
    g_return_val_if_fail(img != NULL && map != NULL, NULL);
    if (pvx_tensor_numel(map) != (int64_t)img->width * img->height ||
        map->shape[map->ndim - 1] != img->width) {
        g_autofree char *s = pvx_tensor_shape_string(map);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "occlusion map: a map of shape %s for an image of %dx%d", s, img->width,
                    img->height);
        return NULL;
    }
    g_autoptr(PvxImage) rgb = pvx_image_convert(img, 3);
    g_autoptr(PvxImage) blurred = fill == PVX_OCCLUDE_BLUR ? pvx_image_blur(rgb, blur_sigma) : NULL;
    g_autofree uint8_t *keep = pvx_occlusion_keep_mask(map, keep_fraction, NULL);
    PvxImage *out = pvx_image_copy(rgb);
    int64_t n = (int64_t)img->width * img->height;
    for (int64_t i = 0; i < n; i++) {
        if (keep[i])
            continue;
        for (int c = 0; c < 3; c++)
            out->data[i * 3 + c] = fill == PVX_OCCLUDE_BLACK  ? 0
                                   : fill == PVX_OCCLUDE_GREY ? 128
                                                              : blurred->data[i * 3 + c];
    }
    return out;
}

gboolean pvx_render_map_pair(const PvxImage *img, const PvxTensor *raw,
                             const PvxMapRenderOptions *opts, PvxImage **heat_out,
                             PvxImage **occl_out, GError **error)
{
    PvxMapRenderOptions def;
    if (!opts) {
        pvx_map_render_options_init(&def);
        opts = &def;
    }
    g_autoptr(PvxTensor) m = pvx_map_normalize(raw, img->width, img->height, opts->relu);
    if (!m) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE, "cannot render a map of %d dimensions",
                    raw->ndim);
        return FALSE;
    }
    g_autoptr(PvxImage) heat =
        heat_out ? pvx_render_heatmap(img, m, opts->colormap, opts->opacity, error) : NULL;
    if (heat_out && !heat)
        return FALSE;
    g_autoptr(PvxImage) occl = occl_out ? pvx_render_occlusion(img, m, opts->keep_fraction,
                                                               opts->fill, opts->blur_sigma, error)
                                        : NULL;
    if (occl_out && !occl)
        return FALSE;
    if (heat_out)
        *heat_out = g_steal_pointer(&heat);
    if (occl_out)
        *occl_out = g_steal_pointer(&occl);
    return TRUE;
}

static void sanitize(GString *s, const char *text)
{
    for (const char *c = text; *c; c++)
        g_string_append_c(s, g_ascii_isalnum(*c) || strchr("._+-", *c) ? *c : '_');
}

char *pvx_map_file_name(const char *item_id, const char *method, int cr, const char *kind)
{
    GString *s = g_string_new(NULL);
    sanitize(s, item_id);
    g_string_append_c(s, '_');
    sanitize(s, method);
    if (cr >= 0)
        g_string_append_printf(s, "_cr%d", cr);
    g_string_append_printf(s, "_%s.png", kind);
    return g_string_free(s, FALSE);
}
