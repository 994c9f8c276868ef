/* Every op against PyTorch: runs tests/ops/ops_reference.py (argv[1] = python3, argv[2] = the
 * script) into a temporary directory, then runs pvx's forward and backward on the same inputs
 * and compares outputs and input/weight/bias gradients.
 *
 * Criterion: max over elements of |pvx - torch| / max(|torch|, floor) ≤ 1e-4, with
 * floor = 1e-2 · max|torch| of that tensor. The reference is computed in float64 by PyTorch
 * (see the script), so this bounds pvx's own float32 error. Why the floor: an element that is a
 * sum of many terms of both signs (a conv output, a gradient) can end up near zero; its float32
 * rounding error is set by the size of the terms (about sqrt(K) · 2^-24 · |term| for a length-K
 * reduction), not by the small result, so its relative error says nothing. Why 1e-2 and not
 * 1e-3: PyTorch's own float32 conv2d, measured against its float64 on these shapes, reaches
 * 2e-4 (y, dx) and 6e-4 (dw) with a 1e-3 floor, so that floor would reject PyTorch itself; with
 * 1e-2 it is within 3e-5 (y, dx). A wrong element is off by O(max|torch|) and still fails by
 * orders of magnitude. Max-pool indices must match exactly. The activations' cases hold each kink
 * (relu6's 0 and 6, the hard ones' -3 and 3) exactly, so their gradients there must be PyTorch's
 * own choice, not merely close. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "pvx-private/core.h"

#define MAX_REL 1e-4
#define FLOOR_FRACTION 1e-2

static char *ref_dir;

typedef struct {
    char *name;
    char *op;
    GHashTable *params;  /* key → value string */
    GHashTable *tensors; /* role → PvxTensor */
} Case;

static void case_free(gpointer p)
{
    Case *c = p;
    g_free(c->name);
    g_free(c->op);
    g_hash_table_unref(c->params);
    g_hash_table_unref(c->tensors);
    g_free(c);
}

static double param(const Case *c, const char *key)
{
    const char *v = g_hash_table_lookup(c->params, key);
    if (v == NULL)
        g_error("case %s: parameter %s missing", c->name, key);
    return g_ascii_strtod(v, NULL);
}

static PvxTensor *get(const Case *c, const char *role)
{
    PvxTensor *t = g_hash_table_lookup(c->tensors, role);
    if (t == NULL)
        g_error("case %s: tensor %s missing", c->name, role);
    return t;
}

static void expect_close(const Case *c, const char *role, const PvxTensor *got)
{
    const PvxTensor *ref = get(c, role);
    g_assert_nonnull(got);
    if (!pvx_tensor_same_shape(got, ref)) {
        g_autofree char *a = pvx_tensor_shape_string(got);
        g_autofree char *b = pvx_tensor_shape_string(ref);
        g_error("case %s: %s has shape %s, torch %s", c->name, role, a, b);
    }
    double mx = 0.0;
    for (int64_t i = 0; i < pvx_tensor_numel(ref); i++)
        mx = fmax(mx, fabs(ref->data[i]));
    double floor = mx > 0.0 ? FLOOR_FRACTION * mx : 1e-30;
    double err = pvx_tensor_max_rel_diff(got, ref, floor);
    g_test_message("%s %s: max rel error %.2e (max|ref| %.3g)", c->name, role, err, mx);
    if (!(err <= MAX_REL))
        g_error("case %s: %s max relative error %.3e > %.0e (PVX_CONV_ALGO=%s)", c->name, role, err,
                MAX_REL, g_getenv("PVX_CONV_ALGO") ? g_getenv("PVX_CONV_ALGO") : "unset");
}

static void run_conv2d_once(const Case *c)
{
    PvxConv2dParams p = {(int)param(c, "stride_h"), (int)param(c, "stride_w"),
                         (int)param(c, "pad_h"),    (int)param(c, "pad_w"),
                         (int)param(c, "dil_h"),    (int)param(c, "dil_w")};
    gboolean bias = param(c, "bias") != 0.0;
    PvxTensor *x = get(c, "x"), *w = get(c, "w"), *b = bias ? get(c, "b") : NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) y = pvx_conv2d_forward(x, w, b, &p, NULL, &error);
    g_assert_no_error(error);
    expect_close(c, "y", y);
    g_autoptr(PvxTensor) dx = NULL;
    g_autoptr(PvxTensor) dw = pvx_tensor_new_like(w);
    g_autoptr(PvxTensor) db = bias ? pvx_tensor_new_like(b) : NULL;
    g_assert_true(pvx_conv2d_backward(x, w, get(c, "dy"), &p, &dx, dw, db, &error));
    expect_close(c, "dx", dx);
    expect_close(c, "dw", dw);
    if (bias)
        expect_close(c, "db", db);
    /* Input gradient alone (what explanation asks for) gives the same numbers. */
    g_autoptr(PvxTensor) dx_only = NULL;
    g_assert_true(pvx_conv2d_backward(x, w, get(c, "dy"), &p, &dx_only, NULL, NULL, &error));
    expect_close(c, "dx", dx_only);
}

