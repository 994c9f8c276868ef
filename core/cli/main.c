/* pvx — the command-line entry point: dispatches to subcommands. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
} Subcommand;

static const Subcommand subcommands[] = {
    {"run", pvx_cli_run, "run an experiment from a YAML config"},
    {"plugins", pvx_cli_plugins, "list plugins, or show one plugin's parameters"},
    {"data", pvx_cli_data, "look at a dataset (pvx data preview CONFIG)"},
    {"predict", pvx_cli_predict, "classify images with a model and HDF5 weights (top-5)"},
    {"explain", pvx_cli_explain, "explain images: heat maps, occlusion maps, raw maps (HDF5)"},
    {"study", pvx_cli_study, "human studies: export tasks, analyse answers, simulate raters"},
    {"prune", pvx_cli_prune, "export the physically smaller model of a filter-pruned run"},
    {"report", pvx_cli_report, "write a run's report.html with figures (PNG, PDF, SVG)"},
    {"runs", pvx_cli_runs, "list runs under a folder (default results/) with state and top-1"},
    {"show", pvx_cli_show, "print a run's key tables: accuracy per CR, maps, metrics"},
    {"config-reference", pvx_cli_config_reference,
     "print every config key and plugin parameter as Markdown"},
};

static void print_usage(FILE *out)
{
    fprintf(out,
            "Usage: pvx [--quiet | --verbose] COMMAND [OPTIONS...]\n\n"
            "pvx %s — pruning and explainability experiments.\n\nCommands:\n",
            pvx_version());
    for (gsize i = 0; i < G_N_ELEMENTS(subcommands); i++)
        fprintf(out, "  %-17s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out,
            "\nGlobal options (before COMMAND; every command also takes them after it):\n"
            "  -q, --quiet       print only warnings and errors (no progress, no stage lines)\n"
            "  -v, --verbose     print debug messages too\n"
            "\n'pvx COMMAND --help' describes a command's options.\n"
            "Exit codes: 0 success, 1 the run failed, 2 bad input (nothing was run).\n");
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    /* Numbers in files and messages always use '.', whatever the user's locale. */
    setlocale(LC_NUMERIC, "C");
    pvx_cli_install_log_writer();
    /* Global --quiet/--verbose before the command; a command's own flag wins. */
    while (argc >= 2 && argv[1][0] == '-') {
        if (strcmp(argv[1], "--quiet") == 0 || strcmp(argv[1], "-q") == 0)
            pvx_log_set_verbosity(0);
        else if (strcmp(argv[1], "--verbose") == 0 || strcmp(argv[1], "-v") == 0) {
            pvx_log_set_verbosity(2);
            g_log_set_debug_enabled(TRUE);
        } else
            break;
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    if (argc < 2) {
        print_usage(stderr);
        return PVX_EXIT_BAD_INPUT;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return PVX_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("pvx %s (plugin ABI %d.%d)\n", pvx_version(), PVX_ABI_MAJOR, PVX_ABI_MINOR);
        return PVX_EXIT_OK;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(subcommands); i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].main(argc - 1, argv + 1);
    fprintf(stderr, "pvx: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return PVX_EXIT_BAD_INPUT;
}
