/* The core's pruning step (count, tie and never-revive rules), layer selection, statistics,
 * schedules, and the four pruner plugins. */
#include <glib/gstdio.h>

#include "prune_test_util.h"

static const char *const mini[] = {"arch=vgg-mini", "channels=[8, 8, -1, 16, 16, -1]", "hidden=32",
                                   NULL};
static const char *const mini_bn[] = {"arch=vgg-mini", "channels=[8, 8, -1, 16, 16, -1]",
                                      "hidden=32", "batch_norm=true", NULL};
static const char *const convs[] = {"features.0", "features.2", "features.5", "features.7", NULL};

static int64_t round_even(double x)
{
    return (int64_t)nearbyint(x);
}

static void prune_local_prunes_round_half_even_of_each_layer(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = prune_test_vgg(mini);
    g_autoptr(PvxPruner) pr = prune_test_pruner("magnitude", NULL);
    int64_t expect[4];
    for (int l = 0; l < 4; l++) {
        int64_t n = pvx_tensor_numel(pvx_model_find_layer(m, convs[l], NULL)->weight);
        int64_t k2 = n - round_even(0.5 * n);
        expect[l] = k2 - round_even((1.0 - 2.0 / 8.0) * k2);
    }
    g_assert_true(pvx_prune_step(m, convs, pr, PVX_PRUNE_SCOPE_LOCAL, 1, 2, 0, 0, NULL, &error));
    g_assert_true(pvx_prune_step(m, convs, pr, PVX_PRUNE_SCOPE_LOCAL, 2, 8, 0, 1, NULL, &error));
    g_assert_no_error(error);
    for (int l = 0; l < 4; l++) {
        const PvxLayer *layer = pvx_model_find_layer(m, convs[l], NULL);
        g_assert_cmpint(prune_test_kept(layer), ==, expect[l]);
        /* The kept ones are the largest |w| of the layer. */
        float min_kept = INFINITY, max_pruned = 0;
        g_autoptr(PvxModel) fresh = prune_test_vgg(mini);
        const PvxLayer *orig = pvx_model_find_layer(fresh, convs[l], NULL);
        for (int64_t i = 0; i < pvx_tensor_numel(orig->weight); i++) {
            float a = fabsf(orig->weight->data[i]);
            if (layer->mask->data[i] != 0.0f)
                min_kept = fminf(min_kept, a);
            else
                max_pruned = fmaxf(max_pruned, a);
        }
        g_assert_cmpfloat(min_kept, >=, max_pruned);
    }
    /* Layers outside the selection stay dense. */
    g_assert_null(pvx_model_find_layer(m, "classifier.0", NULL)->mask);
}

static void prune_ties_go_to_the_lower_flat_index(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = prune_test_vgg(mini);
    PvxLayer *l = pvx_model_find_layer(m, "features.0", NULL);
    pvx_tensor_fill(l->weight, 0.5f); /* every score ties */
    l->weight->data[3] = 0.25f;       /* except one, which must go first */
    const char *one[] = {"features.0", NULL};
    g_autoptr(PvxPruner) pr = prune_test_pruner("magnitude", NULL);
    g_assert_true(pvx_prune_step(m, one, pr, PVX_PRUNE_SCOPE_LOCAL, 1, 4, 0, 0, NULL, &error));
    g_assert_no_error(error);
    int64_t n = pvx_tensor_numel(l->weight), k = round_even(0.75 * n);
    /* Pruned: index 3, then the lowest indices among the ties. */
    for (int64_t i = 0; i < n; i++) {
        gboolean pruned = i == 3 || (i < 3 ? i < k - 1 : i <= k - 1);
        g_assert_cmpint(l->mask->data[i] == 0.0f, ==, pruned);
    }
}

