#!/usr/bin/python3
"""The core's folders reach only downward.

Usage: check_layers.py LIBPVX_CORE_ARCHIVE SOURCE_ROOT

Reads the symbol tables of the objects in the core's static archive (nm), assigns each object to
its folder (core/<folder>/file.c is built as libpvx-core.a.p/<folder>_file.c.o; the -O3 kernel
libraries are ops'), and fails when an object references a symbol defined in a folder that is not
strictly below its own in LAYERS — a cycle or an upward call. Prints TAP.
"""
import collections
import glob
import os
import subprocess
import sys

# Lower numbers are lower layers. A folder may use its own symbols and those of lower layers only.
LAYERS = {
    "base": 0,        # errors, tensors, randomness, text escaping, progress, splits
    "params": 1,      # declared parameters and the YAML tree
    "image": 1,
    "ops": 1,         # kernels
    "store": 1,       # the run's HDF5 file and its layout
    "registry": 2,    # loading plugins (checks their parameter tables)
    "plot": 2,
    "config": 3,      # experiment files (validates plugin sections through the registry)
    "data": 3,        # the handle on a dataset plugin
    "nn": 3,          # layers, models, model plugins
    "explain": 4,
    "train": 4,
    "prune": 4,
    "metric": 5,      # uses explain's map normalisation
    "study": 6,
    "report": 6,
    "experiment": 7,  # the stages of pvx run
}

archive, source_root = sys.argv[1:3]
out = subprocess.run(["nm", "-A", archive], check=True, capture_output=True, text=True).stdout


def folder_of(member):
    base = member.rsplit("/", 1)[-1]
    prefix = base.split("_", 1)[0]
    if prefix in LAYERS and "_" in base:
        return prefix
    # objects of the kernel libraries keep their plain source name
    src = glob.glob(os.path.join(source_root, "core", "*", base[:-2] if base.endswith(".o") else base))
    return os.path.basename(os.path.dirname(src[0])) if len(src) == 1 else base


defined, used = {}, collections.defaultdict(set)
unknown = set()
for line in out.splitlines():
    # "libpvx-core.a:libpvx-core.a.p/base_error.c.o:0000000000000000 T pvx_error_quark"
    head, _, rest = line.rpartition(":")
    member = head.split(":", 1)[1] if ":" in head else head
    parts = rest.split()
    if not parts:
        continue
    f = folder_of(member)
    if f not in LAYERS:
        unknown.add(f)
        continue
    if len(parts) == 3 and parts[1] in "TDBRVW":
        defined[parts[2]] = f
    elif len(parts) == 2 and parts[0] == "U":
        used[f].add(parts[1])

results = [(not unknown, "every object belongs to a folder of the layer table",
            "folders missing from LAYERS in tests/abi/check_layers.py: " +
            ", ".join(sorted(unknown)))]
for f in sorted(LAYERS, key=lambda k: (LAYERS[k], k)):
    bad = sorted(f"{s} ({defined[s]})" for s in used.get(f, ())
                 if s in defined and defined[s] != f and LAYERS[defined[s]] >= LAYERS[f])
    results.append((not bad, f"core/{f} (layer {LAYERS[f]}) uses only lower layers",
                    "reaches sideways or up: " + ", ".join(bad)))

print(f"1..{len(results)}")
for i, (ok, name, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok:
        print("# " + detail)
sys.exit(0 if all(r[0] for r in results) else 1)
