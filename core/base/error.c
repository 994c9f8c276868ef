/* pvx — error domain, log verbosity, version. */
#include "pvx-private/core.h"
#include "pvx-build-config.h"

G_DEFINE_QUARK(pvx - error - quark, pvx_error)

static int log_verbosity = 1;

void pvx_log_set_verbosity(int level)
{
    log_verbosity = CLAMP(level, 0, 2);
}

int pvx_log_get_verbosity(void)
{
    return log_verbosity;
}

const char *pvx_version(void)
{
    return PVX_VERSION;
}
