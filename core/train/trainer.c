/* pvx — the trainer: epochs of mini-batch SGD, validation, early stopping, checkpoints. */
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx-private/ops.h"
#include "pvx-private/progress.h"
#include "pvx-private/train.h"
#include "pvx-private/weights.h"
#include "pvx-private/run_layout.h"

/* Stream tags of the seeded choices (see train.h, "Determinism"). */
#define STREAM_VAL 0x7661ull   /* val split carving */
#define STREAM_DROPOUT 0xd0ull /* dropout seed of an epoch */

struct _PvxTrainer {
    PvxModel *model;
    const PvxDataset *ds;
    PvxTrainParams p;
    PvxLrParams lr;
    int64_t *train_idx, n_train;
    int64_t *val_idx, n_val; /* carved from train; NULL when the val split is the dataset's */
    gboolean has_val;
    PvxLoader *train_loader, *val_loader;
    PvxSgd *sgd;
    GArray *history; /* PvxEpochStats */
    int epochs_done;
    int best_epoch;
    double best_metric;
    int bad_epochs;
    gboolean stopped;
    GPtrArray *best_state; /* copies of the state tensors at best_epoch, or NULL */
    int final_epoch;
    PvxTensor *dlogits; /* reused between steps */
};

void pvx_train_params_init(PvxTrainParams *p)
{
    memset(p, 0, sizeof *p);
    p->epochs = 10;
    p->batch_size = 128;
    p->eval_batch_size = 512;
    p->lr = 0.05;
    p->sgd.momentum = 0.9;
    p->sgd.weight_decay = 5e-4;
    p->schedule = PVX_LR_COSINE;
    p->step_size = 10;
    p->gamma = 0.1;
    p->patience = 3;
    p->min_delta = 0.0;
    p->prefetch = TRUE;
    p->progress = TRUE;
    p->epoch_fraction = 1.0;
}

static void trainer_add_params(PvxTrainer *t)
{
    for (int i = 0; i < pvx_model_n_layers(t->model); i++) {
        PvxLayer *l = pvx_model_layer(t->model, i);
        if (l->weight) {
            g_autofree char *n = g_strconcat(l->name, ".weight", NULL);
            pvx_sgd_add_param(t->sgd, n, l->weight, l->weight_grad, l->mask, TRUE);
        }
        if (l->bias) {
            g_autofree char *n = g_strconcat(l->name, ".bias", NULL);
            pvx_sgd_add_param(t->sgd, n, l->bias, l->bias_grad, NULL, TRUE);
        }
    }
}

PvxTrainer *pvx_trainer_new(PvxModel *model, const PvxDataset *ds, const PvxTrainParams *p,
                            GError **error)
{
    g_return_val_if_fail(model != NULL && ds != NULL && p != NULL, NULL);
    int64_t n = pvx_dataset_split_size(ds, PVX_SPLIT_TRAIN);
    if (n <= 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "dataset %s has no train items to train on", pvx_dataset_name(ds));
        return NULL;
    }
    if (p->batch_size < 1 || p->eval_batch_size < 1) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "batch sizes must be >= 1");
        return NULL;
    }
    g_autoptr(PvxTrainer) t = g_new0(PvxTrainer, 1);
    t->model = model;
    t->ds = ds;
    t->p = *p;
    t->history = g_array_new(FALSE, TRUE, sizeof(PvxEpochStats));
    t->best_metric = -INFINITY;
    int64_t ds_val = pvx_dataset_split_size(ds, PVX_SPLIT_VAL);
    if (ds_val > 0) {
        t->has_val = TRUE;
        t->n_train = n;
    } else if (p->val_fraction > 0) {
        t->train_idx = pvx_split_carve(n, p->val_fraction, pvx_hash64(p->seed, STREAM_VAL, 0),
                                       &t->n_train, &t->val_idx, &t->n_val);
        t->has_val = t->n_val > 0;
        if (t->n_train == 0) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "val_fraction %g leaves no train items (of %" G_GINT64_FORMAT ")",
                        p->val_fraction, n);
            return NULL;
        }
    } else {
        t->n_train = n;
    }
    if (p->early_stopping && !t->has_val) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "early stopping needs a validation split: dataset %s has none; set "
                    "train.val_fraction (e.g. 0.1) to carve one from the train split",
                    pvx_dataset_name(ds));
        return NULL;
    }
    t->lr = (PvxLrParams){
        .schedule = p->schedule,
        .lr = p->lr,
        .epochs = p->epochs,
        .steps_per_epoch = MAX((int64_t)1, (int64_t)ceil(p->epoch_fraction * (double)t->n_train /
                                                         (double)p->batch_size)),
        .step_size = p->step_size,
        .gamma = p->gamma,
        .warmup_epochs = p->warmup_epochs,
    };
    if (!pvx_lr_params_check(&t->lr, error))
        return NULL;
    t->sgd = pvx_sgd_new(&p->sgd, error);
    if (!t->sgd)
        return NULL;
    trainer_add_params(t);
    t->train_loader = pvx_loader_new(ds, PVX_SPLIT_TRAIN, t->train_idx, t->n_train, p->batch_size,
                                     &p->augment, p->prefetch);
    if (t->has_val)
        t->val_loader = t->val_idx ? pvx_loader_new(ds, PVX_SPLIT_TRAIN, t->val_idx, t->n_val,
                                                    p->eval_batch_size, NULL, p->prefetch)
                                   : pvx_loader_new(ds, PVX_SPLIT_VAL, NULL, 0, p->eval_batch_size,
                                                    NULL, p->prefetch);
    return g_steal_pointer(&t);
}

