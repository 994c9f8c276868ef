"""Reference masks from torch.nn.utils.prune for tests/prune/test_prune_torch.c.

Usage: prune_reference.py [--rounds K] FILE.h5 LAYER...
FILE.h5 holds /weights/<layer>.weight (pvx wrote them; only names and shapes are used). This
script replaces their values by tie-free ones (|w| all distinct across every layer, so the
selection does not depend on torch.topk's unspecified order among ties), writes them back, and
writes for each round k = 1..K (default 5) of amount 0.5 (CR 2^k):
  /local/cr<2^k>/<layer>.weight   uint8 masks of prune.l1_unstructured applied k times per layer
  /global/cr<2^k>/<layer>.weight  uint8 masks of prune.global_unstructured(L1Unstructured) k times
"""
import sys

import h5py
import numpy as np
import torch
import torch.nn.utils.prune as prune

args = sys.argv[1:]
rounds = 5
if args[0] == "--rounds":
    rounds, args = int(args[1]), args[2:]
path, layers = args[0], args[1:]
rng = np.random.default_rng(20261126)
with h5py.File(path, "r+") as f:
    shapes = [f["weights"][l + ".weight"].shape for l in layers]
    total = sum(int(np.prod(s)) for s in shapes)
    magnitudes = (rng.permutation(total) + 1).astype(np.float64) / total * 0.5
    signs = rng.choice([-1.0, 1.0], size=total)
    values = (magnitudes * signs).astype(np.float32)
    assert len(np.unique(np.abs(values))) == total
    weights, at = [], 0
    for l, s in zip(layers, shapes):
        n = int(np.prod(s))
        w = values[at:at + n].reshape(s)
        at += n
        f["weights"][l + ".weight"][...] = w
        weights.append(w)

    def modules():
        ms = []
        for w in weights:
            m = torch.nn.Module()
            m.weight = torch.nn.Parameter(torch.from_numpy(w.copy()))
            ms.append(m)
        return ms

    local = modules()
    for k in range(1, rounds + 1):
        for m in local:
            prune.l1_unstructured(m, "weight", amount=0.5)
        for l, m in zip(layers, local):
            f.create_dataset("local/cr%d/%s.weight" % (2 ** k, l),
                             data=m.weight_mask.numpy().astype(np.uint8))

    glob = modules()
    for k in range(1, rounds + 1):
        prune.global_unstructured([(m, "weight") for m in glob],
                                  pruning_method=prune.L1Unstructured, amount=0.5)
        for l, m in zip(layers, glob):
            f.create_dataset("global/cr%d/%s.weight" % (2 ** k, l),
                             data=m.weight_mask.numpy().astype(np.uint8))
