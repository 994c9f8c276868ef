/* The trainer and `pvx run` training: resume after a kill, NaN, early stopping, val split. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "train_test_util.h"

typedef struct {
    int status;
    char *out, *err;
} Result;

static void result_clear(Result *r)
{
    g_free(r->out);
    g_free(r->err);
}

static Result run_pvx(const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)PVX_EXE);
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    Result r = {0};
    int ws = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &r.out, &r.err, &ws, &error));
    g_assert_no_error(error);
    g_assert_true(WIFEXITED(ws));
    r.status = WEXITSTATUS(ws);
    return r;
}

/* A small training on 2048 Fashion-MNIST images: a few seconds per run. */
static char *write_config(const char *dir, const char *train_extra)
{
    g_autofree char *text = g_strdup_printf(
        "name: t\nseed: 3\noutput: %s\n"
        "dataset:\n  plugin: idx\n  params:\n    limit_train: 2048\n    limit_test: 256\n"
        "preview:\n  per_class: 1\n"
        "model:\n  plugin: vgg\n  params:\n    arch: vgg-mini\n    channels: [16, 16, -1, 32, -1]\n"
        "    hidden: 64\n    avgpool: 2\n    dropout: 0.2\n    batch_norm: true\n"
        "train:\n  epochs: 3\n  batch_size: 64\n  lr: 0.05\n  nesterov: true\n"
        "  augment_crop_padding: 2\n  augment_hflip: true\n%s",
        dir, train_extra ? train_extra : "");
    char *path = g_build_filename(dir, "cfg.yaml", NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static PvxStore *open_results(const char *dir, const char *run_id)
{
    g_autofree char *path = g_build_filename(dir, "t", run_id, "results.h5", NULL);
    g_autoptr(GError) error = NULL;
    PvxStore *s = pvx_store_open(path, FALSE, &error);
    g_assert_no_error(error);
    return s;
}

static gboolean have_data(void)
{
    if (!g_file_test(FASHION_MNIST, G_FILE_TEST_IS_DIR)) {
        g_test_skip("Fashion-MNIST is not installed");
        return FALSE;
    }
    return TRUE;
}

static void resume_after_sigkill_reaches_identical_weights(void)
{
    if (!have_data())
        return;
    g_autofree char *dir = g_dir_make_tmp("pvx-resume-XXXXXX", NULL);
    g_autofree char *cfg = write_config(dir, "  val_fraction: 0.125\n");
    const char *whole[] = {"run", cfg, "--run-id", "whole", NULL};
    Result a = run_pvx(whole);
    g_test_message("%s", a.err);
    g_assert_cmpint(a.status, ==, 0);
    result_clear(&a);

    /* The same run, killed while epoch 2 runs. */
    const char *argv[] = {PVX_EXE, "run", cfg, "--run-id", "killed", NULL};
    GPid pid;
    int err_fd = -1;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                           NULL, NULL, &pid, NULL, NULL, &err_fd, &error));
    g_assert_no_error(error);
    g_autoptr(GString) seen = g_string_new(NULL);
    char buf[512];
    ssize_t got;
    while (!strstr(seen->str, "epoch 1/3") && (got = read(err_fd, buf, sizeof buf)) > 0)
        g_string_append_len(seen, buf, got);
    g_assert_nonnull(strstr(seen->str, "epoch 1/3"));
    g_usleep(300 * 1000); /* into epoch 2 */
    kill(pid, SIGKILL);
    int ws = 0;
    waitpid(pid, &ws, 0);
    g_spawn_close_pid(pid);
    close(err_fd);
    g_assert_true(WIFSIGNALED(ws));
    {
        g_autoptr(PvxStore) s = open_results(dir, "killed");
        int64_t epoch = -1;
        g_assert_true(
            pvx_store_get_attr_int(s, "/models/cr1/train/checkpoint", "epoch", &epoch, &error));
        g_test_message("killed with the checkpoint of epoch %" G_GINT64_FORMAT, epoch);
        g_assert_cmpint(epoch, >=, 1);
        g_assert_cmpint(epoch, <, 3);
        g_assert_false(pvx_store_exists(s, "/stages/train"));
    }
    g_autofree char *killed_dir = g_build_filename(dir, "t", "killed", NULL);
    const char *resume[] = {"run", "--resume", killed_dir, NULL};
    Result b = run_pvx(resume);
    g_test_message("%s", b.err);
    g_assert_cmpint(b.status, ==, 0);
    g_assert_nonnull(strstr(b.err, "resuming training after epoch"));
    result_clear(&b);

    g_autoptr(PvxStore) sa = open_results(dir, "whole");
    g_autoptr(PvxStore) sb = open_results(dir, "killed");
    g_auto(GStrv) names = pvx_store_list(sa, "/models/cr1/weights", &error);
    g_assert_cmpint(g_strv_length(names), >, 0);
    for (char **n = names; *n; n++) {
        g_autofree char *p = g_strconcat("/models/cr1/weights/", *n, NULL);
        g_autoptr(PvxTensor) wa = pvx_store_read_tensor(sa, p, &error);
        g_autoptr(PvxTensor) wb = pvx_store_read_tensor(sb, p, &error);
        g_assert_no_error(error);
        g_assert_true(pvx_tensor_same_shape(wa, wb));
        g_assert_cmpint(memcmp(wa->data, wb->data, pvx_tensor_numel(wa) * sizeof(float)), ==, 0);
    }
    int nd = 0;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    g_autofree double *la =
        pvx_store_read_f64(sa, "/models/cr1/train/history/loss", &nd, shape, &error);
    g_autofree double *lb =
        pvx_store_read_f64(sb, "/models/cr1/train/history/loss", &nd, shape, &error);
    g_assert_cmpint(shape[0], ==, 3);
    for (int i = 0; i < 3; i++)
        g_assert_cmpfloat(la[i], ==, lb[i]);
    double top1a = 0, top1b = 0;
    g_assert_true(pvx_store_get_attr_double(sa, "/models/cr1/eval/test", "top1", &top1a, &error));
    g_assert_true(pvx_store_get_attr_double(sb, "/models/cr1/eval/test", "top1", &top1b, &error));
    g_assert_cmpfloat(top1a, ==, top1b);
    g_autofree char *state = pvx_store_get_attr_string(sb, "/provenance", "state", &error);
    g_assert_cmpstr(state, ==, "finished");
    /* The carved val split is recorded. */
    g_autofree int64_t *val =
        pvx_store_read_i64(sb, "/models/cr1/train/val_indices", &nd, shape, &error);
    g_assert_no_error(error);
    g_assert_cmpint(shape[0], ==, 256);
    g_clear_pointer(&sa, pvx_store_close);
    g_clear_pointer(&sb, pvx_store_close);
    test_remove_tree(dir);
}

