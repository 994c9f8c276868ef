/* Tests of PNG/JPEG reading and writing, format detection and channel conversion. */
#include <png.h>
#include <string.h>

#include <glib/gstdio.h>

#include "test_util.h"

/* Writes a PNG with libpng directly, for layouts pvx does not write itself (16-bit, palette,
 * gray+alpha). @rows holds height rows of rowbytes each. */
static void write_png_raw(const char *path, int w, int h, int depth, int color_type,
                          const uint8_t *pixels, gsize rowbytes, const png_color *palette,
                          int n_palette, const uint8_t *trans, int n_trans)
{
    FILE *fp = fopen(path, "wb");
    g_assert_nonnull(fp);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    g_assert_true(png && info);
    if (setjmp(png_jmpbuf(png)))
        g_error("libpng failed writing the fixture %s", path);
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette)
        png_set_PLTE(png, info, palette, n_palette);
    if (trans)
        png_set_tRNS(png, info, trans, n_trans, NULL);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, pixels + (gsize)y * rowbytes);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(fp);
}

static void png_round_trip_keeps_gray_rgb_rgba(void)
{
    g_autofree char *dir = tu_make_tmpdir();
    for (int c = 1; c <= 4; c++) {
        if (c == 2)
            continue;
        g_autoptr(PvxImage) img = tu_pattern(37, 23, c, 7 + c);
        g_autofree char *path = g_strdup_printf("%s/rt%d.png", dir, c);
        g_autoptr(GError) error = NULL;
        g_assert_true(pvx_image_save_png(img, path, &error));
        g_assert_no_error(error);
        g_autoptr(PvxImage) back = pvx_image_load(path, &error);
        g_assert_no_error(error);
        g_assert_cmpint(back->channels, ==, c);
        g_assert_cmpint(tu_max_diff(img, back), ==, 0);
    }
    /* The temporary file was renamed away: only the three PNGs remain. */
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    int n = 0;
    while (g_dir_read_name(d))
        n++;
    g_assert_cmpint(n, ==, 3);
    tu_rm_rf(dir);
}

static void png_save_into_missing_folder_fails_with_io_error(void)
{
    g_autoptr(PvxImage) img = tu_pattern(4, 4, 3, 1);
    g_autoptr(GError) error = NULL;
    g_assert_false(pvx_image_save_png(img, "/nonexistent-pvx-dir/x.png", &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "/nonexistent-pvx-dir/x.png"));
}

