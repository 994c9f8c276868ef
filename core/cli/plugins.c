/* pvx plugins [NAME] — list the plugins found on the search path, or one plugin's parameters. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void print_list(const PvxRegistry *reg)
{
    g_autoptr(GPtrArray) all = pvx_registry_list(reg, 0);
    if (all->len == 0) {
        printf("No plugins found. Search path:\n");
        return;
    }
    printf("%-10s %-16s %-9s %s\n", "KIND", "NAME", "VERSION", "DESCRIPTION");
    for (guint i = 0; i < all->len; i++) {
        const PvxPlugin *p = g_ptr_array_index(all, i);
        printf("%-10s %-16s %-9s %s\n", pvx_plugin_kind_name(p->desc->kind), p->desc->name,
               p->desc->version, p->desc->description);
    }
}

/* "1 .. 64", ">= 0", "" */
static char *describe_range(const PvxParamSpec *s)
{
    gboolean lo = (s->flags & PVX_PARAM_HAS_MIN) != 0, hi = (s->flags & PVX_PARAM_HAS_MAX) != 0;
    if (lo && hi)
        return g_strdup_printf("%g .. %g", s->min, s->max);
    if (lo)
        return g_strdup_printf(">= %g", s->min);
    if (hi)
        return g_strdup_printf("<= %g", s->max);
    return g_strdup("");
}

static void print_plugin(const PvxPlugin *p)
{
    const PvxPluginDescriptor *d = p->desc;
    printf("%s %s %s — %s\n", pvx_plugin_kind_name(d->kind), d->name, d->version, d->description);
    printf("  file: %s\n  ABI:  %u.%u\n", p->path, d->abi_major, d->abi_minor);
    if (!p->params || !p->params[0].name) {
        printf("  parameters: none\n");
        return;
    }
    printf("  parameters:\n");
    for (const PvxParamSpec *s = p->params; s->name; s++) {
        g_autofree char *type = pvx_param_type_describe(s);
        g_autofree char *range = describe_range(s);
        printf("    %-14s %s", s->name, type);
        if (*range)
            printf(", %s", range);
        if (s->flags & PVX_PARAM_REQUIRED)
            printf("; required\n");
        else
            printf("; default %s\n", s->default_value ? s->default_value : "null");
        printf("        %s\n", s->doc ? s->doc : "");
    }
}

int pvx_cli_plugins(int argc, char **argv)
{
    PvxCliCommon common = {0};
    g_autofree GOptionEntry *entries = pvx_cli_common_entries(&common);
    g_autoptr(GOptionContext) ctx = g_option_context_new("[NAME] — list plugins or show one");
    g_option_context_set_summary(ctx,
                                 "Lists every plugin found on the search path (--plugin-dir, "
                                 "PVX_PLUGIN_PATH, the build tree, the install folder) with its "
                                 "kind, version and description;\nwith NAME, shows that plugin's "
                                 "file, ABI and parameters with their types, ranges, defaults and "
                                 "docs.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc > 2) {
        fprintf(stderr, "pvx plugins: %s\n", error ? error->message : "too many arguments");
        pvx_cli_common_clear(&common);
        return PVX_EXIT_BAD_INPUT;
    }
    pvx_cli_apply_verbosity(&common);
    g_autoptr(PvxRegistry) reg = pvx_cli_load_registry(&common, NULL);
    int rc = PVX_EXIT_OK;
    if (argc == 1) {
        print_list(reg);
        g_auto(GStrv) path =
            pvx_registry_search_path((const char *const *)common.plugin_dirs, NULL);
        if (common.verbose || !path[0])
            for (char **d = path; *d; d++)
                printf("  searched: %s\n", *d);
    } else {
        /* A name may exist for several kinds ("random" as dataset and pruner): show each. */
        guint shown = 0;
        for (int k = PVX_KIND_DATASET; k <= PVX_KIND_LAST; k++) {
            const PvxPlugin *p = pvx_registry_find(reg, k, argv[1]);
            if (p) {
                if (shown++)
                    printf("\n");
                print_plugin(p);
            }
        }
        if (!shown) {
            g_autofree char *names = pvx_registry_names_string(reg, 0);
            fprintf(stderr, "pvx plugins: no plugin named '%s'; available: %s\n", argv[1], names);
            rc = PVX_EXIT_BAD_INPUT;
        }
    }
    pvx_cli_common_clear(&common);
    return rc;
}
