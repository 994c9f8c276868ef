/* Tests of the HDF5 run store: every type and attribute round trip, replace, list, delete,
 * exists, transactions, and the errors for missing paths, foreign and damaged files. */
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "pvx-private/core.h"

#include "store_test_util.h"

typedef struct {
    char *dir;
    char *path;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    (void)data;
    f->dir = store_test_tmpdir();
    f->path = g_build_filename(f->dir, "results.h5", NULL);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    store_test_rmdir(f->dir);
    g_free(f->path);
    g_free(f->dir);
}

static PvxTensor *ramp(int ndim, const int64_t *shape, float scale)
{
    PvxTensor *t = pvx_tensor_new(ndim, shape);
    for (int64_t i = 0; i < pvx_tensor_numel(t); i++)
        t->data[i] = (float)i * scale - 1.5f;
    return t;
}

static PvxStore *create_in_transaction(const char *path)
{
    g_autoptr(GError) error = NULL;
    PvxStore *store = pvx_store_create(path, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_store_begin(store, &error));
    g_assert_no_error(error);
    return store;
}

static void commit_ok(PvxStore *store)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_store_commit(store, &error));
    g_assert_no_error(error);
}

static void store_round_trips_every_type_and_attribute(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    int64_t wshape[4] = {64, 3, 3, 3};
    g_autoptr(PvxTensor) w = ramp(4, wshape, 0.25f);
    g_autoptr(PvxTensor) scalar = pvx_tensor_new(0, NULL);
    scalar->data[0] = 3.25f;
    uint8_t mask[6] = {0, 1, 1, 0, 255, 1};
    int64_t mshape[2] = {2, 3};
    int64_t ids[4] = {-5, 0, 7, G_MAXINT64};
    int64_t ishape[1] = {4};
    double acc[3] = {0.5, -1e300, 1.0 / 3.0};
    int64_t ashape[1] = {3};
    const char *names[] = {"tench", "English springer", "caf\xc3\xa9 \xe2\x9c\x93", "", NULL};

    {
        g_autoptr(PvxStore) store = create_in_transaction(f->path);
        g_assert_true(
            pvx_store_write_tensor(store, "/models/cr1/weights/features.0.weight", w, &error));
        g_assert_true(pvx_store_write_tensor(store, "/models/cr1/eval/loss", scalar, &error));
        g_assert_true(pvx_store_write_u8(store, "/models/cr1/masks/features.0.weight", 2, mshape,
                                         mask, &error));
        g_assert_true(pvx_store_write_i64(store, "/dataset/ids", 1, ishape, ids, &error));
        g_assert_true(pvx_store_write_f64(store, "/metrics/acc", 1, ashape, acc, &error));
        g_assert_true(pvx_store_write_strings(store, "/dataset/class_names", names, &error));
        g_assert_true(
            pvx_store_set_attr_string(store, "/config", "yaml", "model: vgg16\n", &error));
        g_assert_true(pvx_store_set_attr_double(store, "/models/cr1/eval/loss", "cr", 2.5, &error));
        g_assert_true(pvx_store_set_attr_int(store, "/provenance", "seed", -42, &error));
        g_assert_no_error(error);
        commit_ok(store);
    }

    g_autoptr(PvxStore) store = pvx_store_open(f->path, FALSE, &error);
    g_assert_no_error(error);
    g_autoptr(PvxTensor) w2 =
        pvx_store_read_tensor(store, "/models/cr1/weights/features.0.weight", &error);
    g_assert_no_error(error);
    g_assert_true(pvx_tensor_same_shape(w, w2));
    g_assert_cmpmem(w->data, 64 * 27 * sizeof(float), w2->data, 64 * 27 * sizeof(float));
    g_autoptr(PvxTensor) s2 = pvx_store_read_tensor(store, "/models/cr1/eval/loss", &error);
    g_assert_no_error(error);
    g_assert_cmpint(s2->ndim, ==, 0);
    g_assert_cmpfloat(s2->data[0], ==, 3.25f);

    int ndim = -1;
    int64_t shape[PVX_TENSOR_MAX_DIMS] = {0};
    g_autofree uint8_t *mask2 =
        pvx_store_read_u8(store, "/models/cr1/masks/features.0.weight", &ndim, shape, &error);
    g_assert_no_error(error);
    g_assert_cmpint(ndim, ==, 2);
    g_assert_cmpint(shape[0], ==, 2);
    g_assert_cmpint(shape[1], ==, 3);
    g_assert_cmpmem(mask2, 6, mask, 6);
    g_autofree int64_t *ids2 = pvx_store_read_i64(store, "/dataset/ids", &ndim, shape, &error);
    g_assert_no_error(error);
    g_assert_cmpint(ndim, ==, 1);
    g_assert_cmpint(shape[0], ==, 4);
    g_assert_cmpmem(ids2, sizeof ids, ids, sizeof ids);
    g_autofree double *acc2 = pvx_store_read_f64(store, "/metrics/acc", &ndim, shape, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(acc2, sizeof acc, acc, sizeof acc);
    g_auto(GStrv) names2 = pvx_store_read_strings(store, "/dataset/class_names", &error);
    g_assert_no_error(error);
    g_assert_true(g_strv_equal((const char *const *)names2, names));

    g_autofree char *yaml = pvx_store_get_attr_string(store, "/config", "yaml", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(yaml, ==, "model: vgg16\n");
    double cr = 0;
    g_assert_true(pvx_store_get_attr_double(store, "/models/cr1/eval/loss", "cr", &cr, &error));
    g_assert_cmpfloat(cr, ==, 2.5);
    int64_t seed = 0;
    g_assert_true(pvx_store_get_attr_int(store, "/provenance", "seed", &seed, &error));
    g_assert_cmpint(seed, ==, -42);
    /* Integers read as doubles too; an int attribute is not a string. */
    g_assert_true(pvx_store_get_attr_double(store, "/provenance", "seed", &cr, &error));
    g_assert_cmpfloat(cr, ==, -42.0);
    g_autofree char *bad = pvx_store_get_attr_string(store, "/provenance", "seed", &error);
    g_assert_null(bad);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_FORMAT);
}

static void store_large_mask_and_empty_datasets_round_trip(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    int64_t shape[4] = {512, 512, 3, 3}; /* 2.25 MiB: above the compression threshold */
    gsize n = 512 * 512 * 9;
    g_autofree uint8_t *mask = g_malloc(n);
    for (gsize i = 0; i < n; i++)
        mask[i] = (i * 2654435761u >> 7) % 10 == 0;
    int64_t empty_shape[2] = {0, 4};
    const char *none[] = {NULL};
    g_autoptr(PvxStore) store = create_in_transaction(f->path);
    g_assert_true(pvx_store_write_u8(store, "/m", 4, shape, mask, &error));
    g_assert_true(pvx_store_write_f64(store, "/empty", 2, empty_shape, NULL, &error));
    g_assert_true(pvx_store_write_strings(store, "/none", none, &error));
    g_assert_no_error(error);
    commit_ok(store);
    int ndim = 0;
    int64_t got[PVX_TENSOR_MAX_DIMS];
    g_autofree uint8_t *back = pvx_store_read_u8(store, "/m", &ndim, got, &error);
    g_assert_no_error(error);
    g_assert_cmpint(ndim, ==, 4);
    g_assert_cmpmem(got, sizeof shape, shape, sizeof shape);
    g_assert_cmpmem(back, n, mask, n);
    g_autofree double *e = pvx_store_read_f64(store, "/empty", &ndim, got, &error);
    g_assert_no_error(error);
    g_assert_nonnull(e);
    g_assert_cmpint(got[0], ==, 0);
    g_assert_cmpint(got[1], ==, 4);
    g_auto(GStrv) s = pvx_store_read_strings(store, "/none", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(s), ==, 0);
}

static void store_write_replaces_existing_path(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = create_in_transaction(f->path);
    int64_t s1[2] = {4, 5}, s2[1] = {3};
    g_autoptr(PvxTensor) a = ramp(2, s1, 1.0f);
    g_autoptr(PvxTensor) b = ramp(1, s2, -2.0f);
    g_assert_true(pvx_store_write_tensor(store, "/w", a, &error));
    g_assert_true(pvx_store_set_attr_int(store, "/g/x", "k", 1, &error));
    commit_ok(store);
    g_assert_true(pvx_store_begin(store, &error));
    g_assert_true(pvx_store_write_tensor(store, "/w", b, &error));
    g_assert_true(pvx_store_set_attr_int(store, "/g/x", "k", 2, &error));
    /* A group is replaced by a dataset as well. */
    g_assert_true(pvx_store_write_tensor(store, "/g", b, &error));
    g_assert_no_error(error);
    commit_ok(store);
    g_autoptr(PvxTensor) back = pvx_store_read_tensor(store, "/w", &error);
    g_assert_no_error(error);
    g_assert_true(pvx_tensor_same_shape(back, b));
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(back, b, 1e-6), ==, 0.0);
    g_assert_false(pvx_store_exists(store, "/g/x"));
    g_autoptr(PvxTensor) g = pvx_store_read_tensor(store, "/g", &error);
    g_assert_no_error(error);
    g_assert_cmpint(g->shape[0], ==, 3);
}

