/* Explainers without PyTorch: the plugin kind, target resolution and its errors, batching,
 * and the rendering of maps (colormaps, heat maps, occlusion maps, resizing). */
#include <stdio.h>

#include "explain_test_util.h"

#include "pvx-private/viridis.h"

static const char *const mini_pairs[] = {"arch=vgg-mini", NULL};

static PvxModel *mini(void)
{
    g_autoptr(GError) error = NULL;
    PvxModel *m = ex_test_build_vgg(mini_pairs, 3, 32, 32, 10, &error);
    g_assert_no_error(error);
    return m;
}

static PvxTensor *random_input(int64_t n, guint32 seed)
{
    PvxTensor *x = pvx_tensor_new_shape(4, n, (int64_t)3, (int64_t)32, (int64_t)32);
    GRand *r = g_rand_new_with_seed(seed);
    for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
        x->data[i] = (float)g_rand_double_range(r, -2, 2);
    g_rand_free(r);
    return x;
}

static PvxExplainer *open_ex(const char *name)
{
    g_autoptr(GError) error = NULL;
    PvxExplainer *ex = pvx_explainer_open_by_name(ex_test_registry(), name, NULL, &error);
    g_assert_no_error(error);
    return ex;
}

static void explain_registry_lists_every_explainer(void)
{
    g_autofree char *names = pvx_registry_names_string(ex_test_registry(), PVX_KIND_EXPLAINER);
    g_assert_cmpstr(names, ==,
                    "ablationcam, eigencam, gradcam, gradcam++, hirescam, "
                    "integrated-gradients, layercam, occlusion, saliency, scorecam, "
                    "xgradcam");
}

static void explain_unknown_target_layer_lists_layer_names(void)
{
    g_autoptr(PvxModel) m = mini();
    g_autoptr(PvxTensor) x = random_input(1, 1);
    g_autoptr(PvxExplainer) ex = open_ex("gradcam");
    g_autoptr(GError) error = NULL;
    PvxExplainOptions o = {.layer = "features.99"};
    g_autoptr(PvxTensor) maps = pvx_explain(ex, m, x, &o, NULL, NULL, &error);
    g_assert_null(maps);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "features.99"));
    g_assert_nonnull(strstr(error->message, "features.0, features.1"));
    g_assert_nonnull(strstr(error->message, "classifier.6"));
}

static void explain_class_index_out_of_range_is_refused(void)
{
    g_autoptr(PvxModel) m = mini();
    g_autoptr(PvxTensor) x = random_input(2, 2);
    g_autoptr(PvxExplainer) ex = open_ex("gradcam");
    g_autoptr(GError) error = NULL;
    PvxExplainOptions o = {.mode = PVX_TARGET_FIXED, .fixed = 10};
    g_assert_null(pvx_explain(ex, m, x, &o, NULL, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "target class 10"));
    g_assert_nonnull(strstr(error->message, "10 classes (0..9)"));
    g_clear_error(&error);
    int64_t labels[2] = {3, -1};
    PvxExplainOptions o2 = {.mode = PVX_TARGET_LABEL, .labels = labels};
    g_assert_null(pvx_explain(ex, m, x, &o2, NULL, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "image 1"));
}

static void explain_gradient_method_on_layer_without_gradient_is_refused(void)
{
    g_autoptr(PvxModel) m = mini();
    g_autoptr(PvxTensor) x = random_input(1, 3);
    g_autoptr(PvxExplainer) ex = open_ex("gradcam");
    g_autoptr(GError) error = NULL;
    PvxExplainOptions o = {.layer = "classifier.6"};
    g_assert_null(pvx_explain(ex, m, x, &o, NULL, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "model's output"));
    g_clear_error(&error);
    PvxExplainOptions o2 = {.layer = "classifier.0"};
    g_assert_null(pvx_explain(ex, m, x, &o2, NULL, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "spatial"));
    g_assert_nonnull(strstr(error->message, "[1, 256]"));
}

