/* Helpers shared by the training tests: plugins from the build tree, temp folders, python. */
#pragma once

#include "../common/pvx_test_cli.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include "pvx-private/core.h"

#define FASHION_MNIST "/usr/share/datasets/fashion-mnist"

static inline const PvxPlugin *test_plugin(PvxRegistry *reg, PvxPluginKind kind, const char *rel,
                                           const char *name)
{
    g_autofree char *path = g_build_filename(PVX_TEST_BUILD_ROOT, "plugins", rel, NULL);
    g_autoptr(GError) error = NULL;
    if (!pvx_registry_find(reg, kind, name))
        g_assert_true(pvx_registry_load_file(reg, path, &error));
    g_assert_no_error(error);
    return pvx_registry_find(reg, kind, name);
}

static inline PvxDataset *test_fashion_mnist(PvxRegistry *reg, const char *const *pairs)
{
    const PvxPlugin *p =
        test_plugin(reg, PVX_KIND_DATASET, "datasets/idx/pvx-dataset-idx.so", "idx");
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxParams) params =
        pvx_params_new_from_pairs(p->params, "dataset idx", pairs, &error);
    g_assert_no_error(error);
    PvxDataset *ds = pvx_dataset_open(p, params, &error);
    g_assert_no_error(error);
    return ds;
}

static inline PvxModel *test_vgg_mini(PvxRegistry *reg, const char *const *pairs,
                                      const int64_t chw[3], int classes)
{
    const PvxPlugin *p = test_plugin(reg, PVX_KIND_MODEL, "models/vgg/pvx-model-vgg.so", "vgg");
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxParams) params = pvx_params_new_from_pairs(p->params, "model vgg", pairs, &error);
    g_assert_no_error(error);
    PvxModel *m = pvx_model_build(p, params, chw, classes, &error);
    g_assert_no_error(error);
    return m;
}

#define test_remove_tree pvx_test_remove_tree

/* Runs /usr/bin/python3 SCRIPT ARGS...; FALSE (test skipped) when torch is missing. */
static inline gboolean test_run_python(const char *const *argv, char **out)
{
    if (!g_file_test("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("/usr/bin/python3 with torch is needed");
        return FALSE;
    }
    int status = 0;
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, &err,
                               &status, &error));
    if (!g_spawn_check_wait_status(status, NULL)) {
        if (strstr(err, "No module named")) {
            g_test_skip("torch, numpy or h5py is not installed for /usr/bin/python3");
            return FALSE;
        }
        g_error("%s failed: %s", argv[1], err);
    }
    return TRUE;
}
