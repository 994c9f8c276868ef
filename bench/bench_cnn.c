/* bench-cnn — torchvision CNNs at 3×224×224 in pvx, PyTorch and ONNX Runtime, in the same run.
 *
 * For each model (torchvision's name: resnet50, mobilenet_v2, vgg16, ...; built in pvx by the
 * model plugin of the same family, "resnet", "mobilenet", "efficientnet" or "vgg", with
 * arch=NAME): forward at batch 1 and batch B (inference, evaluation mode) and a training step at
 * batch B (training mode, batch-norm on batch statistics: forward, cross-entropy, backward with
 * weight gradients, SGD with momentum 0.9 and weight decay 5e-4). VGG models run the batch-1
 * forward only (the latency target) unless --all-workloads.
 *
 * All three sides run the same weights and the same input: bench/cnn_torch.py builds the model
 * with torch.manual_seed(0) and writes, once per model, CACHE/NAME.h5 (pvx weights, which pvx
 * loads) and CACHE/NAME.onnx (torch.onnx.export, opset 13), and for every run the PyTorch logits
 * of the first image, against which pvx's and ONNX Runtime's are checked. ONNX Runtime runs from
 * node (bench/cnn_ort.js, onnxruntime-node from bench/node_modules, inference only); without
 * node or the package the ORT column says so and the rest goes on; with --no-torch pvx runs its
 * own seeded weights and ORT is skipped (it needs the export).
 *
 * Each time is the median of --reps repetitions after one warm-up, with the same thread count
 * on every side; with --rounds N the three sides take N turns, one after the other, and each
 * time is the median of its rounds (on a machine shared with other work, load that comes and
 * goes then falls on all sides alike) (PVX_NUM_THREADS, torch.set_num_threads, intraOpNumThreads).
 * Speed-ups are peer time / pvx time. GF/s counts 2 × the multiply-adds of conv2d and linear layers
 * (pvx_model_flops; the training step as 3 × forward) and is compared with cblas_sgemm's
 * measured speed (the ceiling of GEMM-based convolution). Also measured: the peak memory of
 * building each model and one batch-1 inference, in a process of its own.
 *
 *   build/bench/bench-cnn [--models resnet50,mobilenet_v2,vgg16] [--batch 8] [--reps 5]
 *                         [--rounds 1] [--threads N] [--no-torch] [--no-ort] [--all-workloads]
 * [--cache DIR]
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "pvx-private/core.h"

/* At most this many --rounds. */
#define MAX_ROUNDS 15

static double now(void)
{
    return (double)g_get_monotonic_time() / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
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

/* The model plugin of torchvision model @arch: its family, the name up to the first digit or
 * '_' ("resnet50" → "resnet", "mobilenet_v2" → "mobilenet"). Returns: (transfer full). */
static char *plugin_name(const char *arch)
{
    size_t n = strcspn(arch, "0123456789_");
    return g_strndup(arch, n);
}

/* Builds @arch with its plugin (seeded weights). NULL + error when the plugin is missing or
 * refuses the architecture. */
static PvxModel *build_model(PvxRegistry *reg, const char *arch, GError **error)
{
    g_autofree char *family = plugin_name(arch);
    const PvxPlugin *plugin = pvx_registry_lookup(reg, PVX_KIND_MODEL, family, error);
    if (!plugin)
        return NULL;
    g_autofree char *pair = g_strdup_printf("arch=%s", arch);
    g_autofree char *owner = g_strdup_printf("model %s", family);
    const char *pairs[] = {pair, NULL};
    g_autoptr(PvxParams) params = pvx_params_new_from_pairs(plugin->params, owner, pairs, error);
    if (!params)
        return NULL;
    int64_t chw[3] = {3, 224, 224};
    return pvx_model_build(plugin, params, chw, 1000, error);
}

/* @batch images of 3×224×224, uniform in [-1, 1), from a fixed linear congruential sequence. */
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

/* The first @n images of @x as a new tensor. */
static PvxTensor *first_images(const PvxTensor *x, int64_t n)
{
    PvxTensor *y = pvx_tensor_new_shape(4, n, x->shape[1], x->shape[2], x->shape[3]);
    memcpy(y->data, x->data, (size_t)pvx_tensor_numel(y) * sizeof(float));
    return y;
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

/* Median of @reps timed runs of @fn after one warm-up, in seconds. */
static double median_of(void (*fn)(Work *), Work *w, int reps)
{
    fn(w);
    g_autofree double *t = g_new(double, reps);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        fn(w);
        t[r] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    return reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
}

/* The median of the values of @v[0..n) that are not NaN; NaN if none is. */
static double median_nan(const double *v, int n)
{
    double t[MAX_ROUNDS];
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i]))
            t[k++] = v[i];
    if (k == 0)
        return NAN;
    qsort(t, (size_t)k, sizeof *t, cmp_double);
    return k % 2 ? t[k / 2] : 0.5 * (t[k / 2 - 1] + t[k / 2]);
}

