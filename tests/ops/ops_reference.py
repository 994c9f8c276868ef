#!/usr/bin/python3
"""Writes PyTorch reference cases for pvx's ops (tests/ops/test_ops_torch.c reads them).

usage: ops_reference.py OUTDIR

For every case: seeded inputs, weights and an upstream gradient dy (float32), then PyTorch's
forward output and input/weight/bias gradients by autograd. The reference is computed in
float64 from the float32 inputs (cast exactly), then rounded to float32: what is compared is
then pvx's float32 error against the exact answer, not the difference of two float32 roundings.
Each tensor goes to OUTDIR/<case>.<role>.bin as raw little-endian float32; OUTDIR/manifest.txt
lists
    case <name> <op> key=value ...
    tensor <name> <role> <ndim> <d0> <d1> ...
"""
import os
import sys

import torch
import torch.nn.functional as F

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
manifest = []
torch.manual_seed(20240607)


def rand(*shape, lo=-1.0, hi=1.0):
    return (torch.rand(*shape) * (hi - lo) + lo).float()


def save(case, role, t):
    a = t.detach().to(torch.float32).contiguous().numpy()
    a.astype("<f4").tofile(os.path.join(OUT, f"{case}.{role}.bin"))
    manifest.append(f"tensor {case} {role} {a.ndim} " + " ".join(str(d) for d in a.shape))


def case(name, op, **params):
    manifest.append(f"case {name} {op} " + " ".join(f"{k}={v}" for k, v in params.items()))


def leaf(t):
    return t.double().requires_grad_(True)


def conv(name, n, cin, h, w, cout, kh, kw, stride=(1, 1), pad=(0, 0), dil=(1, 1), bias=True):
    x, wt = rand(n, cin, h, w), rand(cout, cin, kh, kw) * (1.0 / (cin * kh * kw)) ** 0.5
    b = rand(cout) if bias else None
    xd, wd = leaf(x), leaf(wt)
    bd = leaf(b) if bias else None
    y = F.conv2d(xd, wd, bd, stride=stride, padding=pad, dilation=dil)
    dy = rand(*y.shape)
    y.backward(dy.double())
    case(name, "conv2d", stride_h=stride[0], stride_w=stride[1], pad_h=pad[0], pad_w=pad[1],
         dil_h=dil[0], dil_w=dil[1], bias=int(bias))
    for role, t in (("x", x), ("w", wt), ("dy", dy), ("y", y), ("dx", xd.grad), ("dw", wd.grad)):
        save(name, role, t)
    if bias:
        save(name, "b", b)
        save(name, "db", bd.grad)


conv("conv_k3_s1_p1", 2, 3, 8, 8, 4, 3, 3, pad=(1, 1))
conv("conv_k3_s2_p1", 2, 3, 9, 7, 4, 3, 3, stride=(2, 2), pad=(1, 1))
conv("conv_k3_s2x1_p0x1_nonsquare", 3, 4, 10, 7, 5, 3, 3, stride=(2, 1), pad=(0, 1))
conv("conv_k3_s2_p0", 2, 3, 9, 9, 4, 3, 3, stride=(2, 2))
conv("conv_k1_s1_p0", 2, 6, 5, 5, 4, 1, 1)
conv("conv_k1_s2_p0", 2, 6, 5, 5, 4, 1, 1, stride=(2, 2), bias=False)
conv("conv_k5_s1_p2_nobias", 2, 3, 11, 9, 4, 5, 5, pad=(2, 2), bias=False)
conv("conv_k5_s2_p1", 2, 3, 12, 12, 6, 5, 5, stride=(2, 2), pad=(1, 1))
conv("conv_k3_dil2_p2", 2, 3, 9, 10, 4, 3, 3, pad=(2, 2), dil=(2, 2))
conv("conv_k2x3_s1_p1x0", 1, 2, 6, 7, 3, 2, 3, pad=(1, 0))
conv("conv_vgg_first_224", 1, 3, 224, 224, 64, 3, 3, pad=(1, 1))
conv("conv_vgg_512_14x14", 2, 512, 14, 14, 512, 3, 3, pad=(1, 1))
# 3x3 stride-1 cases for the Winograd path at odd sizes, odd channel counts, several paddings
# (the test runs every conv case forced onto each algorithm, then on auto; auto picks Winograd
# for the larger ones: 64_56x56, vgg_512_14x14).
conv("conv_wino_7x7_batch3", 3, 17, 7, 7, 19, 3, 3, pad=(1, 1))
conv("conv_wino_13x13_nobias", 3, 21, 13, 13, 23, 3, 3, pad=(1, 1), bias=False)
conv("conv_wino_1x1_input", 3, 20, 1, 1, 18, 3, 3, pad=(1, 1))
conv("conv_wino_9x130_pad0x2", 1, 70, 9, 130, 19, 3, 3, pad=(0, 2))
conv("conv_wino_5x6_pad0", 2, 16, 5, 6, 33, 3, 3, bias=False)
conv("conv_wino_64_56x56", 2, 64, 56, 56, 64, 3, 3, pad=(1, 1))


