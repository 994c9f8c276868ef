/* pvx — progress bars on a terminal, plain lines in logs. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "pvx/error.h"
#include "pvx-private/log.h"
#include "pvx-private/progress.h"

#define BAR_WIDTH 20

struct _PvxProgress {
    char *label;
    char *unit;
    int64_t total, done;
    gint64 start, last_draw; /* monotonic µs */
    char *extra;
};

static int terminal_mode = -1; /* -1: ask isatty */
static double log_interval = 30.0;

void pvx_progress_set_terminal(gboolean terminal)
{
    terminal_mode = terminal ? 1 : 0;
}

void pvx_progress_set_log_interval(double seconds)
{
    log_interval = seconds;
}

static gboolean on_terminal(void)
{
    if (terminal_mode < 0)
        terminal_mode = isatty(STDERR_FILENO) ? 1 : 0;
    return terminal_mode == 1;
}

PvxProgress *pvx_progress_new(const char *label, int64_t total, const char *unit)
{
    PvxProgress *p = g_new0(PvxProgress, 1);
    p->label = g_strdup(label);
    p->unit = g_strdup(unit ? unit : "it");
    p->total = MAX(total, 1);
    p->start = p->last_draw = g_get_monotonic_time();
    return p;
}

static void format_duration(char *buf, gsize len, double seconds)
{
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        g_snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        g_snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

/* "[#####-----]  45%  212/469  loss 0.3  1834 img/s  ETA 0:14" */
static char *status_text(const PvxProgress *p, gboolean bar, gboolean eta)
{
    double elapsed = (double)(g_get_monotonic_time() - p->start) / 1e6;
    double frac = CLAMP((double)p->done / (double)p->total, 0.0, 1.0);
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0.0;
    GString *s = g_string_new(p->label);
    if (bar) {
        int filled = (int)(frac * BAR_WIDTH + 0.5);
        g_string_append(s, " [");
        for (int i = 0; i < BAR_WIDTH; i++)
            g_string_append_c(s, i < filled ? '#' : '-');
        g_string_append_c(s, ']');
    }
    g_string_append_printf(s, " %3d%%  %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, (int)(frac * 100),
                           (gint64)p->done, (gint64)p->total);
    if (p->extra && *p->extra)
        g_string_append_printf(s, "  %s", p->extra);
    g_string_append_printf(s, "  %.0f %s/s", rate, p->unit);
    char dur[32];
    if (eta && rate > 0 && p->done < p->total) {
        format_duration(dur, sizeof dur, (double)(p->total - p->done) / rate);
        g_string_append_printf(s, "  ETA %s", dur);
    } else {
        format_duration(dur, sizeof dur, elapsed);
        g_string_append_printf(s, "  %s", dur);
    }
    return g_string_free(s, FALSE);
}

void pvx_progress_update(PvxProgress *p, int64_t done, const char *fmt, ...)
{
    p->done = done;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        g_free(p->extra);
        p->extra = g_strdup_vprintf(fmt, ap);
        va_end(ap);
    }
    if (pvx_log_get_verbosity() < 1)
        return;
    gint64 now = g_get_monotonic_time();
    if (on_terminal()) {
        if (now - p->last_draw < 100000 && done < p->total)
            return;
        g_autofree char *text = status_text(p, TRUE, TRUE);
        /* \033[K clears what a longer previous line left behind. */
        fprintf(stderr, "\r%s\033[K", text);
        fflush(stderr);
    } else {
        if ((double)(now - p->last_draw) / 1e6 < log_interval)
            return;
        g_autofree char *text = status_text(p, FALSE, TRUE);
        fprintf(stderr, "%s\n", text);
        fflush(stderr);
    }
    p->last_draw = now;
}

void pvx_progress_finish(PvxProgress *p, const char *fmt, ...)
{
    if (!p)
        return;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        g_free(p->extra);
        p->extra = g_strdup_vprintf(fmt, ap);
        va_end(ap);
    }
    if (pvx_log_get_verbosity() >= 1) {
        g_autofree char *text = status_text(p, on_terminal(), FALSE);
        fprintf(stderr, on_terminal() ? "\r%s\033[K\n" : "%s\n", text);
        fflush(stderr);
    }
    g_free(p->label);
    g_free(p->unit);
    g_free(p->extra);
    g_free(p);
}
