/* The run store's datasets (float32 tensors, uint8, int64, float64, UTF-8 strings) and
 * attributes (string, double, int) on groups and datasets. */
#include <string.h>

#include "store_private.h"

/* Closes every id that is >= 0 (ids start as -1) and clears what the closes pushed. */
static void close_ids(hid_t dset, hid_t space, hid_t type, hid_t plist)
{
    if (dset >= 0)
        H5Oclose(dset);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (plist >= 0)
        H5Pclose(plist);
}

/* Link creation properties of every pvx write: missing parents are created, names are UTF-8.
 * Made once under the lock and never closed, so no H5Pclose clears the stack of a failed create
 * before it is reported. */
static hid_t link_create_plist(void)
{
    static hid_t lcpl = -1;
    if (lcpl < 0) {
        lcpl = H5Pcreate(H5P_LINK_CREATE);
        H5Pset_create_intermediate_group(lcpl, 1);
        H5Pset_char_encoding(lcpl, H5T_CSET_UTF8);
    }
    return lcpl;
}

static hid_t new_utf8_string_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* Data set creation properties. Everything is stored contiguous and uncompressed: measured on
 * this project's data (docs/hdf5-layout.md, "Compression"), gzip made writes of float32 weights
 * several times slower for a few percent of space, and every commit copies the whole file, so
 * write speed matters more than size. Masks (uint8, mostly one value) are the exception:
 * they shrink by an order of magnitude at gzip level 1, so large ones are chunked and deflated. */
static hid_t new_dcpl(int ndim, const hsize_t *dims, size_t elem, gboolean compressible)
{
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hsize_t numel = 1;
    for (int d = 0; d < ndim; d++)
        numel *= dims[d];
    if (!compressible || ndim == 0 || numel * elem < (1u << 20))
        return dcpl;
    /* Chunks of about 1 MiB: whole rows of the innermost dimensions, split along the outer. */
    hsize_t chunk[H5S_MAX_RANK];
    hsize_t bytes = elem;
    for (int d = ndim - 1; d >= 0; d--) {
        hsize_t room = MAX((hsize_t)1, ((hsize_t)1 << 20) / bytes);
        chunk[d] = MIN(dims[d], room);
        bytes *= chunk[d];
    }
    H5Pset_chunk(dcpl, ndim, chunk);
    H5Pset_deflate(dcpl, 1);
    return dcpl;
}

static gboolean shape_to_dims(const PvxStore *store, const char *path, int ndim,
                              const int64_t *shape, hsize_t *dims, GError **error)
{
    if (ndim < 0 || ndim > H5S_MAX_RANK || (ndim > 0 && !shape)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: cannot write '%s': invalid number of dimensions %d", store->path, path,
                    ndim);
        return FALSE;
    }
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) {
            g_autofree char *s = pvx_shape_string(ndim, shape);
            g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                        "%s: cannot write '%s': invalid shape %s", store->path, path, s);
            return FALSE;
        }
        dims[d] = (hsize_t)shape[d];
    }
    return TRUE;
}

