/* Helpers shared by the nn tests: loading the vgg plugin, comparing with a reference. */
#pragma once

#include <math.h>
#include <string.h>

#include "pvx-private/core.h"

/* Builds model plugin "vgg" (loaded from PLUGIN_VGG) with "key=value" pairs. */
static inline PvxModel *nn_test_build_vgg(const char *const *pairs, int64_t c, int64_t h, int64_t w,
                                          int classes, GError **error)
{
    static PvxRegistry *reg;
    if (!reg) {
        reg = pvx_registry_new();
        g_autoptr(GError) e = NULL;
        if (!pvx_registry_load_file(reg, PLUGIN_VGG, &e))
            g_error("cannot load %s: %s", PLUGIN_VGG, e->message);
    }
    const PvxPlugin *p = pvx_registry_lookup(reg, PVX_KIND_MODEL, "vgg", error);
    if (!p)
        return NULL;
    g_autoptr(PvxParams) params = pvx_params_new_from_pairs(p->params, "model vgg", pairs, error);
    if (!params)
        return NULL;
    int64_t chw[3] = {c, h, w};
    return pvx_model_build(p, params, chw, classes, error);
}

/* max |got - ref| / max(|ref|, floor · max|ref|) <= 1e-4. The op tests use floor 1e-2 (see
 * tests/ops/test_ops_torch.c for why); so do these, except where noted at the call. */
static inline void nn_test_expect_close_floor(const char *what, const PvxTensor *got,
                                              const PvxTensor *ref, double floor)
{
    g_assert_nonnull(got);
    g_assert_nonnull(ref);
    if (!pvx_tensor_same_shape(got, ref)) {
        g_autofree char *a = pvx_tensor_shape_string(got);
        g_autofree char *b = pvx_tensor_shape_string(ref);
        g_error("%s has shape %s, torch %s", what, a, b);
    }
    double mx = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(ref); i++)
        mx = fmax(mx, fabs(ref->data[i]));
    double err = pvx_tensor_max_rel_diff(got, ref, mx > 0 ? floor * mx : 1e-30);
    g_test_message("%s: max rel error %.2e (floor %.0e x max|ref|, max|ref| %.3g)", what, err,
                   floor, mx);
    if (!(err <= 1e-4))
        g_error("%s: max relative error %.3e > 1e-4", what, err);
}

static inline void nn_test_expect_close(const char *what, const PvxTensor *got,
                                        const PvxTensor *ref)
{
    nn_test_expect_close_floor(what, got, ref, 1e-2);
}
