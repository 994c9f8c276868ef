/* Training against PyTorch: SGD steps of vgg-mini with masks, and learning-rate schedules. */
#include <math.h>
#include <stdio.h>

#include "train_test_util.h"

#define STEPS 3
#define BATCH 16

static void trainer_steps_match_torch_vgg_mini_with_masks(void)
{
    if (!g_file_test(FASHION_MNIST, G_FILE_TEST_IS_DIR)) {
        g_test_skip("Fashion-MNIST is not installed");
        return;
    }
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    const char *ds_pairs[] = {"limit_train=64", "limit_test=16", NULL};
    g_autoptr(PvxDataset) ds = test_fashion_mnist(reg, ds_pairs);
    const char *m_pairs[] = {"arch=vgg-mini",
                             "channels=[8, 8, -1, 16, -1]",
                             "hidden=32",
                             "avgpool=2",
                             "dropout=0",
                             "seed=5",
                             NULL};
    int64_t chw[3] = {1, 28, 28};
    g_autoptr(PvxModel) model = test_vgg_mini(reg, m_pairs, chw, 10);
    g_autoptr(GError) error = NULL;
    /* torchvision's normal(0, 0.01) classifier init leaves a 32-wide classifier's logits near 0
     * and every gradient tiny; widen it so the steps move the weights measurably. */
    for (int i = 0; i < pvx_model_n_layers(model); i++) {
        PvxLayer *l = pvx_model_layer(model, i);
        if (l->type == PVX_LAYER_LINEAR)
            for (int64_t j = 0; j < pvx_tensor_numel(l->weight); j++)
                l->weight->data[j] *= 20.0f;
    }
    /* Prune about 40 % of three layers' weights with a fixed pattern. */
    const char *masked[] = {"features.0", "features.5", "classifier.3"};
    for (gsize k = 0; k < G_N_ELEMENTS(masked); k++) {
        PvxLayer *l = pvx_model_find_layer(model, masked[k], &error);
        g_assert_no_error(error);
        int64_t n = pvx_tensor_numel(l->weight);
        g_autofree uint8_t *m = g_new(uint8_t, n);
        for (int64_t i = 0; i < n; i++)
            m[i] = (pvx_hash64(k, (guint64)i, 0) % 10) >= 4;
        g_assert_true(pvx_model_set_mask_u8(model, masked[k], m, &error));
    }
    g_autofree char *dir = g_dir_make_tmp("pvx-train-ref-XXXXXX", NULL);
    g_autofree char *in_path = g_build_filename(dir, "in.h5", NULL);
    g_autofree char *out_path = g_build_filename(dir, "out.h5", NULL);
    const double lr = 0.05, momentum = 0.9, wd = 5e-3;
    PvxTensor *xs[STEPS];
    int64_t ys[STEPS][BATCH];
    {
        g_autoptr(PvxStore) st = pvx_store_create(in_path, &error);
        g_assert_no_error(error);
        g_assert_true(pvx_store_begin(st, &error));
        g_assert_true(pvx_model_save_weights(model, st, "/weights", &error));
        g_assert_true(pvx_model_save_masks(model, st, "/masks", &error));
        for (int k = 0; k < STEPS; k++) {
            xs[k] = pvx_tensor_new_shape(4, (int64_t)BATCH, chw[0], chw[1], chw[2]);
            for (int i = 0; i < BATCH; i++) {
                PvxDatasetItem item = {0};
                g_assert_true(
                    pvx_dataset_get_item(ds, PVX_SPLIT_TRAIN, k * BATCH + i, &item, &error));
                memcpy(xs[k]->data + i * 784, item.image->data, 784 * sizeof(float));
                ys[k][i] = item.label;
                pvx_dataset_item_clear(&item);
            }
            g_autofree char *xp = g_strdup_printf("/x%d", k);
            g_autofree char *yp = g_strdup_printf("/y%d", k);
            int64_t n = BATCH;
            g_assert_true(pvx_store_write_tensor(st, xp, xs[k], &error));
            g_assert_true(pvx_store_write_i64(st, yp, 1, &n, ys[k], &error));
        }
        g_assert_true(pvx_store_set_attr_string(st, "/cfg", "channels", "8,8,-1,16,-1", &error));
        g_assert_true(pvx_store_set_attr_int(st, "/cfg", "hidden", 32, &error));
        g_assert_true(pvx_store_set_attr_int(st, "/cfg", "avgpool", 2, &error));
        g_assert_true(pvx_store_set_attr_int(st, "/cfg", "classes", 10, &error));
        g_assert_true(pvx_store_set_attr_int(st, "/cfg", "in_channels", 1, &error));
        g_assert_true(pvx_store_set_attr_int(st, "/cfg", "steps", STEPS, &error));
        g_assert_true(pvx_store_set_attr_double(st, "/cfg", "lr", lr, &error));
        g_assert_true(pvx_store_set_attr_double(st, "/cfg", "momentum", momentum, &error));
        g_assert_true(pvx_store_set_attr_int(st, "/cfg", "nesterov", 1, &error));
        g_assert_true(pvx_store_set_attr_double(st, "/cfg", "weight_decay", wd, &error));
        g_assert_true(pvx_store_commit(st, &error));
        g_assert_no_error(error);
    }
    g_autofree char *script =
        g_build_filename(PVX_TEST_SOURCE_ROOT, "tests", "train", "train_reference.py", NULL);
    const char *argv[] = {"/usr/bin/python3", script, in_path, out_path, NULL};
    g_autofree char *torch_out = NULL;
    if (!test_run_python(argv, &torch_out)) {
        for (int k = 0; k < STEPS; k++)
            pvx_tensor_unref(xs[k]);
        test_remove_tree(dir);
        return;
    }
    g_test_message("torch: %s", torch_out);

    PvxTrainParams tp;
    pvx_train_params_init(&tp);
    tp.sgd.momentum = momentum;
    tp.sgd.nesterov = TRUE;
    tp.sgd.weight_decay = wd;
    tp.progress = FALSE;
    g_autoptr(PvxTrainer) trainer = pvx_trainer_new(model, ds, &tp, &error);
    g_assert_no_error(error);
    for (int k = 0; k < STEPS; k++) {
        double loss = 0;
        g_assert_true(pvx_trainer_step(trainer, xs[k], ys[k], lr, &loss, NULL, &error));
        g_assert_no_error(error);
        g_test_message("pvx step %d: loss %.6f", k, loss);
        pvx_tensor_unref(xs[k]);
    }
    g_autoptr(PvxStore) ref = pvx_store_open(out_path, FALSE, &error);
    g_assert_no_error(error);
    g_auto(GStrv) names = NULL;
    g_autoptr(GPtrArray) state = pvx_model_state(model, &names);
    double worst = 0;
    for (guint i = 0; i < state->len; i++) {
        g_autofree char *p = g_strconcat("/weights/", names[i], NULL);
        g_autoptr(PvxTensor) want = pvx_store_read_tensor(ref, p, &error);
        g_assert_no_error(error);
        PvxTensor *got = g_ptr_array_index(state, i);
        double maxabs = 0;
        for (int64_t j = 0; j < pvx_tensor_numel(want); j++)
            maxabs = fmax(maxabs, fabs(want->data[j]));
        /* 1e-5 relative, with a floor of 1e-3 × max|w| for values that cancel towards zero. */
        double diff = pvx_tensor_max_rel_diff(got, want, 1e-3 * maxabs);
        g_test_message("%s: max rel diff %.3g", names[i], diff);
        worst = fmax(worst, diff);
        g_assert_cmpfloat(diff, <=, 1e-5);
    }
    /* Pruned weights stayed exactly zero. */
    for (gsize k = 0; k < G_N_ELEMENTS(masked); k++) {
        PvxLayer *l = pvx_model_find_layer(model, masked[k], NULL);
        int64_t zeros = 0;
        for (int64_t i = 0; i < pvx_tensor_numel(l->weight); i++) {
            if (l->mask->data[i] == 0) {
                g_assert_cmpfloat(l->weight->data[i], ==, 0.0f);
                zeros++;
            }
        }
        g_assert_cmpint(zeros, >, 0);
    }
    g_test_message("worst max rel diff %.3g", worst);
    g_clear_pointer(&ref, pvx_store_close);
    test_remove_tree(dir);
}

