/* pvx — seeded randomness for plugins and the core: one source, so a seed means the same numbers
 * everywhere.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "api.h"

PVX_BEGIN_DECLS

/* A well-mixed 64-bit value from (seed, a, b) (splitmix64 chain). */
guint64 pvx_hash64(guint64 seed, guint64 a, guint64 b);
/* Fisher–Yates permutation of 0..n-1 driven by @seed. @out holds n entries. */
void pvx_permutation(int64_t n, guint64 seed, int64_t *out);

PVX_END_DECLS
