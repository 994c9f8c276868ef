/* Tests of resizing, cropping and tensor conversion against PIL and torchvision. */
#include <math.h>
#include <string.h>

#include "test_util.h"

static void resize_matches_pil_bilinear(void)
{
    g_autofree char *dir = tu_make_tmpdir();
    /* source w, h, channels, then target sizes: up, down (antialiased), mixed, extreme */
    static const int sources[][3] = {
        {37, 23, 3}, {200, 150, 3}, {64, 64, 1}, {51, 33, 4}, {500, 375, 3}};
    static const int targets[][2] = {{100, 70}, {13, 9},    {37, 5},    {123, 77},
                                     {1, 1},    {256, 341}, {224, 224}, {3, 200}};
    GString *cmds = g_string_new(NULL);
    for (gsize s = 0; s < G_N_ELEMENTS(sources); s++) {
        g_autoptr(PvxImage) img =
            tu_pattern(sources[s][0], sources[s][1], sources[s][2], (guint32)(100 + s));
        g_autofree char *png = g_strdup_printf("%s/src%zu.png", dir, s);
        g_assert_true(pvx_image_save_png(img, png, NULL));
        for (gsize t = 0; t < G_N_ELEMENTS(targets); t++)
            g_string_append_printf(cmds, "resize %s %s/r%zu_%zu.raw %d %d\n", png, dir, s, t,
                                   targets[t][0], targets[t][1]);
    }
    g_autofree char *text = g_string_free(cmds, FALSE);
    if (tu_python(text)) {
        int worst = 0;
        for (gsize s = 0; s < G_N_ELEMENTS(sources); s++) {
            g_autofree char *png = g_strdup_printf("%s/src%zu.png", dir, s);
            g_autoptr(PvxImage) img = pvx_image_load(png, NULL);
            for (gsize t = 0; t < G_N_ELEMENTS(targets); t++) {
                g_autofree char *raw = g_strdup_printf("%s/r%zu_%zu.raw", dir, s, t);
                g_autoptr(PvxImage) pil = tu_read_raw(raw);
                g_autoptr(PvxImage) ours = pvx_image_resize(img, targets[t][0], targets[t][1]);
                int d = tu_max_diff(ours, pil);
                if (d != 0)
                    g_test_message("%dx%dx%d -> %dx%d: max |pvx - PIL| = %d", sources[s][0],
                                   sources[s][1], sources[s][2], targets[t][0], targets[t][1], d);
                g_assert_cmpint(d, >=, 0);
                worst = MAX(worst, d);
            }
        }
        g_test_message("resize: worst max |pvx - PIL| = %d", worst);
        g_assert_cmpint(worst, <=, 1);
    }
    tu_rm_rf(dir);
}

static void resize_shorter_center_crop_match_torchvision(void)
{
    g_autofree char *dir = tu_make_tmpdir();
    /* w, h, resize (0 = none), crop */
    static const int cases[][4] = {
        {500, 375, 256, 224}, {375, 500, 256, 224}, {300, 300, 256, 224}, {200, 150, 256, 224},
        {256, 256, 256, 224}, {333, 257, 256, 224}, {101, 300, 0, 224},   {230, 77, 0, 224},
        {225, 226, 0, 224},   {77, 51, 32, 31},
    };
    GString *cmds = g_string_new(NULL);
    for (gsize k = 0; k < G_N_ELEMENTS(cases); k++) {
        g_autoptr(PvxImage) img = tu_pattern(cases[k][0], cases[k][1], 3, (guint32)(200 + k));
        g_autofree char *png = g_strdup_printf("%s/src%zu.png", dir, k);
        g_assert_true(pvx_image_save_png(img, png, NULL));
        g_string_append_printf(cmds, "tv %s %s/tv%zu.raw %d %d\n", png, dir, k, cases[k][2],
                               cases[k][3]);
    }
    g_autofree char *text = g_string_free(cmds, FALSE);
    if (tu_python(text)) {
        for (gsize k = 0; k < G_N_ELEMENTS(cases); k++) {
            g_autofree char *png = g_strdup_printf("%s/src%zu.png", dir, k);
            g_autofree char *raw = g_strdup_printf("%s/tv%zu.raw", dir, k);
            g_autoptr(PvxImage) img = pvx_image_load(png, NULL);
            g_autoptr(PvxImage) resized =
                cases[k][2] ? pvx_image_resize_shorter(img, cases[k][2]) : pvx_image_copy(img);
            g_autoptr(PvxImage) ours = pvx_image_center_crop(resized, cases[k][3], cases[k][3]);
            g_autoptr(PvxImage) tv = tu_read_raw(raw);
            int d = tu_max_diff(ours, tv);
            g_test_message("%dx%d Resize(%d) CenterCrop(%d): max diff %d", cases[k][0], cases[k][1],
                           cases[k][2], cases[k][3], d);
            g_assert_cmpint(d, ==, 0);
        }
    }
    tu_rm_rf(dir);
}

