/* pvx — seeded random numbers: xoshiro256** seeding, bounded and Gaussian draws and the shuffle,
 * the counter and string hashes and the seeded permutation (pvx/random.h). */
#include "pvx/random.h"

#include <math.h>

void pvx_rng_init(PvxRng *r, guint64 seed)
{
    g_return_if_fail(r != NULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = pvx_splitmix64(&seed);
}

int64_t pvx_rng_below(PvxRng *r, int64_t n)
{
    g_return_val_if_fail(r != NULL && n >= 1, 0);
    guint64 bound = (guint64)n;
    for (;;) {
        unsigned __int128 m = (unsigned __int128)pvx_rng_next_u64(r) * bound;
        guint64 low = (guint64)m;
        if (low >= bound || low >= (-bound) % bound)
            return (int64_t)(m >> 64);
    }
}

double pvx_rng_gaussian(PvxRng *r)
{
    g_return_val_if_fail(r != NULL, 0);
    double u = 1.0 - pvx_rng_uniform(r);
    double v = pvx_rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(2.0 * G_PI * v);
}

void pvx_rng_shuffle(PvxRng *r, void *base, gsize n, gsize size, gsize k)
{
    g_return_if_fail(r != NULL && (n <= 1 || (base != NULL && size > 0)));
    guchar *b = base;
    for (gsize i = 0; i + 1 < n && i < k; i++) {
        gsize j = i + (gsize)pvx_rng_below(r, (int64_t)(n - i));
        if (j == i)
            continue;
        guchar *x = b + i * size, *y = b + j * size;
        for (gsize c = 0; c < size; c++) {
            guchar t = x[c];
            x[c] = y[c];
            y[c] = t;
        }
    }
}

guint64 pvx_hash64(guint64 seed, guint64 a, guint64 b)
{
    guint64 z = seed;
    guint64 in[2] = {a, b};
    for (int i = 0; i < 3; i++) {
        z = pvx_splitmix64(&z);
        if (i < 2)
            z ^= in[i] * G_GUINT64_CONSTANT(0xd1342543de82ef95);
    }
    return z;
}

guint64 pvx_hash64_str(guint64 seed, const char *s)
{
    g_return_val_if_fail(s != NULL, 0);
    guint64 f = G_GUINT64_CONSTANT(0xcbf29ce484222325);
    gsize len = 0;
    for (const guchar *p = (const guchar *)s; *p; p++, len++)
        f = (f ^ *p) * G_GUINT64_CONSTANT(0x100000001b3);
    return pvx_hash64(seed, f, (guint64)len);
}

guint64 pvx_hash_below(guint64 seed, guint64 counter, guint64 bound)
{
    return (guint64)(((unsigned __int128)pvx_hash64(seed, counter, 0x5eed) * bound) >> 64);
}

void pvx_permutation(int64_t n, guint64 seed, int64_t *out)
{
    g_return_if_fail(n <= 0 || out != NULL);
    for (int64_t i = 0; i < n; i++)
        out[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)pvx_hash_below(seed, (guint64)i, (guint64)i + 1);
        int64_t tmp = out[i];
        out[i] = out[j];
        out[j] = tmp;
    }
}
