/* pvx dataset plugin "idx": MNIST-style IDX files (MNIST, Fashion-MNIST, KMNIST, ...).
 *
 * Reads <root>/<prefix>-images-idx3-ubyte[.gz] and <root>/<prefix>-labels-idx1-ubyte[.gz] for
 * the train and test prefixes, gzipped or raw (zlib reads both; gzip is recognised by its magic
 * bytes 1f 8b, not by the name). Everything is loaded and checked at open, so get_item only reads
 * immutable memory and is safe from any number of threads.
 *
 * IDX layout (big-endian): 2 zero bytes, a type byte (0x08 = uint8), the number of dimensions,
 * then one uint32 per dimension, then the data in row-major order. Images are 0x00000803
 * (N×H×W), labels 0x00000801 (N).
 *
 * Normalisation defaults are Fashion-MNIST's train-split statistics over all 60000×28×28 pixels
 * (value/255): mean 0.28604, population std 0.35302 (the test
 * idx_fashion_mnist_train_statistics_match_defaults recomputes them from the files).
 */
#include <errno.h>
#include <string.h>
#include <zlib.h>

#include <pvx/pvx.h>

/* Decompressed IDX payloads are capped well above any real IDX file so a corrupt header cannot
 * make us allocate absurd amounts of memory. */
#define IDX_MAX_BYTES ((guint64)1 << 33)

static const char *const fashion_mnist_classes[] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};

typedef struct {
    uint8_t *pixels; /* n × h × w */
    uint8_t *labels; /* n */
    int64_t n;       /* items exposed (after the limit) */
    int64_t n_file;  /* items in the files, all of which are checked */
    char *labels_path;
} IdxSplit;

typedef struct {
    IdxSplit train, test;
    int height, width;
    float mean, std;
    GPtrArray *class_names; /* char* */
} IdxDataset;

/* One decoded IDX file. */
typedef struct {
    int ndim;
    guint64 dims[3];
    uint8_t *data; /* product(dims) bytes, g_malloc'd */
} IdxFile;

static void idx_file_clear(IdxFile *f)
{
    g_clear_pointer(&f->data, g_free);
}

static char *dims_string(int ndim, const guint64 *dims)
{
    GString *s = g_string_new(NULL);
    for (int i = 0; i < ndim; i++)
        g_string_append_printf(s, "%s%" G_GUINT64_FORMAT, i ? "×" : "", dims[i]);
    return g_string_free(s, FALSE);
}

/* Reads up to @len bytes; returns the count read, or -1 with @error set on a zlib/OS error.
 * A gzip stream that ends early is reported as a short read, so the caller can say "truncated"
 * with the numbers. */
static gint64 read_fully(gzFile gz, const char *path, uint8_t *buf, guint64 len, gboolean *cut,
                         GError **error)
{
    guint64 got = 0;
    *cut = FALSE;
    while (got < len) {
        unsigned chunk = (unsigned)MIN(len - got, (guint64)1 << 30);
        int r = gzread(gz, buf + got, chunk);
        if (r < 0) {
            int zerr = 0;
            const char *msg = gzerror(gz, &zerr);
            if (zerr == Z_BUF_ERROR) {
                /* zlib's word for "the compressed stream ended before its end marker". */
                *cut = TRUE;
                return (gint64)got;
            }
            g_set_error(error, PVX_ERROR, zerr == Z_ERRNO ? PVX_ERROR_IO : PVX_ERROR_FORMAT,
                        "%s: cannot read: %s", path, zerr == Z_ERRNO ? g_strerror(errno) : msg);
            return -1;
        }
        if (r == 0) {
            int zerr = 0;
            gzerror(gz, &zerr);
            *cut = zerr == Z_BUF_ERROR;
            break;
        }
        got += (guint64)r;
    }
    return (gint64)got;
}

