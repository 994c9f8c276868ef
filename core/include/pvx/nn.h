/* pvx — layers and models: a model is a graph of named layers, with taps.
 *
 * A PvxModel is a directed acyclic graph of named layers (torchvision's module names:
 * "features.0", "layer1.0.conv1", ..., "avgpool", "flatten", "fc"). Each layer reads the outputs
 * of the layers it names as its inputs; by default a new layer reads the layer added just before
 * it (the model's input for the first), so a sequential network (VGG) is built by adding its
 * layers in order and nothing else. A residual join names its inputs: pvx_model_add_add(model,
 * "layer1.0.add", (const char *[]){"layer1.0.bn2", "layer1.0.downsample.1", NULL}); a layer's
 * inputs can also be changed after it was added (pvx_model_set_inputs). The model's output is the
 * output of the last layer added; every other layer must feed it.
 *
 * Running order. Forward runs the layers in a topological order: the order in which they were
 * added, moved only where a layer names a layer added after it. pvx_model_layer(model, i) and
 * pvx_model_layer_index speak of that order. Backward runs it in reverse and sums the gradients
 * of an output that feeds several layers (the residual branch and the skip). In INFERENCE a
 * layer's output buffer goes back to the model's pool as soon as the last layer reading it has
 * run, so peak memory stays near the widest cut of the graph, not its total.
 *
 * Each layer owns its parameters (weight, bias, BN running statistics), their gradients and, for
 * conv2d and linear, an optional pruning mask.
 *
 * Masks. A mask is a float32 tensor of 0s and 1s with the weight's shape (NULL = dense). pvx keeps
 * the invariant weight == weight ⊙ mask: setting a mask multiplies the weight by it in place, so
 * the forward simply uses the stored weight (it *is* w ⊙ m). Backward multiplies the weight
 * gradient by the mask after accumulating it, so a pruned weight's gradient is exactly 0.
 * Whoever changes weights directly (an optimizer step, a file load) re-applies the masks with
 * pvx_model_apply_masks() — pvx_model_load_weights_file does it itself — so momentum or weight
 * decay can never bring a pruned weight back. The original value of a pruned weight is not kept.
 *
 * Forward modes. INFERENCE keeps nothing and reuses two ping-pong buffers; EXPLAIN behaves like
 * evaluation (dropout off, batch-norm uses its running statistics) but keeps what backward needs;
 * TRAIN turns dropout on and batch-norm to batch statistics (updating the running ones) and keeps
 * what backward needs. Backward starts from any gradient on the output (a one-hot on a class
 * score, the derivative of a loss) and runs only as far down as something asked for needs it:
 * the input gradient, parameter gradients, or a tapped layer's gradient.
 *
 * Taps. pvx_model_tap(model, "features.29") makes every later forward keep that layer's output
 * activation and every backward keep dL/d(that output). A layer that would run in place on a
 * tapped layer's output (a ReLU, an add) runs out of place, so the tapped activation is the
 * layer's own output. Any layer can be tapped, and so can an alias (pvx_model_add_alias: "layer4"
 * for the last block's output, as practitioners name torchvision's module).
 *
 * Threads: one model is used from one thread at a time (the ops inside use both cores).
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <stdint.h>

#include "layer_params.h"
#include "tensor.h"

PVX_BEGIN_DECLS

/* Append-only. */
typedef enum {
    PVX_LAYER_CONV2D = 1,
    PVX_LAYER_LINEAR,
    PVX_LAYER_RELU,
    PVX_LAYER_MAXPOOL2D,
    PVX_LAYER_ADAPTIVE_AVGPOOL2D,
    PVX_LAYER_DROPOUT,
    PVX_LAYER_BATCHNORM2D,
    PVX_LAYER_FLATTEN,
    /* Since ABI 1.2: */
    PVX_LAYER_ADD,              /* sum of n ≥ 2 inputs of one shape (a residual join) */
    PVX_LAYER_CONCAT,           /* inputs [N, Ci, H, W] joined along channels */
    PVX_LAYER_MUL,              /* x ⊙ s, s [N, C, 1, 1] broadcast (squeeze-and-excitation) */
    PVX_LAYER_RELU6,            /* min(max(x, 0), 6) */
    PVX_LAYER_SIGMOID,          /* 1 / (1 + e^-x) */
    PVX_LAYER_SILU,             /* x · sigmoid(x) (swish) */
    PVX_LAYER_HARDSIGMOID,      /* relu6(x + 3) / 6 */
    PVX_LAYER_HARDSWISH,        /* x · relu6(x + 3) / 6 */
    PVX_LAYER_IDENTITY,         /* passes its input on */
    PVX_LAYER_STOCHASTIC_DEPTH, /* torchvision.ops.StochasticDepth(p, "row") */
} PvxLayerType;
#define PVX_LAYER_TYPE_LAST PVX_LAYER_STOCHASTIC_DEPTH

