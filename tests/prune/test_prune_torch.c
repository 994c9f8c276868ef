/* Masks against torch.nn.utils.prune: magnitude pruning, local iterative (CR 2, 4, 8, 16, 32)
 * equals l1_unstructured(amount=0.5) applied again and again, and global equals
 * global_unstructured(L1Unstructured, amount=0.5) applied again and again — exactly, entry by
 * entry, on tie-free weights written by prune_reference.py (argv[1] = python3, argv[2] = the
 * script). Conv and linear layers of a vgg-mini. */
#include <glib/gstdio.h>

#include "prune_test_util.h"

static char *ref_path;
static const char *const layer_names[] = {"features.0", "features.2",   "features.5",
                                          "features.7", "classifier.0", NULL};
static const char *const mini[] = {"arch=vgg-mini", "channels=[8, 8, -1, 16, 16, -1]", "hidden=32",
                                   NULL};

static void check_schedule(PvxPruneScope scope, const char *group)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = prune_test_vgg(mini);
    g_autoptr(PvxStore) s = pvx_store_open(ref_path, FALSE, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_model_load_weights(m, s, "/weights", &error));
    g_assert_no_error(error);
    g_autoptr(PvxPruner) pr = prune_test_pruner("magnitude", NULL);
    double from = 1.0;
    for (int k = 1; k <= 5; k++) {
        double to = (double)(1 << k);
        g_assert_true(pvx_prune_step(m, layer_names, pr, scope, from, to, 1, k - 1, NULL, &error));
        g_assert_no_error(error);
        from = to;
        int64_t differ = 0, total = 0;
        for (int l = 0; layer_names[l]; l++) {
            g_autofree char *path =
                g_strdup_printf("/%s/cr%d/%s.weight", group, 1 << k, layer_names[l]);
            int nd;
            int64_t shape[PVX_TENSOR_MAX_DIMS];
            g_autofree uint8_t *want = pvx_store_read_u8(s, path, &nd, shape, &error);
            g_assert_no_error(error);
            const PvxLayer *layer = pvx_model_find_layer(m, layer_names[l], &error);
            g_assert_nonnull(layer->mask);
            int64_t n = pvx_tensor_numel(layer->weight);
            for (int64_t i = 0; i < n; i++) {
                differ += (layer->mask->data[i] != 0.0f) != (want[i] != 0);
                /* The invariant weight == weight ⊙ mask. */
                if (layer->mask->data[i] == 0.0f)
                    g_assert_cmpfloat(layer->weight->data[i], ==, 0.0f);
            }
            total += n;
        }
        if (differ)
            g_error("%s CR %d: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                    " mask entries differ from torch",
                    group, 1 << k, differ, total);
    }
}

static void prune_magnitude_local_iterative_matches_torch_l1_unstructured(void)
{
    check_schedule(PVX_PRUNE_SCOPE_LOCAL, "local");
}

static void prune_magnitude_global_iterative_matches_torch_global_unstructured(void)
{
    check_schedule(PVX_PRUNE_SCOPE_GLOBAL, "global");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc < 3)
        g_error("usage: %s PYTHON3 prune_reference.py", argv[0]);
    g_autofree char *dir = g_dir_make_tmp("pvx-prune-ref-XXXXXX", NULL);
    ref_path = g_build_filename(dir, "ref.h5", NULL);
    {
        /* pvx writes the weights' names and shapes; the script gives them tie-free values. */
        g_autoptr(GError) error = NULL;
        g_autoptr(PvxModel) m = prune_test_vgg(mini);
        g_autoptr(PvxStore) s = pvx_store_create(ref_path, &error);
        g_assert_no_error(error);
        g_assert_true(pvx_store_begin(s, &error) &&
                      pvx_model_save_weights(m, s, "/weights", &error) &&
                      pvx_store_commit(s, &error));
        g_assert_no_error(error);
    }
    GPtrArray *child = g_ptr_array_new();
    g_ptr_array_add(child, argv[1]);
    g_ptr_array_add(child, argv[2]);
    g_ptr_array_add(child, ref_path);
    for (int l = 0; layer_names[l]; l++)
        g_ptr_array_add(child, (gpointer)layer_names[l]);
    g_ptr_array_add(child, NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *err_text = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)child->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                      &err_text, &status, &error) ||
        !g_spawn_check_wait_status(status, &error))
        g_error("prune_reference.py failed: %s\n%s", error->message, err_text ? err_text : "");
    g_ptr_array_free(child, TRUE);
    g_test_add_func("/prune/magnitude_local_iterative_matches_torch_l1_unstructured",
                    prune_magnitude_local_iterative_matches_torch_l1_unstructured);
    g_test_add_func("/prune/magnitude_global_iterative_matches_torch_global_unstructured",
                    prune_magnitude_global_iterative_matches_torch_global_unstructured);
    int rc = g_test_run();
    g_unlink(ref_path);
    g_rmdir(dir);
    g_free(ref_path);
    return rc;
}
