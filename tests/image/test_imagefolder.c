/* Tests of the imagefolder dataset plugin on a small tree built here. */
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

#include "test_util.h"

#define PLUGIN_PATH PVX_TEST_BUILD_ROOT "/plugins/datasets/imagefolder/pvx-dataset-imagefolder.so"

/* Writes an RGB image as a baseline JPEG with libjpeg (default error handling is fine for a
 * test fixture). */
static void write_jpeg(const PvxImage *img, const char *path)
{
    FILE *fp = fopen(path, "wb");
    g_assert_nonnull(fp);
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr jerr;
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, fp);
    cinfo.image_width = (JDIMENSION)img->width;
    cinfo.image_height = (JDIMENSION)img->height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 90, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = img->data + (gsize)cinfo.next_scanline * img->width * 3;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    fclose(fp);
}

typedef struct {
    char *root;
    PvxRegistry *reg;
    const PvxPlugin *plugin;
} Fixture;

/* train: n01440764 (3: two PNG, one .JPEG), n02102040 (2: .jpg, .Png), zebra (1 PNG + notes.txt)
 * val:   n01440764 (1 .JPEG), n02102040 (1 png), zebra (1 png + broken.png, random bytes)
 * no test/ folder. */
static void build_tree(const char *root)
{
    struct {
        const char *rel;
        int w, h, channels;
        gboolean jpeg;
    } files[] = {
        {"train/n01440764/b.png", 300, 200, 3, FALSE},
        {"train/n01440764/a.png", 120, 260, 1, FALSE},
        {"train/n01440764/c.JPEG", 280, 280, 3, TRUE},
        {"train/n02102040/x.jpg", 257, 300, 3, TRUE},
        {"train/n02102040/y.Png", 64, 48, 4, FALSE},
        {"train/zebra/z1.png", 256, 256, 3, FALSE},
        {"val/n01440764/ILSVRC2012_val_00009111.JPEG", 500, 375, 3, TRUE},
        {"val/n02102040/v.png", 333, 500, 3, FALSE},
        {"val/zebra/ok.png", 230, 240, 3, FALSE},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(root, files[i].rel, NULL);
        g_autofree char *dir = g_path_get_dirname(path);
        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_autoptr(PvxImage) img =
            tu_pattern(files[i].w, files[i].h, files[i].channels, (guint32)(300 + i));
        if (files[i].jpeg)
            write_jpeg(img, path);
        else
            g_assert_true(pvx_image_save_png(img, path, NULL));
    }
    g_autofree char *notes = g_build_filename(root, "train/zebra/notes.txt", NULL);
    g_assert_true(g_file_set_contents(notes, "not an image", -1, NULL));
    g_autofree char *broken = g_build_filename(root, "val/zebra/broken.png", NULL);
    GRand *rand = g_rand_new_with_seed(5);
    char junk[777];
    for (gsize i = 0; i < sizeof junk; i++)
        junk[i] = (char)g_rand_int(rand);
    g_rand_free(rand);
    g_assert_true(g_file_set_contents(broken, junk, sizeof junk, NULL));
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    (void)data;
    f->root = tu_make_tmpdir();
    build_tree(f->root);
    f->reg = pvx_registry_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_registry_load_file(f->reg, PLUGIN_PATH, &error));
    g_assert_no_error(error);
    f->plugin = pvx_registry_find(f->reg, PVX_KIND_DATASET, "imagefolder");
    g_assert_nonnull(f->plugin);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    pvx_registry_free(f->reg);
    tu_rm_rf(f->root);
    g_free(f->root);
}

/* Opens the dataset with "root=<root>" plus @extra pairs (NULL-terminated). */
static PvxDataset *open_with(Fixture *f, const char *root, const char *const *extra,
                             PvxParams **params_out, GError **error)
{
    g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(pairs, g_strdup_printf("root=%s", root));
    for (int i = 0; extra && extra[i]; i++)
        g_ptr_array_add(pairs, g_strdup(extra[i]));
    g_ptr_array_add(pairs, NULL);
    PvxParams *params = pvx_params_new_from_pairs(f->plugin->params, "dataset imagefolder",
                                                  (const char *const *)pairs->pdata, error);
    if (!params)
        return NULL;
    PvxDataset *ds = pvx_dataset_open(f->plugin, params, error);
    if (params_out)
        *params_out = params;
    else
        pvx_params_free(params);
    return ds;
}

