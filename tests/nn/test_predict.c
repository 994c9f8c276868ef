/* pvx predict end to end: a tiny vgg-mini, its weights in HDF5, real PNGs, the built pvx. */
#include <glib/gstdio.h>
#include <sys/wait.h>

#include "nn_test_util.h"

typedef struct {
    int status;
    char *out, *err;
} Result;

static Result run_pvx(const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)PVX_EXE);
    g_ptr_array_add(argv, (gpointer) "predict");
    g_ptr_array_add(argv, (gpointer) "--plugin-dir");
    g_ptr_array_add(argv, (gpointer)PVX_TEST_BUILD_ROOT "/plugins");
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    Result r = {0};
    g_autoptr(GError) error = NULL;
    int ws = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &r.out, &r.err, &ws, &error));
    g_assert_no_error(error);
    g_assert_true(WIFEXITED(ws));
    r.status = WEXITSTATUS(ws);
    g_test_message("exit %d\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    return r;
}

static void result_clear(Result *r)
{
    g_free(r->out);
    g_free(r->err);
}

static char *dir;
static char *weights_spec, *img_path, *classes_path;
static const char *pairs[] = {"arch=vgg-mini", "channels=[8, -1, 16, -1]", "hidden=32", NULL};

static void setup_files(void)
{
    dir = g_dir_make_tmp("pvx-predict-XXXXXX", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = nn_test_build_vgg(pairs, 3, 32, 32, 10, &error);
    g_assert_no_error(error);
    g_autofree char *w = g_build_filename(dir, "w.h5", NULL);
    g_autoptr(PvxStore) s = pvx_store_create(w, &error);
    g_assert_true(pvx_store_begin(s, &error));
    g_assert_true(pvx_model_save_weights(m, s, "/models/cr0/weights", &error));
    g_assert_true(pvx_store_commit(s, &error));
    g_assert_no_error(error);
    weights_spec = g_strdup_printf("%s:/models/cr0/weights", w);
    g_autoptr(PvxImage) img = pvx_image_new(32, 32, 3);
    for (int i = 0; i < 32 * 32 * 3; i++)
        img->data[i] = (uint8_t)((i * 37) % 251);
    img_path = g_build_filename(dir, "img.png", NULL);
    g_assert_true(pvx_image_save_png(img, img_path, &error));
    g_assert_no_error(error);
    classes_path = g_build_filename(dir, "classes.txt", NULL);
    g_assert_true(g_file_set_contents(
        classes_path, "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n", -1, NULL));
}

/* Top-5 per image on stdout, logits in --out equal to the model's own forward. */
static void nn_predict_prints_top5_and_writes_logits(void)
{
    g_autofree char *out = g_build_filename(dir, "out.h5", NULL);
    const char *args[] = {"--param",         pairs[0],    "--param",     pairs[1],    "--set",
                          "model.hidden=32", "--weights", weights_spec,  "--classes", classes_path,
                          "--size",          "32",        "--no-resize", "--out",     out,
                          img_path,          img_path,    NULL};
    Result r = run_pvx(args);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, img_path));
    g_assert_nonnull(strstr(r.out, "  1. "));
    g_assert_nonnull(strstr(r.out, "  5. "));
    g_assert_null(strstr(r.out, "  6. "));
    result_clear(&r);

    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = nn_test_build_vgg(pairs, 3, 32, 32, 10, &error);
    g_assert_true(pvx_model_load_weights_file(m, weights_spec, NULL, &error));
    g_autoptr(PvxImage) img = pvx_image_load(img_path, &error);
    g_assert_no_error(error);
    g_autoptr(PvxTensor) t = pvx_image_to_tensor(img, pvx_imagenet_mean, pvx_imagenet_std);
    g_autoptr(PvxTensor) x = pvx_tensor_reshape(t, 4, (int64_t[]){1, 3, 32, 32}, &error);
    g_autoptr(PvxTensor) y = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, &error);
    g_assert_no_error(error);
    g_autoptr(PvxStore) s = pvx_store_open(out, FALSE, &error);
    g_assert_no_error(error);
    g_autoptr(PvxTensor) logits = pvx_store_read_tensor(s, "/logits", &error);
    g_assert_no_error(error);
    g_assert_cmpint(logits->ndim, ==, 2);
    g_assert_cmpint(logits->shape[0], ==, 2);
    g_assert_cmpint(logits->shape[1], ==, 10);
    for (int i = 0; i < 2; i++) {
        g_autoptr(PvxTensor) row = pvx_tensor_narrow0(logits, i, 1);
        g_assert_cmpfloat(pvx_tensor_max_rel_diff(row, y, 1e-3 * fabs(y->data[0]) + 1e-12), <,
                          1e-4);
    }
    g_auto(GStrv) classes = pvx_store_read_strings(s, "/classes", &error);
    g_assert_cmpstr(classes[9], ==, "nine");
}

