"""Reference deletion/insertion AUCs for tests/metrics/test_causal_torch.c: the RISE protocol
(eclique/RISE evaluation.py, with pvx's step and blur parameters, docs/metrics.md) written
independently in PyTorch on a Grad-CAM map computed with autograd.

Usage: causal_reference.py OUTDIR   ->   OUTDIR/causal.h5:
  weights/<name>  vgg-mini (3x32x32, default channels, 10 classes, avgpool 1, hidden 256), seeded
                  torch init briefly fitted to 16 random images
  input [3,3,32,32], targets [3] (the predicted classes), gradcam [3,8,8] (features.13)
  deletion/auc [3], deletion/curve [3, 21]   step 0.05, baseline 0
  insertion/auc [3], insertion/curve [3, 21] step 0.05, Gaussian 11x11, sigma 5, zero padding
Weights are float32 in the file; every computation runs in float64 on those values.
"""
import math
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1234)
out = sys.argv[1]


class Mini(nn.Module):
    def __init__(self, cfg, in_ch, hidden, classes):
        super().__init__()
        layers = []
        for v in cfg:
            if v == -1:
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(in_ch, v, 3, padding=1), nn.ReLU(inplace=False)]
                in_ch = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(in_ch, hidden), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.5), nn.Linear(hidden, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


mini = Mini([32, 32, -1, 64, 64, -1, 128, 128, -1], 3, 256, 10)
x = torch.randn(3, 3, 32, 32)
xs = torch.cat([x, torch.randn(13, 3, 32, 32)])
ys = torch.randint(0, 10, (16,))
opt = torch.optim.Adam(mini.parameters(), lr=1e-3)
mini.eval()
for step in range(60):
    opt.zero_grad()
    F.cross_entropy(mini(xs), ys).backward()
    opt.step()
for p in mini.parameters():
    p.data = p.data.float().double()
mini = mini.double().eval()
x = x.double()

IDX = 13
with torch.no_grad():
    targets = mini(x).argmax(1)
a = mini.features[:IDX + 1](x)
y = mini.classifier(torch.flatten(mini.avgpool(mini.features[IDX + 1:](a)), 1))
g, = torch.autograd.grad(y[torch.arange(3), targets].sum(), a)
a, g = a.detach(), g.detach()
cam = (g.mean(dim=(2, 3), keepdim=True) * a).sum(1)          # [3, 8, 8] raw Grad-CAM

N, C, H, W = x.shape
HW = H * W


def pixels(raw):
    """The map as a person sees it: ReLU, (m - min) / (max - min + 1e-7), bilinear to H x W with
    half-pixel centres (cv2.resize / align_corners=False)."""
    m = torch.relu(raw)
    m = (m - m.min()) / (m.max() - m.min() + 1e-7)
    return F.interpolate(m[None, None], size=(H, W), mode="bilinear", align_corners=False)[0, 0]


def prob(imgs, t):
    with torch.no_grad():
        return torch.softmax(mini(imgs), 1)[:, t]


def curve(img, sal, t, start, finish, step):
    per = math.ceil(step * HW - 1e-9)
    n_steps = (HW + per - 1) // per
    order = np.argsort(-sal.flatten().numpy(), kind="stable")
    cur = start.clone().reshape(C, HW)
    fin = finish.reshape(C, HW)
    imgs = [cur.clone()]
    for k in range(n_steps):
        idx = torch.from_numpy(order[k * per:(k + 1) * per].copy())
        cur[:, idx] = fin[:, idx]
        imgs.append(cur.clone())
    s = prob(torch.stack(imgs).reshape(-1, C, H, W), t).numpy()
    auc = (s.sum() - s[0] / 2 - s[-1] / 2) / n_steps
    return auc, s


def gauss(size, sigma):
    r = size // 2
    k = torch.exp(-(torch.arange(size, dtype=torch.float64) - r) ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    return torch.outer(k, k)


k2 = gauss(11, 5.0)[None, None].repeat(C, 1, 1, 1)
blurred = F.conv2d(x, k2, padding=5, groups=C)
with h5py.File(out + "/causal.h5", "w") as f:
    for k, v in mini.state_dict().items():
        f["weights/" + k] = v.detach().float().numpy()
    f["input"] = x.float().numpy()
    f["targets"] = targets.numpy().astype(np.int64)
    f["gradcam"] = cam.numpy()
    for name in ("deletion", "insertion"):
        aucs, curves = [], []
        for i in range(N):
            sal = pixels(cam[i])
            t = int(targets[i])
            if name == "deletion":
                auc, s = curve(x[i], sal, t, x[i], torch.zeros_like(x[i]), 0.05)
            else:
                auc, s = curve(x[i], sal, t, blurred[i], x[i], 0.05)
            aucs.append(auc)
            curves.append(s)
        f[name + "/auc"] = np.array(aucs)
        f[name + "/curve"] = np.stack(curves)
        print(name, aucs)
