/* pvx — PNG decoding and encoding with libpng.
 *
 * libpng reports errors by longjmp. Every setjmp lives in exactly one function per direction
 * (png_decode, png_encode) and the code between setjmp and the end of that function touches only
 * memory that is either volatile or allocated before setjmp, so a jump never leaks or reads a
 * clobbered local.
 */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "image_private.h"
#include "pvx/error.h"

typedef struct {
    const uint8_t *bytes;
    gsize len;
    gsize pos;
} PngMemReader;

typedef struct {
    char message[256];
} PngErrorState;

static void png_read_mem(png_structp png, png_bytep out, png_size_t n)
{
    PngMemReader *r = png_get_io_ptr(png);
    if (n > r->len - r->pos)
        png_error(png, "unexpected end of file (truncated)");
    memcpy(out, r->bytes + r->pos, n);
    r->pos += n;
}

static void png_on_error(png_structp png, png_const_charp msg)
{
    PngErrorState *st = png_get_error_ptr(png);
    g_strlcpy(st->message, msg, sizeof st->message);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    g_debug("libpng warning: %s", msg);
}

gboolean pvx_png_is(const void *bytes, gsize len)
{
    return len >= 8 && png_sig_cmp((png_const_bytep)bytes, 0, 8) == 0;
}

/* The one function with a setjmp for reading. On success returns the image; on failure sets
 * st->message and returns NULL. */
static PvxImage *png_decode(const void *bytes, gsize len, PngErrorState *st)
{
    PngMemReader reader = {bytes, len, 0};
    png_structp png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, st, png_on_error, png_on_warning);
    if (!png) {
        g_strlcpy(st->message, "out of memory", sizeof st->message);
        return NULL;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        g_strlcpy(st->message, "out of memory", sizeof st->message);
        return NULL;
    }
    /* Allocated inside the protected region, so volatile: freed after a jump. */
    PvxImage *volatile img = NULL;
    png_bytep *volatile rows = NULL;

    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        g_free(rows);
        pvx_image_free(img);
        return NULL;
    }

    png_set_read_fn(png, &reader, png_read_mem);
    /* Large images are legitimate for datasets; the default 1M-pixel limit is the one we keep
     * off, the chunk-size limits stay on. */
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);

    png_uint_32 width, height;
    int bit_depth, color_type;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, NULL, NULL, NULL);
    if (width > (1u << 15) || height > (1u << 15))
        png_error(png, "image too large");

    gboolean has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    /* 16-bit is reduced by keeping the high byte, as PIL does for RGB(A) PNGs. */
    if (bit_depth == 16)
        png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (has_trns)
        png_set_tRNS_to_alpha(png);
    /* Gray with alpha has no PvxImage layout of its own: it becomes RGBA. */
    gboolean gray = color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA;
    if (gray && (color_type == PNG_COLOR_TYPE_GRAY_ALPHA || has_trns))
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    if (channels != 1 && channels != 3 && channels != 4)
        png_error(png, "unsupported channel layout");
    if (png_get_rowbytes(png, info) != (png_size_t)width * channels)
        png_error(png, "unsupported pixel layout");

    img = pvx_image_new((int)width, (int)height, channels);
    rows = g_new(png_bytep, height);
    for (png_uint_32 y = 0; y < height; y++)
        rows[y] = img->data + (gsize)y * width * channels;
    png_read_image(png, rows);
    png_read_end(png, NULL);

    png_destroy_read_struct(&png, &info, NULL);
    g_free(rows);
    return img;
}

PvxImage *pvx_png_load_from_memory(const void *bytes, gsize len, const char *what, GError **error)
{
    PngErrorState st = {{0}};
    PvxImage *img = png_decode(bytes, len, &st);
    if (!img)
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT, "%s: corrupt or truncated PNG: %s", what,
                    st.message);
    return img;
}

/* The one function with a setjmp for writing. */
static gboolean png_encode(const PvxImage *img, FILE *fp, PngErrorState *st)
{
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, st, png_on_error, png_on_warning);
    if (!png) {
        g_strlcpy(st->message, "out of memory", sizeof st->message);
        return FALSE;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        g_strlcpy(st->message, "out of memory", sizeof st->message);
        return FALSE;
    }
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        g_free(rows);
        return FALSE;
    }
    int color_type = img->channels == 1   ? PNG_COLOR_TYPE_GRAY
                     : img->channels == 3 ? PNG_COLOR_TYPE_RGB
                                          : PNG_COLOR_TYPE_RGBA;
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8, color_type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    rows = g_new(png_bytep, img->height);
    for (int y = 0; y < img->height; y++)
        rows[y] = img->data + (gsize)y * img->width * img->channels;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    g_free(rows);
    return TRUE;
}

gboolean pvx_image_save_png(const PvxImage *img, const char *path, GError **error)
{
    g_return_val_if_fail(img != NULL && path != NULL, FALSE);
    g_return_val_if_fail(img->channels == 1 || img->channels == 3 || img->channels == 4, FALSE);

    g_autofree char *tmp = g_strdup_printf("%s.tmp-XXXXXX", path);
    int fd = g_mkstemp(tmp);
    if (fd < 0) {
        int err = errno;
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "%s: cannot create a temporary file: %s", path,
                    g_strerror(err));
        return FALSE;
    }
    FILE *fp = fdopen(fd, "wb");
    if (!fp) {
        int err = errno;
        close(fd);
        g_unlink(tmp);
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "%s: %s", path, g_strerror(err));
        return FALSE;
    }
    PngErrorState st = {{0}};
    gboolean ok = png_encode(img, fp, &st);
    int flush_err = 0;
    if (ok && (fflush(fp) != 0 || fsync(fileno(fp)) != 0))
        flush_err = errno;
    if (fclose(fp) != 0 && ok && !flush_err)
        flush_err = errno;
    if (!ok || flush_err) {
        g_unlink(tmp);
        if (!ok)
            g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "%s: writing PNG failed: %s", path,
                        st.message);
        else
            g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "%s: %s", path, g_strerror(flush_err));
        return FALSE;
    }
    /* mkstemp creates 0600; a saved picture should be readable like any other output (umask
     * is not queried: changing it is not thread-safe). */
    g_chmod(tmp, 0644);
    if (g_rename(tmp, path) != 0) {
        int err = errno;
        g_unlink(tmp);
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "%s: cannot rename the temporary file: %s",
                    path, g_strerror(err));
        return FALSE;
    }
    return TRUE;
}
