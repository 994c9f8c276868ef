/* pvx — training: learning-rate schedules, the data loader and the trainer.
 *
 * The trainer runs mini-batch SGD (optim.h) on a model (nn.h) over a dataset's train split,
 * optionally validates on a val split after each epoch (the dataset's own, or one carved from the
 * train split by a seeded fraction), stops early when validation accuracy stops improving, and
 * writes a checkpoint to the run store after every epoch so a stopped run resumes exactly.
 *
 * Determinism. Every random choice is a pure function of (seed, epoch, position): the shuffle
 * of epoch e, the crop offset and flip of the i-th item of epoch e, the dropout seed of epoch e.
 * Nothing depends on the thread count or on where a run was interrupted, so a resumed run
 * reaches bit-identical weights to an uninterrupted one (given the same kernels and threads).
 *
 * Masks. Every masked conv2d/linear weight is registered with its mask: the gradient is masked,
 * and weight and momentum are re-masked after each step (see optim.h), so a pruned weight stays 0.
 *
 * Checkpoint layout under the trainer's @group ("/models/cr1/train"):
 *     checkpoint/               attrs epoch (finished epochs), best_epoch, best_metric,
 *                               bad_epochs, stopped, seed, rng ("pure function of seed, epoch")
 *     checkpoint/weights/<name> model state after the last finished epoch
 *     checkpoint/optimizer/...  momentum buffers (pvx_sgd_save)
 *     checkpoint/best/<name>    state of the best epoch so far (early stopping)
 *     history/<column>          float64 [epochs]: epoch, loss, train_acc, val_loss, val_acc, lr,
 *                               seconds
 *     val_indices               int64: train-split items carved off for validation (if any)
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "dataset_handle.h"
#include "pvx/nn.h"
#include "optim.h"
#include "store.h"
#include "pvx/random.h"
#include "pvx/tensor.h"

G_BEGIN_DECLS

/* ---------------------------------------------------------------------------------------------
 * Learning-rate schedules. Append-only.
 */
typedef enum {
    PVX_LR_CONSTANT = 0,
    PVX_LR_STEP, /* lr · gamma^⌊epoch / step_size⌋, per epoch (torch StepLR stepped per epoch) */
    PVX_LR_COSINE, /* lr · ½(1 + cos(π t / T)) to 0, per batch (CosineAnnealingLR, eta_min 0) */
    PVX_LR_ONECYCLE, /* torch OneCycleLR: pct_start 0.3, cos, div 25, final div 1e4, per batch */
} PvxLrSchedule;

/* "constant", "step", "cosine", "onecycle" (transfer none); NULL-terminated list of all. */
const char *pvx_lr_schedule_name(PvxLrSchedule s);
const char *const *pvx_lr_schedule_names(void);
gboolean pvx_lr_schedule_from_name(const char *name, PvxLrSchedule *out);

typedef struct {
    PvxLrSchedule schedule;
    double lr;  /* base lr (one-cycle: the peak) */
    int epochs; /* total, warm-up included */
    int64_t steps_per_epoch;
    int step_size;     /* PVX_LR_STEP: epochs between decays (>= 1) */
    double gamma;      /* PVX_LR_STEP: factor per decay */
    int warmup_epochs; /* linear warm-up in front of constant/step/cosine: the k-th of W warm-up
                        * steps (k = 1..W) uses lr · k / W (torch LinearLR with start_factor
                        * 1/W, total_iters W-1); the schedule then starts from its beginning */
} PvxLrParams;

/* FALSE + PVX_ERROR_INVALID_ARGUMENT for impossible settings (warm-up as long as the training,
 * warm-up with one-cycle, step_size < 1, ...). */
gboolean pvx_lr_params_check(const PvxLrParams *p, GError **error);
/* The learning rate of optimizer step @t (0-based over the whole training: t = epoch ·
 * steps_per_epoch + batch). */
double pvx_lr_at(const PvxLrParams *p, int64_t t);

/* ---------------------------------------------------------------------------------------------
 * Seeded helpers (pvx_hash64 and pvx_permutation: pvx/random.h).
 */
/* Splits 0..n-1 into a val part of round(n · fraction) items and a train part (each sorted
 * ascending), by a seeded permutation. Returns: (transfer full) the train indices, n_train in
 * @n_train; the val indices (transfer full) in @val, n_val in @n_val. */
int64_t *pvx_split_carve(int64_t n, double fraction, guint64 seed, int64_t *n_train, int64_t **val,
                         int64_t *n_val);

/* ---------------------------------------------------------------------------------------------
 * Data loader: batches of a split's items, optionally shuffled and augmented, loaded by a
 * background thread one batch ahead of the consumer (a double buffer).
 */
typedef struct {
    int crop_padding; /* random crop of the original size after zero padding (0: off) */
    gboolean hflip;   /* horizontal flip with probability ½ */
} PvxAugment;

typedef struct _PvxLoader PvxLoader;

typedef struct {
    PvxTensor *x;    /* [b, C, H, W] (transfer none; valid until the next pvx_loader_next) */
    int64_t *labels; /* b entries (transfer none) */
    int64_t n;       /* b: batch_size, or fewer for the last batch */
    int64_t index;   /* batch number in the epoch, from 0 */
} PvxBatch;

