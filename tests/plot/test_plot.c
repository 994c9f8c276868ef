/* Tests of pvx-private/plot.h: figures in PNG, PDF and SVG, checked by reading the files back. */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include "pvx-private/core.h"

typedef struct {
    char *dir;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) error = NULL;
    f->dir = g_dir_make_tmp("pvx-plot-test-XXXXXX", &error);
    g_assert_no_error(error);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    GDir *d = g_dir_open(f->dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(f->dir, name, NULL);
        g_unlink(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(f->dir);
    g_free(f->dir);
}

static gboolean is_white(const PvxImage *img, int x, int y)
{
    const guint8 *px = img->data + ((gsize)y * img->width + x) * img->channels;
    return px[0] > 245 && px[1] > 245 && px[2] > 245;
}

/* Pixels in the rectangle that are not the white background. */
static int count_ink(const PvxImage *img, int x0, int y0, int x1, int y1)
{
    int n = 0;
    for (int y = MAX(0, y0); y < MIN(img->height, y1); y++)
        for (int x = MAX(0, x0); x < MIN(img->width, x1); x++)
            n += !is_white(img, x, y);
    return n;
}

/* Pixels close to @rgb (each channel within 40). */
static int count_colour(const PvxImage *img, int x0, int y0, int x1, int y1, int r, int g, int b)
{
    int n = 0;
    for (int y = MAX(0, y0); y < MIN(img->height, y1); y++)
        for (int x = MAX(0, x0); x < MIN(img->width, x1); x++) {
            const guint8 *px = img->data + ((gsize)y * img->width + x) * img->channels;
            n += abs(px[0] - r) < 40 && abs(px[1] - g) < 40 && abs(px[2] - b) < 40;
        }
    return n;
}

static PvxPlot *accuracy_plot(void)
{
    static const char *crs[] = {"1", "2", "4", "8", "16", "32"};
    const double top1[] = {0.93, 0.93, 0.92, 0.90, 0.85, 0.70};
    const double auc[] = {0.31, 0.30, 0.33, NAN, 0.40, 0.45};
    const double lo[] = {0.28, 0.27, 0.30, NAN, 0.36, 0.41};
    const double hi[] = {0.34, 0.33, 0.36, NAN, 0.44, 0.49};
    PvxPlot *p = pvx_plot_new("VGG on Fashion-MNIST", 240, 170);
    pvx_plot_set_labels(p, "compression rate", "top-1 accuracy", "deletion AUC");
    pvx_plot_set_x_categories(p, 6, crs);
    pvx_plot_line(p, "top-1", 0, 6, NULL, top1, NULL, NULL);
    pvx_plot_line(p, "deletion AUC", 1, 6, NULL, auc, lo, hi);
    return p;
}

static void test_plot_writes_png_pdf_svg(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(PvxPlot) p = accuracy_plot();
    static const struct {
        const char *name, *magic;
    } files[] = {{"a.png", "\x89PNG\r\n\x1a\n"}, {"a.PDF", "%PDF-"}, {"a.svg", "<?xml"}};
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(f->dir, files[i].name, NULL);
        g_autoptr(GError) error = NULL;
        g_assert_true(pvx_plot_save(p, path, &error));
        g_assert_no_error(error);
        g_autofree char *bytes = NULL;
        gsize len = 0;
        g_assert_true(g_file_get_contents(path, &bytes, &len, NULL));
        g_assert_cmpuint(len, >, 500);
        g_assert_cmpmem(bytes, strlen(files[i].magic), files[i].magic, strlen(files[i].magic));
        if (g_str_has_suffix(path, ".svg")) {
            g_assert_nonnull(strstr(bytes, "<svg"));
            g_assert_nonnull(strstr(bytes, "width=\"240pt\""));
        }
    }
}

