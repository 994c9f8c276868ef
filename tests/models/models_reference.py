"""Reference data for tests/models/test_models_torch.c, computed by PyTorch (float64).

Usage: models_reference.py OUTDIR

Reads OUTDIR/pvx/<arch>.h5 (written by the C test: pvx's own seeded weights, group /weights) and
writes, with torchvision's state-dict names and PyTorch's shapes:
  OUTDIR/<arch>.h5 for resnet18, resnet50, mobilenet_v2, mobilenet_v3_small, efficientnet_b0
              (3x64x64, 1000 classes) and resnet20 (1x28x28, 10 classes; a CIFAR-style ResNet
              written below with torchvision's BasicBlock):
     /weights        torchvision's seeded init with batch-norm made non-trivial (weight, bias and
                     running statistics drawn at random), float32. resnet18's and mobilenet_v2's go
                     .pth -> HDF5 through tools/convert_torchvision.py (resnet18's by running
                     the command docs/models.md shows), the others are written directly.
     /eval/...       evaluation mode, batch 2: input, classes, logits, dx = d(sum_n
                     logits[n, classes[n]])/d(input), and the activation and gradient at the
                     model's default CAM layer (tap/act, tap/grad).
     /train/...      resnet18, mobilenet_v2 and resnet20: batch-norm in training mode, dropout 0
                     (and stochastic depth 0), batch 4: input, targets, logits, cross-entropy loss,
                     dx, grad/<every parameter>, after/<every BN running statistic>.
     /roundtrip/...  pvx's own weights (OUTDIR/pvx/<arch>.h5) converted HDF5 -> .pth with
                     tools/convert_torchvision.py, loaded with load_state_dict(strict=True) into
                     the torchvision model, evaluation logits on an input of batch 2.
  OUTDIR/keys.txt    "<arch> <state-dict key> <shape>" and "<arch> #params <count>" for every
                     architecture the plugins build (1000 classes; the CIFAR ones 10).
Weights are float32 in the files; the computation runs in float64 on exactly those values.
"""
import importlib.util
import os
import subprocess
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, conv1x1
from torchvision.ops import StochasticDepth

out = sys.argv[1]
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CONVERTER = os.path.join(ROOT, "tools", "convert_torchvision.py")
spec = importlib.util.spec_from_file_location("convert_torchvision", CONVERTER)
convert = importlib.util.module_from_spec(spec)
spec.loader.exec_module(convert)


