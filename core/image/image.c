/* pvx — 8-bit image objects: allocation, copy, blit, fill. */
#include <string.h>

#include "pvx/image.h"

PvxImage *pvx_image_new(int width, int height, int channels)
{
    g_return_val_if_fail(width > 0 && height > 0, NULL);
    g_return_val_if_fail(channels == 1 || channels == 3 || channels == 4, NULL);
    PvxImage *img = g_new0(PvxImage, 1);
    img->width = width;
    img->height = height;
    img->channels = channels;
    img->data = g_malloc0((gsize)width * height * channels);
    return img;
}

PvxImage *pvx_image_copy(const PvxImage *img)
{
    PvxImage *c = pvx_image_new(img->width, img->height, img->channels);
    memcpy(c->data, img->data, (gsize)img->width * img->height * img->channels);
    return c;
}

void pvx_image_free(PvxImage *img)
{
    if (!img)
        return;
    g_free(img->data);
    g_free(img);
}

/* Reads pixel (x, y) of @src as RGBA. */
static void pixel_rgba(const PvxImage *src, int x, int y, uint8_t rgba[4])
{
    const uint8_t *p = src->data + ((gsize)y * src->width + x) * src->channels;
    switch (src->channels) {
    case 1:
        rgba[0] = rgba[1] = rgba[2] = p[0];
        rgba[3] = 255;
        break;
    case 3:
        rgba[0] = p[0], rgba[1] = p[1], rgba[2] = p[2], rgba[3] = 255;
        break;
    default:
        memcpy(rgba, p, 4);
        break;
    }
}

static void put_rgba(PvxImage *dst, int x, int y, const uint8_t rgba[4])
{
    uint8_t *p = dst->data + ((gsize)y * dst->width + x) * dst->channels;
    switch (dst->channels) {
    case 1:
        p[0] = (uint8_t)((rgba[0] * 299 + rgba[1] * 587 + rgba[2] * 114) / 1000);
        break;
    case 3:
        memcpy(p, rgba, 3);
        break;
    default:
        memcpy(p, rgba, 4);
        break;
    }
}

void pvx_image_blit(PvxImage *dst, const PvxImage *src, int x, int y)
{
    for (int sy = 0; sy < src->height; sy++) {
        int dy = y + sy;
        if (dy < 0 || dy >= dst->height)
            continue;
        for (int sx = 0; sx < src->width; sx++) {
            int dx = x + sx;
            if (dx < 0 || dx >= dst->width)
                continue;
            uint8_t rgba[4];
            pixel_rgba(src, sx, sy, rgba);
            put_rgba(dst, dx, dy, rgba);
        }
    }
}

void pvx_image_fill_rect(PvxImage *img, int x, int y, int w, int h, const uint8_t *rgba)
{
    uint8_t c[4] = {rgba[0], img->channels > 1 ? rgba[1] : rgba[0],
                    img->channels > 1 ? rgba[2] : rgba[0], img->channels == 4 ? rgba[3] : 255};
    if (img->channels == 1)
        c[1] = c[2] = c[0];
    for (int yy = MAX(y, 0); yy < MIN(y + h, img->height); yy++)
        for (int xx = MAX(x, 0); xx < MIN(x + w, img->width); xx++)
            put_rgba(img, xx, yy, c);
}
