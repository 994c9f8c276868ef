/* Tests of pvx/random.h: the stream, its Gaussian draws and shuffle, the hashes and the
 * permutation against reference values.
 * The xoshiro256** and splitmix64 vectors are the published first outputs of Blackman & Vigna's
 * reference code; the others come from the independent Python implementation in
 * random_reference.py (run it to print them). */
#include <math.h>
#include <string.h>

#include "pvx-private/core.h"

static void assert_u64_equal(const guint64 *got, const guint64 *want, int n)
{
    for (int i = 0; i < n; i++)
        g_assert_cmpuint(got[i], ==, want[i]);
}

static void xoshiro_matches_published_first_outputs(void)
{
    static const guint64 want[10] = {
        11520,
        0,
        1509978240,
        G_GUINT64_CONSTANT(1215971899390074240),
        G_GUINT64_CONSTANT(1216172134540287360),
        G_GUINT64_CONSTANT(607988272756665600),
        G_GUINT64_CONSTANT(16172922978634559625),
        G_GUINT64_CONSTANT(8476171486693032832),
        G_GUINT64_CONSTANT(10595114339597558777),
        G_GUINT64_CONSTANT(2904607092377533576),
    };
    PvxRng r = {{1, 2, 3, 4}};
    guint64 got[10];
    for (int i = 0; i < 10; i++)
        got[i] = pvx_rng_next_u64(&r);
    assert_u64_equal(got, want, 10);
}

static void splitmix64_matches_published_first_outputs(void)
{
    static const guint64 want[5] = {
        G_GUINT64_CONSTANT(6457827717110365317),  G_GUINT64_CONSTANT(3203168211198807973),
        G_GUINT64_CONSTANT(9817491932198370423),  G_GUINT64_CONSTANT(4593380528125082431),
        G_GUINT64_CONSTANT(16408922859458223821),
    };
    guint64 state = 1234567, got[5];
    for (int i = 0; i < 5; i++)
        got[i] = pvx_splitmix64(&state);
    assert_u64_equal(got, want, 5);
    /* the output function alone is the generator's step without the increment */
    g_assert_cmpuint(pvx_mix64(1234567 + G_GUINT64_CONSTANT(0x9e3779b97f4a7c15)), ==, want[0]);
}

static void rng_init_seeds_through_splitmix64(void)
{
    static const guint64 state[4] = {
        G_GUINT64_CONSTANT(13679457532755275413),
        G_GUINT64_CONSTANT(2949826092126892291),
        G_GUINT64_CONSTANT(5139283748462763858),
        G_GUINT64_CONSTANT(6349198060258255764),
    };
    static const guint64 want[6] = {
        G_GUINT64_CONSTANT(1546998764402558742),  G_GUINT64_CONSTANT(6990951692964543102),
        G_GUINT64_CONSTANT(12544586762248559009), G_GUINT64_CONSTANT(17057574109182124193),
        G_GUINT64_CONSTANT(18295552978065317476), G_GUINT64_CONSTANT(14199186830065750584),
    };
    PvxRng r;
    pvx_rng_init(&r, 42);
    assert_u64_equal(r.s, state, 4);
    guint64 got[6];
    for (int i = 0; i < 6; i++)
        got[i] = pvx_rng_next_u64(&r);
    assert_u64_equal(got, want, 6);
}

static void rng_uniform_takes_the_top_53_bits(void)
{
    PvxRng r, copy;
    pvx_rng_init(&r, 7);
    copy = r;
    double u = pvx_rng_uniform(&r);
    g_assert_cmpfloat(u, ==, 0.7005764821796896);
    g_assert_cmpfloat(u, ==, (double)(pvx_rng_next_u64(&copy) >> 11) / 9007199254740992.0);
    g_assert_cmpfloat(pvx_u64_to_unit(G_MAXUINT64), <, 1.0);
    g_assert_cmpfloat(pvx_u64_to_unit(0), ==, 0.0);
}

