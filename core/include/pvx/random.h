/* pvx — seeded random numbers, written once for the core and its plugins.
 *
 * Two kinds of randomness, both pure functions of a seed:
 *  - a stream: xoshiro256** (Blackman & Vigna, 2018) in a PvxRng that lives on the caller's
 *    stack, seeded through splitmix64; draws depend on how many came before;
 *  - counters: pvx_mix64 / pvx_hash64 hash coordinates (seed, index, …) to a 64-bit value, so a
 *    draw depends on nothing but its coordinates — not on access order or thread count.
 * Every result is fixed by the algorithms below: changing one changes pinned numbers (weights,
 * shuffles, bootstrap intervals, pruning masks), so they do not change.
 *
 * The small functions are static inline because they sit in per-element loops (dropout masks,
 * weight initialisation).
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "api.h"

PVX_BEGIN_DECLS

/* splitmix64's output function (Steele, Lea & Flood 2014): a bijective 64-bit mix. */
static inline guint64 pvx_mix64(guint64 z)
{
    z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* One step of the splitmix64 generator: adds the golden-ratio increment 0x9e3779b97f4a7c15 to
 * @state and returns pvx_mix64 of the new state. */
static inline guint64 pvx_splitmix64(guint64 *state)
{
    return pvx_mix64(*state += G_GUINT64_CONSTANT(0x9e3779b97f4a7c15));
}

/* A double in [0, 1) from the top 53 bits of @x: (x >> 11) · 2⁻⁵³. */
static inline double pvx_u64_to_unit(guint64 x)
{
    return (double)(x >> 11) * 0x1.0p-53;
}

/* A xoshiro256** stream. Plain data: copy it to fork a stream, no free needed. */
typedef struct {
    guint64 s[4];
} PvxRng;

/* Seeds @r: s[0..3] are four consecutive splitmix64 outputs starting from state @seed (the
 * seeding Blackman & Vigna recommend). */
void pvx_rng_init(PvxRng *r, guint64 seed);

/* The next 64-bit output of xoshiro256**. */
static inline guint64 pvx_rng_next_u64(PvxRng *r)
{
    guint64 *s = r->s;
    guint64 x = s[1] * 5;
    guint64 result = ((x << 7) | (x >> 57)) * 9;
    guint64 t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform double in [0, 1) with 53 random bits: pvx_u64_to_unit(pvx_rng_next_u64(r)). */
static inline double pvx_rng_uniform(PvxRng *r)
{
    return pvx_u64_to_unit(pvx_rng_next_u64(r));
}

/* Uniform integer in [0, @n) without modulo bias (Lemire's multiply-shift with rejection); it
 * draws one output, or more when one is rejected. @n ≥ 1. */
int64_t pvx_rng_below(PvxRng *r, int64_t n);

/* A standard normal deviate (mean 0, variance 1) by Box–Muller, from two uniforms drawn in this
 * order: u = 1 − pvx_rng_uniform(r) (in (0, 1], so the logarithm is finite), then
 * v = pvx_rng_uniform(r); returns √(−2 ln u) · cos(2πv). The sine half is discarded, so every
 * call draws exactly two outputs. */
double pvx_rng_gaussian(PvxRng *r);

/* Shuffles the first @k places of @base (an array of @n elements of @size bytes each) in place,
 * the forward Fisher–Yates way: for i = 0 … min(@k, @n − 1) − 1, swap element i with element
 * j = i + pvx_rng_below(r, n − i). Afterwards the first min(k, n) elements are a uniformly drawn
 * ordered sample without replacement of the array, and the whole array is a permutation of what
 * it held; @k ≥ @n − 1 shuffles it all. Draws min(k, n − 1) bounded values (none when n ≤ 1). */
void pvx_rng_shuffle(PvxRng *r, void *base, gsize n, gsize size, gsize k);

/* A well-mixed 64-bit value from (@seed, @a, @b): three splitmix64 steps starting from @seed, with
 * a and b (each times 0xd1342543de82ef95) xored in after the first and the second. */
guint64 pvx_hash64(guint64 seed, guint64 a, guint64 b);

/* A well-mixed 64-bit value from (@seed, the string @s): pvx_hash64(seed, f, strlen(s)), where f is
 * the 64-bit FNV-1a hash of s's bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3; each
 * byte, as unsigned, xored in before the multiply). Fixed by its definition, unlike g_str_hash,
 * so seeds derived from names stay the same across GLib versions. @s may be empty, not NULL. */
guint64 pvx_hash64_str(guint64 seed, const char *s);

/* An integer in [0, @bound) drawn by counter: ⌊pvx_hash64(seed, counter, 0x5eed) · bound / 2⁶⁴⌋
 * (Lemire's multiply-shift without rejection: bias below 2⁻³² for bounds under 2³²). */
guint64 pvx_hash_below(guint64 seed, guint64 counter, guint64 bound);

/* Fisher–Yates permutation of 0..n-1 driven by @seed: for i = n-1 … 1, swap i with
 * j = pvx_hash_below(seed, i, i + 1). @out holds @n entries (caller-owned). */
void pvx_permutation(int64_t n, guint64 seed, int64_t *out);

PVX_END_DECLS
