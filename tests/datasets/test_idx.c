/* Tests of the idx dataset plugin: Fashion-MNIST items against the files themselves (decoded here
 * with zlib, independently of the plugin), split sizes, class names, the normalisation defaults,
 * and the errors for truncated, mismatched and malformed files written into a temporary folder. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <zlib.h>

#include "pvx-private/core.h"

#define FASHION_ROOT "/usr/share/datasets/fashion-mnist"

static PvxRegistry *registry;
static const PvxPlugin *plugin;

/* Opens the idx dataset with "key=value" pairs on top of the defaults. */
static PvxDataset *open_idx(const char *const *pairs, GError **error)
{
    g_autoptr(PvxParams) params =
        pvx_params_new_from_pairs(plugin->params, "dataset idx", pairs, error);
    if (!params)
        return NULL;
    return pvx_dataset_open(plugin, params, error);
}

static gboolean have_fashion_mnist(void)
{
    if (g_file_test(FASHION_ROOT "/train-images-idx3-ubyte.gz", G_FILE_TEST_EXISTS))
        return TRUE;
    g_test_skip("Fashion-MNIST is not installed (apt install dataset-fashion-mnist)");
    return FALSE;
}

/* The whole decompressed content of a gzip file. */
static GBytes *gunzip_file(const char *path)
{
    gzFile gz = gzopen(path, "rb");
    g_assert_nonnull(gz);
    GByteArray *buf = g_byte_array_new();
    uint8_t chunk[1 << 16];
    int r;
    while ((r = gzread(gz, chunk, sizeof chunk)) > 0)
        g_byte_array_append(buf, chunk, (guint)r);
    g_assert_cmpint(r, ==, 0);
    g_assert_cmpint(gzclose(gz), ==, Z_OK);
    return g_byte_array_free_to_bytes(buf);
}

static guint32 be32(const uint8_t *p)
{
    return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static void fashion_mnist_items_match_the_files(void)
{
    if (!have_fashion_mnist())
        return;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxDataset) ds = open_idx(NULL, &error);
    g_assert_no_error(error);

    struct {
        PvxSplit split;
        const char *prefix;
        int64_t index[4];
    } cases[] = {
        {PVX_SPLIT_TRAIN, "train", {0, 1, 42, 59999}},
        {PVX_SPLIT_TEST, "t10k", {0, 7, 4242, 9999}},
    };
    for (gsize c = 0; c < G_N_ELEMENTS(cases); c++) {
        g_autofree char *ip =
            g_strdup_printf(FASHION_ROOT "/%s-images-idx3-ubyte.gz", cases[c].prefix);
        g_autofree char *lp =
            g_strdup_printf(FASHION_ROOT "/%s-labels-idx1-ubyte.gz", cases[c].prefix);
        g_autoptr(GBytes) images = gunzip_file(ip);
        g_autoptr(GBytes) labels = gunzip_file(lp);
        const uint8_t *im = g_bytes_get_data(images, NULL);
        const uint8_t *lb = g_bytes_get_data(labels, NULL);
        g_assert_cmphex(be32(im), ==, 0x803);
        g_assert_cmpuint(be32(im + 8), ==, 28);
        g_assert_cmpuint(be32(im + 12), ==, 28);
        for (int k = 0; k < 4; k++) {
            int64_t i = cases[c].index[k];
            PvxDatasetItem item = {0};
            g_assert_true(pvx_dataset_get_item(ds, cases[c].split, i, &item, &error));
            g_assert_no_error(error);
            g_assert_cmpint(item.label, ==, lb[8 + i]);
            g_assert_cmpint(pvx_dataset_get_label(ds, cases[c].split, i, NULL), ==, lb[8 + i]);
            const uint8_t *px = im + 16 + i * 784;
            g_assert_nonnull(item.raw);
            g_assert_cmpint(item.raw->channels, ==, 1);
            g_assert_cmpmem(item.raw->data, 784, px, 784);
            for (int p = 0; p < 784; p++)
                g_assert_cmpfloat_with_epsilon(item.image->data[p],
                                               (px[p] / 255.0 - 0.2860) / 0.3530, 1e-5);
            g_assert_null(item.mask);
            g_autofree char *id =
                g_strdup_printf("%s-%06d", pvx_split_name(cases[c].split), (int)i);
            g_assert_cmpstr(item.id, ==, id);
            pvx_dataset_item_clear(&item);
        }
    }
}