static void resize_shorter_truncates_long_side(void)
{
    g_autoptr(PvxImage) img = pvx_image_new(500, 333, 3);
    g_autoptr(PvxImage) r = pvx_image_resize_shorter(img, 256);
    /* int(256 * 500 / 333) = int(384.38...) = 384 */
    g_assert_cmpint(r->width, ==, 384);
    g_assert_cmpint(r->height, ==, 256);
    g_autoptr(PvxImage) img2 = pvx_image_new(333, 500, 1);
    g_autoptr(PvxImage) r2 = pvx_image_resize_shorter(img2, 256);
    g_assert_cmpint(r2->width, ==, 256);
    g_assert_cmpint(r2->height, ==, 384);
}

static void center_crop_rounds_half_to_even_and_pads(void)
{
    /* A picture whose pixel value is its x coordinate, so the crop offset is visible. */
    g_autoptr(PvxImage) img = pvx_image_new(9, 7, 1);
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 9; x++)
            img->data[y * 9 + x] = (uint8_t)(x + 10 * y);
    /* (9 - 4) / 2 = 2.5 → 2 (even); (7 - 4) / 2 = 1.5 → 2 */
    g_autoptr(PvxImage) c = pvx_image_center_crop(img, 4, 4);
    g_assert_cmpint(c->data[0], ==, 2 + 10 * 2);
    /* (9 - 6) / 2 = 1.5 → 2; (7 - 2) / 2 = 2.5 → 2 */
    g_autoptr(PvxImage) c2 = pvx_image_center_crop(img, 6, 2);
    g_assert_cmpint(c2->data[0], ==, 2 + 10 * 2);
    /* Padding: 12 wide → left pad (12 - 9) // 2 = 1; the pad is zero. */
    g_autoptr(PvxImage) p = pvx_image_center_crop(img, 12, 7);
    const uint8_t *row1 = p->data + 12;
    g_assert_cmpint(row1[0], ==, 0);
    g_assert_cmpint(row1[1], ==, 10);
    g_assert_cmpint(row1[9], ==, 18);
    g_assert_cmpint(row1[10], ==, 0);
    g_assert_cmpint(row1[11], ==, 0);
}

static void to_tensor_matches_torchvision(void)
{
    g_autofree char *dir = tu_make_tmpdir();
    g_autoptr(PvxImage) img = tu_pattern(300, 260, 3, 42);
    g_autofree char *png = g_build_filename(dir, "src.png", NULL);
    g_assert_true(pvx_image_save_png(img, png, NULL));
    g_autofree char *cmds = g_strdup_printf("totensor %s %s/t.f32 256 224\n", png, dir);
    if (tu_python(cmds)) {
        g_autofree char *f32 = g_build_filename(dir, "t.f32", NULL);
        g_autoptr(PvxTensor) ref = tu_read_f32(f32);
        g_autoptr(PvxImage) r = pvx_image_resize_shorter(img, 256);
        g_autoptr(PvxImage) c = pvx_image_center_crop(r, 224, 224);
        g_autoptr(PvxTensor) t = pvx_image_to_tensor(c, pvx_imagenet_mean, pvx_imagenet_std);
        g_assert_true(pvx_tensor_same_shape(t, ref));
        double worst = 0;
        for (int64_t i = 0; i < pvx_tensor_numel(t); i++)
            worst = MAX(worst, fabs((double)t->data[i] - ref->data[i]));
        g_test_message("to_tensor: max |pvx - torchvision| = %g", worst);
        g_assert_cmpfloat(worst, <=, 1e-6);
    }
    tu_rm_rf(dir);
}

static void from_tensor_inverts_to_tensor(void)
{
    g_autoptr(PvxImage) img = tu_pattern(31, 17, 3, 8);
    g_autoptr(PvxTensor) t = pvx_image_to_tensor(img, pvx_imagenet_mean, pvx_imagenet_std);
    g_autoptr(PvxImage) back = pvx_image_from_tensor(t, pvx_imagenet_mean, pvx_imagenet_std);
    g_assert_cmpint(tu_max_diff(img, back), ==, 0);
    g_autoptr(PvxImage) g = tu_pattern(5, 4, 1, 8);
    g_autoptr(PvxTensor) tg = pvx_image_to_tensor(g, NULL, NULL);
    g_assert_cmpint(tg->shape[0], ==, 1);
    g_assert_cmpfloat(tg->data[3], ==, g->data[3] / 255.0f);
    g_autoptr(PvxImage) gb = pvx_image_from_tensor(tg, NULL, NULL);
    g_assert_cmpint(tu_max_diff(g, gb), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/image/resize_matches_pil_bilinear", resize_matches_pil_bilinear);
    g_test_add_func("/image/resize_shorter_center_crop_match_torchvision",
                    resize_shorter_center_crop_match_torchvision);
    g_test_add_func("/image/resize_shorter_truncates_long_side",
                    resize_shorter_truncates_long_side);
    g_test_add_func("/image/center_crop_rounds_half_to_even_and_pads",
                    center_crop_rounds_half_to_even_and_pads);
    g_test_add_func("/image/to_tensor_matches_torchvision", to_tensor_matches_torchvision);
    g_test_add_func("/image/from_tensor_inverts_to_tensor", from_tensor_inverts_to_tensor);
    return g_test_run();
}
