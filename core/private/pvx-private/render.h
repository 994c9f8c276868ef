/* pvx — small rendering helpers for previews and reports: text with a built-in bitmap font,
 * mask outlines, nearest-neighbour enlargement and tile grids.
 *
 * Text uses a 5×7 pixel font for printable ASCII; each glyph sits in a 6×9 cell (one column,
 * two rows of spacing), all multiplied by @scale (≥ 1). Other bytes draw as '?', except that
 * UTF-8 continuation bytes are skipped so one code point gives one '?'. '\n' starts a new line.
 * Drawing is clipped to the image; nothing fails.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include "pvx/image.h"
#include "pvx/tensor.h"

G_BEGIN_DECLS

/* Width in pixels of the widest line of @text at @scale (0 for ""), no trailing spacing. */
int pvx_text_width(const char *text, int scale);
/* Height in pixels of @text at @scale: 7·scale for one line, plus 9·scale per further line. */
int pvx_text_height(const char *text, int scale);

/* Draws @text with its top-left corner at (x, y) in colour @rgb (gray images take the luma of
 * @rgb; RGBA pixels become opaque). */
void pvx_image_draw_text(PvxImage *img, int x, int y, const char *text, const uint8_t rgb[3],
                         int scale);

/* Paints the boundary of the region mask > 0.5 in @rgb: every inside pixel that has an outside
 * pixel (or the image border) within Chebyshev distance @thickness (≥ 1). @mask is H×W (or
 * 1×H×W), contiguous; when its size differs from the image it is sampled nearest-neighbour, so
 * a 224×224 mask outlines an image enlarged to 448×448. */
void pvx_image_outline_mask(PvxImage *img, const PvxTensor *mask, const uint8_t rgb[3],
                            int thickness);

/* Each pixel becomes a @factor×@factor block (for 28×28 digits in previews).
 * Returns: (transfer full). */
PvxImage *pvx_image_scale_nearest(const PvxImage *img, int factor);

/* Layout and colours of pvx_render_grid. Zero-initialise, then set what you need; zero values
 * mean the defaults noted. */
typedef struct {
    const char *title;             /* a line above the grid; NULL: none */
    const char *const *row_labels; /* n_rows entries (an entry may be NULL); NULL: no labels */
    const char *const *col_labels; /* n_cols entries above the columns; NULL: none */
    int margin;                    /* pixels around and between tiles; 0: 4 */
    int text_scale;                /* font scale; 0: 1 */
    gboolean custom_colors;        /* FALSE: white background, black text */
    uint8_t background[3];
    uint8_t foreground[3];
} PvxGridOptions;

/* Composes @tiles (n_rows × n_cols, row-major; a NULL entry leaves its cell blank) into one RGB
 * image:
 *
 *     margin | title                                        |
 *     margin | label-column | col label | col label | ...   |
 *            | row label 0  | tile      | tile      | ...   |
 *            | row label 1  | tile      | tile      | ...   |
 *
 * Row labels are left-aligned in a column as wide as the widest one and centred vertically on
 * their row; column labels are centred on their column (and clipped to it). Every tile must have
 * the same width and height (any channel count; gray is replicated); @opts may be NULL.
 * Returns: (transfer full), NULL + PVX_ERROR_SHAPE when tile sizes differ or none is given. */
PvxImage *pvx_render_grid(PvxImage *const *tiles, int n_rows, int n_cols,
                          const PvxGridOptions *opts, GError **error);

G_END_DECLS