static void explain_batch_equals_images_one_by_one(void)
{
    g_autoptr(PvxModel) m = mini();
    g_autoptr(PvxTensor) x = random_input(3, 4);
    const char *methods[] = {"gradcam", "scorecam", "saliency"};
    for (gsize k = 0; k < G_N_ELEMENTS(methods); k++) {
        g_autoptr(PvxExplainer) ex = open_ex(methods[k]);
        g_autoptr(GError) error = NULL;
        PvxExplainOptions o = {0};
        g_autofree int64_t *targets = NULL;
        g_autoptr(PvxTensor) logits = NULL;
        g_autoptr(PvxTensor) all = pvx_explain(ex, m, x, &o, &logits, &targets, &error);
        g_assert_no_error(error);
        int64_t per = all->shape[1] * all->shape[2];
        for (int64_t b = 0; b < 3; b++) {
            /* the predicted class is the argmax */
            for (int c = 0; c < 10; c++)
                g_assert_cmpfloat(logits->data[b * 10 + c], <=, logits->data[b * 10 + targets[b]]);
            g_autoptr(PvxTensor) one = pvx_tensor_narrow0(x, b, 1);
            g_autoptr(PvxTensor) mb = pvx_explain(ex, m, one, &o, NULL, NULL, &error);
            g_assert_no_error(error);
            g_autoptr(PvxTensor) slice = pvx_tensor_new_from_data(1, &per, all->data + b * per);
            g_autoptr(PvxTensor) flat = pvx_tensor_new_from_data(1, &per, mb->data);
            ex_test_expect_close(methods[k], slice, flat, 1e-2);
        }
    }
}

static void explain_eigencam_sign_points_to_active_region(void)
{
    /* Two channels, both large at the same top-left spot: the projection must be positive
     * there whatever sign LAPACK returns. */
    g_autoptr(PvxTensor) act =
        pvx_tensor_new_shape(4, (int64_t)1, (int64_t)2, (int64_t)4, (int64_t)4);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 16; i++)
            act->data[k * 16 + i] = (i == 0 ? 10.0f : 0.1f * (float)((i * (k + 3)) % 5));
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) p = pvx_explain_eigen_projection(act, &error);
    g_assert_no_error(error);
    for (int i = 1; i < 16; i++)
        g_assert_cmpfloat(p->data[0], >, p->data[i]);
    g_assert_cmpfloat(p->data[0], >, 0.0);
    /* negated activations: still pointing to the most active (now: least negative...) side */
    for (int i = 0; i < 32; i++)
        act->data[i] = -act->data[i];
    g_autoptr(PvxTensor) q = pvx_explain_eigen_projection(act, &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(q->data[0], <, 0.0);
}

static void render_colormap_endpoints(void)
{
    uint8_t c[3];
    pvx_colormap_rgb(PVX_COLORMAP_JET, 0.0, c);
    g_assert_cmpint(c[0], ==, 0);
    g_assert_cmpint(c[1], ==, 0);
    g_assert_cmpint(c[2], ==, 128);
    pvx_colormap_rgb(PVX_COLORMAP_JET, 1.0, c);
    g_assert_cmpint(c[0], ==, 128);
    g_assert_cmpint(c[1], ==, 0);
    g_assert_cmpint(c[2], ==, 0);
    pvx_colormap_rgb(PVX_COLORMAP_JET, 0.5, c); /* LUT entry 128, x = 128/255 */
    g_assert_cmpint(c[0], ==, 125);
    g_assert_cmpint(c[1], ==, 255);
    g_assert_cmpint(c[2], ==, 122);
    pvx_colormap_rgb(PVX_COLORMAP_VIRIDIS, 0.0, c);
    g_assert_cmpint(c[0], ==, 68);
    g_assert_cmpint(c[1], ==, 1);
    g_assert_cmpint(c[2], ==, 84);
    pvx_colormap_rgb(PVX_COLORMAP_VIRIDIS, 1.0, c);
    g_assert_cmpint(c[0], ==, 253);
    g_assert_cmpint(c[1], ==, 231);
    g_assert_cmpint(c[2], ==, 37);
    pvx_colormap_rgb(PVX_COLORMAP_VIRIDIS, -3.0, c); /* clamped */
    g_assert_cmpint(c[0], ==, 68);
}

/* The one viridis table against matplotlib's _viridis_data (entries 0, 64, 128, 192, 255: the
 * colours matplotlib gives at 0, ¼, ½, ¾ and 1, #440154 #3b528b #21918c #5ec962 #fde725), and
 * pvx_viridis_rgb's LUT sampling as matplotlib's Colormap.__call__ does it. */
