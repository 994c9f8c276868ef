/* pvx — model internals shared by core/nn (not installed). */
#pragma once

#include "pvx/error.h"
#include "pvx/model.h"
#include "pvx/nn.h"
#include "pvx-private/model_core.h"
#include "pvx-private/ops.h"

typedef struct _PvxBufferPool PvxBufferPool;
/* One tensor shape, as PvxTensor.shape holds it. */
typedef int64_t PvxShape[PVX_TENSOR_MAX_DIMS];

struct _PvxLayerState {
    /* The graph, resolved (graph.c): running indices of the inputs (-1: the model's input) and
     * how many layers read this one's output. */
    int *in_idx;
    int n_consumers;
    /* Set by a keeping forward (EXPLAIN/TRAIN), cleared by an INFERENCE one. */
    PvxTensor *input;                   /* ref of the (first) tensor the layer read */
    PvxTensor *input2;                  /* mul: ref of the scale it read */
    int64_t *in_channels;               /* concat: each input's channel count */
    PvxTensor *output;                  /* the layer's own output buffer, reused between forwards */
    PvxIndices *indices;                /* maxpool2d */
    PvxTensor *drop_mask;               /* dropout in TRAIN; stochastic depth: [N] keep scales */
    PvxTensor *save_mean, *save_invstd; /* batchnorm2d in TRAIN */
    gboolean tapped;
    PvxTensor *tap_act;  /* ref of the output of the last forward */
    PvxTensor *tap_grad; /* owned copy of dL/d(output) of the last backward */
    /* Sparse inference (sparse_cache.c): a cache derived from the weight, dropped whenever the
     * weight or mask can change (pvx_layer_sparse_invalidate). */
    gboolean nnz_known; /* nnz counts the weight's non-zeros */
    int64_t nnz;
    PvxSparseWeights *sparse; /* the compressed weight, built when first used */
    gboolean ran_sparse;      /* the last forward ran this layer on the sparse kernel */
};

struct _PvxModel {
    char *arch;
    GPtrArray *layers;   /* PvxLayer*, owned, running order once resolved (graph.c) */
    GHashTable *by_name; /* name (borrowed from the layer) → index + 1 */
    GHashTable *aliases; /* alias → layer name (both owned) */
    /* The graph (graph.c): dirty after every change of layers or inputs; resolving sorts the
     * layers into running order and fills each state's in_idx / n_consumers, or keeps the
     * error (graph_error) that every forward and check then reports. */
    gboolean dirty;
    char *graph_error;
    PvxLayer *output; /* the last layer added */
    int input_consumers;
    int64_t input_chw[3];
    int num_classes;
    char *target_layer;
    char **prunable;
    guint64 dropout_seed, dropout_count;
    /* The last keeping forward. */
    gboolean kept;
    PvxForwardMode kept_mode;
    int out_ndim;
    int64_t out_shape[PVX_TENSOR_MAX_DIMS];
    /* Flat scratch buffers, reused between layers: INFERENCE activations and backward
     * gradients (forward.c). */
    PvxBufferPool *pool, *gpool;
    PvxSparseMode sparse_mode; /* pvx_model_set_sparse_mode; DEFAULT = PVX_SPARSE, else auto */
};

/* Output shape of one layer for the shapes of its inputs (@n of them, as layer->inputs);
 * PVX_ERROR_SHAPE naming the layer, and at a join its inputs and both shapes. */
gboolean pvx_layer_output_shape_n(const PvxLayer *layer, int n, const int *ndim, const PvxShape *in,
                                  int *out_ndim, int64_t *out, GError **error);
/* The same for a one-input layer. */
gboolean pvx_layer_output_shape(const PvxLayer *layer, int ndim, const int64_t *in, int *out_ndim,
                                int64_t *out, GError **error);
/* The layer behind @name, an alias resolved; NULL when none. */
PvxLayer *pvx_model_lookup(const PvxModel *m, const char *name);

/* graph.c: resolves the graph if it changed (see struct _PvxModel). FALSE + the graph's error. */
gboolean pvx_model_resolve(PvxModel *m, GError **error);
/* Output shapes of every layer (running order) for one input shape [N, C, H, W]: @ndims[n],
 * @shapes[n]. FALSE + error naming the first layer that does not fit. */
gboolean pvx_model_propagate_shapes(PvxModel *m, const int64_t input_shape[4], int *ndims,
                                    PvxShape *shapes, GError **error);

/* A pool of flat float buffers handed out as views and taken back when their last user is done
 * (forward.c). */
void pvx_buffer_pool_free(PvxBufferPool *pool);
/* Frees what forward kept (not the tap settings). */
void pvx_layer_state_clear(PvxLayerState *s);

/* Sparse inference (sparse_cache.c). */
/* Drops the layer's (or every layer's) cached compressed weight and non-zero count. */
void pvx_layer_sparse_invalidate(PvxLayerState *s);
void pvx_model_sparse_invalidate(PvxModel *m);
/* The compressed weight a forward in @mode should run conv2d/linear layer @l on for an input of
 * shape @shape (@ndim dimensions), or NULL for the dense op; builds and caches it on first use.
 * Sets s->ran_sparse. */
const PvxSparseWeights *pvx_layer_sparse_choice(PvxModel *m, PvxLayer *l, int ndim,
                                                const int64_t *shape, PvxForwardMode mode);