static void png_16bit_keeps_high_byte(void)
{
    g_autofree char *dir = tu_make_tmpdir();
    int w = 5, h = 3;
    /* RGB 16-bit, big-endian samples. */
    g_autofree uint8_t *rgb16 = g_malloc((gsize)w * h * 6);
    g_autofree uint8_t *gray16 = g_malloc((gsize)w * h * 2);
    for (int i = 0; i < w * h * 3; i++) {
        int v = i * 4099 % 65536;
        rgb16[2 * i] = (uint8_t)(v >> 8), rgb16[2 * i + 1] = (uint8_t)v;
    }
    for (int i = 0; i < w * h; i++) {
        int v = 65535 - i * 3001;
        gray16[2 * i] = (uint8_t)(v >> 8), gray16[2 * i + 1] = (uint8_t)v;
    }
    g_autofree char *p1 = g_build_filename(dir, "rgb16.png", NULL);
    g_autofree char *p2 = g_build_filename(dir, "gray16.png", NULL);
    write_png_raw(p1, w, h, 16, PNG_COLOR_TYPE_RGB, rgb16, (gsize)w * 6, NULL, 0, NULL, 0);
    write_png_raw(p2, w, h, 16, PNG_COLOR_TYPE_GRAY, gray16, (gsize)w * 2, NULL, 0, NULL, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxImage) a = pvx_image_load(p1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(a->channels, ==, 3);
    for (int i = 0; i < w * h * 3; i++)
        g_assert_cmpint(a->data[i], ==, rgb16[2 * i]);
    g_autoptr(PvxImage) b = pvx_image_load(p2, &error);
    g_assert_no_error(error);
    g_assert_cmpint(b->channels, ==, 1);
    for (int i = 0; i < w * h; i++)
        g_assert_cmpint(b->data[i], ==, gray16[2 * i]);
    tu_rm_rf(dir);
}

static void png_palette_expands_to_rgb_or_rgba(void)
{
    g_autofree char *dir = tu_make_tmpdir();
    png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
    uint8_t trans[4] = {255, 128, 0, 255};
    int w = 6, h = 2;
    /* 8-bit indices, and a 2-bit packed version of the same picture. */
    uint8_t idx[12], packed[4];
    memset(packed, 0, sizeof packed);
    for (int i = 0; i < w * h; i++) {
        idx[i] = (uint8_t)(i * 7 % 4);
        int x = i % w, y = i / w;
        packed[y * 2 + x / 4] |= (uint8_t)(idx[i] << (6 - 2 * (x % 4)));
    }
    g_autofree char *p8 = g_build_filename(dir, "pal8.png", NULL);
    g_autofree char *p2 = g_build_filename(dir, "pal2.png", NULL);
    g_autofree char *pt = g_build_filename(dir, "palt.png", NULL);
    write_png_raw(p8, w, h, 8, PNG_COLOR_TYPE_PALETTE, idx, (gsize)w, pal, 4, NULL, 0);
    write_png_raw(p2, w, h, 2, PNG_COLOR_TYPE_PALETTE, packed, 2, pal, 4, NULL, 0);
    write_png_raw(pt, w, h, 8, PNG_COLOR_TYPE_PALETTE, idx, (gsize)w, pal, 4, trans, 4);
    const char *paths[] = {p8, p2, pt};
    for (int k = 0; k < 3; k++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(PvxImage) img = pvx_image_load(paths[k], &error);
        g_assert_no_error(error);
        g_assert_cmpint(img->channels, ==, k == 2 ? 4 : 3);
        for (int i = 0; i < w * h; i++) {
            const uint8_t *p = img->data + i * img->channels;
            g_assert_cmpint(p[0], ==, pal[idx[i]].red);
            g_assert_cmpint(p[1], ==, pal[idx[i]].green);
            g_assert_cmpint(p[2], ==, pal[idx[i]].blue);
            if (k == 2)
                g_assert_cmpint(p[3], ==, trans[idx[i]]);
        }
    }
    tu_rm_rf(dir);
}

static void png_gray_alpha_becomes_rgba(void)
{
    g_autofree char *dir = tu_make_tmpdir();
    uint8_t ga[8] = {0, 255, 50, 128, 200, 0, 255, 7};
    g_autofree char *p = g_build_filename(dir, "ga.png", NULL);
    write_png_raw(p, 2, 2, 8, PNG_COLOR_TYPE_GRAY_ALPHA, ga, 4, NULL, 0, NULL, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxImage) img = pvx_image_load(p, &error);
    g_assert_no_error(error);
    g_assert_cmpint(img->channels, ==, 4);
    for (int i = 0; i < 4; i++) {
        for (int c = 0; c < 3; c++)
            g_assert_cmpint(img->data[i * 4 + c], ==, ga[i * 2]);
        g_assert_cmpint(img->data[i * 4 + 3], ==, ga[i * 2 + 1]);
    }
    tu_rm_rf(dir);
}

static void jpeg_decode_matches_pil(void)
{
    g_autofree char *dir = tu_make_tmpdir();
    g_autoptr(PvxImage) src = tu_pattern(61, 45, 3, 3);
    g_autofree char *png = g_build_filename(dir, "src.png", NULL);
    g_assert_true(pvx_image_save_png(src, png, NULL));
    const char *variants[] = {"90", "75 progressive", "85 gray"};
    GString *cmds = g_string_new(NULL);
    for (int k = 0; k < 3; k++)
        g_string_append_printf(cmds, "jpeg %s %s/v%d.jpg %s\n", png, dir, k, variants[k]);
    for (int k = 0; k < 3; k++)
        g_string_append_printf(cmds, "decode %s/v%d.jpg %s/v%d.raw\n", dir, k, dir, k);
    g_autofree char *text = g_string_free(cmds, FALSE);
    if (tu_python(text)) {
        for (int k = 0; k < 3; k++) {
            g_autofree char *jpg = g_strdup_printf("%s/v%d.jpg", dir, k);
            g_autofree char *raw = g_strdup_printf("%s/v%d.raw", dir, k);
            g_autoptr(GError) error = NULL;
            g_autoptr(PvxImage) ours = pvx_image_load(jpg, &error);
            g_assert_no_error(error);
            g_autoptr(PvxImage) pil = tu_read_raw(raw);
            g_assert_cmpint(ours->channels, ==, k == 2 ? 1 : 3);
            int d = tu_max_diff(ours, pil);
            g_test_message("%s: max |pvx - PIL| = %d", variants[k], d);
            g_assert_cmpint(d, >=, 0);
            g_assert_cmpint(d, <=, 1);
        }
    }
    tu_rm_rf(dir);
}

/* Writes the first @keep bytes of @src to @dst. */
static void truncate_copy(const char *src, const char *dst, double keep)
{
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(src, &bytes, &len, NULL));
    g_assert_true(g_file_set_contents(dst, bytes, (gssize)(len * keep), NULL));
}