/* Every conv case under each algorithm (im2col falls back for what Winograd cannot run, so
 * the forced runs cover both paths), then under the automatic choice. */
static void run_conv2d(const Case *c)
{
    const char *algos[] = {"im2col", "winograd", "auto"};
    for (guint a = 0; a < G_N_ELEMENTS(algos); a++) {
        g_test_message("PVX_CONV_ALGO=%s", algos[a]);
        g_setenv("PVX_CONV_ALGO", algos[a], TRUE);
        run_conv2d_once(c);
    }
    g_unsetenv("PVX_CONV_ALGO");
}

/* Grouped and depthwise cases: the grouped entry points, all gradients, then the input
 * gradient alone and the weight gradient alone (the depthwise kernels run them separately). */
static void run_conv2d_grouped(const Case *c)
{
    PvxConv2dParams p = {(int)param(c, "stride_h"), (int)param(c, "stride_w"),
                         (int)param(c, "pad_h"),    (int)param(c, "pad_w"),
                         (int)param(c, "dil_h"),    (int)param(c, "dil_w")};
    int groups = (int)param(c, "groups");
    gboolean bias = param(c, "bias") != 0.0;
    PvxTensor *x = get(c, "x"), *w = get(c, "w"), *b = bias ? get(c, "b") : NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) y = pvx_conv2d_grouped_forward(x, w, b, &p, groups, NULL, &error);
    g_assert_no_error(error);
    expect_close(c, "y", y);
    g_autoptr(PvxTensor) dx = NULL;
    g_autoptr(PvxTensor) dw = pvx_tensor_new_like(w);
    g_autoptr(PvxTensor) db = bias ? pvx_tensor_new_like(b) : NULL;
    g_assert_true(pvx_conv2d_grouped_backward(x, w, get(c, "dy"), &p, groups, &dx, dw, db, &error));
    expect_close(c, "dx", dx);
    expect_close(c, "dw", dw);
    if (bias)
        expect_close(c, "db", db);
    g_autoptr(PvxTensor) dx_only = NULL;
    g_autoptr(PvxTensor) dw_only = pvx_tensor_new_like(w);
    g_assert_true(
        pvx_conv2d_grouped_backward(x, w, get(c, "dy"), &p, groups, &dx_only, NULL, NULL, &error));
    g_assert_true(
        pvx_conv2d_grouped_backward(x, w, get(c, "dy"), &p, groups, NULL, dw_only, NULL, &error));
    expect_close(c, "dx", dx_only);
    expect_close(c, "dw", dw_only);
}

static void run_channel_mul(const Case *c)
{
    PvxTensor *x = get(c, "x"), *s = get(c, "s");
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) y = pvx_channel_mul_forward(x, s, NULL, &error);
    g_assert_no_error(error);
    expect_close(c, "y", y);
    g_autoptr(PvxTensor) dx = NULL;
    g_autoptr(PvxTensor) ds = NULL;
    g_assert_true(pvx_channel_mul_backward(x, s, get(c, "dy"), &dx, &ds, &error));
    expect_close(c, "dx", dx);
    expect_close(c, "ds", ds);
}

/* The activation for an op name of the reference script, or 0. */
static PvxActivation activation_of(const char *op)
{
    static const struct {
        const char *name;
        PvxActivation act;
    } acts[] = {{"relu6", PVX_ACT_RELU6},
                {"sigmoid", PVX_ACT_SIGMOID},
                {"silu", PVX_ACT_SILU},
                {"hardsigmoid", PVX_ACT_HARDSIGMOID},
                {"hardswish", PVX_ACT_HARDSWISH}};
    for (guint i = 0; i < G_N_ELEMENTS(acts); i++)
        if (g_str_equal(op, acts[i].name))
            return acts[i].act;
    return 0;
}

static void run_linear(const Case *c)
{
    PvxTensor *x = get(c, "x"), *w = get(c, "w"), *b = get(c, "b");
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) y = pvx_linear_forward(x, w, b, NULL, &error);
    g_assert_no_error(error);
    expect_close(c, "y", y);
    g_autoptr(PvxTensor) dx = NULL;
    g_autoptr(PvxTensor) dw = pvx_tensor_new_like(w);
    g_autoptr(PvxTensor) db = pvx_tensor_new_like(b);
    g_assert_true(pvx_linear_backward(x, w, get(c, "dy"), &dx, dw, db, &error));
    expect_close(c, "dx", dx);
    expect_close(c, "dw", dw);
    expect_close(c, "db", db);
}

