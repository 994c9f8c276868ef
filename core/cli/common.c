/* pvx — options and helpers shared by the subcommands. */
#include <stdio.h>

#include "cli.h"

GOptionEntry *pvx_cli_common_entries(PvxCliCommon *c)
{
    GOptionEntry entries[] = {
        {"plugin-dir", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &c->plugin_dirs,
         "Look for plugins in DIR first (repeatable)", "DIR"},
        {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &c->overrides,
         "Override a config value, e.g. --set train.epochs=1 (repeatable)", "KEY=VALUE"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &c->quiet, "Print only warnings and errors", NULL},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &c->verbose, "Print debug messages too", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    return g_memdup2(entries, sizeof entries);
}

void pvx_cli_common_clear(PvxCliCommon *c)
{
    g_clear_pointer(&c->plugin_dirs, g_strfreev);
    g_clear_pointer(&c->overrides, g_strfreev);
}

void pvx_cli_apply_verbosity(const PvxCliCommon *c)
{
    /* Without a flag here, the global one (pvx --quiet COMMAND) or the default stands. */
    if (c->quiet || c->verbose)
        pvx_log_set_verbosity(c->quiet ? 0 : 2);
    if (c->verbose)
        g_log_set_debug_enabled(TRUE);
}

/* Log lines as a researcher wants them in a terminal or a CI log: "12:03:04 stage preview",
 * "pvx: warning: ...". Messages and info obey --quiet; debug needs --verbose or
 * G_MESSAGES_DEBUG naming the domain. */
static GLogWriterOutput cli_log_writer(GLogLevelFlags level, const GLogField *fields,
                                       gsize n_fields, gpointer user_data)
{
    (void)user_data;
    const char *message = NULL, *domain = NULL;
    for (gsize i = 0; i < n_fields; i++) {
        if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
            message = fields[i].value;
        else if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
            domain = fields[i].value;
    }
    if (!message)
        return G_LOG_WRITER_UNHANDLED;
    int verbosity = pvx_log_get_verbosity();
    if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
        fprintf(stderr, "pvx: %s%s%s\n", domain ? domain : "", domain ? ": " : "", message);
    } else if (level & G_LOG_LEVEL_WARNING) {
        fprintf(stderr, "pvx: warning: %s\n", message);
    } else if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)) {
        if (verbosity < 1)
            return G_LOG_WRITER_HANDLED;
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        g_autofree char *stamp = g_date_time_format(now, "%H:%M:%S");
        fprintf(stderr, "%s %s\n", stamp, message);
    } else {
        if (verbosity < 2 && g_log_writer_default_would_drop(level, domain))
            return G_LOG_WRITER_HANDLED;
        fprintf(stderr, "[%s] %s\n", domain ? domain : "", message);
    }
    fflush(stderr);
    return G_LOG_WRITER_HANDLED;
}

void pvx_cli_install_log_writer(void)
{
    g_log_set_writer_func(cli_log_writer, NULL, NULL);
}

void pvx_cli_error(const GError *error)
{
    fprintf(stderr, "pvx: %s\n", error->message);
}

PvxRegistry *pvx_cli_load_registry(const PvxCliCommon *c, const char *const *config_dirs)
{
    PvxRegistry *reg = pvx_registry_new();
    g_auto(GStrv) path = pvx_registry_search_path((const char *const *)c->plugin_dirs, config_dirs);
    for (char **d = c->plugin_dirs; d && *d; d++)
        if (!g_file_test(*d, G_FILE_TEST_IS_DIR))
            fprintf(stderr, "pvx: warning: --plugin-dir %s is not a folder\n", *d);
    g_autoptr(GPtrArray) failures = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    pvx_registry_scan_path(reg, (const char *const *)path, failures, NULL);
    for (guint i = 0; i < failures->len; i++) {
        const GError *e = g_ptr_array_index(failures, i);
        fprintf(stderr, "pvx: warning: plugin refused: %s\n", e->message);
    }
    return reg;
}

PvxConfig *pvx_cli_load_config(const char *path, const PvxCliCommon *c, PvxRegistry **reg_out)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxConfig) cfg = pvx_config_load(path, (const char *const *)c->overrides, &error);
    if (!cfg) {
        pvx_cli_error(error);
        return NULL;
    }
    g_autoptr(PvxRegistry) reg = pvx_cli_load_registry(c, pvx_config_plugin_path(cfg));
    if (!pvx_config_validate(cfg, reg, NULL, &error)) {
        pvx_cli_error(error);
        return NULL;
    }
    *reg_out = g_steal_pointer(&reg);
    return g_steal_pointer(&cfg);
}

char **pvx_cli_read_classes(const char *spec, GError **error)
{
    char *end = NULL;
    gint64 n = g_ascii_strtoll(spec, &end, 10);
    if (end && end != spec && *end == '\0' && !g_file_test(spec, G_FILE_TEST_EXISTS)) {
        if (n < 1 || n > 1000000) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "--classes %s: give a class count of at least 1 or a file", spec);
            return NULL;
        }
        char **names = g_new0(char *, n + 1);
        for (gint64 i = 0; i < n; i++)
            names[i] = g_strdup_printf("%" G_GINT64_FORMAT, i);
        return names;
    }
    g_autofree char *text = NULL;
    if (!g_file_get_contents(spec, &text, NULL, error)) {
        g_prefix_error(error, "--classes: ");
        return NULL;
    }
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    GPtrArray *names = g_ptr_array_new();
    for (char **l = lines; *l; l++) {
        g_strstrip(*l);
        if (**l)
            g_ptr_array_add(names, g_strdup(*l));
    }
    g_ptr_array_add(names, NULL);
    char **strv = (char **)g_ptr_array_free(names, FALSE);
    if (!strv[0]) {
        g_strfreev(strv);
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "--classes %s: the file names no classes (one name a line)", spec);
        return NULL;
    }
    return strv;
}

PvxConfig *pvx_cli_load_run_config(const char *dir, const PvxCliCommon *common,
                                   PvxRegistry **reg_out)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = pvx_run_read_config(dir, &error);
    if (!text) {
        g_prefix_error(&error, "%s: ", dir);
        pvx_cli_error(error);
        return NULL;
    }
    g_autofree char *name = g_build_filename(dir, "results.h5:/config", NULL);
    g_autoptr(PvxConfig) cfg = pvx_config_load_string(text, name, NULL, &error);
    if (!cfg) {
        pvx_cli_error(error);
        return NULL;
    }
    g_autoptr(PvxRegistry) reg = pvx_cli_load_registry(common, pvx_config_plugin_path(cfg));
    if (!pvx_config_validate(cfg, reg, NULL, &error)) {
        pvx_cli_error(error);
        return NULL;
    }
    *reg_out = g_steal_pointer(&reg);
    return g_steal_pointer(&cfg);
}
