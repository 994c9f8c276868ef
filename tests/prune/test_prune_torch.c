/* Masks against torch.nn.utils.prune: magnitude pruning, local iterative (CR 2, 4, 8, 16, 32)
 * equals l1_unstructured(amount=0.5) applied again and again, and global equals
 * global_unstructured(L1Unstructured, amount=0.5) applied again and again — exactly, entry by
 * entry, on tie-free weights written by prune_reference.py (argv[1] = python3, argv[2] = the
 * script): every |w| is distinct across all layers, so torch.topk's unspecified order among ties
 * never matters (pvx's own tie rule, lower flat index first, is tested in test_prune.c). Conv and
 * linear layers of a vgg-mini (five rounds), and all 21 conv2d and linear layers of a resnet18 for
 * 3×32×32 images and 10 classes (downsample convs and fc included; two rounds, CR 2 and 4). */
#include <glib/gstdio.h>

#include "prune_test_util.h"

static const char *const vgg_layers[] = {"features.0", "features.2",   "features.5",
                                         "features.7", "classifier.0", NULL};
static const char *const mini[] = {"arch=vgg-mini", "channels=[8, 8, -1, 16, 16, -1]", "hidden=32",
                                   NULL};
static const char *const resnet18[] = {"arch=resnet18", "seed=1", NULL};

typedef struct {
    const char *plugin;
    const char *const *pairs;
    int rounds;
    char *ref_path;
    char **layers; /* every conv2d and linear layer (vgg: vgg_layers) */
} Case;

static Case vgg_case = {"vgg", mini, 5, NULL, NULL};
static Case resnet_case = {"resnet", resnet18, 2, NULL, NULL};

static PvxModel *case_model(const Case *c)
{
    if (strcmp(c->plugin, "vgg") == 0)
        return prune_test_vgg(c->pairs);
    const int64_t chw[3] = {3, 32, 32};
    return prune_test_model(c->plugin, c->pairs, chw, 10);
}

static void check_schedule(const Case *c, PvxPruneScope scope, const char *group)
{
    g_autoptr(GError) error = NULL;
    const char *const *layer_names = (const char *const *)c->layers;
    g_autoptr(PvxModel) m = case_model(c);
    g_autoptr(PvxStore) s = pvx_store_open(c->ref_path, FALSE, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_model_load_weights(m, s, "/weights", &error));
    g_assert_no_error(error);
    g_autoptr(PvxPruner) pr = prune_test_pruner("magnitude", NULL);
    double from = 1.0;
    for (int k = 1; k <= c->rounds; k++) {
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
    check_schedule(&vgg_case, PVX_PRUNE_SCOPE_LOCAL, "local");
}

static void prune_magnitude_global_iterative_matches_torch_global_unstructured(void)
{
    check_schedule(&vgg_case, PVX_PRUNE_SCOPE_GLOBAL, "global");
}

static void prune_resnet18_magnitude_local_matches_torch_l1_unstructured(void)
{
    check_schedule(&resnet_case, PVX_PRUNE_SCOPE_LOCAL, "local");
}

static void prune_resnet18_magnitude_global_matches_torch_global_unstructured(void)
{
    check_schedule(&resnet_case, PVX_PRUNE_SCOPE_GLOBAL, "global");
}

/* pvx writes the weights' names and shapes; the script gives them tie-free values and computes
 * torch's masks. */
static void make_reference(Case *c, const char *dir, const char *python, const char *script)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *file = g_strdup_printf("%s.h5", c->plugin);
    c->ref_path = g_build_filename(dir, file, NULL);
    {
        g_autoptr(PvxModel) m = case_model(c);
        c->layers = strcmp(c->plugin, "vgg") == 0
                        ? g_strdupv((char **)vgg_layers)
                        : g_strdupv((char **)pvx_model_prunable_layers(m));
        g_autoptr(PvxStore) s = pvx_store_create(c->ref_path, &error);
        g_assert_no_error(error);
        g_assert_true(pvx_store_begin(s, &error) &&
                      pvx_model_save_weights(m, s, "/weights", &error) &&
                      pvx_store_commit(s, &error));
        g_assert_no_error(error);
    }
    g_autofree char *rounds = g_strdup_printf("%d", c->rounds);
    GPtrArray *child = g_ptr_array_new();
    g_ptr_array_add(child, (gpointer)python);
    g_ptr_array_add(child, (gpointer)script);
    g_ptr_array_add(child, "--rounds");
    g_ptr_array_add(child, rounds);
    g_ptr_array_add(child, c->ref_path);
    for (int l = 0; c->layers[l]; l++)
        g_ptr_array_add(child, c->layers[l]);
    g_ptr_array_add(child, NULL);
    g_autofree char *err_text = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, (char **)child->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                      &err_text, &status, &error) ||
        !g_spawn_check_wait_status(status, &error))
        g_error("prune_reference.py failed: %s\n%s", error->message, err_text ? err_text : "");
    g_ptr_array_free(child, TRUE);
}

static void case_clear(Case *c)
{
    g_unlink(c->ref_path);
    g_free(c->ref_path);
    g_strfreev(c->layers);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc < 3)
        g_error("usage: %s PYTHON3 prune_reference.py", argv[0]);
    g_autofree char *dir = g_dir_make_tmp("pvx-prune-ref-XXXXXX", NULL);
    make_reference(&vgg_case, dir, argv[1], argv[2]);
    make_reference(&resnet_case, dir, argv[1], argv[2]);
    g_test_add_func("/prune/magnitude_local_iterative_matches_torch_l1_unstructured",
                    prune_magnitude_local_iterative_matches_torch_l1_unstructured);
    g_test_add_func("/prune/magnitude_global_iterative_matches_torch_global_unstructured",
                    prune_magnitude_global_iterative_matches_torch_global_unstructured);
    g_test_add_func("/prune/resnet18_magnitude_local_matches_torch_l1_unstructured",
                    prune_resnet18_magnitude_local_matches_torch_l1_unstructured);
    g_test_add_func("/prune/resnet18_magnitude_global_matches_torch_global_unstructured",
                    prune_resnet18_magnitude_global_matches_torch_global_unstructured);
    int rc = g_test_run();
    case_clear(&vgg_case);
    case_clear(&resnet_case);
    g_rmdir(dir);
    return rc;
}
