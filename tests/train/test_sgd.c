/* SGD against torch.optim.SGD, and its own guarantees (masks, NaN, checkpoints). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include "pvx-private/core.h"

static float *read_f32(const char *dir, const char *name, const char *tag, gsize n)
{
    g_autofree char *path = g_strdup_printf("%s/%s.%s", dir, name, tag);
    gchar *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &bytes, &len, NULL));
    g_assert_cmpuint(len, ==, n * sizeof(float));
    return (float *)bytes;
}

static void sgd_matches_torch_optim_sgd(void)
{
    if (!g_file_test("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("/usr/bin/python3 with torch is needed");
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("pvx-sgd-XXXXXX", NULL);
    g_autofree char *script =
        g_build_filename(PVX_TEST_SOURCE_ROOT, "tests", "train", "sgd_reference.py", NULL);
    const char *argv[] = {"/usr/bin/python3", script, dir, NULL};
    int status = 0;
    g_autofree char *err = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err,
                               &status, NULL));
    if (!g_spawn_check_wait_status(status, NULL)) {
        if (strstr(err, "No module named 'torch'")) {
            g_test_skip("torch is not installed");
            return;
        }
        g_error("sgd_reference.py failed: %s", err);
    }
    g_autofree char *manifest_path = g_build_filename(dir, "manifest.txt", NULL);
    g_autofree char *manifest = NULL;
    g_assert_true(g_file_get_contents(manifest_path, &manifest, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(manifest, "\n", -1);
    int cases = 0;
    for (char **l = lines; *l && **l; l++) {
        char name[64];
        double lr, mom, damp, wd, clip;
        int nest, steps, n;
        g_assert_cmpint(sscanf(*l, "%63s %lf %lf %lf %lf %d %lf %d %d", name, &lr, &mom, &damp, &wd,
                               &nest, &clip, &steps, &n),
                        ==, 9);
        g_autofree float *p0 = read_f32(dir, name, "p0", n);
        g_autofree float *mask = read_f32(dir, name, "mask", n);
        g_autofree float *grads = read_f32(dir, name, "grads", (gsize)steps * n);
        g_autofree float *expected = read_f32(dir, name, "expected", n);
        int64_t shape[1] = {n};
        g_autoptr(PvxTensor) p = pvx_tensor_new_from_data(1, shape, p0);
        g_autoptr(PvxTensor) g = pvx_tensor_new(1, shape);
        g_autoptr(PvxTensor) m = pvx_tensor_new_from_data(1, shape, mask);
        g_autoptr(PvxTensor) want = pvx_tensor_new_from_data(1, shape, expected);
        PvxSgdParams sp = {.momentum = mom,
                           .dampening = damp,
                           .weight_decay = wd,
                           .nesterov = nest,
                           .clip_norm = clip};
        g_autoptr(GError) error = NULL;
        g_autoptr(PvxSgd) sgd = pvx_sgd_new(&sp, &error);
        g_assert_no_error(error);
        pvx_sgd_add_param(sgd, "w", p, g, m, TRUE);
        for (int s = 0; s < steps; s++) {
            memcpy(g->data, grads + (gsize)s * n, (gsize)n * sizeof(float));
            g_assert_true(pvx_sgd_step(sgd, lr, &error));
        }
        /* Same float32 operations in the same order as PyTorch; 1e-5 relative with a floor of
         * 1e-3 × max|p| for values that cancel towards zero. */
        double maxabs = 0;
        for (int i = 0; i < n; i++)
            maxabs = fmax(maxabs, fabs(expected[i]));
        double diff = pvx_tensor_max_rel_diff(p, want, 1e-3 * maxabs);
        g_test_message("%s: max rel diff %.3g", name, diff);
        g_assert_cmpfloat(diff, <=, 1e-5);
        for (int i = 0; i < n; i++)
            if (mask[i] == 0)
                g_assert_cmpfloat(p->data[i], ==, 0.0f);
        cases++;
    }
    g_assert_cmpint(cases, ==, 6);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *f;
    while ((f = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, f, NULL);
        g_remove(path);
    }
    g_rmdir(dir);
}

