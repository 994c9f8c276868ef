/* Other tools read pvx files: a store written here is read back by h5py (/usr/bin/python3),
 * which checks shapes, types and values (read_with_h5py.py); and pvx reads a file h5py wrote with
 * its own type choices. Skipped without h5py. */
#include <sys/wait.h>

#include "pvx-private/core.h"

#include "store_test_util.h"

static void write_store(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = pvx_store_create(path, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_store_begin(store, &error));
    g_autoptr(PvxTensor) w =
        pvx_tensor_new_shape(4, (int64_t)64, (int64_t)3, (int64_t)3, (int64_t)3);
    g_autofree uint8_t *mask = g_malloc(64 * 27);
    for (int i = 0; i < 64 * 27; i++) {
        w->data[i] = (float)i * 0.5f - 7.0f;
        mask[i] = i % 3 == 0;
    }
    g_autoptr(PvxTensor) loss = pvx_tensor_new(0, NULL);
    loss->data[0] = 0.125f;
    int64_t big_shape[2] = {1024, 2048};
    g_autofree uint8_t *big = g_malloc(1024 * 2048);
    for (int i = 0; i < 1024 * 2048; i++)
        big[i] = i % 4 == 1;
    int64_t ids[3] = {3, -1, (int64_t)1 << 40}, ids_shape[1] = {3};
    double acc[4] = {0.25, 0.5, 0.75, 1.0};
    int64_t acc_shape[2] = {2, 2};
    const char *names[] = {"tench", "caf\xc3\xa9", "goldfish", NULL};
    g_assert_true(
        pvx_store_write_tensor(store, "/models/cr1/weights/features.0.weight", w, &error));
    g_assert_true(pvx_store_write_tensor(store, "/models/cr1/eval/loss", loss, &error));
    g_assert_true(pvx_store_write_u8(store, "/models/cr1/masks/features.0.weight", 4, w->shape,
                                     mask, &error));
    g_assert_true(pvx_store_write_u8(store, "/models/cr1/masks/classifier.0.weight", 2, big_shape,
                                     big, &error));
    g_assert_true(pvx_store_write_i64(store, "/dataset/ids", 1, ids_shape, ids, &error));
    g_assert_true(pvx_store_write_f64(store, "/metrics/acc", 2, acc_shape, acc, &error));
    g_assert_true(pvx_store_write_strings(store, "/dataset/class_names", names, &error));
    g_assert_true(pvx_store_set_attr_string(store, "/config", "yaml", "model: vgg16\n", &error));
    g_assert_true(pvx_store_set_attr_int(store, "/provenance", "seed", 42, &error));
    g_assert_true(pvx_store_set_attr_double(store, "/models/cr1/eval", "accuracy", 0.875, &error));
    g_assert_true(pvx_store_commit(store, &error));
    g_assert_no_error(error);
}

/* Reads what read_with_h5py.py wrote with h5py's default type choices. */
static void read_h5py_file(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = pvx_store_open(path, FALSE, &error);
    g_assert_no_error(error);
    g_autoptr(PvxTensor) w = pvx_store_read_tensor(store, "/models/cr1/weights/fc.weight", &error);
    g_assert_no_error(error);
    g_assert_cmpint(w->ndim, ==, 2);
    g_assert_cmpint(w->shape[1], ==, 4);
    g_assert_cmpfloat(w->data[11], ==, 11.0f / 8);
    g_autoptr(PvxTensor) half = pvx_store_read_tensor(store, "/half", &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(half->data[0], ==, 1.5f);
    g_assert_cmpfloat(half->data[1], ==, -2.0f);
    int ndim = 0;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    g_autofree int64_t *ids = pvx_store_read_i64(store, "/ids", &ndim, shape, &error);
    g_assert_no_error(error);
    g_assert_cmpint(ndim, ==, 2);
    g_assert_cmpint(ids[3], ==, -4);
    g_auto(GStrv) fixed = pvx_store_read_strings(store, "/fixed", &error);
    g_assert_no_error(error);
    const char *want_fixed[] = {"cat", "dog", "eel", NULL};
    g_assert_true(g_strv_equal((const char *const *)fixed, want_fixed));
    g_auto(GStrv) vlen = pvx_store_read_strings(store, "/vlen", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(vlen[0], ==, "\xc3\xa9t\xc3\xa9");
    g_autofree char *note = pvx_store_get_attr_string(store, "/models", "note", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(note, ==, "written by h5py");
    g_autofree char *fixed_note = pvx_store_get_attr_string(store, "/models", "fixed_note", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(fixed_note, ==, "fixed bytes");
    int64_t count = 0;
    g_assert_true(pvx_store_get_attr_int(store, "/models", "count", &count, &error));
    g_assert_cmpint(count, ==, 7);
    double ratio = 0;
    g_assert_true(pvx_store_get_attr_double(store, "/models", "ratio", &ratio, &error));
    g_assert_cmpfloat(ratio, ==, 0.25);
}

static void store_files_interoperate_with_h5py(void)
{
    if (!g_file_test("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("/usr/bin/python3 is missing");
        return;
    }
    g_autofree char *dir = store_test_tmpdir();
    g_autofree char *path = g_build_filename(dir, "results.h5", NULL);
    g_autofree char *theirs = g_build_filename(dir, "h5py.h5", NULL);
    write_store(path);
    const char *argv[] = {"/usr/bin/python3", PVX_TEST_SOURCE_ROOT "/tests/store/read_with_h5py.py",
                          path, theirs, NULL};
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error));
    g_assert_no_error(error);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        g_autofree char *why = g_strdup_printf("/usr/bin/python3 lacks h5py: %s", g_strstrip(out));
        g_test_skip(why);
        store_test_rmdir(dir);
        return;
    }
    g_test_message("python: %s%s", out, err);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    read_h5py_file(theirs);
    store_test_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/store/store_files_interoperate_with_h5py",
                    store_files_interoperate_with_h5py);
    return g_test_run();
}