/* Creates (replacing) the dataset at @path and writes @data; the caller holds the lock. */
static gboolean write_dataset(PvxStore *store, const char *path, hid_t file_type, hid_t mem_type,
                              int ndim, const hsize_t *dims, const void *data,
                              gboolean compressible, GError **error)
{
    if (!pvx_store_check_path(store, path, FALSE, error) ||
        !pvx_store_check_writable(store, path, error))
        return FALSE;
    if (pvx_store_path_exists(store->file, path) && H5Ldelete(store->file, path, H5P_DEFAULT) < 0) {
        pvx_store_set_h5_error(error, store, PVX_ERROR_IO, "replace", path);
        return FALSE;
    }
    hsize_t numel = 1;
    for (int d = 0; d < ndim; d++)
        numel *= dims[d];
    hid_t space = ndim == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(ndim, dims, NULL);
    hid_t dcpl = new_dcpl(ndim, dims, H5Tget_size(file_type), compressible);
    hid_t dset =
        H5Dcreate2(store->file, path, file_type, space, link_create_plist(), dcpl, H5P_DEFAULT);
    gboolean ok = dset >= 0 && (numel == 0 ||
                                H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    if (!ok)
        pvx_store_set_h5_error(error, store, PVX_ERROR_IO, "write", path);
    close_ids(dset, space, -1, dcpl);
    return ok;
}

typedef enum { WANT_NUMBER, WANT_INTEGER } Want;

/* Opens the dataset at @path and reads its shape (at most PVX_TENSOR_MAX_DIMS dimensions);
 * checks the element type. Returns the dataset id, -1 + error on failure. */
static hid_t open_dataset(PvxStore *store, const char *path, Want want, int *ndim, int64_t *shape,
                          hsize_t *numel, GError **error)
{
    hid_t dset = pvx_store_open_object(store, path, "read", error);
    if (dset < 0)
        return -1;
    if (H5Iget_type(dset) != H5I_DATASET) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: cannot read '%s': it is a group, not a dataset", store->path, path);
        H5Oclose(dset);
        return -1;
    }
    hid_t type = H5Dget_type(dset);
    H5T_class_t cls = H5Tget_class(type);
    H5Tclose(type);
    gboolean type_ok = cls == H5T_INTEGER || (want == WANT_NUMBER && cls == H5T_FLOAT);
    hid_t space = H5Dget_space(dset);
    int n = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dims[H5S_MAX_RANK];
    if (n < 0)
        pvx_store_set_h5_error(error, store, PVX_ERROR_FORMAT, "read", path);
    else
        H5Sget_simple_extent_dims(space, dims, NULL);
    if (space >= 0)
        H5Sclose(space);
    if (n < 0) {
        /* reported above, before H5Sclose could clear the stack */
    } else if (!type_ok) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                    "%s: cannot read '%s': its element type is not %s", store->path, path,
                    want == WANT_INTEGER ? "an integer" : "a number");
    } else if (n > PVX_TENSOR_MAX_DIMS) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "%s: cannot read '%s': it has %d dimensions, at most %d are supported",
                    store->path, path, n, PVX_TENSOR_MAX_DIMS);
    } else {
        *ndim = n;
        *numel = 1;
        for (int d = 0; d < n; d++) {
            shape[d] = (int64_t)dims[d];
            *numel *= dims[d];
        }
        return dset;
    }
    H5Oclose(dset);
    return -1;
}

