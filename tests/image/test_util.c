/* Helpers shared by the tests in tests/image (see test_util.h). */
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "test_util.h"

#define PYTHON "/usr/bin/python3"

char *tu_make_tmpdir(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("pvx-image-test-XXXXXX", &error);
    g_assert_no_error(error);
    return dir;
}

void tu_rm_rf(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (d) {
        const char *name;
        while ((name = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(dir, name, NULL);
            if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
                tu_rm_rf(p);
            else
                g_unlink(p);
        }
        g_dir_close(d);
    }
    g_rmdir(dir);
}

gboolean tu_python(const char *commands)
{
    if (!g_file_test(PYTHON, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip(PYTHON " is missing");
        return FALSE;
    }
    g_autofree char *tmp = tu_make_tmpdir();
    g_autofree char *cmd_file = g_build_filename(tmp, "commands.txt", NULL);
    g_assert_true(g_file_set_contents(cmd_file, commands, -1, NULL));
    g_autofree char *script =
        g_build_filename(PVX_TEST_SOURCE_ROOT, "tests", "image", "pil_ref.py", NULL);
    const char *argv[] = {PYTHON, script, cmd_file, NULL};
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    g_autoptr(GError) error = NULL;
    gboolean spawned = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                                    &err, &status, &error);
    tu_rm_rf(tmp);
    g_assert_no_error(error);
    g_assert_true(spawned);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        g_test_skip(err && *err ? err : "PIL/torchvision not importable");
        return FALSE;
    }
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("pil_ref.py failed:\n%s%s", out, err);
    return TRUE;
}

static char *read_all(const char *path, gsize *len, const char **body, int dims[3])
{
    char *bytes = NULL;
    g_autoptr(GError) error = NULL;
    g_file_get_contents(path, &bytes, len, &error);
    g_assert_no_error(error);
    const char *nl = memchr(bytes, '\n', *len);
    g_assert_nonnull(nl);
    g_assert_cmpint(sscanf(bytes, "%d %d %d", &dims[0], &dims[1], &dims[2]), ==, 3);
    *body = nl + 1;
    *len -= (gsize)(*body - bytes);
    return bytes;
}

PvxImage *tu_read_raw(const char *path)
{
    gsize len;
    const char *body;
    int d[3];
    g_autofree char *bytes = read_all(path, &len, &body, d);
    g_assert_cmpuint(len, ==, (gsize)d[0] * d[1] * d[2]);
    PvxImage *img = pvx_image_new(d[0], d[1], d[2]);
    memcpy(img->data, body, len);
    return img;
}

PvxTensor *tu_read_f32(const char *path)
{
    gsize len;
    const char *body;
    int d[3];
    g_autofree char *bytes = read_all(path, &len, &body, d);
    g_assert_cmpuint(len, ==, (gsize)d[0] * d[1] * d[2] * sizeof(float));
    PvxTensor *t = pvx_tensor_new_shape(3, (int64_t)d[0], (int64_t)d[1], (int64_t)d[2]);
    memcpy(t->data, body, len);
    return t;
}

PvxImage *tu_pattern(int width, int height, int channels, guint32 seed)
{
    PvxImage *img = pvx_image_new(width, height, channels);
    GRand *rand = g_rand_new_with_seed(seed);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            for (int c = 0; c < channels; c++) {
                int v;
                if (c == 3) /* alpha: a ramp with fully transparent and opaque areas */
                    v = CLAMP((x * 400) / MAX(width - 1, 1) - 60, 0, 255);
                else if ((x / 7 + y / 5 + c) % 4 == 0)
                    v = 255 * ((x + c) % 2); /* sharp checker detail */
                else
                    v = (x * 255 / MAX(width - 1, 1) + y * (c + 1) * 37 + c * 80) % 256;
                v += g_rand_int_range(rand, -20, 21);
                img->data[((gsize)y * width + x) * channels + c] = (uint8_t)CLAMP(v, 0, 255);
            }
    g_rand_free(rand);
    return img;
}

int tu_max_diff(const PvxImage *a, const PvxImage *b)
{
    if (a->width != b->width || a->height != b->height || a->channels != b->channels)
        return -1;
    int m = 0;
    gsize n = (gsize)a->width * a->height * a->channels;
    for (gsize i = 0; i < n; i++)
        m = MAX(m, ABS((int)a->data[i] - (int)b->data[i]));
    return m;
}