void pvx_trainer_free(PvxTrainer *t)
{
    if (!t)
        return;
    pvx_loader_free(t->train_loader);
    pvx_loader_free(t->val_loader);
    pvx_sgd_free(t->sgd);
    if (t->dlogits)
        pvx_tensor_unref(t->dlogits);
    g_free(t->train_idx);
    g_free(t->val_idx);
    if (t->history)
        g_array_unref(t->history);
    if (t->best_state)
        g_ptr_array_unref(t->best_state);
    g_free(t);
}

const PvxEpochStats *pvx_trainer_history(const PvxTrainer *t, int *n_epochs)
{
    *n_epochs = (int)t->history->len;
    return (const PvxEpochStats *)t->history->data;
}

int pvx_trainer_final_epoch(const PvxTrainer *t)
{
    return t->final_epoch;
}

/* ---------------------------------------------------------------------------------------------
 * Evaluation.
 */
static int row_argmax(const float *row, int64_t c)
{
    int best = 0;
    for (int64_t j = 1; j < c; j++)
        if (row[j] > row[best])
            best = (int)j;
    return best;
}

void pvx_logits_score(const PvxTensor *logits, const int64_t *labels, double *accuracy,
                      double *loss)
{
    const int64_t n = logits->shape[0], c = logits->shape[1];
    int64_t correct = 0;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *row = logits->data + i * c;
        correct += row_argmax(row, c) == labels[i];
        double mx = row[0];
        for (int64_t j = 1; j < c; j++)
            mx = fmax(mx, row[j]);
        double z = 0;
        for (int64_t j = 0; j < c; j++)
            z += exp(row[j] - mx);
        sum += mx + log(z) - row[labels[i]];
    }
    if (accuracy)
        *accuracy = n ? (double)correct / (double)n : NAN;
    if (loss)
        *loss = n ? sum / (double)n : NAN;
}

PvxTensor *pvx_evaluate_logits(PvxModel *model, PvxLoader *loader, int64_t **labels_out,
                               GError **error)
{
    const int64_t n = pvx_loader_num_items(loader);
    g_autoptr(PvxTensor) logits = NULL;
    g_autofree int64_t *labels = g_new0(int64_t, MAX(n, 1));
    pvx_loader_start(loader, FALSE, 0, 0);
    PvxBatch b;
    int64_t done = 0;
    g_autoptr(GError) local = NULL;
    while (pvx_loader_next(loader, &b, &local)) {
        g_autoptr(PvxTensor) y = pvx_model_forward(model, b.x, PVX_FORWARD_INFERENCE, error);
        if (!y)
            return NULL;
        if (!logits)
            logits = pvx_tensor_new_shape(2, n, y->shape[1]);
        memcpy(logits->data + done * y->shape[1], y->data,
               (size_t)(b.n * y->shape[1]) * sizeof(float));
        memcpy(labels + done, b.labels, (size_t)b.n * sizeof(int64_t));
        done += b.n;
    }
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    if (!logits) /* no items */
        logits = pvx_tensor_new_shape(2, (int64_t)0, (int64_t)0);
    if (labels_out)
        *labels_out = g_steal_pointer(&labels);
    return g_steal_pointer(&logits);
}