static gboolean read_all(PvxStore *store, const char *path, hid_t dset, hid_t mem_type,
                         hsize_t numel, void *buf, GError **error)
{
    if (numel == 0 || H5Dread(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0)
        return TRUE;
    pvx_store_set_h5_error(error, store, PVX_ERROR_FORMAT, "read", path);
    return FALSE;
}

/* Reads a whole numeric dataset converted to @mem_type into a new buffer. */
static void *read_numeric(PvxStore *store, const char *path, hid_t mem_type, Want want,
                          int *ndim_out, int64_t *shape_out, GError **error)
{
    g_return_val_if_fail(store != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    pvx_store_hdf5_lock();
    int ndim = 0;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    hsize_t numel = 0;
    void *buf = NULL;
    hid_t dset = open_dataset(store, path, want, &ndim, shape, &numel, error);
    if (dset >= 0) {
        size_t elem = H5Tget_size(mem_type);
        buf = g_malloc(MAX((size_t)numel * elem, 1));
        if (!read_all(store, path, dset, mem_type, numel, buf, error))
            g_clear_pointer(&buf, g_free);
        H5Oclose(dset);
    }
    pvx_store_hdf5_unlock();
    if (buf && ndim_out)
        *ndim_out = ndim;
    if (buf && shape_out && ndim > 0)
        memcpy(shape_out, shape, (size_t)ndim * sizeof(int64_t));
    return buf;
}

static gboolean write_numeric(PvxStore *store, const char *path, hid_t file_type, hid_t mem_type,
                              int ndim, const int64_t *shape, const void *data,
                              gboolean compressible, GError **error)
{
    g_return_val_if_fail(store != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    hsize_t dims[H5S_MAX_RANK];
    if (!shape_to_dims(store, path, ndim, shape, dims, error))
        return FALSE;
    pvx_store_hdf5_lock();
    gboolean ok =
        write_dataset(store, path, file_type, mem_type, ndim, dims, data, compressible, error);
    pvx_store_hdf5_unlock();
    return ok;
}

/* ---- tensors --------------------------------------------------------------------------- */

gboolean pvx_store_write_tensor(PvxStore *store, const char *path, const PvxTensor *t,
                                GError **error)
{
    g_return_val_if_fail(t != NULL, FALSE);
    g_autoptr(PvxTensor) contiguous = pvx_tensor_is_contiguous(t) ? NULL : pvx_tensor_copy(t);
    const PvxTensor *src = contiguous ? contiguous : t;
    return write_numeric(store, path, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, src->ndim, src->shape,
                         src->data, FALSE, error);
}

PvxTensor *pvx_store_read_tensor(PvxStore *store, const char *path, GError **error)
{
    g_return_val_if_fail(store != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    pvx_store_hdf5_lock();
    int ndim = 0;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    hsize_t numel = 0;
    PvxTensor *t = NULL;
    hid_t dset = open_dataset(store, path, WANT_NUMBER, &ndim, shape, &numel, error);
    if (dset >= 0) {
        t = pvx_tensor_new(ndim, shape);
        if (!read_all(store, path, dset, H5T_NATIVE_FLOAT, numel, t->data, error))
            g_clear_pointer(&t, pvx_tensor_unref);
        H5Oclose(dset);
    }
    pvx_store_hdf5_unlock();
    return t;
}

gboolean pvx_store_read_tensor_into(PvxStore *store, const char *path, PvxTensor *t, GError **error)
{
    g_return_val_if_fail(store != NULL && t != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    pvx_store_hdf5_lock();
    int ndim = 0;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    hsize_t numel = 0;
    gboolean ok = FALSE;
    hid_t dset = open_dataset(store, path, WANT_NUMBER, &ndim, shape, &numel, error);
    if (dset >= 0) {
        if (ndim != t->ndim || memcmp(shape, t->shape, (size_t)ndim * sizeof(int64_t)) != 0) {
            g_autofree char *have = pvx_shape_string(ndim, shape);
            g_autofree char *want = pvx_tensor_shape_string(t);
            g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                        "%s: cannot read '%s': the dataset has shape %s, the tensor %s",
                        store->path, path, have, want);
        } else if (pvx_tensor_is_contiguous(t)) {
            ok = read_all(store, path, dset, H5T_NATIVE_FLOAT, numel, t->data, error);
        } else {
            g_autoptr(PvxTensor) tmp = pvx_tensor_new(ndim, shape);
            ok = read_all(store, path, dset, H5T_NATIVE_FLOAT, numel, tmp->data, error) &&
                 pvx_tensor_copy_into(t, tmp, error);
        }
        H5Oclose(dset);
    }
    pvx_store_hdf5_unlock();
    return ok;
}

/* ---- uint8, int64, float64 ------------------------------------------------------------- */

gboolean pvx_store_write_u8(PvxStore *store, const char *path, int ndim, const int64_t *shape,
                            const uint8_t *data, GError **error)
{
    return write_numeric(store, path, H5T_STD_U8LE, H5T_NATIVE_UINT8, ndim, shape, data, TRUE,
                         error);
}

uint8_t *pvx_store_read_u8(PvxStore *store, const char *path, int *ndim_out, int64_t *shape_out,
                           GError **error)
{
    return read_numeric(store, path, H5T_NATIVE_UINT8, WANT_INTEGER, ndim_out, shape_out, error);
}

gboolean pvx_store_write_i64(PvxStore *store, const char *path, int ndim, const int64_t *shape,
                             const int64_t *data, GError **error)
{
    return write_numeric(store, path, H5T_STD_I64LE, H5T_NATIVE_INT64, ndim, shape, data, FALSE,
                         error);
}

int64_t *pvx_store_read_i64(PvxStore *store, const char *path, int *ndim_out, int64_t *shape_out,
                            GError **error)
{
    return read_numeric(store, path, H5T_NATIVE_INT64, WANT_INTEGER, ndim_out, shape_out, error);
}

gboolean pvx_store_write_f64(PvxStore *store, const char *path, int ndim, const int64_t *shape,
                             const double *data, GError **error)
{
    return write_numeric(store, path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, ndim, shape, data, FALSE,
                         error);
}

double *pvx_store_read_f64(PvxStore *store, const char *path, int *ndim_out, int64_t *shape_out,
                           GError **error)
{
    return read_numeric(store, path, H5T_NATIVE_DOUBLE, WANT_NUMBER, ndim_out, shape_out, error);
}

/* ---- strings --------------------------------------------------------------------------- */

gboolean pvx_store_write_strings(PvxStore *store, const char *path, const char *const *strv,
                                 GError **error)
{
    g_return_val_if_fail(store != NULL && strv != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    hsize_t n = g_strv_length((char **)strv);
    pvx_store_hdf5_lock();
    hid_t type = new_utf8_string_type();
    gboolean ok = write_dataset(store, path, type, type, 1, &n, strv, FALSE, error);
    H5Tclose(type);
    pvx_store_hdf5_unlock();
    return ok;
}

/* Reads @n strings of the string type @file_type (variable or fixed length) from @obj, a
 * dataset or (with @is_attr) an attribute. Returns: (transfer full) NULL-terminated. */
static char **read_string_values(PvxStore *store, const char *what, const char *path, hid_t obj,
                                 gboolean is_attr, hid_t file_type, hid_t space, hsize_t n,
                                 GError **error)
{
    char **out = g_new0(char *, n + 1);
    hid_t mem = H5Tcopy(H5T_C_S1);
    H5Tset_cset(mem, H5Tget_cset(file_type));
    herr_t r;
    if (H5Tis_variable_str(file_type) > 0) {
        H5Tset_size(mem, H5T_VARIABLE);
        char **raw = g_new0(char *, MAX(n, 1));
        r = is_attr ? H5Aread(obj, mem, raw)
                    : H5Dread(obj, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw);
        if (r < 0)
            pvx_store_set_h5_error(error, store, PVX_ERROR_FORMAT, what, path);
        for (hsize_t i = 0; r >= 0 && i < n; i++)
            out[i] = g_strdup(raw[i] ? raw[i] : "");
        if (r >= 0)
            H5Dvlen_reclaim(mem, space, H5P_DEFAULT, raw);
        g_free(raw);
    } else {
        size_t size = H5Tget_size(file_type);
        H5Tset_size(mem, size);
        H5Tset_strpad(mem, H5T_STR_NULLPAD);
        g_autofree char *raw = g_malloc0(MAX(n * size, 1));
        r = is_attr ? H5Aread(obj, mem, raw)
                    : H5Dread(obj, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw);
        if (r < 0)
            pvx_store_set_h5_error(error, store, PVX_ERROR_FORMAT, what, path);
        for (hsize_t i = 0; r >= 0 && i < n; i++)
            out[i] = g_strndup(raw + i * size, size);
    }
    H5Tclose(mem);
    if (r < 0)
        g_clear_pointer(&out, g_strfreev);
    return out;
}

char **pvx_store_read_strings(PvxStore *store, const char *path, GError **error)
{
    g_return_val_if_fail(store != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    pvx_store_hdf5_lock();
    char **out = NULL;
    hid_t dset = pvx_store_open_object(store, path, "read", error);
    hid_t type = -1, space = -1;
    if (dset >= 0 && H5Iget_type(dset) != H5I_DATASET) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: cannot read '%s': it is a group, not a dataset", store->path, path);
    } else if (dset >= 0) {
        type = H5Dget_type(dset);
        space = H5Dget_space(dset);
        if (H5Tget_class(type) != H5T_STRING || H5Sget_simple_extent_ndims(space) > 1) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                        "%s: cannot read '%s': it is not a 1-D dataset of strings", store->path,
                        path);
        } else {
            hssize_t n = H5Sget_simple_extent_npoints(space);
            out = read_string_values(store, "read", path, dset, FALSE, type, space,
                                     (hsize_t)MAX(n, 0), error);
        }
    }
    close_ids(dset, space, type, -1);
    pvx_store_hdf5_unlock();
    return out;
}

/* ---- attributes ------------------------------------------------------------------------ */

static gboolean set_attr(PvxStore *store, const char *path, const char *name, hid_t file_type,
                         hid_t mem_type, const void *value, GError **error)
{
    g_return_val_if_fail(store != NULL && name != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!pvx_store_check_path(store, path, TRUE, error))
        return FALSE;
    pvx_store_hdf5_lock();
    gboolean ok = FALSE;
    hid_t obj = -1, space = -1, attr = -1;
    if (!pvx_store_check_writable(store, path, error))
        goto out;
    if (!*name) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: cannot set an attribute of '%s': the name is empty", store->path, path);
        goto out;
    }
    if (pvx_store_path_exists(store->file, path))
        obj = H5Oopen(store->file, path, H5P_DEFAULT);
    else
        obj = H5Gcreate2(store->file, path, link_create_plist(), H5P_DEFAULT, H5P_DEFAULT);
    if (obj >= 0)
        space = H5Screate(H5S_SCALAR);
    ok = obj >= 0 && (H5Aexists(obj, name) <= 0 || H5Adelete(obj, name) >= 0) &&
         (attr = H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
         H5Awrite(attr, mem_type, value) >= 0;
    if (!ok) {
        g_autofree char *what = g_strdup_printf("set attribute '%s' on", name);
        pvx_store_set_h5_error(error, store, PVX_ERROR_IO, what, path);
    }
out:
    if (attr >= 0)
        H5Aclose(attr);
    close_ids(obj, space, -1, -1);
    pvx_store_hdf5_unlock();
    return ok;
}

gboolean pvx_store_set_attr_string(PvxStore *store, const char *path, const char *name,
                                   const char *value, GError **error)
{
    g_return_val_if_fail(value != NULL, FALSE);
    pvx_store_hdf5_lock();
    hid_t type = new_utf8_string_type();
    gboolean ok = set_attr(store, path, name, type, type, &value, error);
    H5Tclose(type);
    pvx_store_hdf5_unlock();
    return ok;
}

gboolean pvx_store_set_attr_double(PvxStore *store, const char *path, const char *name,
                                   double value, GError **error)
{
    return set_attr(store, path, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, error);
}

gboolean pvx_store_set_attr_int(PvxStore *store, const char *path, const char *name, int64_t value,
                                GError **error)
{
    return set_attr(store, path, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, error);
}

/* Opens attribute @name of the object at @path, checking that it holds one value of @cls
 * (H5T_FLOAT accepts integers too). The caller holds the lock. */
static hid_t open_attr(PvxStore *store, const char *path, const char *name, H5T_class_t cls,
                       GError **error)
{
    g_autofree char *what = g_strdup_printf("read attribute '%s' of", name);
    hid_t obj = pvx_store_open_object(store, path, what, error);
    if (obj < 0)
        return -1;
    hid_t attr = -1;
    htri_t e = H5Aexists(obj, name);
    if (e == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND, "%s: '%s' has no attribute '%s'",
                    store->path, path, name);
    } else if (e < 0 || (attr = H5Aopen(obj, name, H5P_DEFAULT)) < 0) {
        pvx_store_set_h5_error(error, store, PVX_ERROR_FORMAT, what, path);
    } else {
        hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
        H5T_class_t c = H5Tget_class(type);
        gboolean ok = (c == cls || (cls == H5T_FLOAT && c == H5T_INTEGER)) &&
                      H5Sget_simple_extent_npoints(space) == 1;
        close_ids(-1, space, type, -1);
        if (!ok) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                        "%s: attribute '%s' of '%s' is not a single %s", store->path, name, path,
                        cls == H5T_STRING    ? "string"
                        : cls == H5T_INTEGER ? "integer"
                                             : "number");
            H5Aclose(attr);
            attr = -1;
        }
    }
    H5Oclose(obj);
    return attr;
}