static void prune_never_revives_a_pruned_weight(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = prune_test_vgg(mini);
    g_autoptr(PvxPruner) mag = prune_test_pruner("magnitude", NULL);
    g_assert_true(pvx_prune_step(m, convs, mag, PVX_PRUNE_SCOPE_LOCAL, 1, 2, 0, 0, NULL, &error));
    g_autoptr(GPtrArray) before = g_ptr_array_new_with_free_func((GDestroyNotify)pvx_tensor_unref);
    for (int l = 0; l < 4; l++)
        g_ptr_array_add(before, pvx_tensor_copy(pvx_model_find_layer(m, convs[l], NULL)->mask));
    /* Random scores rank pruned entries like any other; the core must still skip them. */
    g_autoptr(PvxPruner) rnd = prune_test_pruner("random", NULL);
    g_assert_true(pvx_prune_step(m, convs, rnd, PVX_PRUNE_SCOPE_LOCAL, 2, 4, 7, 1, NULL, &error));
    g_assert_no_error(error);
    for (int l = 0; l < 4; l++) {
        const PvxLayer *layer = pvx_model_find_layer(m, convs[l], NULL);
        const PvxTensor *b = g_ptr_array_index(before, l);
        int64_t n = pvx_tensor_numel(b), kept_before = 0;
        for (int64_t i = 0; i < n; i++) {
            kept_before += b->data[i] != 0.0f;
            if (b->data[i] == 0.0f)
                g_assert_cmpfloat(layer->mask->data[i], ==, 0.0f);
        }
        g_assert_cmpint(prune_test_kept(layer), ==, kept_before - round_even(0.5 * kept_before));
    }
}

static void prune_random_is_seeded(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxPruner) rnd = prune_test_pruner("random", NULL);
    g_autoptr(PvxModel) a = prune_test_vgg(mini);
    g_autoptr(PvxModel) b = prune_test_vgg(mini);
    g_autoptr(PvxModel) c = prune_test_vgg(mini);
    g_assert_true(pvx_prune_step(a, convs, rnd, PVX_PRUNE_SCOPE_LOCAL, 1, 4, 11, 0, NULL, &error));
    g_assert_true(pvx_prune_step(b, convs, rnd, PVX_PRUNE_SCOPE_LOCAL, 1, 4, 11, 0, NULL, &error));
    g_assert_true(pvx_prune_step(c, convs, rnd, PVX_PRUNE_SCOPE_LOCAL, 1, 4, 12, 0, NULL, &error));
    g_assert_no_error(error);
    int64_t same_ab = 0, same_ac = 0, n = 0;
    for (int l = 0; l < 4; l++) {
        const PvxTensor *ma = pvx_model_find_layer(a, convs[l], NULL)->mask;
        const PvxTensor *mb = pvx_model_find_layer(b, convs[l], NULL)->mask;
        const PvxTensor *mc = pvx_model_find_layer(c, convs[l], NULL)->mask;
        for (int64_t i = 0; i < pvx_tensor_numel(ma); i++, n++) {
            same_ab += ma->data[i] == mb->data[i];
            same_ac += ma->data[i] == mc->data[i];
        }
    }
    g_assert_cmpint(same_ab, ==, n);
    /* Two independent masks keeping 1/4 agree on about 1/16 + 9/16 of the entries. */
    g_assert_cmpfloat((double)same_ac / n, >, 0.5);
    g_assert_cmpfloat((double)same_ac / n, <, 0.75);
}

static void prune_global_ranks_across_layers(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = prune_test_vgg(mini);
    /* Scale one layer down: a global ranking prunes it almost entirely, a local one would not. */
    PvxLayer *small = pvx_model_find_layer(m, "features.2", NULL);
    for (int64_t i = 0; i < pvx_tensor_numel(small->weight); i++)
        small->weight->data[i] *= 1e-3f;
    g_autoptr(PvxPruner) pr = prune_test_pruner("magnitude", NULL);
    g_assert_true(pvx_prune_step(m, convs, pr, PVX_PRUNE_SCOPE_GLOBAL, 1, 2, 0, 0, NULL, &error));
    g_assert_no_error(error);
    PvxPruneStats st;
    g_assert_true(pvx_prune_stats(m, convs, NULL, &st, &error));
    g_assert_cmpint(st.total_kept, ==, st.total - round_even(0.5 * st.total));
    g_assert_cmpint(st.kept[1], ==, 0);
    pvx_prune_stats_clear(&st);
}