static void store_list_gives_sorted_children(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = create_in_transaction(f->path);
    g_autoptr(PvxTensor) t = pvx_tensor_new_shape(1, (int64_t)2);
    const char *paths[] = {"/models/cr2/w", "/models/cr10/w", "/models/cr1/w", "/models/b"};
    for (guint i = 0; i < G_N_ELEMENTS(paths); i++)
        g_assert_true(pvx_store_write_tensor(store, paths[i], t, &error));
    commit_ok(store);
    g_auto(GStrv) names = pvx_store_list(store, "/models", &error);
    g_assert_no_error(error);
    const char *want[] = {"b", "cr1", "cr10", "cr2", NULL};
    g_assert_true(g_strv_equal((const char *const *)names, want));
    g_auto(GStrv) root = pvx_store_list(store, "/", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(root), ==, 1);
    g_auto(GStrv) absent = pvx_store_list(store, "/nothing/here", &error);
    g_assert_no_error(error);
    g_assert_nonnull(absent);
    g_assert_cmpuint(g_strv_length(absent), ==, 0);
    g_auto(GStrv) of_dataset = pvx_store_list(store, "/models/b", &error);
    g_assert_null(of_dataset);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
}

static void store_delete_removes_subtree_and_ignores_absent(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = create_in_transaction(f->path);
    g_autoptr(PvxTensor) t = pvx_tensor_new_shape(1, (int64_t)2);
    g_assert_true(pvx_store_write_tensor(store, "/maps/gradcam/cr1/raw", t, &error));
    g_assert_true(pvx_store_write_tensor(store, "/maps/gradcam/cr2/raw", t, &error));
    g_assert_true(pvx_store_write_tensor(store, "/maps/lrp/cr1/raw", t, &error));
    commit_ok(store);
    g_assert_true(pvx_store_begin(store, &error));
    g_assert_true(pvx_store_delete(store, "/maps/gradcam", &error));
    g_assert_true(pvx_store_delete(store, "/maps/gradcam", &error));
    g_assert_true(pvx_store_delete(store, "/not/there/at/all", &error));
    g_assert_no_error(error);
    commit_ok(store);
    g_assert_false(pvx_store_exists(store, "/maps/gradcam"));
    g_assert_false(pvx_store_exists(store, "/maps/gradcam/cr2/raw"));
    g_assert_true(pvx_store_exists(store, "/maps/lrp/cr1/raw"));
}

