/* The prune stage through `pvx run`: a small iterative run on Fashion-MNIST stores every rate
 * (weights, uint8 masks, statistics, accuracy) and explains every CR; bad prune sections are
 * refused before any work (exit 2, no run folder). */
#include <sys/wait.h>

#include <glib/gstdio.h>

#include "../common/pvx_test_cli.h"
#include "prune_test_util.h"

#define FMNIST "/usr/share/datasets/fashion-mnist"

typedef PvxTestResult Result;
#define result_clear pvx_test_result_clear
#define remove_tree pvx_test_remove_tree

static Result run_pvx(const char *cwd, const char *const *args)
{
    return pvx_test_run_argv(PVX_EXE, cwd, args);
}

/* A small experiment: 600 training images, a tiny vgg-mini, one epoch, rates from @prune. */
static char *config_text(const char *prune)
{
    return g_strdup_printf(
        "name: prune-test\nseed: 3\noutput: out\n"
        "plugin_path: [%s/plugins]\n"
        "dataset:\n  plugin: idx\n  params: {root: " FMNIST ", limit_train: 600, limit_test: 200}\n"
        "model:\n  plugin: vgg\n  params: {arch: vgg-mini, channels: [8, 8, -1, 16, 16, -1], "
        "hidden: 32, batch_norm: true, avgpool: 3}\n"
        "train: {epochs: 1, batch_size: 50, lr: 0.05, momentum: 0.9}\n"
        "evaluate: {split: test}\n"
        "%s",
        PVX_TEST_BUILD_ROOT, prune);
}