static void nan_loss_stops_naming_epoch_and_batch_and_keeps_checkpoint(void)
{
    if (!have_data())
        return;
    g_autofree char *dir = g_dir_make_tmp("pvx-nan-XXXXXX", NULL);
    g_autofree char *cfg = write_config(dir, NULL);
    const char *args[] = {"run", cfg, "--run-id", "nan", "--set", "train.lr=1e9", NULL};
    Result r = run_pvx(args);
    g_test_message("%s", r.err);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, "training diverged at epoch 1, batch "));
    /* what overflowed first: the loss, or a gradient while the loss was still finite (which
     * one depends on the last bits of the arithmetic) */
    g_assert_true(strstr(r.err, "the loss is") != NULL ||
                  strstr(r.err, "holds NaN or Inf") != NULL);
    result_clear(&r);
    /* The last good checkpoint (before the first epoch) still opens and loads into the model. */
    g_autoptr(PvxStore) s = open_results(dir, "nan");
    g_autoptr(GError) error = NULL;
    g_autofree char *state = pvx_store_get_attr_string(s, "/provenance", "state", &error);
    g_assert_cmpstr(state, ==, "failed");
    int64_t epoch = -1;
    g_assert_true(
        pvx_store_get_attr_int(s, "/models/cr1/train/checkpoint", "epoch", &epoch, &error));
    g_assert_cmpint(epoch, ==, 0);
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    const char *pairs[] = {"arch=vgg-mini",   "channels=[16, 16, -1, 32, -1]",
                           "hidden=64",       "avgpool=2",
                           "batch_norm=true", NULL};
    int64_t chw[3] = {1, 28, 28};
    g_autoptr(PvxModel) m = test_vgg_mini(reg, pairs, chw, 10);
    g_assert_true(pvx_model_load_weights(m, s, "/models/cr1/train/checkpoint/weights", &error));
    g_assert_no_error(error);
    PvxLayer *l = pvx_model_layer(m, 0);
    for (int64_t i = 0; i < pvx_tensor_numel(l->weight); i++)
        g_assert_true(isfinite(l->weight->data[i]));
    g_clear_pointer(&s, pvx_store_close);
    test_remove_tree(dir);
}