/* Peak resident memory of building @arch and one batch-1 inference, in a child; -1 if the
 * child failed (no plugin). */
static double measure_peak_mb(const char *self, const char *arch)
{
    const char *argv[] = {self, "--memory-child", arch, NULL};
    g_autofree char *out = NULL;
    int status;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                      &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL))
        return -1;
    return g_ascii_strtod(out, NULL);
}

/* Runs @argv; on success parses its stdout's `name value` lines into @into (name → double) and
 * returns TRUE. On failure returns FALSE with the exit status in @status_out (-1 if it could not
 * start) and the last line of its stderr in @why (transfer full). */
static gboolean run_peer(const char *const *argv, GHashTable *into, int *status_out, char **why)
{
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;
    int status;
    *status_out = -1;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                      &error)) {
        *why = g_strdup(error->message);
        return FALSE;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        *status_out = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        g_strstrip(err);
        const char *last = strrchr(err, '\n');
        *why = g_strdup(last ? last + 1 : err);
        return FALSE;
    }
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        g_auto(GStrv) kv = g_strsplit(*l, " ", 2);
        if (kv[0] && kv[1]) {
            double *v = g_new(double, 1);
            *v = g_ascii_strtod(kv[1], NULL);
            g_hash_table_insert(into, g_strdup(kv[0]), v);
        }
    }
    return TRUE;
}

static double lookup(GHashTable *t, const char *key)
{
    double *v = g_hash_table_lookup(t, key);
    return v ? *v : NAN;
}

/* max |y - ref| / max |ref| over @n values; NAN when @path cannot be read or has another size. */
static double logits_diff(const PvxTensor *y, const char *path)
{
    g_autofree char *ref = NULL;
    gsize len = 0;
    int64_t n = pvx_tensor_numel(y);
    if (!g_file_get_contents(path, &ref, &len, NULL) || len != (gsize)n * sizeof(float))
        return NAN;
    const float *r = (const float *)ref;
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        diff = MAX(diff, fabs((double)y->data[i] - r[i]));
        scale = MAX(scale, fabs((double)r[i]));
    }
    return diff / scale;
}

typedef struct {
    char label[32];
    char key[32];
    double pvx, torch, ort, flops;
} Row;

static void fmt_ms(char *buf, size_t n, double s)
{
    if (isnan(s))
        g_strlcpy(buf, "-", n);
    else
        g_snprintf(buf, n, "%.1f", s * 1e3);
}

static void fmt_ratio(char *buf, size_t n, double peer, double pvx)
{
    if (isnan(peer) || isnan(pvx))
        g_strlcpy(buf, "-", n);
    else
        g_snprintf(buf, n, "%.2fx", peer / pvx);
}

