/* Models as graphs: the kitchen-sink graph of graph_reference.py against PyTorch (when run with
 * argv[1] = python3, argv[2] = the script), and without PyTorch: running order, the graph's
 * errors, joins' shape errors, aliases, forward from a layer, stochastic depth, finite
 * differences through every layer type. Criterion against PyTorch as tests/nn/test_nn_torch.c:
 * max |pvx - torch| / max(|torch|, 1e-2 · max|torch|) <= 1e-4, the reference in float64. */
#include <glib/gstdio.h>

#include "nn_test_util.h"

static const char *python, *script;

/* The graph of graph_reference.py with stochastic depth probability @sd_p. */
static PvxModel *kitchen_sink(double sd_p)
{
    PvxModel *m = pvx_model_new("kitchen-sink");
    PvxConv2dParams p1 = {.pad_h = 1, .pad_w = 1};
    PvxConv2dParams dil = {.pad_h = 2, .pad_w = 2, .dilation_h = 2, .dilation_w = 2};
    PvxConv2dParams s2 = {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1};
    pvx_model_add_conv2d_full(m, "stem.conv", 3, 8, 3, 3, &p1, 1, FALSE);
    pvx_model_add_batchnorm2d(m, "stem.bn", 8);
    pvx_model_add_activation(m, "stem.relu", PVX_LAYER_RELU);
    pvx_model_add_conv2d_full(m, "b1.conv1", 8, 8, 3, 3, &dil, 1, FALSE);
    pvx_model_add_batchnorm2d(m, "b1.bn1", 8);
    pvx_model_add_activation(m, "b1.act1", PVX_LAYER_RELU6);
    pvx_model_add_conv2d_full(m, "b1.conv2", 8, 16, 3, 3, &p1, 8, TRUE);
    pvx_model_add_activation(m, "b1.act2", PVX_LAYER_HARDSWISH);
    pvx_model_add_conv2d_full(m, "b1.conv3", 16, 8, 1, 1, NULL, 2, FALSE);
    pvx_model_add_batchnorm2d(m, "b1.bn3", 8);
    pvx_model_add_add(m, "b1.add", (const char *[]){"b1.bn3", "stem.relu", NULL});
    pvx_model_add_activation(m, "b1.relu", PVX_LAYER_RELU);
    pvx_model_add_adaptive_avgpool2d(m, "se.pool", 1, 1);
    pvx_model_add_conv2d_full(m, "se.fc1", 8, 4, 1, 1, NULL, 1, TRUE);
    pvx_model_add_activation(m, "se.act", PVX_LAYER_SILU);
    pvx_model_add_conv2d_full(m, "se.fc2", 4, 8, 1, 1, NULL, 1, TRUE);
    pvx_model_add_activation(m, "se.gate", PVX_LAYER_HARDSIGMOID);
    pvx_model_add_mul(m, "se.mul", "b1.relu", "se.gate");
    pvx_model_add_conv2d_full(m, "br.a", 8, 4, 3, 3, &s2, 1, TRUE);
    pvx_model_add_activation(m, "br.a_act", PVX_LAYER_SIGMOID);
    pvx_model_add_maxpool2d(m, "br.b", 2, 2);
    g_assert_true(pvx_model_set_inputs(m, "br.b", (const char *[]){"se.mul", NULL}, NULL));
    pvx_model_add_concat(m, "cat", (const char *[]){"br.a_act", "br.b", NULL});
    pvx_model_add_stochastic_depth(m, "sd", sd_p);
    pvx_model_add_activation(m, "id", PVX_LAYER_IDENTITY);
    pvx_model_add_adaptive_avgpool2d(m, "head.pool", 2, 2);
    pvx_model_add_flatten(m, "flatten");
    pvx_model_add_linear(m, "fc", 48, 5, TRUE);
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_model_check_graph(m, &error));
    g_assert_no_error(error);
    return m;
}

static PvxTensor *ref(PvxStore *s, const char *path)
{
    g_autoptr(GError) error = NULL;
    PvxTensor *t = pvx_store_read_tensor(s, path, &error);
    g_assert_no_error(error);
    return t;
}

static void expect_ref(PvxStore *s, const char *path, const PvxTensor *got)
{
    g_autoptr(PvxTensor) r = ref(s, path);
    nn_test_expect_close(path, got, r);
}

