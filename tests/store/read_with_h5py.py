#!/usr/bin/python3
"""Reads a store written by test_store_h5py.c with h5py and checks shapes, types and values.

Usage: read_with_h5py.py FILE OUT. Also writes OUT with h5py's own choices of types (fixed-length
and variable-length strings, int32, float16, numpy attributes) for pvx to read back.
Exits 77 when h5py or numpy cannot be imported, 1 on a mismatch.
"""
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"cannot import: {e}")
    sys.exit(77)


def check(cond, what):
    if not cond:
        print(f"MISMATCH: {what}")
        sys.exit(1)


with h5py.File(sys.argv[1], "r") as f:
    w = f["/models/cr1/weights/features.0.weight"]
    check(w.shape == (64, 3, 3, 3), f"weight shape {w.shape}")
    check(w.dtype == np.float32, f"weight dtype {w.dtype}")
    want = (np.arange(64 * 27, dtype=np.float32) * np.float32(0.5) - np.float32(7)).reshape(64, 3, 3, 3)
    check(np.array_equal(w[()], want), "weight values")

    s = f["/models/cr1/eval/loss"]
    check(s.shape == (), f"scalar shape {s.shape}")
    check(float(s[()]) == 0.125, f"scalar value {s[()]}")

    m = f["/models/cr1/masks/features.0.weight"]
    check(m.dtype == np.uint8 and m.shape == (64, 3, 3, 3), f"mask {m.dtype} {m.shape}")
    check(np.array_equal(m[()], (np.arange(64 * 27) % 3 == 0).astype(np.uint8).reshape(64, 3, 3, 3)),
          "mask values")

    big = f["/models/cr1/masks/classifier.0.weight"]
    check(big.shape == (1024, 2048), f"big mask shape {big.shape}")
    check(int(big[()].sum()) == 1024 * 2048 // 4, "big mask values")

    ids = f["/dataset/ids"]
    check(ids.dtype == np.int64 and list(ids[()]) == [3, -1, 1 << 40], f"ids {ids[()]}")
    acc = f["/metrics/acc"]
    check(acc.dtype == np.float64 and acc.shape == (2, 2), f"acc {acc.dtype} {acc.shape}")
    check(np.array_equal(acc[()], np.array([[0.25, 0.5], [0.75, 1.0]])), "acc values")

    names = [x.decode("utf-8") for x in f["/dataset/class_names"][()]]
    check(names == ["tench", "caf\u00e9", "goldfish"], f"class names {names}")

    check(f["/config"].attrs["yaml"] == "model: vgg16\n", f"yaml attr {f['/config'].attrs['yaml']!r}")
    check(f["/provenance"].attrs["seed"] == 42, "seed attr")
    check(f["/models/cr1/eval"].attrs["accuracy"] == 0.875, "accuracy attr")
    check(sorted(f["/models"].keys()) == ["cr1"], f"groups {list(f['/models'].keys())}")

with h5py.File(sys.argv[2], "w") as f:
    f["/models/cr1/weights/fc.weight"] = np.arange(12, dtype=np.float64).reshape(3, 4) / 8
    f["/half"] = np.array([1.5, -2.0], dtype=np.float16)
    f["/ids"] = np.array([[1, 2], [3, -4]], dtype=np.int32)
    f["/fixed"] = np.array([b"cat", b"dog", b"eel"], dtype="S5")
    f.create_dataset("/vlen", data=["été", "x"], dtype=h5py.string_dtype())
    f["/models"].attrs["note"] = "written by h5py"
    f["/models"].attrs["fixed_note"] = np.bytes_(b"fixed bytes")
    f["/models"].attrs["count"] = np.int32(7)
    f["/models"].attrs["ratio"] = np.float32(0.25)
print("h5py read every dataset and attribute as written")
