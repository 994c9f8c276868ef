/* Helpers shared by the explain tests: the registry of the build tree's plugins, models,
 * comparison with a reference. */
#pragma once

#include <math.h>
#include <string.h>

#include "pvx-private/core.h"

/* Every plugin of the build tree (the models, the explainers, the datasets). (transfer none) */
static inline PvxRegistry *ex_test_registry(void)
{
    static PvxRegistry *reg;
    if (!reg) {
        reg = pvx_registry_new();
        g_autoptr(GError) e = NULL;
        g_autoptr(GPtrArray) failures =
            g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
        if (!pvx_registry_scan_dir(reg, PVX_TEST_BUILD_ROOT "/plugins", failures, &e))
            g_error("cannot scan plugins: %s", e->message);
        if (failures->len)
            g_error("plugin refused: %s", ((GError *)failures->pdata[0])->message);
    }
    return reg;
}

/* Model plugin @plugin (vgg, resnet, mobilenet, efficientnet) with "key=value" pairs for C×H×W
 * inputs and @classes outputs. Returns: (transfer full). */
static inline PvxModel *ex_test_build_model(const char *plugin, const char *const *pairs, int64_t c,
                                            int64_t h, int64_t w, int classes, GError **error)
{
    const PvxPlugin *p = pvx_registry_lookup(ex_test_registry(), PVX_KIND_MODEL, plugin, error);
    if (!p)
        return NULL;
    g_autofree char *owner = g_strdup_printf("model %s", plugin);
    g_autoptr(PvxParams) params = pvx_params_new_from_pairs(p->params, owner, pairs, error);
    if (!params)
        return NULL;
    int64_t chw[3] = {c, h, w};
    return pvx_model_build(p, params, chw, classes, error);
}

/* vgg with "key=value" pairs for C×H×W inputs and @classes outputs. Returns: (transfer full). */
static inline PvxModel *ex_test_build_vgg(const char *const *pairs, int64_t c, int64_t h, int64_t w,
                                          int classes, GError **error)
{
    return ex_test_build_model("vgg", pairs, c, h, w, classes, error);
}

/* max |got − ref| / max(|ref|, floor·max|ref|) ≤ @limit; returns the error. */
static inline double ex_test_expect_close_within(const char *what, const PvxTensor *got,
                                                 const PvxTensor *ref, double floor, double limit)
{
    g_assert_nonnull(got);
    g_assert_nonnull(ref);
    if (pvx_tensor_numel(got) != pvx_tensor_numel(ref)) {
        g_autofree char *a = pvx_tensor_shape_string(got);
        g_autofree char *b = pvx_tensor_shape_string(ref);
        g_error("%s has shape %s, reference %s", what, a, b);
    }
    double mx = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(ref); i++)
        mx = fmax(mx, fabs(ref->data[i]));
    double err = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(ref); i++)
        err = fmax(err, fabs((double)got->data[i] - ref->data[i]) /
                            fmax(fabs(ref->data[i]), mx > 0 ? floor * mx : 1e-30));
    g_test_message("%s: max rel error %.2e (floor %.0e x max|ref|, max|ref| %.3g)", what, err,
                   floor, mx);
    printf("# %-28s max rel error %.2e (floor %.0e x max|ref| = %.3g)\n", what, err, floor, mx);
    if (!(err <= limit))
        g_error("%s: max relative error %.3e > %.1e", what, err, limit);
    return err;
}

/* ex_test_expect_close_within with the limit 1e-4. */
static inline double ex_test_expect_close(const char *what, const PvxTensor *got,
                                          const PvxTensor *ref, double floor)
{
    return ex_test_expect_close_within(what, got, ref, floor, 1e-4);
}
