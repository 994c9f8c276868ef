/* The run store's file life cycle: opening, creating, the shadow-copy transaction, HDF5 error
 * reporting, and the path operations (exists, delete, list). Datasets and attributes are in
 * store_data.c. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include <glib/gstdio.h>

#include "store_private.h"

/* Format version written as the root attribute "pvx_store_format" of every new store. */
#define PVX_STORE_FORMAT 1

static GRecMutex hdf5_lock;

static void ensure_hdf5(void)
{
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        H5open();
        /* Errors are turned into GErrors by walking the stack; HDF5 must not print them. */
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        g_once_init_leave(&done, 1);
    }
}

void pvx_store_hdf5_lock(void)
{
    ensure_hdf5();
    g_rec_mutex_lock(&hdf5_lock);
}

void pvx_store_hdf5_unlock(void)
{
    g_rec_mutex_unlock(&hdf5_lock);
}

/* ---- errors ---------------------------------------------------------------------------- */

typedef struct {
    GPtrArray *pairs; /* "major: minor" from the API call inwards, each distinct pair once */
    char innermost[256];
} ErrorWalk;

static herr_t error_walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    ErrorWalk *w = data;
    char maj[128] = "", min[128] = "";
    H5Eget_msg(e->maj_num, NULL, maj, sizeof maj);
    H5Eget_msg(e->min_num, NULL, min, sizeof min);
    char *pair = g_strdup_printf("%s: %s", maj, min);
    if (w->pairs->len && strcmp(pair, g_ptr_array_index(w->pairs, w->pairs->len - 1)) == 0)
        g_free(pair);
    else
        g_ptr_array_add(w->pairs, pair);
    if (e->desc && *e->desc)
        g_strlcpy(w->innermost, e->desc, sizeof w->innermost);
    return 0;
}

void pvx_store_set_h5_error(GError **error, const PvxStore *store, int code, const char *what,
                            const char *obj)
{
    ErrorWalk w = {.pairs = g_ptr_array_new_with_free_func(g_free)};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, error_walk_cb, &w);
    H5Eclear2(H5E_DEFAULT);
    /* The outermost frame says what the API call was doing, the innermost ones why it failed;
     * the frames between rarely help and make the message unreadable. */
    GString *text = g_string_new(NULL);
    for (guint i = 0; i < w.pairs->len; i++) {
        if (i == 1 && w.pairs->len > 3) {
            g_string_append(text, "; ...");
            i = w.pairs->len - 2;
        }
        g_string_append_printf(text, "%s%s", i ? "; " : "", (char *)g_ptr_array_index(w.pairs, i));
    }
    if (text->len == 0)
        g_string_append(text, "unknown HDF5 error");
    if (w.innermost[0])
        g_string_append_printf(text, " (%s)", w.innermost);
    if (obj)
        g_set_error(error, PVX_ERROR, code, "%s: cannot %s '%s': %s", store->path, what, obj,
                    text->str);
    else
        g_set_error(error, PVX_ERROR, code, "%s: cannot %s: %s", store->path, what, text->str);
    g_string_free(text, TRUE);
    g_ptr_array_unref(w.pairs);
}

static void set_errno_error(GError **error, const char *file, const char *what, int err)
{
    g_set_error(error, PVX_ERROR, err == ENOENT ? PVX_ERROR_NOT_FOUND : PVX_ERROR_IO,
                "%s: cannot %s: %s", file, what, g_strerror(err));
}

/* ---- paths ----------------------------------------------------------------------------- */

gboolean pvx_store_check_path(const PvxStore *store, const char *path, gboolean allow_root,
                              GError **error)
{
    gboolean ok = path != NULL && path[0] == '/' && strstr(path, "//") == NULL;
    if (ok && path[1] == '\0')
        ok = allow_root;
    else if (ok)
        ok = path[strlen(path) - 1] != '/';
    if (!ok)
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: invalid object path '%s' (want an absolute path like '/models/cr1')",
                    store->path, path ? path : "(null)");
    return ok;
}

gboolean pvx_store_path_exists(hid_t file, const char *path)
{
    if (strcmp(path, "/") == 0)
        return TRUE;
    /* H5Lexists fails (rather than answering FALSE) when a parent is missing, so walk down. */
    g_autofree char *buf = g_strdup(path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        htri_t e = H5Lexists(file, buf, H5P_DEFAULT);
        *p = c;
        if (e <= 0) {
            H5Eclear2(H5E_DEFAULT);
            return FALSE;
        }
        if (c == '\0')
            break;
    }
    htri_t o = H5Oexists_by_name(file, path, H5P_DEFAULT); /* FALSE for a dangling soft link */
    H5Eclear2(H5E_DEFAULT);
    return o > 0;
}