static void fashion_mnist_has_60000_train_10000_test_no_val(void)
{
    if (!have_fashion_mnist())
        return;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxDataset) ds = open_idx(NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_dataset_split_size(ds, PVX_SPLIT_TRAIN), ==, 60000);
    g_assert_cmpint(pvx_dataset_split_size(ds, PVX_SPLIT_TEST), ==, 10000);
    g_assert_cmpint(pvx_dataset_split_size(ds, PVX_SPLIT_VAL), ==, -1);
    int64_t chw[3];
    pvx_dataset_item_shape(ds, chw);
    g_assert_cmpint(chw[0], ==, 1);
    g_assert_cmpint(chw[1], ==, 28);
    g_assert_cmpint(chw[2], ==, 28);
    g_assert_false(pvx_dataset_has_masks(ds));
    PvxDatasetItem item = {0};
    g_assert_false(pvx_dataset_get_item(ds, PVX_SPLIT_VAL, 0, &item, &error));
    g_assert_nonnull(error);
}

static void fashion_mnist_class_names_by_label(void)
{
    if (!have_fashion_mnist())
        return;
    static const char *const want[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxDataset) ds = open_idx(NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_dataset_num_classes(ds), ==, 10);
    for (int c = 0; c < 10; c++)
        g_assert_cmpstr(pvx_dataset_class_name(ds, c), ==, want[c]);
}

static const char *spec_default(const char *name)
{
    for (const PvxParamSpec *s = plugin->params; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s->default_value;
    g_assert_not_reached();
    return NULL;
}

/* The defaults are Fashion-MNIST's train statistics: mean 0.28604, std 0.35302 over all
 * 60000×28×28 pixels of value/255 (population std). */
static void fashion_mnist_train_statistics_match_defaults(void)
{
    if (!have_fashion_mnist())
        return;
    g_autoptr(GBytes) images = gunzip_file(FASHION_ROOT "/train-images-idx3-ubyte.gz");
    gsize len;
    const uint8_t *im = g_bytes_get_data(images, &len);
    g_assert_cmpuint(len, ==, 16 + (gsize)60000 * 784);
    guint64 hist[256] = {0};
    for (gsize i = 16; i < len; i++)
        hist[im[i]]++;
    double n = (double)(len - 16), sum = 0.0, sum2 = 0.0;
    for (int v = 0; v < 256; v++) {
        sum += hist[v] * (v / 255.0);
        sum2 += hist[v] * (v / 255.0) * (v / 255.0);
    }
    double mean = sum / n;
    double std = sqrt(sum2 / n - mean * mean);
    g_test_message("Fashion-MNIST train: mean %.6f std %.6f", mean, std);
    g_assert_cmpfloat_with_epsilon(mean, 0.28604, 5e-5);
    g_assert_cmpfloat_with_epsilon(std, 0.35302, 5e-5);
    g_assert_cmpfloat_with_epsilon(g_ascii_strtod(spec_default("mean"), NULL), mean, 1e-4);
    g_assert_cmpfloat_with_epsilon(g_ascii_strtod(spec_default("std"), NULL), std, 1e-4);
}

/* Synthetic IDX files -------------------------------------------------------------------- */

/* Writes an IDX file: @magic, @ndim dims, then @len bytes of @data. gzipped when @gz. */
static void write_idx(const char *dir, const char *name, gboolean gz, guint32 magic,
                      const guint32 *dims, int ndim, const uint8_t *data, gsize len)
{
    GByteArray *buf = g_byte_array_new();
    uint8_t word[4];
    for (int i = -1; i < ndim; i++) {
        guint32 v = i < 0 ? magic : dims[i];
        word[0] = v >> 24, word[1] = v >> 16, word[2] = v >> 8, word[3] = v;
        g_byte_array_append(buf, word, 4);
    }
    g_byte_array_append(buf, data, (guint)len);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        g_assert_nonnull(f);
        g_assert_cmpint(gzwrite(f, buf->data, buf->len), ==, (int)buf->len);
        g_assert_cmpint(gzclose(f), ==, Z_OK);
    } else {
        g_assert_true(g_file_set_contents(path, (const char *)buf->data, buf->len, NULL));
    }
    g_byte_array_unref(buf);
}

