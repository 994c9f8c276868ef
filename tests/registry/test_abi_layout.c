/* The layout of every struct a plugin and the core share — the descriptor, each kind's function
 * table, the parameter specs, and everything a plugin's callbacks receive or read — pinned on
 * x86-64 (LP64, the System V ABI). A plugin is compiled against one layout and loaded by a core
 * compiled later: a field moved, resized or inserted breaks every plugin built before, so any
 * change here must be an append (and then the new numbers are added, never the old ones
 * changed). The ABI 1.0 numbers are those of commit a057819; 1.1 only split the descriptor's
 * first reserved pointer into param_spec_size and reserved32. */
#include <stddef.h>

#include "pvx-private/core.h"

typedef struct {
    const char *type, *field; /* field NULL: the struct's size */
    size_t actual, pinned;
} Pin;

#define SIZE(T, n)                                                                                 \
    {                                                                                              \
#T, NULL, sizeof(T), n                                                                     \
    }
#define FIELD(T, f, n)                                                                             \
    {                                                                                              \
#T, #f, offsetof(T, f), n                                                                  \
    }

static const Pin pins[] = {
    SIZE(PvxPluginDescriptor, 120),
    FIELD(PvxPluginDescriptor, magic, 0),
    FIELD(PvxPluginDescriptor, abi_major, 4),
    FIELD(PvxPluginDescriptor, abi_minor, 6),
    FIELD(PvxPluginDescriptor, size, 8),
    FIELD(PvxPluginDescriptor, kind, 12),
    FIELD(PvxPluginDescriptor, name, 16),
    FIELD(PvxPluginDescriptor, version, 24),
    FIELD(PvxPluginDescriptor, description, 32),
    FIELD(PvxPluginDescriptor, params, 40),
    FIELD(PvxPluginDescriptor, klass, 48),
    FIELD(PvxPluginDescriptor, param_spec_size, 56),
    FIELD(PvxPluginDescriptor, reserved32, 60),
    FIELD(PvxPluginDescriptor, reserved, 64),
    SIZE(PvxParamSpec, 64),
    FIELD(PvxParamSpec, name, 0),
    FIELD(PvxParamSpec, type, 8),
    FIELD(PvxParamSpec, default_value, 16),
    FIELD(PvxParamSpec, flags, 24),
    FIELD(PvxParamSpec, min, 32),
    FIELD(PvxParamSpec, max, 40),
    FIELD(PvxParamSpec, choices, 48),
    FIELD(PvxParamSpec, doc, 56),
    SIZE(PvxDatasetClass, 80),
    FIELD(PvxDatasetClass, size, 0),
    FIELD(PvxDatasetClass, open, 8),
    FIELD(PvxDatasetClass, close, 16),
    FIELD(PvxDatasetClass, num_classes, 24),
    FIELD(PvxDatasetClass, class_name, 32),
    FIELD(PvxDatasetClass, split_size, 40),
    FIELD(PvxDatasetClass, item_shape, 48),
    FIELD(PvxDatasetClass, has_masks, 56),
    FIELD(PvxDatasetClass, get_item, 64),
    FIELD(PvxDatasetClass, item_label, 72),
    SIZE(PvxDatasetItem, 40),
    FIELD(PvxDatasetItem, image, 0),
    FIELD(PvxDatasetItem, label, 8),
    FIELD(PvxDatasetItem, mask, 16),
    FIELD(PvxDatasetItem, raw, 24),
    FIELD(PvxDatasetItem, id, 32),
    SIZE(PvxModelClass, 32),
    FIELD(PvxModelClass, size, 0),
    FIELD(PvxModelClass, build, 8),
    FIELD(PvxModelClass, target_layer, 16),
    FIELD(PvxModelClass, prunable_layers, 24),
    SIZE(PvxPrunerClass, 40),
    FIELD(PvxPrunerClass, size, 0),
    FIELD(PvxPrunerClass, flags, 4),
    FIELD(PvxPrunerClass, open, 8),
    FIELD(PvxPrunerClass, close, 16),
    FIELD(PvxPrunerClass, score, 24),
    FIELD(PvxPrunerClass, scope, 32),
    SIZE(PvxPruneContext, 72),
    FIELD(PvxPruneContext, size, 0),
    FIELD(PvxPruneContext, n_layers, 4),
    FIELD(PvxPruneContext, layers, 8),
    FIELD(PvxPruneContext, model, 16),
    FIELD(PvxPruneContext, seed, 24),
    FIELD(PvxPruneContext, step, 32),
    FIELD(PvxPruneContext, target_cr, 40),
    FIELD(PvxPruneContext, n_batches, 48),
    FIELD(PvxPruneContext, gradients, 56),
    FIELD(PvxPruneContext, core_data, 64),
    SIZE(PvxExplainerClass, 32),
    FIELD(PvxExplainerClass, size, 0),
    FIELD(PvxExplainerClass, flags, 4),
    FIELD(PvxExplainerClass, open, 8),
    FIELD(PvxExplainerClass, close, 16),
    FIELD(PvxExplainerClass, explain, 24),
    SIZE(PvxExplainRequest, 48),
    FIELD(PvxExplainRequest, size, 0),
    FIELD(PvxExplainRequest, model, 8),
    FIELD(PvxExplainRequest, input, 16),
    FIELD(PvxExplainRequest, targets, 24),
    FIELD(PvxExplainRequest, target_layer, 32),
    FIELD(PvxExplainRequest, num_classes, 40),
    FIELD(PvxExplainRequest, batch_size, 44),
    SIZE(PvxMetricClass, 32),
    FIELD(PvxMetricClass, size, 0),
    FIELD(PvxMetricClass, needs, 4),
    FIELD(PvxMetricClass, open, 8),
    FIELD(PvxMetricClass, close, 16),
    FIELD(PvxMetricClass, compute, 24),
    SIZE(PvxMetricInput, 152),
    FIELD(PvxMetricInput, size, 0),
    FIELD(PvxMetricInput, n, 8),
    FIELD(PvxMetricInput, num_classes, 16),
    FIELD(PvxMetricInput, class_names, 24),
    FIELD(PvxMetricInput, logits, 32),
    FIELD(PvxMetricInput, labels, 40),
    FIELD(PvxMetricInput, maps, 48),
    FIELD(PvxMetricInput, masks, 56),
    FIELD(PvxMetricInput, item_ids, 64),
    FIELD(PvxMetricInput, images, 72),
    FIELD(PvxMetricInput, targets, 80),
    FIELD(PvxMetricInput, model, 88),
    FIELD(PvxMetricInput, reference_maps, 96),
    FIELD(PvxMetricInput, cr, 104),
    FIELD(PvxMetricInput, explain, 112),
    FIELD(PvxMetricInput, explain_data, 120),
    FIELD(PvxMetricInput, batch_size, 128),
    FIELD(PvxMetricInput, seed, 136),
    FIELD(PvxMetricInput, method, 144),
    SIZE(PvxMetricSummary, 40),
    FIELD(PvxMetricSummary, n, 0),
    FIELD(PvxMetricSummary, mean, 8),
    FIELD(PvxMetricSummary, std, 16),
    FIELD(PvxMetricSummary, ci_low, 24),
    FIELD(PvxMetricSummary, ci_high, 32),
    SIZE(PvxTensor, 128),
    FIELD(PvxTensor, ndim, 0),
    FIELD(PvxTensor, shape, 8),
    FIELD(PvxTensor, stride, 56),
    FIELD(PvxTensor, data, 104),
    FIELD(PvxTensor, storage, 112),
    FIELD(PvxTensor, refcount, 120),
    SIZE(PvxImage, 24),
    FIELD(PvxImage, width, 0),
    FIELD(PvxImage, height, 4),
    FIELD(PvxImage, channels, 8),
    FIELD(PvxImage, data, 16),
    SIZE(PvxLayer, 208),
    FIELD(PvxLayer, name, 0),
    FIELD(PvxLayer, type, 8),
    FIELD(PvxLayer, in_features, 16),
    FIELD(PvxLayer, out_features, 24),
    FIELD(PvxLayer, kernel_h, 32),
    FIELD(PvxLayer, kernel_w, 36),
    FIELD(PvxLayer, conv, 40),
    FIELD(PvxLayer, pool, 64),
    FIELD(PvxLayer, out_h, 88),
    FIELD(PvxLayer, out_w, 92),
    FIELD(PvxLayer, p, 96),
    FIELD(PvxLayer, eps, 104),
    FIELD(PvxLayer, momentum, 112),
    FIELD(PvxLayer, weight, 120),
    FIELD(PvxLayer, bias, 128),
    FIELD(PvxLayer, running_mean, 136),
    FIELD(PvxLayer, running_var, 144),
    FIELD(PvxLayer, mask, 152),
    FIELD(PvxLayer, weight_grad, 160),
    FIELD(PvxLayer, bias_grad, 168),
    FIELD(PvxLayer, num_batches_tracked, 176),
    FIELD(PvxLayer, state, 184),
    FIELD(PvxLayer, groups, 192),
    FIELD(PvxLayer, n_inputs, 196),
    FIELD(PvxLayer, inputs, 200),
    SIZE(PvxConv2dParams, 24),
    FIELD(PvxConv2dParams, stride_h, 0),
    FIELD(PvxConv2dParams, stride_w, 4),
    FIELD(PvxConv2dParams, pad_h, 8),
    FIELD(PvxConv2dParams, pad_w, 12),
    FIELD(PvxConv2dParams, dilation_h, 16),
    FIELD(PvxConv2dParams, dilation_w, 20),
    SIZE(PvxMaxPool2dParams, 24),
    FIELD(PvxMaxPool2dParams, kernel_h, 0),
    FIELD(PvxMaxPool2dParams, kernel_w, 4),
    FIELD(PvxMaxPool2dParams, stride_h, 8),
    FIELD(PvxMaxPool2dParams, stride_w, 12),
    FIELD(PvxMaxPool2dParams, pad_h, 16),
    FIELD(PvxMaxPool2dParams, pad_w, 20),
};

