/* The fusion planner (core/nn/fusion.c) on its own: which layers a forward and a backward fuse,
 * and which kernel each runs. The whole-model results of the plans are pinned by the nn and
 * nn-torch tests; this pins the decisions. */
#include <string.h>

#include "fusion_private.h"

enum { C = PVX_LAYER_CONV2D, L = PVX_LAYER_LINEAR, R = PVX_LAYER_RELU, P = PVX_LAYER_MAXPOOL2D };
enum { A = PVX_LAYER_ADAPTIVE_AVGPOOL2D, D = PVX_LAYER_DROPOUT, B = PVX_LAYER_BATCHNORM2D };
enum { F = PVX_LAYER_FLATTEN };

/* Layers of the given types, untapped, dense, inputs kept, parameters where the type has them. */
static PvxFusionLayer *layers_of(const int *types, int n)
{
    PvxFusionLayer *l = g_new0(PvxFusionLayer, n);
    for (int i = 0; i < n; i++) {
        l[i].type = (PvxLayerType)types[i];
        l[i].has_params = types[i] == C || types[i] == L || types[i] == B;
        l[i].input_kept = TRUE;
    }
    return l;
}

/* The plan's kernels as "name name ...", fused partners as "name>j". */
static char *plan_string(const PvxFusionStep *plan, int n)
{
    GString *s = g_string_new(NULL);
    for (int i = 0; i < n; i++) {
        if (i > 0)
            g_string_append_c(s, ' ');
        g_string_append(s, pvx_fusion_kernel_name(plan[i].kernel));
        if (plan[i].fused_with >= 0)
            g_string_append_printf(s, ">%d", plan[i].fused_with);
    }
    return g_string_free(s, FALSE);
}

static char *forward_plan(const PvxFusionLayer *l, int n)
{
    g_autofree PvxFusionStep *plan = g_new0(PvxFusionStep, n);
    pvx_fusion_plan_forward(l, n, plan);
    return plan_string(plan, n);
}

static const int vgg_block[] = {C, R, C, R, P, C, R, P, A, F, L, R, D, L};
#define VGG_N ((int)G_N_ELEMENTS(vgg_block))

static void forward_fuses_conv_with_untapped_relu(void)
{
    g_autofree PvxFusionLayer *l = layers_of(vgg_block, VGG_N);
    g_autofree char *s = forward_plan(l, VGG_N);
    /* linear + ReLU has no fused kernel; dropout outside training passes its input on */
    g_assert_cmpstr(s, ==,
                    "conv+relu>1 identity>0 conv+relu>3 identity>2 own conv+relu>6 identity>5 own "
                    "own own own own identity own");
}

static void forward_does_not_fuse_a_tapped_relu_or_conv(void)
{
    g_autofree PvxFusionLayer *l = layers_of(vgg_block, VGG_N);
    l[1].tapped = TRUE; /* the ReLU's tap wants its own output */
    l[2].tapped = TRUE; /* the conv's tap wants the conv's output, not the ReLU's */
    g_autofree char *s = forward_plan(l, VGG_N);
    g_assert_cmpstr(s, ==,
                    "own own own own own conv+relu>6 identity>5 own own own own own identity own");
}

static void forward_runs_sparse_layers_unfused(void)
{
    g_autofree PvxFusionLayer *l = layers_of(vgg_block, VGG_N);
    l[0].sparse = TRUE;
    l[10].sparse = TRUE;
    l[12].drops = TRUE; /* TRAIN: dropout draws its mask */
    g_autofree char *s = forward_plan(l, VGG_N);
    g_assert_cmpstr(
        s, ==,
        "sparse own conv+relu>3 identity>2 own conv+relu>6 identity>5 own own own sparse "
        "own own own");
}

static void forward_fuses_nothing_into_a_last_conv(void)
{
    static const int t[] = {R, C};
    g_autofree PvxFusionLayer *l = layers_of(t, 2);
    g_autofree char *s = forward_plan(l, 2);
    g_assert_cmpstr(s, ==, "own own");
}

static char *backward_plan(const PvxFusionLayer *l, int n, gboolean param_grads,
                           gboolean input_grad, int *lowest, char **wants)
{
    g_autofree PvxFusionStep *plan = g_new0(PvxFusionStep, n);
    *lowest = pvx_fusion_plan_backward(l, n, param_grads, input_grad, plan);
    GString *w = g_string_new(NULL);
    for (int i = 0; i < n; i++)
        g_string_append_c(w, plan[i].want_dx ? (plan[i].param_grads ? 'B' : 'd')
                                             : (plan[i].param_grads ? 'p' : '-'));
    *wants = g_string_free(w, FALSE);
    return plan_string(plan, n);
}

static void backward_folds_relu_into_conv_and_pool(void)
{
    g_autofree PvxFusionLayer *l = layers_of(vgg_block, VGG_N);
    int lowest;
    g_autofree char *wants = NULL;
    g_autofree char *s = backward_plan(l, VGG_N, TRUE, FALSE, &lowest, &wants);
    g_assert_cmpint(lowest, ==, 0);
    /* The first conv's input gradient is not wanted: no ReLU of its to fold, and nothing below. */
    g_assert_cmpstr(s, ==,
                    "own identity>2 conv+relu>1 identity>4 maxpool+relu(out)>3 own identity>7 "
                    "maxpool+relu(out)>6 own own own own identity own");
    g_assert_cmpstr(wants, ==, "pdBddBddddBddB");
}

