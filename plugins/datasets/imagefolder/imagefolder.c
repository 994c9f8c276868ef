/* pvx dataset plugin "imagefolder": ImageNet/Imagenette-style folder trees.
 *
 *     <root>/<split>/<class-folder>/<file>.{jpeg,jpg,png}   (extensions case-insensitive)
 *
 * Splits are the folders train, val (or validation) and test; a split without a folder reports
 * size -1. Classes are the `classes` param in its order, or else the sorted folder names of the
 * train split (of the first split present when there is no train). Items are listed once at open,
 * by class then file name (strcmp order, as torchvision's ImageFolder sorts), so indices are
 * deterministic. The instance is immutable after open, so get_item is safe from any thread.
 *
 * get_item reproduces torchvision's eval transform on a PIL image: convert("RGB"),
 * Resize(resize) (bilinear, shorter side), CenterCrop(size), ToTensor, Normalize(mean, std).
 */
#include <string.h>

#include <pvx/pvx.h>

/* Imagenette's WordNet ids and the names fast.ai gives them. */
static const char *const imagenette_names[][2] = {
    {"n01440764", "tench"},           {"n02102040", "English springer"},
    {"n02979186", "cassette player"}, {"n03000684", "chain saw"},
    {"n03028079", "church"},          {"n03394916", "French horn"},
    {"n03417042", "garbage truck"},   {"n03425413", "gas pump"},
    {"n03445777", "golf ball"},       {"n03888605", "parachute"},
};

typedef struct {
    char *path; /* absolute file path */
    char *id;   /* "<split-folder>/<class-folder>/<stem>" */
    int label;
} FolderItem;

typedef struct {
    gboolean present;
    GArray *items; /* FolderItem */
} FolderSplit;

typedef struct {
    char *root;
    GPtrArray *folders; /* class folder names, index = label */
    GPtrArray *names;   /* display names, index = label */
    FolderSplit splits[PVX_SPLIT_COUNT];
    int size, resize;
    float mean[3], std[3];
} ImageFolder;

static void folder_item_clear(gpointer p)
{
    FolderItem *it = p;
    g_free(it->path);
    g_free(it->id);
}

static void imagefolder_close(gpointer self)
{
    ImageFolder *ds = self;
    if (!ds)
        return;
    for (int s = 0; s < PVX_SPLIT_COUNT; s++)
        if (ds->splits[s].items)
            g_array_unref(ds->splits[s].items);
    if (ds->folders)
        g_ptr_array_unref(ds->folders);
    if (ds->names)
        g_ptr_array_unref(ds->names);
    g_free(ds->root);
    g_free(ds);
}

static gboolean has_image_extension(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name)
        return FALSE;
    return g_ascii_strcasecmp(dot, ".jpeg") == 0 || g_ascii_strcasecmp(dot, ".jpg") == 0 ||
           g_ascii_strcasecmp(dot, ".png") == 0;
}

static int compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted names of the entries of @dir that are folders (want_dirs) or image files.
 * Returns: (transfer full). */
static GPtrArray *list_sorted(const char *dir, gboolean want_dirs, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, error);
    if (!d)
        return NULL;
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (name[0] == '.')
            continue; /* hidden files and macOS/Jupyter droppings */
        g_autofree char *full = g_build_filename(dir, name, NULL);
        gboolean is_dir = g_file_test(full, G_FILE_TEST_IS_DIR);
        if (want_dirs ? is_dir : (!is_dir && has_image_extension(name)))
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, compare_strings);
    return names;
}

static const char *display_name(const char *folder, gboolean imagenette)
{
    if (imagenette)
        for (gsize i = 0; i < G_N_ELEMENTS(imagenette_names); i++)
            if (strcmp(folder, imagenette_names[i][0]) == 0)
                return imagenette_names[i][1];
    return folder;
}

static int find_class(const ImageFolder *ds, const char *folder)
{
    for (guint i = 0; i < ds->folders->len; i++)
        if (strcmp(g_ptr_array_index(ds->folders, i), folder) == 0)
            return (int)i;
    return -1;
}