int main(int argc, char **argv)
{
    int batch = 8, reps = 5, threads = 0, rounds = 1;
    gboolean no_torch = FALSE, no_ort = FALSE, all_workloads = FALSE;
    g_autofree char *models_opt = NULL, *cache_opt = NULL, *memory_child = NULL;
    GOptionEntry entries[] = {
        {"models", 'm', 0, G_OPTION_ARG_STRING, &models_opt,
         "torchvision model names, comma-separated (resnet50,mobilenet_v2,vgg16)", "LIST"},
        {"batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Batch size of the batched workloads (8)", "B"},
        {"reps", 'r', 0, G_OPTION_ARG_INT, &reps, "Timed repetitions; the median counts (5)", "N"},
        {"rounds", 0, 0, G_OPTION_ARG_INT, &rounds,
         "Rounds of all three sides in turn; the median round counts (1; more on a shared "
         "machine, at most 15)",
         "N"},
        {"threads", 't', 0, G_OPTION_ARG_INT, &threads,
         "Threads for every side (PVX_NUM_THREADS, default the cores)", "N"},
        {"no-torch", 0, 0, G_OPTION_ARG_NONE, &no_torch,
         "Skip PyTorch (and ONNX Runtime, which needs its export)", NULL},
        {"no-ort", 0, 0, G_OPTION_ARG_NONE, &no_ort, "Skip ONNX Runtime", NULL},
        {"all-workloads", 0, 0, G_OPTION_ARG_NONE, &all_workloads,
         "VGG models too run batch B and the training step", NULL},
        {"cache", 0, 0, G_OPTION_ARG_FILENAME, &cache_opt,
         "Folder of the exported weights and ONNX models (BUILD/bench/cnn-cache)", "DIR"},
        {"memory-child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &memory_child, NULL, NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("— CNN speed, pvx against PyTorch and ONNX Runtime");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, NULL))
        return 2;
    if (batch < 1 || reps < 1 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "bench-cnn: --batch and --reps must be at least 1, --rounds 1 to %d\n",
                MAX_ROUNDS);
        return 2;
    }
    if (threads > 0) {
        g_autofree char *v = g_strdup_printf("%d", threads);
        g_setenv("PVX_NUM_THREADS", v, TRUE);
    }
    pvx_threads_init(NULL);
    threads = pvx_num_threads();

    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    pvx_registry_scan_dir(reg, PVX_BENCH_PLUGIN_DIR, NULL, NULL);
    if (memory_child) {
        g_autoptr(GError) error = NULL;
        g_autoptr(PvxModel) m = build_model(reg, memory_child, &error);
        if (!m) {
            fprintf(stderr, "%s\n", error->message);
            return 1;
        }
        g_autoptr(PvxTensor) x = random_input(1);
        Work w = {.model = m, .x = x};
        run_forward(&w);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("%.1f\n", ru.ru_maxrss / 1024.0);
        return 0;
    }

    g_auto(GStrv) models =
        g_strsplit(models_opt ? models_opt : "resnet50,mobilenet_v2,vgg16", ",", -1);
    g_autofree char *cache =
        cache_opt ? g_strdup(cache_opt) : g_build_filename(PVX_BENCH_BUILD_DIR, "cnn-cache", NULL);
    if (g_mkdir_with_parents(cache, 0755) != 0) {
        fprintf(stderr, "bench-cnn: cannot create %s: %s\n", cache, g_strerror(errno));
        return 1;
    }

    /* First, while this process is still small: Linux carries ru_maxrss across exec, so a child
     * spawned after the big workloads would report the parent's peak. */
    int n_models = (int)g_strv_length(models);
    g_autofree double *peak = g_new(double, n_models);
    for (int i = 0; i < n_models; i++)
        peak[i] = measure_peak_mb(argv[0], models[i]);

    double sgemm = measure_sgemm();
    printf("machine: %d threads, cblas_sgemm %.1f GFLOP/s (1536³)\n", threads, sgemm);

    /* One input for every side and model: pvx's generator, written raw for the peers. */
    g_autoptr(PvxTensor) xb = random_input(batch);
    g_autoptr(PvxTensor) x1 = first_images(xb, 1);
    g_autofree char *input_path = g_build_filename(cache, "input.f32", NULL);
    g_autoptr(GError) werr = NULL;
    if (!g_file_set_contents(input_path, (const char *)xb->data,
                             (gssize)(pvx_tensor_numel(xb) * sizeof(float)), &werr)) {
        fprintf(stderr, "bench-cnn: %s\n", werr->message);
        return 1;
    }
    g_autofree char *torch_script = g_build_filename(PVX_BENCH_SOURCE_DIR, "cnn_torch.py", NULL);
    g_autofree char *ort_script = g_build_filename(PVX_BENCH_SOURCE_DIR, "cnn_ort.js", NULL);
    g_autofree char *node = g_find_program_in_path("node");
    g_autofree char *s_threads = g_strdup_printf("%d", threads);
    g_autofree char *s_batch = g_strdup_printf("%d", batch);
    g_autofree char *s_reps = g_strdup_printf("%d", reps);

    GString *table = g_string_new(NULL);
    GString *notes = g_string_new(NULL);
    g_string_append_printf(table, "%-13s %-14s %9s %9s %9s %9s %9s %9s %8s\n", "model", "workload",
                           "pvx ms", "torch ms", "ort ms", "vs torch", "vs ort", "pvx GF/s",
                           "of sgemm");
    for (int mi = 0; mi < n_models; mi++) {
        const char *arch = models[mi];
        gboolean full = all_workloads || !g_str_has_prefix(arch, "vgg");
        int n_rows = full ? 3 : 1;
        Row rows[3];
        memset(rows, 0, sizeof rows);
        g_snprintf(rows[0].label, sizeof rows[0].label, "forward b1");
        g_snprintf(rows[0].key, sizeof rows[0].key, "forward_b1");
        g_snprintf(rows[1].label, sizeof rows[1].label, "forward b%d", batch);
        g_snprintf(rows[1].key, sizeof rows[1].key, "forward_b%d", batch);
        g_snprintf(rows[2].label, sizeof rows[2].label, "train b%d", batch);
        g_snprintf(rows[2].key, sizeof rows[2].key, "train_step_b%d", batch);
        for (int r = 0; r < 3; r++)
            rows[r].pvx = rows[r].torch = rows[r].ort = rows[r].flops = NAN;
        g_string_append_printf(notes, "%s:", arch);

        /* The PyTorch export (weights, ONNX model, reference logits). */
        g_autofree char *h5 = g_strdup_printf("%s/%s.h5", cache, arch);
        g_autofree char *onnx = g_strdup_printf("%s/%s.onnx", cache, arch);
        g_autofree char *logits = g_strdup_printf("%s/%s.logits.f32", cache, arch);
        gboolean prepared = FALSE;
        if (!no_torch) {
            const char *pargv[] = {"/usr/bin/python3", torch_script, "prepare", arch, cache,
                                   input_path,         NULL};
            g_autoptr(GHashTable) none =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
            g_autofree char *why = NULL;
            int st;
            prepared = run_peer(pargv, none, &st, &why);
            if (!prepared)
                g_string_append_printf(notes, " torch: export failed (%s);", why);
        }

        /* pvx: the model once; then --rounds rounds of pvx, PyTorch and ONNX Runtime in turn,
         * each side's time the median of its rounds' medians. */
        g_autoptr(GError) error = NULL;
        g_autoptr(PvxModel) m = build_model(reg, arch, &error);
        if (m && prepared && !pvx_model_load_weights_file(m, h5, "/weights", &error)) {
            g_string_append_printf(notes, " pvx: weights not loaded, seeded ones used (%s);",
                                   error->message);
            g_clear_error(&error);
        }
        g_autoptr(PvxSgd) sgd = NULL;
        g_autofree int64_t *targets = g_new(int64_t, batch);
        for (int i = 0; i < batch; i++)
            targets[i] = (i * 137) % 1000;
        if (!m) {
            g_string_append_printf(notes, " pvx: not available (%s);", error->message);
        } else {
            int64_t chw[3] = {3, 224, 224};
            double flops = pvx_model_flops(m, chw);
            rows[0].flops = flops, rows[1].flops = flops * batch, rows[2].flops = 3 * flops * batch;
            g_autoptr(PvxTensor) y = pvx_model_forward(m, x1, PVX_FORWARD_INFERENCE, &error);
            if (!y)
                g_error("%s", error->message);
            if (prepared)
                g_string_append_printf(notes, " logits vs torch: pvx %.1e", logits_diff(y, logits));
            PvxSgdParams sp = {.momentum = 0.9, .weight_decay = 5e-4};
            sgd = pvx_sgd_new(&sp, NULL);
            for (int i = 0; i < pvx_model_n_layers(m); i++) {
                PvxLayer *l = pvx_model_layer(m, i);
                if (l->weight && l->weight_grad)
                    pvx_sgd_add_param(sgd, l->name, l->weight, l->weight_grad, l->mask, TRUE);
                if (l->bias && l->bias_grad) {
                    g_autofree char *bn = g_strconcat(l->name, ".bias", NULL);
                    pvx_sgd_add_param(sgd, bn, l->bias, l->bias_grad, NULL, TRUE);
                }
            }
        }
        double tp[3][MAX_ROUNDS], tt[3][MAX_ROUNDS], to[3][MAX_ROUNDS];
        for (int round = 0; round < rounds; round++) {
            for (int r = 0; r < 3; r++)
                tp[r][round] = tt[r][round] = to[r][round] = NAN;
            if (m) {
                Work w1 = {.model = m, .x = x1},
                     wb = {.model = m, .x = xb, .sgd = sgd, .targets = targets};
                tp[0][round] = median_of(run_forward, &w1, reps);
                if (full) {
                    tp[1][round] = median_of(run_forward, &wb, reps);
                    pvx_model_release_buffers(m);
                    tp[2][round] = median_of(run_train_step, &wb, reps);
                }
                pvx_model_release_buffers(m);
            }

            /* PyTorch. */
            if (prepared) {
                g_autoptr(GHashTable) t =
                    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
                const char *targv[] = {"/usr/bin/python3",
                                       torch_script,
                                       "time",
                                       arch,
                                       cache,
                                       input_path,
                                       s_threads,
                                       full ? s_batch : "1",
                                       s_reps,
                                       full ? "1" : "0",
                                       NULL};
                g_autofree char *why = NULL;
                int st;
                if (run_peer(targv, t, &st, &why))
                    for (int r = 0; r < n_rows; r++)
                        tt[r][round] = lookup(t, rows[r].key);
                else if (round == 0)
                    g_string_append_printf(notes, " torch: failed (%s);", why);
            }

            /* ONNX Runtime (inference only). */
            if (no_ort) {
            } else if (!node) {
                if (round == 0)
                    g_string_append(notes, " onnxruntime: not installed (no node);");
            } else if (!prepared) {
                if (round == 0)
                    g_string_append(notes, " onnxruntime: skipped (needs the PyTorch export);");
            } else {
                g_autoptr(GHashTable) t =
                    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
                const char *oargv[] = {node,       ort_script, onnx,
                                       input_path, s_threads,  full ? s_batch : "1",
                                       s_reps,     logits,     NULL};
                g_autofree char *why = NULL;
                int st;
                if (run_peer(oargv, t, &st, &why)) {
                    for (int r = 0; r < MIN(n_rows, 2); r++)
                        to[r][round] = lookup(t, rows[r].key);
                    if (round == 0)
                        g_string_append_printf(notes, " ort %.1e;", lookup(t, "maxdiff"));
                } else if (round == 0) {
                    if (st == 3)
                        g_string_append(notes, " onnxruntime: not installed;");
                    else
                        g_string_append_printf(notes, " onnxruntime: failed (%s);", why);
                }
            }
        }
        for (int r = 0; r < 3; r++) {
            rows[r].pvx = median_nan(tp[r], rounds);
            rows[r].torch = median_nan(tt[r], rounds);
            rows[r].ort = median_nan(to[r], rounds);
        }
        if (peak[mi] > 0)
            g_string_append_printf(notes, " peak memory, batch-1 inference: %.0f MB", peak[mi]);
        g_string_append_c(notes, '\n');

        for (int r = 0; r < n_rows; r++) {
            char p[32], t[32], o[32], vt[32], vo[32], gf[32] = "-", fr[32] = "-";
            fmt_ms(p, sizeof p, rows[r].pvx);
            fmt_ms(t, sizeof t, rows[r].torch);
            fmt_ms(o, sizeof o, rows[r].ort);
            fmt_ratio(vt, sizeof vt, rows[r].torch, rows[r].pvx);
            fmt_ratio(vo, sizeof vo, rows[r].ort, rows[r].pvx);
            if (!isnan(rows[r].pvx) && !isnan(rows[r].flops)) {
                double gfs = rows[r].flops / rows[r].pvx / 1e9;
                g_snprintf(gf, sizeof gf, "%.1f", gfs);
                g_snprintf(fr, sizeof fr, "%.0f%%", 100 * gfs / sgemm);
            }
            g_string_append_printf(table, "%-13s %-14s %9s %9s %9s %9s %9s %9s %8s\n", arch,
                                   rows[r].label, p, t, o, vt, vo, gf, fr);
        }
        /* Print as we go: a long run shows its progress. */
        printf("%s", table->str);
        g_string_truncate(table, 0);
        fflush(stdout);
    }
    printf("(ms per call, median of %d after a warm-up, median of %d rounds; vs X = X's time / "
           "pvx's time; training "
           "step counted as 3x the forward's FLOPs; GF/s above 100%% of sgemm means fewer "
           "multiplications than direct convolution, e.g. Winograd)\n%s",
           reps, rounds, notes->str);
    g_string_free(table, TRUE);
    g_string_free(notes, TRUE);
    return 0;
}