/* ---------------------------------------------------------------------------------------------
 * Checkpoints.
 */
static char *sub(const char *group, const char *name)
{
    return g_strconcat(group, "/", name, NULL);
}

static GPtrArray *copy_state(PvxModel *model)
{
    g_autoptr(GPtrArray) state = pvx_model_state(model, NULL);
    GPtrArray *copy = g_ptr_array_new_with_free_func((GDestroyNotify)pvx_tensor_unref);
    for (guint i = 0; i < state->len; i++)
        g_ptr_array_add(copy, pvx_tensor_copy(g_ptr_array_index(state, i)));
    return copy;
}

static void restore_state(PvxModel *model, GPtrArray *saved)
{
    g_autoptr(GPtrArray) state = pvx_model_state(model, NULL);
    for (guint i = 0; i < state->len; i++)
        pvx_tensor_copy_into(g_ptr_array_index(state, i), g_ptr_array_index(saved, i), NULL);
    pvx_model_apply_masks(model);
}

static const char *const history_columns[] = {"epoch",   "loss", "train_acc", "val_loss",
                                              "val_acc", "lr",   "seconds",   NULL};

static double stat_column(const PvxEpochStats *s, int col)
{
    switch (col) {
    case 0:
        return s->epoch;
    case 1:
        return s->loss;
    case 2:
        return s->train_acc;
    case 3:
        return s->val_loss;
    case 4:
        return s->val_acc;
    case 5:
        return s->lr;
    default:
        return s->seconds;
    }
}

static void set_stat_column(PvxEpochStats *s, int col, double v)
{
    switch (col) {
    case 0:
        s->epoch = (int)v;
        break;
    case 1:
        s->loss = v;
        break;
    case 2:
        s->train_acc = v;
        break;
    case 3:
        s->val_loss = v;
        break;
    case 4:
        s->val_acc = v;
        break;
    case 5:
        s->lr = v;
        break;
    default:
        s->seconds = v;
        break;
    }
}

gboolean pvx_trainer_write_history(const PvxTrainer *t, PvxStore *store, const char *group,
                                   GError **error)
{
    int64_t n = t->history->len;
    g_autofree double *col = g_new(double, MAX(n, 1));
    if (!pvx_store_delete(store, group, error))
        return FALSE;
    for (int c = 0; history_columns[c]; c++) {
        for (int64_t i = 0; i < n; i++)
            col[i] = stat_column(&g_array_index(t->history, PvxEpochStats, i), c);
        g_autofree char *path = sub(group, history_columns[c]);
        if (!pvx_store_write_f64(store, path, 1, &n, col, error))
            return FALSE;
    }
    return pvx_store_set_attr_int(store, group, "final_epoch", t->final_epoch, error);
}

static gboolean write_best(PvxTrainer *t, PvxStore *store, const char *path, GError **error)
{
    if (!pvx_store_delete(store, path, error))
        return FALSE;
    if (!t->best_state)
        return TRUE;
    g_auto(GStrv) names = NULL;
    g_autoptr(GPtrArray) state = pvx_model_state(t->model, &names);
    for (guint i = 0; i < state->len; i++) {
        g_autofree char *p = sub(path, names[i]);
        if (!pvx_store_write_tensor(store, p, g_ptr_array_index(t->best_state, i), error))
            return FALSE;
    }
    return TRUE;
}