/* @indices: the split's items to use (@n of them; copied); NULL = all items of the split.
 * @aug NULL = no augmentation. @threaded: load in a background thread. Returns: (transfer full). */
PvxLoader *pvx_loader_new(const PvxDataset *ds, PvxSplit split, const int64_t *indices, int64_t n,
                          int batch_size, const PvxAugment *aug, gboolean threaded);
void pvx_loader_free(PvxLoader *loader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxLoader, pvx_loader_free)

int64_t pvx_loader_num_items(const PvxLoader *loader);
int64_t pvx_loader_num_batches(const PvxLoader *loader);
/* Starts a pass: with @shuffle the order is pvx_permutation(n, hash(seed, epoch)); augmentation
 * of the i-th item in the pass draws from hash(seed, epoch, i). A pass in progress is dropped. */
void pvx_loader_start(PvxLoader *loader, gboolean shuffle, guint64 seed, int64_t epoch);
/* The next batch of the pass: TRUE with @batch filled, FALSE at the end of the pass (error
 * unset) or on a failure to load an item (error set, naming the item). */
gboolean pvx_loader_next(PvxLoader *loader, PvxBatch *batch, GError **error);

/* ---------------------------------------------------------------------------------------------
 * Evaluation.
 */
/* Logits of every item of @loader's items (in order, no augmentation), INFERENCE forwards.
 * Returns: (transfer full) logits [n, classes]; labels (transfer full, n entries) in @labels. */
PvxTensor *pvx_evaluate_logits(PvxModel *model, PvxLoader *loader, int64_t **labels,
                               GError **error);
/* Top-1 accuracy and mean cross-entropy of @logits against @labels. */
void pvx_logits_score(const PvxTensor *logits, const int64_t *labels, double *accuracy,
                      double *loss);

/* ---------------------------------------------------------------------------------------------
 * Trainer.
 */
typedef struct {
    int epochs;
    int batch_size;
    int eval_batch_size;
    double lr;
    PvxSgdParams sgd;
    PvxLrSchedule schedule;
    int step_size;
    double gamma;
    int warmup_epochs;
    gboolean early_stopping; /* needs a val split */
    int patience;            /* epochs without improvement before stopping */
    double min_delta;        /* val accuracy must beat the best by more than this */
    double val_fraction;     /* carve a val split off train when the dataset has none (0: don't) */
    PvxAugment augment;
    guint64 seed;
    gboolean prefetch;     /* load the next batch in a background thread */
    gboolean progress;     /* report through pvx_progress */
    double epoch_fraction; /* (0, 1]: an epoch is the first ceil(fraction · n / batch) batches
                            * of that epoch's shuffled order — a different seeded subset per
                            * epoch (1: the whole split) */
} PvxTrainParams;

/* Fills @p with the defaults (the ones the config schema documents). */
void pvx_train_params_init(PvxTrainParams *p);

typedef struct {
    int epoch;                                              /* 1-based */
    double loss, train_acc, val_loss, val_acc, lr, seconds; /* NaN where there is no val split */
} PvxEpochStats;

typedef struct _PvxTrainer PvxTrainer;

/* Prepares training of @model (borrowed; must outlive the trainer) on @ds (borrowed): the val
 * split, the loaders, the optimizer with every weight, bias and mask. Returns: (transfer full),
 * NULL + PVX_ERROR_INVALID_ARGUMENT for settings that cannot work (early stopping without a val
 * split, an empty train split, ...). */
PvxTrainer *pvx_trainer_new(PvxModel *model, const PvxDataset *ds, const PvxTrainParams *p,
                            GError **error);
void pvx_trainer_free(PvxTrainer *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxTrainer, pvx_trainer_free)

/* Trains to the end (all epochs, or early stop), checkpointing under @group of @store after each
 * epoch (and once before the first, "epoch 0"). When @group holds a checkpoint, continues from
 * it. Each checkpoint is one transaction: if the store has one open, it is committed and a new
 * one opened; otherwise the trainer wraps its writes in begin/commit. With early stopping the
 * best epoch's weights are restored at the end. A non-finite loss or gradient fails with
 * PVX_ERROR_NUMERIC naming the epoch and batch; the last checkpoint stays as it was.
 * @store may be NULL (no checkpoints, no resume). */
gboolean pvx_trainer_run(PvxTrainer *t, PvxStore *store, const char *group, GError **error);

/* One SGD step on a batch (what every batch of an epoch does): TRAIN forward, mean
 * cross-entropy, backward, masked SGD update with learning rate @lr. @loss and @correct (top-1
 * hits) may be NULL. A non-finite loss is PVX_ERROR_NUMERIC and leaves the weights untouched. */
gboolean pvx_trainer_step(PvxTrainer *t, PvxTensor *x, const int64_t *labels, double lr,
                          double *loss, int64_t *correct, GError **error);

/* After run: epochs recorded (resumed ones included) and their statistics. (transfer none) */
const PvxEpochStats *pvx_trainer_history(const PvxTrainer *t, int *n_epochs);
/* The epoch whose weights the model holds after run (the best one with early stopping). */
int pvx_trainer_final_epoch(const PvxTrainer *t);
/* Writes the history (float64 datasets) under @group ("/models/cr1/train/history"). */
gboolean pvx_trainer_write_history(const PvxTrainer *t, PvxStore *store, const char *group,
                                   GError **error);

G_END_DECLS
