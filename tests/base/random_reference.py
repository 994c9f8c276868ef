#!/usr/bin/env python3
"""Independent reference for tests/base/test_random.c: xoshiro256** and splitmix64 written from
Blackman & Vigna's C reference (prng.di.unimi.it), in Python integers masked to 64 bits. Prints
the values the C test pins; run it to regenerate them."""

import math

M = (1 << 64) - 1


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


class SplitMix:
    def __init__(self, seed):
        self.x = seed & M

    def next(self):
        self.x = (self.x + 0x9E3779B97F4A7C15) & M
        return mix(self.x)


class Xoshiro:
    def __init__(self, s):
        self.s = list(s)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result


def seeded(seed):
    sm = SplitMix(seed)
    return Xoshiro([sm.next() for _ in range(4)])


def below(rng, n):
    while True:
        m = rng.next() * n
        low = m & M
        if low >= n or low >= ((1 << 64) - n) % n:
            return m >> 64


def hash64(seed, a, b):
    z = seed
    for i, v in enumerate((a, b, None)):
        z = (z + 0x9E3779B97F4A7C15) & M
        z = mix(z)
        if v is not None:
            z ^= (v * 0xD1342543DE82EF95) & M
    return z


def permutation(n, seed):
    out = list(range(n))
    for i in range(n - 1, 0, -1):
        j = (hash64(seed, i, 0x5EED) * (i + 1)) >> 64
        out[i], out[j] = out[j], out[i]
    return out


FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def fnv1a64(data):
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & M
    return h


# the published FNV-1a 64 test vectors (Fowler, Noll & Vo; draft-eastlake-fnv)
assert fnv1a64(b"") == 0xCBF29CE484222325
assert fnv1a64(b"a") == 0xAF63DC4C8601EC8C
assert fnv1a64(b"foobar") == 0x85944171F73967E8


def hash64_str(seed, text):
    data = text.encode("utf-8")
    return hash64(seed, fnv1a64(data), len(data))


def uniform(rng):
    return (rng.next() >> 11) / 2.0**53


def gaussian(rng):
    u = 1.0 - uniform(rng)
    v = uniform(rng)
    return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)


def shuffle(rng, values, k):
    out = list(values)
    n = len(out)
    i = 0
    while i + 1 < n and i < k:
        j = i + below(rng, n - i)
        out[i], out[j] = out[j], out[i]
        i += 1
    return out


def c_list(values):
    return ", ".join("G_GUINT64_CONSTANT(%d)" % v if v > 0x7FFFFFFF else str(v) for v in values)


if __name__ == "__main__":
    x = Xoshiro([1, 2, 3, 4])
    print("xoshiro {1,2,3,4}:", [x.next() for _ in range(10)])
    sm = SplitMix(1234567)
    print("splitmix64 1234567:", [sm.next() for _ in range(5)])
    r = seeded(42)
    print("seeded 42 state:", r.s)
    print("seeded 42:", [r.next() for _ in range(6)])
    r = seeded(2024)
    print("below(1000) seed 2024:", [below(r, 1000) for _ in range(8)])
    r = seeded(2024)
    print("below(0x6000000000000001) seed 2024:", [below(r, 0x6000000000000001) for _ in range(8)])
    print("uniform seed 7:", [(seeded(7).next() >> 11) / 2.0**53])
    print("hash64:", [hash64(0, 0, 0), hash64(1, 2, 3), hash64(0xDEADBEEF, 0x5F1E, 12345)])
    print("permutation(10, 99):", permutation(10, 99))
    print("hash64_str:", [hash64_str(0, ""), hash64_str(1, "a"), hash64_str(3, "pairwise"),
                          hash64_str(3, "pairwisf"), hash64_str(7, "Grad-CAM \u00e9")])
    r = seeded(5)
    print("gaussian seed 5:", [repr(gaussian(r)) for _ in range(6)])
    print("shuffle(0..9, k=10) seed 99:", shuffle(seeded(99), range(10), 10))
    print("shuffle(0..9, k=3) seed 99:", shuffle(seeded(99), range(10), 3))
    print("shuffle(0..4, k=4) seed 3:", shuffle(seeded(3), range(5), 4))
