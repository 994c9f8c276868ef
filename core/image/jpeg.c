/* pvx — JPEG decoding with libjpeg(-turbo).
 *
 * libjpeg's default error handler calls exit(); ours longjmps back into jpeg_decode, the only
 * function with a setjmp. libjpeg reports a truncated file only as a warning (it pads the stream
 * with a fake EOI and decodes grey), which would silently feed half-grey pictures to a model, so
 * the warnings that mean "data is missing" are fatal here too.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "image_private.h"
#include "pvx/error.h"

typedef struct {
    struct jpeg_error_mgr pub; /* first: libjpeg casts the pointer back and forth */
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} JpegErrorMgr;

static void jpeg_on_error(j_common_ptr cinfo)
{
    JpegErrorMgr *err = (JpegErrorMgr *)cinfo->err;
    err->pub.format_message(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void jpeg_on_message(j_common_ptr cinfo, int msg_level)
{
    JpegErrorMgr *err = (JpegErrorMgr *)cinfo->err;
    if (msg_level >= 0)
        return; /* trace messages */
    int code = err->pub.msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER) {
        err->pub.format_message(cinfo, err->message);
        g_strlcat(err->message, " (truncated file)", sizeof err->message);
        longjmp(err->jump, 1);
    }
    char buf[JMSG_LENGTH_MAX];
    err->pub.format_message(cinfo, buf);
    g_debug("libjpeg warning: %s", buf);
    err->pub.num_warnings++;
}

gboolean pvx_jpeg_is(const void *bytes, gsize len)
{
    const uint8_t *b = bytes;
    return len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

/* The one function with a setjmp. Returns the image, or NULL with err->message set. */
static PvxImage *jpeg_decode(const void *bytes, gsize len, JpegErrorMgr *err)
{
    struct jpeg_decompress_struct cinfo;
    PvxImage *volatile img = NULL;

    cinfo.err = jpeg_std_error(&err->pub);
    err->pub.error_exit = jpeg_on_error;
    err->pub.emit_message = jpeg_on_message;
    if (setjmp(err->jump)) {
        jpeg_destroy_decompress(&cinfo);
        pvx_image_free(img);
        return NULL;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, bytes, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);

    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        g_strlcpy(err->message, "CMYK JPEGs are not supported", sizeof err->message);
        jpeg_destroy_decompress(&cinfo);
        return NULL;
    }
    /* The defaults (JDCT_ISLOW, fancy upsampling) are what PIL decodes with, so pixels match. */
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_width > (1u << 15) || cinfo.output_height > (1u << 15)) {
        g_strlcpy(err->message, "image too large", sizeof err->message);
        jpeg_destroy_decompress(&cinfo);
        return NULL;
    }
    img = pvx_image_new((int)cinfo.output_width, (int)cinfo.output_height, cinfo.output_components);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = img->data + (gsize)cinfo.output_scanline * img->width * img->channels;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return img;
}

PvxImage *pvx_jpeg_load_from_memory(const void *bytes, gsize len, const char *what, GError **error)
{
    JpegErrorMgr err;
    memset(&err, 0, sizeof err);
    PvxImage *img = jpeg_decode(bytes, len, &err);
    if (!img)
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT, "%s: corrupt or unsupported JPEG: %s", what,
                    err.message);
    return img;
}