/* Loads one IDX file of unsigned bytes with @want_ndim dimensions. */
static gboolean idx_file_load(const char *path, int want_ndim, const char *what, IdxFile *out,
                              GError **error)
{
    memset(out, 0, sizeof *out);
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        int e = errno;
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "%s: cannot open: %s", path,
                    e ? g_strerror(e) : "out of memory");
        return FALSE;
    }
    gzbuffer(gz, 1 << 18);
    gboolean ok = FALSE;
    gboolean cut = FALSE;
    uint8_t head[4 + 4 * 3];
    guint32 want_magic = 0x00000800u | (guint32)want_ndim;

    gint64 got = read_fully(gz, path, head, 4, &cut, error);
    if (got < 0)
        goto out;
    if (got < 4) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                    "%s: truncated: %" G_GINT64_FORMAT " bytes, too short for an IDX header%s",
                    path, got, cut ? " (gzip stream cut short)" : "");
        goto out;
    }
    guint32 magic =
        ((guint32)head[0] << 24) | ((guint32)head[1] << 16) | ((guint32)head[2] << 8) | head[3];
    if (magic != want_magic) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                    "%s: wrong magic 0x%08x, expected 0x%08x (IDX, unsigned bytes, %d dimension%s: "
                    "%s)",
                    path, magic, want_magic, want_ndim, want_ndim == 1 ? "" : "s", what);
        goto out;
    }
    got = read_fully(gz, path, head + 4, 4 * (guint64)want_ndim, &cut, error);
    if (got < 0)
        goto out;
    if (got < 4 * want_ndim) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                    "%s: truncated: the header ends after %" G_GINT64_FORMAT
                    " of %d dimension bytes",
                    path, got, 4 * want_ndim);
        goto out;
    }
    guint64 total = 1;
    out->ndim = want_ndim;
    for (int i = 0; i < want_ndim; i++) {
        const uint8_t *b = head + 4 + 4 * i;
        out->dims[i] = ((guint64)b[0] << 24) | ((guint64)b[1] << 16) | ((guint64)b[2] << 8) | b[3];
        if (out->dims[i] == 0) {
            g_autofree char *d = dims_string(want_ndim, out->dims);
            g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT, "%s: empty: the header says %s %s",
                        path, d, what);
            goto out;
        }
        total *= out->dims[i];
        if (total > IDX_MAX_BYTES) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                        "%s: implausible header: dimensions describe more than %" G_GUINT64_FORMAT
                        " bytes",
                        path, (guint64)IDX_MAX_BYTES);
            goto out;
        }
    }
    out->data = g_try_malloc(total);
    if (!out->data) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO,
                    "%s: cannot allocate %" G_GUINT64_FORMAT " bytes", path, total);
        goto out;
    }
    got = read_fully(gz, path, out->data, total, &cut, error);
    if (got < 0)
        goto out;
    if ((guint64)got < total) {
        g_autofree char *d = dims_string(want_ndim, out->dims);
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                    "%s: truncated: header promises %s bytes, file holds %" G_GINT64_FORMAT "%s",
                    path, d, got, cut ? " (gzip stream cut short)" : "");
        goto out;
    }
    /* Trailing bytes mean the header and the data disagree: better refuse than guess. */
    uint8_t extra;
    got = read_fully(gz, path, &extra, 1, &cut, error);
    if (got < 0)
        goto out;
    if (got > 0) {
        g_autofree char *d = dims_string(want_ndim, out->dims);
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT, "%s: more data than the header's %s bytes",
                    path, d);
        goto out;
    }
    ok = TRUE;
out : {
    int rc = gzclose_r(gz);
    if (ok && rc != Z_OK) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT, "%s: corrupt gzip stream (zlib %d)", path,
                    rc);
        ok = FALSE;
    }
}
    if (!ok)
        idx_file_clear(out);
    return ok;
}