/* With the resize path and a class count instead of a file. */
static void nn_predict_resizes_and_crops(void)
{
    g_autoptr(PvxImage) img = pvx_image_new(50, 40, 3);
    g_autofree char *path = g_build_filename(dir, "wide.png", NULL);
    g_assert_true(pvx_image_save_png(img, path, NULL));
    const char *args[] = {"--param",   pairs[0],     "--param",   pairs[1], "--param", pairs[2],
                          "--weights", weights_spec, "--classes", "10",     "--size",  "32",
                          "--resize",  "36",         "--top",     "3",      path,      NULL};
    Result r = run_pvx(args);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "  3. "));
    g_assert_null(strstr(r.out, "  4. "));
    result_clear(&r);
    g_remove(path);
}

/* A missing or unreadable image is bad input (exit 2) naming the file; nothing is written. */
static void nn_predict_bad_image_exits_2_naming_file(void)
{
    g_autofree char *missing = g_build_filename(dir, "no-such-image.png", NULL);
    g_autofree char *out = g_build_filename(dir, "bad-out.h5", NULL);
    const char *args[] = {"--param",     pairs[0],     "--param",   pairs[1], "--param", pairs[2],
                          "--weights",   weights_spec, "--classes", "10",     "--size",  "32",
                          "--no-resize", "--out",      out,         img_path, missing,   NULL};
    Result r = run_pvx(args);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "no-such-image.png"));
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    result_clear(&r);

    g_autofree char *corrupt = g_build_filename(dir, "corrupt.png", NULL);
    g_assert_true(g_file_set_contents(corrupt, "\x89PNG\r\n\x1a\n truncated", -1, NULL));
    args[15] = corrupt;
    r = run_pvx(args);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "corrupt.png"));
    result_clear(&r);
    g_remove(corrupt);
}

/* Wrong weights (a model of another width) and missing options are bad input too. */
static void nn_predict_bad_weights_and_options_exit_2(void)
{
    /* hidden left at its default 256: the classifier's shapes differ. */
    const char *args[] = {"--param",   pairs[0], "--param", pairs[1], "--weights", weights_spec,
                          "--classes", "10",     "--size",  "32",     img_path,    NULL};
    Result r = run_pvx(args);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "classifier.0.weight has shape [32, 16]"));
    g_assert_nonnull(strstr(r.err, "[256, 16]"));
    result_clear(&r);
    const char *no_weights[] = {"--classes", "10", img_path, NULL};
    r = run_pvx(no_weights);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "--weights"));
    result_clear(&r);
}

static void remove_tree(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(path, name, NULL);
        g_remove(p);
    }
    g_rmdir(path);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    setup_files();
    g_test_add_func("/nn/predict_prints_top5_and_writes_logits",
                    nn_predict_prints_top5_and_writes_logits);
    g_test_add_func("/nn/predict_resizes_and_crops", nn_predict_resizes_and_crops);
    g_test_add_func("/nn/predict_bad_image_exits_2_naming_file",
                    nn_predict_bad_image_exits_2_naming_file);
    g_test_add_func("/nn/predict_bad_weights_and_options_exit_2",
                    nn_predict_bad_weights_and_options_exit_2);
    int rc = g_test_run();
    remove_tree(dir);
    g_free(dir);
    g_free(weights_spec);
    g_free(img_path);
    g_free(classes_path);
    return rc;
}
