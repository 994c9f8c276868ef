/* pvx — errors and logging.
 *
 * Every fallible function returns gboolean (or a pointer, NULL on failure) and takes
 * `GError **error` last; the error is set if and only if the call fails. All pvx errors use
 * the one domain PVX_ERROR; the code says what kind of failure it was. Codes are append-only.
 */
#pragma once

#include "api.h"

#include <glib.h>

PVX_BEGIN_DECLS

#define PVX_ERROR (pvx_error_quark())
GQuark pvx_error_quark(void);

typedef enum {
    PVX_ERROR_FAILED = 0,       /* anything not covered below */
    PVX_ERROR_INVALID_ARGUMENT, /* a caller passed a value the function cannot use */
    PVX_ERROR_IO,               /* open/read/write/rename failed at the OS level */
    PVX_ERROR_FORMAT,           /* a file is corrupt, truncated or not of the expected format */
    PVX_ERROR_SHAPE,            /* tensor shapes do not fit */
    PVX_ERROR_NOT_FOUND,        /* a named thing (tensor, layer, class, file) does not exist */
    /* plugin loader (registry) */
    PVX_ERROR_PLUGIN_OPEN,      /* the .so cannot be opened (dlopen failed) */
    PVX_ERROR_PLUGIN_NOT_PVX,   /* it opened but exports no pvx descriptor */
    PVX_ERROR_PLUGIN_ABI,       /* incompatible ABI version */
    PVX_ERROR_PLUGIN_INVALID,   /* the descriptor or its function table is malformed */
    PVX_ERROR_PLUGIN_DUPLICATE, /* a plugin of the same kind and name is already registered */
    PVX_ERROR_PLUGIN_UNKNOWN,   /* no plugin of that kind and name */
    /* configuration */
    PVX_ERROR_CONFIG_SYNTAX, /* the YAML does not parse */
    PVX_ERROR_CONFIG_UNKNOWN_KEY,
    PVX_ERROR_CONFIG_TYPE,     /* a value has the wrong type */
    PVX_ERROR_CONFIG_RANGE,    /* a value is out of range or not one of the choices */
    PVX_ERROR_CONFIG_MISSING,  /* a required key is absent */
    PVX_ERROR_CONFIG_OVERRIDE, /* a --set override is malformed */
    PVX_ERROR_CANCELLED,       /* interrupted by the user */
    PVX_ERROR_NUMERIC,         /* NaN/Inf where a finite number was needed */
} PvxError;

/* Log domains: the core logs as "pvx"; a plugin logs under "pvx-<name>", so
 * G_MESSAGES_DEBUG=pvx-idx turns on one plugin's debug output. */
#define PVX_LOG_DOMAIN "pvx"

PVX_END_DECLS
