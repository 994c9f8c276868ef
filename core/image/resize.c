/* pvx — resizing and cropping as PIL and torchvision do them.
 *
 * pvx_image_resize reproduces PIL's Image.resize(size, BILINEAR) (libImaging/Resample.c,
 * Pillow 9.x): a separable two-pass resample, horizontal first, with a triangle filter whose
 * support is max(1, scale) input pixels, coefficients normalised to sum 1 and then quantised to
 * 22-bit fixed point, accumulation starting at one half and clipping to 0..255. The same
 * integer arithmetic gives the same bytes, which is what lets tests compare with PIL exactly and
 * keeps models trained in PyTorch seeing the inputs they were trained on.
 */
#include <math.h>
#include <string.h>

#include "pvx/image.h"

#define PRECISION_BITS (32 - 8 - 2)

static double triangle(double x)
{
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

typedef struct {
    int ksize;
    int *bounds; /* per output pixel: first input index, count */
    int32_t *kk; /* per output pixel: ksize fixed-point coefficients */
} Coeffs;

static void coeffs_clear(Coeffs *c)
{
    g_free(c->bounds);
    g_free(c->kk);
}

/* PIL's precompute_coeffs + normalize_coeffs_8bpc for the box [0, in_size). */
static void coeffs_compute(int in_size, int out_size, Coeffs *c)
{
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *pre = g_new0(double, (gsize)out_size *ksize);
    c->ksize = ksize;
    c->bounds = g_new(int, (gsize)out_size * 2);
    c->kk = g_new0(int32_t, (gsize)out_size * ksize);

    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale;
        double ss = 1.0 / filterscale;
        /* PIL rounds with (int)(v + 0.5), truncating toward zero for negatives; clamped anyway. */
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        double *k = pre + (gsize)xx * ksize;
        double ww = 0.0;
        for (int x = 0; x < xmax; x++) {
            double w = triangle((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (int x = 0; x < xmax; x++)
            if (ww != 0.0)
                k[x] /= ww;
        c->bounds[xx * 2] = xmin;
        c->bounds[xx * 2 + 1] = xmax;
    }
    for (gsize i = 0; i < (gsize)out_size * ksize; i++)
        c->kk[i] = pre[i] < 0 ? (int32_t)(-0.5 + pre[i] * (1 << PRECISION_BITS))
                              : (int32_t)(0.5 + pre[i] * (1 << PRECISION_BITS));
    g_free(pre);
}

static inline uint8_t clip8(int32_t v)
{
    if (v >= (1 << PRECISION_BITS << 8))
        return 255;
    if (v <= 0)
        return 0;
    return (uint8_t)(v >> PRECISION_BITS);
}

/* Horizontal pass over rows [row0, row0 + out->height) of @in. */
static void resample_h(PvxImage *out, const PvxImage *in, int row0, const Coeffs *c)
{
    int ch = in->channels;
    for (int y = 0; y < out->height; y++) {
        const uint8_t *src = in->data + (gsize)(y + row0) * in->width * ch;
        uint8_t *dst = out->data + (gsize)y * out->width * ch;
        for (int xx = 0; xx < out->width; xx++) {
            int xmin = c->bounds[xx * 2], xmax = c->bounds[xx * 2 + 1];
            const int32_t *k = c->kk + (gsize)xx * c->ksize;
            for (int b = 0; b < ch; b++) {
                int32_t ss = 1 << (PRECISION_BITS - 1);
                for (int x = 0; x < xmax; x++)
                    ss += src[(x + xmin) * ch + b] * k[x];
                dst[xx * ch + b] = clip8(ss);
            }
        }
    }
}

static void resample_v(PvxImage *out, const PvxImage *in, const Coeffs *c, int shift)
{
    int ch = in->channels;
    gsize row = (gsize)in->width * ch;
    for (int yy = 0; yy < out->height; yy++) {
        int ymin = c->bounds[yy * 2] - shift, ymax = c->bounds[yy * 2 + 1];
        const int32_t *k = c->kk + (gsize)yy * c->ksize;
        uint8_t *dst = out->data + (gsize)yy * row;
        for (gsize i = 0; i < row; i++) {
            int32_t ss = 1 << (PRECISION_BITS - 1);
            for (int y = 0; y < ymax; y++)
                ss += in->data[(gsize)(y + ymin) * row + i] * k[y];
            dst[i] = clip8(ss);
        }
    }
}

static PvxImage *resample(const PvxImage *img, int width, int height)
{
    Coeffs ch = {0}, cv = {0};
    coeffs_compute(img->width, width, &ch);
    coeffs_compute(img->height, height, &cv);
    /* Only the input rows the vertical pass reads are resampled horizontally. */
    int first = cv.bounds[0];
    int last = cv.bounds[height * 2 - 2] + cv.bounds[height * 2 - 1];
    PvxImage *tmp = NULL;
    const PvxImage *src = img;
    int shift = 0;
    if (width != img->width) {
        tmp = pvx_image_new(width, last - first, img->channels);
        resample_h(tmp, img, first, &ch);
        src = tmp;
        shift = first;
    }
    PvxImage *out;
    if (height != img->height) {
        out = pvx_image_new(width, height, img->channels);
        resample_v(out, src, &cv, shift);
        pvx_image_free(tmp);
    } else {
        out = tmp ? tmp : pvx_image_copy(img);
    }
    coeffs_clear(&ch);
    coeffs_clear(&cv);
    return out;
}

/* PIL's RGBA → RGBa (premultiplied): MULDIV255 rounding. */
static void premultiply(PvxImage *img)
{
    gsize n = (gsize)img->width * img->height;
    for (gsize i = 0; i < n; i++) {
        uint8_t *p = img->data + i * 4;
        for (int b = 0; b < 3; b++) {
            unsigned t = (unsigned)p[b] * p[3] + 128;
            p[b] = (uint8_t)(((t >> 8) + t) >> 8);
        }
    }
}

/* PIL's RGBa → RGBA. */
static void unpremultiply(PvxImage *img)
{
    gsize n = (gsize)img->width * img->height;
    for (gsize i = 0; i < n; i++) {
        uint8_t *p = img->data + i * 4;
        unsigned a = p[3];
        if (a == 0 || a == 255)
            continue;
        for (int b = 0; b < 3; b++) {
            unsigned v = 255u * p[b] / a;
            p[b] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
}

PvxImage *pvx_image_resize(const PvxImage *img, int width, int height)
{
    g_return_val_if_fail(img != NULL, NULL);
    g_return_val_if_fail(width > 0 && height > 0, NULL);
    if (width == img->width && height == img->height)
        return pvx_image_copy(img);
    if (img->channels != 4)
        return resample(img, width, height);
    /* PIL resizes RGBA in premultiplied form so transparent pixels do not bleed their colour. */
    g_autoptr(PvxImage) pre = pvx_image_copy(img);
    premultiply(pre);
    PvxImage *out = resample(pre, width, height);
    unpremultiply(out);
    return out;
}

PvxImage *pvx_image_resize_shorter(const PvxImage *img, int size)
{
    g_return_val_if_fail(img != NULL && size > 0, NULL);
    int w = img->width, h = img->height;
    int shorter = MIN(w, h), longer = MAX(w, h);
    if (shorter == size)
        return pvx_image_copy(img);
    /* torchvision: int(size * long / short), a true division then truncation. */
    int new_long = (int)((double)((int64_t)size * longer) / shorter);
    if (new_long < 1)
        new_long = 1;
    return w <= h ? pvx_image_resize(img, size, new_long) : pvx_image_resize(img, new_long, size);
}

PvxImage *pvx_image_center_crop(const PvxImage *img, int width, int height)
{
    g_return_val_if_fail(img != NULL && width > 0 && height > 0, NULL);
    /* torchvision pads a too-small dimension first (left = (crop - size) // 2), then crops at
     * int(round((size - crop) / 2.0)) with Python's round-half-to-even, which rint() does. */
    int dx, dy, sx, sy;
    if (width > img->width)
        dx = (width - img->width) / 2, sx = 0;
    else
        dx = 0, sx = (int)rint((img->width - width) / 2.0);
    if (height > img->height)
        dy = (height - img->height) / 2, sy = 0;
    else
        dy = 0, sy = (int)rint((img->height - height) / 2.0);
    int cw = MIN(width, img->width), chh = MIN(height, img->height);
    PvxImage *out = pvx_image_new(width, height, img->channels);
    gsize px = (gsize)img->channels;
    for (int y = 0; y < chh; y++)
        memcpy(out->data + ((gsize)(y + dy) * width + dx) * px,
               img->data + ((gsize)(y + sy) * img->width + sx) * px, (gsize)cw * px);
    return out;
}
