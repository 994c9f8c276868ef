/* bench-layers — where VGG-16's single-image latency goes: each conv layer (with its ReLU) and
 * each linear layer at batch 1, timed on its own in pvx under each convolution algorithm
 * (PVX_CONV_ALGO auto, winograd, im2col) and in PyTorch (bench/layers_torch.py, the same shapes,
 * conv2d + relu_ and linear under torch.no_grad), with the same thread count.
 *
 * Each time is the median of --reps calls after one warm-up, on random weights and inputs; the
 * algorithms take turns call by call.
 * GF/s counts 2 × the multiply-adds of direct convolution, so Winograd can exceed the machine's
 * cblas_sgemm speed. The last line sums the layers: the rest of a batch-1 forward (max-pools,
 * the model's own bookkeeping) is the difference to bench-cnn's or bench-vgg's batch-1 time.
 *
 *   build/bench/bench-layers [--reps 15] [--threads N] [--no-torch]
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pvx-private/core.h"

static double now(void)
{
    return (double)g_get_monotonic_time() / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const char *name;
    int64_t cin, cout, hw; /* conv: channels, input size; linear: in, out, 0 */
} Layer;

/* VGG-16 (torchvision's names), at 224×224. */
static const Layer layers[] = {
    {"features.0", 3, 64, 224},      {"features.2", 64, 64, 224},
    {"features.5", 64, 128, 112},    {"features.7", 128, 128, 112},
    {"features.10", 128, 256, 56},   {"features.12", 256, 256, 56},
    {"features.14", 256, 256, 56},   {"features.17", 256, 512, 28},
    {"features.19", 512, 512, 28},   {"features.21", 512, 512, 28},
    {"features.24", 512, 512, 14},   {"features.26", 512, 512, 14},
    {"features.28", 512, 512, 14},   {"classifier.0", 25088, 4096, 0},
    {"classifier.3", 4096, 4096, 0}, {"classifier.6", 4096, 1000, 0},
};

static void fill(PvxTensor *t, guint32 seed, float scale)
{
    int64_t n = pvx_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        t->data[i] = ((float)(seed >> 8) / 16777216.0f * 2.0f - 1.0f) * scale;
    }
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

/* Median seconds of @reps runs of layer @l under each of the @n_algos values of PVX_CONV_ALGO
 * in @algos, into @out: the algorithms take turns call by call (after one warm-up call each),
 * so that a change of load on a shared machine falls on all of them alike. */
static void time_layer(const Layer *l, int reps, const char *const *algos, int n_algos, double *out)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) x = NULL, w = NULL, b = NULL, y = NULL;
    PvxConv2dParams p = {.pad_h = 1, .pad_w = 1};
    if (l->hw > 0) {
        x = pvx_tensor_new_shape(4, (int64_t)1, l->cin, l->hw, l->hw);
        w = pvx_tensor_new_shape(4, l->cout, l->cin, (int64_t)3, (int64_t)3);
    } else {
        x = pvx_tensor_new_shape(2, (int64_t)1, l->cin);
        w = pvx_tensor_new_shape(2, l->cout, l->cin);
    }
    b = pvx_tensor_new_shape(1, l->cout);
    fill(x, 1, 1.0f), fill(w, 2, 0.05f), fill(b, 3, 0.1f);
    g_autofree double *t = g_new(double, (size_t)reps *n_algos);
    for (int r = -1; r < reps; r++) {
        for (int a = 0; a < n_algos; a++) {
            g_setenv("PVX_CONV_ALGO", algos[a], TRUE);
            double t0 = now();
            PvxTensor *o = l->hw > 0 ? pvx_conv2d_relu_forward(x, w, b, &p, y, &error)
                                     : pvx_linear_forward(x, w, b, y, &error);
            if (!o)
                g_error("%s", error->message);
            if (y == NULL)
                y = o;
            else
                pvx_tensor_unref(o);
            if (r >= 0)
                t[a * reps + r] = now() - t0;
        }
    }
    for (int a = 0; a < n_algos; a++)
        out[a] = median(t + a * reps, reps);
}

static double layer_flops(const Layer *l)
{
    return l->hw > 0 ? 2.0 * l->cin * l->cout * 9 * l->hw * l->hw : 2.0 * l->cin * l->cout;
}

