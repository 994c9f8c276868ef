"""Reference maps for tests/explain/test_explain_torch.c, computed with PyTorch autograd in
float64 from the formulas of pytorch-grad-cam (shared/reference/xai-anchors.md §4), Captum's
Saliency / IntegratedGradients(riemann_middle) / Occlusion, written here independently of pvx.

Usage: explain_reference.py OUTDIR [vgg16 | graph]

  OUTDIR/mini.h5   vgg-mini (3x32x32, default channels, 10 classes, avgpool 1, hidden 256),
                   seeded torch init briefly fitted to 16 random images, batch 3, targets
                   [3, 7, 1]: weights (float32, torchvision names), input, targets, logits, and
                   maps/<method> for every method at
                   features.13 (the ReLU after the last conv, 8x8) or at the input (32x32).
  OUTDIR/vgg16.h5  torchvision vgg16 (seeded init), 1x3x224x224, target 7: weights, input,
                   logits, maps/gradcam at features.29 (14x14).
  OUTDIR/<arch>.h5 (graph) torchvision resnet18 (CAM layer layer4) and mobilenet_v2 (features.18):
                   seeded init with batch-norm made non-trivial (weight, bias, running statistics
                   drawn at random, as tests/models/models_reference.py does), evaluation mode,
                   2x3x64x64, targets [3, 7]: weights, input, targets, logits,
                   maps/{gradcam, gradcam++} at the CAM layer (2x2) and maps/integrated-gradients
                   (16 steps, baseline 0; 64x64), and f32err/<map>, f32err/logits: PyTorch's own
                   float32 error on that map by the C test's criterion (the same computation on
                   the float32 model).
Without a mode only mini.h5 is written; vgg16 and graph write only their own files.
The weights are float32 in the file; every computation runs in float64 on those values.
"""
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(4321)
out = sys.argv[1]
mode = sys.argv[2] if len(sys.argv) > 2 else "mini"
if mode not in ("mini", "vgg16", "graph"):
    sys.exit("explain_reference.py: unknown mode %s (vgg16 or graph)" % mode)


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


def tail(model, idx, a):
    """The model from features[idx] on (idx = the target layer's index)."""
    a = model.features[idx + 1:](a)
    return model.classifier(torch.flatten(model.avgpool(a), 1))


def act_grad(model, idx, x, targets):
    a = model.features[:idx + 1](x)
    a.retain_grad()
    y = tail(model, idx, a)
    score = y[torch.arange(len(targets)), targets].sum()
    g, = torch.autograd.grad(score, a)
    return a.detach(), g.detach(), y.detach()


def cams(model, idx, x, targets):
    A, G, y = act_grad(model, idx, x, targets)
    return A, y, cam_maps(A, G)


def cam_maps(A, G):
    """The gradient CAMs of activation A and gradient G [N, K, h, w] at the target layer."""
    S = A.sum(dim=(2, 3), keepdim=True)
    m = {}
    m["gradcam"] = (G.mean(dim=(2, 3), keepdim=True) * A).sum(1)
    g2, g3 = G ** 2, G ** 3
    alpha = g2 / (2 * g2 + S * g3 + 1e-6)
    alpha = torch.where(G != 0, alpha, torch.zeros_like(alpha))
    w = (torch.relu(G) * alpha).sum(dim=(2, 3), keepdim=True)
    m["gradcam++"] = (w * A).sum(1)
    m["hirescam"] = (G * A).sum(1)
    m["xgradcam"] = ((G * A).sum(dim=(2, 3), keepdim=True) / (S + 1e-7) * A).sum(1)
    m["layercam"] = (torch.relu(G) * A).sum(1)
    return m


def scorecam(model, A, x, targets):
    N, K = A.shape[:2]
    U = F.interpolate(A, size=x.shape[-2:], mode="bilinear", align_corners=True)
    mx = U.flatten(2).max(-1)[0][:, :, None, None]
    mn = U.flatten(2).min(-1)[0][:, :, None, None]
    M = (U - mn) / (mx - mn + 1e-8)
    maps = []
    with torch.no_grad():
        for b in range(N):
            xs = x[b][None] * M[b][:, None]           # K x C x H x W
            s = model(xs)[:, targets[b]]
            w = torch.softmax(s, 0)
            maps.append((w[:, None, None] * A[b]).sum(0))
    return torch.stack(maps)