static void early_stopping_restores_the_best_epoch(void)
{
    if (!have_data())
        return;
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    const char *ds_pairs[] = {"limit_train=1024", "limit_test=16", NULL};
    g_autoptr(PvxDataset) ds = test_fashion_mnist(reg, ds_pairs);
    const char *pairs[] = {"arch=vgg-mini",
                           "channels=[8, -1, 16, -1]",
                           "hidden=32",
                           "avgpool=2",
                           "batch_norm=true",
                           "dropout=0",
                           NULL};
    int64_t chw[3] = {1, 28, 28};
    g_autoptr(PvxModel) m = test_vgg_mini(reg, pairs, chw, 10);
    PvxTrainParams tp;
    pvx_train_params_init(&tp);
    tp.epochs = 5;
    tp.batch_size = 64;
    tp.schedule = PVX_LR_CONSTANT;
    tp.early_stopping = TRUE;
    tp.patience = 1;
    /* No later epoch can beat the first by half the accuracy: training stops after epoch 2 and
     * must come back to epoch 1's weights. */
    tp.min_delta = 0.5;
    tp.val_fraction = 0.25;
    tp.progress = FALSE;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTrainer) t = pvx_trainer_new(m, ds, &tp, &error);
    g_assert_no_error(error);
    g_assert_true(pvx_trainer_run(t, NULL, NULL, &error));
    g_assert_no_error(error);
    int n = 0;
    const PvxEpochStats *h = pvx_trainer_history(t, &n);
    g_assert_cmpint(n, ==, 2);
    g_assert_cmpint(pvx_trainer_final_epoch(t), ==, 1);
    /* The model now scores exactly epoch 1's val accuracy on the same val items. */
    int64_t n_train = 0, n_val = 0;
    int64_t *val = NULL;
    g_autofree int64_t *train =
        pvx_split_carve(1024, 0.25, pvx_hash64(tp.seed, 0x7661, 0), &n_train, &val, &n_val);
    g_autoptr(PvxLoader) loader =
        pvx_loader_new(ds, PVX_SPLIT_TRAIN, val, n_val, tp.eval_batch_size, NULL, FALSE);
    g_free(val);
    g_autofree int64_t *labels = NULL;
    g_autoptr(PvxTensor) logits = pvx_evaluate_logits(m, loader, &labels, &error);
    g_assert_no_error(error);
    double acc = 0, loss = 0;
    pvx_logits_score(logits, labels, &acc, &loss);
    g_test_message("val acc: epoch 1 %.4f, epoch 2 %.4f, restored %.4f", h[0].val_acc, h[1].val_acc,
                   acc);
    g_assert_cmpfloat(acc, ==, h[0].val_acc);
    g_assert_cmpfloat(loss, ==, h[0].val_loss);
    g_assert_cmpfloat(h[1].val_loss, !=, h[0].val_loss);
}

static void early_stopping_without_val_split_is_refused(void)
{
    if (!have_data())
        return;
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    const char *ds_pairs[] = {"limit_train=64", "limit_test=16", NULL};
    g_autoptr(PvxDataset) ds = test_fashion_mnist(reg, ds_pairs);
    const char *pairs[] = {"arch=vgg-mini", "channels=[4, -1]", "hidden=8", NULL};
    int64_t chw[3] = {1, 28, 28};
    g_autoptr(PvxModel) m = test_vgg_mini(reg, pairs, chw, 10);
    PvxTrainParams tp;
    pvx_train_params_init(&tp);
    tp.early_stopping = TRUE;
    g_autoptr(GError) error = NULL;
    g_assert_null(pvx_trainer_new(m, ds, &tp, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "val_fraction"));
}

