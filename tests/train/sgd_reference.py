#!/usr/bin/python3
"""Writes SGD reference cases computed with torch.optim.SGD (PyTorch 1.13).

For each case: initial parameters, a 0/1 mask, a gradient per step and the parameters after the
steps, as raw little-endian float32, plus a manifest line. Pruning is emulated as pvx defines it:
the gradient is masked, and the parameter and momentum buffer are re-masked after each step.
"""
import os
import sys

import torch

out = sys.argv[1]
torch.manual_seed(1234)
cases = [
    # name, lr, momentum, dampening, weight_decay, nesterov, clip, steps, masked
    ("plain", 0.1, 0.0, 0.0, 0.0, False, 0.0, 5, False),
    ("momentum", 0.05, 0.9, 0.0, 0.0, False, 0.0, 6, False),
    ("momentum_dampening_wd", 0.05, 0.9, 0.3, 5e-4, False, 0.0, 6, False),
    ("nesterov_wd", 0.02, 0.9, 0.0, 1e-3, True, 0.0, 7, False),
    ("nesterov_wd_masked", 0.02, 0.9, 0.0, 1e-2, True, 0.0, 7, True),
    ("momentum_clip_masked", 0.1, 0.8, 0.0, 5e-4, False, 0.5, 5, True),
]
manifest = []
for name, lr, mom, damp, wd, nest, clip, steps, masked in cases:
    n = 1000
    p0 = torch.randn(n, dtype=torch.float32)
    mask = (torch.rand(n) > 0.4).float() if masked else torch.ones(n)
    grads = torch.randn(steps, n, dtype=torch.float32) * 0.7
    p = torch.nn.Parameter((p0 * mask).clone())
    opt = torch.optim.SGD([p], lr=lr, momentum=mom, dampening=damp, weight_decay=wd, nesterov=nest)
    for s in range(steps):
        opt.zero_grad()
        p.grad = grads[s].clone() * mask
        if clip > 0:
            torch.nn.utils.clip_grad_norm_([p], clip)
        opt.step()
        with torch.no_grad():
            p.mul_(mask)
            st = opt.state[p]
            if "momentum_buffer" in st and st["momentum_buffer"] is not None:
                st["momentum_buffer"].mul_(mask)
    for tag, t in (("p0", p0), ("mask", mask), ("grads", grads), ("expected", p.detach())):
        t.contiguous().numpy().astype("<f4").tofile(os.path.join(out, f"{name}.{tag}"))
    manifest.append(f"{name} {lr} {mom} {damp} {wd} {int(nest)} {clip} {steps} {n}")
with open(os.path.join(out, "manifest.txt"), "w") as f:
    f.write("\n".join(manifest) + "\n")
