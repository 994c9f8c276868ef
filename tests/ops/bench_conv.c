/* bench-ops-conv: pvx's conv2d on VGG-16's 3×3 layer shapes at 224×224, forward and
 * forward + backward (dx, dw, db), against cblas_sgemm's own speed and (with --torch PYTHON
 * SCRIPT) against PyTorch on the same machine in the same run.
 *
 * GFLOP/s count the direct convolution's flops (2·N·Cout·H·W·Cin·9 forward, three times that
 * forward + backward) whatever the algorithm, so a Winograd layer can show more than sgemm's
 * speed. Other work may share the CPU: every timing is the minimum of --reps runs, and PyTorch's
 * and pvx's runs of a shape alternate (PyTorch runs as a timing server in a child process).
 * PVX_CONV_ALGO picks pvx's algorithm (default auto, see ops.h).
 * usage: bench-ops-conv [--batch N] [--reps R] [--torch PYTHON bench_conv_torch.py] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvx-private/core.h"

typedef struct {
    int cin, cout, h, count; /* count: how many layers of VGG-16 have this shape */
} Shape;

static const Shape vgg16[] = {
    {3, 64, 224, 1},   {64, 64, 224, 1},  {64, 128, 112, 1}, {128, 128, 112, 1}, {128, 256, 56, 1},
    {256, 256, 56, 2}, {256, 512, 28, 1}, {512, 512, 28, 2}, {512, 512, 14, 3},
};
#define NSHAPES (int)(sizeof vgg16 / sizeof vgg16[0])

typedef struct {
    FILE *to, *from;
} Torch;

static gboolean torch_start(Torch *t, const char *py, const char *script, GError **error)
{
    g_autofree char *threads = g_strdup_printf("%d", pvx_num_threads());
    char *args[] = {(char *)py, (char *)script, threads, NULL};
    int in = -1, out = -1;
    if (!g_spawn_async_with_pipes(NULL, args, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &in, &out,
                                  NULL, error))
        return FALSE;
    t->to = fdopen(in, "w");
    t->from = fdopen(out, "r");
    return t->to != NULL && t->from != NULL;
}

/* One timed forward and one forward + backward of @sh in PyTorch. */
static gboolean torch_time(Torch *t, int batch, const Shape *sh, double *fwd, double *train)
{
    fprintf(t->to, "%d,%d,%d,%d\n", batch, sh->cin, sh->cout, sh->h);
    fflush(t->to);
    char line[256];
    return fgets(line, sizeof line, t->from) != NULL && sscanf(line, "%lf %lf", fwd, train) == 2;
}

/* cblas_sgemm's speed on 2048³, best of @reps runs. The benchmark calls it again between the
 * layers' runs and keeps the best, so that a busy moment at the start does not flatter pvx. */
static double sgemm_gflops(int reps)
{
    const int n = 2048;
    static float *a, *b, *c;
    if (a == NULL) {
        a = pvx_aligned_alloc(sizeof(float) * n * n);
        b = pvx_aligned_alloc(sizeof(float) * n * n);
        c = pvx_aligned_alloc(sizeof(float) * n * n);
        for (int i = 0; i < n * n; i++)
            a[i] = b[i] = (float)(i % 7) * 0.1f;
    }
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        gint64 t = g_get_monotonic_time();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                    n);
        best = MIN(best, (g_get_monotonic_time() - t) * 1e-6);
    }
    return 2.0 * n * n * (double)n / best * 1e-9;
}

static double flops_of(const Shape *sh, int batch)
{
    return 2.0 * batch * sh->cout * (double)sh->h * sh->h * sh->cin * 9;
}

