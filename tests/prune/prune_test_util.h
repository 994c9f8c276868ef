/* Helpers shared by the prune tests: one registry with the model plugins (vgg, resnet, mobilenet,
 * exported) and the pruner plugins. */
#pragma once

#include <math.h>
#include <string.h>

#include "pvx-private/core.h"

static inline PvxRegistry *prune_test_registry(void)
{
    static PvxRegistry *reg;
    if (!reg) {
        reg = pvx_registry_new();
        const char *files[] = {PLUGIN_VGG,         PLUGIN_MAGNITUDE, PLUGIN_RANDOM,
                               PLUGIN_FILTER_NORM, PLUGIN_TAYLOR,    PLUGIN_RESNET,
                               PLUGIN_MOBILENET,   PLUGIN_EXPORTED};
        for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
            g_autoptr(GError) e = NULL;
            if (!pvx_registry_load_file(reg, files[i], &e))
                g_error("cannot load %s: %s", files[i], e->message);
        }
    }
    return reg;
}

/* vgg plugin with "key=value" pairs for 1×28×28 inputs and 10 classes. */
static inline PvxModel *prune_test_vgg(const char *const *pairs)
{
    g_autoptr(GError) error = NULL;
    const PvxPlugin *p = pvx_registry_lookup(prune_test_registry(), PVX_KIND_MODEL, "vgg", &error);
    g_assert_no_error(error);
    g_autoptr(PvxParams) params = pvx_params_new_from_pairs(p->params, "model vgg", pairs, &error);
    g_assert_no_error(error);
    int64_t chw[3] = {1, 28, 28};
    PvxModel *m = pvx_model_build(p, params, chw, 10, &error);
    g_assert_no_error(error);
    return m;
}

/* Model plugin @plugin with "key=value" pairs for @chw inputs and @classes classes. */
static inline PvxModel *prune_test_model(const char *plugin, const char *const *pairs,
                                         const int64_t chw[3], int classes)
{
    g_autoptr(GError) error = NULL;
    const PvxPlugin *p = pvx_registry_lookup(prune_test_registry(), PVX_KIND_MODEL, plugin, &error);
    g_assert_no_error(error);
    g_autoptr(PvxParams) params = pvx_params_new_from_pairs(p->params, plugin, pairs, &error);
    g_assert_no_error(error);
    PvxModel *m = pvx_model_build(p, params, chw, classes, &error);
    g_assert_no_error(error);
    return m;
}

/* Pruner @name with "key=value" pairs. */
static inline PvxPruner *prune_test_pruner(const char *name, const char *const *pairs)
{
    g_autoptr(GError) error = NULL;
    const PvxPlugin *p = pvx_registry_lookup(prune_test_registry(), PVX_KIND_PRUNER, name, &error);
    g_assert_no_error(error);
    g_autoptr(PvxParams) params = pvx_params_new_from_pairs(p->params, name, pairs, &error);
    g_assert_no_error(error);
    PvxPruner *pr = pvx_pruner_open(p, params, &error);
    g_assert_no_error(error);
    return pr;
}

static inline int64_t prune_test_kept(const PvxLayer *l)
{
    int64_t n = pvx_tensor_numel(l->weight);
    if (!l->mask)
        return n;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        k += l->mask->data[i] != 0.0f;
    return k;
}
