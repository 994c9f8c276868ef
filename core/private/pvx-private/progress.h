/* pvx — progress of long work, for people.
 *
 * On a terminal: one line redrawn in place, at most ten times a second —
 *     epoch 3/10 [#########-----------]  45%  212/469  loss 0.312 acc 0.891  1834 img/s  ETA 0:14
 * Elsewhere (a CI log, a file): no redraws; a plain line every @log_every seconds (default 30)
 * and one line when the work finishes, so logs stay readable. --quiet silences both.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct _PvxProgress PvxProgress;

/* @label: what is being done ("epoch 3/10"); @total: units of work (> 0); @unit: what the rate
 * counts per second ("img"). Returns: (transfer full). */
PvxProgress *pvx_progress_new(const char *label, int64_t total, const char *unit);
/* Reports @done units (absolute, not a delta) and optional extra text ("loss 0.31") printf-style
 * (@fmt may be NULL). Cheap to call often: drawing is rate-limited. */
void pvx_progress_update(PvxProgress *p, int64_t done, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Ends the line with a summary ("loss 0.29 acc 0.90 val 0.91") and frees @p. */
void pvx_progress_finish(PvxProgress *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Force plain-line mode (tests) or terminal mode; by default isatty(stderr) decides. */
void pvx_progress_set_terminal(gboolean terminal);
/* Seconds between plain lines when not on a terminal. */
void pvx_progress_set_log_interval(double seconds);

G_END_DECLS