def ablationcam(model, idx, A, y, targets):
    N, K = A.shape[:2]
    maps = []
    with torch.no_grad():
        for b in range(N):
            t = targets[b]
            v = 0.0 if A[b].min() == 0 else A[b].min() - 1e7
            copies = A[b][None].repeat(K, 1, 1, 1)
            for k in range(K):
                copies[k, k] = v
            yk = tail(model, idx, copies)[:, t]
            w = (y[b, t] - yk) / y[b, t]
            maps.append((w[:, None, None] * A[b]).sum(0))
    return torch.stack(maps)


def eigencam(A):
    maps = []
    for b in range(A.shape[0]):
        K, h, w = A[b].shape
        X = A[b].reshape(K, -1).T
        Xc = X - X.mean(0)
        U, S, VT = torch.linalg.svd(Xc, full_matrices=True)
        p = Xc @ VT[0, :]
        dot = (p * X.sum(1)).sum()
        if dot < 0 or (dot == 0 and p.min().abs() > p.max().abs()):
            p = -p
        maps.append(p.reshape(h, w))
    return torch.stack(maps)


def input_grad(model, x, targets):
    x = x.clone().requires_grad_(True)
    y = model(x)
    g, = torch.autograd.grad(y[torch.arange(len(targets)), targets].sum(), x)
    return g


def integrated_gradients(model, x, targets, steps, base):
    maps = []
    for b in range(x.shape[0]):
        alphas = (torch.arange(steps, dtype=torch.float64) + 0.5) / steps
        xs = (base + alphas[:, None, None, None] * (x[b][None].double() - base)).to(x.dtype)
        g = input_grad(model, xs, torch.full((steps,), int(targets[b])))
        maps.append(((x[b].double() - base) * g.double().mean(0)).sum(0))
    return torch.stack(maps)


def occlusion(model, x, targets, patch, stride, base):
    N, C, H, W = x.shape
    def starts(n):
        s = list(range(0, n - patch + 1, stride))
        if s[-1] != n - patch:
            s.append(n - patch)
        return s
    maps = []
    with torch.no_grad():
        for b in range(N):
            t = targets[b]
            y = model(x[b][None])[0, t]
            total = torch.zeros(H, W, dtype=torch.float64)
            count = torch.zeros(H, W, dtype=torch.float64)
            for r in starts(H):
                for q in starts(W):
                    xo = x[b].clone()
                    xo[:, r:r + patch, q:q + patch] = base
                    d = y - model(xo[None])[0, t]
                    total[r:r + patch, q:q + patch] += d
                    count[r:r + patch, q:q + patch] += 1
            maps.append(total / count)
    return torch.stack(maps)


def write_weights(f, model):
    for k, v in model.state_dict().items():
        f["weights/" + k] = v.detach().float().numpy()


def to64(model):
    # float32 values as written, computed in float64
    for p in model.parameters():
        p.data = p.data.float().double()
    return model.double().eval()


# ---- vgg-mini
def write_mini():
    mini = Mini([32, 32, -1, 64, 64, -1, 128, 128, -1], 3, 256, 10)
    x = torch.randn(3, 3, 32, 32, dtype=torch.float32)
    targets = torch.tensor([3, 7, 1])
    # A freshly initialised VGG barely depends on its input (logits ~0.05 that move by ~1e-4 when
    # a patch is occluded), so perturbation methods would measure float32 cancellation, not
    # formulas. A short fit to 16 random images (these 3 among them) gives a model whose scores,
    # like a trained one's, depend on the input (logits of several units).
    xs = torch.cat([x, torch.randn(13, 3, 32, 32)])
    ys = torch.cat([targets, torch.randint(0, 10, (13,))])
    opt = torch.optim.Adam(mini.parameters(), lr=1e-3)
    mini.eval()  # no dropout: a deterministic fit
    for step in range(60):
        opt.zero_grad()
        F.cross_entropy(mini(xs), ys).backward()
        opt.step()
    mini = to64(mini)
    x = x.double()
    IDX = 13
    with h5py.File(out + "/mini.h5", "w") as f:
        write_weights(f, mini)
        f["input"] = x.float().numpy()
        f["targets"] = targets.numpy().astype(np.int64)
        A, y, m = cams(mini, IDX, x, targets)
        f["logits"] = y.numpy()
        m["scorecam"] = scorecam(mini, A, x, targets)
        m["ablationcam"] = ablationcam(mini, IDX, A, y, targets)
        m["eigencam"] = eigencam(A)
        g = input_grad(mini, x, targets)
        m["saliency"] = g.abs().max(1)[0]
        m["integrated-gradients"] = integrated_gradients(mini, x, targets, 16, 0.0)
        m["occlusion"] = occlusion(mini, x, targets, 8, 4, 0.0)
        for k, v in m.items():
            f["maps/" + k] = v.numpy()