static void rng_below_matches_reference_and_rejects(void)
{
    static const int64_t want[8] = {55, 782, 72, 159, 773, 244, 394, 257};
    PvxRng r;
    pvx_rng_init(&r, 2024);
    for (int i = 0; i < 8; i++)
        g_assert_cmpint(pvx_rng_below(&r, 1000), ==, want[i]);
    /* n = 0x6000000000000001 rejects a quarter of the draws (one of the first nine here): the
     * reference skips the same one */
    static const int64_t big[8] = {
        G_GINT64_CONSTANT(385948929955515569),  G_GINT64_CONSTANT(5410225551433385510),
        G_GINT64_CONSTANT(498442139470487040),  G_GINT64_CONSTANT(1104839167494651304),
        G_GINT64_CONSTANT(5351749028126540799), G_GINT64_CONSTANT(2727829267070150367),
        G_GINT64_CONSTANT(1777855185714843208), G_GINT64_CONSTANT(3851578132517972912),
    };
    pvx_rng_init(&r, 2024);
    for (int i = 0; i < 8; i++)
        g_assert_cmpint(pvx_rng_below(&r, G_GINT64_CONSTANT(0x6000000000000001)), ==, big[i]);
    pvx_rng_init(&r, 1);
    for (int i = 0; i < 100; i++)
        g_assert_cmpint(pvx_rng_below(&r, 1), ==, 0);
}

static void hash64_matches_reference(void)
{
    g_assert_cmpuint(pvx_hash64(0, 0, 0), ==, G_GUINT64_CONSTANT(2558736989570252433));
    g_assert_cmpuint(pvx_hash64(1, 2, 3), ==, G_GUINT64_CONSTANT(1635563050780396224));
    g_assert_cmpuint(pvx_hash64(0xdeadbeef, 0x5f1e, 12345), ==,
                     G_GUINT64_CONSTANT(8552651440068014892));
    g_assert_cmpuint(pvx_hash64(1, 2, 3), !=, pvx_hash64(1, 3, 2));
}

static void permutation_matches_reference(void)
{
    static const int64_t want[10] = {2, 8, 1, 5, 6, 0, 4, 7, 3, 9};
    int64_t got[10];
    pvx_permutation(10, 99, got);
    for (int i = 0; i < 10; i++)
        g_assert_cmpint(got[i], ==, want[i]);
    int64_t one = -1;
    pvx_permutation(1, 99, &one);
    g_assert_cmpint(one, ==, 0);
}

static void hash64_str_matches_reference(void)
{
    g_assert_cmpuint(pvx_hash64_str(0, ""), ==, G_GUINT64_CONSTANT(3682906323375480693));
    g_assert_cmpuint(pvx_hash64_str(1, "a"), ==, G_GUINT64_CONSTANT(10661624595792884747));
    g_assert_cmpuint(pvx_hash64_str(3, "pairwise"), ==, G_GUINT64_CONSTANT(18405476170156633005));
    g_assert_cmpuint(pvx_hash64_str(3, "pairwisf"), ==, G_GUINT64_CONSTANT(11209620807781747254));
    /* bytes above 0x7f count as unsigned: "é" is 0xc3 0xa9 in UTF-8 */
    g_assert_cmpuint(pvx_hash64_str(7, "Grad-CAM \xc3\xa9"), ==,
                     G_GUINT64_CONSTANT(3386988572085848612));
    /* it is pvx_hash64 of the published FNV-1a 64 values and the length */
    g_assert_cmpuint(pvx_hash64_str(0, ""), ==,
                     pvx_hash64(0, G_GUINT64_CONSTANT(0xcbf29ce484222325), 0));
    g_assert_cmpuint(pvx_hash64_str(9, "a"), ==,
                     pvx_hash64(9, G_GUINT64_CONSTANT(0xaf63dc4c8601ec8c), 1));
    g_assert_cmpuint(pvx_hash64_str(9, "foobar"), ==,
                     pvx_hash64(9, G_GUINT64_CONSTANT(0x85944171f73967e8), 6));
    g_assert_cmpuint(pvx_hash64_str(3, "pairwise"), !=, pvx_hash64_str(4, "pairwise"));
}

