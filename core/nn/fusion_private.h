/* pvx — fusion planning for a model's forward and backward (fusion.c; core-private, not
 * installed).
 *
 * A planning pass decides, before a forward or backward runs, which layers run fused with a
 * neighbour and which kernel variant each layer runs; the layer loops in forward.c only execute
 * the plan. The planner reads a plain description of the layers (PvxFusionLayer), not the model,
 * so that it depends on nothing else in the library and can be tested on its own.
 *
 * The planner sees the graph through each layer's inputs and consumer count; a fusion joins two
 * layers only where they form a chain: layer i's output goes to layer i + 1 alone, and layer
 * i + 1 reads nothing else. Left zero, those fields describe a sequential model.
 *
 * The fusions, all bit for bit equal to running the layers one after the other (tests/ops):
 *   forward:  conv2d → ReLU, neither tapped, the conv2d dense: the conv2d applies the ReLU as it
 *             writes its output (pvx_conv2d_relu_forward) and the ReLU passes it on.
 *   backward: ReLU → conv2d or ReLU → max-pool, the ReLU not tapped: the conv2d or max-pool zeroes
 *             its input gradient where the ReLU's output is not positive as it writes it
 *             (pvx_conv2d_relu_backward, pvx_maxpool2d_relu_backward[_out]) and the ReLU passes
 *             the gradient on. A tapped ReLU's tap wants its own activation and the gradient
 *             before it, so it always runs on its own.
 */
#pragma once

#include <glib.h>

#include "pvx/nn.h"

/* What the planner needs to know of one layer, filled by the caller. */
typedef struct {
    PvxLayerType type;
    gboolean tapped; /* pvx_model_tap: its activation and gradient must exist as such */
    /* Forward: a conv2d or linear layer runs on its compressed weight (pvx_layer_sparse_choice).
     * Ignored by the backward planner. */
    gboolean sparse;
    /* Dropout only. Forward: the layer draws a mask (TRAIN, p > 0); backward: the last forward
     * drew one (TRAIN, p > 0, a mask kept). */
    gboolean drops;
    gboolean has_params; /* a weight or a bias (conv2d, linear, batchnorm2d) */
    /* Backward: the last forward kept this layer's input (keeping modes keep every layer's). */
    gboolean input_kept;
    /* The graph. n_inputs 0: one input, the layer before (the model's input for layer 0);
     * otherwise the running indices of its inputs (-1: the model's input). n_consumers 0: one
     * consumer, the layer after (none for the last); otherwise how many layers read it. */
    int n_inputs;
    const int *inputs;
    int n_consumers;
} PvxFusionLayer;

/* Append-only. */
typedef enum {
    PVX_FUSION_OWN = 0,   /* the layer's own op (dense weight for conv2d and linear) */
    PVX_FUSION_IDENTITY,  /* passes its input (or gradient) on: a ReLU fused into a neighbour, a
                           * dropout that draws no mask */
    PVX_FUSION_SPARSE,    /* forward: conv2d or linear on the compressed weight */
    PVX_FUSION_CONV_RELU, /* forward: conv2d applying the next layer's ReLU as it writes
                           * (pvx_conv2d_relu_forward); backward: conv2d whose input gradient is
                           * gated by the previous layer's ReLU (pvx_conv2d_relu_backward) */
    PVX_FUSION_MAXPOOL_RELU_OUT, /* backward: max-pool with the previous ReLU's gate read from the
                                  * pool's output as the next layer kept it (a quarter of the
                                  * reads; pvx_maxpool2d_relu_backward_out) */
    PVX_FUSION_MAXPOOL_RELU_IN,  /* backward: the same, gate read from the pool's input
                                  * (pvx_maxpool2d_relu_backward): the pool is the last layer */
} PvxFusionKernel;

/* The plan for one layer. */
typedef struct {
    PvxFusionKernel kernel;
    int fused_with; /* index of the layer this one runs fused with, -1 for none */
    /* Backward only: */
    gboolean want_dx;     /* its input gradient is wanted (by a layer below, a tap, the caller) */
    gboolean param_grads; /* it accumulates its weight and bias gradients */
} PvxFusionStep;

/* Fills plan[0 .. n) for a forward over @layers[0 .. n) in running order. */
void pvx_fusion_plan_forward(const PvxFusionLayer *layers, int n, PvxFusionStep *plan);

/* Fills plan[0 .. n) for a backward over @layers[0 .. n) that wants the parameter gradients when
 * @param_grads and the model's input gradient when @input_grad. A layer's output gradient is
 * wanted when it is tapped, has parameters whose gradients are wanted, or one of its inputs'
 * gradient is wanted; want_dx says whether any of its inputs' gradient is. Returns the lowest
 * layer the backward visits: the lowest whose output gradient is wanted, -1 for the input's, n
 * for none. Steps below it are left OWN with nothing wanted; a visited step with neither want_dx
 * nor param_grads runs nothing. */
int pvx_fusion_plan_backward(const PvxFusionLayer *layers, int n, gboolean param_grads,
                             gboolean input_grad, PvxFusionStep *plan);

/* "own", "identity", "sparse", "conv+relu", "maxpool+relu(out)", "maxpool+relu(in)"
 * (transfer none). */
const char *pvx_fusion_kernel_name(PvxFusionKernel kernel);
