/* pvx — the core's handle on an explainer plugin, and pvx_explain, which resolves targets and
 * checks what the plugin returns (core side).
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "pvx/explainer.h"
#include "registry.h"

G_BEGIN_DECLS

/* ---------------------------------------------------------------------------------------------
 * The core's handle: a plugin plus its open state.
 */
typedef struct _PvxExplainer PvxExplainer;

/* Opens @plugin (an explainer) with validated @params. Returns: (transfer full). */
PvxExplainer *pvx_explainer_open(const PvxPlugin *plugin, const PvxParams *params, GError **error);
/* Opens plugin @name of @reg with its defaults plus "key=value" @pairs (NULL-terminated, may be
 * NULL): for tools and tests without a config. Returns: (transfer full). */
PvxExplainer *pvx_explainer_open_by_name(const PvxRegistry *reg, const char *name,
                                         const char *const *pairs, GError **error);
void pvx_explainer_close(PvxExplainer *ex);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxExplainer, pvx_explainer_close)
const char *pvx_explainer_name(const PvxExplainer *ex); /* (transfer none) */
guint32 pvx_explainer_flags(const PvxExplainer *ex);

/* How the target class of each image is chosen. */
typedef enum {
    PVX_TARGET_PREDICTED = 0, /* argmax of the logits (the first on ties) */
    PVX_TARGET_LABEL,         /* the given true labels */
    PVX_TARGET_FIXED,         /* one class index for every image */
} PvxTargetMode;

/* "predicted", "label", "fixed" → mode; FALSE for anything else. */
gboolean pvx_target_mode_from_name(const char *name, PvxTargetMode *out);

typedef struct {
    PvxTargetMode mode;
    const int64_t *labels; /* PVX_TARGET_LABEL: N labels */
    int64_t fixed;         /* PVX_TARGET_FIXED */
    const char *layer;     /* target layer; NULL = pvx_model_target_layer(model) */
    int batch_size;        /* 0 = 16 */
} PvxExplainOptions;

/* Explains @batch [N, C, H, W] with @ex on @model:
 * 1. checks the batch fits the model, resolves the target layer (an unknown name is
 *    PVX_ERROR_NOT_FOUND listing every layer name; a gradient method on a layer the output does
 *    not depend on through differentiable layers — i.e. at or after the output — is
 *    PVX_ERROR_INVALID_ARGUMENT),
 * 2. runs one inference forward for the logits, resolves the targets (a class out of
 *    [0, classes) is PVX_ERROR_INVALID_ARGUMENT naming the index and the range),
 * 3. calls the plugin and checks its maps ([N, h, w] with the layer's or the input's h×w,
 *    finite).
 * @logits_out, @targets_out (N entries, g_free) may be NULL. Returns: (transfer full) the raw
 * maps. */
PvxTensor *pvx_explain(PvxExplainer *ex, PvxModel *model, PvxTensor *batch,
                       const PvxExplainOptions *opts, PvxTensor **logits_out, int64_t **targets_out,
                       GError **error);

G_END_DECLS