/* Lists the images of one split folder. @explicit_classes: folders not among the classes are
 * skipped (a subset was asked for) rather than refused. */
static gboolean scan_split(ImageFolder *ds, FolderSplit *split, const char *split_dir,
                           const char *split_folder, gboolean explicit_classes,
                           const PvxParams *params, GError **error)
{
    g_autoptr(GPtrArray) class_dirs = list_sorted(split_dir, TRUE, error);
    if (!class_dirs)
        return FALSE;
    split->items = g_array_new(FALSE, FALSE, sizeof(FolderItem));
    g_array_set_clear_func(split->items, folder_item_clear);
    /* Label order first, then file names: the item order does not depend on readdir order. */
    for (guint c = 0; c < ds->folders->len; c++) {
        const char *folder = g_ptr_array_index(ds->folders, c);
        g_autofree char *dir = g_build_filename(split_dir, folder, NULL);
        if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
            continue;
        g_autoptr(GPtrArray) files = list_sorted(dir, FALSE, error);
        if (!files)
            return FALSE;
        for (guint f = 0; f < files->len; f++) {
            const char *file = g_ptr_array_index(files, f);
            const char *dot = strrchr(file, '.');
            FolderItem it = {
                .path = g_build_filename(dir, file, NULL),
                .id = g_strdup_printf("%s/%s/%.*s", split_folder, folder, (int)(dot - file), file),
                .label = (int)c,
            };
            g_array_append_val(split->items, it);
        }
    }
    if (!explicit_classes) {
        for (guint i = 0; i < class_dirs->len; i++) {
            const char *folder = g_ptr_array_index(class_dirs, i);
            if (find_class(ds, folder) < 0) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                            "%s: %s/%s is a class folder the classes (from %s) do not have; list "
                            "the classes explicitly to use a subset",
                            pvx_params_where(params, "root"), split_dir, folder,
                            ds->splits[PVX_SPLIT_TRAIN].present ? "train" : "the first split");
                return FALSE;
            }
        }
    }
    return TRUE;
}

static gboolean read_stats(const PvxParams *params, const char *name, float out[3], GError **error)
{
    gsize n = 0;
    const double *v = pvx_params_get_double_list(params, name, &n);
    if (n != 3) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                    "%s: %s needs 3 values (R, G, B), got %" G_GSIZE_FORMAT,
                    pvx_params_where(params, name), name, n);
        return FALSE;
    }
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, "std") == 0 && !(v[i] > 0.0)) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE, "%s: std values must be > 0",
                        pvx_params_where(params, name));
            return FALSE;
        }
        out[i] = (float)v[i];
    }
    return TRUE;
}

static const char *const split_folders[PVX_SPLIT_COUNT][2] = {
    {"train", NULL},
    {"val", "validation"},
    {"test", NULL},
};