static void check_mode(PvxStore *s, const char *mode)
{
    gboolean train = strcmp(mode, "train") == 0;
    g_autoptr(PvxModel) m = kitchen_sink(train ? 0.0 : 0.3);
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_model_load_weights(m, s, "/weights", &error));
    g_assert_no_error(error);
    static const char *const taps[] = {"b1.add", "se.mul", "cat", "b1.conv2", NULL};
    for (const char *const *t = taps; *t && !train; t++)
        g_assert_true(pvx_model_tap(m, *t, NULL));
    g_autoptr(PvxTensor) x = ref(s, "/x");
    g_autoptr(PvxTensor) dy = ref(s, "/dy");
    g_autoptr(PvxTensor) y =
        pvx_model_forward(m, x, train ? PVX_FORWARD_TRAIN : PVX_FORWARD_EXPLAIN, &error);
    g_assert_no_error(error);
    g_autofree char *lp = g_strdup_printf("/%s/logits", mode);
    expect_ref(s, lp, y);
    pvx_model_zero_grad(m);
    g_autoptr(PvxTensor) dx = NULL;
    g_assert_true(pvx_model_backward(m, dy, TRUE, &dx, &error));
    g_assert_no_error(error);
    g_autofree char *dp = g_strdup_printf("/%s/dx", mode);
    expect_ref(s, dp, dx);
    for (int i = 0; i < pvx_model_n_layers(m); i++) {
        PvxLayer *l = pvx_model_layer(m, i);
        PvxTensor *const ts[4] = {l->weight_grad, l->bias_grad, l->running_mean, l->running_var};
        static const char *const what[4] = {"weight", "bias", "running_mean", "running_var"};
        for (int k = 0; k < 4; k++) {
            if (!ts[k] || (k >= 2 && !train))
                continue;
            g_autofree char *path =
                g_strdup_printf("/%s/%s/%s.%s", mode, k < 2 ? "grad" : "running", l->name, what[k]);
            expect_ref(s, path, ts[k]);
        }
    }
    for (const char *const *t = taps; *t && !train; t++) {
        g_autofree char *a = g_strdup_printf("/eval/tap/%s/act", *t);
        g_autofree char *g = g_strdup_printf("/eval/tap/%s/grad", *t);
        expect_ref(s, a, pvx_model_tap_activation(m, *t));
        expect_ref(s, g, pvx_model_tap_gradient(m, *t));
    }
    /* An inference forward (pooled buffers, in-place ops) gives the same logits. */
    if (!train) {
        g_autoptr(PvxTensor) yi = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, &error);
        g_assert_no_error(error);
        expect_ref(s, lp, yi);
    }
}

