/* pvx — the pruner plugin kind: a pruning criterion.
 *
 * A pruner says how important each weight (or each conv filter) of the selected layers is; the
 * core does everything else: which layers are selected, how many weights go at each step of the
 * schedule, ties, masks, the never-revive rule, fine-tuning and the bookkeeping (docs/pruning.md).
 * So a new criterion is one function:
 *
 *     static gboolean my_score(gpointer self, const PvxPruneContext *ctx, PvxTensor **scores,
 *                              GError **error)
 *     {
 *         for (int l = 0; l < ctx->n_layers; l++)   // scores[l] is shaped like the weight
 *             for (int64_t i = 0; i < n; i++) s[i] = fabsf(w[i]);
 *         return TRUE;
 *     }
 *     static const PvxPrunerClass klass = { .size = sizeof klass, .score = my_score };
 *     PVX_PLUGIN_DEFINE(PVX_KIND_PRUNER, "my-criterion", "1.0.0", "...", my_params, &klass)
 *
 * Rule the core applies to the scores: lower score = pruned first; among equal scores the
 * entry with the lower flat index (row-major over the weight, layers in model order for a
 * global ranking) is pruned first. Entries already pruned are never candidates, whatever their
 * score.
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "nn.h"
#include "params.h"
#include "tensor.h"

PVX_BEGIN_DECLS

/* PvxPrunerClass.flags. Append-only. */
enum {
    /* Scores whole conv filters (output channels): scores[l] is [Cout]. The core prunes coupled
     * channels — filters tied by residual adds, depthwise convs, concats and SE muls go together,
     * scored by the sum of their filters' scores — and the input channels of every layer reading
     * them (docs/pruning.md). Without it scores[l] has the weight's shape (unstructured). */
    PVX_PRUNER_STRUCTURED = 1 << 0,
    /* Needs gradients of the training loss: ctx->gradients is set. */
    PVX_PRUNER_NEEDS_GRADIENTS = 1 << 1,
};

/* How the core ranks unstructured scores: the config's prune.scope (the core's, since ABI 1.1;
 * pruners no longer declare it). */
typedef enum {
    PVX_PRUNE_SCOPE_LOCAL = 0, /* per layer: every selected layer keeps the same fraction */
    PVX_PRUNE_SCOPE_GLOBAL,    /* one ranking across all selected layers */
} PvxPruneScope;

typedef struct _PvxPruneContext PvxPruneContext;
struct _PvxPruneContext {
    uint32_t size;           /* sizeof(PvxPruneContext) as the core saw it */
    int n_layers;            /* selected layers */
    PvxLayer *const *layers; /* conv2d/linear layers: weight, mask (NULL = dense), weight_grad */
    PvxModel *model;         /* the whole model (borrowed) */
    guint64 seed;            /* this step's seed: a pure function of the run seed and step */
    int step;                /* 0-based pruning step of the schedule */
    double target_cr;        /* the compression rate this step aims at */
    /* PVX_PRUNER_NEEDS_GRADIENTS: n_batches batches of training data (seeded order, no
     * augmentation) are available; gradients(ctx, b, error) zeroes the weight gradients, runs
     * forward and backward of batch b (evaluation behaviour: dropout off, BN running statistics)
     * with the mean cross-entropy loss, and leaves dL/dw in each layer's weight_grad. */
    int n_batches;
    gboolean (*gradients)(const PvxPruneContext *ctx, int batch, GError **error);
    gpointer core_data; /* private to the core */
};

typedef struct {
    uint32_t size; /* sizeof(PvxPrunerClass) as the plugin saw it */
    guint32 flags; /* PVX_PRUNER_* */
    /* Optional since ABI 1.1, and only as a pair: a stateless plugin declares neither and its
     * callbacks get self = NULL. open returns (transfer full) the plugin's state, or NULL + error
     * naming the param (pvx_params_where) (the core opens every kind the same way); close
     * frees it. */
    gpointer (*open)(const PvxParams *params, GError **error);
    void (*close)(gpointer self);
    /* Fills scores[l] (allocated by the core, zeroed; float32 shaped like layers[l]->weight, or
     * [Cout] with PVX_PRUNER_STRUCTURED) for every selected layer. Higher = more important. */
    gboolean (*score)(gpointer self, const PvxPruneContext *ctx, PvxTensor **scores,
                      GError **error);
    /* ABI 1.0 only; not called since 1.1, whose core takes the scope from the config
     * (prune.scope). Leave it NULL. Kept so that tables keep their layout. */
    PvxPruneScope (*scope)(gpointer self);
} PvxPrunerClass;

#define PVX_PRUNER_CLASS_MIN_SIZE (offsetof(PvxPrunerClass, score) + sizeof(void *))

PVX_END_DECLS
