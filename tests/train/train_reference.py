#!/usr/bin/python3
"""Trains vgg-mini for a few SGD steps in PyTorch from the weights, masks and batches pvx wrote.

Usage: train_reference.py IN.h5 OUT.h5
IN.h5: /weights/<state-dict name> (float32), /masks/<layer>.weight (uint8), /x<k> (float32
[N, C, H, W]) and /y<k> (int64 [N]) for k < steps, and attributes on /cfg: channels, hidden,
avgpool, classes, steps, lr, momentum, nesterov, weight_decay.
OUT.h5: /weights/<name> after the steps.
Pruning as pvx defines it (optim.h): the gradient is masked before the update, the weight and its
momentum buffer are re-masked after it.
"""
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_vgg import VggMini  # noqa: E402

torch.use_deterministic_algorithms(True)
src = h5py.File(sys.argv[1], "r")
cfg = src["cfg"].attrs
model = VggMini([int(c) for c in cfg["channels"].split(",")], int(cfg["hidden"]),
                int(cfg["avgpool"]), int(cfg["classes"]), in_channels=int(cfg["in_channels"]),
                dropout=0.0)
state = {k: torch.from_numpy(np.array(v)) for k, v in src["weights"].items()}
model.load_state_dict(state)
masks = {}
params = dict(model.named_parameters())
for name, m in src["masks"].items():
    masks[name] = torch.from_numpy(np.array(m).astype(np.float32))
    with torch.no_grad():
        params[name].mul_(masks[name])
opt = torch.optim.SGD(model.parameters(), lr=float(cfg["lr"]), momentum=float(cfg["momentum"]),
                      nesterov=bool(int(cfg["nesterov"])), weight_decay=float(cfg["weight_decay"]))
model.train()
for k in range(int(cfg["steps"])):
    x = torch.from_numpy(np.array(src[f"x{k}"]))
    y = torch.from_numpy(np.array(src[f"y{k}"]).astype(np.int64))
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    for name, m in masks.items():
        params[name].grad.mul_(m)
    opt.step()
    with torch.no_grad():
        for name, m in masks.items():
            params[name].mul_(m)
            opt.state[params[name]]["momentum_buffer"].mul_(m)
    print(f"step {k}: loss {loss.item():.6f}")
with h5py.File(sys.argv[2], "w") as out:
    for k, v in model.state_dict().items():
        out[f"weights/{k}"] = v.detach().numpy()