def conv_grouped(name, n, cin, h, w, cout, kh, kw, groups, stride=(1, 1), pad=(0, 0),
                 dil=(1, 1), bias=True):
    x = rand(n, cin, h, w)
    wt = rand(cout, cin // groups, kh, kw) * (1.0 / (cin // groups * kh * kw)) ** 0.5
    b = rand(cout) if bias else None
    xd, wd = leaf(x), leaf(wt)
    bd = leaf(b) if bias else None
    y = F.conv2d(xd, wd, bd, stride=stride, padding=pad, dilation=dil, groups=groups)
    dy = rand(*y.shape)
    y.backward(dy.double())
    case(name, "conv2d_grouped", stride_h=stride[0], stride_w=stride[1], pad_h=pad[0],
         pad_w=pad[1], dil_h=dil[0], dil_w=dil[1], bias=int(bias), groups=groups)
    for role, t in (("x", x), ("w", wt), ("dy", dy), ("y", y), ("dx", xd.grad), ("dw", wd.grad)):
        save(name, role, t)
    if bias:
        save(name, "b", b)
        save(name, "db", bd.grad)


# Depthwise (groups = Cin): the direct kernels' 3x3 and 5x5 rows at stride 1 and 2 (MobileNet's
# and EfficientNet's), a channel multiplier, dilation, non-square strides and the generic rows.
conv_grouped("dw_k3_s1_p1", 2, 5, 9, 8, 5, 3, 3, 5, pad=(1, 1))
conv_grouped("dw_k3_s2_p1", 2, 4, 9, 10, 4, 3, 3, 4, stride=(2, 2), pad=(1, 1))
conv_grouped("dw_k3_s2_p1_even", 1, 3, 12, 12, 3, 3, 3, 3, stride=(2, 2), pad=(1, 1))
conv_grouped("dw_k5_s1_p2", 2, 3, 11, 9, 3, 5, 5, 3, pad=(2, 2))
conv_grouped("dw_k5_s2_p2_nobias", 2, 3, 12, 11, 3, 5, 5, 3, stride=(2, 2), pad=(2, 2),
             bias=False)
conv_grouped("dw_mult2_k3_s1_p1", 2, 3, 7, 7, 6, 3, 3, 3, pad=(1, 1))
conv_grouped("dw_k3_dil2_p2", 2, 4, 10, 9, 4, 3, 3, 4, pad=(2, 2), dil=(2, 2))
conv_grouped("dw_k3_s2x1_p0x1", 2, 3, 10, 7, 3, 3, 3, 3, stride=(2, 1), pad=(0, 1))
conv_grouped("dw_k7x1_s1_p3x0", 2, 3, 9, 6, 3, 7, 1, 3, pad=(3, 0))
conv_grouped("dw_k4_s3_p1_mult3", 1, 2, 13, 11, 6, 4, 4, 2, stride=(3, 3), pad=(1, 1))
conv_grouped("dw_k3_s1_p1_mobilenet", 1, 32, 56, 56, 32, 3, 3, 32, pad=(1, 1))
conv_grouped("dw_k5_s2_p2_efficientnet", 2, 24, 28, 28, 24, 5, 5, 24, stride=(2, 2), pad=(2, 2))
# Other groups: per group through the dense kernels (1x1, 3x3 on Winograd's size, strided).
conv_grouped("grouped_g2_k3_s1_p1", 2, 4, 8, 7, 6, 3, 3, 2, pad=(1, 1))
conv_grouped("grouped_g4_k1", 2, 8, 5, 6, 12, 1, 1, 4, bias=False)
conv_grouped("grouped_g3_k3_s2_p1_dil2", 2, 6, 11, 9, 3, 3, 3, 3, stride=(2, 2), pad=(1, 1),
             dil=(2, 2))
conv_grouped("grouped_g2_k3_wino", 2, 32, 16, 16, 32, 3, 3, 2, pad=(1, 1))
conv_grouped("grouped_g1_k3", 2, 3, 8, 8, 4, 3, 3, 1, pad=(1, 1))


def linear(name, n, fin, fout):
    x, wt, b = rand(n, fin), rand(fout, fin) * (1.0 / fin) ** 0.5, rand(fout)
    xd, wd, bd = leaf(x), leaf(wt), leaf(b)
    y = F.linear(xd, wd, bd)
    dy = rand(*y.shape)
    y.backward(dy.double())
    case(name, "linear")
    for role, t in (("x", x), ("w", wt), ("b", b), ("dy", dy), ("y", y), ("dx", xd.grad),
                    ("dw", wd.grad), ("db", bd.grad)):
        save(name, role, t)


linear("linear_small", 4, 20, 7)
linear("linear_vgg_fc", 3, 4608, 512)


def unary(name, op, x, fn, **params):
    xd = leaf(x)
    y = fn(xd)
    dy = rand(*y.shape)
    y.backward(dy.double())
    case(name, op, **params)
    for role, t in (("x", x), ("dy", dy), ("y", y), ("dx", xd.grad)):
        save(name, role, t)
    return y


unary("relu", "relu", rand(2, 3, 5, 5), F.relu)
unary("softmax", "softmax", rand(4, 10, lo=-3, hi=3), lambda t: F.softmax(t, dim=1))
unary("log_softmax", "log_softmax", rand(4, 10, lo=-3, hi=3),
      lambda t: F.log_softmax(t, dim=1))


# The mobile networks' activations, on values that include each kink exactly (0 and 6 for relu6,
# -3 and 3 for the hard ones): the gradient there must be PyTorch's choice.
def with_kinks(t):
    flat = t.view(-1)
    kinks = torch.tensor([-6.0, -3.0, 0.0, 3.0, 6.0, -3.5, 7.0, 2.5])
    flat[:kinks.numel()] = kinks
    return t


for act, fn in (("relu6", F.relu6), ("sigmoid", torch.sigmoid), ("silu", F.silu),
                ("hardsigmoid", F.hardsigmoid), ("hardswish", F.hardswish)):
    unary(f"act_{act}", act, with_kinks(rand(2, 3, 5, 7, lo=-8, hi=8)), fn)
unary("act_sigmoid_wide", "sigmoid", rand(3, 1000, lo=-100, hi=100), torch.sigmoid)
unary("act_silu_wide", "silu", rand(3, 1000, lo=-100, hi=100), F.silu)


def channel_mul(name, n, c, h, w):
    x, s = rand(n, c, h, w), rand(n, c, 1, 1, lo=0, hi=1)
    xd, sd = leaf(x), leaf(s)
    y = xd * sd
    dy = rand(*y.shape)
    y.backward(dy.double())
    case(name, "channel_mul")
    for role, t in (("x", x), ("s", s), ("dy", dy), ("y", y), ("dx", xd.grad), ("ds", sd.grad)):
        save(name, role, t)


channel_mul("channel_mul_small", 2, 5, 4, 3)
channel_mul("channel_mul_se_14x14", 2, 96, 14, 14)


def maxpool(name, x, k, s, p):
    xi = x.double()
    _, idx = F.max_pool2d(xi, k, s, p, return_indices=True)
    unary(name, "maxpool2d", x, lambda t: F.max_pool2d(t, k, s, p), kh=k[0], kw=k[1],
          sh=s[0], sw=s[1], ph=p[0], pw=p[1])
    save(name, "idx", idx.float())


maxpool("maxpool_k2_s2", rand(2, 3, 8, 8), (2, 2), (2, 2), (0, 0))
maxpool("maxpool_k2_s2_odd", rand(2, 3, 7, 9), (2, 2), (2, 2), (0, 0))
maxpool("maxpool_k3_s2_p1", rand(2, 3, 9, 7), (3, 3), (2, 2), (1, 1))
# Output half the input: the backward's 2x2 fast path must notice these indices are not 2x2's.
maxpool("maxpool_k3_s2_p1_even", rand(2, 3, 8, 10), (3, 3), (2, 2), (1, 1))
maxpool("maxpool_k3_s1_p1", rand(1, 2, 6, 6), (3, 3), (1, 1), (1, 1))
# Many ties: values from {0, 1, 2}; the first maximum in scan order must win, as in PyTorch.
maxpool("maxpool_k3_s2_ties", torch.randint(0, 3, (2, 2, 9, 9)).float(), (3, 3), (2, 2), (0, 0))

for h, w in ((14, 14), (13, 13), (5, 5), (7, 7), (10, 6)):
    unary(f"adaptive_avgpool_{h}x{w}_to_7x7", "adaptive_avgpool2d", rand(2, 3, h, w),
          lambda t: F.adaptive_avg_pool2d(t, (7, 7)), oh=7, ow=7)
unary("adaptive_avgpool_9x11_to_3x4", "adaptive_avgpool2d", rand(2, 3, 9, 11),
      lambda t: F.adaptive_avg_pool2d(t, (3, 4)), oh=3, ow=4)


def batchnorm(name, training, n, c, h, w):
    x, g, b = rand(n, c, h, w, lo=-2, hi=3), rand(c, lo=0.5, hi=1.5), rand(c)
    rm, rv = rand(c, lo=-0.5, hi=0.5), rand(c, lo=0.5, hi=2.0)
    xd, gd, bd = leaf(x), leaf(g), leaf(b)
    rmd, rvd = rm.double(), rv.double()
    y = F.batch_norm(xd, rmd, rvd, gd, bd, training=training, momentum=0.1, eps=1e-5)
    dy = rand(*y.shape)
    y.backward(dy.double())
    case(name, "batchnorm2d", training=int(training), eps=1e-5, momentum=0.1)
    for role, t in (("x", x), ("w", g), ("b", b), ("rm", rm), ("rv", rv), ("dy", dy), ("y", y),
                    ("dx", xd.grad), ("dw", gd.grad), ("db", bd.grad), ("rm_out", rmd),
                    ("rv_out", rvd)):
        save(name, role, t)


batchnorm("batchnorm_train", True, 4, 3, 5, 6)
batchnorm("batchnorm_train_batch1", True, 1, 8, 7, 7)
batchnorm("batchnorm_eval", False, 4, 3, 5, 6)

logits = rand(5, 10, lo=-4, hi=4)
targets = torch.tensor([3, 0, 9, 3, 7])
ld = leaf(logits)
loss = F.cross_entropy(ld, targets)
loss.backward()
case("cross_entropy", "cross_entropy")
save("cross_entropy", "x", logits)
save("cross_entropy", "targets", targets.float())
save("cross_entropy", "loss", loss.reshape(1))
save("cross_entropy", "dx", ld.grad)

with open(os.path.join(OUT, "manifest.txt"), "w") as f:
    f.write("\n".join(manifest) + "\n")
