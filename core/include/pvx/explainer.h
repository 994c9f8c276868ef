/* pvx — the explainer plugin kind, and the core's explanation helpers.
 *
 * An explainer turns (model, batch of inputs, one target class per image) into one raw relevance
 * map per image: [N, h, w] float32, unnormalised, at the target layer's resolution for CAM
 * methods (14×14 at features.29 of VGG-16 at 224) or at the input's resolution for pixel methods
 * (saliency, integrated gradients, occlusion). Upsampling, normalisation and colouring are the
 * core's (heatmap.h), so every explainer renders the same way.
 *
 * The core resolves everything before the plugin runs (pvx_explain): the target layer (a name;
 * default: the model's CAM layer, pvx_model_target_layer), the target class of each image
 * (predicted, true label, or a fixed index) and checks them, so a plugin only computes.
 *
 *     static const PvxExplainerClass klass = {
 *         .size = sizeof klass, .flags = PVX_EXPLAINER_GRADIENTS | PVX_EXPLAINER_LAYER,
 *         .explain = my_explain,   // stateless: no open/close (ABI 1.1)
 *     };
 *     PVX_PLUGIN_DEFINE(PVX_KIND_EXPLAINER, "gradcam", "1.0.0", "Grad-CAM", my_params, &klass)
 *
 * Plugins log under "pvx-<name>" (G_MESSAGES_DEBUG=pvx-scorecam).
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "nn.h"
#include "params.h"
#include "tensor.h"

PVX_BEGIN_DECLS

/* What an explainer is and needs. Append-only. */
enum {
    /* Backpropagates from the target score (through the layers above the target layer, or to
     * the input for pixel methods). */
    PVX_EXPLAINER_GRADIENTS = 1 << 0,
    /* Explains at the target layer: maps have the layer's h×w. Without it maps are [N, H, W] of
     * the input and no target layer is resolved. */
    PVX_EXPLAINER_LAYER = 1 << 1,
    /* Runs extra forwards on perturbed inputs or activations (Score-CAM, Ablation-CAM,
     * occlusion): costly, see the plugin's description. */
    PVX_EXPLAINER_PERTURBATION = 1 << 2,
    /* Does not use the target class (EigenCAM). */
    PVX_EXPLAINER_CLASS_AGNOSTIC = 1 << 3,
};

/* One explanation request, filled by the core. */
typedef struct {
    uint32_t size;            /* sizeof(PvxExplainRequest) as the core saw it */
    PvxModel *model;          /* evaluation behaviour; the plugin may tap, forward, backward */
    const PvxTensor *input;   /* [N, C, H, W], contiguous, normalised as the model expects */
    const int64_t *targets;   /* N class indices, checked to be in [0, classes) */
    const char *target_layer; /* an existing layer name (LAYER methods), else NULL */
    int num_classes;
    /* Images per forward for perturbation methods' extra forwards (≥ 1). */
    int batch_size;
} PvxExplainRequest;

typedef struct {
    uint32_t size; /* sizeof(PvxExplainerClass) as the plugin saw it */
    guint32 flags; /* PVX_EXPLAINER_* */
    /* Optional since ABI 1.1, and only as a pair: a stateless plugin declares neither and its
     * callbacks get self = NULL. open returns (transfer full) the plugin's state, or NULL + error
     * naming the param (pvx_params_where) (the core opens every kind the same way); close
     * frees it. */
    gpointer (*open)(const PvxParams *params, GError **error);
    void (*close)(gpointer self);
    /* Computes maps for the request. *maps_out receives (transfer full) [N, h, w] float32 raw
     * maps. The model's taps may be changed; the plugin leaves no tap it added behind. */
    gboolean (*explain)(gpointer self, const PvxExplainRequest *req, PvxTensor **maps_out,
                        GError **error);
} PvxExplainerClass;

#define PVX_EXPLAINER_CLASS_MIN_SIZE (offsetof(PvxExplainerClass, explain) + sizeof(void *))

/* ---------------------------------------------------------------------------------------------
 * Building blocks for explainer plugins (core/explain/cam.c).
 */

/* Taps @layer, runs an EXPLAIN forward of @x, backpropagates Σ_n logit[n, targets[n]] (a
 * one-hot per image: each image gets d target_n / d its own activation) and returns the
 * layer's activation and gradient [N, K, h, w] (transfer full, copies). @logits_out may be NULL.
 * Untaps the layer afterwards. */
gboolean pvx_explain_layer_gradients(PvxModel *model, PvxTensor *x, const int64_t *targets,
                                     const char *layer, PvxTensor **act_out, PvxTensor **grad_out,
                                     PvxTensor **logits_out, GError **error);
/* d Σ_n logit[n, targets[n]] / d x for @x [N, C, H, W]: the input gradient without parameter
 * gradients. Returns: (transfer full) dx, same shape as x. */
PvxTensor *pvx_explain_input_gradient(PvxModel *model, PvxTensor *x, const int64_t *targets,
                                      PvxTensor **logits_out, GError **error);
/* Inference forwards of @x in chunks of @batch_size; scores_out[n] = logit[n, targets[n]]. */
gboolean pvx_explain_target_scores(PvxModel *model, PvxTensor *x, const int64_t *targets,
                                   int batch_size, double *scores_out, GError **error);
/* The activation of @layer for @x from an inference forward (taps, then untaps).
 * Returns: (transfer full) [N, K, h, w]. */
PvxTensor *pvx_explain_layer_activation(PvxModel *model, PvxTensor *x, const char *layer,
                                        PvxTensor **logits_out, GError **error);
/* Runs the layers after @layer on @act (the layer's output, any batch size), evaluation
 * behaviour, keeping nothing: the model "from @layer on". @layer must cut the graph (no layer
 * after it reads a layer before it, as a skip connection around it would): else
 * PVX_ERROR_INVALID_ARGUMENT naming the layer that does. Returns: (transfer full) logits. */
PvxTensor *pvx_explain_forward_from(PvxModel *model, const char *layer, const PvxTensor *act,
                                    GError **error);
/* maps[n] = Σ_k weights[n, k] · act[n, k] for act [N, K, h, w], weights N×K (row-major).
 * Returns: (transfer full) [N, h, w]. */
PvxTensor *pvx_explain_weighted_sum(const PvxTensor *act, const double *weights);
/* EigenCAM's projection of @act [N, K, h, w] per image: X = the h·w × K matrix of activations,
 * X_c = X minus its column means, p = X_c v₁ with v₁ the first right singular vector (computed in
 * float64 through LAPACK's dsyev on the smaller of X_cᵀX_c and X_c X_cᵀ). The sign of an SVD is
 * arbitrary, so pvx fixes it: p is flipped when Σ_ij p_ij · Σ_k A_kij < 0 (the projection
 * points towards where the layer is most active), and when that sum is exactly 0, when
 * |min p| > |max p|. p has zero mean, so unless p ≡ 0 its positive part is never empty.
 * Returns: (transfer full) [N, h, w]. */
PvxTensor *pvx_explain_eigen_projection(const PvxTensor *act, GError **error);
/* Bilinear resize of planes [.., h, w] → [.., H, W] with align_corners = TRUE (PyTorch's
 * nn.UpsamplingBilinear2d; the corners of input and output coincide) or FALSE
 * (F.interpolate(align_corners=False) and cv2.resize INTER_LINEAR: pixel centres aligned, the
 * source coordinate clamped at the border). Returns: (transfer full). */
PvxTensor *pvx_explain_resize_bilinear(const PvxTensor *maps, int64_t out_h, int64_t out_w,
                                       gboolean align_corners);

PVX_END_DECLS
