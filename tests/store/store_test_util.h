/* Helpers shared by the store tests: a scratch folder per test, removed afterwards. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

static inline char *store_test_tmpdir(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("pvx-store-XXXXXX", &error);
    g_assert_no_error(error);
    return dir;
}

static inline void store_test_rmdir(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return;
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree char *full = g_build_filename(dir, name, NULL);
        g_unlink(full);
    }
    g_dir_close(d);
    g_rmdir(dir);
}

/* Names in @dir that start with @prefix. */
static inline guint store_test_count_prefix(const char *dir, const char *prefix)
{
    guint n = 0;
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)) != NULL)
        n += g_str_has_prefix(name, prefix);
    if (d)
        g_dir_close(d);
    return n;
}
