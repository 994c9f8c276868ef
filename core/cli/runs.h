/* pvx — reading a run's state and key numbers, shared by `pvx runs` and `pvx show` (show.c). */
#pragma once

#include "pvx-private/core.h"

#include "cli.h"

/* -q/--quiet and -v/--verbose for commands without PvxCliCommon's other options (runs, show,
 * config-reference); apply them with pvx_cli_apply_verbosity. Returns: (transfer full). */
GOptionEntry *pvx_cli_verbosity_entries(PvxCliCommon *common);

/* @path itself when it names a file, else @path/results.h5. Returns: (transfer full). */
char *pvx_cli_run_store_path(const char *path);
/* One line for the run in @dir whose store is @s: "finished", "failed after STAGE: message",
 * "stopped after STAGE" (state "running" but nobody writes it: killed or crashed),
 * "running (after STAGE)" (a pvx holds the lock of a shadow file in @dir).
 * Returns: (transfer full). */
char *pvx_cli_run_state(PvxStore *s, const char *dir);
/* Top-1 accuracy of CR @cr on the test split (else on the first evaluated split). */
gboolean pvx_cli_run_top1(PvxStore *s, int cr, double *top1);
/* "1,2,4,8": the compression rates the run has models for. Returns: (transfer full). */
char *pvx_cli_run_crs_text(PvxStore *s);