static void test_plot_png_has_requested_size_and_data_ink(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(PvxPlot) p = accuracy_plot();
    g_autofree char *path = g_build_filename(f->dir, "acc.png", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_plot_save(p, path, &error));
    g_autoptr(PvxImage) img = pvx_image_load(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(img->width, ==, 480); /* 240 pt at the default 144 dpi */
    g_assert_cmpint(img->height, ==, 340);
    /* corners stay background; the blue (#0072B2) and vermillion (#D55E00) series are drawn */
    g_assert_true(is_white(img, 0, 0) && is_white(img, 479, 339));
    g_assert_cmpint(count_colour(img, 0, 0, 480, 340, 0x00, 0x72, 0xB2), >, 200);
    g_assert_cmpint(count_colour(img, 0, 0, 480, 340, 0xD5, 0x5E, 0x00), >, 200);

    pvx_plot_set_dpi(p, 72);
    g_assert_true(pvx_plot_save(p, path, &error));
    g_autoptr(PvxImage) small = pvx_image_load(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(small->width, ==, 240);
    g_assert_cmpint(small->height, ==, 170);
}

/* A line's blue is drawn where its points are: in the top half for high values and in the
 * bottom half for low ones, nowhere else (left axis fixed to [0, 1]). */
static void test_plot_line_is_drawn_where_its_data_are(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autofree char *path = g_build_filename(f->dir, "where.png", NULL);
    g_autoptr(GError) error = NULL;
    const double x[] = {0, 1, 2, 3};
    for (int high = 0; high < 2; high++) {
        double y[4];
        for (int i = 0; i < 4; i++)
            y[i] = high ? 0.95 : 0.05;
        g_autoptr(PvxPlot) p = pvx_plot_new(NULL, 200, 200);
        pvx_plot_set_dpi(p, 72);
        pvx_plot_set_y_range(p, 0, 0, 1);
        pvx_plot_line(p, NULL, 0, 4, x, y, NULL, NULL);
        g_assert_true(pvx_plot_save(p, path, &error));
        g_autoptr(PvxImage) img = pvx_image_load(path, &error);
        g_assert_no_error(error);
        int top = count_colour(img, 0, 0, 200, 90, 0x00, 0x72, 0xB2);
        int bottom = count_colour(img, 0, 110, 200, 200, 0x00, 0x72, 0xB2);
        if (high) {
            g_assert_cmpint(top, >, 100);
            g_assert_cmpint(bottom, ==, 0);
        } else {
            g_assert_cmpint(bottom, >, 100);
            g_assert_cmpint(top, ==, 0);
        }
    }
}

/* Bars: two series of three groups, the second series' bar in group 2 is the only tall one. */
static void test_plot_bars_heights_follow_values(Fixture *f, gconstpointer data)
{
    (void)data;
    static const char *groups[] = {"Grad-CAM", "Grad-CAM++", "occlusion"};
    static const char *series[] = {"CR 1", "CR 32"};
    const double v[] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.9};
    const double lo[] = {0.05, 0.05, 0.05, 0.05, 0.05, 0.8};
    const double hi[] = {0.15, 0.15, 0.15, 0.15, 0.15, 1.0};
    g_autoptr(PvxPlot) p = pvx_plot_new("pointing game", 300, 200);
    pvx_plot_set_dpi(p, 72);
    pvx_plot_set_labels(p, NULL, "hit rate", NULL);
    pvx_plot_set_y_range(p, 0, 0, 1);
    pvx_plot_bars(p, 3, groups, 2, series, v, lo, hi);
    g_autofree char *path = g_build_filename(f->dir, "bars.png", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_plot_save(p, path, &error));
    g_autoptr(PvxImage) img = pvx_image_load(path, &error);
    g_assert_no_error(error);
    /* vermillion (series 2) in the right third, high up; not in the left two thirds high up */
    int right_high = count_colour(img, 200, 40, 300, 110, 0xD5, 0x5E, 0x00);
    int left_high = count_colour(img, 0, 40, 200, 110, 0xD5, 0x5E, 0x00);
    g_assert_cmpint(right_high, >, 100);
    g_assert_cmpint(left_high, ==, 0);
    /* the blue series is drawn (low bars) and in the legend */
    g_assert_cmpint(count_colour(img, 0, 0, 300, 200, 0x00, 0x72, 0xB2), >, 50);
    g_assert_cmpint(count_ink(img, 0, 0, 300, 20), >, 50); /* title */
}

/* A 2×2 matrix [[high, low], [low, high]]: the diagonal cells are yellow-green, the others
 * dark purple (viridis ends). */
static void test_plot_matrix_colours_cells_by_value(Fixture *f, gconstpointer data)
{
    (void)data;
    static const char *names[] = {"cat", "dog"};
    const double v[] = {50, 0, 0, 50};
    g_autoptr(PvxPlot) p = pvx_plot_new(NULL, 200, 200);
    pvx_plot_set_dpi(p, 72);
    pvx_plot_set_labels(p, "predicted", "true", NULL);
    pvx_plot_matrix(p, 2, 2, v, names, names, TRUE);
    g_autofree char *path = g_build_filename(f->dir, "confusion.png", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_plot_save(p, path, &error));
    g_autoptr(PvxImage) img = pvx_image_load(path, &error);
    g_assert_no_error(error);
    int yellow = count_colour(img, 0, 0, 200, 200, 253, 231, 37);
    int purple = count_colour(img, 0, 0, 200, 200, 68, 1, 84);
    g_assert_cmpint(yellow, >, 1000);
    g_assert_cmpint(purple, >, 1000);
    /* SVG of the same matrix carries the annotations as glyphs: the file is well formed */
    g_autofree char *svg = g_build_filename(f->dir, "confusion.svg", NULL);
    g_assert_true(pvx_plot_save(p, svg, &error));
    g_assert_no_error(error);
}

static void test_plot_bad_extension_is_an_error_and_writes_nothing(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(PvxPlot) p = accuracy_plot();
    const char *names[] = {"a.jpg", "noext", "dir.png/figure"};
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *path = g_build_filename(f->dir, names[i], NULL);
        g_autoptr(GError) error = NULL;
        g_assert_false(pvx_plot_save(p, path, &error));
        g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull(strstr(error->message, ".png, .pdf or .svg"));
        g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    }
    /* a folder that does not exist: an I/O error, not a crash */
    g_autofree char *missing = g_build_filename(f->dir, "no", "such", "fig.pdf", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_false(pvx_plot_save(p, missing, &error));
    g_assert_nonnull(error);
}

static void test_plot_empty_figure_is_valid(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(PvxPlot) p = pvx_plot_new("nothing yet", 100, 80);
    for (int i = 0; i < 3; i++) {
        const char *ext[] = {"png", "pdf", "svg"};
        g_autofree char *name = g_strdup_printf("empty.%s", ext[i]);
        g_autofree char *path = g_build_filename(f->dir, name, NULL);
        g_autoptr(GError) error = NULL;
        g_assert_true(pvx_plot_save(p, path, &error));
        g_assert_no_error(error);
    }
}

/* Odd data never crash and still give a valid file: no points, all NaN, one point, ±Inf,
 * constant values, negative bars, a 1×1 matrix of NaN, a tiny figure. */
static void test_plot_degenerate_data_still_saves(Fixture *f, gconstpointer data)
{
    (void)data;
    const double nan3[] = {NAN, NAN, NAN}, one[] = {2.5}, inf[] = {1, INFINITY, -INFINITY};
    const double same[] = {7, 7, 7}, neg[] = {-1, -0.5, 0.25};
    const double x3[] = {0, 0, 0};
    g_autoptr(PvxPlot) a = pvx_plot_new("odd", 200, 150);
    pvx_plot_line(a, "empty", 0, 0, NULL, NULL, NULL, NULL);
    pvx_plot_line(a, "nan", 0, 3, x3, nan3, nan3, nan3);
    pvx_plot_line(a, "one", 1, 1, one, one, NULL, NULL);
    pvx_plot_line(a, "inf", 0, 3, same, inf, NULL, NULL);
    g_autoptr(PvxPlot) b = pvx_plot_new(NULL, 200, 150);
    pvx_plot_bars(b, 3, NULL, 1, NULL, neg, NULL, NULL);
    pvx_plot_line(b, NULL, 1, 3, NULL, same, same, same);
    g_autoptr(PvxPlot) c = pvx_plot_new("nan matrix", 120, 120);
    pvx_plot_matrix(c, 1, 1, nan3, NULL, NULL, TRUE);
    g_autoptr(PvxPlot) d = pvx_plot_new("a long title in a figure far too small for it", 20, 10);
    pvx_plot_set_labels(d, "x", "y", "right");
    pvx_plot_line(d, "a series with a long name", 0, 3, x3, same, NULL, NULL); /* x span 0 */
    const PvxPlot *plots[] = {a, b, c, d};
    for (gsize i = 0; i < G_N_ELEMENTS(plots); i++)
        for (int k = 0; k < 3; k++) {
            const char *ext[] = {"png", "pdf", "svg"};
            g_autofree char *name = g_strdup_printf("odd%zu.%s", i, ext[k]);
            g_autofree char *path = g_build_filename(f->dir, name, NULL);
            g_autoptr(GError) error = NULL;
            g_assert_true(pvx_plot_save(plots[i], path, &error));
            g_assert_no_error(error);
        }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name)                                                                                  \
    g_test_add("/plot/" #name, Fixture, NULL, fixture_setup, test_##name, fixture_teardown)
    ADD(plot_writes_png_pdf_svg);
    ADD(plot_png_has_requested_size_and_data_ink);
    ADD(plot_line_is_drawn_where_its_data_are);
    ADD(plot_bars_heights_follow_values);
    ADD(plot_matrix_colours_cells_by_value);
    ADD(plot_bad_extension_is_an_error_and_writes_nothing);
    ADD(plot_empty_figure_is_valid);
    ADD(plot_degenerate_data_still_saves);
    return g_test_run();
}
