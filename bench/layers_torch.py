#!/usr/bin/python3
"""The PyTorch side of bench-layers: VGG-16's conv (+ ReLU) and linear layers at batch 1, each
timed on its own under torch.no_grad.

  layers_torch.py THREADS REPS

Prints one line `name seconds` per layer (torchvision's names), the median of REPS calls after
one warm-up."""
import statistics
import sys
import time

import torch

threads, reps = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)
convs = [("features.0", 3, 64, 224), ("features.2", 64, 64, 224), ("features.5", 64, 128, 112),
         ("features.7", 128, 128, 112), ("features.10", 128, 256, 56),
         ("features.12", 256, 256, 56), ("features.14", 256, 256, 56),
         ("features.17", 256, 512, 28), ("features.19", 512, 512, 28),
         ("features.21", 512, 512, 28), ("features.24", 512, 512, 14),
         ("features.26", 512, 512, 14), ("features.28", 512, 512, 14)]
linears = [("classifier.0", 25088, 4096), ("classifier.3", 4096, 4096),
           ("classifier.6", 4096, 1000)]


def median_time(fn):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


with torch.no_grad():
    for name, cin, cout, hw in convs:
        conv = torch.nn.Conv2d(cin, cout, 3, padding=1)
        x = torch.randn(1, cin, hw, hw)
        print(name, median_time(lambda: torch.relu_(conv(x))), flush=True)
    for name, fin, fout in linears:
        lin = torch.nn.Linear(fin, fout)
        x = torch.randn(1, fin)
        print(name, median_time(lambda: lin(x)), flush=True)