/* "conv2d", "linear", ... (transfer none). */
const char *pvx_layer_type_name(PvxLayerType type);

typedef struct _PvxLayerState PvxLayerState;

/* One layer. The model owns it; callers read every field and may change parameter *values* in
 * place (not the tensors' shapes, and not the pointers). */
typedef struct {
    char *name;
    PvxLayerType type;
    /* Hyper-parameters, by type. */
    int64_t in_features, out_features; /* conv2d: Cin, Cout; linear: in, out; BN: C, C */
    int kernel_h, kernel_w;            /* conv2d */
    PvxConv2dParams conv;              /* conv2d */
    PvxMaxPool2dParams pool;           /* maxpool2d */
    int out_h, out_w;                  /* adaptive_avgpool2d */
    double p;                          /* dropout, stochastic_depth: probability */
    double eps, momentum;              /* batchnorm2d */
    /* Parameters (NULL where the type or the configuration has none). PyTorch's shapes. */
    PvxTensor *weight, *bias;              /* conv2d, linear, batchnorm2d */
    PvxTensor *running_mean, *running_var; /* batchnorm2d */
    PvxTensor *mask;                       /* conv2d, linear: 0/1 like weight, NULL = dense */
    /* Gradients, same shapes as weight/bias, accumulated by backward (+=), zeroed by
     * pvx_model_zero_grad. Allocated with the parameter. */
    PvxTensor *weight_grad, *bias_grad;
    int64_t num_batches_tracked; /* batchnorm2d: TRAIN forwards so far */
    PvxLayerState *state;        /* private: what forward keeps for backward */
    /* Since ABI 1.2 (appended; a 1.1 plugin never reads past `state`): */
    int groups;    /* conv2d: PyTorch's groups (1: dense; = in_features: depthwise) */
    int n_inputs;  /* how many layers this one reads (≥ 1) */
    char **inputs; /* their names in order, NULL-terminated; PVX_MODEL_INPUT = the model's input.
                    * Change them with pvx_model_set_inputs only. */
} PvxLayer;

/* The name that stands for the model's input among a layer's inputs (no layer may take it). */
#define PVX_MODEL_INPUT "input"

typedef struct _PvxModel PvxModel;

typedef enum {
    PVX_FORWARD_INFERENCE = 0, /* evaluation behaviour, keeps nothing */
    PVX_FORWARD_EXPLAIN,       /* evaluation behaviour, keeps what backward needs */
    PVX_FORWARD_TRAIN,         /* training behaviour, keeps what backward needs */
} PvxForwardMode;

/* ---------------------------------------------------------------------------------------------
 * Building. A new model has no layers; add them in order. Names must be unique and non-empty
 * (a duplicate is a programmer error). Parameters are zero until pvx_model_init or a load.
 * Returns: (transfer full).
 */
PvxModel *pvx_model_new(const char *arch);
void pvx_model_free(PvxModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxModel, pvx_model_free)

/* The architecture name given to pvx_model_new ("vgg16"). (transfer none) */
const char *pvx_model_arch(const PvxModel *model);

/* Each returns the new layer (transfer none, owned by the model). */
PvxLayer *pvx_model_add_conv2d(PvxModel *model, const char *name, int64_t in_channels,
                               int64_t out_channels, int kernel, int stride, int padding,
                               gboolean bias);
PvxLayer *pvx_model_add_linear(PvxModel *model, const char *name, int64_t in_features,
                               int64_t out_features, gboolean bias);