gboolean pvx_store_check_writable(const PvxStore *store, const char *path, GError **error)
{
    if (!store->writable) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: cannot write '%s': the store was opened read-only", store->path, path);
        return FALSE;
    }
    if (!store->shadow_path) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: cannot write '%s': no transaction (call pvx_store_begin first)",
                    store->path, path);
        return FALSE;
    }
    return TRUE;
}

static gboolean check_open(const PvxStore *store, GError **error)
{
    if (store->file >= 0)
        return TRUE;
    g_set_error(error, PVX_ERROR, PVX_ERROR_IO,
                "%s: the file is not open (an earlier reopen failed)", store->path);
    return FALSE;
}

hid_t pvx_store_open_object(PvxStore *store, const char *path, const char *what, GError **error)
{
    if (!check_open(store, error) || !pvx_store_check_path(store, path, TRUE, error))
        return -1;
    if (!pvx_store_path_exists(store->file, path)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND, "%s: cannot %s '%s': no such object",
                    store->path, what, path);
        return -1;
    }
    hid_t obj = H5Oopen(store->file, path, H5P_DEFAULT);
    if (obj < 0)
        pvx_store_set_h5_error(error, store, PVX_ERROR_FORMAT, what, path);
    return obj;
}

/* ---- opening --------------------------------------------------------------------------- */

/* The file access properties of every pvx open, made once (the caller holds the lock). It is
 * never closed, so no HDF5 call between a failed open and its error report clears the stack. */
static hid_t file_access_plist(void)
{
    static hid_t fapl = -1;
    if (fapl >= 0)
        return fapl;
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* Closing the file closes every object still open in it, so a commit never leaves the shadow
     * half-open behind a forgotten handle. */
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    /* HDF5's own flock()s are off for every pvx open. The committed file is never written in
     * place (a commit renames a new inode over it), so a reader needs no lock; a shadow is
     * private to its writer, which guards it with its own flock (see make_shadow). HDF5's locks
     * would add nothing but failures: on file systems without flock() support (some NFS and
     * Lustre mounts) every open would fail, and a tool holding the file open would block pvx. */
    H5Pset_file_locking(fapl, FALSE, TRUE);
    return fapl;
}

/* TRUE if the HDF5 signature is at offset 0, 512, 1024, 2048, ... (where a user block may
 * push it). */
static gboolean has_hdf5_signature(const char *path)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    int fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return FALSE;
    gboolean found = FALSE;
    struct stat st;
    if (fstat(fd, &st) == 0) {
        for (off_t off = 0; !found && off + 8 <= st.st_size; off = off ? off * 2 : 512) {
            unsigned char buf[8];
            found = pread(fd, buf, 8, off) == 8 && memcmp(buf, sig, 8) == 0;
        }
    }
    close(fd);
    return found;
}

static gboolean open_committed(PvxStore *store, GError **error)
{
    store->file = H5Fopen(store->path, H5F_ACC_RDONLY, file_access_plist());
    if (store->file >= 0)
        return TRUE;
    if (g_access(store->path, F_OK) != 0) {
        H5Eclear2(H5E_DEFAULT);
        set_errno_error(error, store->path, "open", errno);
    } else if (!has_hdf5_signature(store->path)) {
        H5Eclear2(H5E_DEFAULT);
        g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT, "%s: not an HDF5 file", store->path);
    } else {
        pvx_store_set_h5_error(error, store, PVX_ERROR_FORMAT, "open the file", NULL);
    }
    return FALSE;
}

static PvxStore *store_new(const char *path, gboolean writable)
{
    PvxStore *store = g_new0(PvxStore, 1);
    store->path = g_strdup(path);
    store->writable = writable;
    store->file = -1;
    store->shadow_lock_fd = -1;
    return store;
}

static void store_free(PvxStore *store)
{
    if (store->file >= 0)
        H5Fclose(store->file);
    H5Eclear2(H5E_DEFAULT);
    g_free(store->path);
    g_free(store);
}

