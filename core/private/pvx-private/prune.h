/* pvx — pruning in the core: layer selection, one pruning step, compression bookkeeping,
 * schedules (core/prune/).
 *
 * Compression rate (CR), stated once: over the selected layers,
 *     CR = prunable weights before / weights still kept (mask 1) after,
 * the paper's definition. A kept weight that happens to be exactly 0.0 still counts as kept.
 * pvx_prune_stats reports it together with the whole-model parameter ratio, per-layer density and
 * the theoretical FLOP reduction (conv/linear FLOPs scaled by each layer's density).
 *
 * How many weights go (unstructured). A step from CR a to CR b removes the fraction
 * f = 1 − a/b of the weights still kept — per layer (scope local: k = round(f · kept_l) in each
 * layer) or over all selected layers together (scope global: k = round(f · kept)). round() is
 * round-half-to-even, as Python's round() in torch.nn.utils.prune, so iterating 2, 4, 8, 16, 32
 * gives exactly the masks of l1_unstructured(amount=0.5) applied again and again; the achieved
 * CR can therefore differ slightly from the requested one (both are recorded).
 *
 * Which weights go. The k kept entries with the lowest score; equal scores: the lower flat index
 * (row-major within a weight, layers in model order for a global ranking) goes first. Pruned
 * entries are never candidates, so a pruner never revives a weight.
 *
 * Structured pruning (PVX_PRUNER_STRUCTURED). A step removes the same fraction of the filters
 * still alive in every selected conv layer (the lowest-scored ones, ties by lower filter index,
 * at least one filter left per layer); the fraction is the smallest that reaches the requested
 * CR. Removing filter c of a layer masks its weights [c, :, :, :] and the input channel c of the
 * next conv layer ([:, c, :, :]) or, for a linear layer after flatten, the c-th block of its
 * input features — after which the channel does not influence the output, whatever its bias or
 * batch-norm parameters do, so pvx_prune_export_compact can drop it physically.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "pvx/nn.h"
#include "pvx/plugin.h"
#include "pvx/pruner.h"
#include "registry.h"
#include "store.h"

G_BEGIN_DECLS

/* ---------------------------------------------------------------------------------------------
 * Layer selection.
 */
typedef struct {
    /* "conv2d" (every conv2d layer that is not depthwise; "conv" is the same), "depthwise"
     * (groups = Cin = Cout > 1), "linear" (NULL-terminated; NULL or empty: none) */
    const char *const *kinds;
    const char *const *include; /* layer names or globs (* ?) added to what kinds select */
    const char *const *exclude; /* names or globs removed at the end */
} PvxLayerSelection;

/* The model's prunable layers (pvx_model_prunable_layers) of the given kinds or matching an
 * include pattern, minus the excluded, in model order. PVX_ERROR_INVALID_ARGUMENT naming the
 * pattern: an unknown kind, an include/exclude pattern that matches no prunable layer (so a typo
 * is never silently ignored), or a selection that ends up empty.
 * Returns: (transfer full) NULL-terminated names. */
char **pvx_prune_select_layers(const PvxModel *model, const PvxLayerSelection *sel, GError **error);

/* ---------------------------------------------------------------------------------------------
 * Statistics.
 */
typedef struct {
    int n_layers;
    char **layers; /* selected names (transfer full, NULL-terminated) */
    int64_t *size; /* per layer: weights */
    int64_t *kept; /* per layer: mask 1 (all of them without a mask) */
    int64_t total, total_kept;
    double cr;                /* total / total_kept (inf when nothing is kept) */
    int64_t model_params;     /* pvx_model_num_params: all weights and biases */
    int64_t model_pruned;     /* pruned entries of every masked layer, selected or not */
    double model_ratio;       /* model_params / (model_params − model_pruned) */
    double flops, flops_kept; /* per image, dense vs density-scaled conv/linear FLOPs */
    double flop_reduction;    /* flops / flops_kept */
} PvxPruneStats;

/* Fills @st for @layers of @model (input shape from pvx_model_input_shape, or @chw when the model
 * was built by hand). Free with pvx_prune_stats_clear. */
