"""Reference data for tests/nn/test_graph_torch.c: a small graph with every layer type of pvx's
graph (residual add, concat, squeeze-and-excitation mul, dilated / depthwise / grouped conv,
relu6, sigmoid, silu, hardsigmoid, hardswish, identity, stochastic depth), computed by PyTorch in
float64 on float32 weights.

Usage: graph_reference.py OUT.h5

The graph (pvx layer names; every layer reads the one before unless an input is given):
  stem.conv   conv 3->8 3x3 pad 1, no bias     stem.bn  bn(8)       stem.relu  relu
  b1.conv1    conv 8->8 3x3 pad 2 dilation 2    b1.bn1   bn(8)       b1.act1    relu6
  b1.conv2    conv 8->16 3x3 pad 1 groups 8 (depthwise, multiplier 2), bias   b1.act2  hardswish
  b1.conv3    conv 16->8 1x1 groups 2           b1.bn3   bn(8)
  b1.add      add(b1.bn3, stem.relu)            b1.relu  relu
  se.pool     adaptive avgpool 1x1              se.fc1   conv 8->4 1x1 bias   se.act  silu
  se.fc2      conv 4->8 1x1 bias                se.gate  hardsigmoid
  se.mul      mul(b1.relu, se.gate)
  br.a        conv 8->4 3x3 stride 2 pad 1 (input se.mul), bias   br.a_act sigmoid
  br.b        maxpool 2x2 (input se.mul)
  cat         concat(br.a_act, br.b)            sd  stochastic depth   id  identity
  head.pool   adaptive avgpool 2x2              flatten                fc  linear 48->5
Writes /weights/<name>.weight|bias|running_*, /x [2,3,12,12], /dy [2,5], and
  /eval/logits, /eval/dx, /eval/grad/<param>, /eval/tap/<layer>/act|grad  (evaluation mode,
      backward from dy, taps b1.add, se.mul, cat, b1.conv2)
  /train/logits, /train/dx, /train/grad/<param>, /train/running/<bn>.running_mean|var
      (batch-norm in training mode, stochastic depth p = 0 so the reference is deterministic)
"""
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(4321)
out = sys.argv[1]

CONVS = {  # name: (cin, cout, k, stride, pad, dilation, groups, bias)
    "stem.conv": (3, 8, 3, 1, 1, 1, 1, False),
    "b1.conv1": (8, 8, 3, 1, 2, 2, 1, False),
    "b1.conv2": (8, 16, 3, 1, 1, 1, 8, True),
    "b1.conv3": (16, 8, 1, 1, 0, 1, 2, False),
    "se.fc1": (8, 4, 1, 1, 0, 1, 1, True),
    "se.fc2": (4, 8, 1, 1, 0, 1, 1, True),
    "br.a": (8, 4, 3, 2, 1, 1, 1, True),
}
BNS = {"stem.bn": 8, "b1.bn1": 8, "b1.bn3": 8}

w = {}
for name, (cin, cout, k, s, p, d, g, bias) in CONVS.items():
    w[name + ".weight"] = torch.randn(cout, cin // g, k, k) * (2.0 / (cin // g * k * k)) ** 0.5
    if bias:
        w[name + ".bias"] = torch.randn(cout) * 0.2
for name, c in BNS.items():
    w[name + ".weight"] = 1.0 + 0.3 * torch.randn(c)
    w[name + ".bias"] = 0.2 * torch.randn(c)
    w[name + ".running_mean"] = 0.1 * torch.randn(c)
    w[name + ".running_var"] = 1.0 + 0.5 * torch.rand(c)
w["fc.weight"] = torch.randn(5, 48) * 0.3
w["fc.bias"] = torch.randn(5) * 0.1
w = {k: v.float() for k, v in w.items()}
x32 = torch.randn(2, 3, 12, 12).float()
dy32 = torch.randn(2, 5).float()


def run(training):
    p = {k: v.double().clone().requires_grad_(not k.endswith(("running_mean", "running_var")))
         for k, v in w.items()}
    x = x32.double().clone().requires_grad_(True)
    taps = {}

    def conv(name, t):
        cin, cout, k, s, pad, d, g, bias = CONVS[name]
        return F.conv2d(t, p[name + ".weight"], p.get(name + ".bias"), s, pad, d, g)

    def bn(name, t):
        return F.batch_norm(t, p[name + ".running_mean"], p[name + ".running_var"],
                            p[name + ".weight"], p[name + ".bias"], training, 0.1, 1e-5)

    def tap(name, t):
        t.retain_grad()
        taps[name] = t
        return t

    stem = F.relu(bn("stem.bn", conv("stem.conv", x)))
    h = F.relu6(bn("b1.bn1", conv("b1.conv1", stem)))
    h = F.hardswish(tap("b1.conv2", conv("b1.conv2", h)))
    h = bn("b1.bn3", conv("b1.conv3", h))
    h = tap("b1.add", h + stem)
    r = F.relu(h)
    s = F.adaptive_avg_pool2d(r, 1)
    s = F.hardsigmoid(conv("se.fc2", F.silu(conv("se.fc1", s))))
    m = tap("se.mul", r * s)
    a = torch.sigmoid(conv("br.a", m))
    b = F.max_pool2d(m, 2, 2)
    c = tap("cat", torch.cat([a, b], 1))
    y = F.linear(torch.flatten(F.adaptive_avg_pool2d(c, 2), 1), p["fc.weight"], p["fc.bias"])
    y.backward(dy32.double())
    return y, x, p, taps


with h5py.File(out, "w") as f:
    for k, v in w.items():
        f["weights/" + k] = v.numpy()
    f["x"] = x32.numpy()
    f["dy"] = dy32.numpy()
    for mode, training in (("eval", False), ("train", True)):
        y, x, p, taps = run(training)
        f[mode + "/logits"] = y.detach().numpy()
        f[mode + "/dx"] = x.grad.numpy()
        for k, v in p.items():
            if v.grad is not None:
                f[mode + "/grad/" + k] = v.grad.numpy()
            elif training:
                f[mode + "/running/" + k] = v.detach().numpy()
        if not training:
            for k, t in taps.items():
                f[mode + "/tap/" + k + "/act"] = t.detach().numpy()
                f[mode + "/tap/" + k + "/grad"] = t.grad.numpy()