static void graph_matches_torch(void)
{
    if (!python) {
        g_test_skip("run with python3 and graph_reference.py");
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("pvx-graph-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "ref.h5", NULL);
    g_autofree char *cmd = g_strdup_printf("%s %s %s", python, script, file);
    int status = system(cmd);
    g_assert_cmpint(status, ==, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) s = pvx_store_open(file, FALSE, &error);
    g_assert_no_error(error);
    check_mode(s, "eval");
    check_mode(s, "train");
    g_remove(file);
    g_rmdir(dir);
}

static void graph_errors_name_layers_and_shapes(void)
{
    g_autoptr(GError) error = NULL;
    /* An unknown input. */
    g_autoptr(PvxModel) a = pvx_model_new("a");
    pvx_model_add_conv2d(a, "c1", 3, 4, 3, 1, 1, FALSE);
    pvx_model_add_add(a, "join", (const char *[]){"c1", "c9", NULL});
    g_assert_false(pvx_model_check_graph(a, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "layer join reads 'c9'"));
    g_clear_error(&error);
    /* The same error from a forward, and nothing runs. */
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)1, (int64_t)3, (int64_t)8, (int64_t)8);
    g_assert_null(pvx_model_forward(a, x, PVX_FORWARD_INFERENCE, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_clear_error(&error);
    /* A cycle. */
    g_autoptr(PvxModel) b = pvx_model_new("b");
    pvx_model_add_conv2d(b, "c1", 3, 3, 3, 1, 1, FALSE);
    pvx_model_add_relu(b, "r1");
    pvx_model_add_conv2d(b, "c2", 3, 3, 3, 1, 1, FALSE);
    g_assert_true(pvx_model_set_inputs(b, "c1", (const char *[]){"c2", NULL}, &error));
    g_assert_false(pvx_model_check_graph(b, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "c1, r1, c2 read each other in a cycle"));
    g_clear_error(&error);
    /* A layer that feeds nothing. */
    g_autoptr(PvxModel) c = pvx_model_new("c");
    pvx_model_add_conv2d(c, "c1", 3, 3, 3, 1, 1, FALSE);
    pvx_model_add_relu(c, "dead");
    pvx_model_add_conv2d(c, "c2", 3, 3, 3, 1, 1, FALSE);
    g_assert_true(pvx_model_set_inputs(c, "c2", (const char *[]){"c1", NULL}, &error));
    g_assert_false(pvx_model_check_graph(c, &error));
    g_assert_nonnull(strstr(error->message, "the output of layer dead reaches no layer"));
    g_clear_error(&error);
    /* Shapes that do not meet at a join: both layers and both shapes. */
    g_autoptr(PvxModel) d = pvx_model_new("d");
    pvx_model_add_conv2d(d, "c1", 3, 4, 3, 1, 1, FALSE);
    pvx_model_add_conv2d(d, "c2", 4, 4, 3, 2, 1, FALSE);
    pvx_model_add_add(d, "join", (const char *[]){"c1", "c2", NULL});
    g_assert_true(pvx_model_check_graph(d, &error));
    const int64_t chw[3] = {3, 8, 8};
    g_assert_false(pvx_model_check_input(d, chw, NULL, NULL, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_assert_cmpstr(error->message, ==,
                    "layer join (add) cannot join c1 of shape [1, 4, 8, 8] and c2 of shape "
                    "[1, 4, 4, 4]: an add needs equal shapes");
    g_clear_error(&error);
    g_assert_null(pvx_model_forward(d, x, PVX_FORWARD_EXPLAIN, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_SHAPE);
    g_clear_error(&error);
    /* Wrong input counts and alias clashes. */
    g_assert_false(pvx_model_set_inputs(d, "c1", (const char *[]){"c1", "c2", NULL}, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "reads 1 input; 2 given"));
    g_clear_error(&error);
    g_assert_false(pvx_model_add_alias(d, "c2", "c1", &error));
    g_assert_nonnull(strstr(error->message, "already a layer's name"));
    g_clear_error(&error);
    g_assert_false(pvx_model_add_alias(d, "block", "nope", &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND);
    g_clear_error(&error);
}

/* A layer may name a layer added after it: the running order follows the data. */
static void graph_running_order_follows_inputs(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = pvx_model_new("order");
    pvx_model_add_relu(m, "late");
    pvx_model_add_conv2d(m, "early", 2, 2, 1, 1, 0, TRUE);
    pvx_model_add_flatten(m, "flat");
    g_assert_true(pvx_model_set_inputs(m, "late", (const char *[]){"early", NULL}, &error));
    g_assert_true(
        pvx_model_set_inputs(m, "early", (const char *[]){PVX_MODEL_INPUT, NULL}, &error));
    g_assert_true(pvx_model_set_inputs(m, "flat", (const char *[]){"late", NULL}, &error));
    g_assert_true(pvx_model_check_graph(m, &error));
    g_assert_cmpstr(pvx_model_layer(m, 0)->name, ==, "early");
    g_assert_cmpstr(pvx_model_layer(m, 1)->name, ==, "late");
    g_assert_cmpint(pvx_model_layer_index(m, "flat"), ==, 2);
    g_autoptr(GPtrArray) c = pvx_model_consumers(m, "early");
    g_assert_cmpuint(c->len, ==, 1);
    g_assert_cmpstr(((PvxLayer *)c->pdata[0])->name, ==, "late");
    /* Aliases are found everywhere a name is. */
    g_assert_true(pvx_model_add_alias(m, "block", "late", &error));
    g_assert_true(pvx_model_find_layer(m, "block", NULL) == pvx_model_layer(m, 1));
    g_assert_true(pvx_model_tap(m, "block", &error));
    PvxLayer *early = pvx_model_layer(m, 0);
    pvx_tensor_fill(early->weight, -1.0f);
    early->weight->data[0] = 2.0f;
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)1, (int64_t)2, (int64_t)1, (int64_t)2);
    for (int i = 0; i < 4; i++)
        x->data[i] = (float)(i + 1);
    g_autoptr(PvxTensor) y = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, &error);
    g_assert_no_error(error);
    /* early: out0 = 2 x0 - x1, out1 = -x0 - x1 (bias 0); late: relu. x0 = (1, 2), x1 = (3, 4):
     * out0 = (-1, 0), out1 = (-4, -6), all cut to 0 but none above; make one positive. */
    g_assert_cmpfloat(y->data[0], ==, 0.0f);
    x->data[0] = 5.0f; /* out0[0] = 10 - 3 = 7 */
    g_autoptr(PvxTensor) y2 = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, &error);
    g_assert_cmpfloat(y2->data[0], ==, 7.0f);
    g_assert_cmpfloat(y2->data[2], ==, 0.0f);
    g_assert_nonnull(pvx_model_tap_activation(m, "block"));
}

/* Forward from a layer that cuts the graph equals the full forward; one inside a residual
 * block is refused, naming the layer that reads around it. */
static void graph_forward_from_needs_a_cut(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = kitchen_sink(0.3);
    pvx_model_init(m, 3);
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)2, (int64_t)3, (int64_t)12, (int64_t)12);
    PvxRng r;
    pvx_rng_init(&r, 9);
    for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
        x->data[i] = (float)pvx_rng_gaussian(&r);
    g_assert_true(pvx_model_tap(m, "b1.relu", &error));
    g_autoptr(PvxTensor) y = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, &error);
    g_autoptr(PvxTensor) act = pvx_tensor_copy(pvx_model_tap_activation(m, "b1.relu"));
    g_autoptr(PvxTensor) y2 = pvx_model_forward_from(m, "b1.relu", act, &error);
    g_assert_no_error(error);
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(y2, y, 1e-6), ==, 0.0);
    g_assert_null(pvx_model_forward_from(m, "b1.bn1", act, &error));
    g_assert_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "layer b1.add after it reads stem.relu"));
}