static void rng_gaussian_matches_reference_and_draws_two(void)
{
    static const double want[6] = {
        -0.6609817491416791, 0.6293137312379913,  0.25954642531212807,
        0.42659547260972774, -0.6955963958592527, -0.013375343185479678,
    };
    PvxRng r, copy;
    pvx_rng_init(&r, 5);
    for (int i = 0; i < 6; i++) {
        copy = r;
        g_assert_cmpfloat_with_epsilon(pvx_rng_gaussian(&r), want[i], 1e-14);
        pvx_rng_next_u64(&copy);
        pvx_rng_next_u64(&copy);
        g_assert_true(memcmp(&r, &copy, sizeof r) == 0);
    }
    /* mean 0 and variance 1: with 200000 draws the standard errors are 0.0022 and 0.0032 */
    double s = 0, ss = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double z = pvx_rng_gaussian(&r);
        s += z;
        ss += z * z;
    }
    g_assert_cmpfloat(fabs(s / n), <, 0.012);
    g_assert_cmpfloat(fabs(ss / n - 1), <, 0.017);
}

static void rng_shuffle_matches_reference(void)
{
    static const int full[10] = {3, 6, 5, 8, 0, 1, 7, 2, 9, 4};
    static const int part[10] = {3, 6, 5, 0, 4, 2, 1, 7, 8, 9};
    int a[10];
    PvxRng r;
    for (int i = 0; i < 10; i++)
        a[i] = i;
    pvx_rng_init(&r, 99);
    pvx_rng_shuffle(&r, a, 10, sizeof(int), 10);
    for (int i = 0; i < 10; i++)
        g_assert_cmpint(a[i], ==, full[i]);
    /* k = 3 makes the first three draws of the full shuffle, so they open both the same way */
    for (int i = 0; i < 10; i++)
        a[i] = i;
    pvx_rng_init(&r, 99);
    pvx_rng_shuffle(&r, a, 10, sizeof(int), 3);
    for (int i = 0; i < 10; i++)
        g_assert_cmpint(a[i], ==, part[i]);
    /* any element size: three-byte records move whole */
    static const int order[5] = {3, 0, 2, 4, 1};
    guchar rec[5][3];
    for (int i = 0; i < 5; i++)
        for (int c = 0; c < 3; c++)
            rec[i][c] = (guchar)(i + 10 * c);
    pvx_rng_init(&r, 3);
    pvx_rng_shuffle(&r, rec, 5, 3, 4);
    for (int i = 0; i < 5; i++)
        for (int c = 0; c < 3; c++)
            g_assert_cmpint(rec[i][c], ==, order[i] + 10 * c);
    /* nothing to shuffle draws nothing */
    PvxRng before;
    pvx_rng_init(&r, 1);
    before = r;
    pvx_rng_shuffle(&r, a, 1, sizeof(int), 1);
    pvx_rng_shuffle(&r, NULL, 0, sizeof(int), 5);
    pvx_rng_shuffle(&r, a, 10, sizeof(int), 0);
    g_assert_true(memcmp(&r, &before, sizeof r) == 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/random/xoshiro_matches_published_first_outputs",
                    xoshiro_matches_published_first_outputs);
    g_test_add_func("/random/splitmix64_matches_published_first_outputs",
                    splitmix64_matches_published_first_outputs);
    g_test_add_func("/random/rng_init_seeds_through_splitmix64", rng_init_seeds_through_splitmix64);
    g_test_add_func("/random/rng_uniform_takes_the_top_53_bits", rng_uniform_takes_the_top_53_bits);
    g_test_add_func("/random/rng_below_matches_reference_and_rejects",
                    rng_below_matches_reference_and_rejects);
    g_test_add_func("/random/hash64_matches_reference", hash64_matches_reference);
    g_test_add_func("/random/permutation_matches_reference", permutation_matches_reference);
    g_test_add_func("/random/hash64_str_matches_reference", hash64_str_matches_reference);
    g_test_add_func("/random/rng_gaussian_matches_reference_and_draws_two",
                    rng_gaussian_matches_reference_and_draws_two);
    g_test_add_func("/random/rng_shuffle_matches_reference", rng_shuffle_matches_reference);
    return g_test_run();
}
