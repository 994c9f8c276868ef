/* pvx — seeded weight initialisation as torchvision's VGG does it. */
#include <math.h>

#include "nn_private.h"
#include "pvx/random.h"

/* Block @block of stream @stream: a xoshiro256** stream whose seed mixes (seed, stream, block)
 * through splitmix64, so every block draws the same numbers whichever thread fills it. */
static void rng_seed(PvxRng *r, guint64 seed, guint64 stream, guint64 block)
{
    guint64 x = seed;
    x ^= pvx_splitmix64(&(guint64){stream * 0x632be59bd9b4e019u + 1});
    x ^= pvx_splitmix64(&(guint64){block * 0x8cb92ba72f3d8dd7u + 2});
    pvx_rng_init(r, x);
}

#define BLOCK 65536

typedef struct {
    float *data;
    int64_t n;
    double std;
    guint64 seed, stream;
} NormalJob;

static void normal_blocks(int64_t b0, int64_t b1, void *data)
{
    const NormalJob *j = data;
    for (int64_t b = b0; b < b1; b++) {
        PvxRng r;
        rng_seed(&r, j->seed, j->stream, (guint64)b);
        int64_t end = MIN(j->n, (b + 1) * BLOCK);
        for (int64_t i = b * BLOCK; i < end; i += 2) {
            /* Box–Muller: 1 - u lies in (0, 1], so the log is finite.
             * Single precision is plenty for float weights and twice as fast on VGG's 138M;
             * u1 keeps its 53-bit resolution in float's exponent, so the tails reach 8.6 sigma. */
            float u1 = (float)(1.0 - pvx_rng_uniform(&r)), u2 = (float)pvx_rng_uniform(&r);
            float rad = sqrtf(-2.0f * logf(u1)) * (float)j->std, s, c;
            sincosf(2.0f * (float)G_PI * u2, &s, &c);
            j->data[i] = rad * c;
            if (i + 1 < end)
                j->data[i + 1] = rad * s;
        }
    }
}

static void fill_normal(PvxTensor *t, double std, guint64 seed, guint64 stream)
{
    NormalJob j = {t->data, pvx_tensor_numel(t), std, seed, stream};
    pvx_parallel_for((j.n + BLOCK - 1) / BLOCK, 1, normal_blocks, &j);
}

void pvx_model_init(PvxModel *m, guint64 seed)
{
    g_return_if_fail(m != NULL);
    for (guint i = 0; i < m->layers->len; i++) {
        PvxLayer *l = g_ptr_array_index(m->layers, i);
        switch (l->type) {
        case PVX_LAYER_CONV2D: {
            /* kaiming_normal_(mode="fan_out", nonlinearity="relu"): gain sqrt(2). */
            double fan_out = (double)l->out_features * l->kernel_h * l->kernel_w;
            fill_normal(l->weight, sqrt(2.0 / fan_out), seed, i);
            break;
        }
        case PVX_LAYER_LINEAR:
            fill_normal(l->weight, 0.01, seed, i);
            break;
        case PVX_LAYER_BATCHNORM2D:
            pvx_tensor_fill(l->weight, 1.0f);
            pvx_tensor_zero(l->running_mean);
            pvx_tensor_fill(l->running_var, 1.0f);
            l->num_batches_tracked = 0;
            break;
        default:
            break;
        }
        if (l->bias)
            pvx_tensor_zero(l->bias);
    }
    pvx_model_apply_masks(m);
}