PvxLayer *pvx_model_add_relu(PvxModel *model, const char *name);
PvxLayer *pvx_model_add_maxpool2d(PvxModel *model, const char *name, int kernel, int stride);
PvxLayer *pvx_model_add_adaptive_avgpool2d(PvxModel *model, const char *name, int out_h, int out_w);
PvxLayer *pvx_model_add_dropout(PvxModel *model, const char *name, double p);
/* eps 1e-5, momentum 0.1 as PyTorch; weight 1, bias 0, running mean 0, running var 1. */
PvxLayer *pvx_model_add_batchnorm2d(PvxModel *model, const char *name, int64_t channels);
PvxLayer *pvx_model_add_flatten(PvxModel *model, const char *name);

/* Since ABI 1.2: the graph and its layer types. */

/* conv2d in full: a @kernel_h×@kernel_w kernel, stride, padding and dilation per direction from
 * @p (NULL: stride 1, no padding, dilation 1) and @groups (≥ 1, dividing both channel counts;
 * groups = in_channels is a depthwise convolution). Weight [out, in/groups, KH, KW] as PyTorch's.
 */
PvxLayer *pvx_model_add_conv2d_full(PvxModel *model, const char *name, int64_t in_channels,
                                    int64_t out_channels, int kernel_h, int kernel_w,
                                    const PvxConv2dParams *p, int groups, gboolean bias);
/* A layer without parameters applying @type elementwise: PVX_LAYER_RELU, _RELU6, _SIGMOID,
 * _SILU, _HARDSIGMOID, _HARDSWISH or _IDENTITY (another type is a programmer error). */
PvxLayer *pvx_model_add_activation(PvxModel *model, const char *name, PvxLayerType type);
/* The sum of @inputs (NULL-terminated, at least two layer names or PVX_MODEL_INPUT), which must
 * have one shape. */
PvxLayer *pvx_model_add_add(PvxModel *model, const char *name, const char *const *inputs);
/* @inputs [N, Ci, H, W] (at least two) concatenated along channels: [N, ΣCi, H, W]. */
PvxLayer *pvx_model_add_concat(PvxModel *model, const char *name, const char *const *inputs);
/* @x [N, C, H, W] times @scale [N, C, 1, 1] channel by channel: squeeze-and-excitation's last
 * step (torchvision's SqueezeExcitation returns scale * input). */
PvxLayer *pvx_model_add_mul(PvxModel *model, const char *name, const char *x, const char *scale);
/* torchvision.ops.StochasticDepth(@p, mode "row"): identity in INFERENCE and EXPLAIN; in TRAIN
 * each sample's input is kept with probability 1 - @p and then divided by 1 - @p, or zeroed
 * (drawn from the dropout seed, pvx_model_set_dropout_seed). 0 ≤ @p < 1. */
PvxLayer *pvx_model_add_stochastic_depth(PvxModel *model, const char *name, double p);

/* Replaces the inputs of layer @name by @inputs (NULL-terminated layer names or PVX_MODEL_INPUT;
 * exactly one for one-input layers, two for mul, at least two for add and concat). The names may
 * be of layers added later; they are resolved when the model is checked or run.
 * PVX_ERROR_NOT_FOUND (no layer @name), PVX_ERROR_INVALID_ARGUMENT (wrong count). */
gboolean pvx_model_set_inputs(PvxModel *model, const char *name, const char *const *inputs,
                              GError **error);
/* Makes @alias another name of layer @name (found by pvx_model_find_layer, pvx_model_tap, target
 * and prunable layer names; not listed among the layers): "layer4" for "layer4.1", the output of
 * torchvision's module layer4. PVX_ERROR_NOT_FOUND / PVX_ERROR_INVALID_ARGUMENT (the alias is
 * already a layer's name or another alias). */
gboolean pvx_model_add_alias(PvxModel *model, const char *alias, const char *name, GError **error);
/* Checks the graph: every input names a layer or PVX_MODEL_INPUT (PVX_ERROR_NOT_FOUND naming the
 * layer and the input), no cycle (PVX_ERROR_INVALID_ARGUMENT naming the layers on it), every
 * layer feeds the output (naming the one that does not). Shapes are checked with an input shape:
 * pvx_model_check_input. Model plugins' models are checked by the core after build. */
