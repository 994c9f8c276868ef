/* pvx — names that become one folder of a path: the experiment's name and a run id, which must
 * keep a run inside its output folder (core side). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE for a non-empty name of letters, digits, '_', '.' and '-' that is not "." or "..": one
 * folder, never a way out of its parent. */
gboolean pvx_folder_name_is_safe(const char *name);
/* The same as a check: PVX_ERROR_INVALID_ARGUMENT naming @what ("--run-id") and the name. */
gboolean pvx_folder_name_check(const char *what, const char *name, GError **error);

G_END_DECLS