static void prune_stats_report_cr_model_ratio_and_flops(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = prune_test_vgg(mini);
    g_autoptr(PvxPruner) pr = prune_test_pruner("magnitude", NULL);
    g_assert_true(pvx_prune_step(m, convs, pr, PVX_PRUNE_SCOPE_LOCAL, 1, 4, 0, 0, NULL, &error));
    PvxPruneStats st;
    g_assert_true(pvx_prune_stats(m, convs, NULL, &st, &error));
    g_assert_no_error(error);
    int64_t total = 0, kept = 0;
    for (int l = 0; l < 4; l++) {
        const PvxLayer *layer = pvx_model_find_layer(m, convs[l], NULL);
        total += pvx_tensor_numel(layer->weight);
        kept += prune_test_kept(layer);
        g_assert_cmpint(st.size[l], ==, pvx_tensor_numel(layer->weight));
    }
    g_assert_cmpint(st.total, ==, total);
    g_assert_cmpint(st.total_kept, ==, kept);
    g_assert_cmpfloat_with_epsilon(st.cr, (double)total / kept, 1e-12);
    g_assert_cmpfloat_with_epsilon(st.cr, 4.0, 0.01);
    int64_t params = pvx_model_num_params(m);
    g_assert_cmpint(st.model_params, ==, params);
    g_assert_cmpfloat_with_epsilon(st.model_ratio, (double)params / (params - (total - kept)),
                                   1e-12);
    /* FLOPs by hand: conv layers at 28×28 (two) and 14×14 (two), 3×3 kernels; linear layers. */
    double conv_f[4] = {2.0 * 1 * 9 * 8 * 28 * 28, 2.0 * 8 * 9 * 8 * 28 * 28,
                        2.0 * 8 * 9 * 16 * 14 * 14, 2.0 * 16 * 9 * 16 * 14 * 14};
    double lin = pvx_model_flops(m, (int64_t[3]){1, 28, 28});
    double kept_f = 0;
    for (int l = 0; l < 4; l++) {
        lin -= conv_f[l];
        kept_f += conv_f[l] * (double)st.kept[l] / (double)st.size[l];
    }
    g_assert_cmpfloat_with_epsilon(st.flops_kept, kept_f + lin, 1e-3);
    g_assert_cmpfloat_with_epsilon(st.flop_reduction, st.flops / (kept_f + lin), 1e-9);
    pvx_prune_stats_clear(&st);
}

/* Filter pruning: whole filters, the next layer's input channels, and the compact export that
 * computes the same logits with a physically smaller model. */
