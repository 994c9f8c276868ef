/* pvx — helpers shared by the files of core/image (not installed). */
#pragma once

#include "pvx/image.h"

G_BEGIN_DECLS

/* TRUE when @bytes start with the format's magic bytes. */
gboolean pvx_png_is(const void *bytes, gsize len);
gboolean pvx_jpeg_is(const void *bytes, gsize len);

/* Decoders; @what names the source in messages. Returns: (transfer full). */
PvxImage *pvx_png_load_from_memory(const void *bytes, gsize len, const char *what, GError **error);
PvxImage *pvx_jpeg_load_from_memory(const void *bytes, gsize len, const char *what, GError **error);

G_END_DECLS
