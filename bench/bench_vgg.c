/* bench-vgg — VGG-16 at 224×224 in pvx and in PyTorch, in the same run.
 *
 * Workloads: forward at batch 1 and batch B (inference), and a training step at batch B
 * (forward, cross-entropy, backward with weight gradients, SGD with momentum and weight decay).
 * Each time is the minimum over --reps repetitions after one warm-up; pvx and PyTorch run one
 * after the other with the same thread count. Also measured: cblas_sgemm's speed on this machine
 * (the ceiling for GEMM-based convolution), and the peak memory of a batch-1 inference in a
 * process of its own (--memory).
 *
 *   build/bench/bench-vgg [--batch 8] [--reps 3] [--threads N] [--no-torch]
 */
#include <cblas.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "pvx-private/core.h"

static double now(void)
{
    return (double)g_get_monotonic_time() / 1e6;
}

/* GFLOP/s of one large square sgemm, the best of a few. */
static double measure_sgemm(void)
{
    const int n = 1536;
    float *a = pvx_aligned_alloc((size_t)n * n * 4), *b = pvx_aligned_alloc((size_t)n * n * 4),
          *c = pvx_aligned_alloc((size_t)n * n * 4);
    for (int i = 0; i < n * n; i++)
        a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        best = MIN(best, now() - t);
    }
    pvx_aligned_free(a), pvx_aligned_free(b), pvx_aligned_free(c);
    return 2.0 * n * n * n / best / 1e9;
}

static PvxModel *build_vgg16(PvxRegistry *reg)
{
    g_autoptr(GError) error = NULL;
    const PvxPlugin *plugin = pvx_registry_lookup(reg, PVX_KIND_MODEL, "vgg", &error);
    if (!plugin)
        g_error("%s", error->message);
    const char *pairs[] = {"arch=vgg16", NULL};
    g_autoptr(PvxParams) params =
        pvx_params_new_from_pairs(plugin->params, "model vgg", pairs, &error);
    int64_t chw[3] = {3, 224, 224};
    PvxModel *m = pvx_model_build(plugin, params, chw, 1000, &error);
    if (!m)
        g_error("%s", error->message);
    return m;
}

static PvxTensor *random_input(int64_t batch)
{
    PvxTensor *x = pvx_tensor_new_shape(4, batch, (int64_t)3, (int64_t)224, (int64_t)224);
    int64_t n = pvx_tensor_numel(x);
    guint32 s = 12345;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x->data[i] = (float)(s >> 8) / 16777216.0f * 2.0f - 1.0f;
    }
    return x;
}

typedef struct {
    PvxModel *model;
    PvxTensor *x;
    PvxSgd *sgd;
    int64_t *targets;
} Work;

static void run_forward(Work *w)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxTensor) y = pvx_model_forward(w->model, w->x, PVX_FORWARD_INFERENCE, &error);
    if (!y)
        g_error("%s", error->message);
}

static void run_train_step(Work *w)
{
    g_autoptr(GError) error = NULL;
    pvx_model_zero_grad(w->model);
    g_autoptr(PvxTensor) logits = pvx_model_forward(w->model, w->x, PVX_FORWARD_TRAIN, &error);
    double loss;
    PvxTensor *dlogits = NULL;
    if (!logits || !pvx_cross_entropy_forward(logits, w->targets, &loss, &error) ||
        !pvx_cross_entropy_backward(logits, w->targets, 1.0, &dlogits, &error) ||
        !pvx_model_backward(w->model, dlogits, TRUE, NULL, &error) ||
        !pvx_sgd_step(w->sgd, 1e-3, &error))
        g_error("%s", error->message);
    pvx_model_apply_masks(w->model);
    pvx_tensor_unref(dlogits);
}

static double best_of(void (*fn)(Work *), Work *w, int reps)
{
    fn(w);
    double best = 1e9;
    for (int r = 0; r < reps; r++) {
        double t = now();
        fn(w);
        best = MIN(best, now() - t);
    }
    return best;
}

/* Peak resident memory of building VGG-16 and running one batch-1 inference, in a child. */
static double measure_peak_mb(const char *self)
{
    const char *argv[] = {self, "--memory-child", NULL};
    g_autofree char *out = NULL;
    int status;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status,
                      NULL) ||
        !g_spawn_check_wait_status(status, NULL))
        return -1;
    return g_ascii_strtod(out, NULL);
}

