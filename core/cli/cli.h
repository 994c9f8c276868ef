/* pvx — shared pieces of the command-line subcommands. */
#pragma once

#include "pvx-private/core.h"

/* Exit codes (documented in README and --help). */
enum {
    PVX_EXIT_OK = 0,
    PVX_EXIT_FAILED = 1,    /* the run started but failed */
    PVX_EXIT_BAD_INPUT = 2, /* bad command line, config, plugin or data: nothing was run */
};

/* Options every subcommand that loads plugins understands. */
typedef struct {
    char **plugin_dirs; /* --plugin-dir, repeatable */
    char **overrides;   /* --set KEY=VALUE, repeatable */
    gboolean quiet, verbose;
} PvxCliCommon;

/* Adds --plugin-dir, --set, --quiet, --verbose to @group. */
GOptionEntry *pvx_cli_common_entries(PvxCliCommon *common);
void pvx_cli_common_clear(PvxCliCommon *common);
/* Applies --quiet/--verbose to logging. */
void pvx_cli_apply_verbosity(const PvxCliCommon *common);

/* Builds the registry from the search path; refused plugins are reported as warnings (a broken
 * plugin must not stop work that does not use it). Returns: (transfer full). */
PvxRegistry *pvx_cli_load_registry(const PvxCliCommon *common, const char *const *config_dirs);

/* The resolved config stored in run folder @dir (results.h5:/config), validated as a fresh one
 * would be, with the registry it was validated against in @reg_out. On failure prints the error
 * and returns NULL. Returns: (transfer full). */
PvxConfig *pvx_cli_load_run_config(const char *dir, const PvxCliCommon *common,
                                   PvxRegistry **reg_out);
/* Loads and validates a config with the common options; on failure prints the error and returns
 * NULL. @reg_out receives the registry. Returns: (transfer full). */
PvxConfig *pvx_cli_load_config(const char *path, const PvxCliCommon *common, PvxRegistry **reg_out);

/* Routes g_log output through pvx's terse format (call once, first thing in main). */
void pvx_cli_install_log_writer(void);

/* Class names for --classes: "N" (names "0" .. "N-1") or a file with one name a line.
 * Returns: (transfer full) NULL-terminated, NULL + error. */
char **pvx_cli_read_classes(const char *spec, GError **error);

/* Prints "pvx: <message>" to stderr. */
void pvx_cli_error(const GError *error);

int pvx_cli_run(int argc, char **argv);
int pvx_cli_plugins(int argc, char **argv);
int pvx_cli_data(int argc, char **argv);
int pvx_cli_predict(int argc, char **argv);
int pvx_cli_explain(int argc, char **argv);
int pvx_cli_study(int argc, char **argv);
int pvx_cli_runs(int argc, char **argv);
int pvx_cli_show(int argc, char **argv);
int pvx_cli_report(int argc, char **argv);
int pvx_cli_prune(int argc, char **argv);
int pvx_cli_config_reference(int argc, char **argv);
