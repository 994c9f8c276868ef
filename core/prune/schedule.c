/* pvx — pruning schedules: names (and the scope's), rate lists, the AGP cubic, CR labels. */
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx-private/prune.h"

static const char *const schedule_names[] = {"one-shot", "iterative", "gradual", NULL};

const char *const *pvx_prune_schedule_names(void)
{
    return schedule_names;
}

gboolean pvx_prune_schedule_from_name(const char *name, PvxPruneSchedule *out)
{
    for (int i = 0; schedule_names[i]; i++)
        if (g_strcmp0(schedule_names[i], name) == 0) {
            *out = (PvxPruneSchedule)i;
            return TRUE;
        }
    return FALSE;
}

gboolean pvx_prune_scope_from_name(const char *name, PvxPruneScope *out)
{
    if (g_strcmp0(name, "local") == 0)
        *out = PVX_PRUNE_SCOPE_LOCAL;
    else if (g_strcmp0(name, "global") == 0)
        *out = PVX_PRUNE_SCOPE_GLOBAL;
    else
        return FALSE;
    return TRUE;
}

gboolean pvx_prune_check_rates(const double *rates, int n, const char *where, GError **error)
{
    if (n < 1) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                    "%s: the list of compression rates is empty (e.g. [2, 4, 8, 16, 32])", where);
        return FALSE;
    }
    for (int i = 0; i < n; i++) {
        if (!isfinite(rates[i]) || rates[i] < 1.0) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                        "%s: rates[%d] is %g; a compression rate is at least 1 (1 = unpruned)",
                        where, i, rates[i]);
            return FALSE;
        }
        if (i > 0 && !(rates[i] > rates[i - 1])) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                        "%s: the compression rates must increase: rates[%d] = %g follows "
                        "rates[%d] = %g",
                        where, i, rates[i], i - 1, rates[i - 1]);
            return FALSE;
        }
    }
    return TRUE;
}

double pvx_prune_agp_cr(double final_cr, int t, int n)
{
    g_return_val_if_fail(n >= 1 && t >= 0 && t <= n && final_cr >= 1.0, 1.0);
    double sf = 1.0 - 1.0 / final_cr;
    double r = 1.0 - (double)t / (double)n;
    double s = sf * (1.0 - r * r * r);
    return t == n ? final_cr : 1.0 / (1.0 - s);
}

char *pvx_prune_cr_label(double cr)
{
    if (cr == floor(cr) && cr < 1e15)
        return g_strdup_printf("cr%.0f", cr);
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(buf, sizeof buf, "%g", cr);
    return g_strconcat("cr", buf, NULL);
}