static gpointer imagefolder_open(const PvxParams *params, GError **error)
{
    const char *root = pvx_params_get_string(params, "root");
    if (!root || !g_file_test(root, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND, "%s: root %s is not a folder",
                    pvx_params_where(params, "root"), root ? root : "(unset)");
        return NULL;
    }
    char *split_dirs[PVX_SPLIT_COUNT] = {NULL};
    const char *split_names[PVX_SPLIT_COUNT] = {NULL};
    ImageFolder *ds = g_new0(ImageFolder, 1);
    ds->root = g_strdup(root);
    ds->size = (int)pvx_params_get_int(params, "size");
    ds->resize = (int)pvx_params_get_int(params, "resize");
    if (!read_stats(params, "mean", ds->mean, error) || !read_stats(params, "std", ds->std, error))
        goto fail;

    int first = -1;
    for (int s = 0; s < PVX_SPLIT_COUNT; s++)
        for (int k = 0; k < 2 && split_folders[s][k] && !split_dirs[s]; k++) {
            char *dir = g_build_filename(root, split_folders[s][k], NULL);
            if (g_file_test(dir, G_FILE_TEST_IS_DIR)) {
                split_dirs[s] = dir;
                split_names[s] = split_folders[s][k];
                ds->splits[s].present = TRUE;
                if (first < 0)
                    first = s;
            } else {
                g_free(dir);
            }
        }
    if (first < 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "%s: root %s has no split folder (train/, val/ or test/)",
                    pvx_params_where(params, "root"), root);
        goto fail;
    }

    gsize n_given = 0;
    const char *const *given = pvx_params_get_string_list(params, "classes", &n_given);
    ds->folders = g_ptr_array_new_with_free_func(g_free);
    if (n_given > 0) {
        for (gsize i = 0; i < n_given; i++) {
            if (find_class(ds, given[i]) >= 0) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                            "%s: class '%s' appears twice", pvx_params_where(params, "classes"),
                            given[i]);
                goto fail;
            }
            g_ptr_array_add(ds->folders, g_strdup(given[i]));
        }
    } else {
        g_autoptr(GPtrArray) found = list_sorted(split_dirs[first], TRUE, error);
        if (!found)
            goto fail;
        for (guint i = 0; i < found->len; i++)
            g_ptr_array_add(ds->folders, g_strdup(g_ptr_array_index(found, i)));
        if (ds->folders->len == 0) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                        "%s: root %s: %s has no class folders", pvx_params_where(params, "root"),
                        root, split_dirs[first]);
            goto fail;
        }
    }
    gboolean imagenette =
        g_strcmp0(pvx_params_get_string(params, "label_names"), "imagenette") == 0;
    ds->names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < ds->folders->len; i++)
        g_ptr_array_add(ds->names,
                        g_strdup(display_name(g_ptr_array_index(ds->folders, i), imagenette)));

    int64_t total = 0;
    for (int s = 0; s < PVX_SPLIT_COUNT; s++) {
        if (!ds->splits[s].present)
            continue;
        if (!scan_split(ds, &ds->splits[s], split_dirs[s], split_names[s], n_given > 0, params,
                        error))
            goto fail;
        total += ds->splits[s].items->len;
    }
    if (n_given > 0) {
        for (guint c = 0; c < ds->folders->len; c++) {
            gboolean seen = FALSE;
            for (int s = 0; s < PVX_SPLIT_COUNT && !seen; s++)
                for (guint i = 0; ds->splits[s].present && i < ds->splits[s].items->len && !seen;
                     i++)
                    seen = g_array_index(ds->splits[s].items, FolderItem, i).label == (int)c;
            if (!seen) {
                g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                            "%s: class '%s' has no images in any split under %s",
                            pvx_params_where(params, "classes"),
                            (const char *)g_ptr_array_index(ds->folders, c), root);
                goto fail;
            }
        }
    }
    if (total == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "%s: root %s holds no .jpeg/.jpg/.png images in <split>/<class>/",
                    pvx_params_where(params, "root"), root);
        goto fail;
    }
    g_debug("%s: %u classes, train %d, val %d, test %d", root, ds->folders->len,
            ds->splits[0].present ? (int)ds->splits[0].items->len : -1,
            ds->splits[1].present ? (int)ds->splits[1].items->len : -1,
            ds->splits[2].present ? (int)ds->splits[2].items->len : -1);
    for (int s = 0; s < PVX_SPLIT_COUNT; s++)
        g_free(split_dirs[s]);
    return ds;

fail:
    for (int s = 0; s < PVX_SPLIT_COUNT; s++)
        g_free(split_dirs[s]);
    imagefolder_close(ds);
    return NULL;
}

static int imagefolder_num_classes(gpointer self)
{
    return (int)((ImageFolder *)self)->names->len;
}

static const char *imagefolder_class_name(gpointer self, int index)
{
    ImageFolder *ds = self;
    g_return_val_if_fail(index >= 0 && (guint)index < ds->names->len, NULL);
    return g_ptr_array_index(ds->names, index);
}

static int64_t imagefolder_split_size(gpointer self, PvxSplit split)
{
    ImageFolder *ds = self;
    if ((int)split < 0 || split >= PVX_SPLIT_COUNT || !ds->splits[split].present)
        return -1;
    return ds->splits[split].items->len;
}