static void run_unary(const Case *c)
{
    PvxTensor *x = get(c, "x"), *dy = get(c, "dy");
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) y = NULL;
    g_autoptr(PvxTensor) dx = NULL;
    gboolean ok = FALSE;
    PvxActivation act = activation_of(c->op);
    if (act != 0) {
        y = pvx_activation_forward(act, x, NULL, &error);
        ok = y != NULL && pvx_activation_backward(act, x, dy, &dx, &error);
    } else if (g_str_equal(c->op, "relu")) {
        y = pvx_relu_forward(x, NULL, &error);
        ok = y != NULL && pvx_relu_backward(y, dy, &dx, &error);
    } else if (g_str_equal(c->op, "softmax")) {
        y = pvx_softmax_forward(x, NULL, &error);
        ok = y != NULL && pvx_softmax_backward(y, dy, &dx, &error);
    } else if (g_str_equal(c->op, "log_softmax")) {
        y = pvx_log_softmax_forward(x, NULL, &error);
        ok = y != NULL && pvx_log_softmax_backward(y, dy, &dx, &error);
    } else if (g_str_equal(c->op, "adaptive_avgpool2d")) {
        y = pvx_adaptive_avgpool2d_forward(x, (int)param(c, "oh"), (int)param(c, "ow"), NULL,
                                           &error);
        ok = y != NULL && pvx_adaptive_avgpool2d_backward(x, dy, &dx, &error);
    } else if (g_str_equal(c->op, "maxpool2d")) {
        PvxMaxPool2dParams p = {(int)param(c, "kh"), (int)param(c, "kw"), (int)param(c, "sh"),
                                (int)param(c, "sw"), (int)param(c, "ph"), (int)param(c, "pw")};
        g_autoptr(PvxIndices) ind = NULL;
        y = pvx_maxpool2d_forward(x, &p, NULL, &ind, &error);
        ok = y != NULL && pvx_maxpool2d_backward(x, ind, dy, &dx, &error);
        const PvxTensor *ref = get(c, "idx");
        g_assert_cmpint(ind->numel, ==, pvx_tensor_numel(ref));
        for (int64_t i = 0; i < ind->numel; i++)
            if (ind->data[i] != (int32_t)ref->data[i])
                g_error("case %s: max index %" G_GINT64_FORMAT " is %d, torch %d", c->name,
                        (gint64)i, ind->data[i], (int32_t)ref->data[i]);
    } else {
        g_error("case %s: unknown op %s", c->name, c->op);
    }
    g_assert_no_error(error);
    g_assert_true(ok);
    expect_close(c, "y", y);
    expect_close(c, "dx", dx);
}

static void run_batchnorm(const Case *c)
{
    PvxBatchNorm2dParams p = {param(c, "eps"), param(c, "momentum"), param(c, "training") != 0};
    PvxTensor *x = get(c, "x");
    g_autoptr(PvxTensor) rm = pvx_tensor_copy(get(c, "rm"));
    g_autoptr(PvxTensor) rv = pvx_tensor_copy(get(c, "rv"));
    g_autoptr(PvxTensor) sm = pvx_tensor_new_like(rm);
    g_autoptr(PvxTensor) si = pvx_tensor_new_like(rm);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) y =
        pvx_batchnorm2d_forward(x, get(c, "w"), get(c, "b"), rm, rv, &p, sm, si, NULL, &error);
    g_assert_no_error(error);
    expect_close(c, "y", y);
    expect_close(c, "rm_out", rm);
    expect_close(c, "rv_out", rv);
    g_autoptr(PvxTensor) dx = NULL;
    g_autoptr(PvxTensor) dw = pvx_tensor_new_like(rm);
    g_autoptr(PvxTensor) db = pvx_tensor_new_like(rm);
    g_assert_true(pvx_batchnorm2d_backward(x, get(c, "w"), rm, rv, sm, si, &p, get(c, "dy"), &dx,
                                           dw, db, &error));
    g_assert_no_error(error);
    expect_close(c, "dx", dx);
    expect_close(c, "dw", dw);
    expect_close(c, "db", db);
}

static void run_cross_entropy(const Case *c)
{
    PvxTensor *x = get(c, "x"), *t = get(c, "targets");
    g_autofree int64_t *targets = g_new(int64_t, pvx_tensor_numel(t));
    for (int64_t i = 0; i < pvx_tensor_numel(t); i++)
        targets[i] = (int64_t)t->data[i];
    double loss = 0.0;
    g_autoptr(GError) error = NULL;
    g_assert_true(pvx_cross_entropy_forward(x, targets, &loss, &error));
    g_autoptr(PvxTensor) l = pvx_tensor_new_shape(1, (int64_t)1);
    l->data[0] = (float)loss;
    expect_close(c, "loss", l);
    g_autoptr(PvxTensor) dx = NULL;
    g_assert_true(pvx_cross_entropy_backward(x, targets, 1.0, &dx, &error));
    expect_close(c, "dx", dx);
}