int main(int argc, char **argv)
{
    int batch = 8, reps = 3;
    const char *py = NULL, *script = NULL;
    for (int i = 1; i < argc; i++) {
        if (g_str_equal(argv[i], "--batch") && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (g_str_equal(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (g_str_equal(argv[i], "--torch") && i + 2 < argc) {
            py = argv[++i];
            script = argv[++i];
        }
    }
    g_autoptr(GError) error = NULL;
    if (!pvx_threads_init(&error)) {
        g_printerr("%s\n", error->message);
        return 1;
    }
    Torch torch = {0};
    if (py != NULL && !torch_start(&torch, py, script, &error)) {
        g_printerr("torch: %s\n", error->message);
        return 1;
    }
    double peak = sgemm_gflops(3);
    const char *algo = g_getenv("PVX_CONV_ALGO");
    printf("threads %d, batch %d, PVX_CONV_ALGO=%s, min of %d runs (torch and pvx alternating)\n",
           pvx_num_threads(), batch, algo != NULL ? algo : "auto", reps);
    printf("GFLOP/s = direct convolution flops / time (fwd+bwd: 3x the forward's)\n");
    double tpf[NSHAPES], tpt[NSHAPES], ttf[NSHAPES], ttt[NSHAPES];
    for (int s = 0; s < NSHAPES; s++) {
        const Shape *sh = &vgg16[s];
        g_autoptr(PvxTensor) x = pvx_tensor_new_shape(4, (int64_t)batch, (int64_t)sh->cin,
                                                      (int64_t)sh->h, (int64_t)sh->h);
        g_autoptr(PvxTensor) w =
            pvx_tensor_new_shape(4, (int64_t)sh->cout, (int64_t)sh->cin, (int64_t)3, (int64_t)3);
        g_autoptr(PvxTensor) b = pvx_tensor_new_shape(1, (int64_t)sh->cout);
        for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
            x->data[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
        for (int64_t i = 0; i < pvx_tensor_numel(w); i++)
            w->data[i] = (float)((i * 104729) % 1000) * 1e-4f - 0.05f;
        PvxConv2dParams p = {.pad_h = 1, .pad_w = 1};
        g_autoptr(PvxTensor) y = pvx_conv2d_forward(x, w, b, &p, NULL, &error); /* warm-up */
        g_autoptr(PvxTensor) dx = pvx_tensor_new_like(x);
        g_autoptr(PvxTensor) dw = pvx_tensor_new_like(w);
        g_autoptr(PvxTensor) db = pvx_tensor_new_like(b);
        pvx_conv2d_backward(x, w, y, &p, &dx, dw, db, &error);
        double pf = 1e30, pt = 1e30, tf = 1e30, tt = 1e30;
        for (int r = 0; r < reps; r++) {
            double f, t;
            peak = MAX(peak, sgemm_gflops(1));
            if (py != NULL) {
                if (!torch_time(&torch, batch, sh, &f, &t)) {
                    g_printerr("torch: no timing for %d>%d %dx%d\n", sh->cin, sh->cout, sh->h,
                               sh->h);
                    return 1;
                }
                tf = MIN(tf, f);
                tt = MIN(tt, t);
            }
            gint64 t0 = g_get_monotonic_time();
            g_autoptr(PvxTensor) y2 = pvx_conv2d_forward(x, w, b, &p, y, &error);
            gint64 t1 = g_get_monotonic_time();
            g_autoptr(PvxTensor) y3 = pvx_conv2d_forward(x, w, b, &p, y, &error);
            pvx_conv2d_backward(x, w, y, &p, &dx, dw, db, &error);
            gint64 t2 = g_get_monotonic_time();
            pf = MIN(pf, (t1 - t0) * 1e-6);
            pt = MIN(pt, (t2 - t1) * 1e-6);
        }
        if (py == NULL)
            tf = tt = 0;
        tpf[s] = pf, tpt[s] = pt, ttf[s] = tf, ttt[s] = tt;
        g_printerr("%d>%d %dx%d done\n", sh->cin, sh->cout, sh->h, sh->h);
    }
    printf("%-17s %8s %8s %6s %8s %7s | %8s %8s %6s %8s %7s\n", "Cin>Cout HxW", "fwd ms", "GFLOP/s",
           "%sgemm", "torch", "ratio", "f+b ms", "GFLOP/s", "%sgemm", "torch", "ratio");
    double tot[4] = {0}, all = 0;
    for (int s = 0; s < NSHAPES; s++) {
        const Shape *sh = &vgg16[s];
        double fl = flops_of(sh, batch), pf = tpf[s], pt = tpt[s], tf = ttf[s], tt = ttt[s];
        printf("%4d>%-4d %3dx%-3d %8.1f %8.1f %5.0f%% %8.1f %6.2fx | %8.1f %8.1f %5.0f%% %8.1f "
               "%6.2fx\n",
               sh->cin, sh->cout, sh->h, sh->h, pf * 1e3, fl / pf * 1e-9,
               100 * fl / pf * 1e-9 / peak, tf * 1e3, tf / pf, pt * 1e3, 3 * fl / pt * 1e-9,
               100 * 3 * fl / pt * 1e-9 / peak, tt * 1e3, tt / pt);
        tot[0] += sh->count * pf;
        tot[1] += sh->count * tf;
        tot[2] += sh->count * pt;
        tot[3] += sh->count * tt;
        all += sh->count * fl;
    }
    printf("%%sgemm: against cblas_sgemm 2048^3's best during the run, %.1f GFLOP/s\n", peak);
    printf("VGG-16's 13 conv layers, batch %d (pvx / torch ratio > 1: pvx faster):\n"
           "  forward %.3f s, %.1f GFLOP/s = %.0f%% of sgemm; torch %.3f s; ratio %.2fx\n"
           "  fwd+bwd %.3f s, %.1f GFLOP/s = %.0f%% of sgemm; torch %.3f s; ratio %.2fx\n",
           batch, tot[0], all / tot[0] * 1e-9, 100 * all / tot[0] * 1e-9 / peak, tot[1],
           tot[1] / tot[0], tot[2], 3 * all / tot[2] * 1e-9, 100 * 3 * all / tot[2] * 1e-9 / peak,
           tot[3], tot[3] / tot[2]);
    if (torch.to != NULL) {
        fclose(torch.to); /* the server exits at end of input */
        fclose(torch.from);
    }
    return 0;
}