static void assert_format_error_names(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxImage) img = pvx_image_load(path, &error);
    g_assert_null(img);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_FORMAT);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, path));
}

static void truncated_png_is_format_error_naming_file(void)
{
    g_autofree char *dir = tu_make_tmpdir();
    g_autoptr(PvxImage) src = tu_pattern(64, 64, 3, 5);
    g_autofree char *full = g_build_filename(dir, "full.png", NULL);
    g_assert_true(pvx_image_save_png(src, full, NULL));
    const double keeps[] = {0.02, 0.5, 0.97};
    for (int k = 0; k < 3; k++) {
        g_autofree char *cut = g_strdup_printf("%s/cut%d.png", dir, k);
        truncate_copy(full, cut, keeps[k]);
        assert_format_error_names(cut);
    }
    tu_rm_rf(dir);
}

/* The JPEGs come from PIL (baseline and progressive); without it the test is skipped. */
static void truncated_jpeg_is_format_error_naming_file(void)
{
    g_autofree char *dir = tu_make_tmpdir();
    g_autoptr(PvxImage) src = tu_pattern(64, 64, 3, 6);
    g_autofree char *png = g_build_filename(dir, "src.png", NULL);
    g_assert_true(pvx_image_save_png(src, png, NULL));
    g_autofree char *cmds = g_strdup_printf("jpeg %s %s/full.jpg 90\n"
                                            "jpeg %s %s/prog.jpg 90 progressive\n",
                                            png, dir, png, dir);
    if (tu_python(cmds)) {
        const char *names[] = {"full", "prog"};
        const double keeps[] = {0.05, 0.5, 0.95};
        for (int n = 0; n < 2; n++)
            for (int k = 0; k < 3; k++) {
                g_autofree char *full = g_strdup_printf("%s/%s.jpg", dir, names[n]);
                g_autofree char *cut = g_strdup_printf("%s/%s-cut%d.jpg", dir, names[n], k);
                truncate_copy(full, cut, keeps[k]);
                assert_format_error_names(cut);
            }
    }
    tu_rm_rf(dir);
}