/* A small dataset: @n items of 5×4 pixels per split, labels i % @n_labels. */
static void write_split(const char *dir, const char *prefix, gboolean gz, guint32 n, int n_labels)
{
    g_autofree uint8_t *px = g_malloc(n * 20);
    g_autofree uint8_t *lb = g_malloc(n);
    for (guint32 i = 0; i < n; i++) {
        for (int p = 0; p < 20; p++)
            px[i * 20 + p] = (uint8_t)(i * 7 + p * 13 + (prefix[0] == 't' && prefix[1] == '1'));
        lb[i] = (uint8_t)(i % n_labels);
    }
    const char *ext = gz ? ".gz" : "";
    g_autofree char *iname = g_strdup_printf("%s-images-idx3-ubyte%s", prefix, ext);
    g_autofree char *lname = g_strdup_printf("%s-labels-idx1-ubyte%s", prefix, ext);
    guint32 idims[3] = {n, 5, 4};
    write_idx(dir, iname, gz, 0x803, idims, 3, px, n * 20);
    write_idx(dir, lname, gz, 0x801, &n, 1, lb, n);
}

static char *make_root(gboolean gz)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("pvx-idx-XXXXXX", &error);
    g_assert_no_error(error);
    write_split(dir, "train", gz, 30, 10);
    write_split(dir, "t10k", gz, 12, 10);
    return dir;
}

static void remove_root(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        g_unlink(p);
    }
    g_rmdir(dir);
}

/* Opens the dataset in @root and expects a PVX_ERROR_FORMAT naming @file and each of @needles. */
static void expect_format_error(const char *root, const char *extra, const char *file,
                                const char *const *needles)
{
    g_autofree char *rootpair = g_strdup_printf("root=%s", root);
    const char *pairs[] = {rootpair, extra, NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxDataset) ds = open_idx(pairs, &error);
    g_assert_null(ds);
    g_assert_nonnull(error);
    g_test_message("error: %s", error->message);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_FORMAT);
    g_assert_nonnull(strstr(error->message, file));
    for (int i = 0; needles && needles[i]; i++)
        g_assert_nonnull(strstr(error->message, needles[i]));
}

static void raw_files_load_like_gzipped(void)
{
    g_autofree char *gz_root = make_root(TRUE);
    g_autofree char *raw_root = make_root(FALSE);
    g_autofree char *gz_pair = g_strdup_printf("root=%s", gz_root);
    g_autofree char *raw_pair = g_strdup_printf("root=%s", raw_root);
    const char *gz_pairs[] = {gz_pair, NULL};
    const char *raw_pairs[] = {raw_pair, NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxDataset) a = open_idx(gz_pairs, &error);
    g_assert_no_error(error);
    g_autoptr(PvxDataset) b = open_idx(raw_pairs, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_dataset_split_size(b, PVX_SPLIT_TRAIN), ==, 30);
    g_assert_cmpint(pvx_dataset_split_size(b, PVX_SPLIT_TEST), ==, 12);
    int64_t chw[3];
    pvx_dataset_item_shape(b, chw);
    g_assert_cmpint(chw[1], ==, 5);
    g_assert_cmpint(chw[2], ==, 4);
    for (int s = 0; s < 2; s++) {
        PvxSplit split = s ? PVX_SPLIT_TEST : PVX_SPLIT_TRAIN;
        for (int64_t i = 0; i < pvx_dataset_split_size(a, split); i++) {
            PvxDatasetItem x = {0}, y = {0};
            g_assert_true(pvx_dataset_get_item(a, split, i, &x, &error));
            g_assert_true(pvx_dataset_get_item(b, split, i, &y, &error));
            g_assert_cmpint(x.label, ==, y.label);
            g_assert_cmpint(x.label, ==, i % 10);
            g_assert_cmpmem(x.raw->data, 20, y.raw->data, 20);
            g_assert_cmpmem(x.image->data, 20 * sizeof(float), y.image->data, 20 * sizeof(float));
            /* pixel (x=1, y=2) of item i, as write_split made it */
            g_assert_cmpint(x.raw->data[2 * 4 + 1], ==, (uint8_t)(i * 7 + 9 * 13 + s));
            pvx_dataset_item_clear(&x);
            pvx_dataset_item_clear(&y);
        }
    }
    remove_root(gz_root);
    remove_root(raw_root);
}

static void truncated_images_error_names_file_and_sizes(void)
{
    g_autofree char *root = make_root(TRUE);
    uint8_t data[5000] = {0};
    guint32 dims[3] = {100, 28, 28};
    write_idx(root, "t10k-images-idx3-ubyte.gz", TRUE, 0x803, dims, 3, data, sizeof data);
    const char *needles[] = {"truncated", "100×28×28", "5000", NULL};
    expect_format_error(root, NULL, "t10k-images-idx3-ubyte.gz", needles);
    remove_root(root);
}