static void sgd_nan_gradient_changes_nothing_and_names_param(void)
{
    g_autoptr(PvxTensor) p = pvx_tensor_new_shape(1, (int64_t)4);
    g_autoptr(PvxTensor) g = pvx_tensor_new_shape(1, (int64_t)4);
    g_autoptr(PvxTensor) q = pvx_tensor_new_shape(1, (int64_t)2);
    g_autoptr(PvxTensor) gq = pvx_tensor_new_shape(1, (int64_t)2);
    pvx_tensor_fill(p, 1.0f);
    pvx_tensor_fill(g, 0.5f);
    pvx_tensor_fill(q, 2.0f);
    gq->data[1] = NAN;
    PvxSgdParams sp = {.momentum = 0.9};
    g_autoptr(PvxSgd) sgd = pvx_sgd_new(&sp, NULL);
    pvx_sgd_add_param(sgd, "features.0.weight", p, g, NULL, TRUE);
    pvx_sgd_add_param(sgd, "classifier.6.bias", q, gq, NULL, TRUE);
    g_autoptr(GError) error = NULL;
    g_assert_false(pvx_sgd_step(sgd, 0.1, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NUMERIC);
    g_assert_nonnull(strstr(error->message, "classifier.6.bias"));
    g_assert_cmpfloat(p->data[0], ==, 1.0f);
}

static void sgd_rejects_nesterov_without_momentum(void)
{
    PvxSgdParams sp = {.nesterov = TRUE};
    g_autoptr(GError) error = NULL;
    g_assert_null(pvx_sgd_new(&sp, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
}

static void sgd_checkpoint_round_trip_continues_identically(void)
{
    int64_t shape[1] = {8};
    g_autoptr(PvxTensor) p1 = pvx_tensor_new(1, shape);
    g_autoptr(PvxTensor) g1 = pvx_tensor_new(1, shape);
    g_autoptr(PvxTensor) p2 = pvx_tensor_new(1, shape);
    g_autoptr(PvxTensor) g2 = pvx_tensor_new(1, shape);
    PvxSgdParams sp = {.momentum = 0.9, .weight_decay = 1e-3, .nesterov = TRUE};
    g_autoptr(PvxSgd) a = pvx_sgd_new(&sp, NULL);
    pvx_sgd_add_param(a, "w", p1, g1, NULL, TRUE);
    for (int s = 0; s < 3; s++) {
        for (int i = 0; i < 8; i++)
            g1->data[i] = sinf(i + s);
        pvx_sgd_step(a, 0.1, NULL);
    }
    g_autofree char *dir = g_dir_make_tmp("pvx-sgd-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "ck.h5", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = pvx_store_create(path, &error);
    g_assert_true(pvx_store_begin(store, &error));
    g_assert_true(pvx_sgd_save(a, store, "/optimizer", &error));
    g_assert_true(pvx_store_commit(store, &error));
    pvx_tensor_copy_into(p2, p1, NULL);
    g_autoptr(PvxSgd) b = pvx_sgd_new(&sp, NULL);
    pvx_sgd_add_param(b, "w", p2, g2, NULL, TRUE);
    g_assert_true(pvx_sgd_load(b, store, "/optimizer", &error));
    g_assert_no_error(error);
    for (int i = 0; i < 8; i++)
        g1->data[i] = g2->data[i] = cosf(i);
    pvx_sgd_step(a, 0.1, NULL);
    pvx_sgd_step(b, 0.1, NULL);
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(p1, p2, 1e-12), ==, 0.0);
    g_clear_pointer(&store, pvx_store_close);
    g_remove(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sgd/matches_torch_optim_sgd", sgd_matches_torch_optim_sgd);
    g_test_add_func("/sgd/nan_gradient_changes_nothing_and_names_param",
                    sgd_nan_gradient_changes_nothing_and_names_param);
    g_test_add_func("/sgd/rejects_nesterov_without_momentum",
                    sgd_rejects_nesterov_without_momentum);
    g_test_add_func("/sgd/checkpoint_round_trip_continues_identically",
                    sgd_checkpoint_round_trip_continues_identically);
    return g_test_run();
}