static gboolean write_checkpoint(PvxTrainer *t, PvxStore *store, const char *group, GError **error)
{
    gboolean own = !pvx_store_in_transaction(store);
    if (own && !pvx_store_begin(store, error))
        return FALSE;
    g_autofree char *ck = pvx_layout_train_checkpoint(group);
    g_autofree char *w = sub(ck, "weights");
    g_autofree char *o = sub(ck, "optimizer");
    g_autofree char *b = sub(ck, "best");
    g_autofree char *h = pvx_layout_train_history(group);
    g_autofree char *v = pvx_layout_train_val_indices(group);
    gboolean ok = pvx_store_delete(store, w, error) &&
                  pvx_model_save_weights(t->model, store, w, error) &&
                  pvx_sgd_save(t->sgd, store, o, error) && write_best(t, store, b, error) &&
                  pvx_store_set_attr_int(store, ck, "epoch", t->epochs_done, error) &&
                  pvx_store_set_attr_int(store, ck, "best_epoch", t->best_epoch, error) &&
                  pvx_store_set_attr_double(store, ck, "best_metric", t->best_metric, error) &&
                  pvx_store_set_attr_int(store, ck, "bad_epochs", t->bad_epochs, error) &&
                  pvx_store_set_attr_int(store, ck, "stopped", t->stopped, error) &&
                  pvx_store_set_attr_int(store, ck, "seed", (int64_t)t->p.seed, error) &&
                  pvx_store_set_attr_string(store, ck, "rng",
                                            "counter-based: every draw is a function of (seed, "
                                            "epoch, position); nothing else to restore",
                                            error) &&
                  pvx_trainer_write_history(t, store, h, error);
    if (ok && t->val_idx && !pvx_store_exists(store, v))
        ok = pvx_store_write_i64(store, v, 1, &t->n_val, t->val_idx, error) &&
             pvx_store_set_attr_string(store, v, "split", "train", error);
    /* Commit in either case: the checkpoint is one transaction of its own. */
    ok = ok && pvx_store_commit(store, error) && (own || pvx_store_begin(store, error));
    if (!ok && own && pvx_store_in_transaction(store))
        pvx_store_abort(store);
    return ok;
}

static gboolean read_checkpoint(PvxTrainer *t, PvxStore *store, const char *group, GError **error)
{
    g_autofree char *ck = pvx_layout_train_checkpoint(group);
    g_autofree char *w = sub(ck, "weights");
    g_autofree char *o = sub(ck, "optimizer");
    g_autofree char *b = sub(ck, "best");
    g_autofree char *h = pvx_layout_train_history(group);
    g_autofree char *v = pvx_layout_train_val_indices(group);
    int64_t epoch = 0, best_epoch = 0, bad = 0, stopped = 0;
    double best_metric = 0;
    if (!pvx_store_get_attr_int(store, ck, "epoch", &epoch, error) ||
        !pvx_store_get_attr_int(store, ck, "best_epoch", &best_epoch, error) ||
        !pvx_store_get_attr_double(store, ck, "best_metric", &best_metric, error) ||
        !pvx_store_get_attr_int(store, ck, "bad_epochs", &bad, error) ||
        !pvx_store_get_attr_int(store, ck, "stopped", &stopped, error))
        return FALSE;
    if (t->val_idx) {
        int nd = 0;
        int64_t shape[PVX_TENSOR_MAX_DIMS];
        g_autofree int64_t *stored = pvx_store_read_i64(store, v, &nd, shape, error);
        if (!stored)
            return FALSE;
        if (nd != 1 || shape[0] != t->n_val ||
            memcmp(stored, t->val_idx, (size_t)t->n_val * sizeof(int64_t)) != 0) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                        "%s: %s differs from the val split this config carves; the checkpoint "
                        "belongs to another setting",
                        pvx_store_path(store), v);
            return FALSE;
        }
    }
    if (!pvx_model_load_weights(t->model, store, w, error) ||
        !pvx_sgd_load(t->sgd, store, o, error))
        return FALSE;
    g_clear_pointer(&t->best_state, g_ptr_array_unref);
    if (pvx_store_exists(store, b)) {
        g_auto(GStrv) names = NULL;
        g_autoptr(GPtrArray) state = pvx_model_state(t->model, &names);
        t->best_state = g_ptr_array_new_with_free_func((GDestroyNotify)pvx_tensor_unref);
        for (guint i = 0; i < state->len; i++) {
            g_autofree char *p = sub(b, names[i]);
            PvxTensor *copy = pvx_tensor_new_like(g_ptr_array_index(state, i));
            g_ptr_array_add(t->best_state, copy);
            if (!pvx_store_read_tensor_into(store, p, copy, error))
                return FALSE;
        }
    }
    g_array_set_size(t->history, (guint)epoch);
    for (int c = 0; history_columns[c] && epoch > 0; c++) {
        g_autofree char *p = sub(h, history_columns[c]);
        int nd = 0;
        int64_t shape[PVX_TENSOR_MAX_DIMS];
        g_autofree double *col = pvx_store_read_f64(store, p, &nd, shape, error);
        if (!col)
            return FALSE;
        if (nd != 1 || shape[0] != epoch) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_FORMAT,
                        "%s: %s has %" G_GINT64_FORMAT " entries, the checkpoint %" G_GINT64_FORMAT
                        " epochs",
                        pvx_store_path(store), p, nd ? shape[0] : 0, epoch);
            return FALSE;
        }
        for (int64_t i = 0; i < epoch; i++)
            set_stat_column(&g_array_index(t->history, PvxEpochStats, i), c, col[i]);
    }
    t->epochs_done = (int)epoch;
    t->best_epoch = (int)best_epoch;
    t->best_metric = best_metric;
    t->bad_epochs = (int)bad;
    t->stopped = stopped != 0;
    return TRUE;
}

