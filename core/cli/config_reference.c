/* pvx config-reference — Markdown reference of every experiment-file key, generated from the
 * core's schema (pvx_config_schema) and every plugin's parameter table, so the documentation
 * cannot drift from the code: docs/config-reference.md is this command's output, and the test
 * config_reference_doc_is_current fails when they differ. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pvx-private/escape.h"
#include "runs.h"

/* Markdown table cell text (pvx_escape_markdown_cell). Returns: (transfer full). */
static char *cell(const char *text)
{
    GString *s = g_string_new(NULL);
    pvx_escape_markdown_cell(s, text);
    return g_string_free(s, FALSE);
}

static char *format_bound(double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    return g_strdup(g_ascii_formatd(buf, sizeof buf, "%g", v));
}

/* "int, 1 … 64", "double ≥ 0", "one of `a`, `b`", "list of int, each ≥ -1", "path, nullable" */
static char *describe_type(const PvxParamSpec *s)
{
    GString *t = g_string_new(NULL);
    if (s->type == PVX_PARAM_CHOICE) {
        g_string_append(t, "one of ");
        for (const char *const *c = s->choices; c && *c; c++)
            g_string_append_printf(t, "%s`%s`", c == s->choices ? "" : ", ", *c);
    } else {
        g_autofree char *base = pvx_param_type_describe(s);
        g_string_append(t, base);
    }
    gboolean list = s->type == PVX_PARAM_INT_LIST || s->type == PVX_PARAM_DOUBLE_LIST;
    gboolean lo = (s->flags & PVX_PARAM_HAS_MIN) != 0, hi = (s->flags & PVX_PARAM_HAS_MAX) != 0;
    g_autofree char *min = format_bound(s->min), *max = format_bound(s->max);
    if (lo || hi)
        g_string_append(t, list ? ", each " : ", ");
    if (lo && hi)
        g_string_append_printf(t, "%s … %s", min, max);
    else if (lo)
        g_string_append_printf(t, "≥ %s", min);
    else if (hi)
        g_string_append_printf(t, "≤ %s", max);
    if (s->flags & PVX_PARAM_NULLABLE)
        g_string_append(t, ", nullable");
    return g_string_free(t, FALSE);
}

static void print_param_table(GString *out, const PvxParamSpec *specs)
{
    g_string_append(out, "| key | type | default | meaning |\n|---|---|---|---|\n");
    for (const PvxParamSpec *s = specs; s && s->name; s++) {
        g_autofree char *type = describe_type(s);
        g_autofree char *doc = cell(s->doc);
        g_autofree char *def = NULL;
        if (s->flags & PVX_PARAM_REQUIRED)
            def = g_strdup("required");
        else
            def = g_strdup_printf("`%s`", s->default_value ? s->default_value : "null");
        g_autofree char *type_cell = cell(type);
        g_autofree char *def_cell = cell(def);
        g_string_append_printf(out, "| `%s` | %s | %s | %s |\n", s->name, type_cell, def_cell, doc);
    }
}

static char *plugin_names(const PvxRegistry *reg, PvxPluginKind kind)
{
    g_autoptr(GPtrArray) list = pvx_registry_list(reg, kind);
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < list->len; i++) {
        const PvxPlugin *p = g_ptr_array_index(list, i);
        g_string_append_printf(s, "%s[`%s`](#%s-%s)", i ? ", " : "", p->desc->name,
                               pvx_plugin_kind_name(kind), p->desc->name);
    }
    if (list->len == 0)
        g_string_append(s, "none found");
    return g_string_free(s, FALSE);
}

static void print_section(GString *out, const PvxRegistry *reg, const PvxConfigSectionSpec *sec,
                          const char *parent)
{
    g_autofree char *path =
        *parent ? g_strconcat(parent, ".", sec->name, NULL) : g_strdup(sec->name);
    g_string_append_printf(out, "\n### `%s`\n\n", path);
    GString *what = g_string_new(NULL);
    if (sec->flags & PVX_SECTION_REQUIRED)
        g_string_append(what, "**Required.** ");
    if (sec->doc && *sec->doc) {
        g_autofree char *doc = cell(sec->doc);
        doc[0] = g_ascii_toupper(doc[0]);
        g_string_append_printf(what, "%s%s", doc, g_str_has_suffix(doc, ".") ? "" : ".");
    }
    g_string_append_printf(out, "%s\n", what->str);
    g_string_free(what, TRUE);
    if (sec->kind) {
        g_autofree char *names = plugin_names(reg, sec->kind);
        if (sec->flags & PVX_SECTION_LIST)
            g_string_append_printf(out,
                                   "\nA list of %s plugins, each `{plugin: NAME, params: "
                                   "{...}}`; plugins: %s.\n",
                                   pvx_plugin_kind_name(sec->kind), names);
        else
            g_string_append_printf(out,
                                   "\nA %s plugin, `{plugin: NAME, params: {...}}`; "
                                   "plugins: %s.\n",
                                   pvx_plugin_kind_name(sec->kind), names);
    } else if (sec->flags & PVX_SECTION_LIST) {
        g_string_append(out, "\nA list of blocks with the keys below.\n");
    }
    if (sec->specs && sec->specs[0].name) {
        g_string_append(out, "\n");
        print_param_table(out, sec->specs);
    }
    for (const PvxConfigSectionSpec *c = sec->children; c && c->name; c++)
        print_section(out, reg, c, path);
}

