/* Pruning on graph models: structured (filter) pruning follows the channel dependency graph on
 * resnet18 (residual adds), mobilenet_v2 (depthwise convs) and mobilenet_v3_small (SE muls); the
 * exported smaller model — rebuilt from its architecture file, also through the model plugin
 * "exported" — has fewer parameters and the masked model's logits; the layer kinds conv2d,
 * depthwise, linear (conv = conv2d); unstructured pruning of depthwise convs. */
#include <glib/gstdio.h>

#include "prune_test_util.h"

static const int64_t chw[3] = {3, 32, 32};

/* Batch-norm parameters away from their initial 1/0/0/1, so that a pruned channel carries a
 * non-zero constant after its batch-norm and only its masked consumers keep it out of the logits.
 */
static void randomise_batchnorm(PvxModel *m, guint64 seed)
{
    g_autoptr(GRand) r = g_rand_new_with_seed((guint32)seed);
    for (int i = 0; i < pvx_model_n_layers(m); i++) {
        PvxLayer *l = pvx_model_layer(m, i);
        if (l->type != PVX_LAYER_BATCHNORM2D)
            continue;
        for (int64_t c = 0; c < l->in_features; c++) {
            l->weight->data[c] = (float)g_rand_double_range(r, 0.5, 1.5);
            l->bias->data[c] = (float)g_rand_double_range(r, -0.5, 0.5);
            l->running_mean->data[c] = (float)g_rand_double_range(r, -0.2, 0.2);
            l->running_var->data[c] = (float)g_rand_double_range(r, 0.5, 1.5);
        }
    }
}

static PvxTensor *test_input(void)
{
    PvxTensor *x = pvx_tensor_new_shape(4, (int64_t)2, chw[0], chw[1], chw[2]);
    for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
        x->data[i] = sinf(0.37f * (float)i) + 0.1f * cosf(0.011f * (float)i);
    return x;
}

/* max |a − b| / max |a| over the logits. */
static double rel_diff(const PvxTensor *a, const PvxTensor *b)
{
    g_assert_cmpint(pvx_tensor_numel(a), ==, pvx_tensor_numel(b));
    double maxref = 0, maxdiff = 0;
    for (int64_t i = 0; i < pvx_tensor_numel(a); i++) {
        maxref = fmax(maxref, fabs(a->data[i]));
        maxdiff = fmax(maxdiff, fabs(a->data[i] - b->data[i]));
    }
    g_assert_cmpfloat(maxref, >, 0.0);
    return maxdiff / maxref;
}

/* Filter o of layer @name is pruned: its mask row is all 0. */
static gboolean filter_dead(const PvxModel *m, const char *name, int64_t o)
{
    const PvxLayer *l = pvx_model_find_layer(m, name, NULL);
    g_assert_nonnull(l);
    if (!l->mask)
        return FALSE;
    int64_t row = pvx_tensor_numel(l->weight) / l->weight->shape[0];
    for (int64_t i = 0; i < row; i++)
        if (l->mask->data[o * row + i] != 0.0f)
            return FALSE;
    return TRUE;
}

/* Layers @a and @b have the same pruned filters, and at least one. */
static void assert_tied(const PvxModel *m, const char *a, const char *b)
{
    const PvxLayer *la = pvx_model_find_layer(m, a, NULL);
    int64_t dead = 0;
    for (int64_t o = 0; o < la->out_features; o++) {
        if (filter_dead(m, a, o) != filter_dead(m, b, o))
            g_error("filter %" G_GINT64_FORMAT " of %s and of %s: pruned in one only", o, a, b);
        dead += filter_dead(m, a, o);
    }
    if (dead == 0)
        g_error("%s and %s: no filter pruned", a, b);
}

static char **select_kinds(const PvxModel *m, const char *const *kinds)
{
    g_autoptr(GError) error = NULL;
    PvxLayerSelection sel = {.kinds = kinds};
    char **names = pvx_prune_select_layers(m, &sel, &error);
    g_assert_no_error(error);
    return names;
}

/* Prunes @m to CR @cr with filter-norm over conv2d and depthwise layers, exports it to a file,
 * rebuilds it from the file directly and through the plugin "exported", and checks parameter
 * counts and logits. */