static void run_case(gconstpointer data)
{
    const Case *c = data;
    if (g_str_equal(c->op, "conv2d"))
        run_conv2d(c);
    else if (g_str_equal(c->op, "conv2d_grouped"))
        run_conv2d_grouped(c);
    else if (g_str_equal(c->op, "channel_mul"))
        run_channel_mul(c);
    else if (g_str_equal(c->op, "linear"))
        run_linear(c);
    else if (g_str_equal(c->op, "batchnorm2d"))
        run_batchnorm(c);
    else if (g_str_equal(c->op, "cross_entropy"))
        run_cross_entropy(c);
    else
        run_unary(c);
}

static PvxTensor *read_tensor(const char *name, const char *role, int ndim, const int64_t *shape)
{
    g_autofree char *file = g_strdup_printf("%s.%s.bin", name, role);
    g_autofree char *path = g_build_filename(ref_dir, file, NULL);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_autoptr(GError) error = NULL;
    if (!g_file_get_contents(path, &bytes, &len, &error))
        g_error("%s", error->message);
    PvxTensor *t = pvx_tensor_new(ndim, shape);
    if (len != (gsize)pvx_tensor_numel(t) * sizeof(float))
        g_error("%s: %zu bytes for %" G_GINT64_FORMAT " floats", path, (size_t)len,
                (gint64)pvx_tensor_numel(t));
    memcpy(t->data, bytes, len); /* little-endian float32, as on every machine pvx targets */
    return t;
}

static GPtrArray *load_cases(void)
{
    g_autofree char *path = g_build_filename(ref_dir, "manifest.txt", NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    if (!g_file_get_contents(path, &text, NULL, &error))
        g_error("%s", error->message);
    GPtrArray *cases = g_ptr_array_new_with_free_func(case_free);
    GHashTable *by_name = g_hash_table_new(g_str_hash, g_str_equal);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        g_auto(GStrv) f = g_strsplit(*l, " ", -1);
        guint nf = g_strv_length(f);
        if (nf >= 3 && g_str_equal(f[0], "case")) {
            Case *c = g_new0(Case, 1);
            c->name = g_strdup(f[1]);
            c->op = g_strdup(f[2]);
            c->params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
            c->tensors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify)pvx_tensor_unref);
            for (guint i = 3; i < nf; i++) {
                char *eq = strchr(f[i], '=');
                if (eq != NULL)
                    g_hash_table_insert(c->params, g_strndup(f[i], (gsize)(eq - f[i])),
                                        g_strdup(eq + 1));
            }
            g_ptr_array_add(cases, c);
            g_hash_table_insert(by_name, c->name, c);
        } else if (nf >= 4 && g_str_equal(f[0], "tensor")) {
            Case *c = g_hash_table_lookup(by_name, f[1]);
            int ndim = atoi(f[3]);
            g_assert_nonnull(c);
            g_assert_cmpuint(nf, ==, 4 + (guint)ndim);
            int64_t shape[PVX_TENSOR_MAX_DIMS];
            for (int d = 0; d < ndim; d++)
                shape[d] = g_ascii_strtoll(f[4 + d], NULL, 10);
            g_hash_table_insert(c->tensors, g_strdup(f[2]), read_tensor(f[1], f[2], ndim, shape));
        }
    }
    g_hash_table_unref(by_name);
    return cases;
}

static void remove_dir(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        g_unlink(p);
    }
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc < 3) {
        g_printerr("usage: %s PYTHON3 ops_reference.py\n", argv[0]);
        return 2;
    }
    g_autoptr(GError) error = NULL;
    ref_dir = g_dir_make_tmp("pvx-ops-ref-XXXXXX", &error);
    g_assert_no_error(error);
    char *child[] = {argv[1], argv[2], ref_dir, NULL};
    int status = 0;
    g_autofree char *err_text = NULL;
    if (!g_spawn_sync(NULL, child, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err_text, &status,
                      &error) ||
        !g_spawn_check_wait_status(status, &error))
        g_error("%s %s failed: %s\n%s", argv[1], argv[2], error->message,
                err_text != NULL ? err_text : "");
    g_autoptr(GPtrArray) cases = load_cases();
    g_assert_cmpuint(cases->len, >, 20);
    for (guint i = 0; i < cases->len; i++) {
        const Case *c = g_ptr_array_index(cases, i);
        g_autofree char *path = g_strdup_printf("/ops/torch/%s/%s", c->op, c->name);
        g_test_add_data_func(path, c, run_case);
    }
    int rc = g_test_run();
    remove_dir(ref_dir);
    g_free(ref_dir);
    return rc;
}
