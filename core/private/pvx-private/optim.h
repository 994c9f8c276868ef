/* pvx — optimizers.
 *
 * SGD with PyTorch's exact update rule (torch.optim.SGD, 1.13):
 *     d = grad + weight_decay · p
 *     buf = d                                  (first step)
 *     buf = momentum · buf + (1 − dampening) · d (later steps)
 *     d = d + momentum · buf  (nesterov)   or   d = buf
 *     p = p − lr · d
 * With a mask (pruning), the gradient is masked before the update and the parameter and its
 * momentum buffer are re-masked after it, so neither momentum nor weight decay can bring a
 * pruned weight back.
 * Optional gradient clipping scales all gradients together when their global L2 norm exceeds
 * clip_norm (torch.nn.utils.clip_grad_norm_, with its 1e-6 in the denominator).
 */
#pragma once

#include <glib.h>
#include "store.h"
#include "pvx/tensor.h"

G_BEGIN_DECLS

typedef struct {
    double momentum;     /* 0: plain SGD */
    double dampening;    /* PyTorch's default 0 */
    double weight_decay; /* L2 coefficient, applied to every registered parameter */
    gboolean nesterov;   /* needs momentum > 0 and dampening = 0, as in PyTorch */
    double clip_norm;    /* 0: no clipping */
} PvxSgdParams;

typedef struct _PvxSgd PvxSgd;

/* Returns: (transfer full), NULL + PVX_ERROR_INVALID_ARGUMENT for impossible settings. */
PvxSgd *pvx_sgd_new(const PvxSgdParams *params, GError **error);
void pvx_sgd_free(PvxSgd *sgd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxSgd, pvx_sgd_free)

/* Registers a parameter, its gradient tensor and an optional 0/1 mask of the same shape. The
 * optimizer keeps references; @name labels the momentum buffer in checkpoints. @weight_decay
 * FALSE exempts this parameter (e.g. biases, if a config wants that). */
void pvx_sgd_add_param(PvxSgd *sgd, const char *name, PvxTensor *param, PvxTensor *grad,
                       PvxTensor *mask, gboolean weight_decay);
/* Changes (or sets, or clears with NULL) the mask of a registered parameter, e.g. after a
 * pruning step. The parameter and its buffer are masked at once. */
gboolean pvx_sgd_set_mask(PvxSgd *sgd, const char *name, PvxTensor *mask, GError **error);
/* One update with learning rate @lr. Fails with PVX_ERROR_NUMERIC, changing nothing, if a
 * gradient holds NaN or Inf (the message names the parameter). */
gboolean pvx_sgd_step(PvxSgd *sgd, double lr, GError **error);
/* Zeroes every registered gradient. */
void pvx_sgd_zero_grad(PvxSgd *sgd);
/* Global L2 norm of the gradients as last seen by step (before clipping). */
double pvx_sgd_last_grad_norm(const PvxSgd *sgd);

/* Momentum buffers to and from a store group (<group>/<name>, plus attribute "steps").
 * Loading checks every name and shape. */
gboolean pvx_sgd_save(const PvxSgd *sgd, PvxStore *store, const char *group, GError **error);
gboolean pvx_sgd_load(PvxSgd *sgd, PvxStore *store, const char *group, GError **error);

G_END_DECLS
