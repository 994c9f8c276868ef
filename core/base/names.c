/* pvx — names that become one folder of a path (pvx-private/names.h). */
#include <string.h>

#include "pvx/error.h"
#include "pvx-private/names.h"

gboolean pvx_folder_name_is_safe(const char *name)
{
    if (!name || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return FALSE;
    for (const char *c = name; *c; c++)
        if (!g_ascii_isalnum(*c) && !strchr("_.-", *c))
            return FALSE;
    return TRUE;
}

gboolean pvx_folder_name_check(const char *what, const char *name, GError **error)
{
    if (pvx_folder_name_is_safe(name))
        return TRUE;
    g_autofree char *esc = g_strescape(name ? name : "", NULL);
    g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                "%s must be one folder name — letters, digits, '_', '.' or '-', not '.' or '..' — "
                "got \"%s\"",
                what, esc);
    return FALSE;
}
