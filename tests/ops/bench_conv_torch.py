#!/usr/bin/python3
"""PyTorch side of bench-ops-conv: a timing server, so that the C side can interleave PyTorch's
and pvx's runs of the same shape (a machine whose load changes then treats both alike).

usage: bench_conv_torch.py THREADS
Reads lines "N,CIN,COUT,H" on stdin; for each, times one conv2d forward (3x3, padding 1, bias)
and one forward + backward (dx, dw, db), float32, and prints "fwd_s train_s". The first request
for a shape also runs both once untimed (allocation, oneDNN's kernel choice)."""
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]))
shapes = {}
for line in sys.stdin:
    spec = line.strip()
    if not spec:
        continue
    if spec not in shapes:
        n, cin, cout, h = (int(v) for v in spec.split(","))
        x = torch.randn(n, cin, h, h, requires_grad=True)
        w = (torch.randn(cout, cin, 3, 3) * 0.05).requires_grad_()
        b = torch.randn(cout, requires_grad=True)
        dy = torch.randn(n, cout, h, h)
        shapes.clear()  # keep one shape's tensors alive at a time
        shapes[spec] = (x, w, b, dy)
        with torch.no_grad():
            F.conv2d(x, w, b, padding=1)
        F.conv2d(x, w, b, padding=1).backward(dy)
    x, w, b, dy = shapes[spec]
    with torch.no_grad():
        t = time.perf_counter()
        F.conv2d(x, w, b, padding=1)
        fwd = time.perf_counter() - t
    t = time.perf_counter()
    F.conv2d(x, w, b, padding=1).backward(dy)
    train = time.perf_counter() - t
    print(fwd, train, flush=True)
