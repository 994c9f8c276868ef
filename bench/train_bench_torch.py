#!/usr/bin/python3
"""PyTorch side of bench/train_bench.sh: trains vgg-mini (tests/train/torch_vgg.py, the same
network pvx's `vgg` plugin builds) on Fashion-MNIST for IMAGES images (default: one epoch, 60000)
with SGD (momentum 0.9, weight decay 5e-4), batch 128, and prints `torch_img_per_s N`.

The images are decoded and normalised into memory first (not timed), so PyTorch gets its data for
free; pvx's number includes its loader."""
import gzip
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "train"))
from torch_vgg import VggMini  # noqa: E402

root = os.environ.get("FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
images = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
batch = 128
torch.set_num_threads(int(os.environ.get("PVX_NUM_THREADS", os.cpu_count())))


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


x = idx(f"{root}/train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28).astype(np.float32)
x = torch.from_numpy((x / 255.0 - 0.2860) / 0.3530)
y = torch.from_numpy(idx(f"{root}/train-labels-idx1-ubyte.gz", 8).astype(np.int64))
images = min(images, x.shape[0])
torch.manual_seed(0)
model = VggMini([32, 32, -1, 64, 64, -1, 128, 128, -1], 256, 1, 10, 1, 0.5)
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
model.train()
perm = torch.randperm(x.shape[0])[:images]
start = time.perf_counter()
for b in range(0, images, batch):
    idx_b = perm[b:b + batch]
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(x[idx_b]), y[idx_b])
    loss.backward()
    opt.step()
seconds = time.perf_counter() - start
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: {images} images in "
      f"{seconds:.1f} s, loss {loss.item():.4f}")
print(f"torch_img_per_s {images / seconds:.1f}")
