/* bench-sparse — VGG-16 inference, dense against sparse (pruned) in pvx, and PyTorch.
 *
 * Default: VGG-16 at 224×224, batch B (8), random seeded weights; for each compression rate
 * (2, 8, 32) its conv layers are pruned by magnitude, locally, in one step from the unpruned
 * weights: pvx_prune_step with the "magnitude" pruner plugin (scope local), or without the
 * plugin magnitude_mask below (each conv layer keeps its round(n / CR) largest |w|; ties: the
 * lower index); the linear layers stay dense. Per CR: pvx's
 * dense forward (PVX_SPARSE_OFF), pvx's automatic choice (PVX_SPARSE_AUTO), the speed-up, the
 * number of conv layers that ran sparse, the time to compress the weights, and PyTorch's forward
 * with the same pruned weights (torch.nn.utils.prune masks: torch stays dense, so its time is the
 * same at every CR; it is measured unpruned and at each CR anyway, by bench/sparse_torch.py, from
 * the weights this program writes). Times: the minimum over --reps forwards after a warm-up.
 *
 * --layers: the calibration behind the automatic choice (pvx_conv2d_sparse_pays,
 * pvx_linear_sparse_pays): each of VGG-16's conv and linear layer shapes at batch B, dense
 * against the sparse kernel at CR 1…32, with the rule's pick per CR; PVX_BENCH_RAW=1 in the
 * environment adds one "raw" line per measurement (shape, non-zeros, both times) for fitting the
 * model's constants (docs/sparse.md).
 *
 * --cpu-time times both sides in process CPU seconds instead of wall-clock seconds: with
 * --threads 1 a fair comparison on a machine that other work keeps busy (with two threads the
 * CPU time would count OpenBLAS's busy-waiting against the dense side).
 *
 *   build/bench/bench-sparse [--batch 8] [--reps 3] [--threads N] [--no-torch] [--layers]
 *                            [--cpu-time]
 */
#include <cblas.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pvx-private/core.h"

static gboolean cpu_clock = FALSE;

/* Wall-clock seconds, or with --cpu-time this process's CPU seconds (for comparisons on a busy
 * machine, with --threads 1). */
static double now(void)
{
    if (cpu_clock) {
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    }
    return (double)g_get_monotonic_time() / 1e6;
}

/* GFLOP/s of one large square sgemm, the best of a few (as bench-vgg). */
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

static void fill_random(PvxTensor *t, guint32 seed, float scale)
{
    int64_t n = pvx_tensor_numel(t);
    guint32 s = seed;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        t->data[i] = ((float)(s >> 8) / 16777216.0f * 2.0f - 1.0f) * scale;
    }
}

typedef struct {
    float a;
    int64_t i;
} Entry;