/* <root>/<prefix>-<kind>-idx<d>-ubyte, raw first, then .gz. */
static char *find_file(const char *root, const char *prefix, const char *kind, int ndim,
                       GError **error)
{
    g_autofree char *base = g_strdup_printf("%s-%s-idx%d-ubyte", prefix, kind, ndim);
    g_autofree char *raw = g_build_filename(root, base, NULL);
    if (g_file_test(raw, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer(&raw);
    char *gz = g_strconcat(raw, ".gz", NULL);
    if (g_file_test(gz, G_FILE_TEST_IS_REGULAR))
        return gz;
    g_free(gz);
    g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND, "%s: no %s-%s-idx%d-ubyte or %s.gz there",
                root, prefix, kind, ndim, base);
    return NULL;
}

static gboolean load_split(const char *root, const char *prefix, int64_t limit, IdxSplit *split,
                           int *height, int *width, GError **error)
{
    g_autofree char *img_path = find_file(root, prefix, "images", 3, error);
    if (!img_path)
        return FALSE;
    g_autofree char *lab_path = find_file(root, prefix, "labels", 1, error);
    if (!lab_path)
        return FALSE;

    IdxFile img = {0}, lab = {0};
    if (!idx_file_load(img_path, 3, "images N×H×W", &img, error))
        return FALSE;
    if (!idx_file_load(lab_path, 1, "labels N", &lab, error)) {
        idx_file_clear(&img);
        return FALSE;
    }
    gboolean ok = FALSE;
    if (img.dims[0] != lab.dims[0]) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                    "%s holds %" G_GUINT64_FORMAT " labels but %s holds %" G_GUINT64_FORMAT
                    " images",
                    lab_path, lab.dims[0], img_path, img.dims[0]);
        goto out;
    }
    if (img.dims[1] > G_MAXINT || img.dims[2] > G_MAXINT) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                    "%s: images of %" G_GUINT64_FORMAT "×%" G_GUINT64_FORMAT
                    " pixels are too large",
                    img_path, img.dims[1], img.dims[2]);
        goto out;
    }
    if (*height == 0) {
        *height = (int)img.dims[1];
        *width = (int)img.dims[2];
    } else if (img.dims[1] != (guint64)*height || img.dims[2] != (guint64)*width) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                    "%s: images are %" G_GUINT64_FORMAT "×%" G_GUINT64_FORMAT
                    " but the train split's are %d×%d",
                    img_path, img.dims[1], img.dims[2], *height, *width);
        goto out;
    }
    split->n = split->n_file = (int64_t)img.dims[0];
    if (limit > 0 && limit < split->n)
        split->n = limit;
    split->pixels = g_steal_pointer(&img.data);
    split->labels = g_steal_pointer(&lab.data);
    split->labels_path = g_steal_pointer(&lab_path);
    g_debug("%s: %" G_GUINT64_FORMAT " items of %d×%d, using %" G_GINT64_FORMAT, img_path,
            img.dims[0], *height, *width, split->n);
    ok = TRUE;
out:
    idx_file_clear(&img);
    idx_file_clear(&lab);
    return ok;
}

/* Every label of @split, beyond the limit too, must name a class; the first offender is reported
 * with its file. */
static gboolean check_labels(const IdxSplit *split, int n_classes, const char *classes_where,
                             GError **error)
{
    for (int64_t i = 0; i < split->n_file; i++) {
        if (split->labels[i] >= n_classes) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                        "%s: label %d of item %" G_GINT64_FORMAT
                        " is not below the %d classes (%s)",
                        split->labels_path, split->labels[i], i, n_classes, classes_where);
            return FALSE;
        }
    }
    return TRUE;
}

static void idx_close(gpointer self)
{
    IdxDataset *ds = self;
    if (!ds)
        return;
    g_free(ds->train.pixels);
    g_free(ds->train.labels);
    g_free(ds->test.pixels);
    g_free(ds->test.labels);
    g_free(ds->train.labels_path);
    g_free(ds->test.labels_path);
    if (ds->class_names)
        g_ptr_array_unref(ds->class_names);
    g_free(ds);
}

