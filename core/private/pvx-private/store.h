/* pvx — the run store: one HDF5 file per run (results.h5).
 *
 * Paths are HDF5 paths ("/models/cr1/weights/features.0.weight"); missing parent groups are
 * created on write. Writes happen inside a transaction:
 *
 *     pvx_store_begin(store)      // work on a shadow copy, results.h5.tmp-XXXX
 *     pvx_store_write_tensor(...) // any number of writes
 *     pvx_store_commit(store)     // flush, fsync, rename over results.h5, fsync the folder
 *
 * so a run killed at any moment leaves either the previous committed file or the new one, never a
 * file HDF5 cannot open. pvx_store_abort drops the shadow. Reads see the transaction's own writes.
 * HDF5's automatic error printing is off; its error stack becomes one GError naming the file and
 * the object.
 *
 * Threads: Debian's HDF5 is not built thread-safe, so every HDF5 call pvx makes goes through one
 * process-wide (recursive) lock inside the store module; any thread may call any store function.
 * Code outside core/store that calls HDF5 directly must hold it too (pvx_store_hdf5_lock).
 * One store has one writer: two processes writing the same file at once lose one's commits.
 * Read functions with @shape_out need room for PVX_TENSOR_MAX_DIMS entries; datasets of more
 * dimensions are refused. The layout pvx writes is in docs/hdf5-layout.md.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include "pvx/tensor.h"

G_BEGIN_DECLS

typedef struct _PvxStore PvxStore;

/* Creates a new, empty store at @path (fails if it exists). Returns: (transfer full). */
PvxStore *pvx_store_create(const char *path, GError **error);
/* Opens an existing store; with @writable FALSE every write fails. Returns: (transfer full). */
PvxStore *pvx_store_open(const char *path, gboolean writable, GError **error);
/* Closes (aborting an open transaction). */
void pvx_store_close(PvxStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxStore, pvx_store_close)

const char *pvx_store_path(const PvxStore *store);

gboolean pvx_store_begin(PvxStore *store, GError **error);
gboolean pvx_store_commit(PvxStore *store, GError **error);
void pvx_store_abort(PvxStore *store);
gboolean pvx_store_in_transaction(const PvxStore *store);

/* TRUE if a group or dataset exists at @path. */
gboolean pvx_store_exists(PvxStore *store, const char *path);
/* Deletes a group or dataset (and everything below it); no error if absent. */
gboolean pvx_store_delete(PvxStore *store, const char *path, GError **error);
/* Names directly below group @path, sorted. Returns: (transfer full) NULL-terminated; an empty
 * array for an empty or absent group. */
char **pvx_store_list(PvxStore *store, const char *path, GError **error);

/* float32 dataset with the tensor's shape (replaces an existing one). */
gboolean pvx_store_write_tensor(PvxStore *store, const char *path, const PvxTensor *t,
                                GError **error);
/* Reads a float dataset (any float/integer HDF5 type is converted to float32).
 * Returns: (transfer full). */
PvxTensor *pvx_store_read_tensor(PvxStore *store, const char *path, GError **error);
/* Reads into an existing tensor; a shape mismatch is PVX_ERROR_SHAPE naming the dataset and
 * both shapes. */
gboolean pvx_store_read_tensor_into(PvxStore *store, const char *path, PvxTensor *t,
                                    GError **error);

/* uint8 dataset (masks) of @ndim/@shape. */
gboolean pvx_store_write_u8(PvxStore *store, const char *path, int ndim, const int64_t *shape,
                            const uint8_t *data, GError **error);
/* Returns: (transfer full) g_malloc'd data; shape written to @ndim_out/@shape_out. */
uint8_t *pvx_store_read_u8(PvxStore *store, const char *path, int *ndim_out, int64_t *shape_out,
                           GError **error);
/* int64 and float64 1-D (or n-D) datasets. */
gboolean pvx_store_write_i64(PvxStore *store, const char *path, int ndim, const int64_t *shape,
                             const int64_t *data, GError **error);
int64_t *pvx_store_read_i64(PvxStore *store, const char *path, int *ndim_out, int64_t *shape_out,
                            GError **error);
gboolean pvx_store_write_f64(PvxStore *store, const char *path, int ndim, const int64_t *shape,
                             const double *data, GError **error);
double *pvx_store_read_f64(PvxStore *store, const char *path, int *ndim_out, int64_t *shape_out,
                           GError **error);
/* 1-D dataset of UTF-8 variable-length strings. */
gboolean pvx_store_write_strings(PvxStore *store, const char *path, const char *const *strv,
                                 GError **error);
/* Returns: (transfer full) NULL-terminated. */
char **pvx_store_read_strings(PvxStore *store, const char *path, GError **error);

/* Attributes on a group or dataset (the group is created if missing). */
gboolean pvx_store_set_attr_string(PvxStore *store, const char *path, const char *name,
                                   const char *value, GError **error);
gboolean pvx_store_set_attr_double(PvxStore *store, const char *path, const char *name,
                                   double value, GError **error);
gboolean pvx_store_set_attr_int(PvxStore *store, const char *path, const char *name, int64_t value,
                                GError **error);
/* Returns: (transfer full). */
char *pvx_store_get_attr_string(PvxStore *store, const char *path, const char *name,
                                GError **error);
gboolean pvx_store_get_attr_double(PvxStore *store, const char *path, const char *name, double *out,
                                   GError **error);
gboolean pvx_store_get_attr_int(PvxStore *store, const char *path, const char *name, int64_t *out,
                                GError **error);

/* The global lock around HDF5 (recursive). Only for code that calls the HDF5 API itself. */
void pvx_store_hdf5_lock(void);
void pvx_store_hdf5_unlock(void);

G_END_DECLS