static void backward_keeps_a_tapped_relu_on_its_own(void)
{
    g_autofree PvxFusionLayer *l = layers_of(vgg_block, VGG_N);
    l[3].tapped = TRUE; /* its tap wants the gradient before the ReLU */
    int lowest;
    g_autofree char *wants = NULL;
    g_autofree char *s = backward_plan(l, VGG_N, TRUE, TRUE, &lowest, &wants);
    g_assert_cmpint(lowest, ==, -1);
    g_assert_cmpstr(s, ==,
                    "own identity>2 conv+relu>1 own own own identity>7 maxpool+relu(out)>6 own own "
                    "own own identity own");
    g_assert_cmpstr(wants, ==, "BdBddBddddBddB");
}

static void backward_pool_gate_from_output_only_when_kept(void)
{
    static const int t[] = {C, R, P, R, P};
    g_autofree PvxFusionLayer *l = layers_of(t, 5);
    int lowest;
    g_autofree char *wants = NULL;
    /* The last pool has no next layer whose input is its output: the gate comes from its input. */
    g_autofree char *s = backward_plan(l, 5, FALSE, TRUE, &lowest, &wants);
    g_assert_cmpint(lowest, ==, -1);
    g_assert_cmpstr(s, ==, "own identity>2 maxpool+relu(out)>1 identity>4 maxpool+relu(in)>3");
    l[3].input_kept = FALSE;
    g_free(s);
    g_free(wants);
    s = backward_plan(l, 5, FALSE, TRUE, &lowest, &wants);
    g_assert_cmpstr(s, ==, "own identity>2 maxpool+relu(in)>1 identity>4 maxpool+relu(in)>3");
}

static void backward_stops_at_the_lowest_wanted_gradient(void)
{
    g_autofree PvxFusionLayer *l = layers_of(vgg_block, VGG_N);
    l[6].tapped = TRUE;
    l[12].drops = TRUE;
    int lowest;
    g_autofree char *wants = NULL;
    /* A tap alone (a CAM): down to the tapped ReLU. The pool above it runs its own backward (the
     * tap wants the gradient before the ReLU), and the ReLU, whose input gradient nobody wants,
     * runs nothing. */
    g_autofree char *s = backward_plan(l, VGG_N, FALSE, FALSE, &lowest, &wants);
    g_assert_cmpint(lowest, ==, 6);
    g_assert_cmpstr(s, ==, "own own own own own own own own own own own own own own");
    g_assert_cmpstr(wants, ==, "-------ddddddd");
    /* Nothing wanted at all: nothing visited. */
    l[6].tapped = FALSE;
    g_free(s);
    g_free(wants);
    s = backward_plan(l, VGG_N, FALSE, FALSE, &lowest, &wants);
    g_assert_cmpint(lowest, ==, VGG_N);
    g_assert_cmpstr(wants, ==, "--------------");
}

static void backward_passes_gradient_through_unmasked_dropout(void)
{
    static const int t[] = {L, R, D, L};
    g_autofree PvxFusionLayer *l = layers_of(t, 4);
    int lowest;
    g_autofree char *wants = NULL;
    g_autofree char *s = backward_plan(l, 4, TRUE, TRUE, &lowest, &wants);
    g_assert_cmpstr(s, ==, "own own identity own"); /* no fused linear + ReLU backward */
    l[2].drops = TRUE;
    g_free(s);
    g_free(wants);
    s = backward_plan(l, 4, TRUE, TRUE, &lowest, &wants);
    g_assert_cmpstr(s, ==, "own own own own");
    g_assert_cmpstr(wants, ==, "BddB");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nn/fusion/forward-fuses-conv-with-untapped-relu",
                    forward_fuses_conv_with_untapped_relu);
    g_test_add_func("/nn/fusion/forward-does-not-fuse-a-tapped-relu-or-conv",
                    forward_does_not_fuse_a_tapped_relu_or_conv);
    g_test_add_func("/nn/fusion/forward-runs-sparse-layers-unfused",
                    forward_runs_sparse_layers_unfused);
    g_test_add_func("/nn/fusion/forward-fuses-nothing-into-a-last-conv",
                    forward_fuses_nothing_into_a_last_conv);
    g_test_add_func("/nn/fusion/backward-folds-relu-into-conv-and-pool",
                    backward_folds_relu_into_conv_and_pool);
    g_test_add_func("/nn/fusion/backward-keeps-a-tapped-relu-on-its-own",
                    backward_keeps_a_tapped_relu_on_its_own);
    g_test_add_func("/nn/fusion/backward-pool-gate-from-output-only-when-kept",
                    backward_pool_gate_from_output_only_when_kept);
    g_test_add_func("/nn/fusion/backward-stops-at-the-lowest-wanted-gradient",
                    backward_stops_at_the_lowest_wanted_gradient);
    g_test_add_func("/nn/fusion/backward-passes-gradient-through-unmasked-dropout",
                    backward_passes_gradient_through_unmasked_dropout);
    return g_test_run();
}