static void val_split_carving_is_seeded_and_disjoint(void)
{
    int64_t nt = 0, nv = 0, nt2 = 0, nv2 = 0, nt3 = 0, nv3 = 0;
    int64_t *v = NULL, *v2 = NULL, *v3 = NULL;
    g_autofree int64_t *t = pvx_split_carve(1000, 0.2, 42, &nt, &v, &nv);
    g_autofree int64_t *t2 = pvx_split_carve(1000, 0.2, 42, &nt2, &v2, &nv2);
    g_autofree int64_t *t3 = pvx_split_carve(1000, 0.2, 43, &nt3, &v3, &nv3);
    g_assert_cmpint(nv, ==, 200);
    g_assert_cmpint(nt, ==, 800);
    g_assert_cmpint(memcmp(v, v2, 200 * sizeof(int64_t)), ==, 0);
    g_assert_cmpint(memcmp(t, t2, 800 * sizeof(int64_t)), ==, 0);
    g_assert_cmpint(memcmp(v, v3, 200 * sizeof(int64_t)), !=, 0);
    g_autofree guint8 *seen = g_new0(guint8, 1000);
    for (int i = 0; i < 200; i++)
        seen[v[i]]++;
    for (int i = 0; i < 800; i++)
        seen[t[i]]++;
    for (int i = 0; i < 1000; i++)
        g_assert_cmpint(seen[i], ==, 1);
    /* Not simply the first or last items. */
    g_assert_cmpint(v[0], <, 100);
    g_assert_cmpint(v[199], >, 900);
    g_free(v);
    g_free(v2);
    g_free(v3);
}

static void loader_batches_do_not_depend_on_the_loader_thread(void)
{
    if (!have_data())
        return;
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    const char *ds_pairs[] = {"limit_train=300", "limit_test=16", NULL};
    g_autoptr(PvxDataset) ds = test_fashion_mnist(reg, ds_pairs);
    PvxAugment aug = {.crop_padding = 4, .hflip = TRUE};
    g_autoptr(PvxLoader) a = pvx_loader_new(ds, PVX_SPLIT_TRAIN, NULL, 0, 64, &aug, TRUE);
    g_autoptr(PvxLoader) b = pvx_loader_new(ds, PVX_SPLIT_TRAIN, NULL, 0, 64, &aug, FALSE);
    g_assert_cmpint(pvx_loader_num_batches(a), ==, 5);
    int64_t first_label_epoch0 = -1;
    for (int epoch = 0; epoch < 2; epoch++) {
        pvx_loader_start(a, TRUE, 7, epoch);
        pvx_loader_start(b, TRUE, 7, epoch);
        PvxBatch ba, bb;
        int64_t items = 0, batches = 0;
        while (pvx_loader_next(a, &ba, NULL)) {
            g_assert_true(pvx_loader_next(b, &bb, NULL));
            g_assert_cmpint(ba.n, ==, bb.n);
            g_assert_cmpint(memcmp(ba.labels, bb.labels, ba.n * sizeof(int64_t)), ==, 0);
            g_assert_cmpint(memcmp(ba.x->data, bb.x->data, pvx_tensor_numel(ba.x) * sizeof(float)),
                            ==, 0);
            if (batches == 0 && epoch == 0)
                first_label_epoch0 = ba.labels[0];
            items += ba.n;
            batches++;
        }
        g_assert_false(pvx_loader_next(b, &bb, NULL));
        g_assert_cmpint(items, ==, 300);
        g_assert_cmpint(batches, ==, 5);
    }
    g_assert_cmpint(first_label_epoch0, >=, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/trainer/val_split_carving_is_seeded_and_disjoint",
                    val_split_carving_is_seeded_and_disjoint);
    g_test_add_func("/trainer/loader_batches_do_not_depend_on_the_loader_thread",
                    loader_batches_do_not_depend_on_the_loader_thread);
    g_test_add_func("/trainer/early_stopping_without_val_split_is_refused",
                    early_stopping_without_val_split_is_refused);
    g_test_add_func("/trainer/early_stopping_restores_the_best_epoch",
                    early_stopping_restores_the_best_epoch);
    g_test_add_func("/trainer/nan_loss_stops_naming_epoch_and_batch_and_keeps_checkpoint",
                    nan_loss_stops_naming_epoch_and_batch_and_keeps_checkpoint);
    g_test_add_func("/trainer/resume_after_sigkill_reaches_identical_weights",
                    resume_after_sigkill_reaches_identical_weights);
    return g_test_run();
}
