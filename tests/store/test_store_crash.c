/* Crash safety of the run store: a child process commits generation after generation and is
 * killed with SIGKILL at random moments; after every kill the file must open and every dataset
 * must agree with the generation attribute. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pvx-private/core.h"

#include "store_test_util.h"

#define N_KILLS 30

/* Element counts of the tensors written per generation: small to ~4 MiB, so a commit takes long
 * enough for kills to land in every phase (writing, flushing, fsync, rename). */
static const int64_t tensor_sizes[] = {7, 64 * 3 * 3 * 3, 300000, 1000000};

static gboolean write_generation(PvxStore *store, int64_t gen, GError **error)
{
    if (!pvx_store_begin(store, error))
        return FALSE;
    for (guint k = 0; k < G_N_ELEMENTS(tensor_sizes); k++) {
        g_autoptr(PvxTensor) t = pvx_tensor_new(1, &tensor_sizes[k]);
        pvx_tensor_fill(t, (float)gen);
        g_autofree char *path = g_strdup_printf("/models/cr%u/weights/w", k);
        if (!pvx_store_write_tensor(store, path, t, error))
            return FALSE;
    }
    int64_t mshape[2] = {256, 1024};
    g_autofree uint8_t *mask = g_malloc(256 * 1024);
    memset(mask, (int)(gen % 256), 256 * 1024);
    g_autofree char *label = g_strdup_printf("generation %" G_GINT64_FORMAT, gen);
    const char *labels[] = {label, "fixed", NULL};
    return pvx_store_write_u8(store, "/models/cr0/masks/w", 2, mshape, mask, error) &&
           pvx_store_write_strings(store, "/labels", labels, error) &&
           pvx_store_set_attr_int(store, "/", "generation", gen, error) &&
           pvx_store_commit(store, error);
}

/* The writer: commits generations until it is killed. Exits 2 on any error. */
static void child_writes_forever(const char *path)
{
    g_autoptr(GError) error = NULL;
    PvxStore *store = pvx_store_open(path, TRUE, &error);
    int64_t gen = 0;
    if (!store || !pvx_store_get_attr_int(store, "/", "generation", &gen, &error)) {
        g_printerr("child: %s\n", error->message);
        _exit(2);
    }
    for (;;) {
        if (!write_generation(store, ++gen, &error)) {
            g_printerr("child: %s\n", error->message);
            _exit(2);
        }
    }
}

/* Opens the committed file and checks that everything agrees with its generation. */
static int64_t check_consistent(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = pvx_store_open(path, FALSE, &error);
    g_assert_no_error(error);
    int64_t gen = -1;
    g_assert_true(pvx_store_get_attr_int(store, "/", "generation", &gen, &error));
    g_assert_no_error(error);
    for (guint k = 0; k < G_N_ELEMENTS(tensor_sizes); k++) {
        g_autofree char *p = g_strdup_printf("/models/cr%u/weights/w", k);
        g_autoptr(PvxTensor) t = pvx_store_read_tensor(store, p, &error);
        g_assert_no_error(error);
        g_assert_cmpint(pvx_tensor_numel(t), ==, tensor_sizes[k]);
        for (int64_t i = 0; i < tensor_sizes[k]; i++)
            if (t->data[i] != (float)gen)
                g_error("%s[%" G_GINT64_FORMAT "] = %g but generation is %" G_GINT64_FORMAT, p, i,
                        t->data[i], gen);
    }
    int ndim = 0;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    g_autofree uint8_t *mask =
        pvx_store_read_u8(store, "/models/cr0/masks/w", &ndim, shape, &error);
    g_assert_no_error(error);
    for (int i = 0; i < 256 * 1024; i++)
        g_assert_cmpint(mask[i], ==, gen % 256);
    g_auto(GStrv) labels = pvx_store_read_strings(store, "/labels", &error);
    g_assert_no_error(error);
    g_autofree char *want = g_strdup_printf("generation %" G_GINT64_FORMAT, gen);
    g_assert_cmpstr(labels[0], ==, want);
    return gen;
}

static void store_survives_sigkill_at_random_moments(void)
{
    g_autofree char *dir = store_test_tmpdir();
    g_autofree char *path = g_build_filename(dir, "results.h5", NULL);
    g_autoptr(GError) error = NULL;
    {
        g_autoptr(PvxStore) store = pvx_store_create(path, &error);
        g_assert_no_error(error);
        g_assert_true(write_generation(store, 0, &error));
        g_assert_no_error(error);
    }
    int64_t last = check_consistent(path);
    guint stale_seen = 0;
    for (int kill_no = 0; kill_no < N_KILLS; kill_no++) {
        /* Delays from 1 ms (the child is still opening) to 400 ms (many commits in). */
        int delay_us = kill_no < 5 ? 1000 * (kill_no + 1) : g_test_rand_int_range(1000, 400000);
        pid_t pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0)
            child_writes_forever(path);
        g_usleep(delay_us);
        g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
        int status = 0;
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        /* Anything but death by our SIGKILL means the writer failed on its own. */
        g_assert_true(WIFSIGNALED(status));
        g_assert_cmpint(WTERMSIG(status), ==, SIGKILL);
        stale_seen += store_test_count_prefix(dir, "results.h5.tmp-");
        int64_t gen = check_consistent(path);
        g_assert_cmpint(gen, >=, last);
        g_test_message("kill %d after %d us: generation %" G_GINT64_FORMAT, kill_no, delay_us, gen);
        last = gen;
    }
    /* The writers made progress, so the kills interrupted real commits. */
    g_assert_cmpint(last, >, N_KILLS);
    g_test_message("%" G_GINT64_FORMAT " generations committed; %u shadows left by killed writers",
                   last, stale_seen);
    {
        g_autoptr(PvxStore) rw = pvx_store_open(path, TRUE, &error);
        g_assert_no_error(error);
    }
    g_assert_cmpuint(store_test_count_prefix(dir, "results.h5.tmp-"), ==, 0);
    store_test_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/store/store_survives_sigkill_at_random_moments",
                    store_survives_sigkill_at_random_moments);
    return g_test_run();
}