static void imagefolder_lists_classes_splits_and_labels(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxDataset) ds = open_with(f, f->root, NULL, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_dataset_num_classes(ds), ==, 3);
    g_assert_cmpstr(pvx_dataset_class_name(ds, 0), ==, "tench");
    g_assert_cmpstr(pvx_dataset_class_name(ds, 1), ==, "English springer");
    g_assert_cmpstr(pvx_dataset_class_name(ds, 2), ==, "zebra");
    g_assert_cmpint(pvx_dataset_split_size(ds, PVX_SPLIT_TRAIN), ==, 6);
    g_assert_cmpint(pvx_dataset_split_size(ds, PVX_SPLIT_VAL), ==, 4);
    g_assert_cmpint(pvx_dataset_split_size(ds, PVX_SPLIT_TEST), ==, -1);
    int64_t chw[3];
    pvx_dataset_item_shape(ds, chw);
    g_assert_cmpint(chw[0], ==, 3);
    g_assert_cmpint(chw[1], ==, 224);
    g_assert_cmpint(chw[2], ==, 224);

    /* Sorted by class, then file name. */
    static const char *const train_ids[] = {
        "train/n01440764/a", "train/n01440764/b", "train/n01440764/c",
        "train/n02102040/x", "train/n02102040/y", "train/zebra/z1",
    };
    static const int train_labels[] = {0, 0, 0, 1, 1, 2};
    for (int i = 0; i < 6; i++) {
        PvxDatasetItem item = {0};
        g_assert_true(pvx_dataset_get_item(ds, PVX_SPLIT_TRAIN, i, &item, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(item.id, ==, train_ids[i]);
        g_assert_cmpint(item.label, ==, train_labels[i]);
        g_assert_cmpint(item.image->shape[0], ==, 3);
        g_assert_cmpint(item.image->shape[1], ==, 224);
        g_assert_nonnull(item.raw);
        g_assert_cmpint(item.raw->width, ==, 224);
        g_assert_cmpint(item.raw->channels, ==, 3);
        g_assert_null(item.mask);
        pvx_dataset_item_clear(&item);
        /* The cheap label path agrees with get_item. */
        g_assert_cmpint(pvx_dataset_get_label(ds, PVX_SPLIT_TRAIN, i, &error), ==, train_labels[i]);
        g_assert_no_error(error);
    }
    PvxDatasetItem item = {0};
    g_assert_true(pvx_dataset_get_item(ds, PVX_SPLIT_VAL, 0, &item, &error));
    g_assert_cmpstr(item.id, ==, "val/n01440764/ILSVRC2012_val_00009111");
    pvx_dataset_item_clear(&item);
}

static void imagefolder_tensor_is_the_eval_transform(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    const char *extra[] = {"label_names=folder", "size=96", "resize=128", NULL};
    g_autoptr(PvxDataset) ds = open_with(f, f->root, extra, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(pvx_dataset_class_name(ds, 0), ==, "n01440764");
    /* train/n02102040/y.Png is RGBA: converted to RGB first. */
    PvxDatasetItem item = {0};
    g_assert_true(pvx_dataset_get_item(ds, PVX_SPLIT_TRAIN, 4, &item, &error));
    g_autofree char *path = g_build_filename(f->root, "train/n02102040/y.Png", NULL);
    g_autoptr(PvxImage) img = pvx_image_load(path, &error);
    g_assert_no_error(error);
    g_autoptr(PvxImage) rgb = pvx_image_convert(img, 3);
    g_autoptr(PvxImage) r = pvx_image_resize_shorter(rgb, 128);
    g_autoptr(PvxImage) c = pvx_image_center_crop(r, 96, 96);
    g_assert_cmpint(tu_max_diff(c, item.raw), ==, 0);
    g_autoptr(PvxTensor) t = pvx_image_to_tensor(c, pvx_imagenet_mean, pvx_imagenet_std);
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(item.image, t, 1e-6), ==, 0.0);
    pvx_dataset_item_clear(&item);

    /* And against torchvision on the JPEG validation image. */
    g_autofree char *jpg =
        g_build_filename(f->root, "val/n01440764/ILSVRC2012_val_00009111.JPEG", NULL);
    g_autofree char *out = g_build_filename(f->root, "ref.f32", NULL);
    g_autofree char *cmds = g_strdup_printf("totensor %s %s 128 96\n", jpg, out);
    if (tu_python(cmds)) {
        g_autoptr(PvxTensor) ref = tu_read_f32(out);
        g_assert_true(pvx_dataset_get_item(ds, PVX_SPLIT_VAL, 0, &item, &error));
        g_assert_true(pvx_tensor_same_shape(item.image, ref));
        double worst = 0;
        for (int64_t i = 0; i < pvx_tensor_numel(ref); i++)
            worst = MAX(worst, ABS((double)item.image->data[i] - ref->data[i]));
        g_test_message("imagefolder vs torchvision: max diff %g", worst);
        /* Exact decoding: one grey level of difference would already be 1/255/std ≈ 0.0175. */
        g_assert_cmpfloat(worst, <=, 1e-6);
        pvx_dataset_item_clear(&item);
    }
}

static void imagefolder_corrupt_file_error_names_it(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxDataset) ds = open_with(f, f->root, NULL, NULL, &error);
    g_assert_no_error(error);
    /* val/zebra: broken.png sorts before ok.png, so it is item 2. */
    PvxDatasetItem item = {0};
    g_assert_false(pvx_dataset_get_item(ds, PVX_SPLIT_VAL, 2, &item, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_FORMAT);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "val/zebra/broken.png"));
    g_clear_error(&error);
    g_assert_true(pvx_dataset_get_item(ds, PVX_SPLIT_VAL, 3, &item, &error));
    g_assert_cmpstr(item.id, ==, "val/zebra/ok");
    g_assert_cmpint(item.label, ==, 2);
    pvx_dataset_item_clear(&item);
}

