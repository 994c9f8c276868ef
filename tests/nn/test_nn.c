/* Models without PyTorch: weight-file errors, taps, masks, initialisation, shapes, FLOPs. */
#include <glib/gstdio.h>
#include <unistd.h>

#include "nn_test_util.h"

static const char *mini_pairs[] = {"arch=vgg-mini", NULL};

static PvxModel *mini(void)
{
    g_autoptr(GError) error = NULL;
    PvxModel *m = nn_test_build_vgg(mini_pairs, 1, 28, 28, 10, &error);
    g_assert_no_error(error);
    return m;
}

/* A fresh store in a temp folder holding @m's weights under /weights (caller removes). */
static char *saved_weights(const PvxModel *m, char **dir_out)
{
    *dir_out = g_dir_make_tmp("pvx-nn-XXXXXX", NULL);
    char *path = g_build_filename(*dir_out, "w.h5", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) s = pvx_store_create(path, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_store_begin(s, &error));
    g_assert_true(pvx_model_save_weights(m, s, "/weights", &error));
    g_assert_true(pvx_store_commit(s, &error));
    g_assert_no_error(error);
    return path;
}

static void cleanup(char *dir, char *path)
{
    g_remove(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

/* Edits the saved file with @edit inside one transaction. */
static PvxStore *edit_begin(const char *path)
{
    g_autoptr(GError) error = NULL;
    PvxStore *s = pvx_store_open(path, TRUE, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_store_begin(s, &error));
    return s;
}

static void edit_commit(PvxStore *s)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_store_commit(s, &error));
    g_assert_no_error(error);
    pvx_store_close(s);
}

static void nn_weights_roundtrip_through_hdf5(void)
{
    g_autoptr(PvxModel) a = mini();
    char *dir;
    char *path = saved_weights(a, &dir);
    g_autoptr(GError) error = NULL;
    const char *pairs[] = {"arch=vgg-mini", "seed=99", NULL};
    g_autoptr(PvxModel) b = nn_test_build_vgg(pairs, 1, 28, 28, 10, &error);
    PvxLayer *la = pvx_model_layer(a, 0), *lb = pvx_model_layer(b, 0);
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(la->weight, lb->weight, 1e-6), >, 0.1);
    g_autofree char *spec = g_strdup_printf("%s:/weights", path);
    g_assert_true(pvx_model_load_weights_file(b, spec, NULL, &error));
    g_assert_no_error(error);
    g_auto(GStrv) na = NULL;
    g_autoptr(GPtrArray) ta = pvx_model_state(a, &na);
    g_autoptr(GPtrArray) tb = pvx_model_state(b, NULL);
    for (guint i = 0; i < ta->len; i++)
        g_assert_cmpfloat(pvx_tensor_max_rel_diff(ta->pdata[i], tb->pdata[i], 1e-30), ==, 0.0);
    cleanup(dir, path);
}

static void nn_load_wrong_shape_names_tensor_and_both_shapes(void)
{
    g_autoptr(PvxModel) m = mini();
    char *dir;
    char *path = saved_weights(m, &dir);
    PvxStore *s = edit_begin(path);
    g_autoptr(PvxTensor) bad =
        pvx_tensor_new_shape(4, (int64_t)64, (int64_t)32, (int64_t)5, (int64_t)5);
    g_assert_true(pvx_store_write_tensor(s, "/weights/features.2.weight", bad, NULL));
    edit_commit(s);
    g_autoptr(GError) error = NULL;
    g_assert_false(pvx_model_load_weights_file(m, path, "/weights", &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "features.2.weight"));
    g_assert_nonnull(strstr(error->message, "[64, 32, 5, 5]"));
    g_assert_nonnull(strstr(error->message, "[32, 32, 3, 3]"));
    cleanup(dir, path);
}