/* ---------------------------------------------------------------------------------------------
 * Training.
 */
gboolean pvx_trainer_step(PvxTrainer *t, PvxTensor *x, const int64_t *labels, double lr,
                          double *loss_out, int64_t *correct, GError **error)
{
    g_autoptr(PvxTensor) y = pvx_model_forward(t->model, x, PVX_FORWARD_TRAIN, error);
    double loss = 0;
    if (!y || !pvx_cross_entropy_forward(y, labels, &loss, error))
        return FALSE;
    if (!isfinite(loss)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_NUMERIC, "the loss is %g", loss);
        return FALSE;
    }
    if (t->dlogits && !pvx_tensor_same_shape(t->dlogits, y))
        g_clear_pointer(&t->dlogits, pvx_tensor_unref);
    pvx_sgd_zero_grad(t->sgd);
    if (!pvx_cross_entropy_backward(y, labels, 1.0, &t->dlogits, error) ||
        !pvx_model_backward(t->model, t->dlogits, TRUE, NULL, error) ||
        !pvx_sgd_step(t->sgd, lr, error))
        return FALSE;
    if (correct) {
        const int64_t c = y->shape[1];
        *correct = 0;
        for (int64_t i = 0; i < y->shape[0]; i++)
            *correct += row_argmax(y->data + i * c, c) == labels[i];
    }
    if (loss_out)
        *loss_out = loss;
    return TRUE;
}

