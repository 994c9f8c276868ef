/* Helpers for tests that drive the pvx command: run it, capture what it printed, clean up. */
#pragma once

#include <stdarg.h>
#include <sys/wait.h>

#include <glib.h>
#include <glib/gstdio.h>

typedef struct {
    int status;      /* exit status */
    char *out, *err; /* what pvx printed (transfer full) */
} PvxTestResult;

static inline void pvx_test_result_clear(PvxTestResult *r)
{
    g_clear_pointer(&r->out, g_free);
    g_clear_pointer(&r->err, g_free);
}

/* Runs @exe with @args (NULL-terminated) from @cwd and waits for it; a crash (a signal instead
 * of an exit) fails the test. */
static inline PvxTestResult pvx_test_run_argv(const char *exe, const char *cwd,
                                              const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)exe);
    for (const char *const *a = args; a && *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    PvxTestResult r = {0};
    g_autoptr(GError) error = NULL;
    int wait_status = 0;
    g_assert_true(g_spawn_sync(cwd, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r.out,
                               &r.err, &wait_status, &error));
    g_assert_no_error(error);
    g_assert_true(WIFEXITED(wait_status)); /* never a crash */
    r.status = WEXITSTATUS(wait_status);
    return r;
}

/* The same with the arguments as a NULL-terminated variadic list. */
static inline PvxTestResult pvx_test_run(const char *exe, const char *cwd, ...)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    va_list ap;
    va_start(ap, cwd);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(args, (gpointer)a);
    va_end(ap);
    g_ptr_array_add(args, NULL);
    return pvx_test_run_argv(exe, cwd, (const char *const *)args->pdata);
}

/* rm -rf @path (symlinks are removed, not followed). */
static inline void pvx_test_remove_tree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        const char *name;
        while (d && (name = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(path, name, NULL);
            pvx_test_remove_tree(p);
        }
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}
