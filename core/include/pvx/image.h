/* pvx — 8-bit images: PNG and JPEG in, PNG out, resizing, cropping, tensor conversion.
 *
 * A PvxImage is interleaved 8-bit, row-major: pixel (x, y) channel c is
 * data[(y * width + x) * channels + c]. channels is 1 (gray), 3 (RGB) or 4 (RGBA).
 * Corrupt or truncated files give a GError (PVX_ERROR_FORMAT) naming the file, never a crash.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <stdint.h>
#include "tensor.h"

PVX_BEGIN_DECLS

typedef struct {
    int width, height, channels;
    uint8_t *data;
} PvxImage;

/* Zero-filled image. Returns: (transfer full). */
PvxImage *pvx_image_new(int width, int height, int channels);
PvxImage *pvx_image_copy(const PvxImage *img);
void pvx_image_free(PvxImage *img);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxImage, pvx_image_free)

/* Reads a PNG (8- or 16-bit, gray/gray+alpha/RGB/RGBA/palette; 16-bit is reduced to 8, palette
 * expanded, gray+alpha becomes RGBA) or a JPEG (baseline or progressive, gray or colour; CMYK is
 * refused), detected by the file's magic bytes, not its name. Returns: (transfer full). */
PvxImage *pvx_image_load(const char *path, GError **error);
/* Same from memory; @what names the source in messages. Returns: (transfer full). */
PvxImage *pvx_image_load_from_memory(const void *bytes, gsize len, const char *what,
                                     GError **error);
/* Writes an 8-bit PNG (gray, RGB or RGBA by channels). Writes to a temporary file in the same
 * folder and renames it, so a crash never leaves a half-written PNG under @path. */
gboolean pvx_image_save_png(const PvxImage *img, const char *path, GError **error);

/* Converts to @channels (1, 3 or 4): gray→RGB replicates, RGB→gray uses ITU-R 601-2 luma as PIL
 * does (L = R*299/1000 + G*587/1000 + B*114/1000), alpha is dropped or set to 255.
 * Returns: (transfer full). */
PvxImage *pvx_image_convert(const PvxImage *img, int channels);

/* Bilinear resize with PIL's semantics (Image.resize(..., BILINEAR): antialiased when shrinking,
 * i.e. the triangle filter's support grows with the scale factor), the resize torchvision applies
 * to PIL images. Returns: (transfer full). */
PvxImage *pvx_image_resize(const PvxImage *img, int width, int height);
/* torchvision.transforms.Resize(size) with an int: the shorter side becomes @size, the other
 * keeps the aspect ratio (truncated as torchvision does). Returns: (transfer full). */
PvxImage *pvx_image_resize_shorter(const PvxImage *img, int size);
/* torchvision.transforms.CenterCrop((height, width)) — pads with zeros when the image is
 * smaller. Returns: (transfer full). */
PvxImage *pvx_image_center_crop(const PvxImage *img, int width, int height);

/* Image → C×H×W float tensor: value/255, then (v - mean[c]) / std[c]. @mean and @std have
 * img->channels entries, or are NULL (no normalisation). Returns: (transfer full). */
PvxTensor *pvx_image_to_tensor(const PvxImage *img, const float *mean, const float *std);
/* C×H×W (C = 1 or 3) tensor → image, undoing mean/std (either may be NULL) and clamping to
 * [0, 255] with rounding. Returns: (transfer full). */
PvxImage *pvx_image_from_tensor(const PvxTensor *t, const float *mean, const float *std);

/* Copies @src into @dst with its top-left corner at (x, y), clipped; converts channels. */
void pvx_image_blit(PvxImage *dst, const PvxImage *src, int x, int y);
/* Fills a rectangle with a colour (rgba[0..channels-1] used). */
void pvx_image_fill_rect(PvxImage *img, int x, int y, int w, int h, const uint8_t *rgba);

/* ImageNet statistics, as torchvision uses them. Constants in the header, not exported data: the
 * plugin surface is functions only (pvx/api.h says why). */
static const float pvx_imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
static const float pvx_imagenet_std[3] = {0.229f, 0.224f, 0.225f};

PVX_END_DECLS
