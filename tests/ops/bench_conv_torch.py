#!/usr/bin/python3
"""PyTorch side of bench-ops-conv: times conv2d forward and forward+backward (dx, dw, db) on the
shapes given, float32, torch.set_num_threads(threads).
usage: bench_conv_torch.py THREADS REPS N,CIN,COUT,H ...   prints: N,CIN,COUT,H fwd_s train_s"""
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]))
reps = int(sys.argv[2])
for spec in sys.argv[3:]:
    n, cin, cout, h = (int(v) for v in spec.split(","))
    x = torch.randn(n, cin, h, h)
    w = torch.randn(cout, cin, 3, 3) * 0.05
    b = torch.randn(cout)
    with torch.no_grad():
        F.conv2d(x, w, b, padding=1)
        best_f = float("inf")
        for _ in range(reps):
            t = time.perf_counter()
            F.conv2d(x, w, b, padding=1)
            best_f = min(best_f, time.perf_counter() - t)
    xg, wg, bg = x.requires_grad_(), w.requires_grad_(), b.requires_grad_()
    dy = torch.randn(n, cout, h, h)
    best_t = float("inf")
    for _ in range(reps + 1):
        t = time.perf_counter()
        F.conv2d(xg, wg, bg, padding=1).backward(dy)
        best_t = min(best_t, time.perf_counter() - t)
    print(spec, best_f, best_t, flush=True)