/* Removes shadows left by writers that died (results.h5.tmp-XXXXXX whose flock is free). */
static void remove_stale_shadows(const PvxStore *store)
{
    g_autofree char *dir = g_path_get_dirname(store->path);
    g_autofree char *base = g_path_get_basename(store->path);
    g_autofree char *prefix = g_strconcat(base, ".tmp-", NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return;
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        if (!g_str_has_prefix(name, prefix) || strlen(name) != strlen(prefix) + 6)
            continue;
        g_autofree char *full = g_build_filename(dir, name, NULL);
        int fd = g_open(full, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0)
            continue;
        /* A live writer holds LOCK_EX on its shadow for the whole transaction. */
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            g_debug("%s: removing stale shadow %s", store->path, full);
            g_unlink(full);
        }
        close(fd);
    }
    g_dir_close(d);
}

PvxStore *pvx_store_open(const char *path, gboolean writable, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    pvx_store_hdf5_lock();
    PvxStore *store = store_new(path, writable);
    if (!open_committed(store, error)) {
        store_free(store);
        store = NULL;
    } else if (writable) {
        remove_stale_shadows(store);
    }
    pvx_store_hdf5_unlock();
    return store;
}

const char *pvx_store_path(const PvxStore *store)
{
    g_return_val_if_fail(store != NULL, NULL);
    return store->path;
}

gboolean pvx_store_in_transaction(const PvxStore *store)
{
    g_return_val_if_fail(store != NULL, FALSE);
    return store->shadow_path != NULL;
}

/* ---- the shadow ------------------------------------------------------------------------ */

static gboolean copy_fd(int in, int out, off_t size, const char *file, GError **error)
{
#ifdef FICLONE
    /* A reflink (btrfs, XFS) shares the blocks: the copy costs nothing until pages change. */
    if (ioctl(out, FICLONE, in) == 0)
        return TRUE;
#endif
    off_t done = 0;
    gboolean use_read = FALSE;
    while (done < size && !use_read) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)(size - done), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == ENOSYS || errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP))
            use_read = TRUE;
        else if (n < 0) {
            set_errno_error(error, file, "copy the committed file to a shadow", errno);
            return FALSE;
        } else if (n == 0) {
            break;
        } else {
            done += n;
        }
    }
    if (!use_read)
        return TRUE;
    if (lseek(in, done, SEEK_SET) < 0 || lseek(out, done, SEEK_SET) < 0) {
        set_errno_error(error, file, "copy the committed file to a shadow", errno);
        return FALSE;
    }
    g_autofree char *buf = g_malloc(1 << 20);
    for (;;) {
        ssize_t n = read(in, buf, 1 << 20);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                set_errno_error(error, file, "copy the committed file to a shadow", errno);
            return n == 0;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                set_errno_error(error, file, "copy the committed file to a shadow", errno);
                return FALSE;
            }
            off += w;
        }
    }
}

static void drop_shadow(PvxStore *store)
{
    if (store->shadow_path)
        g_unlink(store->shadow_path);
    g_clear_pointer(&store->shadow_path, g_free);
    if (store->shadow_lock_fd >= 0)
        close(store->shadow_lock_fd);
    store->shadow_lock_fd = -1;
}

/* Makes results.h5.tmp-XXXXXX next to the store, locked, holding a copy of the committed file
 * when @copy. */
static gboolean make_shadow(PvxStore *store, gboolean copy, GError **error)
{
    g_autofree char *tmpl = g_strconcat(store->path, ".tmp-XXXXXX", NULL);
    int fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0666);
    if (fd < 0) {
        set_errno_error(error, store->path, "create a shadow file", errno);
        return FALSE;
    }
    store->shadow_path = g_steal_pointer(&tmpl);
    store->shadow_lock_fd = fd;
    /* The lock tells remove_stale_shadows in other processes that this shadow is alive. If a
     * cleaner removed it between mkstemp and flock, the path no longer names our inode. */
    struct stat fst, pst;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &fst) == 0 &&
        (g_stat(store->shadow_path, &pst) != 0 || pst.st_ino != fst.st_ino)) {
        set_errno_error(error, store->shadow_path, "keep the shadow file", ENOENT);
        drop_shadow(store);
        return FALSE;
    }
    if (!copy)
        return TRUE;
    int in = g_open(store->path, O_RDONLY | O_CLOEXEC, 0);
    struct stat st;
    if (in < 0 || fstat(in, &st) != 0) {
        set_errno_error(error, store->path, "open the committed file", errno);
        if (in >= 0)
            close(in);
        drop_shadow(store);
        return FALSE;
    }
    gboolean ok = copy_fd(in, fd, st.st_size, store->path, error);
    if (ok && fchmod(fd, st.st_mode & 07777) != 0) {
        set_errno_error(error, store->shadow_path, "set the mode of the shadow", errno);
        ok = FALSE;
    }
    close(in);
    if (!ok)
        drop_shadow(store);
    return ok;
}

