/* pvx — text, mask outlines, nearest-neighbour enlargement and tile grids (see render.h). */
#include <string.h>

#include "font_private.h"
#include "pvx/error.h"
#include "pvx-private/render.h"

/* UTF-8 continuation bytes are skipped, so a multi-byte code point is one glyph wide. */
static inline gboolean is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

int pvx_text_width(const char *text, int scale)
{
    g_return_val_if_fail(text != NULL, 0);
    scale = MAX(scale, 1);
    int widest = 0, n = 0;
    for (const unsigned char *p = (const unsigned char *)text;; p++) {
        if (*p == '\n' || *p == '\0') {
            widest = MAX(widest, n);
            n = 0;
            if (*p == '\0')
                break;
        } else if (!is_continuation(*p)) {
            n++;
        }
    }
    return widest == 0 ? 0 : (widest * PVX_FONT_ADVANCE - 1) * scale;
}

int pvx_text_height(const char *text, int scale)
{
    g_return_val_if_fail(text != NULL, 0);
    scale = MAX(scale, 1);
    int lines = 1;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    return (PVX_FONT_GLYPH_H + (lines - 1) * PVX_FONT_LINE) * scale;
}

static void put_pixel(PvxImage *img, int x, int y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || x >= img->width || y >= img->height)
        return;
    uint8_t *p = img->data + ((gsize)y * img->width + x) * img->channels;
    if (img->channels == 1) {
        p[0] = (uint8_t)((rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16);
        return;
    }
    p[0] = rgb[0], p[1] = rgb[1], p[2] = rgb[2];
    if (img->channels == 4)
        p[3] = 255;
}

void pvx_image_draw_text(PvxImage *img, int x, int y, const char *text, const uint8_t rgb[3],
                         int scale)
{
    g_return_if_fail(img != NULL && text != NULL && rgb != NULL);
    scale = MAX(scale, 1);
    int cx = x, cy = y;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '\n') {
            cx = x;
            cy += PVX_FONT_LINE * scale;
            continue;
        }
        if (is_continuation(*p))
            continue;
        const uint8_t *g = pvx_font_glyph(*p);
        for (int col = 0; col < PVX_FONT_GLYPH_W; col++)
            for (int row = 0; row < PVX_FONT_GLYPH_H; row++) {
                if (!(g[col] >> row & 1))
                    continue;
                for (int dy = 0; dy < scale; dy++)
                    for (int dx = 0; dx < scale; dx++)
                        put_pixel(img, cx + col * scale + dx, cy + row * scale + dy, rgb);
            }
        cx += PVX_FONT_ADVANCE * scale;
    }
}

void pvx_image_outline_mask(PvxImage *img, const PvxTensor *mask, const uint8_t rgb[3],
                            int thickness)
{
    g_return_if_fail(img != NULL && mask != NULL && rgb != NULL);
    g_return_if_fail(mask->ndim == 2 || (mask->ndim == 3 && mask->shape[0] == 1));
    g_return_if_fail(pvx_tensor_is_contiguous(mask));
    int mh = (int)mask->shape[mask->ndim - 2], mw = (int)mask->shape[mask->ndim - 1];
    int w = img->width, h = img->height;
    thickness = MAX(thickness, 1);

    /* Sample the mask at image resolution once, so the neighbourhood test reads bytes. */
    g_autofree uint8_t *in = g_malloc((gsize)w * h);
    for (int y = 0; y < h; y++) {
        int my = (int)((int64_t)y * mh / h);
        for (int x = 0; x < w; x++) {
            int mx = (int)((int64_t)x * mw / w);
            in[(gsize)y * w + x] = mask->data[(gsize)my * mw + mx] > 0.5f;
        }
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (!in[(gsize)y * w + x])
                continue;
            gboolean edge = FALSE;
            for (int dy = -thickness; dy <= thickness && !edge; dy++)
                for (int dx = -thickness; dx <= thickness && !edge; dx++) {
                    int yy = y + dy, xx = x + dx;
                    /* Outside the picture counts as outside the mask: the outline stays closed. */
                    edge = yy < 0 || xx < 0 || yy >= h || xx >= w || !in[(gsize)yy * w + xx];
                }
            if (edge)
                put_pixel(img, x, y, rgb);
        }
}

PvxImage *pvx_image_scale_nearest(const PvxImage *img, int factor)
{
    g_return_val_if_fail(img != NULL && factor >= 1, NULL);
    int c = img->channels;
    PvxImage *out = pvx_image_new(img->width * factor, img->height * factor, c);
    for (int y = 0; y < out->height; y++) {
        const uint8_t *src = img->data + (gsize)(y / factor) * img->width * c;
        uint8_t *dst = out->data + (gsize)y * out->width * c;
        for (int x = 0; x < out->width; x++)
            memcpy(dst + (gsize)x * c, src + (gsize)(x / factor) * c, (gsize)c);
    }
    return out;
}