static void render_viridis_is_matplotlibs(void)
{
    static const struct {
        int i;
        float rgb[3];
    } mpl[] = {
        {0, {0.267004f, 0.004874f, 0.329415f}},   {64, {0.229739f, 0.322361f, 0.545706f}},
        {128, {0.127568f, 0.566949f, 0.550556f}}, {192, {0.369214f, 0.788888f, 0.382914f}},
        {255, {0.993248f, 0.906157f, 0.143936f}},
    };
    for (gsize k = 0; k < G_N_ELEMENTS(mpl); k++) {
        double rgb[3];
        pvx_viridis_rgb(mpl[k].i / 256.0, rgb);
        for (int c = 0; c < 3; c++) {
            g_assert_cmpfloat_with_epsilon(pvx_viridis_table[mpl[k].i][c], mpl[k].rgb[c], 1e-6);
            g_assert_cmpfloat(rgb[c], ==, pvx_viridis_table[mpl[k].i][c]);
        }
    }
    g_assert_cmpint(pvx_viridis_index(0.5), ==, 128);
    g_assert_cmpint(pvx_viridis_index(0.25), ==, 64);
    g_assert_cmpint(pvx_viridis_index(255.9 / 256.0), ==, 255);
    g_assert_cmpint(pvx_viridis_index(1.0), ==, 255);
    g_assert_cmpint(pvx_viridis_index(7.0), ==, 255);
    g_assert_cmpint(pvx_viridis_index(-0.1), ==, 0);
    g_assert_cmpint(pvx_viridis_index(NAN), ==, 0);
    uint8_t c[3];
    pvx_colormap_rgb(PVX_COLORMAP_VIRIDIS, 0.5, c); /* #21918c */
    g_assert_cmpint(c[0], ==, 0x21);
    g_assert_cmpint(c[1], ==, 0x91);
    g_assert_cmpint(c[2], ==, 0x8c);
}

static void render_heatmap_overlay_gives_known_pixels(void)
{
    g_autoptr(PvxImage) img = pvx_image_new(4, 2, 3);
    for (int i = 0; i < 8; i++) {
        img->data[i * 3] = 100;
        img->data[i * 3 + 1] = 150;
        img->data[i * 3 + 2] = 200;
    }
    g_autoptr(PvxTensor) raw = pvx_tensor_new_shape(2, (int64_t)2, (int64_t)4);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 4; x++)
            raw->data[y * 4 + x] = x < 2 ? -5.0f : 7.0f; /* ReLU → 0 | 7 → min-max 0 | ~1 */
    g_autoptr(GError) error = NULL;
    PvxMapRenderOptions o;
    pvx_map_render_options_init(&o);
    g_assert_cmpfloat(o.opacity, ==, 0.4);
    g_autoptr(PvxImage) heat = NULL;
    g_assert_true(pvx_render_map_pair(img, raw, &o, &heat, NULL, &error));
    /* left: 0.6·(100,150,200) + 0.4·jet(0) = (60, 90, 120 + 51.2) */
    g_assert_cmpint(heat->data[0], ==, 60);
    g_assert_cmpint(heat->data[1], ==, 90);
    g_assert_cmpint(heat->data[2], ==, 171);
    /* right: 7/(7+1e-7) < 1 → LUT entry 255 = jet(1) = (128, 0, 0): (111, 90, 120) */
    g_assert_cmpint(heat->data[3 * 3 + 0], ==, 111);
    g_assert_cmpint(heat->data[3 * 3 + 1], ==, 90);
    g_assert_cmpint(heat->data[3 * 3 + 2], ==, 120);
    /* opacity 1: the colour map itself */
    g_autoptr(PvxTensor) m01 = pvx_map_normalize(raw, 4, 2, TRUE);
    g_autoptr(PvxImage) solid = pvx_render_heatmap(img, m01, PVX_COLORMAP_VIRIDIS, 1.0, &error);
    g_assert_cmpint(solid->data[0], ==, 68);
    g_assert_cmpint(solid->data[3 * 3], ==, 253);
}

static void render_normalize_resizes_like_cv2(void)
{
    /* 1×2 → 1×4 with half-pixel centres (cv2 INTER_LINEAR / align_corners=False):
     * weights of the right pixel 0, .25, .75, 1. */
    float d[2] = {0.0f, 1.0f};
    g_autoptr(PvxTensor) raw = pvx_tensor_new_from_data(2, (int64_t[]){1, 2}, d);
    g_autoptr(PvxTensor) m = pvx_map_normalize(raw, 4, 1, TRUE);
    const double want[4] = {0, 0.25, 0.75, 1};
    for (int i = 0; i < 4; i++)
        g_assert_cmpfloat_with_epsilon(m->data[i], want[i] * (1.0 / (1.0 + 1e-7)), 1e-6);
    /* align_corners = TRUE (Score-CAM's upsampling): 0, 1/3, 2/3, 1 */
    g_autoptr(PvxTensor) a = pvx_explain_resize_bilinear(raw, 1, 4, TRUE);
    g_assert_cmpfloat_with_epsilon(a->data[1], 1.0 / 3.0, 1e-6);
    g_assert_cmpfloat_with_epsilon(a->data[3], 1.0, 1e-6);
    /* constant map → all 0 (no division by zero) */
    float c[4] = {3, 3, 3, 3};
    g_autoptr(PvxTensor) k = pvx_tensor_new_from_data(2, (int64_t[]){2, 2}, c);
    g_autoptr(PvxTensor) kn = pvx_map_normalize(k, 2, 2, TRUE);
    for (int i = 0; i < 4; i++)
        g_assert_cmpfloat(kn->data[i], ==, 0.0);
}