static gboolean fsync_dir_of(const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd = g_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0 || fsync(fd) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        /* Some file systems refuse fsync on a directory; the rename itself has happened. */
        if (err == EINVAL || err == EBADF)
            return TRUE;
        set_errno_error(error, dir, "sync the folder", err);
        return FALSE;
    }
    close(fd);
    return TRUE;
}

/* Moves the shadow over the committed file without replacing an existing file. */
static int rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (link(from, to) != 0)
        return -1;
    return g_unlink(from);
}

/* Flushes and closes the shadow, makes it durable and moves it into place. */
static gboolean publish_shadow(PvxStore *store, gboolean noreplace, GError **error)
{
    if (H5Fflush(store->file, H5F_SCOPE_GLOBAL) < 0) {
        pvx_store_set_h5_error(error, store, PVX_ERROR_IO, "flush the transaction", NULL);
        return FALSE;
    }
    herr_t closed = H5Fclose(store->file);
    store->file = -1;
    if (closed < 0) {
        pvx_store_set_h5_error(error, store, PVX_ERROR_IO, "close the transaction", NULL);
        return FALSE;
    }
    if (fsync(store->shadow_lock_fd) != 0) {
        set_errno_error(error, store->shadow_path, "sync", errno);
        return FALSE;
    }
    int r = noreplace ? rename_noreplace(store->shadow_path, store->path)
                      : g_rename(store->shadow_path, store->path);
    if (r != 0) {
        set_errno_error(error, store->path, "replace the committed file", errno);
        return FALSE;
    }
    g_clear_pointer(&store->shadow_path, g_free);
    close(store->shadow_lock_fd);
    store->shadow_lock_fd = -1;
    return fsync_dir_of(store->path, error);
}

static void abort_locked(PvxStore *store)
{
    if (!store->shadow_path)
        return;
    if (store->file >= 0)
        H5Fclose(store->file);
    store->file = -1;
    H5Eclear2(H5E_DEFAULT);
    drop_shadow(store);
    g_autoptr(GError) error = NULL;
    if (!open_committed(store, &error))
        g_warning("%s", error->message);
}

PvxStore *pvx_store_create(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_IO, "%s: cannot create the store: the file exists",
                    path);
        return NULL;
    }
    pvx_store_hdf5_lock();
    PvxStore *store = store_new(path, TRUE);
    gboolean ok = make_shadow(store, FALSE, error);
    if (ok) {
        /* Persistent free-space tracking: space of deleted datasets (a training checkpoint, a
         * replaced map) is reused by later writes instead of growing the file for ever — every
         * transaction reopens the file, so the free-space lists must survive a close. */
        hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
        H5Pset_file_space_strategy(fcpl, H5F_FSPACE_STRATEGY_FSM_AGGR, TRUE, 1);
        store->file = H5Fcreate(store->shadow_path, H5F_ACC_TRUNC, fcpl, file_access_plist());
        H5Pclose(fcpl);
        ok = store->file >= 0;
        if (!ok)
            pvx_store_set_h5_error(error, store, PVX_ERROR_IO, "create the file", NULL);
    }
    ok = ok && pvx_store_set_attr_int(store, "/", "pvx_store_format", PVX_STORE_FORMAT, error);
    ok = ok && publish_shadow(store, TRUE, error) && open_committed(store, error);
    if (!ok) {
        if (store->file >= 0)
            H5Fclose(store->file);
        store->file = -1;
        drop_shadow(store);
        store_free(store);
        store = NULL;
    }
    pvx_store_hdf5_unlock();
    return store;
}

void pvx_store_close(PvxStore *store)
{
    if (!store)
        return;
    pvx_store_hdf5_lock();
    abort_locked(store);
    store_free(store);
    pvx_store_hdf5_unlock();
}

/* ---- transactions ---------------------------------------------------------------------- */