gboolean pvx_prune_stats(const PvxModel *model, const char *const *layers, const int64_t chw[3],
                         PvxPruneStats *st, GError **error);
void pvx_prune_stats_clear(PvxPruneStats *st);
/* Writes @st as attributes and datasets under @group: attrs compression_rate_achieved,
 * weights_total, weights_kept, model_params, model_params_kept, model_ratio, flops, flops_kept,
 * flop_reduction; datasets layers (strings), layer_size, layer_kept (int64), layer_density
 * (float64). */
gboolean pvx_prune_stats_write(const PvxPruneStats *st, PvxStore *store, const char *group,
                               GError **error);

/* ---------------------------------------------------------------------------------------------
 * One step.
 */
typedef struct _PvxPruner PvxPruner;

/* Opens pruner plugin @plugin with validated @params. Returns: (transfer full). */
PvxPruner *pvx_pruner_open(const PvxPlugin *plugin, const PvxParams *params, GError **error);
void pvx_pruner_close(PvxPruner *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxPruner, pvx_pruner_close)
const char *pvx_pruner_name(const PvxPruner *p);
guint32 pvx_pruner_flags(const PvxPruner *p);
/* The ranking an ABI 1.0 pruner asked for through its own `scope` slot (1.0 pruners declared the
 * scope as their parameter; since 1.1 it is the core's prune.scope). FALSE, @out untouched, for a
 * 1.1 pruner or a 1.0 pruner without the slot. */
gboolean pvx_pruner_legacy_scope(const PvxPruner *p, PvxPruneScope *out);

/* Where the gradients of PVX_PRUNER_NEEDS_GRADIENTS pruners come from (see PvxPruneContext). */
typedef struct {
    int n_batches;
    gboolean (*gradients)(const PvxPruneContext *ctx, int batch, GError **error);
    gpointer data;
} PvxPruneGradients;

/* Prunes @layers of @model from CR @from_cr to @to_cr (> from_cr ≥ 1) with pruner @p, ranking
 * unstructured scores per layer or over all layers as @scope says (the config's prune.scope;
 * structured pruners ignore it) — rules in the header comment. @seed/@step go to the pruner.
 * @grads: required for pruners that need gradients (else PVX_ERROR_INVALID_ARGUMENT naming the
 * pruner). Masks are created where a layer has none. PVX_ERROR_NUMERIC for a NaN score (naming
 * layer and index); structured pruning of a layer that is not conv2d, or a CR structured pruning
 * cannot reach, is PVX_ERROR_INVALID_ARGUMENT. On failure the masks are unchanged. */
gboolean pvx_prune_step(PvxModel *model, const char *const *layers, PvxPruner *p,
                        PvxPruneScope scope, double from_cr, double to_cr, guint64 seed, int step,
                        const PvxPruneGradients *grads, GError **error);

/* ---------------------------------------------------------------------------------------------
 * Schedules.
 */
typedef enum {
    PVX_PRUNE_ONE_SHOT = 0, /* each rate from the CR-1 model in one step, then fine-tune */
    PVX_PRUNE_ITERATIVE,    /* rate after rate, each from the previous one (the paper's) */
    PVX_PRUNE_GRADUAL,      /* AGP: Zhu & Gupta's cubic schedule over a span of epochs */
} PvxPruneSchedule;

const char *const *pvx_prune_schedule_names(void); /* "one-shot", "iterative", "gradual" */
/* "local" → PVX_PRUNE_SCOPE_LOCAL, "global" → PVX_PRUNE_SCOPE_GLOBAL; FALSE when unknown. */
gboolean pvx_prune_scope_from_name(const char *name, PvxPruneScope *out);
gboolean pvx_prune_schedule_from_name(const char *name, PvxPruneSchedule *out);

/* Checks a rate list: at least one rate, each ≥ 1 (an error names the index and value) and
 * strictly increasing. Rate 1 is allowed only first and means the unpruned model. */
gboolean pvx_prune_check_rates(const double *rates, int n, const char *where, GError **error);