static void random_bytes_are_format_error_naming_file(void)
{
    g_autofree char *dir = tu_make_tmpdir();
    GRand *rand = g_rand_new_with_seed(11);
    uint8_t junk[4096];
    for (gsize i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)g_rand_int(rand);
    g_autofree char *p = g_build_filename(dir, "junk.png", NULL);
    g_assert_true(g_file_set_contents(p, (const char *)junk, sizeof junk, NULL));
    assert_format_error_names(p);
    /* Valid magic bytes followed by garbage must fail inside the decoders, not crash. */
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(junk, png_sig, 8);
    g_autofree char *p2 = g_build_filename(dir, "junk-sig.png", NULL);
    g_assert_true(g_file_set_contents(p2, (const char *)junk, sizeof junk, NULL));
    assert_format_error_names(p2);
    junk[0] = 0xFF, junk[1] = 0xD8, junk[2] = 0xFF;
    g_autofree char *p3 = g_build_filename(dir, "junk-sig.jpg", NULL);
    g_assert_true(g_file_set_contents(p3, (const char *)junk, sizeof junk, NULL));
    assert_format_error_names(p3);
    g_autofree char *empty = g_build_filename(dir, "empty.jpg", NULL);
    g_assert_true(g_file_set_contents(empty, "", 0, NULL));
    assert_format_error_names(empty);
    g_rand_free(rand);
    tu_rm_rf(dir);
}

static void missing_file_is_not_found_naming_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxImage) img = pvx_image_load("/nonexistent-pvx/x.png", &error);
    g_assert_null(img);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "/nonexistent-pvx/x.png"));
}

static void convert_to_gray_matches_pil(void)
{
    g_autofree char *dir = tu_make_tmpdir();
    g_autoptr(PvxImage) src = tu_pattern(50, 40, 3, 9);
    g_autofree char *png = g_build_filename(dir, "src.png", NULL);
    g_assert_true(pvx_image_save_png(src, png, NULL));
    g_autofree char *cmds = g_strdup_printf("convert %s %s/l.raw L\n", png, dir);
    if (tu_python(cmds)) {
        g_autofree char *raw = g_build_filename(dir, "l.raw", NULL);
        g_autoptr(PvxImage) pil = tu_read_raw(raw);
        g_autoptr(PvxImage) ours = pvx_image_convert(src, 1);
        g_assert_cmpint(tu_max_diff(ours, pil), ==, 0);
    }
    /* Gray → RGB → gray is lossless, RGBA drops alpha. */
    g_autoptr(PvxImage) g = tu_pattern(9, 4, 1, 2);
    g_autoptr(PvxImage) rgb = pvx_image_convert(g, 3);
    g_autoptr(PvxImage) g2 = pvx_image_convert(rgb, 1);
    g_assert_cmpint(tu_max_diff(g, g2), ==, 0);
    g_autoptr(PvxImage) rgba = pvx_image_convert(rgb, 4);
    g_assert_cmpint(rgba->data[3], ==, 255);
    tu_rm_rf(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/image/png_round_trip_keeps_gray_rgb_rgba",
                    png_round_trip_keeps_gray_rgb_rgba);
    g_test_add_func("/image/png_save_into_missing_folder_fails_with_io_error",
                    png_save_into_missing_folder_fails_with_io_error);
    g_test_add_func("/image/png_16bit_keeps_high_byte", png_16bit_keeps_high_byte);
    g_test_add_func("/image/png_palette_expands_to_rgb_or_rgba",
                    png_palette_expands_to_rgb_or_rgba);
    g_test_add_func("/image/png_gray_alpha_becomes_rgba", png_gray_alpha_becomes_rgba);
    g_test_add_func("/image/jpeg_decode_matches_pil", jpeg_decode_matches_pil);
    g_test_add_func("/image/truncated_png_is_format_error_naming_file",
                    truncated_png_is_format_error_naming_file);
    g_test_add_func("/image/truncated_jpeg_is_format_error_naming_file",
                    truncated_jpeg_is_format_error_naming_file);
    g_test_add_func("/image/random_bytes_are_format_error_naming_file",
                    random_bytes_are_format_error_naming_file);
    g_test_add_func("/image/missing_file_is_not_found_naming_file",
                    missing_file_is_not_found_naming_file);
    g_test_add_func("/image/convert_to_gray_matches_pil", convert_to_gray_matches_pil);
    return g_test_run();
}