static GHashTable *run_torch(int threads, int batch, int reps)
{
    g_autofree char *script = g_build_filename(PVX_BENCH_SOURCE_DIR, "vgg_torch.py", NULL);
    g_autofree char *t = g_strdup_printf("%d", threads), *b = g_strdup_printf("%d", batch),
                    *r = g_strdup_printf("%d", reps);
    const char *argv[] = {"/usr/bin/python3", script, t, b, r, NULL};
    g_autofree char *out = NULL, *err = NULL;
    int status;
    GHashTable *times = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                      NULL) ||
        !g_spawn_check_wait_status(status, NULL)) {
        fprintf(stderr, "bench-vgg: PyTorch side failed: %s\n", err ? err : "");
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
    int batch = 8, reps = 3, threads = 0;
    gboolean no_torch = FALSE, memory_child = FALSE;
    GOptionEntry entries[] = {
        {"batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Batch size of the batched workloads (8)", "B"},
        {"reps", 'r', 0, G_OPTION_ARG_INT, &reps, "Timed repetitions; the minimum counts (3)", "N"},
        {"threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads for both sides (PVX_NUM_THREADS)",
         "N"},
        {"no-torch", 0, 0, G_OPTION_ARG_NONE, &no_torch, "Skip the PyTorch side", NULL},
        {"memory-child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &memory_child, NULL, NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("— VGG-16 speed, pvx against PyTorch");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, NULL))
        return 2;
    if (threads > 0) {
        g_autofree char *v = g_strdup_printf("%d", threads);
        g_setenv("PVX_NUM_THREADS", v, TRUE);
    }
    pvx_threads_init(NULL);
    threads = pvx_num_threads();

    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    pvx_registry_scan_dir(reg, PVX_BENCH_PLUGIN_DIR, NULL, NULL);
    if (memory_child) {
        g_autoptr(PvxModel) m = build_vgg16(reg);
        g_autoptr(PvxTensor) x = random_input(1);
        Work w = {.model = m, .x = x};
        run_forward(&w);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("%.1f\n", ru.ru_maxrss / 1024.0);
        return 0;
    }

    /* First, while this process is still small: Linux carries ru_maxrss across exec, so a
     * child spawned after the big workloads would report the parent's peak. */
    double peak = measure_peak_mb(argv[0]);
    double sgemm = measure_sgemm();
    printf("machine: %d threads, cblas_sgemm %.1f GFLOP/s (1536³)\n", threads, sgemm);
    g_autoptr(PvxModel) m = build_vgg16(reg);
    int64_t chw[3] = {3, 224, 224};
    double gflop = pvx_model_flops(m, chw) / 1e9; /* per image, forward */
    g_autoptr(PvxTensor) x1 = random_input(1);
    g_autoptr(PvxTensor) xb = random_input(batch);
    Work w1 = {.model = m, .x = x1}, wb = {.model = m, .x = xb};
    double t_f1 = best_of(run_forward, &w1, reps);
    double t_fb = best_of(run_forward, &wb, reps);
    pvx_model_release_buffers(m);

    PvxSgdParams sp = {.momentum = 0.9, .weight_decay = 5e-4};
    g_autoptr(PvxSgd) sgd = pvx_sgd_new(&sp, NULL);
    for (int i = 0; i < pvx_model_n_layers(m); i++) {
        PvxLayer *l = pvx_model_layer(m, i);
        if (l->weight && l->weight_grad)
            pvx_sgd_add_param(sgd, l->name, l->weight, l->weight_grad, l->mask, TRUE);
        if (l->bias && l->bias_grad) {
            g_autofree char *bn = g_strconcat(l->name, ".bias", NULL);
            pvx_sgd_add_param(sgd, bn, l->bias, l->bias_grad, NULL, TRUE);
        }
    }
    g_autofree int64_t *targets = g_new(int64_t, batch);
    for (int i = 0; i < batch; i++)
        targets[i] = (i * 137) % 1000;
    wb.sgd = sgd;
    wb.targets = targets;
    double t_tb = best_of(run_train_step, &wb, MAX(1, reps - 1));
    pvx_model_release_buffers(m);

    g_autoptr(GHashTable) torch =
        no_torch ? g_hash_table_new(g_str_hash, g_str_equal) : run_torch(threads, batch, reps);
    g_autofree char *kb = g_strdup_printf("forward_b%d", batch);
    g_autofree char *kt = g_strdup_printf("train_step_b%d", batch);
    struct {
        const char *label;
        const char *key;
        double pvx, flops;
        int images;
    } rows[] = {
        {"forward, batch 1", "forward_b1", t_f1, gflop, 1},
        {"forward, batch B", kb, t_fb, gflop * batch, batch},
        {"train step, batch B", kt, t_tb, 3 * gflop * batch, batch},
    };
    printf("VGG-16, 224×224, B = %d (times: best of %d)\n", batch, reps);
    printf("%-22s %12s %12s %8s %10s %8s\n", "workload", "pvx s/img", "torch s/img", "speedup",
           "pvx GF/s", "of sgemm");
    for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
        double *tt = g_hash_table_lookup(torch, rows[i].key);
        double gfs = rows[i].flops / rows[i].pvx;
        char torch_s[32] = "-", ratio[32] = "-";
        if (tt) {
            g_snprintf(torch_s, sizeof torch_s, "%.4f", *tt / rows[i].images);
            g_snprintf(ratio, sizeof ratio, "%.2fx", *tt / rows[i].pvx);
        }
        printf("%-22s %12.4f %12s %8s %10.1f %7.0f%%\n", rows[i].label,
               rows[i].pvx / rows[i].images, torch_s, ratio, gfs, 100 * gfs / sgemm);
    }
    printf("(train step GFLOP counted as 3× forward; GF/s above 100%% of sgemm means fewer flops "
           "than direct convolution, e.g. Winograd)\n");
    printf("peak memory, batch-1 inference (build + forward, own process): %.0f MB\n", peak);
    return 0;
}