static void prune_filter_norm_removes_filters_and_exports_a_smaller_equal_model(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = prune_test_vgg(mini_bn);
    /* Non-trivial batch-norm statistics, so the export must slice them right. */
    for (int i = 0; i < pvx_model_n_layers(m); i++) {
        PvxLayer *l = pvx_model_layer(m, i);
        if (l->type != PVX_LAYER_BATCHNORM2D)
            continue;
        for (int64_t c = 0; c < l->in_features; c++) {
            l->running_mean->data[c] = 0.1f * (float)(c % 5);
            l->running_var->data[c] = 1.0f + 0.2f * (float)(c % 3);
            l->weight->data[c] = 1.0f + 0.05f * (float)c;
            l->bias->data[c] = 0.01f * (float)c;
        }
    }
    const char *bn_convs[] = {"features.0", "features.3", "features.7", "features.10", NULL};
    const char *pairs[] = {"norm=l2", NULL};
    g_autoptr(PvxPruner) pr = prune_test_pruner("filter-norm", pairs);
    g_assert_true(pvx_prune_step(m, bn_convs, pr, PVX_PRUNE_SCOPE_LOCAL, 1, 2, 0, 0, NULL, &error));
    g_assert_no_error(error);
    PvxPruneStats st;
    g_assert_true(pvx_prune_stats(m, bn_convs, NULL, &st, &error));
    g_assert_cmpfloat(st.cr, >=, 2.0);
    g_assert_cmpfloat(st.cr, <, 3.0);
    pvx_prune_stats_clear(&st);
    /* Every filter is kept whole or pruned whole, and a pruned filter's channel is masked in
     * the next conv. */
    for (int l = 0; l < 3; l++) {
        const PvxLayer *a = pvx_model_find_layer(m, bn_convs[l], NULL);
        const PvxLayer *b = pvx_model_find_layer(m, bn_convs[l + 1], NULL);
        int64_t row = pvx_tensor_numel(a->weight) / a->out_features;
        int dead = 0;
        for (int64_t o = 0; o < a->out_features; o++) {
            int64_t k = 0;
            for (int64_t i = 0; i < row; i++)
                k += a->mask->data[o * row + i] != 0.0f;
            g_assert_true(k == 0 || k == row || l > 0); /* inner layers lose input channels too */
            if (k == 0) {
                dead++;
                for (int64_t q = 0; q < b->out_features; q++)
                    for (int64_t t = 0; t < 9; t++)
                        g_assert_cmpfloat(b->mask->data[(q * b->in_features + o) * 9 + t], ==, 0);
            }
        }
        g_assert_cmpint(dead, >, 0);
    }
    /* The export. */
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)3, (int64_t)1, (int64_t)28, (int64_t)28);
    for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
        x->data[i] = sinf(0.37f * (float)i);
    g_autoptr(PvxTensor) want = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, &error);
    g_assert_no_error(error);
    g_autofree char *dir = g_dir_make_tmp("pvx-prune-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "small.h5", NULL);
    g_autoptr(PvxStore) s = pvx_store_create(path, &error);
    g_assert_no_error(error);
    int n = 0;
    g_assert_true(pvx_store_begin(s, &error));
    g_autofree int64_t *ch = pvx_prune_export_compact(m, s, "/weights", &n, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_store_commit(s, &error));
    g_assert_cmpint(n, ==, 4);
    g_autofree char *channels =
        g_strdup_printf("channels=[%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                        ", -1, %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", -1]",
                        ch[0], ch[1], ch[2], ch[3]);
    g_assert_cmpint(ch[0] + ch[1] + ch[2] + ch[3], <, 8 + 8 + 16 + 16);
    const char *small_pairs[] = {"arch=vgg-mini", channels, "hidden=32", "batch_norm=true", NULL};
    g_autoptr(PvxModel) small = prune_test_vgg(small_pairs);
    g_assert_true(pvx_model_load_weights(small, s, "/weights", &error));
    g_assert_no_error(error);
    g_autoptr(PvxTensor) got = pvx_model_forward(small, x, PVX_FORWARD_INFERENCE, &error);
    g_assert_no_error(error);
    double maxref = 0, maxdiff = 0;
    for (int64_t i = 0; i < pvx_tensor_numel(want); i++) {
        maxref = fmax(maxref, fabs(want->data[i]));
        maxdiff = fmax(maxdiff, fabs(want->data[i] - got->data[i]));
    }
    /* Float32, the same sums in a different order: relative 1e-4 of the largest logit. */
    g_assert_cmpfloat(maxdiff, <=, 1e-4 * maxref);
    g_clear_pointer(&s, pvx_store_close);
    g_unlink(path);
    g_rmdir(dir);
}

/* Taylor: the core provides gradients batch by batch; the plugin sums |w · g| over `batches`. */
static int grad_calls;
static gboolean fake_gradients(const PvxPruneContext *ctx, int batch, GError **error)
{
    (void)error;
    g_assert_cmpint(batch, ==, grad_calls);
    grad_calls++;
    for (int l = 0; l < ctx->n_layers; l++) {
        PvxLayer *layer = ctx->layers[l];
        int64_t n = pvx_tensor_numel(layer->weight);
        for (int64_t i = 0; i < n; i++)
            /* Batch 0 and 1 disagree in sign; only |w·g| summed per batch makes the order below. */
            layer->weight_grad->data[i] = (batch % 2 ? -1.0f : 1.0f) * (float)((i * 7) % 13 + 1) /
                                          fabsf(layer->weight->data[i] + 1e-12f);
    }
    return TRUE;
}

