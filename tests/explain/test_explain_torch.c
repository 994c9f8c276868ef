/* Every explainer against PyTorch: tests/explain/explain_reference.py (argv[1] = python3,
 * argv[2] = the script) computes each method's formula with autograd in float64 on the same
 * float32 weights and input; pvx's raw maps must match with max |pvx − torch| /
 * max(|torch|, 1e-2 · max|torch|) ≤ 1e-4 (the floor of the op and nn tests: elements near 0 of
 * a map carry the float32 rounding of much larger terms). vgg-mini 3×32×32 (batch 3) for every
 * method; torchvision VGG-16 at 224 (batch 1) for Grad-CAM at features.29. */
#include <glib/gstdio.h>
#include <stdio.h>

#include "explain_test_util.h"

static char *ref_dir;

static PvxStore *open_ref(const char *name)
{
    g_autofree char *path = g_build_filename(ref_dir, name, NULL);
    g_autoptr(GError) error = NULL;
    PvxStore *s = pvx_store_open(path, FALSE, &error);
    g_assert_no_error(error);
    return s;
}

static PvxTensor *ref(PvxStore *s, const char *path)
{
    g_autoptr(GError) error = NULL;
    PvxTensor *t = pvx_store_read_tensor(s, path, &error);
    g_assert_no_error(error);
    return t;
}

static const char *const mini_pairs[] = {"arch=vgg-mini", "dropout=0.5", NULL};

typedef struct {
    const char *method;
    const char *pairs[4];
} Case;

static const Case cases[] = {
    {"gradcam", {NULL}},
    {"gradcam++", {NULL}},
    {"hirescam", {NULL}},
    {"xgradcam", {NULL}},
    {"layercam", {NULL}},
    {"scorecam", {NULL}},
    {"ablationcam", {NULL}},
    {"eigencam", {NULL}},
    {"saliency", {NULL}},
    {"integrated-gradients", {"steps=16", "baseline=0", NULL}},
    {"occlusion", {"patch=8", "stride=4", "baseline=0", NULL}},
};

static void check_method(gconstpointer data)
{
    const Case *c = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = ex_test_build_vgg(mini_pairs, 3, 32, 32, 10, &error);
    g_assert_no_error(error);
    g_autoptr(PvxStore) s = open_ref("mini.h5");
    g_assert_true(pvx_model_load_weights(m, s, "/weights", &error));
    g_assert_cmpstr(pvx_model_target_layer(m), ==, "features.13");
    g_autoptr(PvxTensor) x = ref(s, "/input");
    int nd;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    g_autofree int64_t *targets = pvx_store_read_i64(s, "/targets", &nd, shape, &error);
    g_assert_no_error(error);
    g_autoptr(PvxExplainer) ex =
        pvx_explainer_open_by_name(ex_test_registry(), c->method, c->pairs, &error);
    g_assert_no_error(error);
    PvxExplainOptions o = {.mode = PVX_TARGET_LABEL, .labels = targets, .batch_size = 16};
    g_autoptr(PvxTensor) logits = NULL;
    g_autoptr(PvxTensor) maps = pvx_explain(ex, m, x, &o, &logits, NULL, &error);
    g_assert_no_error(error);
    g_autoptr(PvxTensor) want_logits = ref(s, "/logits");
    ex_test_expect_close("logits", logits, want_logits, 1e-2);
    g_autofree char *path = g_strdup_printf("/maps/%s", c->method);
    g_autoptr(PvxTensor) want = ref(s, path);
    g_assert_cmpint(maps->ndim, ==, 3);
    g_assert_cmpint(maps->shape[1], ==, want->shape[1]);
    ex_test_expect_close(c->method, maps, want, 1e-2);
}

static void explain_vgg16_gradcam_matches_torch(void)
{
    g_autoptr(GError) error = NULL;
    const char *pairs[] = {"arch=vgg16", NULL};
    g_autoptr(PvxModel) m = ex_test_build_vgg(pairs, 3, 224, 224, 1000, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(pvx_model_target_layer(m), ==, "features.29");
    g_autoptr(PvxStore) s = open_ref("vgg16.h5");
    g_assert_true(pvx_model_load_weights(m, s, "/weights", &error));
    g_assert_no_error(error);
    g_autoptr(PvxTensor) x = ref(s, "/input");
    g_autoptr(PvxExplainer) ex =
        pvx_explainer_open_by_name(ex_test_registry(), "gradcam", NULL, &error);
    g_assert_no_error(error);
    PvxExplainOptions o = {.mode = PVX_TARGET_FIXED, .fixed = 7};
    g_autoptr(PvxTensor) maps = pvx_explain(ex, m, x, &o, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(maps->shape[1], ==, 14);
    g_autoptr(PvxTensor) want = ref(s, "/maps/gradcam");
    ex_test_expect_close("vgg16 gradcam", maps, want, 1e-2);
}

static void remove_tree(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        g_remove(p);
    }
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc < 3)
        g_error("usage: %s PYTHON3 explain_reference.py [vgg16]", argv[0]);
    gboolean vgg16 = argc > 3 && strcmp(argv[3], "vgg16") == 0;
    ref_dir = g_dir_make_tmp("pvx-explain-ref-XXXXXX", NULL);
    const char *child[] = {argv[1], argv[2], ref_dir, vgg16 ? "vgg16" : NULL, NULL};
    g_autoptr(GError) error = NULL;
    g_autofree char *err_text = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)child, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err_text,
                      &status, &error) ||
        !g_spawn_check_wait_status(status, &error))
        g_error("explain_reference.py failed: %s\n%s", error->message, err_text ? err_text : "");
    if (vgg16) {
        g_test_add_func("/explain/vgg16_gradcam_matches_torch",
                        explain_vgg16_gradcam_matches_torch);
    } else {
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
            g_autofree char *name = g_strdup_printf("/explain/%s_matches_torch", cases[i].method);
            g_test_add_data_func(name, &cases[i], check_method);
        }
    }
    int rc = g_test_run();
    remove_tree(ref_dir);
    g_free(ref_dir);
    return rc;
}