class CifarResNet(nn.Module):
    """He et al. (2016) §4.2 with projection shortcuts (option B), torchvision's names."""

    def __init__(self, n, in_ch=3, num_classes=10):
        super().__init__()
        self.inplanes = 16
        self.conv1 = nn.Conv2d(in_ch, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(16, n, 1)
        self.layer2 = self._make_layer(32, n, 2)
        self.layer3 = self._make_layer(64, n, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def _make_layer(self, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride),
                                       nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


CIFAR = {"resnet20": 3, "resnet32": 5, "resnet56": 9}


def make(arch):
    if arch in CIFAR:
        return CifarResNet(CIFAR[arch], in_ch=1 if arch == "resnet20" else 3)
    return getattr(torchvision.models, arch)()


# The default CAM layer of each plugin: the module whose output it equals.
TAP = {"resnet18": "layer4", "resnet50": "layer4", "resnet20": "layer3",
       "mobilenet_v2": "features.18", "mobilenet_v3_small": "features.12",
       "efficientnet_b0": "features.8"}
CASES = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
         "resnet20"]
TRAIN = {"resnet18", "mobilenet_v2", "resnet20"}


def input_shape(arch):
    return (1, 28, 28) if arch == "resnet20" else (3, 64, 64)


def randomise_bn(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.normal_(m.bias, 0, 0.1)
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)


def no_dropout(model):
    for m in model.modules():
        if isinstance(m, (nn.Dropout, StochasticDepth)):
            m.p = 0.0


def tap(model, name, store):
    layer = dict(model.named_modules())[name]

    def hook(mod, inp, output):
        store["act"] = output.detach().clone()
        output.register_hook(lambda g: store.__setitem__("grad", g.detach().clone()))
    return layer.register_forward_hook(hook)


def write_weights(f, model):
    for k, v in model.state_dict().items():
        if not k.endswith("num_batches_tracked"):
            f["weights/" + k] = v.detach().float().numpy()


def run_eval(model, arch, x, classes, dtype):
    m = model.to(dtype).eval()
    store = {}
    handle = tap(m, TAP[arch], store)
    xd = x.to(dtype).requires_grad_(True)
    logits = m(xd)
    onehot = torch.zeros_like(logits)
    onehot[torch.arange(len(classes)), classes] = 1.0
    logits.backward(onehot)
    handle.remove()
    return {"eval/logits": logits.detach(), "eval/dx": xd.grad,
            "eval/tap/act": store["act"], "eval/tap/grad": store["grad"]}


def run_train(model, x, targets, dtype):
    m = model.to(dtype).train()
    no_dropout(m)
    xd = x.to(dtype).requires_grad_(True)
    m.zero_grad()
    logits = m(xd)
    loss = nn.functional.cross_entropy(logits, targets)
    loss.backward()
    res = {"train/logits": logits.detach(), "train/dx": xd.grad,
           "train/loss": loss.detach().reshape(1)}
    for k, p in m.named_parameters():
        res["train/grad/" + k] = p.grad
    for k, v in m.state_dict().items():
        if "running" in k:
            res["train/after/" + k] = v
    return res


def rel_err(got, ref):
    """The C test's criterion: max |got - ref| / max(|ref|, 1e-2 max|ref|)."""
    got, ref = got.double(), ref.double()
    floor = 1e-2 * ref.abs().max()
    if floor == 0:
        return 0.0 if got.abs().max() == 0 else float("inf")
    return ((got - ref).abs() / torch.clamp(ref.abs(), min=floor)).max().item()


def write_results(f, state, arch, run):
    """Runs @run(model, dtype) in float64 (the reference) and in float32 on the same float32
    weights; writes the float64 results and PyTorch's own float32 error on each: under f32err/
    by the C test's criterion, under f32abs/ the largest absolute difference."""
    res = {}
    for dtype in (torch.float64, torch.float32):
        model = make(arch)
        model.load_state_dict(state)
        res[dtype] = run(model, dtype)
    for k, v in res[torch.float64].items():
        f[k] = v.numpy() if k == "train/loss" else v.float().numpy()
        f["f32err/" + k] = np.array([rel_err(res[torch.float32][k], v)])
        f["f32abs/" + k] = np.array([(res[torch.float32][k].double() - v).abs().max().item()])


def eval_case(f, arch, state):
    x = torch.randn(2, *input_shape(arch))
    classes = torch.tensor([3, 7])
    f["eval/input"] = x.numpy()
    f["eval/classes"] = classes.numpy().astype(np.int64)
    write_results(f, state, arch, lambda m, dt: run_eval(m, arch, x, classes, dt))


def train_case(f, arch, state):
    x = torch.randn(4, *input_shape(arch))
    targets = torch.randint(0, 10 if arch in CIFAR else 1000, (4,))
    f["train/input"] = x.numpy()
    f["train/targets"] = targets.numpy().astype(np.int64)
    write_results(f, state, arch, lambda m, dt: run_train(m, x, targets, dt))


def roundtrip_case(f, arch):
    src = os.path.join(out, "pvx", arch + ".h5")
    pth = os.path.join(out, arch + "-back.pth")
    convert.h5_to_pth(src, pth, "/weights")
    model = make(arch)
    sd = torch.load(pth)
    if list(sd.keys()) != list(model.state_dict().keys()):
        sys.exit("%s: --to-pth key order differs from torchvision's" % arch)
    model.load_state_dict(sd, strict=True)
    os.unlink(pth)
    m = model.double().eval()
    x = torch.randn(2, *input_shape(arch))
    with torch.no_grad():
        logits = m(x.double())
    f["roundtrip/input"] = x.numpy()
    f["roundtrip/logits"] = logits.float().numpy()


for i, arch in enumerate(CASES):
    torch.manual_seed(100 + i)
    model = make(arch)
    randomise_bn(model)
    path = os.path.join(out, arch + ".h5")
    if arch in ("resnet18", "mobilenet_v2"):
        pth = os.path.join(out, arch + ".pth")
        torch.save(model.state_dict(), pth)
        if arch == "resnet18":
            # The command docs/models.md shows, as a user would run it.
            subprocess.run([sys.executable, CONVERTER, pth, path], check=True,
                           stdout=subprocess.DEVNULL)
        else:
            convert.pth_to_h5(pth, path, "/weights", False)
        os.unlink(pth)
    else:
        with h5py.File(path, "w") as f:
            write_weights(f, model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with h5py.File(path, "a") as f:
        eval_case(f, arch, state)
        if arch in TRAIN:
            train_case(f, arch, state)
        roundtrip_case(f, arch)

# State-dict keys of every architecture, without paying for the initialisation.
for fn in ("kaiming_normal_", "kaiming_uniform_", "normal_", "uniform_", "constant_", "zeros_",
           "ones_"):
    setattr(nn.init, fn, lambda t, *a, **k: t)
nn.Linear.reset_parameters = lambda self: None
nn.modules.conv._ConvNd.reset_parameters = lambda self: None
with open(os.path.join(out, "keys.txt"), "w") as f:
    for arch in ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet20",
                 "resnet32", "resnet56", "mobilenet_v2", "mobilenet_v3_small",
                 "mobilenet_v3_large", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2",
                 "efficientnet_b3"]:
        model = CifarResNet(CIFAR[arch]) if arch in CIFAR else make(arch)
        for k, v in model.state_dict().items():
            f.write("%s %s %s\n" % (arch, k, ",".join(str(s) for s in v.shape)))
        f.write("%s #params %d\n" % (arch, sum(p.numel() for p in model.parameters())))