static gpointer idx_open(const PvxParams *params, GError **error)
{
    const char *root = pvx_params_get_string(params, "root");
    const char *prefix_train = pvx_params_get_string(params, "prefix_train");
    const char *prefix_test = pvx_params_get_string(params, "prefix_test");
    gsize n_given = 0;
    const char *const *given = pvx_params_get_string_list(params, "classes", &n_given);

    g_autofree char *classes_where = NULL;
    IdxDataset *ds = g_new0(IdxDataset, 1);
    ds->mean = (float)pvx_params_get_double(params, "mean");
    ds->std = (float)pvx_params_get_double(params, "std");
    if (!(ds->std > 0.0f)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE, "%s: std must be positive, not %g",
                    pvx_params_where(params, "std"), pvx_params_get_double(params, "std"));
        goto fail;
    }
    if (!g_file_test(root, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND, "%s: root %s is not a folder",
                    pvx_params_where(params, "root"), root);
        goto fail;
    }
    if (!load_split(root, prefix_train, pvx_params_get_int(params, "limit_train"), &ds->train,
                    &ds->height, &ds->width, error) ||
        !load_split(root, prefix_test, pvx_params_get_int(params, "limit_test"), &ds->test,
                    &ds->height, &ds->width, error))
        goto fail;

    ds->class_names = g_ptr_array_new_with_free_func(g_free);
    if (n_given == 0) {
        for (gsize i = 0; i < G_N_ELEMENTS(fashion_mnist_classes); i++)
            g_ptr_array_add(ds->class_names, g_strdup(fashion_mnist_classes[i]));
        classes_where = g_strdup("Fashion-MNIST's, as `classes` is empty");
    } else {
        for (gsize i = 0; i < n_given; i++) {
            for (gsize j = 0; j < i; j++) {
                if (strcmp(given[i], given[j]) == 0) {
                    g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                                "%s: class name '%s' appears twice",
                                pvx_params_where(params, "classes"), given[i]);
                    goto fail;
                }
            }
            g_ptr_array_add(ds->class_names, g_strdup(given[i]));
        }
        classes_where = g_strdup_printf("`classes` at %s", pvx_params_where(params, "classes"));
    }
    int n_classes = (int)ds->class_names->len;
    if (!check_labels(&ds->train, n_classes, classes_where, error) ||
        !check_labels(&ds->test, n_classes, classes_where, error))
        goto fail;
    if (n_given > 0) {
        /* A list longer than the labels reach would invent classes no item has. */
        int max_label = 0;
        for (int64_t i = 0; i < ds->train.n_file; i++)
            max_label = MAX(max_label, ds->train.labels[i]);
        for (int64_t i = 0; i < ds->test.n_file; i++)
            max_label = MAX(max_label, ds->test.labels[i]);
        if (max_label + 1 != n_classes) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_RANGE,
                        "%s: `classes` names %d classes but the labels in %s run from 0 to %d",
                        pvx_params_where(params, "classes"), n_classes, root, max_label);
            goto fail;
        }
    }
    return ds;
fail:
    idx_close(ds);
    return NULL;
}

static int idx_num_classes(gpointer self)
{
    return (int)((IdxDataset *)self)->class_names->len;
}

static const char *idx_class_name(gpointer self, int index)
{
    IdxDataset *ds = self;
    g_return_val_if_fail(index >= 0 && (guint)index < ds->class_names->len, NULL);
    return g_ptr_array_index(ds->class_names, index);
}

static const IdxSplit *split_of(IdxDataset *ds, PvxSplit split)
{
    switch (split) {
    case PVX_SPLIT_TRAIN:
        return &ds->train;
    case PVX_SPLIT_TEST:
        return &ds->test;
    default:
        return NULL; /* IDX sets ship no validation split */
    }
}

