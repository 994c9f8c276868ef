/* bench-ops-conv: pvx's conv2d on VGG-16's 3×3 layer shapes at 224×224, forward and
 * forward + backward (dx, dw, db), in GFLOP/s, against cblas_sgemm's own speed and (with
 * --torch PYTHON SCRIPT) against PyTorch on the same machine in the same run.
 * usage: bench-ops-conv [--batch N] [--reps R] [--torch PYTHON bench_conv_torch.py] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvx/pvx.h>

typedef struct {
    int cin, cout, h, count; /* count: how many layers of VGG-16 have this shape */
} Shape;

static const Shape vgg16[] = {
    { 3, 64, 224, 1 },   { 64, 64, 224, 1 },  { 64, 128, 112, 1 }, { 128, 128, 112, 1 },
    { 128, 256, 56, 1 }, { 256, 256, 56, 2 }, { 256, 512, 28, 1 }, { 512, 512, 28, 2 },
    { 512, 512, 14, 3 },
};
#define NSHAPES (int)(sizeof vgg16 / sizeof vgg16[0])

/* Times one shape in PyTorch (a fresh python per shape, run right before pvx's timing of the
 * same shape, so that a machine whose load changes during the run treats both alike). */
static gboolean torch_time(const char *py, const char *script, int batch, int reps, const Shape *sh,
                           double *fwd, double *train, GError **error)
{
    g_autofree char *threads = g_strdup_printf("%d", pvx_num_threads());
    g_autofree char *r = g_strdup_printf("%d", reps);
    g_autofree char *spec = g_strdup_printf("%d,%d,%d,%d", batch, sh->cin, sh->cout, sh->h);
    char *args[] = { (char *)py, (char *)script, threads, r, spec, NULL };
    g_autofree char *out = NULL;
    int status = 0;
    if (!g_spawn_sync(NULL, args, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, error) ||
        !g_spawn_check_wait_status(status, error))
        return FALSE;
    return sscanf(out, "%*s %lf %lf", fwd, train) == 2;
}

static double sgemm_gflops(void)
{
    const int n = 2048;
    float *a = pvx_aligned_alloc(sizeof(float) * n * n), *b = pvx_aligned_alloc(sizeof(float) * n * n);
    float *c = pvx_aligned_alloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++)
        a[i] = b[i] = (float)(i % 7) * 0.1f;
    double best = 1e30;
    for (int r = 0; r < 4; r++) {
        gint64 t = g_get_monotonic_time();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        best = MIN(best, (g_get_monotonic_time() - t) * 1e-6);
    }
    pvx_aligned_free(a);
    pvx_aligned_free(b);
    pvx_aligned_free(c);
    return 2.0 * n * n * (double)n / best * 1e-9;
}

int main(int argc, char **argv)
{
    int batch = 8, reps = 2;
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
    double peak = sgemm_gflops();
    printf("threads %d, cblas_sgemm 2048^3: %.1f GFLOP/s, batch %d\n", pvx_num_threads(), peak, batch);

    double torch_f[NSHAPES] = { 0 }, torch_t[NSHAPES] = { 0 };
    printf("%-18s %9s %9s %6s %9s %9s | %9s %9s %6s\n", "Cin>Cout HxW", "fwd ms", "GFLOP/s", "%sgemm",
           "torch ms", "speedup", "f+b ms", "torch ms", "speedup");
    double tot[4] = { 0 };
    for (int s = 0; s < NSHAPES; s++) {
        const Shape *sh = &vgg16[s];
        if (py != NULL && !torch_time(py, script, batch, reps, sh, &torch_f[s], &torch_t[s], &error)) {
            g_printerr("torch: %s\n", error != NULL ? error->message : "unreadable output");
            return 1;
        }
        g_autoptr(PvxTensor) x = pvx_tensor_new_shape(4, (int64_t)batch, (int64_t)sh->cin, (int64_t)sh->h, (int64_t)sh->h);
        g_autoptr(PvxTensor) w = pvx_tensor_new_shape(4, (int64_t)sh->cout, (int64_t)sh->cin, (int64_t)3, (int64_t)3);
        g_autoptr(PvxTensor) b = pvx_tensor_new_shape(1, (int64_t)sh->cout);
        for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
            x->data[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
        for (int64_t i = 0; i < pvx_tensor_numel(w); i++)
            w->data[i] = (float)((i * 104729) % 1000) * 1e-4f - 0.05f;
        PvxConv2dParams p = { .pad_h = 1, .pad_w = 1 };
        g_autoptr(PvxTensor) y = pvx_conv2d_forward(x, w, b, &p, NULL, &error);
        g_autoptr(PvxTensor) dx = pvx_tensor_new_like(x);
        g_autoptr(PvxTensor) dw = pvx_tensor_new_like(w);
        g_autoptr(PvxTensor) db = pvx_tensor_new_like(b);
        double best_f = 1e30, best_t = 1e30;
        for (int r = 0; r < reps; r++) {
            gint64 t0 = g_get_monotonic_time();
            g_autoptr(PvxTensor) y2 = pvx_conv2d_forward(x, w, b, &p, y, &error);
            gint64 t1 = g_get_monotonic_time();
            g_autoptr(PvxTensor) y3 = pvx_conv2d_forward(x, w, b, &p, y, &error);
            pvx_conv2d_backward(x, w, y, &p, &dx, dw, db, &error);
            gint64 t2 = g_get_monotonic_time();
            best_f = MIN(best_f, (t1 - t0) * 1e-6);
            best_t = MIN(best_t, (t2 - t1) * 1e-6);
        }
        double flops = 2.0 * batch * sh->cout * (double)sh->h * sh->h * sh->cin * 9;
        double gf = flops / best_f * 1e-9;
        printf("%4d>%-4d %3dx%-3d   %9.1f %9.1f %5.0f%% %9.1f %8.2fx | %9.1f %9.1f %5.2fx\n", sh->cin, sh->cout,
               sh->h, sh->h, best_f * 1e3, gf, 100 * gf / peak, torch_f[s] * 1e3,
               torch_f[s] > 0 ? torch_f[s] / best_f : 0, best_t * 1e3, torch_t[s] * 1e3,
               torch_t[s] > 0 ? torch_t[s] / best_t : 0);
        tot[0] += sh->count * best_f;
        tot[1] += sh->count * torch_f[s];
        tot[2] += sh->count * best_t;
        tot[3] += sh->count * torch_t[s];
    }
    double all = 0;
    for (int s = 0; s < NSHAPES; s++)
        all += vgg16[s].count * 2.0 * batch * vgg16[s].cout * (double)vgg16[s].h * vgg16[s].h * vgg16[s].cin * 9;
    printf("VGG-16 conv layers, batch %d: forward %.3f s (%.1f GFLOP/s, %.0f%% of sgemm), torch %.3f s, "
           "speedup %.2fx; fwd+bwd %.3f s, torch %.3f s, speedup %.2fx\n",
           batch, tot[0], all / tot[0] * 1e-9, 100 * all / tot[0] * 1e-9 / peak, tot[1],
           tot[1] > 0 ? tot[1] / tot[0] : 0, tot[2], tot[3], tot[3] > 0 ? tot[3] / tot[2] : 0);
    return 0;
}