static void imagefolder_explicit_classes_select_a_subset(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    const char *extra[] = {"classes=[zebra, n01440764]", NULL};
    g_autoptr(PvxDataset) ds = open_with(f, f->root, extra, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_dataset_num_classes(ds), ==, 2);
    g_assert_cmpstr(pvx_dataset_class_name(ds, 0), ==, "zebra");
    g_assert_cmpstr(pvx_dataset_class_name(ds, 1), ==, "tench");
    g_assert_cmpint(pvx_dataset_split_size(ds, PVX_SPLIT_TRAIN), ==, 4);
    PvxDatasetItem item = {0};
    g_assert_true(pvx_dataset_get_item(ds, PVX_SPLIT_TRAIN, 0, &item, &error));
    g_assert_cmpstr(item.id, ==, "train/zebra/z1");
    g_assert_cmpint(item.label, ==, 0);
    pvx_dataset_item_clear(&item);

    const char *missing[] = {"classes=[zebra, okapi]", NULL};
    g_autoptr(PvxDataset) none = open_with(f, f->root, missing, NULL, &error);
    g_assert_null(none);
    g_assert_nonnull(strstr(error->message, "okapi"));
}

static void imagefolder_missing_or_empty_root_names_param_and_path(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    PvxParams *params = NULL;
    g_autofree char *missing = g_build_filename(f->root, "nope", NULL);
    g_autoptr(PvxDataset) ds = open_with(f, missing, NULL, &params, &error);
    g_assert_null(ds);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, missing));
    g_assert_nonnull(strstr(error->message, pvx_params_where(params, "root")));
    g_clear_pointer(&params, pvx_params_free);
    g_clear_error(&error);

    /* A folder with split folders but no images. */
    g_autofree char *empty = g_build_filename(f->root, "empty", "train", "cls", NULL);
    g_assert_cmpint(g_mkdir_with_parents(empty, 0755), ==, 0);
    g_autofree char *empty_root = g_build_filename(f->root, "empty", NULL);
    g_autoptr(PvxDataset) ds2 = open_with(f, empty_root, NULL, &params, &error);
    g_assert_null(ds2);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, empty_root));
    g_assert_nonnull(strstr(error->message, pvx_params_where(params, "root")));
    g_clear_pointer(&params, pvx_params_free);
}

typedef struct {
    PvxDataset *ds;
    int64_t n;
    gint failures;
} ThreadJob;

static gpointer load_all(gpointer data)
{
    ThreadJob *job = data;
    for (int64_t i = 0; i < job->n; i++) {
        PvxDatasetItem item = {0};
        if (!pvx_dataset_get_item(job->ds, PVX_SPLIT_TRAIN, i, &item, NULL))
            g_atomic_int_inc(&job->failures);
        pvx_dataset_item_clear(&item);
    }
    return NULL;
}

static void imagefolder_get_item_is_thread_safe(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxDataset) ds = open_with(f, f->root, NULL, NULL, &error);
    g_assert_no_error(error);
    ThreadJob job = {ds, pvx_dataset_split_size(ds, PVX_SPLIT_TRAIN), 0};
    GThread *threads[4];
    for (int i = 0; i < 4; i++)
        threads[i] = g_thread_new("loader", load_all, &job);
    for (int i = 0; i < 4; i++)
        g_thread_join(threads[i]);
    g_assert_cmpint(job.failures, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name)                                                                                  \
    g_test_add("/imagefolder/" #name, Fixture, NULL, fixture_setup, name, fixture_teardown)
    ADD(imagefolder_lists_classes_splits_and_labels);
    ADD(imagefolder_tensor_is_the_eval_transform);
    ADD(imagefolder_corrupt_file_error_names_it);
    ADD(imagefolder_explicit_classes_select_a_subset);
    ADD(imagefolder_missing_or_empty_root_names_param_and_path);
    ADD(imagefolder_get_item_is_thread_safe);
#undef ADD
    return g_test_run();
}
