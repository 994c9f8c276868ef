/* Helpers shared by the model-plugin tests: building resnet, mobilenet and efficientnet models
 * from their plugin files (PLUGIN_RESNET, PLUGIN_MOBILENET, PLUGIN_EFFICIENTNET). */
#pragma once

#include <math.h>
#include <string.h>

#include "pvx-private/core.h"

/* The plugin that builds @arch: "resnet" for resnet*, "mobilenet" for mobilenet*, else
 * "efficientnet". (transfer none) */
static inline const char *models_test_plugin_of(const char *arch)
{
    if (g_str_has_prefix(arch, "resnet"))
        return "resnet";
    if (g_str_has_prefix(arch, "mobilenet"))
        return "mobilenet";
    return "efficientnet";
}

/* TRUE for the CIFAR-style ResNets (built for 10 classes in these tests). */
static inline gboolean models_test_is_cifar(const char *arch)
{
    return strcmp(arch, "resnet20") == 0 || strcmp(arch, "resnet32") == 0 ||
           strcmp(arch, "resnet56") == 0;
}

static inline PvxRegistry *models_test_registry(void)
{
    static PvxRegistry *reg;
    if (!reg) {
        reg = pvx_registry_new();
        const char *files[] = {PLUGIN_RESNET, PLUGIN_MOBILENET, PLUGIN_EFFICIENTNET, NULL};
        for (const char *const *f = files; *f; f++) {
            g_autoptr(GError) e = NULL;
            if (!pvx_registry_load_file(reg, *f, &e))
                g_error("cannot load %s: %s", *f, e->message);
        }
    }
    return reg;
}

/* Builds model plugin @plugin with "key=value" @pairs for C×H×W images and @classes classes,
 * through the core's pvx_model_build (which checks the graph and records the target layer). */
static inline PvxModel *models_test_build(const char *plugin, const char *const *pairs, int64_t c,
                                          int64_t h, int64_t w, int classes, GError **error)
{
    const PvxPlugin *p = pvx_registry_lookup(models_test_registry(), PVX_KIND_MODEL, plugin, error);
    if (!p)
        return NULL;
    g_autofree char *owner = g_strdup_printf("model %s", plugin);
    g_autoptr(PvxParams) params = pvx_params_new_from_pairs(p->params, owner, pairs, error);
    if (!params)
        return NULL;
    int64_t chw[3] = {c, h, w};
    return pvx_model_build(p, params, chw, classes, error);
}

/* models_test_build for "arch=@arch" plus @extra pairs (NULL-terminated, may be NULL); fails the
 * test on an error. */
static inline PvxModel *models_test_build_arch(const char *arch, const char *const *extra,
                                               int64_t c, int64_t h, int64_t w, int classes)
{
    g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(pairs, g_strdup_printf("arch=%s", arch));
    for (const char *const *e = extra; e && *e; e++)
        g_ptr_array_add(pairs, g_strdup(*e));
    g_ptr_array_add(pairs, NULL);
    g_autoptr(GError) error = NULL;
    PvxModel *m = models_test_build(models_test_plugin_of(arch), (const char *const *)pairs->pdata,
                                    c, h, w, classes, &error);
    if (!m)
        g_error("building %s: %s", arch, error->message);
    return m;
}