/* Stochastic depth in TRAIN keeps or drops whole samples, scaled by 1/(1-p); backward passes the
 * same factor; evaluation is the identity. */
static void graph_stochastic_depth_drops_rows(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = pvx_model_new("sd");
    pvx_model_add_stochastic_depth(m, "sd", 0.5);
    pvx_model_add_flatten(m, "flat");
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)64, (int64_t)2, (int64_t)2, (int64_t)2);
    pvx_tensor_fill(x, 1.0f);
    g_autoptr(PvxTensor) e = pvx_model_forward(m, x, PVX_FORWARD_EXPLAIN, &error);
    g_autoptr(PvxTensor) flat = pvx_tensor_reshape(x, 2, (int64_t[]){64, 8}, NULL);
    g_assert_cmpfloat(pvx_tensor_max_rel_diff(e, flat, 1), ==, 0);
    g_autoptr(PvxTensor) y = pvx_model_forward(m, x, PVX_FORWARD_TRAIN, &error);
    g_assert_no_error(error);
    g_autoptr(PvxTensor) dy = pvx_tensor_new_like(y);
    pvx_tensor_fill(dy, 1.0f);
    g_autoptr(PvxTensor) dx = NULL;
    g_assert_true(pvx_model_backward(m, dy, FALSE, &dx, &error));
    int kept = 0;
    for (int b = 0; b < 64; b++) {
        float v = y->data[b * 8];
        g_assert_true(v == 0.0f || v == 2.0f);
        kept += v != 0.0f;
        for (int i = 0; i < 8; i++) {
            g_assert_cmpfloat(y->data[b * 8 + i], ==, v);
            g_assert_cmpfloat(dx->data[b * 8 + i], ==, v);
        }
    }
    g_assert_cmpint(kept, >, 16);
    g_assert_cmpint(kept, <, 48);
}

/* dL/dx through every layer type against central differences (the PyTorch-free check). The
 * network has kinks (relu, relu6, hardswish, max-pool), and a step of float32 size crosses one
 * now and then: at most 1 in 20 coordinates may miss, every other must agree within 2 % of
 * max|dx|. */
