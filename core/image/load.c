/* pvx — reading images by their magic bytes; channel conversion; image ↔ tensor. */
#include <math.h>
#include <string.h>

#include "image_private.h"
#include "pvx/error.h"

PvxImage *pvx_image_load_from_memory(const void *bytes, gsize len, const char *what, GError **error)
{
    g_return_val_if_fail(bytes != NULL || len == 0, NULL);
    if (!what)
        what = "(memory)";
    if (pvx_png_is(bytes, len))
        return pvx_png_load_from_memory(bytes, len, what, error);
    if (pvx_jpeg_is(bytes, len))
        return pvx_jpeg_load_from_memory(bytes, len, what, error);
    g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                "%s: not a PNG or JPEG file (unrecognised magic bytes)%s", what,
                len == 0 ? ", the file is empty" : "");
    return NULL;
}

PvxImage *pvx_image_load(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(path, &bytes, &len, &local)) {
        int code = g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? PVX_ERROR_NOT_FOUND
                                                                            : PVX_ERROR_IO;
        /* GLib's message already names the file. */
        g_set_error_literal(error, PVX_ERROR, code, local->message);
        return NULL;
    }
    return pvx_image_load_from_memory(bytes, len, path, error);
}

static inline uint8_t luma(const uint8_t *p)
{
    /* PIL's L = R*299/1000 + G*587/1000 + B*114/1000, computed as in its Convert.c (L24). */
    return (uint8_t)((p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16);
}

PvxImage *pvx_image_convert(const PvxImage *img, int channels)
{
    g_return_val_if_fail(img != NULL, NULL);
    g_return_val_if_fail(channels == 1 || channels == 3 || channels == 4, NULL);
    if (img->channels == channels)
        return pvx_image_copy(img);
    PvxImage *out = pvx_image_new(img->width, img->height, channels);
    gsize n = (gsize)img->width * img->height;
    for (gsize i = 0; i < n; i++) {
        const uint8_t *s = img->data + i * img->channels;
        uint8_t *d = out->data + i * channels;
        uint8_t rgba[4];
        if (img->channels == 1)
            rgba[0] = rgba[1] = rgba[2] = s[0], rgba[3] = 255;
        else
            memcpy(rgba, s, 3), rgba[3] = img->channels == 4 ? s[3] : 255;
        if (channels == 1)
            d[0] = img->channels == 1 ? s[0] : luma(rgba);
        else
            memcpy(d, rgba, (gsize)channels);
    }
    return out;
}

PvxTensor *pvx_image_to_tensor(const PvxImage *img, const float *mean, const float *std)
{
    g_return_val_if_fail(img != NULL, NULL);
    int c = img->channels;
    int64_t hw = (int64_t)img->width * img->height;
    PvxTensor *t = pvx_tensor_new_shape(3, (int64_t)c, (int64_t)img->height, (int64_t)img->width);
    for (int ch = 0; ch < c; ch++) {
        float m = mean ? mean[ch] : 0.0f;
        float s = std ? std[ch] : 1.0f;
        float *dst = t->data + ch * hw;
        const uint8_t *src = img->data + ch;
        /* Float32 arithmetic in the order torchvision uses (ToTensor: x / 255; Normalize:
         * (x - mean) / std), so the values agree bit for bit. */
        for (int64_t i = 0; i < hw; i++) {
            float v = (float)src[i * c] / 255.0f;
            dst[i] = (v - m) / s;
        }
    }
    return t;
}

PvxImage *pvx_image_from_tensor(const PvxTensor *t, const float *mean, const float *std)
{
    g_return_val_if_fail(t != NULL && t->ndim == 3, NULL);
    g_return_val_if_fail(t->shape[0] == 1 || t->shape[0] == 3, NULL);
    g_return_val_if_fail(pvx_tensor_is_contiguous(t), NULL);
    int c = (int)t->shape[0];
    int h = (int)t->shape[1], w = (int)t->shape[2];
    int64_t hw = (int64_t)w * h;
    PvxImage *img = pvx_image_new(w, h, c);
    for (int ch = 0; ch < c; ch++) {
        float m = mean ? mean[ch] : 0.0f;
        float s = std ? std[ch] : 1.0f;
        const float *src = t->data + ch * hw;
        for (int64_t i = 0; i < hw; i++) {
            float v = (src[i] * s + m) * 255.0f;
            if (!(v > 0.0f)) /* NaN too */
                v = 0.0f;
            if (v > 255.0f)
                v = 255.0f;
            img->data[i * c + ch] = (uint8_t)lrintf(v);
        }
    }
    return img;
}
