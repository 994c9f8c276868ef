#!/usr/bin/python3
"""The PyTorch side of bench-sparse: VGG-16 forward with torch.nn.utils.prune masks.

argv: threads batch reps clock weights.h5 cr [cr ...]   (clock: wall or cpu, as bench-sparse)
weights.h5 holds pvx's unpruned conv weights and biases under /weights/<name> (torchvision's
names) and, per compression rate, pvx's masks under /cr<cr>/<layer>.weight (uint8). The
classifier keeps torch's own seeded random weights (only timing matters there: it is dense on
both sides). Prints `dense SECONDS` and `cr<cr> SECONDS` per rate: the minimum over the reps of
a batch forward under no_grad, after a warm-up. Pruning in PyTorch is a mask multiplied into the
weight before every forward: the convolutions stay dense, so no rate is faster."""
import sys
import time

import h5py
import torch
import torch.nn.utils.prune as prune
import torchvision

threads, batch, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
clock = time.process_time if sys.argv[4] == "cpu" else time.perf_counter
path, crs = sys.argv[5], sys.argv[6:]
torch.set_num_threads(threads)
torch.manual_seed(0)
model = torchvision.models.vgg16().eval()
convs = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)}
with h5py.File(path, "r") as f:
    for name, conv in convs.items():
        conv.weight.data.copy_(torch.from_numpy(f[f"weights/{name}.weight"][...]))
        conv.bias.data.copy_(torch.from_numpy(f[f"weights/{name}.bias"][...]))
    masks = {cr: {n: torch.from_numpy(f[f"cr{cr}/{n}.weight"][...]).float() for n in convs}
             for cr in crs}
x = torch.randn(batch, 3, 224, 224)


def best():
    with torch.no_grad():
        model(x)  # warm-up
        times = []
        for _ in range(reps):
            t = clock()
            model(x)
            times.append(clock() - t)
    return min(times)


print("dense", best(), flush=True)
for cr in crs:
    for name, conv in convs.items():
        if prune.is_pruned(conv):
            prune.remove(conv, "weight")
        prune.custom_from_mask(conv, "weight", masks[cr][name])
    print(f"cr{cr}", best(), flush=True)
