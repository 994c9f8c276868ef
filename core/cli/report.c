/* pvx report RUN_DIR — the run's report.html with its figures (pvx-private/report.h). */
#include <stdio.h>

#include "cli.h"
#include "pvx-private/report.h"

int pvx_cli_report(int argc, char **argv)
{
    PvxCliCommon common = {0};
    g_autofree GOptionEntry *entries = pvx_cli_common_entries(&common);
    g_autoptr(GOptionContext) ctx = g_option_context_new("RUN_DIR — write the run's report");
    g_option_context_set_summary(
        ctx, "Writes RUN_DIR/report.html, a self-contained page (it loads nothing from the "
             "network),\nand RUN_DIR/report/ with every figure as PNG, PDF and SVG: accuracy per "
             "CR, each\nexplanation metric per method and CR against accuracy, per-layer "
             "density, training\ncurves; tables per CR and per metric × method × CR with "
             "confidence intervals; the\nmap gallery (each image across all CRs); human-study "
             "analyses found under RUN_DIR/study/.\n`pvx run` writes it as its last stage.\n"
             "Exit codes: 0 success, 1 the report could not be written, 2 bad input.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *html = NULL;
    int rc = PVX_EXIT_BAD_INPUT;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2) {
        fprintf(stderr, "pvx report: %s\n", error ? error->message : "expected one RUN_DIR");
        goto out;
    }
    pvx_cli_apply_verbosity(&common);
    if (!pvx_report_write(argv[1], &html, &error)) {
        pvx_cli_error(error);
        rc = g_error_matches(error, PVX_ERROR, PVX_ERROR_NOT_FOUND) ? PVX_EXIT_BAD_INPUT
                                                                    : PVX_EXIT_FAILED;
        goto out;
    }
    printf("report: %s\n", html);
    rc = PVX_EXIT_OK;
out:
    pvx_cli_common_clear(&common);
    return rc;
}
