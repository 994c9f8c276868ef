/* bench-ops-conv-dw: pvx's depthwise conv2d (pvx_conv2d_grouped_forward with groups = C) on
 * MobileNetV2's and EfficientNet-B0's depthwise shapes, forward and forward + backward (dx, dw,
 * db), against PyTorch's F.conv2d(groups = C) on the same machine in the same run (with --torch
 * PYTHON SCRIPT; PyTorch runs as a timing server in a child process and the two alternate).
 * Every timing is the minimum of --reps runs.
 * usage: bench-ops-conv-dw [--reps R] [--torch PYTHON bench_conv_dw_torch.py] */
#include <stdio.h>
#include <stdlib.h>

#include "pvx-private/core.h"

typedef struct {
    int n, c, h, k, s;
} Shape;

/* Batch 1 and 8 of: MobileNetV2's 112×112 stride 1 and 2, 56×56 stride 2, 14×14 and 7×7
 * stride 1; EfficientNet-B0's 5×5 at 56×56 stride 2 and at 14×14 stride 1. */
static const Shape shapes[] = {
    {1, 32, 112, 3, 1}, {1, 96, 112, 3, 2}, {1, 144, 56, 3, 2}, {1, 384, 14, 3, 1},
    {1, 960, 7, 3, 1},  {1, 144, 56, 5, 2}, {1, 672, 14, 5, 1}, {8, 32, 112, 3, 1},
    {8, 96, 112, 3, 2}, {8, 144, 56, 3, 2}, {8, 384, 14, 3, 1}, {8, 960, 7, 3, 1},
    {8, 144, 56, 5, 2}, {8, 672, 14, 5, 1},
};
#define NSHAPES (int)(sizeof shapes / sizeof shapes[0])

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

static gboolean torch_time(Torch *t, const Shape *sh, double *fwd, double *train)
{
    fprintf(t->to, "%d,%d,%d,%d,%d\n", sh->n, sh->c, sh->h, sh->k, sh->s);
    fflush(t->to);
    char line[256];
    return fgets(line, sizeof line, t->from) != NULL && sscanf(line, "%lf %lf", fwd, train) == 2;
}

int main(int argc, char **argv)
{
    int reps = 20;
    const char *py = NULL, *script = NULL;
    for (int i = 1; i < argc; i++) {
        if (g_str_equal(argv[i], "--reps") && i + 1 < argc)
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
    printf("threads %d, depthwise conv2d (groups = C, padding K/2, bias), min of %d runs\n",
           pvx_num_threads(), reps);
    printf("%-22s %9s %9s %7s | %9s %9s %7s\n", "N×C×H K s", "fwd ms", "torch", "ratio", "f+b ms",
           "torch", "ratio");
    for (int s = 0; s < NSHAPES; s++) {
        const Shape *sh = &shapes[s];
        g_autoptr(PvxTensor) x =
            pvx_tensor_new_shape(4, (int64_t)sh->n, (int64_t)sh->c, (int64_t)sh->h, (int64_t)sh->h);
        g_autoptr(PvxTensor) w =
            pvx_tensor_new_shape(4, (int64_t)sh->c, (int64_t)1, (int64_t)sh->k, (int64_t)sh->k);
        g_autoptr(PvxTensor) b = pvx_tensor_new_shape(1, (int64_t)sh->c);
        for (int64_t i = 0; i < pvx_tensor_numel(x); i++)
            x->data[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
        for (int64_t i = 0; i < pvx_tensor_numel(w); i++)
            w->data[i] = (float)((i * 104729) % 1000) * 1e-4f - 0.05f;
        PvxConv2dParams p = {sh->s, sh->s, sh->k / 2, sh->k / 2, 1, 1};
        g_autoptr(PvxTensor) y = pvx_conv2d_grouped_forward(x, w, b, &p, sh->c, NULL, &error);
        g_autoptr(PvxTensor) dx = pvx_tensor_new_like(x);
        g_autoptr(PvxTensor) dw = pvx_tensor_new_like(w);
        g_autoptr(PvxTensor) db = pvx_tensor_new_like(b);
        pvx_conv2d_grouped_backward(x, w, y, &p, sh->c, &dx, dw, db, &error);
        double pf = 1e30, pt = 1e30, tf = 1e30, tt = 1e30;
        for (int r = 0; r < reps; r++) {
            double f, t;
            if (py != NULL) {
                if (!torch_time(&torch, sh, &f, &t)) {
                    g_printerr("torch: no timing\n");
                    return 1;
                }
                tf = MIN(tf, f);
                tt = MIN(tt, t);
            }
            gint64 t0 = g_get_monotonic_time();
            g_autoptr(PvxTensor) y2 = pvx_conv2d_grouped_forward(x, w, b, &p, sh->c, y, &error);
            gint64 t1 = g_get_monotonic_time();
            g_autoptr(PvxTensor) y3 = pvx_conv2d_grouped_forward(x, w, b, &p, sh->c, y, &error);
            pvx_conv2d_grouped_backward(x, w, y, &p, sh->c, &dx, dw, db, &error);
            gint64 t2 = g_get_monotonic_time();
            pf = MIN(pf, (t1 - t0) * 1e-6);
            pt = MIN(pt, (t2 - t1) * 1e-6);
        }
        if (py == NULL)
            tf = tt = 0;
        char name[64];
        g_snprintf(name, sizeof name, "%d×%d×%d %dx%d s%d", sh->n, sh->c, sh->h, sh->k, sh->k,
                   sh->s);
        printf("%-24s %9.3f %9.3f %6.2fx | %9.3f %9.3f %6.2fx\n", name, pf * 1e3, tf * 1e3, tf / pf,
               pt * 1e3, tt * 1e3, tt / pt);
        fflush(stdout);
    }
    printf("ratio = torch time / pvx time (> 1: pvx faster)\n");
    if (torch.to != NULL) {
        fclose(torch.to);
        fclose(torch.from);
    }
    return 0;
}
