/* pvx — matplotlib's viridis colour map, one table for every picture the core draws (explanation
 * heat maps, plot heat matrices). Core-private, not plugin surface (plugins use
 * pvx_colormap_rgb in heatmap.h). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* matplotlib's _viridis_data: 256 RGB entries in [0, 1]; entry 0 is #440154, entry 128 #21918c,
 * entry 255 #fde725. */
extern const float pvx_viridis_table[256][3];

/* The LUT entry matplotlib picks for @t: ⌊t · 256⌋, 255 for t ≥ 1, 0 for t < 0 or NaN. */
int pvx_viridis_index(double t);

/* The colour at @t in [0, 1] (clamped, NaN as 0) by that LUT sampling: @rgb gets the entry's
 * three channels in [0, 1]. */
void pvx_viridis_rgb(double t, double rgb[3]);

G_END_DECLS
