/* pvx — the thread count knob and a small fork-join pool for the element-wise kernels.
 *
 * One number, PVX_NUM_THREADS, sets both OpenBLAS's threads and this pool. The two never run at
 * the same time: an op calls cblas_sgemm and pvx_parallel_for one after the other from its
 * calling thread, so at any moment at most pvx_num_threads() threads do work.
 *
 * The exception: between pvx_ops_blas_serial_begin and _end OpenBLAS runs single-threaded and
 * pool tasks may call it (the Winograd convolution does), again one busy thread per core.
 *
 * The pool is fork-join: the calling thread takes range 0 and the workers ranges 1..n-1, then
 * the caller waits for them. Workers sleep on a condition variable between jobs; a job costs a
 * wake-up (a few microseconds), so ops only fork when each range has enough work (see grain).
 */
#include <cblas.h>
#include <stdlib.h>
#include <unistd.h>

#include "ops_private.h"

#define PVX_MAX_THREADS 256

typedef struct {
    GMutex lock; /* guards everything below */
    GCond wake;  /* workers wait here for a new generation */
    GCond done;  /* the caller waits here for pending == 0 */
    guint64 generation;
    int pending;
    int nparts;
    int64_t n;
    PvxRangeFunc fn;
    void *data;
} Pool;

static Pool pool;
static int n_threads = 1;
static GMutex pool_busy; /* held by the thread that owns the pool for one job */
static GPrivate in_worker;

static void run_part(int part, int nparts, int64_t n, PvxRangeFunc fn, void *data)
{
    int64_t begin = n * part / nparts;
    int64_t end = n * (part + 1) / nparts;
    if (end > begin)
        fn(begin, end, data);
}

static gpointer worker_main(gpointer arg)
{
    int part = GPOINTER_TO_INT(arg);
    guint64 seen = 0;
    g_private_set(&in_worker, GINT_TO_POINTER(1));
    g_mutex_lock(&pool.lock);
    for (;;) {
        while (pool.generation == seen)
            g_cond_wait(&pool.wake, &pool.lock);
        seen = pool.generation;
        if (part >= pool.nparts)
            continue;
        int nparts = pool.nparts;
        int64_t n = pool.n;
        PvxRangeFunc fn = pool.fn;
        void *data = pool.data;
        g_mutex_unlock(&pool.lock);
        run_part(part, nparts, n, fn, data);
        g_mutex_lock(&pool.lock);
        if (--pool.pending == 0)
            g_cond_signal(&pool.done);
    }
    return NULL;
}

/* Parses PVX_NUM_THREADS; returns 0 when it is malformed. */
static int threads_from_env(const char **bad)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int def = online > 0 ? (int)MIN(online, PVX_MAX_THREADS) : 1;
    const char *s = g_getenv("PVX_NUM_THREADS");
    *bad = NULL;
    if (s == NULL || *s == '\0')
        return def;
    char *end = NULL;
    gint64 v = g_ascii_strtoll(s, &end, 10);
    if (end == s || *end != '\0' || v < 1 || v > PVX_MAX_THREADS) {
        *bad = s;
        return 0;
    }
    return (int)v;
}

static void start_pool(int n)
{
    n_threads = n;
    openblas_set_num_threads(n);
    g_mutex_init(&pool.lock);
    g_cond_init(&pool.wake);
    g_cond_init(&pool.done);
    for (int i = 1; i < n; i++) {
        char name[32];
        g_snprintf(name, sizeof name, "pvx-pool-%d", i);
        /* Workers live as long as the process: the pool is a process-wide resource. */
        g_thread_unref(g_thread_new(name, worker_main, GINT_TO_POINTER(i)));
    }
    g_debug("pvx: %d threads (OpenBLAS and pool)", n);
}

static gsize started = 0;

gboolean pvx_threads_init(GError **error)
{
    const char *bad = NULL;
    int n = threads_from_env(&bad);
    if (n == 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "PVX_NUM_THREADS=\"%s\" is not a thread count (a whole number from 1 to %d)",
                    bad, PVX_MAX_THREADS);
        return FALSE;
    }
    if (g_once_init_enter(&started)) {
        start_pool(n);
        g_once_init_leave(&started, 1);
    }
    return TRUE;
}

void pvx_ops_threads_ensure(void)
{
    if (g_once_init_enter(&started)) {
        const char *bad = NULL;
        int n = threads_from_env(&bad);
        if (n == 0) {
            long online = sysconf(_SC_NPROCESSORS_ONLN);
            n = online > 0 ? (int)MIN(online, PVX_MAX_THREADS) : 1;
            g_warning("PVX_NUM_THREADS=\"%s\" is not a thread count; using %d", bad, n);
        }
        start_pool(n);
        g_once_init_leave(&started, 1);
    }
}

static gint serial_depth = 0;

void pvx_ops_blas_serial_begin(void)
{
    pvx_ops_threads_ensure();
    if (g_atomic_int_add(&serial_depth, 1) == 0 && n_threads > 1)
        openblas_set_num_threads(1);
}

void pvx_ops_blas_serial_end(void)
{
    if (g_atomic_int_dec_and_test(&serial_depth) && n_threads > 1)
        openblas_set_num_threads(n_threads);
}

int pvx_num_threads(void)
{
    pvx_ops_threads_ensure();
    return n_threads;
}

void pvx_parallel_for(int64_t n, int64_t grain, PvxRangeFunc fn, void *data)
{
    g_return_if_fail(fn != NULL);
    if (n <= 0)
        return;
    pvx_ops_threads_ensure();
    if (grain < 1)
        grain = 1;
    int64_t want = n / grain;
    int nparts = (int)MIN((int64_t)n_threads, want);
    /* Serial when the work is small, when called from a worker (no nesting) or when another
     * thread owns the pool (it would only queue behind it). */
    if (nparts < 2 || g_private_get(&in_worker) != NULL || !g_mutex_trylock(&pool_busy)) {
        fn(0, n, data);
        return;
    }
    g_mutex_lock(&pool.lock);
    pool.nparts = nparts;
    pool.n = n;
    pool.fn = fn;
    pool.data = data;
    pool.pending = nparts - 1;
    pool.generation++;
    g_cond_broadcast(&pool.wake);
    g_mutex_unlock(&pool.lock);

    run_part(0, nparts, n, fn, data);

    g_mutex_lock(&pool.lock);
    while (pool.pending > 0)
        g_cond_wait(&pool.done, &pool.lock);
    g_mutex_unlock(&pool.lock);
    g_mutex_unlock(&pool_busy);
}