static void lr_schedules_match_torch_lr_scheduler(void)
{
    g_autofree char *script =
        g_build_filename(PVX_TEST_SOURCE_ROOT, "tests", "train", "schedule_reference.py", NULL);
    const char *argv[] = {"/usr/bin/python3", script, NULL};
    g_autofree char *out = NULL;
    if (!test_run_python(argv, &out))
        return;
    struct {
        const char *name;
        PvxLrParams p;
    } cases[] = {
        {"constant", {PVX_LR_CONSTANT, 0.1, 6, 5, 1, 0.1, 0}},
        {"step", {PVX_LR_STEP, 0.1, 6, 5, 2, 0.3, 0}},
        {"cosine", {PVX_LR_COSINE, 0.1, 6, 5, 1, 0.1, 0}},
        {"onecycle", {PVX_LR_ONECYCLE, 0.2, 6, 5, 1, 0.1, 0}},
        {"cosine_warmup2", {PVX_LR_COSINE, 0.1, 6, 5, 1, 0.1, 2}},
        {"step_warmup1", {PVX_LR_STEP, 0.1, 6, 5, 1, 0.5, 1}},
    };
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    int checked = 0;
    for (gsize c = 0; c < G_N_ELEMENTS(cases); c++) {
        g_assert_true(pvx_lr_params_check(&cases[c].p, NULL));
        gboolean found = FALSE;
        for (char **l = lines; *l; l++) {
            g_auto(GStrv) f = g_strsplit(*l, " ", -1);
            if (!f[0] || strcmp(f[0], cases[c].name) != 0)
                continue;
            found = TRUE;
            int64_t t = 0;
            for (char **v = f + 1; *v; v++, t++) {
                double want = g_ascii_strtod(*v, NULL), got = pvx_lr_at(&cases[c].p, t);
                if (fabs(got - want) > 1e-9 + 1e-9 * fabs(want))
                    g_error("%s: step %" G_GINT64_FORMAT ": pvx %.12g, torch %.12g", cases[c].name,
                            t, got, want);
                checked++;
            }
            g_assert_cmpint(t, ==, 30);
        }
        g_assert_true(found);
    }
    g_test_message("%d learning rates compared", checked);
}

static void lr_schedule_rejects_impossible_settings(void)
{
    g_autoptr(GError) error = NULL;
    PvxLrParams p = {PVX_LR_ONECYCLE, 0.1, 5, 10, 1, 0.1, 1};
    g_assert_false(pvx_lr_params_check(&p, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "warmup_epochs"));
    g_clear_error(&error);
    PvxLrParams q = {PVX_LR_COSINE, 0.1, 3, 10, 1, 0.1, 3};
    g_assert_false(pvx_lr_params_check(&q, &error));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/train/trainer_steps_match_torch_vgg_mini_with_masks",
                    trainer_steps_match_torch_vgg_mini_with_masks);
    g_test_add_func("/train/lr_schedules_match_torch_lr_scheduler",
                    lr_schedules_match_torch_lr_scheduler);
    g_test_add_func("/train/lr_schedule_rejects_impossible_settings",
                    lr_schedule_rejects_impossible_settings);
    return g_test_run();
}
