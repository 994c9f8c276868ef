#!/usr/bin/python3
"""The PyTorch side of bench-vgg: the same VGG-16 workloads, timed the same way.

Prints one line per workload: `name seconds` (the minimum over the repetitions)."""
import sys
import time

import torch
import torchvision

threads, batch, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = torchvision.models.vgg16()


def best(fn):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


model.eval()
x1 = torch.randn(1, 3, 224, 224)
xb = torch.randn(batch, 3, 224, 224)
with torch.no_grad():
    print("forward_b1", best(lambda: model(x1)), flush=True)
    print(f"forward_b{batch}", best(lambda: model(xb)), flush=True)

model.train()
opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)
target = torch.randint(0, 1000, (batch,))


def step():
    opt.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(xb), target)
    loss.backward()
    opt.step()


print(f"train_step_b{batch}", best(step), flush=True)