static int64_t idx_split_size(gpointer self, PvxSplit split)
{
    const IdxSplit *s = split_of(self, split);
    return s ? s->n : -1;
}

static void idx_item_shape(gpointer self, int64_t chw[3])
{
    IdxDataset *ds = self;
    chw[0] = 1;
    chw[1] = ds->height;
    chw[2] = ds->width;
}

static gboolean idx_has_masks(gpointer self)
{
    (void)self;
    return FALSE;
}

static int idx_item_label(gpointer self, PvxSplit split, int64_t index)
{
    const IdxSplit *s = split_of(self, split);
    return s && index >= 0 && index < s->n ? s->labels[index] : -1;
}

static gboolean idx_get_item(gpointer self, PvxSplit split, int64_t index, PvxDatasetItem *item,
                             GError **error)
{
    IdxDataset *ds = self;
    const IdxSplit *s = split_of(ds, split);
    if (!s || index < 0 || index >= s->n) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "no item %" G_GINT64_FORMAT " in split %s", index, pvx_split_name(split));
        return FALSE;
    }
    size_t npix = (size_t)ds->height * (size_t)ds->width;
    const uint8_t *src = s->pixels + (size_t)index * npix;

    PvxImage *raw = pvx_image_new(ds->width, ds->height, 1);
    memcpy(raw->data, src, npix);
    PvxTensor *image = pvx_tensor_new_shape(3, (int64_t)1, (int64_t)ds->height, (int64_t)ds->width);
    for (size_t i = 0; i < npix; i++)
        image->data[i] = ((float)src[i] / 255.0f - ds->mean) / ds->std;

    item->image = image;
    item->raw = raw;
    item->label = s->labels[index];
    item->mask = NULL;
    item->id = g_strdup_printf("%s-%06" G_GINT64_FORMAT, pvx_split_name(split), index);
    return TRUE;
}

static const PvxParamSpec idx_params[] = {
    {"root", PVX_PARAM_PATH, "/usr/share/datasets/fashion-mnist", 0, 0, 0, NULL,
     "folder with <prefix>-images-idx3-ubyte[.gz] and <prefix>-labels-idx1-ubyte[.gz]"},
    {"prefix_train", PVX_PARAM_STRING, "train", 0, 0, 0, NULL, "file prefix of the train split"},
    {"prefix_test", PVX_PARAM_STRING, "t10k", 0, 0, 0, NULL, "file prefix of the test split"},
    {"classes", PVX_PARAM_STRING_LIST, "[]", 0, 0, 0, NULL,
     "one name per label value (0 .. largest label); [] means Fashion-MNIST's ten"},
    {"mean", PVX_PARAM_DOUBLE, "0.2860", 0, 0, 0, NULL,
     "normalisation mean of value/255 (Fashion-MNIST train: 0.28604)"},
    {"std", PVX_PARAM_DOUBLE, "0.3530", PVX_PARAM_HAS_MIN, 1e-6, 0, NULL,
     "normalisation std of value/255 (Fashion-MNIST train: 0.35302)"},
    {"limit_train", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "use only the first N train items (0 = all)"},
    {"limit_test", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL,
     "use only the first N test items (0 = all)"},
    PVX_PARAM_SPEC_END,
};

static const PvxDatasetClass idx_class = {
    .size = sizeof(PvxDatasetClass),
    .open = idx_open,
    .close = idx_close,
    .num_classes = idx_num_classes,
    .class_name = idx_class_name,
    .split_size = idx_split_size,
    .item_shape = idx_item_shape,
    .has_masks = idx_has_masks,
    .get_item = idx_get_item,
    .item_label = idx_item_label,
};

PVX_PLUGIN_DEFINE(PVX_KIND_DATASET, "idx", "1.0.0",
                  "MNIST-style IDX files (Fashion-MNIST by default), gzipped or raw", idx_params,
                  &idx_class)