# ---- VGG-16 at 224, Grad-CAM at features.29
def write_vgg16():
    import torchvision
    torch.manual_seed(99)
    vgg = torchvision.models.vgg16()
    for mod in vgg.modules():
        if isinstance(mod, nn.ReLU):
            mod.inplace = False
    vgg = to64(vgg)
    x = torch.randn(1, 3, 224, 224, dtype=torch.float32).double()
    t = torch.tensor([7])
    with h5py.File(out + "/vgg16.h5", "w") as f:
        write_weights(f, vgg)
        f["input"] = x.float().numpy()
        A, G, y = act_grad(vgg, 29, x, t)
        f["logits"] = y.numpy()
        f["targets"] = t.numpy().astype(np.int64)
        f["maps/gradcam"] = (G.mean(dim=(2, 3), keepdim=True) * A).sum(1).numpy()


# ---- torchvision resnet18 / mobilenet_v2: Grad-CAM, Grad-CAM++ at the plugin's default CAM
# layer, integrated gradients at the input
GRAPH = {"resnet18": "layer4", "mobilenet_v2": "features.18"}


def randomise_bn(model):
    """As tests/models/models_reference.py: batch-norm weight, bias and running statistics drawn
    at random. (mobilenet_v2 then depends little on its input: its integrated-gradients map is of
    the order of 1e-10, compared relatively all the same. Running statistics measured on random
    images instead give it gradients of 0.7, but make both networks so ill-conditioned that
    PyTorch's own float32 integrated gradients are 0.26 from float64.)"""
    for mod in model.modules():
        if isinstance(mod, nn.BatchNorm2d):
            nn.init.uniform_(mod.weight, 0.5, 1.5)
            nn.init.normal_(mod.bias, 0, 0.1)
            mod.running_mean.normal_(0, 0.1)
            mod.running_var.uniform_(0.5, 1.5)


def tap_act_grad(model, layer, x, targets):
    """Activation and gradient of sum_n logits[n, targets[n]] at module @layer's output."""
    store = {}

    def hook(mod, inp, output):
        output.retain_grad()
        store["act"] = output
    handle = dict(model.named_modules())[layer].register_forward_hook(hook)
    y = model(x)
    handle.remove()
    y[torch.arange(len(targets)), targets].sum().backward()
    return store["act"].detach(), store["act"].grad.detach(), y.detach()


def graph_maps(model, layer, x, targets):
    """The three maps and the logits of @model in its own dtype; the formulas in float64."""
    A, G, y = tap_act_grad(model, layer, x, targets)
    cm = cam_maps(A.double(), G.double())
    return y, {"gradcam": cm["gradcam"], "gradcam++": cm["gradcam++"],
               "integrated-gradients": integrated_gradients(model, x, targets, 16, 0.0)}


def rel_err(got, ref):
    """The C test's criterion: max |got - ref| / max(|ref|, 1e-2 max|ref|)."""
    got, ref = got.double(), ref.double()
    floor = 1e-2 * ref.abs().max()
    return ((got - ref).abs() / torch.clamp(ref.abs(), min=floor)).max().item()


def write_graph():
    import torchvision
    for i, (arch, layer) in enumerate(GRAPH.items()):
        torch.manual_seed(200 + i)
        model = getattr(torchvision.models, arch)()
        randomise_bn(model)
        for mod in model.modules():
            if isinstance(mod, (nn.ReLU, nn.ReLU6)):
                mod.inplace = False
        model.eval()
        x = torch.randn(2, 3, 64, 64)
        targets = torch.tensor([3, 7])
        with h5py.File("%s/%s.h5" % (out, arch), "w") as f:
            for k, v in model.state_dict().items():
                if not k.endswith("num_batches_tracked"):
                    f["weights/" + k] = v.detach().float().numpy()
            f["input"] = x.numpy()
            f["targets"] = targets.numpy().astype(np.int64)
            y32, m32 = graph_maps(model, layer, x, targets)
            y, m = graph_maps(to64(model), layer, x.double(), targets)
            f["logits"] = y.numpy()
            f["f32err/logits"] = np.array([rel_err(y32, y)])
            for k, v in m.items():
                f["maps/" + k] = v.numpy()
                f["f32err/" + k] = np.array([rel_err(m32[k], v)])


{"mini": write_mini, "vgg16": write_vgg16, "graph": write_graph}[mode]()