/* Larger |w| first, then the lower index. */
static int entry_cmp(const void *pa, const void *pb)
{
    const Entry *a = pa, *b = pb;
    if (a->a != b->a)
        return a->a > b->a ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* The 0/1 mask keeping the round(n / cr) largest |w| of @w (ties: the lower index). */
static PvxTensor *magnitude_mask(const PvxTensor *w, double cr)
{
    int64_t n = pvx_tensor_numel(w);
    int64_t keep = (int64_t)nearbyint((double)n / cr);
    Entry *e = g_new(Entry, n);
    for (int64_t i = 0; i < n; i++)
        e[i] = (Entry){fabsf(w->data[i]), i};
    qsort(e, (size_t)n, sizeof *e, entry_cmp);
    PvxTensor *mask = pvx_tensor_new_like(w);
    for (int64_t i = 0; i < keep; i++)
        mask->data[e[i].i] = 1.0f;
    g_free(e);
    return mask;
}

/* ---- --layers: calibration ----------------------------------------------------------------- */

static double time_conv_dense(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                              const PvxConv2dParams *p, PvxTensor *y, int reps)
{
    double best = 1e9;
    for (int r = 0; r <= reps; r++) {
        double t = now();
        g_autoptr(PvxTensor) out = pvx_conv2d_forward(x, w, b, p, y, NULL);
        if (r > 0)
            best = MIN(best, now() - t);
    }
    return best;
}

static double time_conv_sparse(const PvxTensor *x, const PvxSparseWeights *w, const PvxTensor *b,
                               const PvxConv2dParams *p, PvxTensor *y, int reps)
{
    double best = 1e9;
    for (int r = 0; r <= reps; r++) {
        double t = now();
        g_autoptr(PvxTensor) out = pvx_conv2d_forward_sparse(x, w, b, p, y, NULL);
        if (r > 0)
            best = MIN(best, now() - t);
    }
    return best;
}

static int run_layers(int batch, int reps)
{
    static const int shapes[][3] = {
        /* cin, cout, hw */
        {3, 64, 224},   {64, 64, 224},  {64, 128, 112}, {128, 128, 112}, {128, 256, 56},
        {256, 256, 56}, {256, 512, 28}, {512, 512, 28}, {512, 512, 14},
    };
    static const double crs[] = {1, 2, 3, 4, 8, 16, 32};
    PvxConv2dParams p = {.pad_h = 1, .pad_w = 1};
    g_autoptr(GString) raw = g_string_new("");
    printf("VGG-16 conv layers, batch %d (ms, best of %d); sparse/dense time ratio per CR\n", batch,
           reps);
    printf("%-16s %9s", "layer", "dense");
    for (gsize c = 0; c < G_N_ELEMENTS(crs); c++)
        printf("   cr%-4g", crs[c]);
    printf("  ns/MAC(dense)  ns/FMA-lane(sparse, cr8)  auto picks\n");
    for (gsize s = 0; s < G_N_ELEMENTS(shapes); s++) {
        int64_t cin = shapes[s][0], cout = shapes[s][1], hw = shapes[s][2];
        int64_t xs[4] = {batch, cin, hw, hw}, ws[4] = {cout, cin, 3, 3};
        g_autoptr(PvxTensor) x = pvx_tensor_new(4, xs);
        g_autoptr(PvxTensor) w = pvx_tensor_new(4, ws);
        g_autoptr(PvxTensor) b = pvx_tensor_new(1, &cout);
        fill_random(x, 1 + (guint32)s, 1.0f);
        fill_random(w, 100 + (guint32)s, 0.1f);
        fill_random(b, 200 + (guint32)s, 0.1f);
        g_autoptr(PvxTensor) y = pvx_tensor_new_shape(4, (int64_t)batch, cout, hw, hw);
        double td = time_conv_dense(x, w, b, &p, y, reps);
        double macs = (double)batch * cout * hw * hw * cin * 9;
        printf("%4" G_GINT64_FORMAT "->%-4" G_GINT64_FORMAT " %3" G_GINT64_FORMAT "²  %9.1f", cin,
               cout, hw, td * 1e3);
        double per_fma = 0;
        GString *picks = g_string_new("");
        for (gsize c = 0; c < G_N_ELEMENTS(crs); c++) {
            g_autoptr(PvxTensor) m = magnitude_mask(w, crs[c]);
            g_autoptr(PvxTensor) wp = pvx_tensor_copy(w);
            for (int64_t i = 0; i < pvx_tensor_numel(wp); i++)
                wp->data[i] *= m->data[i];
            g_autoptr(PvxSparseWeights) sw = pvx_sparse_weights_new(wp);
            double ts = time_conv_sparse(x, sw, b, &p, y, reps);
            printf("   %5.2f", ts / td);
            g_string_append_printf(raw,
                                   "raw conv %d %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                                   " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %.6g %.6g\n",
                                   batch, cin, cout, hw, pvx_sparse_weights_nnz(sw), td, ts);
            if (crs[c] == 8) {
                int64_t wq = (hw + 2 + 15) / 16 * 16, tiles = (hw * wq + 127) / 128; /* AVX-512 */
                per_fma = ts / ((double)pvx_sparse_weights_nnz(sw) * batch * tiles * 128);
            }
            g_string_append_c(
                picks, pvx_conv2d_sparse_pays(xs, ws, &p, pvx_sparse_weights_nnz(sw)) ? 'S' : 'd');
        }
        printf("  %13.4f  %24.4f  %s\n", td / macs * 1e9, per_fma * 1e9, picks->str);
        g_string_free(picks, TRUE);
    }
    static const int64_t fcs[][2] = {{25088, 4096}, {4096, 4096}, {4096, 1000}};
    printf("VGG-16 linear layers, batch %d (ms): sparse/dense per CR\n", batch);
    for (gsize s = 0; s < G_N_ELEMENTS(fcs); s++) {
        int64_t in = fcs[s][0], out = fcs[s][1];
        g_autoptr(PvxTensor) x = pvx_tensor_new_shape(2, (int64_t)batch, in);
        g_autoptr(PvxTensor) w = pvx_tensor_new_shape(2, out, in);
        g_autoptr(PvxTensor) y = pvx_tensor_new_shape(2, (int64_t)batch, out);
        fill_random(x, 7, 1.0f);
        fill_random(w, 8, 0.01f);
        double td = 1e9;
        for (int r = 0; r <= reps; r++) {
            double t = now();
            g_autoptr(PvxTensor) o = pvx_linear_forward(x, w, NULL, y, NULL);
            if (r > 0)
                td = MIN(td, now() - t);
        }
        printf("%6" G_GINT64_FORMAT "->%-6" G_GINT64_FORMAT " %9.2f", in, out, td * 1e3);
        GString *picks = g_string_new("");
        for (gsize c = 0; c < G_N_ELEMENTS(crs); c++) {
            g_autoptr(PvxTensor) wp = pvx_tensor_copy(w);
            for (int64_t i = 0; i < pvx_tensor_numel(wp); i++)
                if ((i * 2654435761u) % 1000 >= 1000 / crs[c])
                    wp->data[i] = 0.0f;
            g_autoptr(PvxSparseWeights) sw = pvx_sparse_weights_new(wp);
            double ts = 1e9;
            for (int r = 0; r <= reps; r++) {
                double t = now();
                g_autoptr(PvxTensor) o = pvx_linear_forward_sparse(x, sw, NULL, y, NULL);
                if (r > 0)
                    ts = MIN(ts, now() - t);
            }
            printf("   %5.2f", ts / td);
            g_string_append_printf(raw,
                                   "raw linear %d %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                                   " %" G_GINT64_FORMAT " %.6g %.6g\n",
                                   batch, in, out, pvx_sparse_weights_nnz(sw), td, ts);
            int64_t xs[2] = {batch, in}, ws[2] = {out, in};
            g_string_append_c(
                picks, pvx_linear_sparse_pays(xs, ws, pvx_sparse_weights_nnz(sw)) ? 'S' : 'd');
        }
        printf("  %s\n", picks->str);
        g_string_free(picks, TRUE);
    }
    if (g_getenv("PVX_BENCH_RAW"))
        fputs(raw->str, stdout);
    return 0;
}

/* ---- VGG-16 --------------------------------------------------------------------------------- */

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
    pvx_model_init(m, 1);
    return m;
}

