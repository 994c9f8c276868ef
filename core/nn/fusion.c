/* pvx — planning a model's forward and backward: which layers run fused, which kernel each runs
 * (fusion_private.h). */
#include "fusion_private.h"

static const PvxFusionStep own_step = {PVX_FUSION_OWN, -1, FALSE, FALSE};

static gboolean is_free_relu(const PvxFusionLayer *layers, int n, int i)
{
    return i >= 0 && i < n && layers[i].type == PVX_LAYER_RELU && !layers[i].tapped;
}

void pvx_fusion_plan_forward(const PvxFusionLayer *layers, int n, PvxFusionStep *plan)
{
    g_return_if_fail(n == 0 || (layers != NULL && plan != NULL));
    for (int i = 0; i < n; i++)
        plan[i] = own_step;
    for (int i = 0; i < n; i++) {
        const PvxFusionLayer *l = &layers[i];
        switch (l->type) {
        case PVX_LAYER_CONV2D:
        case PVX_LAYER_LINEAR:
            if (l->sparse)
                plan[i].kernel = PVX_FUSION_SPARSE;
            /* The conv2d's own output is then the ReLU's, which a tapped conv2d must not see;
             * the sparse kernels have no fused form. */
            else if (l->type == PVX_LAYER_CONV2D && !l->tapped && is_free_relu(layers, n, i + 1)) {
                plan[i] = (PvxFusionStep){PVX_FUSION_CONV_RELU, i + 1, FALSE, FALSE};
                plan[i + 1] = (PvxFusionStep){PVX_FUSION_IDENTITY, i, FALSE, FALSE};
                i++;
            }
            break;
        case PVX_LAYER_DROPOUT:
            if (!l->drops)
                plan[i].kernel = PVX_FUSION_IDENTITY;
            break;
        default:
            break;
        }
    }
}

int pvx_fusion_plan_backward(const PvxFusionLayer *layers, int n, gboolean param_grads,
                             gboolean input_grad, PvxFusionStep *plan)
{
    g_return_val_if_fail(n == 0 || (layers != NULL && plan != NULL), n);
    int lowest = input_grad ? -1 : n;
    for (int i = 0; i < n; i++) {
        plan[i] = own_step;
        if (layers[i].tapped || (param_grads && layers[i].has_params))
            lowest = MIN(lowest, i);
    }
    /* From the top down, as the backward runs: a fused ReLU is the layer below the one that
     * absorbed it, so that one is planned first. */
    for (int i = n - 1; i >= 0 && i >= lowest; i--) {
        const PvxFusionLayer *l = &layers[i];
        PvxFusionStep *s = &plan[i];
        if (s->kernel == PVX_FUSION_IDENTITY)
            continue; /* a ReLU the layer above applies */
        s->want_dx = i - 1 >= lowest;
        s->param_grads = param_grads && l->has_params;
        /* Folding needs the ReLU's backward to run at all: the input gradient is wanted. */
        gboolean fold = s->want_dx && is_free_relu(layers, n, i - 1);
        switch (l->type) {
        case PVX_LAYER_CONV2D:
            if (fold)
                s->kernel = PVX_FUSION_CONV_RELU;
            break;
        case PVX_LAYER_MAXPOOL2D:
            if (fold)
                s->kernel = i + 1 < n && layers[i + 1].input_kept ? PVX_FUSION_MAXPOOL_RELU_OUT
                                                                  : PVX_FUSION_MAXPOOL_RELU_IN;
            break;
        case PVX_LAYER_DROPOUT:
            if (!l->drops)
                s->kernel = PVX_FUSION_IDENTITY;
            break;
        default:
            break;
        }
        if (s->kernel == PVX_FUSION_CONV_RELU || s->kernel == PVX_FUSION_MAXPOOL_RELU_OUT ||
            s->kernel == PVX_FUSION_MAXPOOL_RELU_IN) {
            s->fused_with = i - 1;
            plan[i - 1] = (PvxFusionStep){PVX_FUSION_IDENTITY, i, i - 2 >= lowest, FALSE};
        }
    }
    return lowest;
}

const char *pvx_fusion_kernel_name(PvxFusionKernel kernel)
{
    switch (kernel) {
    case PVX_FUSION_OWN:
        return "own";
    case PVX_FUSION_IDENTITY:
        return "identity";
    case PVX_FUSION_SPARSE:
        return "sparse";
    case PVX_FUSION_CONV_RELU:
        return "conv+relu";
    case PVX_FUSION_MAXPOOL_RELU_OUT:
        return "maxpool+relu(out)";
    case PVX_FUSION_MAXPOOL_RELU_IN:
        return "maxpool+relu(in)";
    }
    return "?";
}
