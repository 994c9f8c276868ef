#!/usr/bin/python3
"""PyTorch side of bench-ops-conv-dw: a timing server, so that the C side can interleave PyTorch's
and pvx's runs of the same shape (a machine whose load changes then treats both alike).

usage: bench_conv_dw_torch.py THREADS
Reads lines "N,C,H,K,S" on stdin; for each, times one depthwise conv2d forward (groups = C, K×K,
stride S, padding K//2, bias) and one forward + backward (dx, dw, db), float32, and prints
"fwd_s train_s". The first request for a shape also runs both once untimed."""
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
    n, c, h, k, s = (int(v) for v in spec.split(","))
    if spec not in shapes:
        x = torch.randn(n, c, h, h, requires_grad=True)
        w = (torch.randn(c, 1, k, k) * 0.1).requires_grad_()
        b = torch.randn(c, requires_grad=True)
        with torch.no_grad():
            y = F.conv2d(x, w, b, stride=s, padding=k // 2, groups=c)
        dy = torch.randn(*y.shape)
        shapes.clear()  # keep one shape's tensors alive at a time
        shapes[spec] = (x, w, b, dy)
        F.conv2d(x, w, b, stride=s, padding=k // 2, groups=c).backward(dy)
    x, w, b, dy = shapes[spec]
    with torch.no_grad():
        t = time.perf_counter()
        F.conv2d(x, w, b, stride=s, padding=k // 2, groups=c)
        fwd = time.perf_counter() - t
    t = time.perf_counter()
    F.conv2d(x, w, b, stride=s, padding=k // 2, groups=c).backward(dy)
    train = time.perf_counter() - t
    print(fwd, train, flush=True)