gboolean pvx_model_check_graph(const PvxModel *model, GError **error);
/* The layers that read layer @name's output (PVX_MODEL_INPUT: the model's input), in running
 * order. Returns: (transfer container) PvxLayer* (owned by the model); empty for an unknown
 * name. */
GPtrArray *pvx_model_consumers(const PvxModel *model, const char *name);

/* Seeded initialisation as torchvision's VGG does it: conv weights Kaiming-normal
 * (mode fan_out, ReLU gain: std = sqrt(2 / (Cout·KH·KW))), linear weights normal(0, 0.01), all
 * biases 0, BN weight 1 / bias 0 / running mean 0 / running var 1. The numbers come from pvx's
 * own generator (xoshiro256** seeded through splitmix64, Box–Muller), one stream per layer and
 * block of 65536 weights, so they do not depend on the thread count. Masks are re-applied. */
void pvx_model_init(PvxModel *model, guint64 seed);

/* ---------------------------------------------------------------------------------------------
 * Inspecting.
 */
int pvx_model_n_layers(const PvxModel *model);
/* Layer @index in running order. (transfer none) */
PvxLayer *pvx_model_layer(const PvxModel *model, int index);
/* The layer called @name; NULL + PVX_ERROR_NOT_FOUND listing every layer name. (transfer none) */
PvxLayer *pvx_model_find_layer(const PvxModel *model, const char *name, GError **error);
/* Index of layer @name, -1 if none. */
int pvx_model_layer_index(const PvxModel *model, const char *name);
/* "features.0, features.1, ..." for messages. Returns: (transfer full). */
char *pvx_model_layer_names_string(const PvxModel *model);

/* The state tensors in torchvision's state_dict order: per layer weight, bias, and for BN
 * running_mean, running_var. BN's integer num_batches_tracked is not a state tensor (it lives in
 * PvxLayer.num_batches_tracked; weight files neither need nor store it). @names_out receives
 * "features.0.weight", ... (transfer full, NULL-terminated; may be NULL). Returns: (transfer
 * container) the tensors themselves (the model's, not copies). */
GPtrArray *pvx_model_state(const PvxModel *model, char ***names_out);
/* Number of elements of weights and biases (what torchvision's sum(p.numel() for p in
 * model.parameters()) counts; BN running statistics excluded). */
int64_t pvx_model_num_params(const PvxModel *model);

/* Output shape for an input of shape [N, C, H, W] (@ndim 4), layer by layer; FALSE +
 * PVX_ERROR_SHAPE naming the first layer that does not fit (at a join: the layers and both
 * shapes), or the graph's error (pvx_model_check_graph). @out_shape may be NULL; it receives
 * @out_ndim (may be NULL) dimensions. */
gboolean pvx_model_check_input(const PvxModel *model, const int64_t input_chw[3], int *out_ndim,
                               int64_t out_shape[PVX_TENSOR_MAX_DIMS], GError **error);
/* Floating-point operations of one forward for one image of @input_chw: 2 × the multiply-adds
 * of conv2d and linear layers (what papers quote as "FLOPs" ×2; VGG-16 at 224: 30.9e9). Other
 * layers are not counted. Masks are not taken into account. -1 if the input does not fit. */
double pvx_model_flops(const PvxModel *model, const int64_t input_chw[3]);
/* The same per layer: @per_layer (pvx_model_n_layers entries, running order) receives each
 * layer's FLOPs (0 for layers other than conv2d and linear). FALSE if the input does not fit. */
gboolean pvx_model_layer_flops(const PvxModel *model, const int64_t input_chw[3],
                               double *per_layer);

/* ---------------------------------------------------------------------------------------------
 * Masks (conv2d and linear layers).
 */
/* Sets the mask of layer @name to a copy of @mask (float 0/1, weight's shape) and multiplies the
 * weight by it; @mask NULL removes the mask (pruned weights stay 0). PVX_ERROR_NOT_FOUND /
 * PVX_ERROR_SHAPE / PVX_ERROR_INVALID_ARGUMENT (not a conv/linear layer, a value not 0 or 1). */
gboolean pvx_model_set_mask(PvxModel *model, const char *name, const PvxTensor *mask,
                            GError **error);
/* weight *= mask for every masked layer (after an optimizer step or a direct edit). */
void pvx_model_apply_masks(PvxModel *model);

