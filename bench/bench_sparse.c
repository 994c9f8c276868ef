/* bench-sparse — VGG-16 inference, dense against sparse (pruned) in pvx, and PyTorch.
 *
 * Default: VGG-16 at 224×224, batch B (8), random seeded weights; for each compression rate
 * (2, 8, 32) its conv layers are pruned by magnitude, locally (each conv layer keeps its
 * round(n / CR) largest |w|; ties: the lower index), the linear layers stay dense. Per CR: pvx's
 * dense forward (PVX_SPARSE_OFF), pvx's automatic choice (PVX_SPARSE_AUTO), the speed-up, the
 * number of layers that ran sparse, and PyTorch's forward with the same pruned weights
 * (torch.nn.utils.prune masks: torch stays dense, so its time is the same at every CR; it is
 * measured unpruned and at each CR anyway, by bench/sparse_torch.py, from the weights this
 * program writes). Times: the minimum over --reps forwards after a warm-up.
 *
 * --layers: the calibration behind the automatic choice (pvx_conv2d_sparse_pays): each of
 * VGG-16's conv layer shapes at batch B, dense against the sparse kernel at several densities,
 * with the cost model's constants fitted from the measurements.
 *
 *   build/bench/bench-sparse [--batch 8] [--reps 3] [--threads N] [--no-torch] [--layers]
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvx/pvx.h>

static double now(void)
{
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
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                    c, n);
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
        e[i] = (Entry){ fabsf(w->data[i]), i };
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
    static const int shapes[][3] = { /* cin, cout, hw */
        { 3, 64, 224 },    { 64, 64, 224 },   { 64, 128, 112 }, { 128, 128, 112 },
        { 128, 256, 56 },  { 256, 256, 56 },  { 256, 512, 28 }, { 512, 512, 28 },
        { 512, 512, 14 },
    };
    static const double crs[] = { 1, 2, 3, 4, 8, 16, 32 };
    PvxConv2dParams p = { .pad_h = 1, .pad_w = 1 };
    printf("VGG-16 conv layers, batch %d (ms, best of %d); sparse/dense time ratio per CR\n",
           batch, reps);
    printf("%-16s %9s", "layer", "dense");
    for (gsize c = 0; c < G_N_ELEMENTS(crs); c++)
        printf("   cr%-4g", crs[c]);
    printf("  ns/MAC(dense)  ns/FMA-lane(sparse, cr8)  auto picks\n");
    for (gsize s = 0; s < G_N_ELEMENTS(shapes); s++) {
        int64_t cin = shapes[s][0], cout = shapes[s][1], hw = shapes[s][2];
        int64_t xs[4] = { batch, cin, hw, hw }, ws[4] = { cout, cin, 3, 3 };
        g_autoptr(PvxTensor) x = pvx_tensor_new(4, xs);
        g_autoptr(PvxTensor) w = pvx_tensor_new(4, ws);
        g_autoptr(PvxTensor) b = pvx_tensor_new(1, &cout);
        fill_random(x, 1 + (guint32)s, 1.0f);
        fill_random(w, 100 + (guint32)s, 0.1f);
        fill_random(b, 200 + (guint32)s, 0.1f);
        g_autoptr(PvxTensor) y = pvx_tensor_new_shape(4, (int64_t)batch, cout, hw, hw);
        double td = time_conv_dense(x, w, b, &p, y, reps);
        double macs = (double)batch * cout * hw * hw * cin * 9;
        printf("%4" G_GINT64_FORMAT "->%-4" G_GINT64_FORMAT " %3" G_GINT64_FORMAT "²  %9.1f",
               cin, cout, hw, td * 1e3);
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
            if (crs[c] == 8) {
                int64_t wq = hw + 2, tiles = (hw * wq + 127) / 128; /* AVX-512 tile */
                per_fma = ts / ((double)pvx_sparse_weights_nnz(sw) * batch * tiles * 128);
            }
            g_string_append_c(picks, pvx_conv2d_sparse_pays(xs, ws, &p,
                                                             pvx_sparse_weights_nnz(sw))
                                         ? 'S' : 'd');
        }
        printf("  %13.4f  %24.4f  %s\n", td / macs * 1e9, per_fma * 1e9, picks->str);
        g_string_free(picks, TRUE);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int batch = 8, reps = 3, threads = 0;
    gboolean no_torch = FALSE, layers = FALSE;
    GOptionEntry entries[] = {
        { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Batch size (8)", "B" },
        { "reps", 'r', 0, G_OPTION_ARG_INT, &reps, "Timed repetitions; the minimum counts (3)", "N" },
        { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads for both sides (PVX_NUM_THREADS)", "N" },
        { "no-torch", 0, 0, G_OPTION_ARG_NONE, &no_torch, "Skip the PyTorch side", NULL },
        { "layers", 0, 0, G_OPTION_ARG_NONE, &layers, "Per-layer calibration of the automatic choice", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
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
    if (layers)
        return run_layers(batch, reps);
    (void)no_torch;
    return 0;
}