static double forward_time(PvxModel *m, PvxTensor *x, PvxSparseMode mode)
{
    g_autoptr(GError) error = NULL;
    pvx_model_set_sparse_mode(m, mode);
    double t = now();
    g_autoptr(PvxTensor) y = pvx_model_forward(m, x, PVX_FORWARD_INFERENCE, &error);
    if (!y)
        g_error("%s", error->message);
    return now() - t;
}

typedef struct {
    double cr, density;
    double dense, sparse; /* seconds per batch: best dense, best auto */
    double compress;      /* seconds to compress the 13 conv weights (what the cache saves) */
    int n_sparse, n_conv;
} Row;

/* Dense and auto forwards alternately, so that a change of the machine's load hits both. */
static void measure_cr(PvxModel *m, PvxTensor *x, int reps, Row *r)
{
    forward_time(m, x, PVX_SPARSE_AUTO); /* warm-up; builds the cache of compressed weights */
    forward_time(m, x, PVX_SPARSE_OFF);
    r->dense = r->sparse = 1e9;
    for (int i = 0; i < reps; i++) {
        r->dense = MIN(r->dense, forward_time(m, x, PVX_SPARSE_OFF));
        r->sparse = MIN(r->sparse, forward_time(m, x, PVX_SPARSE_AUTO));
    }
    r->n_sparse = r->n_conv = 0;
    r->compress = 0.0;
    for (int i = 0; i < pvx_model_n_layers(m); i++) {
        PvxLayer *l = pvx_model_layer(m, i);
        if (l->type == PVX_LAYER_CONV2D) {
            r->n_conv++;
            r->n_sparse += pvx_model_layer_ran_sparse(m, l->name);
            double t = now();
            pvx_sparse_weights_free(pvx_sparse_weights_new(l->weight));
            r->compress += now() - t;
        }
    }
}

