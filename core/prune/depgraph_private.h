/* pvx — the channel dependency graph of a model (core/prune/ only): which channels of which
 * layers are one channel, so that structured pruning removes them together and the export drops
 * them together — what Torch-Pruning's DependencyGraph computes for PyTorch modules.
 *
 * Every value of the graph (the model's input, each layer's output) has channels: a conv2d's or
 * batch-norm's C, a linear layer's out_features, a flatten's C (its features are C blocks of
 * H·W). Channels that must go together are merged into one *coupled channel*:
 *   - layers that act channel by channel (batch-norm, activations, identity, dropout, stochastic
 *     depth, pools, flatten) pass their input's coupled channels on;
 *   - add: channel c of every input and of the output are one;
 *   - concat: the output's channels are its inputs' channels, range after range;
 *   - mul (squeeze-and-excitation): channel c of the scale is channel c of x;
 *   - a depthwise conv2d (groups = Cin = Cout > 1): its output channel c is its input channel c;
 *   - a conv2d with groups = 1 and a linear layer make new channels from all of theirs.
 * A coupled channel is *fixed* (never pruned) when it reaches the model's input or output, or a
 * grouped conv2d that is not depthwise (or a depthwise one with a channel multiplier), a linear
 * layer's outputs, a linear layer whose input features are not a whole number of blocks per
 * channel, or a layer type this file does not know.
 *
 * Members of a coupled channel: its *producers* — (conv2d, output channel o): removing the channel
 * removes the filter weight[o] (and bias[o]) — and its *consumers* — (conv2d with groups 1 or
 * linear, input channel c, block b): removing the channel removes weight[:, c] (conv) or the
 * features c·b .. c·b + b − 1 (linear). A depthwise conv2d is a producer only (its single input
 * column is its own filter).
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "pvx/nn.h"

typedef struct {
    int layer;       /* running index (pvx_model_layer) */
    int64_t channel; /* output channel (producer) or input channel (consumer) of that layer */
    int64_t block;   /* consumer: features per channel (linear after flatten), else 1 */
} PvxDepMember;

typedef struct {
    gboolean fixed;
    GArray *producers; /* PvxDepMember, running order */
    GArray *consumers; /* PvxDepMember, running order */
} PvxDepChannel;

typedef struct {
    int n_layers;
    int n_channels;
    PvxDepChannel *channels;
    /* Per value v (0: the model's input, 1 + i: layer i's output in running order): its channel
     * count and the coupled channel of each. */
    int64_t *n_value_channels;
    int **value_channel;
} PvxDepGraph;

/* Builds the coupled channels of @model (a checked graph). The input's channel count comes from
 * pvx_model_input_shape, or, for a model built by hand, from the layers that read the input.
 * PVX_ERROR_INVALID_ARGUMENT when the graph is refused or the input's channels cannot be told.
 * Returns: (transfer full) free with pvx_dep_graph_free. */
PvxDepGraph *pvx_dep_graph_new(const PvxModel *model, GError **error);
void pvx_dep_graph_free(PvxDepGraph *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxDepGraph, pvx_dep_graph_free)

/* The coupled channel of channel @c of layer @layer's output (running index; -1: the input). */
static inline int pvx_dep_channel_of(const PvxDepGraph *g, int layer, int64_t c)
{
    return g->value_channel[layer + 1][c];
}