static void abi_struct_layout_is_pinned(void)
{
#if defined(__x86_64__) && defined(__LP64__)
    int wrong = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(pins); i++) {
        const Pin *p = &pins[i];
        if (p->actual == p->pinned)
            continue;
        wrong++;
        if (p->field)
            g_printerr("offsetof(%s, %s) is %zu, the ABI says %zu\n", p->type, p->field, p->actual,
                       p->pinned);
        else
            g_printerr("sizeof(%s) is %zu, the ABI says %zu\n", p->type, p->actual, p->pinned);
    }
    g_assert_cmpint(wrong, ==, 0);
#else
    g_test_skip("the pinned layout is x86-64's");
#endif
}

static void abi_minimum_table_sizes_are_pinned(void)
{
#if defined(__x86_64__) && defined(__LP64__)
    /* Up to each kind's last required slot: what the loader accepts (its kind table) and what the
     * headers' macros say. Raising one refuses every plugin built before. */
    g_assert_cmpuint(PVX_DATASET_CLASS_MIN_SIZE, ==, 72);
    g_assert_cmpuint(PVX_MODEL_CLASS_MIN_SIZE, ==, 16);
    g_assert_cmpuint(PVX_PRUNER_CLASS_MIN_SIZE, ==, 32);
    g_assert_cmpuint(PVX_EXPLAINER_CLASS_MIN_SIZE, ==, 32);
    g_assert_cmpuint(PVX_METRIC_CLASS_MIN_SIZE, ==, 32);
    /* and the loader's one table of required slots agrees with the macros */
    g_assert_cmpuint(pvx_registry_min_table_size(PVX_KIND_DATASET), ==, PVX_DATASET_CLASS_MIN_SIZE);
    g_assert_cmpuint(pvx_registry_min_table_size(PVX_KIND_MODEL), ==, PVX_MODEL_CLASS_MIN_SIZE);
    g_assert_cmpuint(pvx_registry_min_table_size(PVX_KIND_PRUNER), ==, PVX_PRUNER_CLASS_MIN_SIZE);
    g_assert_cmpuint(pvx_registry_min_table_size(PVX_KIND_EXPLAINER), ==,
                     PVX_EXPLAINER_CLASS_MIN_SIZE);
    g_assert_cmpuint(pvx_registry_min_table_size(PVX_KIND_METRIC), ==, PVX_METRIC_CLASS_MIN_SIZE);
#else
    g_test_skip("the pinned layout is x86-64's");
#endif
}