static GHashTable *run_torch(int threads, int batch, int reps, const char *h5, const double *crs,
                             int n_crs)
{
    g_autofree char *script = g_build_filename(PVX_BENCH_SOURCE_DIR, "sparse_torch.py", NULL);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup("/usr/bin/python3"));
    g_ptr_array_add(argv, g_strdup(script));
    g_ptr_array_add(argv, g_strdup_printf("%d", threads));
    g_ptr_array_add(argv, g_strdup_printf("%d", batch));
    g_ptr_array_add(argv, g_strdup_printf("%d", reps));
    g_ptr_array_add(argv, g_strdup(cpu_clock ? "cpu" : "wall"));
    g_ptr_array_add(argv, g_strdup(h5));
    for (int i = 0; i < n_crs; i++)
        g_ptr_array_add(argv, g_strdup_printf("%g", crs[i]));
    g_ptr_array_add(argv, NULL);
    g_autofree char *out = NULL, *err = NULL;
    int status;
    GHashTable *times = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                      &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL)) {
        fprintf(stderr, "bench-sparse: PyTorch side failed: %s\n", err ? err : "");
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

static void store_or_die(gboolean ok, GError *error)
{
    if (!ok)
        g_error("bench-sparse: %s", error->message);
}

int main(int argc, char **argv)
{
    int batch = 8, reps = 3, threads = 0;
    gboolean no_torch = FALSE, layers = FALSE;
    GOptionEntry entries[] = {
        {"batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Batch size (8)", "B"},
        {"reps", 'r', 0, G_OPTION_ARG_INT, &reps, "Timed repetitions; the minimum counts (3)", "N"},
        {"threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads for both sides (PVX_NUM_THREADS)",
         "N"},
        {"no-torch", 0, 0, G_OPTION_ARG_NONE, &no_torch, "Skip the PyTorch side", NULL},
        {"layers", 0, 0, G_OPTION_ARG_NONE, &layers,
         "Per-layer calibration of the automatic choice", NULL},
        {"cpu-time", 0, 0, G_OPTION_ARG_NONE, &cpu_clock,
         "Time in process CPU seconds, both sides (on a busy machine, with --threads 1)", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("— VGG-16 inference, dense vs pruned");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, NULL))
        return 2;
    if (threads > 0) {
        g_autofree char *v = g_strdup_printf("%d", threads);
        g_setenv("PVX_NUM_THREADS", v, TRUE);
    }
    pvx_threads_init(NULL);
    threads = pvx_num_threads();
    if (layers)
        return run_layers(batch, reps);

    double sgemm = measure_sgemm();
    printf("machine: %d threads, cblas_sgemm %.1f GFLOP/s (1536³), sparse kernels: %s\n", threads,
           sgemm, g_getenv("PVX_SPARSE_ISA") ? g_getenv("PVX_SPARSE_ISA") : "best");
    g_autoptr(PvxRegistry) reg = pvx_registry_new();
    pvx_registry_scan_dir(reg, PVX_BENCH_PLUGIN_DIR, NULL, NULL);
    g_autoptr(PvxModel) m = build_vgg16(reg);
    int64_t chw[3] = {3, 224, 224};
    double gflop = pvx_model_flops(m, chw) / 1e9;
    g_autoptr(PvxTensor) x =
        pvx_tensor_new_shape(4, (int64_t)batch, (int64_t)3, (int64_t)224, (int64_t)224);
    fill_random(x, 12345, 1.0f);

    /* The unpruned conv weights, to prune each rate from (and for PyTorch). */
    g_autoptr(GPtrArray) convs = g_ptr_array_new();
    g_autoptr(GPtrArray) orig = g_ptr_array_new_with_free_func((GDestroyNotify)pvx_tensor_unref);
    for (int i = 0; i < pvx_model_n_layers(m); i++) {
        PvxLayer *l = pvx_model_layer(m, i);
        if (l->type == PVX_LAYER_CONV2D) {
            g_ptr_array_add(convs, l);
            g_ptr_array_add(orig, pvx_tensor_copy(l->weight));
        }
    }
    g_autofree char *dir = g_dir_make_tmp("pvx-bench-sparse-XXXXXX", NULL);
    g_autofree char *h5 = g_build_filename(dir, "vgg16-pruned.h5", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxStore) store = pvx_store_create(h5, &error);
    store_or_die(store != NULL, error);
    store_or_die(pvx_store_begin(store, &error), error);
    for (guint i = 0; i < convs->len; i++) {
        PvxLayer *l = g_ptr_array_index(convs, i);
        g_autofree char *wn = g_strdup_printf("/weights/%s.weight", l->name);
        g_autofree char *bn = g_strdup_printf("/weights/%s.bias", l->name);
        store_or_die(pvx_store_write_tensor(store, wn, l->weight, &error), error);
        store_or_die(pvx_store_write_tensor(store, bn, l->bias, &error), error);
    }

    /* The pruner: pvx's "magnitude" plugin (scope local) through pvx_prune_step, as a pruning
     * run does it; without the plugin, the local function above (the same rule). */
    g_autoptr(PvxPruner) pruner = NULL;
    const PvxPlugin *pp = pvx_registry_lookup(reg, PVX_KIND_PRUNER, "magnitude", NULL);
    if (pp) {
        g_autoptr(PvxParams) params = pvx_params_new_defaults(pp->params, "pruner magnitude", NULL);
        pruner = params ? pvx_pruner_open(pp, params, NULL) : NULL;
    }
    g_autofree const char **conv_names = g_new0(const char *, convs->len + 1);
    for (guint i = 0; i < convs->len; i++)
        conv_names[i] = ((PvxLayer *)g_ptr_array_index(convs, i))->name;
    printf("pruning: %s\n", pruner ? "pvx_prune_step with the magnitude pruner (scope local)"
                                   : "bench-sparse's own magnitude_mask (no pruner plugin)");

    static const double crs[] = {2, 8, 32};
    Row rows[G_N_ELEMENTS(crs) + 1] = {{0}};
    rows[0] = (Row){.cr = 1, .density = 1};
    measure_cr(m, x, reps, &rows[0]);
    for (gsize c = 0; c < G_N_ELEMENTS(crs); c++) {
        Row *r = &rows[c + 1];
        r->cr = crs[c];
        int64_t kept = 0, total = 0;
        for (guint i = 0; i < convs->len; i++) {
            PvxLayer *l = g_ptr_array_index(convs, i);
            PvxTensor *w0 = g_ptr_array_index(orig, i);
            store_or_die(pvx_model_set_mask(m, l->name, NULL, &error), error);
            pvx_tensor_copy_into(l->weight, w0, NULL);
            if (!pruner) {
                g_autoptr(PvxTensor) mask = magnitude_mask(w0, crs[c]);
                store_or_die(pvx_model_set_mask(m, l->name, mask, &error), error);
            }
        }
        pvx_model_apply_masks(m);
        if (pruner)
            store_or_die(pvx_prune_step(m, conv_names, pruner, PVX_PRUNE_SCOPE_LOCAL, 1.0, crs[c],
                                        0, 0, NULL, &error),
                         error);
        for (guint i = 0; i < convs->len; i++) {
            PvxLayer *l = g_ptr_array_index(convs, i);
            for (int64_t k = 0; k < pvx_tensor_numel(l->mask); k++)
                kept += l->mask->data[k] != 0.0f;
            total += pvx_tensor_numel(l->mask);
        }
        r->density = (double)kept / (double)total;
        g_autofree char *group = g_strdup_printf("/cr%g", crs[c]);
        store_or_die(pvx_model_save_masks(m, store, group, &error), error);
        measure_cr(m, x, reps, r);
        fprintf(stderr, "  cr %g measured\n", crs[c]);
    }
    store_or_die(pvx_store_commit(store, &error), error);
    g_clear_pointer(&store, pvx_store_close);
    pvx_model_release_buffers(m);

    g_autoptr(GHashTable) torch =
        no_torch ? g_hash_table_new(g_str_hash, g_str_equal)
                 : run_torch(threads, batch, reps, h5, crs, (int)G_N_ELEMENTS(crs));
    g_remove(h5);
    g_rmdir(dir);

    printf("VGG-16, 224×224, batch %d, conv layers pruned by magnitude (local), %s per image "
           "(best of %d)\n",
           batch, cpu_clock ? "CPU seconds" : "seconds", reps);
    printf("%-4s %8s %10s %10s %8s %7s %10s %9s %9s %9s %7s\n", "CR", "density", "dense s",
           "auto s", "speedup", "sparse", "torch s", "vs torch", "dense %sg", "auto %sg",
           "compr s");
    for (gsize c = 0; c < G_N_ELEMENTS(rows); c++) {
        Row *r = &rows[c];
        g_autofree char *key = c == 0 ? g_strdup("dense") : g_strdup_printf("cr%g", r->cr);
        double *tt = g_hash_table_lookup(torch, key);
        char ts[32] = "-", vs[32] = "-";
        if (tt) {
            g_snprintf(ts, sizeof ts, "%.4f", *tt / batch);
            g_snprintf(vs, sizeof vs, "%.2fx", *tt / r->sparse);
        }
        /* Dense-equivalent GFLOP/s as a fraction of sgemm (as bench-vgg prints it). */
        double gd = gflop * batch / r->dense / sgemm, ga = gflop * batch / r->sparse / sgemm;
        printf("%-4g %8.4f %10.4f %10.4f %7.2fx %3d/%-3d %10s %9s %8.0f%% %8.0f%% %7.2f\n", r->cr,
               r->density, r->dense / batch, r->sparse / batch, r->dense / r->sparse, r->n_sparse,
               r->n_conv, ts, vs, 100 * gd, 100 * ga, r->compress);
    }
    printf("(dense: PVX_SPARSE=off; auto: the automatic choice, 'sparse' = conv layers it ran "
           "sparse; torch: torch.nn.utils.prune masks, same weights, same threads; %%sg: "
           "dense-equivalent %.1f GFLOP/img over the time, as a fraction of sgemm; compr: "
           "compressing the 13 conv weights, once per change of weights or masks)\n",
           gflop);
    return 0;
}