static void prune_taylor_uses_w_times_gradient_over_batches(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = prune_test_vgg(mini);
    const char *one[] = {"features.2", NULL};
    const char *pairs[] = {"batches=3", NULL};
    g_autoptr(PvxPruner) pr = prune_test_pruner("taylor", pairs);
    /* Without gradients: refused, naming the pruner. */
    g_assert_false(pvx_prune_step(m, one, pr, PVX_PRUNE_SCOPE_LOCAL, 1, 2, 0, 0, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "taylor"));
    g_clear_error(&error);
    PvxPruneGradients g = {.n_batches = 10, .gradients = fake_gradients};
    grad_calls = 0;
    g_assert_true(pvx_prune_step(m, one, pr, PVX_PRUNE_SCOPE_LOCAL, 1, 2, 0, 0, &g, &error));
    g_assert_no_error(error);
    g_assert_cmpint(grad_calls, ==, 3);
    /* |w · g| = 3 · ((i·7) mod 13 + 1): pruned exactly the entries with the lowest such value,
     * ties by index. */
    const PvxLayer *l = pvx_model_find_layer(m, "features.2", NULL);
    int64_t n = pvx_tensor_numel(l->weight), k = round_even(0.5 * n), seen = 0;
    for (int v = 1; v <= 13 && seen < k; v++)
        for (int64_t i = 0; i < n && seen < k; i++)
            if ((i * 7) % 13 + 1 == v) {
                g_assert_cmpfloat(l->mask->data[i], ==, 0.0f);
                seen++;
            }
    g_assert_cmpint(prune_test_kept(l), ==, n - k);
}

static void prune_selection_by_kind_glob_and_exclude(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = prune_test_vgg(mini);
    const char *conv[] = {"conv", NULL}, *lin[] = {"linear", NULL};
    const char *inc[] = {"classifier.6", NULL}, *exc[] = {"features.0", NULL};
    PvxLayerSelection sel = {.kinds = conv};
    g_auto(GStrv) a = pvx_prune_select_layers(m, &sel, &error);
    g_assert_no_error(error);
    g_assert_true(g_strv_equal((const char *const *)a, convs));
    sel = (PvxLayerSelection){.kinds = conv, .include = inc, .exclude = exc};
    g_auto(GStrv) b = pvx_prune_select_layers(m, &sel, &error);
    g_assert_no_error(error);
    const char *want_b[] = {"features.2", "features.5", "features.7", "classifier.6", NULL};
    g_assert_true(g_strv_equal((const char *const *)b, want_b));
    const char *glob[] = {"classifier.*", NULL};
    sel = (PvxLayerSelection){.include = glob};
    g_auto(GStrv) c = pvx_prune_select_layers(m, &sel, &error);
    g_assert_no_error(error);
    g_assert_cmpint(g_strv_length(c), ==, 3);
    /* Errors: a pattern matching nothing, an unknown kind, an empty selection. */
    const char *typo[] = {"feature.0", NULL};
    sel = (PvxLayerSelection){.kinds = conv, .exclude = typo};
    g_assert_null(pvx_prune_select_layers(m, &sel, &error));
    g_assert_nonnull(strstr(error->message, "'feature.0' matches no prunable layer"));
    g_clear_error(&error);
    const char *bad[] = {"attention", NULL};
    sel = (PvxLayerSelection){.kinds = bad};
    g_assert_null(pvx_prune_select_layers(m, &sel, &error));
    g_assert_nonnull(strstr(error->message, "'attention'"));
    g_clear_error(&error);
    const char *all_lin[] = {"classifier.*", NULL};
    sel = (PvxLayerSelection){.kinds = lin, .exclude = all_lin};
    g_assert_null(pvx_prune_select_layers(m, &sel, &error));
    g_assert_nonnull(strstr(error->message, "matches no layer"));
}