static void abi_enums_are_pinned(void)
{
    /* Values a plugin compiles in: append-only. */
    g_assert_cmpint(PVX_ABI_MAJOR, ==, 1);
    g_assert_cmpint(PVX_ABI_MINOR, ==, 2);
    g_assert_cmpuint(PVX_PLUGIN_MAGIC, ==, 0x31585650u);
    g_assert_cmpint(PVX_KIND_DATASET, ==, 1);
    g_assert_cmpint(PVX_KIND_MODEL, ==, 2);
    g_assert_cmpint(PVX_KIND_PRUNER, ==, 3);
    g_assert_cmpint(PVX_KIND_EXPLAINER, ==, 4);
    g_assert_cmpint(PVX_KIND_METRIC, ==, 5);
    g_assert_cmpint(PVX_PARAM_BOOL, ==, 1);
    g_assert_cmpint(PVX_PARAM_PATH, ==, 9);
    g_assert_cmpint(PVX_SPLIT_TRAIN, ==, 0);
    g_assert_cmpint(PVX_SPLIT_TEST, ==, 2);
    g_assert_cmpint(PVX_PRUNE_SCOPE_LOCAL, ==, 0);
    g_assert_cmpint(PVX_PRUNE_SCOPE_GLOBAL, ==, 1);
    g_assert_cmpint(PVX_LAYER_CONV2D, ==, 1);
    g_assert_cmpint(PVX_LAYER_FLATTEN, ==, 8);
    g_assert_cmpint(PVX_LAYER_ADD, ==, 9);
    g_assert_cmpint(PVX_LAYER_STOCHASTIC_DEPTH, ==, 18);
    /* The stride the core assumes for a 1.0 plugin's spec table. */
    g_assert_cmpuint(PVX_PARAM_SPEC_SIZE_1_0, ==, 64);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/abi/struct_layout_is_pinned", abi_struct_layout_is_pinned);
    g_test_add_func("/abi/minimum_table_sizes_are_pinned", abi_minimum_table_sizes_are_pinned);
    g_test_add_func("/abi/enums_are_pinned", abi_enums_are_pinned);
    return g_test_run();
}
