/* Tests of the rendering helpers: text, mask outlines, nearest enlargement, grids. */
#include <string.h>

#include "test_util.h"

static const uint8_t red[3] = {255, 0, 0};

static int count_color(const PvxImage *img, const uint8_t rgb[3], int x0, int y0, int w, int h)
{
    int n = 0;
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++)
            n += memcmp(img->data + ((gsize)y * img->width + x) * 3, rgb, 3) == 0;
    return n;
}

static void text_width_counts_glyphs_and_lines(void)
{
    g_assert_cmpint(pvx_text_width("", 1), ==, 0);
    g_assert_cmpint(pvx_text_width("A", 1), ==, 5);
    g_assert_cmpint(pvx_text_width("AB", 1), ==, 11);
    g_assert_cmpint(pvx_text_width("AB", 3), ==, 33);
    g_assert_cmpint(pvx_text_width("ab\nabcd\nx", 1), ==, 23);
    /* "é" is two UTF-8 bytes, one glyph. */
    g_assert_cmpint(pvx_text_width("\xc3\xa9", 1), ==, 5);
    g_assert_cmpint(pvx_text_height("x", 2), ==, 14);
    g_assert_cmpint(pvx_text_height("x\ny", 1), ==, 16);
}

static void draw_text_stays_in_its_box(void)
{
    g_autoptr(PvxImage) img = pvx_image_new(60, 30, 3);
    pvx_image_draw_text(img, 3, 4, "Hi 8!", red, 2);
    int w = pvx_text_width("Hi 8!", 2), h = pvx_text_height("Hi 8!", 2);
    int inside = count_color(img, red, 3, 4, w, h);
    int all = count_color(img, red, 0, 0, 60, 30);
    g_assert_cmpint(inside, >, 40);
    g_assert_cmpint(all, ==, inside);
    /* 'H' at scale 2: its left column is 7 cells = 14 pixels tall, 2 wide. */
    g_assert_cmpint(count_color(img, red, 3, 4, 2, 14), ==, 28);
    /* Clipped at every edge without touching memory outside. */
    pvx_image_draw_text(img, -7, -5, "clip me", red, 3);
    pvx_image_draw_text(img, 55, 25, "clip me", red, 3);
    g_autoptr(PvxImage) gray = pvx_image_new(20, 10, 1);
    pvx_image_draw_text(gray, 0, 0, "I", (const uint8_t[3]){255, 255, 255}, 1);
    g_assert_cmpint(gray->data[2], ==, 255);
}

static void outline_mask_marks_only_the_boundary(void)
{
    g_autoptr(PvxImage) img = pvx_image_new(20, 20, 3);
    g_autoptr(PvxTensor) mask = pvx_tensor_new_shape(2, (int64_t)10, (int64_t)10);
    for (int y = 2; y < 8; y++)
        for (int x = 3; x < 7; x++)
            mask->data[y * 10 + x] = 1.0f;
    mask->data[0] = 0.4f; /* below the 0.5 threshold: outside */
    /* The 10×10 mask is sampled onto the 20×20 image: the region is x 6..13, y 4..15. */
    pvx_image_outline_mask(img, mask, red, 1);
    g_assert_cmpint(count_color(img, red, 0, 0, 20, 20), ==, 8 * 12 - 6 * 10);
    g_assert_cmpint(count_color(img, red, 6, 4, 8, 1), ==, 8);
    g_assert_cmpint(count_color(img, red, 7, 5, 6, 10), ==, 0);
    g_autoptr(PvxImage) thick = pvx_image_new(20, 20, 3);
    pvx_image_outline_mask(thick, mask, red, 2);
    g_assert_cmpint(count_color(thick, red, 0, 0, 20, 20), ==, 8 * 12 - 4 * 8);
    /* A mask filling the picture is outlined along the picture's edge. */
    g_autoptr(PvxTensor) full = pvx_tensor_new_shape(2, (int64_t)20, (int64_t)20);
    pvx_tensor_fill(full, 1.0f);
    g_autoptr(PvxImage) edge = pvx_image_new(20, 20, 3);
    pvx_image_outline_mask(edge, full, red, 1);
    g_assert_cmpint(count_color(edge, red, 0, 0, 20, 20), ==, 20 * 20 - 18 * 18);
}