static char *write_config(const char *dir, const char *prune)
{
    g_autofree char *text = config_text(prune);
    char *path = g_build_filename(dir, "exp.yaml", NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static void prune_run_stores_every_rate_and_explains_each(void)
{
    if (!g_file_test(FMNIST, G_FILE_TEST_IS_DIR)) {
        g_test_skip("dataset-fashion-mnist is not installed");
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("pvx-prune-stage-XXXXXX", NULL);
    g_autofree char *cfg = write_config(
        dir, "prune:\n  plugin: magnitude\n  rates: [2, 4]\n  finetune: {epochs: 1, lr: 0.01}\n"
             "explain:\n  selection: per_class\n  per_class: 1\n  pngs: false\n"
             "  methods: [{plugin: gradcam}]\n");
    const char *args[] = {"run", cfg, "--run-id", "r1", NULL};
    Result r = run_pvx(dir, args);
    if (r.status != 0)
        g_error("pvx run failed (%d):\n%s\n%s", r.status, r.out, r.err);
    /* The table. */
    g_assert_nonnull(strstr(r.out, "prune: magnitude (iterative)"));
    g_assert_nonnull(strstr(r.out, "achieved"));
    g_autofree char *store_path =
        g_build_filename(dir, "out", "prune-test", "r1", "results.h5", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) s = pvx_store_open(store_path, FALSE, &error);
    g_assert_no_error(error);
    const int crs[] = {2, 4};
    for (gsize i = 0; i < G_N_ELEMENTS(crs); i++) {
        g_autofree char *g = g_strdup_printf("/models/cr%d", crs[i]);
        int64_t cr = 0;
        double achieved = 0, top1 = -1, before = -1, ratio = 0, flops = 0;
        g_assert_true(pvx_store_get_attr_int(s, g, "compression_rate", &cr, &error));
        g_assert_true(
            pvx_store_get_attr_double(s, g, "compression_rate_achieved", &achieved, &error));
        g_assert_true(pvx_store_get_attr_double(s, g, "top1_before_finetune", &before, &error));
        g_assert_true(pvx_store_get_attr_double(s, g, "model_ratio", &ratio, &error));
        g_assert_true(pvx_store_get_attr_double(s, g, "flop_reduction", &flops, &error));
        g_autofree char *eval = g_strconcat(g, "/eval/test", NULL);
        g_assert_true(pvx_store_get_attr_double(s, eval, "top1", &top1, &error));
        g_assert_no_error(error);
        g_assert_cmpint(cr, ==, crs[i]);
        g_assert_cmpfloat_with_epsilon(achieved, crs[i], 0.01);
        g_assert_cmpfloat(top1, >=, 0.0);
        g_assert_cmpfloat(before, >=, 0.0);
        g_assert_cmpfloat(ratio, >, 1.0);
        g_assert_cmpfloat(flops, >, 1.0);
        /* uint8 masks under torchvision names, and the weights obey them. */
        g_autofree char *mp = g_strconcat(g, "/masks/features.3.weight", NULL);
        g_autofree char *wp = g_strconcat(g, "/weights/features.3.weight", NULL);
        int nd;
        int64_t shape[PVX_TENSOR_MAX_DIMS];
        g_autofree uint8_t *mask = pvx_store_read_u8(s, mp, &nd, shape, &error);
        g_assert_no_error(error);
        g_assert_cmpint(nd, ==, 4);
        g_assert_cmpint(shape[0], ==, 8);
        g_autoptr(PvxTensor) w = pvx_store_read_tensor(s, wp, &error);
        g_assert_no_error(error);
        int64_t kept = 0, n = pvx_tensor_numel(w);
        for (int64_t k = 0; k < n; k++) {
            kept += mask[k];
            if (!mask[k])
                g_assert_cmpfloat(w->data[k], ==, 0.0f);
        }
        g_assert_cmpint(kept, ==, (int64_t)nearbyint(n / (double)crs[i]));
        /* Per-layer density. */
        g_autofree char *dp = g_strconcat(g, "/layer_density", NULL);
        g_autofree double *dens = pvx_store_read_f64(s, dp, &nd, shape, &error);
        g_assert_no_error(error);
        g_assert_cmpint(shape[0], ==, 4); /* the four conv layers: the paper's selection */
        /* The explain stage explained every CR. */
        g_autofree char *maps = g_strdup_printf("/maps/gradcam/cr%d/raw", crs[i]);
        g_assert_true(pvx_store_exists(s, maps));
    }
    g_assert_true(pvx_store_exists(s, "/maps/gradcam/cr1/raw"));
    g_assert_true(pvx_store_exists(s, "/prune/layers"));
    /* Every CR's stored maps are that CR model's: recompute them from the stored weights and
     * masks (the model the stages share ends at CR 4; a leftover mask would change CR 1's). */
    {
        PvxRegistry *reg = prune_test_registry();
        g_assert_true(pvx_registry_load_file(reg, PLUGIN_IDX, &error) &&
                      pvx_registry_load_file(reg, PLUGIN_GRADCAM, &error));
        g_assert_no_error(error);
        const PvxPlugin *idx = pvx_registry_lookup(reg, PVX_KIND_DATASET, "idx", &error);
        const char *ds_pairs[] = {"root=" FMNIST, "limit_train=600", "limit_test=200", NULL};
        g_autoptr(PvxParams) dp = pvx_params_new_from_pairs(idx->params, "idx", ds_pairs, &error);
        g_autoptr(PvxDataset) ds = pvx_dataset_open(idx, dp, &error);
        g_assert_no_error(error);
        int nd;
        int64_t shape[PVX_TENSOR_MAX_DIMS];
        g_autofree int64_t *index =
            pvx_store_read_i64(s, "/dataset/explain/index", &nd, shape, &error);
        g_assert_no_error(error);
        int64_t n = shape[0];
        g_autoptr(PvxTensor) x = pvx_tensor_new_shape(4, n, (int64_t)1, (int64_t)28, (int64_t)28);
        for (int64_t i = 0; i < n; i++) {
            PvxDatasetItem item = {0};
            g_assert_true(pvx_dataset_get_item(ds, PVX_SPLIT_TEST, index[i], &item, &error));
            memcpy(x->data + i * 784, item.image->data, sizeof(float) * 784);
            pvx_dataset_item_clear(&item);
        }
        const char *model_pairs[] = {"arch=vgg-mini", "channels=[8, 8, -1, 16, 16, -1]",
                                     "hidden=32",     "batch_norm=true",
                                     "avgpool=3",     NULL};
        g_autoptr(PvxModel) m = prune_test_vgg(model_pairs);
        g_autoptr(PvxExplainer) ex = pvx_explainer_open_by_name(reg, "gradcam", NULL, &error);
        g_assert_no_error(error);
        const int all[] = {4, 1, 2}; /* the densest last, after the sparsest */
        for (gsize c = 0; c < G_N_ELEMENTS(all); c++) {
            g_assert_true(pvx_load_cr_model(m, s, all[c], &error));
            g_assert_no_error(error);
            PvxExplainOptions opts = {.mode = PVX_TARGET_PREDICTED};
            g_autoptr(PvxTensor) maps = pvx_explain(ex, m, x, &opts, NULL, NULL, &error);
            g_assert_no_error(error);
            g_autofree char *mp = g_strdup_printf("/maps/gradcam/cr%d/raw", all[c]);
            g_autoptr(PvxTensor) stored = pvx_store_read_tensor(s, mp, &error);
            g_assert_no_error(error);
            g_assert_cmpint(pvx_tensor_numel(stored), ==, pvx_tensor_numel(maps));
            double maxref = 1e-30, maxdiff = 0;
            for (int64_t i = 0; i < pvx_tensor_numel(maps); i++) {
                maxref = fmax(maxref, fabs(stored->data[i]));
                maxdiff = fmax(maxdiff, fabs(stored->data[i] - maps->data[i]));
            }
            if (maxdiff > 1e-4 * maxref)
                g_error("CR %d: stored Grad-CAM maps differ from the CR model's by %g (max %g)",
                        all[c], maxdiff, maxref);
        }
    }
    result_clear(&r);
    remove_tree(dir);
}

static void copy_tree(const char *from, const char *to)
{
    const char *argv[] = {"cp", "-a", from, to, NULL};
    int status = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
}

static PvxTensor *read_weight(const char *store_path, const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) s = pvx_store_open(store_path, FALSE, &error);
    g_assert_no_error(error);
    PvxTensor *t = pvx_store_read_tensor(s, path, &error);
    g_assert_no_error(error);
    return t;
}

/* A run stopped after CR 2 (the prune-cr4 stage never committed) resumes from CR 2's stored
 * model and reaches CR 4's weights bit for bit. */
static void prune_resume_after_a_finished_rate_reaches_the_same_weights(void)
{
    if (!g_file_test(FMNIST, G_FILE_TEST_IS_DIR)) {
        g_test_skip("dataset-fashion-mnist is not installed");
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("pvx-prune-resume-XXXXXX", NULL);
    g_autofree char *cfg =
        write_config(dir, "prune:\n  plugin: random\n  rates: [2, 4]\n"
                          "  finetune: {epochs: 1, lr: 0.01, epoch_fraction: 0.5}\n");
    const char *args[] = {"run", cfg, "--run-id", "full", NULL};
    Result r = run_pvx(dir, args);
    if (r.status != 0)
        g_error("pvx run failed (%d):\n%s\n%s", r.status, r.out, r.err);
    result_clear(&r);
    g_autofree char *full = g_build_filename(dir, "out", "prune-test", "full", NULL);
    g_autofree char *cut = g_build_filename(dir, "out", "prune-test", "cut", NULL);
    copy_tree(full, cut);
    g_autofree char *cut_store = g_build_filename(cut, "results.h5", NULL);
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(PvxStore) s = pvx_store_open(cut_store, TRUE, &error);
        g_assert_no_error(error);
        g_assert_true(pvx_store_begin(s, &error) && pvx_store_delete(s, "/models/cr4", &error) &&
                      pvx_store_delete(s, "/stages/prune-cr4", &error) &&
                      pvx_store_delete(s, "/prune", &error) &&
                      pvx_store_set_attr_string(s, "/provenance", "state", "running", &error) &&
                      pvx_store_commit(s, &error));
        g_assert_no_error(error);
    }
    const char *resume[] = {"run", "--resume", cut, NULL};
    r = run_pvx(dir, resume);
    if (r.status != 0)
        g_error("pvx run --resume failed (%d):\n%s\n%s", r.status, r.out, r.err);
    g_assert_nonnull(strstr(r.err, "stage prune-cr2: finished before"));
    result_clear(&r);
    g_autofree char *full_store = g_build_filename(full, "results.h5", NULL);
    const char *names[] = {"/models/cr4/weights/features.3.weight",
                           "/models/cr4/weights/classifier.6.weight", NULL};
    for (int i = 0; names[i]; i++) {
        g_autoptr(PvxTensor) a = read_weight(full_store, names[i]);
        g_autoptr(PvxTensor) b = read_weight(cut_store, names[i]);
        g_assert_cmpint(pvx_tensor_numel(a), ==, pvx_tensor_numel(b));
        g_assert_cmpmem(a->data, sizeof(float) * pvx_tensor_numel(a), b->data,
                        sizeof(float) * pvx_tensor_numel(b));
    }
    remove_tree(dir);
}

/* The one-shot and gradual schedules through pvx run: every rate stored at its CR; one-shot rates
 * start from the unpruned model (CR 4's mask is not inside CR 2's), gradual stores the last rate
 * only. */
static void prune_one_shot_and_gradual_schedules_reach_their_rates(void)
{
    if (!g_file_test(FMNIST, G_FILE_TEST_IS_DIR)) {
        g_test_skip("dataset-fashion-mnist is not installed");
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("pvx-prune-sched-XXXXXX", NULL);
    g_autofree char *one =
        write_config(dir, "prune:\n  plugin: random\n  schedule: one-shot\n  rates: [2, 4]\n"
                          "  finetune: {epochs: 1, lr: 0.01}\n");
    const char *a1[] = {"run", one, "--run-id", "one", NULL};
    Result r = run_pvx(dir, a1);
    if (r.status != 0)
        g_error("one-shot run failed (%d):\n%s\n%s", r.status, r.out, r.err);
    result_clear(&r);
    g_autofree char *grad =
        write_config(dir, "prune:\n  plugin: magnitude\n  schedule: gradual\n  rates: [2, 8]\n"
                          "  scope: global\n  span_epochs: 3\n  finetune: {epochs: 1, lr: 0.01}\n");
    const char *a2[] = {"run", grad, "--run-id", "grad", NULL};
    r = run_pvx(dir, a2);
    if (r.status != 0)
        g_error("gradual run failed (%d):\n%s\n%s", r.status, r.out, r.err);
    result_clear(&r);
    g_autoptr(GError) error = NULL;
    {
        g_autofree char *path =
            g_build_filename(dir, "out", "prune-test", "one", "results.h5", NULL);
        g_autoptr(PvxStore) s = pvx_store_open(path, FALSE, &error);
        g_assert_no_error(error);
        int nd;
        int64_t shape[PVX_TENSOR_MAX_DIMS];
        g_autofree uint8_t *m2 =
            pvx_store_read_u8(s, "/models/cr2/masks/features.3.weight", &nd, shape, &error);
        g_autofree uint8_t *m4 =
            pvx_store_read_u8(s, "/models/cr4/masks/features.3.weight", &nd, shape, &error);
        g_assert_no_error(error);
        int64_t n = shape[0] * shape[1] * shape[2] * shape[3], outside = 0, kept4 = 0;
        for (int64_t i = 0; i < n; i++) {
            kept4 += m4[i];
            outside += m4[i] && !m2[i];
        }
        g_assert_cmpint(kept4, ==, (int64_t)nearbyint(n / 4.0));
        g_assert_cmpint(outside, >, 0); /* random from scratch: not nested in CR 2's mask */
        g_autofree char *sched = pvx_store_get_attr_string(s, "/models/cr4", "schedule", &error);
        g_assert_cmpstr(sched, ==, "one-shot");
    }
    {
        g_autofree char *path =
            g_build_filename(dir, "out", "prune-test", "grad", "results.h5", NULL);
        g_autoptr(PvxStore) s = pvx_store_open(path, FALSE, &error);
        g_assert_no_error(error);
        double achieved = 0;
        int64_t span = 0;
        g_assert_true(pvx_store_get_attr_double(s, "/models/cr8", "compression_rate_achieved",
                                                &achieved, &error));
        g_assert_true(pvx_store_get_attr_int(s, "/models/cr8", "span_epochs", &span, &error));
        g_assert_cmpfloat_with_epsilon(achieved, 8.0, 0.05);
        g_assert_cmpint(span, ==, 3);
        g_assert_false(pvx_store_exists(s, "/models/cr2")); /* gradual stores the last rate */
        /* prune.scope global: one ranking over all layers, so the layers keep different
         * fractions (local would keep 1/8 of each). */
        double kept[2];
        const char *layers[] = {"features.0.weight", "features.3.weight"};
        for (int l = 0; l < 2; l++) {
            g_autofree char *mpath = g_strconcat("/models/cr8/masks/", layers[l], NULL);
            int nd;
            int64_t shape[PVX_TENSOR_MAX_DIMS];
            g_autofree uint8_t *m = pvx_store_read_u8(s, mpath, &nd, shape, &error);
            g_assert_no_error(error);
            int64_t n = shape[0] * shape[1] * shape[2] * shape[3], k = 0;
            for (int64_t i = 0; i < n; i++)
                k += m[i];
            kept[l] = (double)k / (double)n;
        }
        g_assert_cmpfloat(fabs(kept[0] - kept[1]), >, 0.02);
    }
    remove_tree(dir);
}

/* Filter pruning through pvx run, then `pvx prune export` writes the smaller model. */
static void prune_filter_norm_run_exports_a_smaller_model(void)
{
    if (!g_file_test(FMNIST, G_FILE_TEST_IS_DIR)) {
        g_test_skip("dataset-fashion-mnist is not installed");
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("pvx-prune-export-XXXXXX", NULL);
    g_autofree char *cfg = write_config(
        dir, "prune:\n  plugin: filter-norm\n  rates: [2]\n  finetune: {epochs: 1, lr: 0.01}\n");
    const char *args[] = {"run", cfg, "--run-id", "f", NULL};
    Result r = run_pvx(dir, args);
    if (r.status != 0)
        g_error("pvx run failed (%d):\n%s\n%s", r.status, r.out, r.err);
    result_clear(&r);
    g_autofree char *run = g_build_filename(dir, "out", "prune-test", "f", NULL);
    g_autofree char *out = g_build_filename(dir, "small.h5", NULL);
    const char *exp[] = {"prune", "export", run, "--cr", "2", "--out", out, NULL};
    r = run_pvx(dir, exp);
    if (r.status != 0)
        g_error("pvx prune export failed (%d):\n%s\n%s", r.status, r.out, r.err);
    g_assert_nonnull(strstr(r.out, "conv output channels: ["));
    g_assert_nonnull(strstr(r.out, "fewer)"));
    g_assert_nonnull(strstr(r.out, "plugin: exported"));
    g_assert_nonnull(strstr(r.out, "plugin: vgg"));
    result_clear(&r);
    g_autoptr(GError) error = NULL;
    {
        /* The architecture travels with the weights: the file alone rebuilds the model. */
        g_autoptr(PvxModel) small = pvx_model_new_from_file(out, &error);
        g_assert_no_error(error);
        g_assert_true(g_str_has_prefix(pvx_model_arch(small), "vgg-mini"));
    }
    {
        g_autoptr(PvxStore) s = pvx_store_open(out, FALSE, &error);
        g_assert_no_error(error);
        g_autoptr(PvxTensor) w = pvx_store_read_tensor(s, "/weights/features.0.weight", &error);
        g_assert_no_error(error);
        g_assert_cmpint(w->shape[0], <, 8); /* filters were removed */
    }
    /* A rate the run does not have: exit 2, naming what it has. */
    const char *bad[] = {"prune", "export", run, "--cr", "4", "--out", out, NULL};
    r = run_pvx(dir, bad);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "no model at CR 4"));
    result_clear(&r);
    remove_tree(dir);
}

static void expect_refused(const char *prune, const char *message)
{
    g_autofree char *dir = g_dir_make_tmp("pvx-prune-bad-XXXXXX", NULL);
    g_autofree char *cfg = write_config(dir, prune);
    const char *args[] = {"run", cfg, NULL};
    Result r = run_pvx(dir, args);
    if (r.status != 2 || !strstr(r.err, message))
        g_error("expected exit 2 and '%s', got %d:\n%s\n%s", message, r.status, r.out, r.err);
    /* Nothing ran: no run folder. */
    g_autofree char *out = g_build_filename(dir, "out", NULL);
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    result_clear(&r);
    remove_tree(dir);
}

/* A pruner built for ABI 1.0 declared `scope` as its own parameter and answered through its scope
 * slot (the test plugin asks for global). The core follows it while prune.scope is not set, and
 * refuses before any work when prune.scope says otherwise — a 1.0 config never changes its masks
 * silently. */
static void prune_abi_1_0_pruner_scope_is_followed_or_refused(void)
{
    if (!g_file_test(FMNIST, G_FILE_TEST_IS_DIR)) {
        g_test_skip("dataset-fashion-mnist is not installed");
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("pvx-prune-abi10-XXXXXX", NULL);
    g_autofree char *plugins = g_build_filename(dir, "plugins10", NULL);
    g_assert_cmpint(g_mkdir(plugins, 0755), ==, 0);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(PLUGIN_ABI10_PRUNER, &bytes, &len, NULL));
    g_autofree char *copy = g_build_filename(plugins, "pvx-test-abi10-pruner.so", NULL);
    g_assert_true(g_file_set_contents(copy, bytes, (gssize)len, NULL));
    const char *sections[] = {
        "prune: {plugin: old-pruner, scope: local, rates: [2]}\n",
        "prune: {plugin: old-pruner, rates: [2], finetune: {epochs: 1, lr: 0.01}}\n",
    };
    for (int i = 0; i < 2; i++) {
        /* both plugin folders: the build tree's and the 1.0 pruner's */
        g_autofree char *base = config_text(sections[i]);
        g_autofree char *tree = g_strdup_printf("plugin_path: [%s/plugins]", PVX_TEST_BUILD_ROOT);
        g_autofree char *both =
            g_strdup_printf("plugin_path: [%s/plugins, %s]", PVX_TEST_BUILD_ROOT, plugins);
        g_auto(GStrv) parts = g_strsplit(base, tree, 2);
        g_assert_cmpuint(g_strv_length(parts), ==, 2);
        g_autofree char *cfg_text = g_strjoinv(both, parts);
        g_autofree char *cfg = g_build_filename(dir, "exp.yaml", NULL);
        g_assert_true(g_file_set_contents(cfg, cfg_text, -1, NULL));
        const char *args[] = {"run", cfg, "--run-id", "r", NULL};
        Result r = run_pvx(dir, args);
        if (i == 0) {
            if (r.status != 2 || !strstr(r.err, "prune.scope is local, but pruner old-pruner "
                                                "(plugin ABI 1.0) ranks global"))
                g_error("expected exit 2 naming both scopes, got %d:\n%s\n%s", r.status, r.out,
                        r.err);
            g_autofree char *out = g_build_filename(dir, "out", NULL);
            g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
        } else {
            if (r.status != 0)
                g_error("pvx run failed (%d):\n%s\n%s", r.status, r.out, r.err);
            g_assert_nonnull(strstr(r.err, "pruner old-pruner (plugin ABI 1.0) ranks global "
                                           "through its own scope parameter; following it"));
        }
        result_clear(&r);
    }
    remove_tree(dir);
}

static void prune_bad_sections_are_refused_before_any_work(void)
{
    if (!g_file_test(FMNIST, G_FILE_TEST_IS_DIR)) {
        g_test_skip("dataset-fashion-mnist is not installed");
        return;
    }
    expect_refused("prune: {plugin: magnitude, rates: [2, 8, 4]}\n",
                   "rates[2] = 4 follows rates[1] = 8");
    expect_refused("prune: {plugin: magnitude, rates: [0, 2]}\n", "rates");
    expect_refused("prune: {plugin: magnitude, rates: [1, 2]}\n", "leave 1 out of the rates");
    expect_refused("prune: {plugin: magnitud, rates: [2]}\n", "magnitud");
    expect_refused("prune: {plugin: magnitude, exclude: [feature.0]}\n",
                   "'feature.0' matches no prunable layer");
    expect_refused("prune: {plugin: magnitude, kinds: [], include: []}\n", "matches no layer");
    expect_refused("prune: {plugin: filter-norm, kinds: [conv, linear]}\n",
                   "removes whole conv filters");
    /* scope is the core's since ABI 1.1: under the pruner's params it is refused with a pointer
     * to where it went. */
    expect_refused("prune:\n  plugin: magnitude\n  params: {scope: global}\n",
                   "exp.yaml:15:12: 'scope' is not a parameter of pruner magnitude: it is a key of "
                   "the prune section itself (prune.scope)");
    expect_refused("prune: {plugin: magnitude, scope: globl}\n", "globl");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/prune/run_stores_every_rate_and_explains_each",
                    prune_run_stores_every_rate_and_explains_each);
    g_test_add_func("/prune/resume_after_a_finished_rate_reaches_the_same_weights",
                    prune_resume_after_a_finished_rate_reaches_the_same_weights);
    g_test_add_func("/prune/one_shot_and_gradual_schedules_reach_their_rates",
                    prune_one_shot_and_gradual_schedules_reach_their_rates);
    g_test_add_func("/prune/filter_norm_run_exports_a_smaller_model",
                    prune_filter_norm_run_exports_a_smaller_model);
    g_test_add_func("/prune/abi_1_0_pruner_scope_is_followed_or_refused",
                    prune_abi_1_0_pruner_scope_is_followed_or_refused);
    g_test_add_func("/prune/bad_sections_are_refused_before_any_work",
                    prune_bad_sections_are_refused_before_any_work);
    return g_test_run();
}