/* PyTorch's per-layer medians (name → seconds), or an empty table. */
static GHashTable *run_torch(int threads, int reps)
{
    g_autofree char *script = g_build_filename(PVX_BENCH_SOURCE_DIR, "layers_torch.py", NULL);
    g_autofree char *t = g_strdup_printf("%d", threads), *r = g_strdup_printf("%d", reps);
    const char *argv[] = {"/usr/bin/python3", script, t, r, NULL};
    g_autofree char *out = NULL, *err = NULL;
    int status;
    GHashTable *times = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                      NULL) ||
        !g_spawn_check_wait_status(status, NULL)) {
        fprintf(stderr, "bench-layers: PyTorch side failed: %s\n", err ? err : "");
        return times;
    }
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) kv = g_strsplit(*l, " ", 2);
        if (kv[0] && kv[1]) {
            double *v = g_new(double, 1);
            *v = g_ascii_strtod(kv[1], NULL);
            g_hash_table_insert(times, g_strdup(kv[0]), v);
        }
    }
    return times;
}

int main(int argc, char **argv)
{
    int reps = 15, threads = 0;
    gboolean no_torch = FALSE;
    GOptionEntry entries[] = {
        {"reps", 'r', 0, G_OPTION_ARG_INT, &reps, "Timed repetitions; the median counts (15)", "N"},
        {"threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads for both sides (PVX_NUM_THREADS)",
         "N"},
        {"no-torch", 0, 0, G_OPTION_ARG_NONE, &no_torch, "Skip the PyTorch side", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("— VGG-16's layers at batch 1, pvx's algorithms against PyTorch");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, NULL))
        return 2;
    if (reps < 1) {
        fprintf(stderr, "bench-layers: --reps must be at least 1\n");
        return 2;
    }
    if (threads > 0) {
        g_autofree char *v = g_strdup_printf("%d", threads);
        g_setenv("PVX_NUM_THREADS", v, TRUE);
    }
    pvx_threads_init(NULL);
    threads = pvx_num_threads();
    g_autofree char *saved = g_strdup(g_getenv("PVX_CONV_ALGO"));
    const char *algos[] = {"auto", "winograd", "im2col"};
    enum { N_ALGOS = G_N_ELEMENTS(algos) };
    enum { N_LAYERS = G_N_ELEMENTS(layers) };
    double t[N_LAYERS][N_ALGOS];
    for (int i = 0; i < N_LAYERS; i++) {
        time_layer(&layers[i], reps, algos, layers[i].hw > 0 ? N_ALGOS : 1, t[i]);
        if (layers[i].hw == 0)
            t[i][1] = t[i][2] = t[i][0];
    }
    if (saved)
        g_setenv("PVX_CONV_ALGO", saved, TRUE);
    else
        g_unsetenv("PVX_CONV_ALGO");
    g_autoptr(GHashTable) torch =
        no_torch ? g_hash_table_new(g_str_hash, g_str_equal) : run_torch(threads, reps);

    printf("VGG-16 layers at batch 1, %d threads, ms (median of %d); conv layers with their ReLU\n",
           threads, reps);
    printf("%-13s %-16s %8s %8s %8s %8s %8s %8s\n", "layer", "shape", "auto", "winograd", "im2col",
           "torch", "vs torch", "GF/s");
    double sum[N_ALGOS] = {0}, sum_torch = 0;
    for (int i = 0; i < N_LAYERS; i++) {
        const Layer *l = &layers[i];
        char shape[32], ts[32] = "-", vs[32] = "-";
        if (l->hw > 0)
            g_snprintf(shape, sizeof shape, "%ld>%ld %ldx%ld", (long)l->cin, (long)l->cout,
                       (long)l->hw, (long)l->hw);
        else
            g_snprintf(shape, sizeof shape, "%ld>%ld", (long)l->cin, (long)l->cout);
        double *tt = g_hash_table_lookup(torch, l->name);
        if (tt) {
            g_snprintf(ts, sizeof ts, "%.2f", *tt * 1e3);
            g_snprintf(vs, sizeof vs, "%.2fx", *tt / t[i][0]);
            sum_torch += *tt;
        }
        for (int a = 0; a < N_ALGOS; a++)
            sum[a] += t[i][a];
        printf("%-13s %-16s %8.2f %8.2f %8.2f %8s %8s %8.1f\n", l->name, shape, t[i][0] * 1e3,
               t[i][1] * 1e3, t[i][2] * 1e3, ts, vs, layer_flops(l) / t[i][0] / 1e9);
    }
    char ts[32] = "-", vs[32] = "-";
    if (sum_torch > 0) {
        g_snprintf(ts, sizeof ts, "%.2f", sum_torch * 1e3);
        g_snprintf(vs, sizeof vs, "%.2fx", sum_torch / sum[0]);
    }
    printf("%-13s %-16s %8.2f %8.2f %8.2f %8s %8s\n", "sum", "", sum[0] * 1e3, sum[1] * 1e3,
           sum[2] * 1e3, ts, vs);
    return 0;
}