static void scale_nearest_makes_blocks(void)
{
    g_autoptr(PvxImage) img = tu_pattern(7, 5, 1, 3);
    g_autoptr(PvxImage) big = pvx_image_scale_nearest(img, 4);
    g_assert_cmpint(big->width, ==, 28);
    g_assert_cmpint(big->height, ==, 20);
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < 28; x++)
            g_assert_cmpint(big->data[y * 28 + x], ==, img->data[(y / 4) * 7 + x / 4]);
}

static void render_grid_places_tiles_and_labels(void)
{
    PvxImage *tiles[6] = {NULL};
    for (int i = 0; i < 6; i++) {
        if (i == 4)
            continue; /* a blank cell */
        tiles[i] = pvx_image_new(16, 12, i == 1 ? 1 : 3);
        uint8_t c[3] = {(uint8_t)(40 * i), 200, (uint8_t)(255 - 30 * i)};
        pvx_image_fill_rect(tiles[i], 0, 0, 16, 12, c);
    }
    const char *rows[] = {"CR 1", "CR 32"};
    const char *cols[] = {"image", "gradcam", "a very long column label"};
    PvxGridOptions opts = {
        .title = "Grid test", .row_labels = rows, .col_labels = cols, .margin = 3};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxImage) grid = pvx_render_grid(tiles, 2, 3, &opts, &error);
    g_assert_no_error(error);
    int label_w = pvx_text_width("CR 32", 1);
    int left = 3 + label_w + 3, top = 3 + 7 + 3 + 7 + 3;
    g_assert_cmpint(grid->channels, ==, 3);
    g_assert_cmpint(grid->width, ==, left + 3 * 16 + 2 * 3 + 3);
    g_assert_cmpint(grid->height, ==, top + 2 * 12 + 3 + 3);
    /* Tile (row 1, col 2) = tiles[5] at its place; the blank cell keeps the background. */
    const uint8_t *p =
        grid->data + ((gsize)(top + 12 + 3 + 5) * grid->width + left + 2 * 19 + 8) * 3;
    g_assert_cmpint(p[0], ==, 200);
    g_assert_cmpint(p[2], ==, 255 - 150);
    const uint8_t white[3] = {255, 255, 255};
    g_assert_cmpint(count_color(grid, white, left + 19, top + 15, 16, 12), ==, 16 * 12);
    /* Row labels and the title put dark pixels left of and above the tiles only. */
    const uint8_t black[3] = {0, 0, 0};
    g_assert_cmpint(count_color(grid, black, 0, top, left, 12), >, 10);
    g_assert_cmpint(count_color(grid, black, 0, 0, grid->width, 3 + 7), >, 10);
    /* The long column label is clipped to its column. */
    g_assert_cmpint(count_color(grid, black, grid->width - 3, 0, 3, grid->height), ==, 0);

    if (g_test_verbose()) {
        g_autofree char *dir = tu_make_tmpdir();
        g_autofree char *out = g_build_filename(dir, "grid.png", NULL);
        g_autoptr(PvxImage) big = pvx_image_scale_nearest(grid, 4);
        g_assert_true(pvx_image_save_png(big, out, NULL));
        g_test_message("grid written to %s", out);
    }

    /* Tiles of different sizes are refused. */
    PvxImage *odd = pvx_image_new(10, 10, 3);
    PvxImage *bad[2] = {tiles[0], odd};
    g_autoptr(PvxImage) none = pvx_render_grid(bad, 1, 2, NULL, &error);
    g_assert_null(none);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    pvx_image_free(odd);
    for (int i = 0; i < 6; i++)
        pvx_image_free(tiles[i]);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/render/text_width_counts_glyphs_and_lines",
                    text_width_counts_glyphs_and_lines);
    g_test_add_func("/render/draw_text_stays_in_its_box", draw_text_stays_in_its_box);
    g_test_add_func("/render/outline_mask_marks_only_the_boundary",
                    outline_mask_marks_only_the_boundary);
    g_test_add_func("/render/scale_nearest_makes_blocks", scale_nearest_makes_blocks);
    g_test_add_func("/render/render_grid_places_tiles_and_labels",
                    render_grid_places_tiles_and_labels);
    return g_test_run();
}