/* ---------------------------------------------------------------------------------------------
 * Running.
 */
/* Sets the seed from which TRAIN forwards draw their dropout masks (the k-th TRAIN forward after
 * this call uses seed + k). Default 0. */
void pvx_model_set_dropout_seed(PvxModel *model, guint64 seed);

/* Runs the model on x [N, C, H, W]. Returns: (transfer full) the output (logits [N, classes])
 * as a new tensor the model does not touch again, NULL + error (PVX_ERROR_SHAPE naming the
 * layer). A failed forward leaves nothing for backward. */
PvxTensor *pvx_model_forward(PvxModel *model, PvxTensor *x, PvxForwardMode mode, GError **error);

/* Backward through the last EXPLAIN or TRAIN forward, from dy = dL/d(output) (output's shape).
 * @param_grads: accumulate weight/bias gradients (masked) into every layer's *_grad.
 * @dx: NULL = no input gradient; else as in ops.h (*dx NULL = allocate, transfer full; else
 * overwrite, same shape as x). Tapped layers receive dL/d(their output). May be called several
 * times after one forward (e.g. once per target class). PVX_ERROR_INVALID_ARGUMENT without a
 * keeping forward; PVX_ERROR_SHAPE when dy's shape is not the output's. */
gboolean pvx_model_backward(PvxModel *model, const PvxTensor *dy, gboolean param_grads,
                            PvxTensor **dx, GError **error);
/* Zeroes every weight_grad and bias_grad. */
void pvx_model_zero_grad(PvxModel *model);

/* ---------------------------------------------------------------------------------------------
 * Taps.
 */
/* Starts keeping layer @name's output and its gradient. PVX_ERROR_NOT_FOUND listing the layer
 * names when there is no such layer. Tapping twice is harmless. */
gboolean pvx_model_tap(PvxModel *model, const char *name, GError **error);
/* Stops keeping them (and drops what was kept). */
void pvx_model_untap(PvxModel *model, const char *name);
/* The tapped layer's output from the last forward (INFERENCE forwards keep taps too), or NULL
 * if there is none (not tapped, no forward yet). Returns: (transfer none) valid until the next
 * forward; take a ref (pvx_tensor_ref) to keep it longer — the model then stops reusing it. */
PvxTensor *pvx_model_tap_activation(const PvxModel *model, const char *name);
/* dL/d(that output) from the last backward, or NULL. (transfer none), valid until the next
 * backward or forward. */
PvxTensor *pvx_model_tap_gradient(const PvxModel *model, const char *name);

/* ---------------------------------------------------------------------------------------------
 * Weights in an HDF5 file: one float32 dataset per state tensor, <group>/<name> with PyTorch's
 * shape (OIHW for conv, [out, in] for linear). First the names: missing tensors and extra datasets
 * are listed, all of them, in one PVX_ERROR_NOT_FOUND error, and nothing is read. Then each tensor
 * is read straight into the model: a wrong shape is PVX_ERROR_SHAPE naming the tensor and both
 * shapes. Datasets "*.num_batches_tracked" of BN layers are accepted and ignored. Masks are
 * re-applied.
 */
/* Opens @path read-only and loads @group (NULL = "/weights"). @path may also be "FILE:/group"
 * (a colon followed by '/'), which overrides @group. A file that is not HDF5 is the store's
 * error (naming the file). */
gboolean pvx_model_load_weights_file(PvxModel *model, const char *path, const char *group,
                                     GError **error);
/* The same, leaving out the state tensors whose names match a glob of @exclude
 * (NULL-terminated, may be NULL): they are neither required in the file nor read, and keep
 * their current values — e.g. {"classifier.6.*"} to start from ImageNet weights with a new
 * 10-class head. */
gboolean pvx_model_load_weights_file_except(PvxModel *model, const char *path, const char *group,
                                            const char *const *exclude, GError **error);

/* Sparse inference: INFERENCE and EXPLAIN forwards may run a pruned conv2d or linear layer on its
 * non-zero weights only, with the same results within float32 rounding (docs/sparse.md). The
 * core chooses; the rule for callers is the masks' rule above: after changing weight values in
 * place, call pvx_model_apply_masks() before the next forward. */

PVX_END_DECLS