static void store_exists_sees_groups_datasets_and_own_writes(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = create_in_transaction(f->path);
    g_autoptr(PvxTensor) t = pvx_tensor_new_shape(1, (int64_t)2);
    g_assert_true(pvx_store_write_tensor(store, "/a/b/c", t, &error));
    g_assert_no_error(error);
    g_assert_true(pvx_store_exists(store, "/"));
    g_assert_true(pvx_store_exists(store, "/a"));
    g_assert_true(pvx_store_exists(store, "/a/b"));
    g_assert_true(pvx_store_exists(store, "/a/b/c"));
    g_assert_false(pvx_store_exists(store, "/a/b/c/d"));
    g_assert_false(pvx_store_exists(store, "/x/y"));
    g_assert_false(pvx_store_exists(store, "a/b"));
    pvx_store_abort(store);
    g_assert_false(pvx_store_exists(store, "/a"));
}

static void store_read_missing_path_names_it(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = create_in_transaction(f->path);
    g_autoptr(PvxTensor) t = pvx_tensor_new_shape(1, (int64_t)2);
    g_assert_true(pvx_store_write_tensor(store, "/models/cr1/weights/x", t, &error));
    commit_ok(store);
    g_autoptr(PvxTensor) r =
        pvx_store_read_tensor(store, "/models/cr2/weights/features.0.weight", &error);
    g_assert_null(r);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "results.h5"));
    g_assert_nonnull(strstr(error->message, "'/models/cr2/weights/features.0.weight'"));
    g_clear_error(&error);
    g_autofree char *s = pvx_store_get_attr_string(store, "/models/cr1/weights/x", "units", &error);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "'units'"));
    g_assert_nonnull(strstr(error->message, "'/models/cr1/weights/x'"));
}