static void imagefolder_item_shape(gpointer self, int64_t chw[3])
{
    ImageFolder *ds = self;
    chw[0] = 3;
    chw[1] = ds->size;
    chw[2] = ds->size;
}

static gboolean imagefolder_has_masks(gpointer self)
{
    (void)self;
    return FALSE;
}

static gboolean imagefolder_get_item(gpointer self, PvxSplit split, int64_t index,
                                     PvxDatasetItem *item, GError **error)
{
    ImageFolder *ds = self;
    if (imagefolder_split_size(ds, split) <= index || index < 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "no item %" G_GINT64_FORMAT " in split %s of %s", index, pvx_split_name(split),
                    ds->root);
        return FALSE;
    }
    const FolderItem *it = &g_array_index(ds->splits[split].items, FolderItem, index);
    g_autoptr(PvxImage) loaded = pvx_image_load(it->path, error);
    if (!loaded)
        return FALSE; /* the message names the file */
    g_autoptr(PvxImage) rgb = pvx_image_convert(loaded, 3);
    g_autoptr(PvxImage) resized =
        ds->resize > 0 ? pvx_image_resize_shorter(rgb, ds->resize) : g_steal_pointer(&rgb);
    PvxImage *crop = pvx_image_center_crop(resized, ds->size, ds->size);
    item->image = pvx_image_to_tensor(crop, ds->mean, ds->std);
    item->raw = crop;
    item->label = it->label;
    item->mask = NULL;
    item->id = g_strdup(it->id);
    return TRUE;
}

/* Labels come from the folder names listed at open, so selecting items by class reads no image. */
static int imagefolder_item_label(gpointer self, PvxSplit split, int64_t index)
{
    ImageFolder *ds = self;
    if (index < 0 || imagefolder_split_size(ds, split) <= index)
        return -1;
    return g_array_index(ds->splits[split].items, FolderItem, index).label;
}

static const char *const label_name_choices[] = {"folder", "imagenette", NULL};

static const PvxParamSpec imagefolder_params[] = {
    {"root", PVX_PARAM_PATH, NULL, PVX_PARAM_REQUIRED, 0, 0, NULL,
     "folder holding train/, val/ and/or test/, each with one folder of images per class"},
    {"classes", PVX_PARAM_STRING_LIST, "[]", 0, 0, 0, NULL,
     "class folder names by label; [] means the sorted folders of train/ (or the first split)"},
    {"size", PVX_PARAM_INT, "224", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 8192, NULL,
     "side of the square centre crop, in pixels"},
    {"resize", PVX_PARAM_INT, "256", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 0, 8192, NULL,
     "shorter side after the bilinear resize, before the crop (0 = no resize)"},
    {"mean", PVX_PARAM_DOUBLE_LIST, "[0.485, 0.456, 0.406]", 0, 0, 0, NULL,
     "per-channel mean of value/255 (ImageNet's by default)"},
    {"std", PVX_PARAM_DOUBLE_LIST, "[0.229, 0.224, 0.225]", 0, 0, 0, NULL,
     "per-channel std of value/255 (ImageNet's by default)"},
    {"label_names", PVX_PARAM_CHOICE, "imagenette", 0, 0, 0, label_name_choices,
     "class names: the folder names, or Imagenette's WordNet ids mapped to readable names"},
    PVX_PARAM_SPEC_END,
};

static const PvxDatasetClass imagefolder_class = {
    .size = sizeof(PvxDatasetClass),
    .open = imagefolder_open,
    .close = imagefolder_close,
    .num_classes = imagefolder_num_classes,
    .class_name = imagefolder_class_name,
    .split_size = imagefolder_split_size,
    .item_shape = imagefolder_item_shape,
    .has_masks = imagefolder_has_masks,
    .get_item = imagefolder_get_item,
    .item_label = imagefolder_item_label,
};

PVX_PLUGIN_DEFINE(PVX_KIND_DATASET, "imagefolder", "1.0.0",
                  "ImageNet/Imagenette-style folders of JPEG/PNG images, one folder per class",
                  imagefolder_params, &imagefolder_class)
