/* pvx — planning a model's forward and backward: which layers run fused, which kernel each runs
 * (fusion_private.h). */
#include "fusion_private.h"

static const PvxFusionStep own_step = {PVX_FUSION_OWN, -1, FALSE, FALSE};

static gboolean is_free_relu(const PvxFusionLayer *layers, int n, int i)
{
    return i >= 0 && i < n && layers[i].type == PVX_LAYER_RELU && !layers[i].tapped;
}

static int n_inputs(const PvxFusionLayer *l)
{
    return l->n_inputs ? l->n_inputs : 1;
}

static int input_of(const PvxFusionLayer *layers, int i, int k)
{
    return layers[i].n_inputs ? layers[i].inputs[k] : i - 1;
}

/* Layer @i's output goes to layer i + 1 alone, which reads nothing else. */
static gboolean chained(const PvxFusionLayer *layers, int n, int i)
{
    if (i < 0 || i + 1 >= n)
        return FALSE;
    int consumers = layers[i].n_consumers ? layers[i].n_consumers : 1;
    return consumers == 1 && n_inputs(&layers[i + 1]) == 1 && input_of(layers, i + 1, 0) == i;
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
            else if (l->type == PVX_LAYER_CONV2D && !l->tapped && is_free_relu(layers, n, i + 1) &&
                     chained(layers, n, i)) {
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
    /* need[i + 1]: layer i's output gradient is wanted; need[0]: the model input's. */
    g_autofree gboolean *need = g_new0(gboolean, n + 1);
    need[0] = input_grad;
    for (int i = 0; i < n; i++) {
        plan[i] = own_step;
        gboolean w = layers[i].tapped || (param_grads && layers[i].has_params);
        for (int k = 0; k < n_inputs(&layers[i]) && !w; k++)
            w = need[input_of(layers, i, k) + 1];
        need[i + 1] = w;
        if (w)
            lowest = MIN(lowest, i);
    }
    /* From the top down, as the backward runs: a fused ReLU is the layer below the one that
     * absorbed it, so that one is planned first. */
    for (int i = n - 1; i >= 0 && i >= lowest; i--) {
        const PvxFusionLayer *l = &layers[i];
        PvxFusionStep *s = &plan[i];
        if (s->kernel == PVX_FUSION_IDENTITY)
            continue; /* a ReLU the layer above applies */
        if (!need[i + 1])
            continue; /* no gradient reaches it, or none is wanted below it */
        for (int k = 0; k < n_inputs(l); k++)
            s->want_dx |= need[input_of(layers, i, k) + 1];
        s->param_grads = param_grads && l->has_params;
        /* Folding needs the ReLU's backward to run at all: the input gradient is wanted. */
        gboolean fold = s->want_dx && is_free_relu(layers, n, i - 1) && chained(layers, n, i - 1);
        switch (l->type) {
        case PVX_LAYER_CONV2D:
            if (fold)
                s->kernel = PVX_FUSION_CONV_RELU;
            break;
        case PVX_LAYER_MAXPOOL2D:
            if (fold)
                s->kernel = chained(layers, n, i) && layers[i + 1].input_kept
                                ? PVX_FUSION_MAXPOOL_RELU_OUT
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
            plan[i - 1] = (PvxFusionStep){PVX_FUSION_IDENTITY, i,
                                          need[input_of(layers, i - 1, 0) + 1], FALSE};
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