static void store_non_hdf5_file_is_format_error(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_file_set_contents(f->path, "model: vgg16\nlr: 0.01\n", -1, NULL));
    g_autoptr(PvxStore) store = pvx_store_open(f->path, FALSE, &error);
    g_assert_null(store);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_FORMAT);
    g_autofree char *want = g_strconcat(f->path, ": not an HDF5 file", NULL);
    g_assert_cmpstr(error->message, ==, want);
    g_clear_error(&error);
    g_autofree char *missing = g_build_filename(f->dir, "absent.h5", NULL);
    g_autoptr(PvxStore) none = pvx_store_open(missing, FALSE, &error);
    g_assert_null(none);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "absent.h5"));
}

static void store_truncated_file_is_error_not_crash(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    {
        g_autoptr(PvxStore) store = create_in_transaction(f->path);
        for (int i = 0; i < 8; i++) {
            g_autoptr(PvxTensor) t = pvx_tensor_new_shape(2, (int64_t)64, (int64_t)256);
            pvx_tensor_fill(t, (float)i);
            g_autofree char *p = g_strdup_printf("/models/cr%d/weights/w", i);
            g_assert_true(pvx_store_write_tensor(store, p, t, &error));
        }
        commit_ok(store);
    }
    g_autofree char *contents = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(f->path, &contents, &len, NULL));
    g_autofree char *cut = g_build_filename(f->dir, "cut.h5", NULL);
    g_assert_true(g_file_set_contents(cut, contents, (gssize)(len / 2), NULL));
    g_autoptr(PvxStore) store = pvx_store_open(cut, FALSE, &error);
    g_assert_null(store);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_FORMAT);
    g_assert_true(g_str_has_prefix(error->message, cut));
    g_test_message("truncated file: %s", error->message);
}

static void store_hdf5_failure_names_file_and_object(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = create_in_transaction(f->path);
    g_autoptr(PvxTensor) t = pvx_tensor_new_shape(1, (int64_t)2);
    g_assert_true(pvx_store_write_tensor(store, "/a", t, &error));
    /* "/a" is a dataset, so nothing can be created below it. */
    g_assert_false(pvx_store_write_tensor(store, "/a/b", t, &error));
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    g_autofree char *prefix = g_strconcat(f->path, ": cannot write '/a/b': ", NULL);
    g_assert_true(g_str_has_prefix(error->message, prefix));
    g_assert_cmpuint(strlen(error->message), >, strlen(prefix) + 5);
    g_clear_error(&error);
    g_assert_false(pvx_store_set_attr_int(store, "/a/b", "k", 1, &error));
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    g_autofree char *attr_prefix =
        g_strconcat(f->path, ": cannot set attribute 'k' on '/a/b': ", NULL);
    g_assert_true(g_str_has_prefix(error->message, attr_prefix));
    g_assert_null(strstr(error->message, "unknown HDF5 error"));
}