static void prune_export_rebuild(PvxModel *m, double cr)
{
    g_autoptr(GError) error = NULL;
    const char *const kinds[] = {"conv2d", "depthwise", NULL};
    g_auto(GStrv) layers = select_kinds(m, kinds);
    g_autoptr(PvxPruner) pr = prune_test_pruner("filter-norm", NULL);
    g_assert_true(pvx_prune_step(m, (const char *const *)layers, pr, PVX_PRUNE_SCOPE_LOCAL, 1.0, cr,
                                 1, 0, NULL, &error));
    g_assert_no_error(error);
    PvxPruneStats st;
    g_assert_true(pvx_prune_stats(m, (const char *const *)layers, NULL, &st, &error));
    g_assert_cmpfloat(st.cr, >=, cr);
    pvx_prune_stats_clear(&st);

    g_autoptr(PvxTensor) x = test_input();
    g_autoptr(PvxTensor) want = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, &error);
    g_assert_no_error(error);
    g_autoptr(PvxModel) small = pvx_prune_compact_model(m, &error);
    g_assert_no_error(error);
    int64_t before = pvx_model_num_params(m), after = pvx_model_num_params(small);
    g_test_message("%s: CR %g: %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT " parameters",
                   pvx_model_arch(m), cr, before, after);
    g_assert_cmpint(after, <, before);
    /* The input's channels and the classifier's outputs stay. */
    g_assert_cmpint(pvx_model_layer(small, 0)->in_features, ==, chw[0]);
    const PvxLayer *last = pvx_model_layer(small, pvx_model_n_layers(small) - 1);
    g_assert_cmpint(last->out_features, ==, 10);
    g_autoptr(PvxTensor) got = pvx_model_forward(small, x, PVX_FORWARD_INFERENCE, &error);
    g_assert_no_error(error);
    /* Float32, the same sums without the zero terms, in another order: relative 1e-4 of the
     * largest logit (tests/nn's floor). */
    double d = rel_diff(want, got);
    g_test_message("%s: compact vs masked logits: %.3g relative", pvx_model_arch(m), d);
    g_assert_cmpfloat(d, <=, 1e-4);

    g_autofree char *dir = g_dir_make_tmp("pvx-prune-graph-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "small.h5", NULL);
    {
        g_autoptr(PvxStore) s = pvx_store_create(path, &error);
        g_assert_no_error(error);
        g_assert_true(pvx_store_begin(s, &error) &&
                      pvx_model_save_architecture(small, chw, 10, s, "/architecture", &error) &&
                      pvx_model_save_weights(small, s, "/weights", &error) &&
                      pvx_store_commit(s, &error));
        g_assert_no_error(error);
    }
    g_autoptr(PvxModel) back = pvx_model_new_from_file(path, &error);
    g_assert_no_error(error);
    g_assert_cmpint(pvx_model_num_params(back), ==, after);
    g_assert_cmpstr(pvx_model_target_layer(back), ==, pvx_model_target_layer(m));
    g_autoptr(PvxTensor) again = pvx_model_forward(back, x, PVX_FORWARD_INFERENCE, &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(rel_diff(got, again), ==, 0.0);
    /* The same through the model plugin, as a config's model: {plugin: exported, ...} builds it. */
    g_autofree char *pair = g_strdup_printf("path=%s", path);
    const char *pairs[] = {pair, NULL};
    g_autoptr(PvxModel) plug = prune_test_model("exported", pairs, chw, 10);
    g_assert_cmpstr(pvx_model_arch(plug), ==, pvx_model_arch(m));
    g_autoptr(PvxTensor) via = pvx_model_forward(plug, x, PVX_FORWARD_INFERENCE, &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(rel_diff(got, via), ==, 0.0);
    g_unlink(path);
    g_rmdir(dir);
}

static void prune_resnet18_filters_follow_residual_adds_and_export_equal_logits(void)
{
    const char *pairs[] = {"arch=resnet18", "seed=3", NULL};
    g_autoptr(PvxModel) m = prune_test_model("resnet", pairs, chw, 10);
    randomise_batchnorm(m, 11);
    prune_export_rebuild(m, 2.0);
    /* layer1's adds tie the stem conv to both blocks' second convs; layer2's first block ties
     * its second conv to the downsample conv and to the second block's. */
    assert_tied(m, "conv1", "layer1.0.conv2");
    assert_tied(m, "conv1", "layer1.1.conv2");
    assert_tied(m, "layer2.0.conv2", "layer2.0.downsample.0");
    assert_tied(m, "layer2.0.conv2", "layer2.1.conv2");
    assert_tied(m, "layer4.0.downsample.0", "layer4.1.conv2");
}

static void prune_mobilenet_v2_filters_follow_depthwise_convs_and_export_equal_logits(void)
{
    const char *pairs[] = {"arch=mobilenet_v2", "seed=5", NULL};
    g_autoptr(PvxModel) m = prune_test_model("mobilenet", pairs, chw, 10);
    randomise_batchnorm(m, 13);
    prune_export_rebuild(m, 2.0);
    /* The depthwise conv's channels are its expand conv's. */
    assert_tied(m, "features.2.conv.0.0", "features.2.conv.1.0");
    assert_tied(m, "features.16.conv.0.0", "features.16.conv.1.0");
    /* features.1 has no expand conv: its depthwise conv follows the stem. */
    assert_tied(m, "features.0.0", "features.1.conv.0.0");
}

static void prune_mobilenet_v3_small_filters_follow_se_muls_and_export_equal_logits(void)
{
    const char *pairs[] = {"arch=mobilenet_v3_small", "seed=7", NULL};
    g_autoptr(PvxModel) m = prune_test_model("mobilenet", pairs, chw, 10);
    randomise_batchnorm(m, 17);
    prune_export_rebuild(m, 2.0);
    /* The SE scale's channels (fc2's filters) are the depthwise output's. */
    g_autoptr(GError) error = NULL;
    const PvxLayer *fc2 = pvx_model_find_layer(m, "features.4.block.2.fc2", &error);
    g_assert_no_error(error);
    assert_tied(m, "features.4.block.1.0", fc2->name);
}

static void prune_kinds_conv2d_depthwise_linear(void)
{
    const char *pairs[] = {"arch=mobilenet_v2", NULL};
    g_autoptr(PvxModel) m = prune_test_model("mobilenet", pairs, chw, 10);
    const char *const dw[] = {"depthwise", NULL};
    g_auto(GStrv) a = select_kinds(m, dw);
    for (char **n = a; *n; n++) {
        const PvxLayer *l = pvx_model_find_layer(m, *n, NULL);
        g_assert_cmpint(l->groups, ==, l->in_features);
        g_assert_cmpint(l->groups, >, 1);
    }
    g_assert_cmpint(g_strv_length(a), ==, 17);
    const char *const conv[] = {"conv", NULL}, *const conv2d[] = {"conv2d", NULL};
    g_auto(GStrv) b = select_kinds(m, conv);
    g_auto(GStrv) c = select_kinds(m, conv2d);
    g_assert_true(g_strv_equal((const char *const *)b, (const char *const *)c));
    for (char **n = c; *n; n++)
        g_assert_false(g_strv_contains((const char *const *)a, *n));
    const char *const lin[] = {"linear", NULL};
    g_auto(GStrv) d = select_kinds(m, lin);
    g_assert_cmpint(g_strv_length(d), ==, 1);
    g_assert_cmpstr(d[0], ==, "classifier.1");
    /* An unknown kind names the known ones. */
    g_autoptr(GError) error = NULL;
    const char *const bad[] = {"conv3d", NULL};
    PvxLayerSelection sel = {.kinds = bad};
    g_assert_null(pvx_prune_select_layers(m, &sel, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "conv2d, depthwise, linear"));
}

/* Unstructured magnitude pruning of depthwise convs: each keeps half its weights (local). */
static void prune_magnitude_prunes_depthwise_convs(void)
{
    g_autoptr(GError) error = NULL;
    const char *pairs[] = {"arch=mobilenet_v2", NULL};
    g_autoptr(PvxModel) m = prune_test_model("mobilenet", pairs, chw, 10);
    const char *const dw[] = {"depthwise", NULL};
    g_auto(GStrv) layers = select_kinds(m, dw);
    g_autoptr(PvxPruner) pr = prune_test_pruner("magnitude", NULL);
    g_assert_true(pvx_prune_step(m, (const char *const *)layers, pr, PVX_PRUNE_SCOPE_LOCAL, 1.0,
                                 2.0, 1, 0, NULL, &error));
    g_assert_no_error(error);
    for (char **n = layers; *n; n++) {
        const PvxLayer *l = pvx_model_find_layer(m, *n, NULL);
        int64_t size = pvx_tensor_numel(l->weight);
        g_assert_cmpint(prune_test_kept(l), ==, size - (int64_t)nearbyint(0.5 * (double)size));
    }
}

/* A file without an architecture is refused, naming it. */
static void prune_model_from_file_without_architecture_is_refused(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("pvx-prune-graph-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "weights.h5", NULL);
    {
        const char *pairs[] = {"arch=resnet20", NULL};
        g_autoptr(PvxModel) m = prune_test_model("resnet", pairs, chw, 10);
        g_autoptr(PvxStore) s = pvx_store_create(path, &error);
        g_assert_true(pvx_store_begin(s, &error) &&
                      pvx_model_save_weights(m, s, "/weights", &error) &&
                      pvx_store_commit(s, &error));
        g_assert_no_error(error);
    }
    g_assert_null(pvx_model_new_from_file(path, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "no model architecture"));
    g_unlink(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/prune/resnet18_filters_follow_residual_adds_and_export_equal_logits",
                    prune_resnet18_filters_follow_residual_adds_and_export_equal_logits);
    g_test_add_func("/prune/mobilenet_v2_filters_follow_depthwise_convs_and_export_equal_logits",
                    prune_mobilenet_v2_filters_follow_depthwise_convs_and_export_equal_logits);
    g_test_add_func("/prune/mobilenet_v3_small_filters_follow_se_muls_and_export_equal_logits",
                    prune_mobilenet_v3_small_filters_follow_se_muls_and_export_equal_logits);
    g_test_add_func("/prune/kinds_conv2d_depthwise_linear", prune_kinds_conv2d_depthwise_linear);
    g_test_add_func("/prune/magnitude_prunes_depthwise_convs",
                    prune_magnitude_prunes_depthwise_convs);
    g_test_add_func("/prune/model_from_file_without_architecture_is_refused",
                    prune_model_from_file_without_architecture_is_refused);
    return g_test_run();
}
