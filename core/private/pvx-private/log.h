/* pvx — how much the core prints (core side; plugins log through g_debug/g_message under their
 * own domain). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Verbosity for the CLI: 0 = quiet (warnings and errors only), 1 = normal, 2 = verbose. */
void pvx_log_set_verbosity(int level);
int pvx_log_get_verbosity(void);

G_END_DECLS