static void cut_gzip_stream_is_reported_truncated(void)
{
    g_autofree char *root = make_root(TRUE);
    /* Incompressible pixels so the gzip stream is long enough to cut in the middle. */
    enum { N = 50 };
    g_autofree uint8_t *px = g_malloc(N * 784);
    uint32_t x = 12345;
    for (int i = 0; i < N * 784; i++)
        px[i] = (uint8_t)((x = x * 1664525u + 1013904223u) >> 24);
    guint32 dims[3] = {N, 28, 28};
    write_idx(root, "train-images-idx3-ubyte.gz", TRUE, 0x803, dims, 3, px, N * 784);
    g_autofree char *path = g_build_filename(root, "train-images-idx3-ubyte.gz", NULL);
    g_autofree char *bytes = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(path, &bytes, &len, NULL));
    g_assert_true(g_file_set_contents(path, bytes, (gssize)(len / 2), NULL));
    const char *needles[] = {"truncated", NULL};
    expect_format_error(root, NULL, "train-images-idx3-ubyte.gz", needles);
    remove_root(root);
}

static void wrong_magic_error_names_file(void)
{
    g_autofree char *root = make_root(FALSE);
    uint8_t lb[12] = {0};
    guint32 dims[3] = {12, 1, 1};
    /* An images header where the labels belong. */
    write_idx(root, "t10k-labels-idx1-ubyte", FALSE, 0x803, dims, 3, lb, sizeof lb);
    const char *needles[] = {"wrong magic", "0x00000803", "0x00000801", NULL};
    expect_format_error(root, NULL, "t10k-labels-idx1-ubyte", needles);
    remove_root(root);
}

static void image_label_count_mismatch_names_both_files(void)
{
    g_autofree char *root = make_root(TRUE);
    uint8_t lb[29] = {0};
    guint32 n = 29;
    write_idx(root, "train-labels-idx1-ubyte.gz", TRUE, 0x801, &n, 1, lb, sizeof lb);
    const char *needles[] = {"train-images-idx3-ubyte.gz", "29", "30", NULL};
    expect_format_error(root, NULL, "train-labels-idx1-ubyte.gz", needles);
    remove_root(root);
}

static void label_beyond_classes_names_file(void)
{
    g_autofree char *root = make_root(TRUE);
    write_split(root, "t10k", TRUE, 12,
                11); /* item 10 has label 10, Fashion-MNIST has 10 classes */
    const char *needles[] = {"label 10", "item 10", NULL};
    expect_format_error(root, NULL, "t10k-labels-idx1-ubyte.gz", needles);
    remove_root(root);
}

static void classes_param_must_cover_the_labels(void)
{
    g_autofree char *root = make_root(TRUE);
    write_split(root, "train", TRUE, 30, 3);
    write_split(root, "t10k", TRUE, 12, 3);
    g_autofree char *rootpair = g_strdup_printf("root=%s", root);
    g_autoptr(GError) error = NULL;

    const char *three[] = {rootpair, "classes=[zero, one, two]", NULL};
    g_autoptr(PvxDataset) ds = open_idx(three, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_dataset_num_classes(ds), ==, 3);
    g_assert_cmpstr(pvx_dataset_class_name(ds, 2), ==, "two");

    const char *needles[] = {"label 2", "2 classes", "classes", NULL};
    expect_format_error(root, "classes=[zero, one]", "train-labels-idx1-ubyte.gz", needles);

    /* A name no label reaches would be a class without items. */
    const char *four[] = {rootpair, "classes=[zero, one, two, three]", NULL};
    g_autoptr(PvxDataset) too_many = open_idx(four, &error);
    g_assert_null(too_many);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE);
    g_assert_nonnull(strstr(error->message, "4 classes"));
    g_assert_nonnull(strstr(error->message, "0 to 2"));
    remove_root(root);
}

typedef struct {
    PvxDataset *ds;
    guint64 checksum;
} SumJob;

static gpointer sum_items(gpointer data)
{
    SumJob *job = data;
    for (int64_t i = 0; i < 2000; i++) {
        PvxDatasetItem item = {0};
        g_assert_true(pvx_dataset_get_item(job->ds, PVX_SPLIT_TEST, i, &item, NULL));
        job->checksum = job->checksum * 31 + (guint64)item.label;
        for (int p = 0; p < 784; p++)
            job->checksum =
                job->checksum * 131 + item.raw->data[p] + (guint64)(item.image->data[p] * 1000.0f);
        pvx_dataset_item_clear(&item);
    }
    return NULL;
}