/* AGP (Zhu & Gupta 2017, with initial sparsity 0): the sparsity after pruning step t of n
 * (t = 1..n) on the way to @final_cr is s_t = s_f · (1 − (1 − t/n)³), s_f = 1 − 1/final_cr;
 * returned as the CR 1/(1 − s_t). */
double pvx_prune_agp_cr(double final_cr, int t, int n);

/* "cr2", "cr2.5" for a CR as written in a schedule. Returns: (transfer full). */
char *pvx_prune_cr_label(double cr);

/* ---------------------------------------------------------------------------------------------
 * Export of a structurally pruned model without its dead channels, and the architecture file that
 * rebuilds it (pvx_model_new_from_file in pvx/model.h).
 *
 * Dead channels. A coupled channel (core/prune/depgraph_private.h: the channels tied together by
 * residual adds, depthwise convs, concats and squeeze-and-excitation muls) is dead when it is not
 * fixed and every layer that reads it with weights (a conv2d's input channel, a linear layer's
 * block of input features) has those weights masked to 0: then the channel cannot influence the
 * output, whatever its producers, biases and batch-norm parameters hold. Structured pruning makes
 * exactly those (pvx_prune_step); unstructured pruning rarely does.
 */

/* The model without its dead channels: every layer keeps its name, type, inputs and
 * hyper-parameters except the channel counts (conv2d in/out and a depthwise conv's groups,
 * batch-norm channels, linear in_features), and its weights are the kept rows and columns of the
 * masked model's (no masks: a pruned weight inside a kept channel is 0). Aliases, target layer
 * and prunable layers are kept. It computes the masked model's logits up to float32 rounding.
 * Returns: (transfer full); NULL + error for a graph that cannot be analysed. */
PvxModel *pvx_prune_compact_model(const PvxModel *model, GError **error);

/* pvx_prune_compact_model's state dict under @group of @store (torchvision names, smaller
 * shapes). Returns: (transfer full) the output channel count of every conv2d layer in running
 * order (@n_out entries). */
int64_t *pvx_prune_export_compact(const PvxModel *model, PvxStore *store, const char *group,
                                  int *n_out, GError **error);

/* The architecture of @model under @group (e.g. "/architecture") of @store, enough to rebuild it
 * with pvx_model_load_architecture:
 *   attributes   format "pvx-architecture", version 1, arch, num_classes, target_layer (if any)
 *   names        strings [n]: layer names in running order
 *   types        strings [n]: pvx_layer_type_name ("conv2d", "batchnorm2d", "add", ...)
 *   n_inputs     int64 [n]; inputs: strings [sum n_inputs], each layer's inputs in order
 *                ("input" = the model's input)
 *   in_features, out_features, groups, bias (0/1)           int64 [n]
 *   kernel, stride, padding, dilation                       int64 [n, 2] (h, w; conv2d)
 *   pool_kernel, pool_stride, pool_padding                  int64 [n, 2] (maxpool2d)
 *   output_size                                             int64 [n, 2] (adaptive_avgpool2d)
 *   p (dropout, stochastic depth), eps, momentum (batchnorm2d)  float64 [n]
 *   aliases      strings [2k]: alias, layer, alias, layer ... (absent when none)
 *   prunable     strings: the prunable layers
 *   input_shape  int64 [3]: the C, H, W @input_chw the model was built for
 * Columns that do not apply to a layer's type hold 0. */
gboolean pvx_model_save_architecture(const PvxModel *model, const int64_t input_chw[3],
                                     int num_classes, PvxStore *store, const char *group,
                                     GError **error);
/* Builds the model described under @group (pvx_model_save_architecture), parameters zero. The
 * graph is checked. PVX_ERROR_NOT_FOUND (no architecture there), PVX_ERROR_INVALID_ARGUMENT (a
 * newer format version, an unknown type, a layer described wrongly, the graph's errors),
 * PVX_ERROR_SHAPE (columns of the wrong length). Returns: (transfer full). */
PvxModel *pvx_model_load_architecture(PvxStore *store, const char *group, GError **error);

G_END_DECLS
