#!/usr/bin/python3
"""The PyTorch side of explain-bench: Grad-CAM on VGG-16 at features.29 (the way pytorch-grad-cam
computes it: forward hook, gradient of the summed target scores w.r.t. the layer's output,
channel weights = spatial mean, weighted sum). Prints the minimum seconds per batch."""
import sys
import time

import torch
import torchvision

threads, batch, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = torchvision.models.vgg16().eval()
for p in model.parameters():
    p.requires_grad_(False)  # input-side gradients only, as pvx
model.features[29].inplace = False
x = torch.randn(batch, 3, 224, 224)
store = {}
model.features[29].register_forward_hook(lambda m, i, o: store.__setitem__("a", o))


def gradcam():
    y = model(x)
    a = store["a"]
    score = y[:, 7].sum()
    g, = torch.autograd.grad(score, a)
    w = g.mean(dim=(2, 3), keepdim=True)
    return (w * a).sum(1)


def run():
    # the layer output needs a grad path: make the features' input require grad cheaply
    return gradcam()


x.requires_grad_(False)
# autograd needs a tensor that requires grad upstream of features.29; the hook output does not
# without parameters requiring grad, so mark the activation at the hook instead.
model.features[29].register_forward_hook(lambda m, i, o: o.requires_grad_(True))
run()
times = []
for _ in range(reps):
    t = time.perf_counter()
    run()
    times.append(time.perf_counter() - t)
print(min(times))