static void render_occlusion_keeps_exactly_the_fraction(void)
{
    int W = 53, H = 37;
    g_autoptr(PvxTensor) map = pvx_tensor_new_shape(2, (int64_t)H, (int64_t)W);
    GRand *r = g_rand_new_with_seed(7);
    for (int i = 0; i < W * H; i++) /* few distinct values: many ties */
        map->data[i] = (float)g_rand_int_range(r, 0, 6) / 5.0f;
    g_rand_free(r);
    g_autoptr(PvxImage) img = pvx_image_new(W, H, 3);
    memset(img->data, 200, (size_t)W * H * 3);
    const double fractions[] = {0.1, 0.25, 0.5, 0.0, 1.0, 0.333};
    for (gsize f = 0; f < G_N_ELEMENTS(fractions); f++) {
        int64_t kept = 0;
        g_autofree uint8_t *keep = pvx_occlusion_keep_mask(map, fractions[f], &kept);
        int64_t want = llround(fractions[f] * W * H), count = 0;
        g_assert_cmpint(kept, ==, want);
        float min_kept = 2, max_dropped = -1;
        int64_t last_kept_at_min = -1, first_dropped_at_min = W * H;
        for (int i = 0; i < W * H; i++) {
            count += keep[i];
            if (keep[i])
                min_kept = MIN(min_kept, map->data[i]);
            else
                max_dropped = MAX(max_dropped, map->data[i]);
        }
        g_assert_cmpint(count, ==, want);
        if (want > 0 && want < W * H) {
            g_assert_cmpfloat(min_kept, >=, max_dropped);
            /* ties at the threshold: the lower indices are kept */
            for (int i = 0; i < W * H; i++)
                if (map->data[i] == min_kept) {
                    if (keep[i])
                        last_kept_at_min = i;
                    else
                        first_dropped_at_min = MIN(first_dropped_at_min, i);
                }
            g_assert_cmpint(last_kept_at_min, <, first_dropped_at_min);
        }
        for (int fill = PVX_OCCLUDE_BLACK; fill <= PVX_OCCLUDE_BLUR; fill++) {
            g_autoptr(GError) error = NULL;
            g_autoptr(PvxImage) occ =
                pvx_render_occlusion(img, map, fractions[f], fill, 2.0, &error);
            g_assert_no_error(error);
            int64_t unchanged = 0;
            for (int i = 0; i < W * H; i++)
                unchanged += keep[i] && occ->data[i * 3] == 200;
            g_assert_cmpint(unchanged, ==, want);
            if (fill != PVX_OCCLUDE_BLUR)
                for (int i = 0; i < W * H; i++)
                    if (!keep[i])
                        g_assert_cmpint(occ->data[i * 3], ==, fill == PVX_OCCLUDE_BLACK ? 0 : 128);
        }
    }
}

static void render_file_names_carry_id_method_and_cr(void)
{
    g_autofree char *a = pvx_map_file_name("test-000042", "gradcam++", 4, "heat");
    g_assert_cmpstr(a, ==, "test-000042_gradcam++_cr4_heat.png");
    g_autofree char *b = pvx_map_file_name("dir/x y", "saliency", -1, "occl");
    g_assert_cmpstr(b, ==, "dir_x_y_saliency_occl.png");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/explain/registry_lists_every_explainer",
                    explain_registry_lists_every_explainer);
    g_test_add_func("/explain/unknown_target_layer_lists_layer_names",
                    explain_unknown_target_layer_lists_layer_names);
    g_test_add_func("/explain/class_index_out_of_range_is_refused",
                    explain_class_index_out_of_range_is_refused);
    g_test_add_func("/explain/gradient_method_on_layer_without_gradient_is_refused",
                    explain_gradient_method_on_layer_without_gradient_is_refused);
    g_test_add_func("/explain/batch_equals_images_one_by_one",
                    explain_batch_equals_images_one_by_one);
    g_test_add_func("/explain/eigencam_sign_points_to_active_region",
                    explain_eigencam_sign_points_to_active_region);
    g_test_add_func("/render/colormap_endpoints", render_colormap_endpoints);
    g_test_add_func("/render/viridis_is_matplotlibs", render_viridis_is_matplotlibs);
    g_test_add_func("/render/heatmap_overlay_gives_known_pixels",
                    render_heatmap_overlay_gives_known_pixels);
    g_test_add_func("/render/normalize_resizes_like_cv2", render_normalize_resizes_like_cv2);
    g_test_add_func("/render/occlusion_keeps_exactly_the_fraction",
                    render_occlusion_keeps_exactly_the_fraction);
    g_test_add_func("/render/file_names_carry_id_method_and_cr",
                    render_file_names_carry_id_method_and_cr);
    return g_test_run();
}
