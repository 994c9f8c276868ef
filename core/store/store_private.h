/* pvx — internals shared by the store's source files (not installed). */
#pragma once

#include <hdf5.h>

#include "pvx/error.h"
#include "pvx-private/store.h"

struct _PvxStore {
    char *path; /* as given by the caller; used in every error message */
    gboolean writable;
    hid_t file;         /* committed file read-only, or the shadow read-write; -1 if none */
    char *shadow_path;  /* non-NULL inside a transaction */
    int shadow_lock_fd; /* holds flock(LOCK_EX) on the shadow while the transaction lives */
};

/* pvx_store_hdf5_lock (store.h) is taken by every public entry point; it is recursive so one
 * store function may call another. */

/* Sets @error to "<file>: cannot <what> '<obj>': <HDF5 error stack>" and clears the stack. */
void pvx_store_set_h5_error(GError **error, const PvxStore *store, int code, const char *what,
                            const char *obj);

/* TRUE if every component of @path exists and the last one resolves to an object. */
gboolean pvx_store_path_exists(hid_t file, const char *path);

/* Checks that @path is an absolute HDF5 path other than "/" without empty components. */
gboolean pvx_store_check_path(const PvxStore *store, const char *path, gboolean allow_root,
                              GError **error);

/* Checks that the store can be written now (writable and inside a transaction). */
gboolean pvx_store_check_writable(const PvxStore *store, const char *path, GError **error);

/* Opens the group or dataset at @path; NOT_FOUND naming it if absent. */
hid_t pvx_store_open_object(PvxStore *store, const char *path, const char *what, GError **error);