static gboolean train_epoch(PvxTrainer *t, int epoch, PvxEpochStats *st, GError **error)
{
    g_autoptr(GError) local = NULL;
    const PvxTrainParams *p = &t->p;
    pvx_loader_start(t->train_loader, TRUE, p->seed, epoch);
    pvx_model_set_dropout_seed(t->model, pvx_hash64(p->seed, STREAM_DROPOUT, (guint64)epoch));
    g_autofree char *label = g_strdup_printf("epoch %d/%d", epoch + 1, p->epochs);
    int64_t items = MIN(t->n_train, t->lr.steps_per_epoch * (int64_t)p->batch_size);
    PvxProgress *bar = p->progress ? pvx_progress_new(label, items, "img") : NULL;
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    double lr = 0;
    PvxBatch b;
    while (seen < items && pvx_loader_next(t->train_loader, &b, &local)) {
        lr = pvx_lr_at(&t->lr, (int64_t)epoch * t->lr.steps_per_epoch + b.index);
        double loss = 0;
        int64_t hits = 0;
        if (!pvx_trainer_step(t, b.x, b.labels, lr, &loss, &hits, &local)) {
            if (g_error_matches(local, PVX_ERROR, PVX_ERROR_NUMERIC))
                g_prefix_error(&local,
                               "training diverged at epoch %d, batch %" G_GINT64_FORMAT
                               " of %" G_GINT64_FORMAT " (lr %g; lower train.lr; the checkpoint "
                               "of epoch %d is kept): ",
                               epoch + 1, b.index + 1, t->lr.steps_per_epoch, lr, t->epochs_done);
            break;
        }
        correct += hits;
        loss_sum += loss * (double)b.n;
        seen += b.n;
        if (bar)
            pvx_progress_update(
                bar, seen, "batch %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " loss %.4f acc %.4f",
                b.index + 1, t->lr.steps_per_epoch, loss_sum / (double)seen,
                (double)correct / (double)seen);
    }
    if (local) {
        if (bar)
            pvx_progress_finish(bar, "failed");
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    st->epoch = epoch + 1;
    st->loss = loss_sum / (double)MAX(seen, 1);
    st->train_acc = (double)correct / (double)MAX(seen, 1);
    st->lr = lr;
    st->val_loss = st->val_acc = NAN;
    if (t->val_loader) {
        g_autofree int64_t *labels = NULL;
        g_autoptr(PvxTensor) logits = pvx_evaluate_logits(t->model, t->val_loader, &labels, error);
        if (!logits) {
            if (bar)
                pvx_progress_finish(bar, "failed");
            return FALSE;
        }
        pvx_logits_score(logits, labels, &st->val_acc, &st->val_loss);
    }
    if (bar) {
        if (t->val_loader)
            pvx_progress_finish(bar, "loss %.4f acc %.4f val_loss %.4f val_acc %.4f lr %.3g",
                                st->loss, st->train_acc, st->val_loss, st->val_acc, st->lr);
        else
            pvx_progress_finish(bar, "loss %.4f acc %.4f lr %.3g", st->loss, st->train_acc, st->lr);
    }
    return TRUE;
}

gboolean pvx_trainer_run(PvxTrainer *t, PvxStore *store, const char *group, GError **error)
{
    g_autofree char *ck = group ? pvx_layout_train_checkpoint(group) : NULL;
    if (store && pvx_store_exists(store, ck)) {
        if (!read_checkpoint(t, store, group, error)) {
            g_prefix_error(error, "cannot resume from the checkpoint: ");
            return FALSE;
        }
        g_message("resuming training after epoch %d of %d", t->epochs_done, t->p.epochs);
    } else if (store && !write_checkpoint(t, store, group, error)) {
        return FALSE;
    }
    while (t->epochs_done < t->p.epochs && !t->stopped) {
        gint64 start = g_get_monotonic_time();
        PvxEpochStats st = {0};
        if (!train_epoch(t, t->epochs_done, &st, error))
            return FALSE;
        st.seconds = (double)(g_get_monotonic_time() - start) / 1e6;
        g_array_append_val(t->history, st);
        t->epochs_done++;
        if (t->p.early_stopping) {
            if (st.val_acc > t->best_metric + t->p.min_delta || t->best_epoch == 0) {
                t->best_metric = st.val_acc;
                t->best_epoch = st.epoch;
                t->bad_epochs = 0;
                g_clear_pointer(&t->best_state, g_ptr_array_unref);
                t->best_state = copy_state(t->model);
            } else if (++t->bad_epochs >= t->p.patience) {
                t->stopped = TRUE;
                g_message("early stopping after epoch %d: val accuracy %.4f has not improved on "
                          "epoch %d's %.4f for %d epochs",
                          st.epoch, st.val_acc, t->best_epoch, t->best_metric, t->bad_epochs);
            }
        }
        if (store && !write_checkpoint(t, store, group, error))
            return FALSE;
    }
    t->final_epoch = t->epochs_done;
    if (t->p.early_stopping && t->best_state) {
        restore_state(t->model, t->best_state);
        t->final_epoch = t->best_epoch;
        if (t->best_epoch != t->epochs_done)
            g_message("restored the weights of epoch %d (val accuracy %.4f)", t->best_epoch,
                      t->best_metric);
    }
    return TRUE;
}