char *pvx_store_get_attr_string(PvxStore *store, const char *path, const char *name, GError **error)
{
    g_return_val_if_fail(store != NULL && name != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    pvx_store_hdf5_lock();
    char *value = NULL;
    hid_t attr = open_attr(store, path, name, H5T_STRING, error);
    if (attr >= 0) {
        hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
        g_autofree char *what = g_strdup_printf("read attribute '%s' of", name);
        char **v = read_string_values(store, what, path, attr, TRUE, type, space, 1, error);
        if (v) {
            value = g_steal_pointer(&v[0]);
            g_strfreev(v);
        }
        close_ids(-1, space, type, -1);
        H5Aclose(attr);
    }
    pvx_store_hdf5_unlock();
    return value;
}

static gboolean get_attr_number(PvxStore *store, const char *path, const char *name,
                                H5T_class_t cls, hid_t mem_type, void *out, GError **error)
{
    g_return_val_if_fail(store != NULL && name != NULL && out != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    pvx_store_hdf5_lock();
    gboolean ok = FALSE;
    hid_t attr = open_attr(store, path, name, cls, error);
    if (attr >= 0) {
        ok = H5Aread(attr, mem_type, out) >= 0;
        if (!ok) {
            g_autofree char *what = g_strdup_printf("read attribute '%s' of", name);
            pvx_store_set_h5_error(error, store, PVX_ERROR_FORMAT, what, path);
        }
        H5Aclose(attr);
    }
    pvx_store_hdf5_unlock();
    return ok;
}

gboolean pvx_store_get_attr_double(PvxStore *store, const char *path, const char *name, double *out,
                                   GError **error)
{
    return get_attr_number(store, path, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, out, error);
}

gboolean pvx_store_get_attr_int(PvxStore *store, const char *path, const char *name, int64_t *out,
                                GError **error)
{
    return get_attr_number(store, path, name, H5T_INTEGER, H5T_NATIVE_INT64, out, error);
}