static void concurrent_fetches_match_sequential_ones(void)
{
    if (!have_fashion_mnist())
        return;
    g_autoptr(GError) error = NULL;
    const char *pairs[] = {"limit_train=10", NULL};
    g_autoptr(PvxDataset) ds = open_idx(pairs, &error);
    g_assert_no_error(error);
    SumJob jobs[4] = {{ds, 0}, {ds, 0}, {ds, 0}, {ds, 0}};
    GThread *threads[3];
    for (int t = 0; t < 3; t++)
        threads[t] = g_thread_new("idx-fetch", sum_items, &jobs[t]);
    sum_items(&jobs[3]);
    for (int t = 0; t < 3; t++) {
        g_thread_join(threads[t]);
        g_assert_cmpuint(jobs[t].checksum, ==, jobs[3].checksum);
    }
}

static void limits_keep_the_first_items(void)
{
    g_autofree char *root = make_root(FALSE);
    g_autofree char *rootpair = g_strdup_printf("root=%s", root);
    const char *all[] = {rootpair, NULL};
    const char *few[] = {rootpair, "limit_train=5", "limit_test=100", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxDataset) a = open_idx(all, &error);
    g_assert_no_error(error);
    g_autoptr(PvxDataset) b = open_idx(few, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_dataset_split_size(b, PVX_SPLIT_TRAIN), ==, 5);
    g_assert_cmpint(pvx_dataset_split_size(b, PVX_SPLIT_TEST), ==, 12); /* limit above size */
    PvxDatasetItem x = {0}, y = {0};
    g_assert_true(pvx_dataset_get_item(a, PVX_SPLIT_TRAIN, 4, &x, &error));
    g_assert_true(pvx_dataset_get_item(b, PVX_SPLIT_TRAIN, 4, &y, &error));
    g_assert_cmpmem(x.raw->data, 20, y.raw->data, 20);
    pvx_dataset_item_clear(&x);
    pvx_dataset_item_clear(&y);
    g_assert_false(pvx_dataset_get_item(b, PVX_SPLIT_TRAIN, 5, &y, &error));
    g_assert_nonnull(error);
    remove_root(root);
}

static void missing_files_are_named(void)
{
    g_autofree char *root = make_root(TRUE);
    g_autofree char *rootpair = g_strdup_printf("root=%s", root);
    const char *pairs[] = {rootpair, "prefix_test=nosuch", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxDataset) ds = open_idx(pairs, &error);
    g_assert_null(ds);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "nosuch-images-idx3-ubyte"));
    g_assert_nonnull(strstr(error->message, root));
    remove_root(root);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autoptr(GError) error = NULL;
    registry = pvx_registry_new();
    if (!pvx_registry_load_file(registry, PVX_IDX_PLUGIN, &error))
        g_error("%s", error->message);
    plugin = pvx_registry_find(registry, PVX_KIND_DATASET, "idx");
    g_assert_nonnull(plugin);

    g_test_add_func("/idx/fashion_mnist_items_match_the_files",
                    fashion_mnist_items_match_the_files);
    g_test_add_func("/idx/fashion_mnist_has_60000_train_10000_test_no_val",
                    fashion_mnist_has_60000_train_10000_test_no_val);
    g_test_add_func("/idx/fashion_mnist_class_names_by_label", fashion_mnist_class_names_by_label);
    g_test_add_func("/idx/fashion_mnist_train_statistics_match_defaults",
                    fashion_mnist_train_statistics_match_defaults);
    g_test_add_func("/idx/raw_files_load_like_gzipped", raw_files_load_like_gzipped);
    g_test_add_func("/idx/truncated_images_error_names_file_and_sizes",
                    truncated_images_error_names_file_and_sizes);
    g_test_add_func("/idx/cut_gzip_stream_is_reported_truncated",
                    cut_gzip_stream_is_reported_truncated);
    g_test_add_func("/idx/wrong_magic_error_names_file", wrong_magic_error_names_file);
    g_test_add_func("/idx/image_label_count_mismatch_names_both_files",
                    image_label_count_mismatch_names_both_files);
    g_test_add_func("/idx/label_beyond_classes_names_file", label_beyond_classes_names_file);
    g_test_add_func("/idx/classes_param_must_cover_the_labels",
                    classes_param_must_cover_the_labels);
    g_test_add_func("/idx/limits_keep_the_first_items", limits_keep_the_first_items);
    g_test_add_func("/idx/missing_files_are_named", missing_files_are_named);
    g_test_add_func("/idx/concurrent_fetches_match_sequential_ones",
                    concurrent_fetches_match_sequential_ones);
    int rc = g_test_run();
    pvx_registry_free(registry);
    return rc;
}