static void prune_rates_must_increase_from_one(void)
{
    g_autoptr(GError) error = NULL;
    double ok[] = {2, 4, 8, 16, 32}, down[] = {2, 8, 4}, low[] = {0.5, 2};
    g_assert_true(pvx_prune_check_rates(ok, 5, "x.yaml:3:3", &error));
    g_assert_false(pvx_prune_check_rates(down, 3, "x.yaml:3:3", &error));
    g_assert_nonnull(strstr(error->message, "rates[2] = 4 follows rates[1] = 8"));
    g_clear_error(&error);
    g_assert_false(pvx_prune_check_rates(low, 2, "x.yaml:3:3", &error));
    g_assert_nonnull(strstr(error->message, "rates[0] is 0.5"));
    g_clear_error(&error);
    g_assert_false(pvx_prune_check_rates(ok, 0, "x.yaml:3:3", &error));
}

static void prune_agp_follows_the_cubic(void)
{
    /* s_t = s_f (1 - (1 - t/n)^3); CR = 1 / (1 - s_t). */
    g_assert_cmpfloat(pvx_prune_agp_cr(32, 0, 4), ==, 1.0);
    g_assert_cmpfloat(pvx_prune_agp_cr(32, 4, 4), ==, 32.0);
    double sf = 1.0 - 1.0 / 32, s1 = sf * (1.0 - 0.75 * 0.75 * 0.75);
    g_assert_cmpfloat_with_epsilon(pvx_prune_agp_cr(32, 1, 4), 1.0 / (1.0 - s1), 1e-12);
    for (int t = 1; t <= 8; t++)
        g_assert_cmpfloat(pvx_prune_agp_cr(16, t, 8), >, pvx_prune_agp_cr(16, t - 1, 8));
    /* Most of the pruning happens early (the point of the cubic). */
    g_assert_cmpfloat(pvx_prune_agp_cr(16, 4, 8), >, 4.0);
}

static void prune_nan_scores_are_refused_and_masks_unchanged(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = prune_test_vgg(mini);
    PvxLayer *l = pvx_model_find_layer(m, "features.5", NULL);
    l->weight->data[17] = NAN;
    g_autoptr(PvxPruner) pr = prune_test_pruner("magnitude", NULL);
    g_assert_false(pvx_prune_step(m, convs, pr, PVX_PRUNE_SCOPE_LOCAL, 1, 2, 0, 0, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NUMERIC);
    g_assert_nonnull(strstr(error->message, "features.5.weight[17]"));
    for (int i = 0; convs[i]; i++)
        g_assert_null(pvx_model_find_layer(m, convs[i], NULL)->mask);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/prune/local_prunes_round_half_even_of_each_layer",
                    prune_local_prunes_round_half_even_of_each_layer);
    g_test_add_func("/prune/ties_go_to_the_lower_flat_index",
                    prune_ties_go_to_the_lower_flat_index);
    g_test_add_func("/prune/never_revives_a_pruned_weight", prune_never_revives_a_pruned_weight);
    g_test_add_func("/prune/random_is_seeded", prune_random_is_seeded);
    g_test_add_func("/prune/global_ranks_across_layers", prune_global_ranks_across_layers);
    g_test_add_func("/prune/stats_report_cr_model_ratio_and_flops",
                    prune_stats_report_cr_model_ratio_and_flops);
    g_test_add_func("/prune/filter_norm_removes_filters_and_exports_a_smaller_equal_model",
                    prune_filter_norm_removes_filters_and_exports_a_smaller_equal_model);
    g_test_add_func("/prune/taylor_uses_w_times_gradient_over_batches",
                    prune_taylor_uses_w_times_gradient_over_batches);
    g_test_add_func("/prune/selection_by_kind_glob_and_exclude",
                    prune_selection_by_kind_glob_and_exclude);
    g_test_add_func("/prune/rates_must_increase_from_one", prune_rates_must_increase_from_one);
    g_test_add_func("/prune/agp_follows_the_cubic", prune_agp_follows_the_cubic);
    g_test_add_func("/prune/nan_scores_are_refused_and_masks_unchanged",
                    prune_nan_scores_are_refused_and_masks_unchanged);
    return g_test_run();
}
