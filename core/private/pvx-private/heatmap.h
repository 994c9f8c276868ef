/* pvx — rendering explanation maps: upsampling, normalisation, colormaps, heat maps and
 * occlusion maps (core/explain/render_maps.c).
 *
 * A raw map [h, w] (what an explainer returns) becomes a picture in the order pytorch-grad-cam
 * uses: ReLU (optional, on by default), min-max normalisation per image
 * (m − min) / (max − min + 1e-7) — a constant map becomes all 0 —, then bilinear upsampling to
 * the image size with cv2.resize's INTER_LINEAR convention (= PyTorch's
 * F.interpolate(align_corners=False): pixel centres aligned, source coordinates clamped at the
 * border). Maps already at the image size are not resampled.
 *
 * Colormaps map v in [0, 1] to 8-bit RGB:
 *   jet      matplotlib's "jet" (its piecewise-linear segment data), blue → cyan → yellow → red,
 *            sampled like matplotlib's 256-entry LUT: entry i = min(floor(v·256), 255), value
 *            i/255 of the segment data, byte = round(255·c). (OpenCV's COLORMAP_JET, which
 *            pytorch-grad-cam uses, is a close but not identical table.)
 *   viridis  matplotlib's viridis, the same LUT sampling, perceptually uniform.
 * Heat map: out = round((1 − α)·image + α·colour(v)), α = opacity (the paper: 0.4). Unlike
 * pytorch-grad-cam's show_cam_on_image, the result is not divided by its maximum.
 * Occlusion map: the k = round(keep · H·W) most relevant pixels keep the image, the others are
 * filled (black, grey 128, or the image blurred with a Gaussian of σ = blur_sigma). Ranking is by
 * the normalised upsampled map, ties broken by the lower row-major index, so exactly k pixels
 * are kept.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "pvx/image.h"
#include "pvx/tensor.h"

G_BEGIN_DECLS

/* Append-only. */
typedef enum {
    PVX_COLORMAP_JET = 0,
    PVX_COLORMAP_VIRIDIS,
} PvxColormap;

typedef enum {
    PVX_OCCLUDE_BLACK = 0,
    PVX_OCCLUDE_GREY,
    PVX_OCCLUDE_BLUR,
} PvxOcclusionFill;

gboolean pvx_colormap_from_name(const char *name, PvxColormap *out); /* "jet", "viridis" */
gboolean pvx_occlusion_fill_from_name(const char *name,
                                      PvxOcclusionFill *out); /* "black", "grey"/"gray", "blur" */

/* Colour of @v (clamped to [0, 1]). */
void pvx_colormap_rgb(PvxColormap cmap, double v, uint8_t rgb[3]);

typedef struct {
    gboolean relu;         /* clip negative relevance before normalising (default TRUE) */
    PvxColormap colormap;  /* default jet */
    double opacity;        /* heat-map α in [0, 1], default 0.4 */
    double keep_fraction;  /* occlusion map: fraction kept in [0, 1], default 0.1 */
    PvxOcclusionFill fill; /* default black */
    double blur_sigma;     /* PVX_OCCLUDE_BLUR: Gaussian σ in pixels, default 8 */
} PvxMapRenderOptions;

/* Sets the defaults above. */
void pvx_map_render_options_init(PvxMapRenderOptions *o);

/* Raw map [h, w] (or [1, h, w]) → [height, width] in [0, 1] (ReLU, min-max, resize as above).
 * Returns: (transfer full). */
PvxTensor *pvx_map_normalize(const PvxTensor *raw, int width, int height, gboolean relu);

/* Heat map of @img (gray or RGB) from @map01 [H, W] in [0, 1] of the image's size.
 * Returns: (transfer full) RGB, NULL + PVX_ERROR_SHAPE when sizes differ. */
PvxImage *pvx_render_heatmap(const PvxImage *img, const PvxTensor *map01, PvxColormap cmap,
                             double opacity, GError **error);
/* The keep-mask of an occlusion map: H·W bytes, 1 for the round(keep·H·W) most relevant pixels
 * of @map [H, W] (ties: lower index first). Returns: (transfer full) g_malloc'd. */
uint8_t *pvx_occlusion_keep_mask(const PvxTensor *map, double keep_fraction, int64_t *kept_out);
/* Occlusion map of @img from @map [H, W] (image size). Returns: (transfer full) RGB. */
PvxImage *pvx_render_occlusion(const PvxImage *img, const PvxTensor *map, double keep_fraction,
                               PvxOcclusionFill fill, double blur_sigma, GError **error);
/* Gaussian blur (separable, radius ceil(3σ), borders replicated). Returns: (transfer full). */
PvxImage *pvx_image_blur(const PvxImage *img, double sigma);

/* Both renderings of raw map @raw for @img with @opts: *heat_out and *occl_out (either may be
 * NULL) receive new RGB images (transfer full). */
gboolean pvx_render_map_pair(const PvxImage *img, const PvxTensor *raw,
                             const PvxMapRenderOptions *opts, PvxImage **heat_out,
                             PvxImage **occl_out, GError **error);

/* "<id>_<method>_cr<k>_<kind>.png" with characters outside [A-Za-z0-9._+-] of id and method
 * replaced by '_' (kind: "heat", "occl"). @cr < 0 leaves out the "_cr<k>" part.
 * Returns: (transfer full). */
char *pvx_map_file_name(const char *item_id, const char *method, int cr, const char *kind);

G_END_DECLS