static void nn_load_lists_every_missing_and_extra_tensor(void)
{
    g_autoptr(PvxModel) m = mini();
    char *dir;
    char *path = saved_weights(m, &dir);
    PvxStore *s = edit_begin(path);
    g_assert_true(pvx_store_delete(s, "/weights/features.5.weight", NULL));
    g_assert_true(pvx_store_delete(s, "/weights/classifier.6.bias", NULL));
    g_autoptr(PvxTensor) t = pvx_tensor_new_shape(1, (int64_t)3);
    g_assert_true(pvx_store_write_tensor(s, "/weights/features.99.weight", t, NULL));
    g_assert_true(pvx_store_write_tensor(s, "/weights/fc.bias", t, NULL));
    edit_commit(s);
    g_autoptr(GError) error = NULL;
    g_assert_false(pvx_model_load_weights_file(m, path, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_test_message("%s", error->message);
    const char *want[] = {"2 missing tensors",
                          "features.5.weight",
                          "classifier.6.bias",
                          "2 extra tensors",
                          "features.99.weight",
                          "fc.bias",
                          NULL};
    for (const char *const *w = want; *w; w++)
        if (!strstr(error->message, *w))
            g_error("'%s' lacks '%s'", error->message, *w);
    cleanup(dir, path);
}

static void nn_load_non_hdf5_file_is_a_clear_error(void)
{
    g_autoptr(PvxModel) m = mini();
    g_autofree char *dir = g_dir_make_tmp("pvx-nn-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "weights.pth", NULL);
    g_assert_true(g_file_set_contents(path, "PK\x03\x04 not an HDF5 file", -1, NULL));
    g_autoptr(GError) error = NULL;
    g_assert_false(pvx_model_load_weights_file(m, path, NULL, &error));
    g_assert_nonnull(error);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "weights.pth"));
    g_clear_error(&error);
    /* A missing group says which. */
    g_autoptr(PvxModel) m2 = mini();
    char *dir2;
    char *path2 = saved_weights(m2, &dir2);
    g_assert_false(pvx_model_load_weights_file(m2, path2, "/models/cr1/weights", &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "/models/cr1/weights"));
    cleanup(dir2, path2);
    g_remove(path);
    g_rmdir(dir);
}

static void nn_tap_unknown_layer_lists_layer_names(void)
{
    g_autoptr(PvxModel) m = mini();
    g_autoptr(GError) error = NULL;
    g_assert_false(pvx_model_tap(m, "features.99", &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_test_message("%s", error->message);
    const char *want[] = {"features.99", "features.0, features.1", "avgpool", "classifier.6", NULL};
    for (const char *const *w = want; *w; w++)
        if (!strstr(error->message, *w))
            g_error("'%s' lacks '%s'", error->message, *w);
    g_assert_null(pvx_model_tap_activation(m, "features.99"));
}

static PvxTensor *random_input(int64_t n, guint32 seed)
{
    PvxTensor *x = pvx_tensor_new_shape(4, n, (int64_t)1, (int64_t)28, (int64_t)28);
    GRand *r = g_rand_new_with_seed(seed);
    for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
        x->data[i] = (float)g_rand_double_range(r, -1, 1);
    g_rand_free(r);
    return x;
}

/* Inference reuses its buffers; explain keeps activations; both give the same numbers, and
 * repeated calls are stable. Backward without a keeping forward is refused. */
static void nn_forward_modes_agree(void)
{
    g_autoptr(PvxModel) m = mini();
    g_autoptr(PvxTensor) x = random_input(3, 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) a = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, &error);
    g_autoptr(PvxTensor) b = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, &error);
    g_autoptr(PvxTensor) dy = pvx_tensor_new_like(a);
    g_assert_false(pvx_model_backward(m, dy, TRUE, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_autoptr(PvxTensor) c = pvx_model_forward(m, x, PVX_FORWARD_EXPLAIN, &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(a, b, 1e-30), ==, 0.0);
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(a, c, 1e-6), <, 1e-6);
    g_autoptr(PvxTensor) wrong = pvx_tensor_new_shape(2, (int64_t)3, (int64_t)11);
    g_assert_false(pvx_model_backward(m, wrong, TRUE, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_clear_error(&error);
    /* An input that does not fit names the layer. */
    g_autoptr(PvxTensor) rgb =
        pvx_tensor_new_shape(4, (int64_t)1, (int64_t)3, (int64_t)28, (int64_t)28);
    g_assert_null(pvx_model_forward(m, rgb, PVX_FORWARD_INFERENCE, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_assert_nonnull(strstr(error->message, "features.0"));
}

/* Backward's input gradient against central differences of a scalar of the output. */
static void nn_input_gradient_matches_finite_differences(void)
{
    const char *pairs[] = {"arch=vgg-mini", "channels=[4, -1, 6]", "hidden=8", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = nn_test_build_vgg(pairs, 1, 8, 8, 3, &error);
    g_assert_no_error(error);
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)2, (int64_t)1, (int64_t)8, (int64_t)8);
    GRand *r = g_rand_new_with_seed(5);
    for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
        x->data[i] = (float)g_rand_double_range(r, -1, 1);
    g_rand_free(r);
    for (int i = 0; i < pvx_model_n_layers(m); i++) {
        PvxLayer *l = pvx_model_layer(m, i);
        if (l->type == PVX_LAYER_LINEAR)
            for (int64_t k = 0; k < pvx_tensor_numel(l->weight); k++)
                l->weight->data[k] *= 50.0f; /* normal(0, 0.01) makes the output tiny */
    }
    g_autoptr(PvxTensor) y = pvx_model_forward(m, x, PVX_FORWARD_EXPLAIN, &error);
    g_autoptr(PvxTensor) dy = pvx_tensor_new_like(y);
    for (int64_t i = 0; i < pvx_tensor_numel(dy); i++)
        dy->data[i] = (float)(i % 3) - 0.7f;
    g_autoptr(PvxTensor) dx = NULL;
    g_assert_true(pvx_model_backward(m, dy, FALSE, &dx, &error));
    g_assert_no_error(error);
    double worst = 0.0, scale = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(x); i += 7) {
        float keep = x->data[i];
        double f[2];
        for (int s = 0; s < 2; s++) {
            x->data[i] = keep + (s ? 1e-3f : -1e-3f);
            g_autoptr(PvxTensor) yy = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, NULL);
            f[s] = 0.0;
            for (int64_t k = 0; k < pvx_tensor_numel(yy); k++)
                f[s] += (double)dy->data[k] * yy->data[k];
        }
        x->data[i] = keep;
        double fd = (f[1] - f[0]) / 2e-3;
        worst = fmax(worst, fabs(fd - dx->data[i]));
        scale = fmax(scale, fabs(dx->data[i]));
    }
    g_test_message("finite differences: worst abs diff %.3g, max|dx| %.3g", worst, scale);
    g_assert_cmpfloat(scale, >, 0.0);
    g_assert_cmpfloat(worst, <=, 2e-2 * scale);
}

/* Forward uses w ⊙ m, a pruned weight's gradient is 0, and re-masking undoes any edit. */
static void nn_masks_prune_forward_and_gradients(void)
{
    g_autoptr(PvxModel) m = mini();
    g_autoptr(GError) error = NULL;
    PvxLayer *l = pvx_model_find_layer(m, "features.2", &error);
    g_autoptr(PvxTensor) mask = pvx_tensor_new_like(l->weight);
    for (int64_t i = 0; i < pvx_tensor_numel(mask); i++)
        mask->data[i] = (i % 3) != 0;
    g_autoptr(PvxTensor) x = random_input(2, 3);
    g_assert_true(pvx_model_set_mask(m, "features.2", mask, &error));
    for (int64_t i = 0; i < pvx_tensor_numel(mask); i += 3)
        g_assert_cmpfloat(l->weight->data[i], ==, 0.0f);
    g_autoptr(PvxTensor) y = pvx_model_forward(m, x, PVX_FORWARD_TRAIN, &error);
    g_autoptr(PvxTensor) dy = pvx_tensor_new_like(y);
    pvx_tensor_fill(dy, 1.0f);
    g_assert_true(pvx_model_backward(m, dy, TRUE, NULL, &error));
    g_assert_no_error(error);
    double kept = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(mask); i++) {
        if (i % 3 == 0)
            g_assert_cmpfloat(l->weight_grad->data[i], ==, 0.0f);
        else
            kept += fabs(l->weight_grad->data[i]);
    }
    g_assert_cmpfloat(kept, >, 0.0);
    /* An optimizer step touches every weight; applying the masks brings the zeros back. */
    for (int64_t i = 0; i < pvx_tensor_numel(l->weight); i++)
        l->weight->data[i] += 0.5f;
    pvx_model_apply_masks(m);
    g_assert_cmpfloat(l->weight->data[0], ==, 0.0f);
    g_assert_cmpfloat(l->weight->data[1], !=, 0.0f);
    /* Masks go to HDF5 as uint8 and come back. */
    g_autofree char *dir = g_dir_make_tmp("pvx-nn-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "m.h5", NULL);
    {
        g_autoptr(PvxStore) s = pvx_store_create(path, &error);
        g_assert_true(pvx_store_begin(s, &error));
        g_assert_true(pvx_model_save_masks(m, s, "/masks", &error));
        g_assert_true(pvx_store_commit(s, &error));
        g_assert_no_error(error);
        g_autoptr(PvxModel) other = mini();
        g_assert_true(pvx_model_load_masks(other, s, "/masks", &error));
        g_assert_no_error(error);
        PvxLayer *ol = pvx_model_find_layer(other, "features.2", NULL);
        g_assert_cmpfloat(pvx_tensor_max_rel_diff(ol->mask, mask, 1e-30), ==, 0.0);
        g_assert_null(pvx_model_find_layer(other, "features.0", NULL)->mask);
    }
    g_remove(path);
    g_rmdir(dir);
    /* Non-binary masks and masks on a ReLU are refused. */
    mask->data[0] = 0.5f;
    g_assert_false(pvx_model_set_mask(m, "features.2", mask, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_assert_false(pvx_model_set_mask(m, "features.1", NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
}

static void moments(const PvxTensor *t, double *mean, double *std)
{
    double s = 0, s2 = 0;
    int64_t n = pvx_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        s += t->data[i];
        s2 += (double)t->data[i] * t->data[i];
    }
    *mean = s / n;
    *std = sqrt(s2 / n - *mean * *mean);
}

/* Kaiming-normal (fan_out) conv, normal(0, 0.01) linear, zero bias; same seed, same weights. */
static void nn_init_follows_torchvision(void)
{
    g_autoptr(PvxModel) a = mini();
    g_autoptr(PvxModel) b = mini();
    const char *pairs[] = {"arch=vgg-mini", "seed=1", NULL};
    g_autoptr(PvxModel) c = nn_test_build_vgg(pairs, 1, 28, 28, 10, NULL);
    for (int i = 0; i < pvx_model_n_layers(a); i++) {
        PvxLayer *l = pvx_model_layer(a, i);
        if (!l->weight)
            continue;
        g_assert_cmpfloat(pvx_tensor_max_rel_diff(l->weight, pvx_model_layer(b, i)->weight, 1e-30),
                          ==, 0.0);
        g_assert_cmpfloat(pvx_tensor_max_rel_diff(l->weight, pvx_model_layer(c, i)->weight, 1e-6),
                          >, 0.1);
        double mean, std, want;
        moments(l->weight, &mean, &std);
        want = l->type == PVX_LAYER_CONV2D
                   ? sqrt(2.0 / (double)(l->out_features * l->kernel_h * l->kernel_w))
                   : 0.01;
        double n = (double)pvx_tensor_numel(l->weight);
        g_test_message("%s: mean %.4g std %.4g (want %.4g, n %.0f)", l->name, mean, std, want, n);
        g_assert_cmpfloat(fabs(mean), <, 5.0 * want / sqrt(n));
        g_assert_cmpfloat(fabs(std / want - 1.0), <, 6.0 / sqrt(2.0 * n));
        for (int64_t k = 0; k < pvx_tensor_numel(l->bias); k++)
            g_assert_cmpfloat(l->bias->data[k], ==, 0.0f);
    }
}

static void nn_vgg16_flops_params_and_target(void)
{
    const char *pairs[] = {"arch=vgg16", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = nn_test_build_vgg(pairs, 3, 224, 224, 1000, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_model_num_params(m), ==, 138357544);
    int64_t chw[3] = {3, 224, 224};
    /* 15,470,264,320 multiply-adds (conv 15,346,630,656 + linear 123,633,664). */
    g_assert_cmpfloat(pvx_model_flops(m, chw), ==, 2.0 * 15470264320.0);
    g_assert_cmpstr(pvx_model_target_layer(m), ==, "features.29");
    const char *const *prunable = pvx_model_prunable_layers(m);
    g_assert_cmpuint(g_strv_length((char **)prunable), ==, 16);
    g_assert_cmpstr(prunable[0], ==, "features.0");
    g_assert_cmpstr(prunable[15], ==, "classifier.6");
    g_assert_cmpstr(pvx_model_arch(m), ==, "vgg16");
    /* Too small an input for five max-pools is refused with the layer named. */
    const char *bn[] = {"arch=vgg11_bn", NULL};
    g_autoptr(PvxModel) small = nn_test_build_vgg(bn, 3, 16, 16, 10, &error);
    g_assert_null(small);
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, "features."));
    g_clear_error(&error);
    g_autoptr(PvxModel) bnm = nn_test_build_vgg(bn, 3, 32, 32, 10, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(pvx_model_target_layer(bnm), ==, "features.27");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nn/weights_roundtrip_through_hdf5", nn_weights_roundtrip_through_hdf5);
    g_test_add_func("/nn/load_wrong_shape_names_tensor_and_both_shapes",
                    nn_load_wrong_shape_names_tensor_and_both_shapes);
    g_test_add_func("/nn/load_lists_every_missing_and_extra_tensor",
                    nn_load_lists_every_missing_and_extra_tensor);
    g_test_add_func("/nn/load_non_hdf5_file_is_a_clear_error",
                    nn_load_non_hdf5_file_is_a_clear_error);
    g_test_add_func("/nn/tap_unknown_layer_lists_layer_names",
                    nn_tap_unknown_layer_lists_layer_names);
    g_test_add_func("/nn/forward_modes_agree", nn_forward_modes_agree);
    g_test_add_func("/nn/input_gradient_matches_finite_differences",
                    nn_input_gradient_matches_finite_differences);
    g_test_add_func("/nn/masks_prune_forward_and_gradients", nn_masks_prune_forward_and_gradients);
    g_test_add_func("/nn/init_follows_torchvision", nn_init_follows_torchvision);
    g_test_add_func("/nn/vgg16_flops_params_and_target", nn_vgg16_flops_params_and_target);
    return g_test_run();
}