static char *reference_markdown(const PvxRegistry *reg)
{
    const PvxConfigSectionSpec *root = pvx_config_schema();
    GString *out = g_string_new(NULL);
    g_string_append(
        out, "# Configuration reference\n\n"
             "<!-- Generated by `pvx config-reference` from the core's schema and the plugins' "
             "parameter tables; do not edit.\n"
             "     Regenerate: ./build/pvx config-reference --plugins-from build/plugins "
             "--output docs/config-reference.md -->\n\n"
             "Every key an experiment file may hold, and every parameter of every plugin shipped "
             "with pvx.\n"
             "How the file is read (YAML types, lists, `--set` overrides, paths) is in "
             "[config.md](config.md).\n"
             "Plugin parameters go under the section's `params`; ranges are inclusive; a `path` "
             "is relative to\nthe config file's folder; `nullable` means `null` is allowed and "
             "means \"not set\".\n\n"
             "## Experiment file\n\n"
             "### Top level\n\n");
    print_param_table(out, root->specs);
    for (const PvxConfigSectionSpec *s = root->children; s && s->name; s++)
        print_section(out, reg, s, "");

    g_string_append(out, "\n## Plugins\n");
    for (int kind = 1; kind <= PVX_KIND_LAST; kind++) {
        g_autoptr(GPtrArray) list = pvx_registry_list(reg, (PvxPluginKind)kind);
        for (guint i = 0; i < list->len; i++) {
            const PvxPlugin *plugin = list->pdata[i];
            const PvxPluginDescriptor *d = plugin->desc;
            g_autofree char *desc = cell(d->description);
            desc[0] = g_ascii_toupper(desc[0]);
            /* The explicit anchor keeps links stable whatever a renderer does with '+'. */
            g_string_append_printf(out, "\n<a id=\"%s-%s\"></a>\n### %s `%s`\n\n%s (version %s).\n",
                                   pvx_plugin_kind_name(d->kind), d->name,
                                   pvx_plugin_kind_name(d->kind), d->name, desc, d->version);
            if (plugin->params && plugin->params[0].name) {
                g_string_append(out, "\n");
                print_param_table(out, plugin->params);
            } else {
                g_string_append(out, "\nNo parameters.\n");
            }
        }
    }
    return g_string_free(out, FALSE);
}

int pvx_cli_config_reference(int argc, char **argv)
{
    char **from = NULL, *output = NULL;
    GOptionEntry entries[] = {
        {"plugins-from", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &from,
         "Document only the plugins in DIR (repeatable); default: the usual search path", "DIR"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
         "Write the Markdown to FILE instead of standard output", "FILE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("— Markdown reference of every config key");
    g_option_context_set_summary(
        ctx, "Prints, as Markdown, every key of an experiment file (the core's schema: top "
             "level, sections,\nnested sections) with type, range, default and meaning, then "
             "every plugin found with its\nparameters. docs/config-reference.md is its output:\n"
             "  ./build/pvx config-reference --plugins-from build/plugins "
             "--output docs/config-reference.md\n"
             "Exit codes: 0 success, 2 bad arguments or an unwritable FILE.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    PvxCliCommon common = {0};
    g_autofree GOptionEntry *verbosity = pvx_cli_verbosity_entries(&common);
    g_option_context_add_main_entries(ctx, verbosity, NULL);
    g_autoptr(GError) error = NULL;
    int rc = PVX_EXIT_BAD_INPUT;
    g_autoptr(PvxRegistry) reg = NULL;
    g_autofree char *md = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 1) {
        fprintf(stderr, "pvx config-reference: %s\n",
                error ? error->message : "takes no arguments besides options");
        goto out;
    }
    pvx_cli_apply_verbosity(&common);
    if (from) {
        reg = pvx_registry_new();
        g_autoptr(GPtrArray) failures =
            g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
        for (char **d = from; *d; d++)
            if (!pvx_registry_scan_dir(reg, *d, failures, &error)) {
                fprintf(stderr, "pvx config-reference: %s\n", error->message);
                goto out;
            }
        for (guint i = 0; i < failures->len; i++)
            fprintf(stderr, "pvx: warning: plugin refused: %s\n",
                    ((GError *)failures->pdata[i])->message);
    } else {
        reg = pvx_cli_load_registry(&common, NULL);
    }
    md = reference_markdown(reg);
    if (output) {
        if (!g_file_set_contents(output, md, -1, &error)) {
            fprintf(stderr, "pvx config-reference: %s\n", error->message);
            goto out;
        }
    } else {
        fputs(md, stdout);
    }
    rc = PVX_EXIT_OK;
out:
    g_strfreev(from);
    g_free(output);
    return rc;
}