static void graph_input_gradient_matches_finite_differences(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = kitchen_sink(0.3);
    pvx_model_init(m, 11);
    PvxLayer *fc = pvx_model_find_layer(m, "fc", NULL);
    for (int64_t k = 0; k < pvx_tensor_numel(fc->weight); k++)
        fc->weight->data[k] *= 30.0f;
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)2, (int64_t)3, (int64_t)12, (int64_t)12);
    PvxRng r;
    pvx_rng_init(&r, 5);
    for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
        x->data[i] = (float)(2.0 * pvx_rng_uniform(&r) - 1.0);
    g_autoptr(PvxTensor) y = pvx_model_forward(m, x, PVX_FORWARD_EXPLAIN, &error);
    g_assert_no_error(error);
    g_autoptr(PvxTensor) dy = pvx_tensor_new_like(y);
    for (int64_t i = 0; i < pvx_tensor_numel(dy); i++)
        dy->data[i] = (float)(i % 3) - 0.7f;
    g_autoptr(PvxTensor) dx = NULL;
    g_assert_true(pvx_model_backward(m, dy, FALSE, &dx, &error));
    double scale = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
        scale = fmax(scale, fabs(dx->data[i]));
    int misses = 0, tried = 0;
    double worst = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(x); i += 5) {
        float keep = x->data[i];
        double f[2];
        for (int s = 0; s < 2; s++) {
            x->data[i] = keep + (s ? 1e-3f : -1e-3f);
            g_autoptr(PvxTensor) yy = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, NULL);
            f[s] = 0.0;
            for (int64_t k = 0; k < pvx_tensor_numel(yy); k++)
                f[s] += (double)dy->data[k] * yy->data[k];
        }
        x->data[i] = keep;
        double diff = fabs((f[1] - f[0]) / 2e-3 - dx->data[i]);
        worst = fmax(worst, diff);
        misses += diff > 2e-2 * scale;
        tried++;
    }
    g_test_message("finite differences: %d of %d beyond 2%% of max|dx| %.3g (worst %.3g)", misses,
                   tried, scale, worst);
    g_assert_cmpfloat(scale, >, 0.0);
    g_assert_cmpint(misses * 20, <=, tried);
}

/* Sparse kernels take every pruned conv of the graph (grouped and 1x1 included; depthwise ones
 * stay dense by the cost rule under AUTO but run sparse under ON) with the dense results. */
static void graph_sparse_kernels_match_dense(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxModel) m = kitchen_sink(0.3);
    pvx_model_init(m, 21);
    for (int i = 0; i < pvx_model_n_layers(m); i++) {
        PvxLayer *l = pvx_model_layer(m, i);
        if (l->type != PVX_LAYER_CONV2D && l->type != PVX_LAYER_LINEAR)
            continue;
        g_autoptr(PvxTensor) mask = pvx_tensor_new_like(l->weight);
        for (int64_t k = 0; k < pvx_tensor_numel(mask); k++)
            mask->data[k] = (k * 7919) % 10 < 3; /* 30 % kept */
        g_assert_true(pvx_model_set_mask(m, l->name, mask, &error));
    }
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)2, (int64_t)3, (int64_t)12, (int64_t)12);
    PvxRng r;
    pvx_rng_init(&r, 2);
    for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
        x->data[i] = (float)pvx_rng_gaussian(&r);
    pvx_model_set_sparse_mode(m, PVX_SPARSE_OFF);
    g_autoptr(PvxTensor) dense = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, &error);
    pvx_model_set_sparse_mode(m, PVX_SPARSE_ON);
    g_autoptr(PvxTensor) sparse = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, &error);
    g_assert_no_error(error);
    static const char *const convs[] = {"b1.conv2", "b1.conv3", "se.fc1", "br.a", "fc", NULL};
    for (const char *const *c = convs; *c; c++)
        g_assert_true(pvx_model_layer_ran_sparse(m, *c));
    nn_test_expect_close("sparse logits", sparse, dense);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc >= 3) {
        python = argv[1];
        script = argv[2];
    }
    g_test_add_func("/graph/matches_torch", graph_matches_torch);
    g_test_add_func("/graph/errors_name_layers_and_shapes", graph_errors_name_layers_and_shapes);
    g_test_add_func("/graph/running_order_follows_inputs", graph_running_order_follows_inputs);
    g_test_add_func("/graph/forward_from_needs_a_cut", graph_forward_from_needs_a_cut);
    g_test_add_func("/graph/stochastic_depth_drops_rows", graph_stochastic_depth_drops_rows);
    g_test_add_func("/graph/input_gradient_matches_finite_differences",
                    graph_input_gradient_matches_finite_differences);
    g_test_add_func("/graph/sparse_kernels_match_dense", graph_sparse_kernels_match_dense);
    return g_test_run();
}
