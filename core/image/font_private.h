/* pvx — the built-in bitmap font (not installed). */
#pragma once

#include <stdint.h>

#define PVX_FONT_GLYPH_W 5
#define PVX_FONT_GLYPH_H 7
#define PVX_FONT_ADVANCE 6 /* glyph width plus one column of spacing */
#define PVX_FONT_LINE 9    /* glyph height plus two rows of spacing */

/* Five column bytes of @c (bit 0 = top row); '?' for anything outside 0x20..0x7E. */
const uint8_t *pvx_font_glyph(unsigned char c);