/* Draws @text centred horizontally in [x, x + w), clipped to that span. */
static void draw_centred_clipped(PvxImage *img, int x, int w, int y, const char *text,
                                 const uint8_t rgb[3], int scale)
{
    int tw = pvx_text_width(text, scale);
    if (tw <= w) {
        pvx_image_draw_text(img, x + (w - tw) / 2, y, text, rgb, scale);
        return;
    }
    /* Draw into a strip the width of the column, then copy it, so long labels do not spill. */
    int th = pvx_text_height(text, scale);
    g_autoptr(PvxImage) strip = pvx_image_new(w, th, 3);
    for (int yy = 0; yy < th; yy++)
        for (int xx = 0; xx < w; xx++)
            if (x + xx < img->width && y + yy < img->height) {
                const uint8_t *p = img->data + ((gsize)(y + yy) * img->width + x + xx) * 3;
                memcpy(strip->data + ((gsize)yy * w + xx) * 3, p, 3);
            }
    pvx_image_draw_text(strip, 0, 0, text, rgb, scale);
    pvx_image_blit(img, strip, x, y);
}

PvxImage *pvx_render_grid(PvxImage *const *tiles, int n_rows, int n_cols,
                          const PvxGridOptions *opts, GError **error)
{
    g_return_val_if_fail(tiles != NULL && n_rows > 0 && n_cols > 0, NULL);
    PvxGridOptions defaults = {0};
    if (!opts)
        opts = &defaults;
    int tw = 0, th = 0;
    for (int i = 0; i < n_rows * n_cols; i++) {
        const PvxImage *t = tiles[i];
        if (!t)
            continue;
        if (tw == 0) {
            tw = t->width, th = t->height;
        } else if (t->width != tw || t->height != th) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                        "grid tile %d (row %d, column %d) is %d×%d, the first tile is %d×%d", i,
                        i / n_cols, i % n_cols, t->width, t->height, tw, th);
            return NULL;
        }
    }
    if (tw == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE, "grid of %d×%d cells has no tiles", n_rows,
                    n_cols);
        return NULL;
    }
    int margin = opts->margin > 0 ? opts->margin : 4;
    int scale = opts->text_scale > 0 ? opts->text_scale : 1;
    uint8_t bg[3] = {255, 255, 255}, fg[3] = {0, 0, 0};
    if (opts->custom_colors) {
        memcpy(bg, opts->background, 3);
        memcpy(fg, opts->foreground, 3);
    }

    int label_w = 0;
    if (opts->row_labels)
        for (int r = 0; r < n_rows; r++)
            if (opts->row_labels[r])
                label_w = MAX(label_w, pvx_text_width(opts->row_labels[r], scale));
    int col_label_h = 0;
    if (opts->col_labels)
        for (int c = 0; c < n_cols; c++)
            if (opts->col_labels[c])
                col_label_h = MAX(col_label_h, pvx_text_height(opts->col_labels[c], scale));
    int title_h = opts->title ? pvx_text_height(opts->title, scale) : 0;

    int left = margin + (label_w ? label_w + margin : 0);
    int top = margin + (title_h ? title_h + margin : 0) + (col_label_h ? col_label_h + margin : 0);
    int grid_w = n_cols * tw + (n_cols - 1) * margin;
    int width = MAX(left + grid_w + margin,
                    opts->title ? 2 * margin + pvx_text_width(opts->title, scale) : 0);
    int height = top + n_rows * th + (n_rows - 1) * margin + margin;

    PvxImage *out = pvx_image_new(width, height, 3);
    pvx_image_fill_rect(out, 0, 0, width, height, bg);
    if (opts->title)
        pvx_image_draw_text(out, margin, margin, opts->title, fg, scale);
    if (opts->col_labels) {
        int y = margin + (title_h ? title_h + margin : 0);
        for (int c = 0; c < n_cols; c++)
            if (opts->col_labels[c])
                draw_centred_clipped(out, left + c * (tw + margin), tw, y, opts->col_labels[c], fg,
                                     scale);
    }
    for (int r = 0; r < n_rows; r++) {
        int y = top + r * (th + margin);
        if (opts->row_labels && opts->row_labels[r]) {
            int lh = pvx_text_height(opts->row_labels[r], scale);
            pvx_image_draw_text(out, margin, y + MAX(0, (th - lh) / 2), opts->row_labels[r], fg,
                                scale);
        }
        for (int c = 0; c < n_cols; c++)
            if (tiles[r * n_cols + c])
                pvx_image_blit(out, tiles[r * n_cols + c], left + c * (tw + margin), y);
    }
    return out;
}