gboolean pvx_store_begin(PvxStore *store, GError **error)
{
    g_return_val_if_fail(store != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    pvx_store_hdf5_lock();
    if (!store->writable || store->shadow_path) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: cannot begin a transaction: %s", store->path,
                    store->writable ? "one is already open" : "the store was opened read-only");
        pvx_store_hdf5_unlock();
        return FALSE;
    }
    if (store->file >= 0)
        H5Fclose(store->file);
    store->file = -1;
    gboolean ok = make_shadow(store, TRUE, error);
    if (ok) {
        store->file = H5Fopen(store->shadow_path, H5F_ACC_RDWR, file_access_plist());
        ok = store->file >= 0;
        if (!ok) {
            pvx_store_set_h5_error(error, store, PVX_ERROR_FORMAT, "open the shadow copy", NULL);
            drop_shadow(store);
        }
    }
    if (!ok) {
        g_autoptr(GError) reopen_error = NULL;
        if (!open_committed(store, &reopen_error))
            g_warning("%s", reopen_error->message);
    }
    pvx_store_hdf5_unlock();
    return ok;
}

gboolean pvx_store_commit(PvxStore *store, GError **error)
{
    g_return_val_if_fail(store != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    pvx_store_hdf5_lock();
    if (!store->shadow_path) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: cannot commit: no transaction is open", store->path);
        pvx_store_hdf5_unlock();
        return FALSE;
    }
    gboolean ok = publish_shadow(store, FALSE, error);
    if (store->shadow_path)
        abort_locked(store); /* failed before the rename: the committed file is the old one */
    else if (!open_committed(store, ok ? error : NULL))
        ok = FALSE;
    pvx_store_hdf5_unlock();
    return ok;
}

void pvx_store_abort(PvxStore *store)
{
    g_return_if_fail(store != NULL);
    pvx_store_hdf5_lock();
    abort_locked(store);
    pvx_store_hdf5_unlock();
}

/* ---- path operations ------------------------------------------------------------------- */

gboolean pvx_store_exists(PvxStore *store, const char *path)
{
    g_return_val_if_fail(store != NULL && path != NULL, FALSE);
    if (!pvx_store_check_path(store, path, TRUE, NULL))
        return FALSE;
    pvx_store_hdf5_lock();
    gboolean e = store->file >= 0 && pvx_store_path_exists(store->file, path);
    pvx_store_hdf5_unlock();
    return e;
}

gboolean pvx_store_delete(PvxStore *store, const char *path, GError **error)
{
    g_return_val_if_fail(store != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!pvx_store_check_path(store, path, FALSE, error) ||
        !pvx_store_check_writable(store, path, error))
        return FALSE;
    pvx_store_hdf5_lock();
    gboolean ok = TRUE;
    if (pvx_store_path_exists(store->file, path) && H5Ldelete(store->file, path, H5P_DEFAULT) < 0) {
        pvx_store_set_h5_error(error, store, PVX_ERROR_IO, "delete", path);
        ok = FALSE;
    }
    pvx_store_hdf5_unlock();
    return ok;
}

static herr_t list_cb(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)group;
    (void)info;
    g_ptr_array_add(data, g_strdup(name));
    return 0;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **pvx_store_list(PvxStore *store, const char *path, GError **error)
{
    g_return_val_if_fail(store != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    if (!check_open(store, error) || !pvx_store_check_path(store, path, TRUE, error))
        return NULL;
    pvx_store_hdf5_lock();
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = TRUE;
    if (pvx_store_path_exists(store->file, path)) {
        hid_t obj = H5Oopen(store->file, path, H5P_DEFAULT);
        if (obj < 0) {
            pvx_store_set_h5_error(error, store, PVX_ERROR_FORMAT, "list", path);
            ok = FALSE;
        } else if (H5Iget_type(obj) != H5I_GROUP) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "%s: cannot list '%s': it is not a group", store->path, path);
            ok = FALSE;
        } else if (H5Literate(obj, H5_INDEX_NAME, H5_ITER_INC, NULL, list_cb, names) < 0) {
            pvx_store_set_h5_error(error, store, PVX_ERROR_FORMAT, "list", path);
            ok = FALSE;
        }
        if (obj >= 0)
            H5Oclose(obj);
    }
    pvx_store_hdf5_unlock();
    if (!ok)
        return NULL;
    g_ptr_array_sort(names, compare_names);
    g_ptr_array_add(names, NULL);
    g_ptr_array_set_free_func(names, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
}
