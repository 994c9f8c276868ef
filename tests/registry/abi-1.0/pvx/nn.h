/* pvx ABI 1.0, frozen: an excerpt of core/include/pvx/nn.h as of commit a057819 — the layer
 * and model types a pruner's callbacks receive, text unchanged; the model API is left out. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "ops.h"
#include "tensor.h"

G_BEGIN_DECLS

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
} PvxLayerType;

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
    double p;                          /* dropout probability */
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
} PvxLayer;

typedef struct _PvxModel PvxModel;

G_END_DECLS
