/* Helpers shared by the tests in tests/image: temporary folders, the PIL/torchvision reference
 * script, raw pixel files and synthetic pictures. */
#pragma once

#include "pvx-private/core.h"

/* A new empty folder under the system temp dir. Returns: (transfer full). */
char *tu_make_tmpdir(void);
/* Removes @dir and everything below it. */
void tu_rm_rf(const char *dir);

/* Runs tests/image/pil_ref.py with @commands (one per line). Returns TRUE when it succeeded;
 * when /usr/bin/python3 or its modules are missing marks the test skipped and returns FALSE;
 * any other failure fails the test. */
gboolean tu_python(const char *commands);

/* Reads a "W H C\n"+bytes file written by pil_ref.py. Returns: (transfer full). */
PvxImage *tu_read_raw(const char *path);
/* Reads a "C H W\n"+float32 file written by pil_ref.py. Returns: (transfer full). */
PvxTensor *tu_read_f32(const char *path);

/* A deterministic picture with gradients, sharp edges and noise, so resampling differences
 * show up. Returns: (transfer full). */
PvxImage *tu_pattern(int width, int height, int channels, guint32 seed);

/* Largest per-byte difference; -1 when the shapes differ. */
int tu_max_diff(const PvxImage *a, const PvxImage *b);
