/* pvx — model internals shared by core/nn (not installed). */
#pragma once

#include "pvx/error.h"
#include "pvx/model.h"
#include "pvx/nn.h"
#include "pvx-private/model_core.h"
#include "pvx-private/ops.h"

struct _PvxLayerState {
    /* Set by a keeping forward (EXPLAIN/TRAIN), cleared by an INFERENCE one. */
    PvxTensor *input;                   /* ref of the tensor the layer read */
    PvxTensor *output;                  /* the layer's own output buffer, reused between forwards */
    PvxIndices *indices;                /* maxpool2d */
    PvxTensor *drop_mask;               /* dropout in TRAIN */
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
    GPtrArray *layers;   /* PvxLayer*, owned, running order */
    GHashTable *by_name; /* name (borrowed from the layer) → index + 1 */
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
    /* Flat scratch buffers: INFERENCE activations ping-pong in buf, backward gradients in gbuf. */
    PvxTensor *buf[2], *gbuf[2];
    PvxSparseMode sparse_mode; /* pvx_model_set_sparse_mode; DEFAULT = PVX_SPARSE, else auto */
};

/* Output shape of one layer for an input shape; PVX_ERROR_SHAPE naming the layer. */
gboolean pvx_layer_output_shape(const PvxLayer *layer, int ndim, const int64_t *in, int *out_ndim,
                                int64_t *out, GError **error);
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
