/* pvx — what libpvx exports.
 *
 * libpvx is built with hidden symbol visibility: only what the installed headers declare between
 * PVX_BEGIN_DECLS and PVX_END_DECLS is exported, and that is the plugin surface — everything a
 * plugin may call. The core's own modules (stages, studies, report, store, kernels) declare their
 * functions in private headers with G_BEGIN_DECLS, so they stay inside the library and the pvx
 * program and can change freely. tests/abi/ checks that the exported symbols are exactly the
 * declarations of the installed headers.
 */
#pragma once

#include <glib.h>

#if defined(__GNUC__) || defined(__clang__)
#define PVX_API __attribute__((visibility("default")))
#define PVX_VISIBILITY_PUSH _Pragma("GCC visibility push(default)")
#define PVX_VISIBILITY_POP _Pragma("GCC visibility pop")
#else
#define PVX_API
#define PVX_VISIBILITY_PUSH
#define PVX_VISIBILITY_POP
#endif

/* Opens and closes a public header's declarations: C linkage for C++ and default visibility, so
 * every function declared in between is part of libpvx's exported plugin surface. */
#define PVX_BEGIN_DECLS G_BEGIN_DECLS PVX_VISIBILITY_PUSH
#define PVX_END_DECLS PVX_VISIBILITY_POP G_END_DECLS