static void store_read_tensor_into_shape_mismatch_names_both_shapes(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = create_in_transaction(f->path);
    int64_t s[4] = {64, 3, 3, 3};
    g_autoptr(PvxTensor) w = ramp(4, s, 1.0f);
    g_assert_true(
        pvx_store_write_tensor(store, "/models/cr1/weights/features.0.weight", w, &error));
    commit_ok(store);
    g_autoptr(PvxTensor) into =
        pvx_tensor_new_shape(4, (int64_t)64, (int64_t)3, (int64_t)5, (int64_t)5);
    g_assert_false(
        pvx_store_read_tensor_into(store, "/models/cr1/weights/features.0.weight", into, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_assert_nonnull(strstr(error->message, "'/models/cr1/weights/features.0.weight'"));
    g_assert_nonnull(strstr(error->message, "[64, 3, 3, 3]"));
    g_assert_nonnull(strstr(error->message, "[64, 3, 5, 5]"));
    g_clear_error(&error);
    g_autoptr(PvxTensor) ok = pvx_tensor_new(4, s);
    g_assert_true(
        pvx_store_read_tensor_into(store, "/models/cr1/weights/features.0.weight", ok, &error));
    g_assert_no_error(error);
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(ok, w, 1e-6), ==, 0.0);
}

static void store_abort_keeps_committed_state(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = create_in_transaction(f->path);
    g_autoptr(PvxTensor) one = pvx_tensor_new_shape(1, (int64_t)3);
    pvx_tensor_fill(one, 1.0f);
    g_assert_true(pvx_store_write_tensor(store, "/w", one, &error));
    commit_ok(store);
    g_assert_true(pvx_store_begin(store, &error));
    g_assert_true(pvx_store_in_transaction(store));
    g_autoptr(PvxTensor) two = pvx_tensor_new_shape(1, (int64_t)3);
    pvx_tensor_fill(two, 2.0f);
    g_assert_true(pvx_store_write_tensor(store, "/w", two, &error));
    g_assert_true(pvx_store_write_tensor(store, "/extra", two, &error));
    g_assert_true(pvx_store_set_attr_int(store, "/", "generation", 2, &error));
    g_assert_no_error(error);
    g_autoptr(PvxTensor) seen = pvx_store_read_tensor(store, "/w", &error);
    g_assert_cmpfloat(seen->data[0], ==, 2.0f); /* a transaction reads its own writes */
    pvx_store_abort(store);
    g_assert_false(pvx_store_in_transaction(store));
    g_assert_cmpuint(store_test_count_prefix(f->dir, "results.h5.tmp-"), ==, 0);
    g_autoptr(PvxTensor) back = pvx_store_read_tensor(store, "/w", &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(back->data[0], ==, 1.0f);
    g_assert_false(pvx_store_exists(store, "/extra"));
    int64_t gen = 0;
    g_assert_false(pvx_store_get_attr_int(store, "/", "generation", &gen, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    /* Closing inside a transaction aborts it as well. */
    g_clear_error(&error);
    g_assert_true(pvx_store_begin(store, &error));
    g_assert_true(pvx_store_write_tensor(store, "/w", two, &error));
    g_clear_pointer(&store, pvx_store_close);
    g_autoptr(PvxStore) again = pvx_store_open(f->path, FALSE, &error);
    g_autoptr(PvxTensor) still = pvx_store_read_tensor(again, "/w", &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(still->data[0], ==, 1.0f);
    g_assert_cmpuint(store_test_count_prefix(f->dir, "results.h5.tmp-"), ==, 0);
}

static void store_writes_need_a_writable_transaction(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) t = pvx_tensor_new_shape(1, (int64_t)2);
    g_autoptr(PvxStore) store = pvx_store_create(f->path, &error);
    g_assert_no_error(error);
    g_assert_false(pvx_store_write_tensor(store, "/w", t, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_autoptr(PvxStore) ro = pvx_store_open(f->path, FALSE, &error);
    g_assert_no_error(error);
    g_assert_false(pvx_store_begin(ro, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_assert_false(pvx_store_set_attr_int(ro, "/", "x", 1, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_autoptr(PvxStore) dup = pvx_store_create(f->path, &error);
    g_assert_null(dup);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_IO);
    g_clear_error(&error);
    g_assert_true(pvx_store_begin(store, &error));
    g_assert_false(pvx_store_write_tensor(store, "relative/path", t, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "'relative/path'"));
}

static void store_open_writable_removes_dead_shadows_only(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    {
        g_autoptr(PvxStore) store = pvx_store_create(f->path, &error);
        g_assert_no_error(error);
    }
    g_autofree char *dead = g_strconcat(f->path, ".tmp-AbC123", NULL);
    g_autofree char *alive = g_strconcat(f->path, ".tmp-XyZ789", NULL);
    g_autofree char *other = g_strconcat(f->path, ".tmp-keep-me", NULL);
    g_assert_true(g_file_set_contents(dead, "half", -1, NULL));
    g_assert_true(g_file_set_contents(alive, "busy", -1, NULL));
    g_assert_true(g_file_set_contents(other, "unrelated", -1, NULL));
    int fd = open(alive, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(flock(fd, LOCK_EX), ==, 0); /* as a live writer holds its shadow */
    {
        g_autoptr(PvxStore) ro = pvx_store_open(f->path, FALSE, &error);
        g_assert_no_error(error);
        g_assert_true(g_file_test(dead, G_FILE_TEST_EXISTS)); /* readers never clean */
        g_autoptr(PvxStore) rw = pvx_store_open(f->path, TRUE, &error);
        g_assert_no_error(error);
    }
    g_assert_false(g_file_test(dead, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(alive, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(other, G_FILE_TEST_EXISTS));
    close(fd);
}

typedef struct {
    char *path;
    int index;
} ThreadJob;

static gpointer thread_writes_and_reads(gpointer data)
{
    ThreadJob *job = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = pvx_store_create(job->path, &error);
    g_assert_no_error(error);
    for (int round = 0; round < 10; round++) {
        g_assert_true(pvx_store_begin(store, &error));
        g_autoptr(PvxTensor) t = pvx_tensor_new_shape(2, (int64_t)32, (int64_t)32);
        pvx_tensor_fill(t, (float)(job->index * 100 + round));
        g_assert_true(pvx_store_write_tensor(store, "/t", t, &error));
        g_assert_true(pvx_store_set_attr_int(store, "/t", "round", round, &error));
        g_assert_true(pvx_store_commit(store, &error));
        g_assert_no_error(error);
        g_autoptr(PvxTensor) back = pvx_store_read_tensor(store, "/t", &error);
        g_assert_no_error(error);
        g_assert_cmpfloat(back->data[1023], ==, (float)(job->index * 100 + round));
    }
    return NULL;
}

static void store_is_usable_from_several_threads(Fixture *f, gconstpointer data)
{
    (void)data;
    ThreadJob jobs[4];
    GThread *threads[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].index = i;
        jobs[i].path = g_strdup_printf("%s/thread%d.h5", f->dir, i);
        threads[i] = g_thread_new("store", thread_writes_and_reads, &jobs[i]);
    }
    for (int i = 0; i < 4; i++) {
        g_thread_join(threads[i]);
        g_free(jobs[i].path);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name) g_test_add("/store/" #name, Fixture, NULL, fixture_setup, name, fixture_teardown)
    ADD(store_round_trips_every_type_and_attribute);
    ADD(store_large_mask_and_empty_datasets_round_trip);
    ADD(store_write_replaces_existing_path);
    ADD(store_list_gives_sorted_children);
    ADD(store_delete_removes_subtree_and_ignores_absent);
    ADD(store_exists_sees_groups_datasets_and_own_writes);
    ADD(store_read_missing_path_names_it);
    ADD(store_non_hdf5_file_is_format_error);
    ADD(store_truncated_file_is_error_not_crash);
    ADD(store_hdf5_failure_names_file_and_object);
    ADD(store_read_tensor_into_shape_mismatch_names_both_shapes);
    ADD(store_abort_keeps_committed_state);
    ADD(store_writes_need_a_writable_transaction);
    ADD(store_open_writable_removes_dead_shadows_only);
    ADD(store_is_usable_from_several_threads);
#undef ADD
    return g_test_run();
}
