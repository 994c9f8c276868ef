"""Reference data for tests/nn/test_nn_torch.c, computed by PyTorch (float64).

Usage: nn_reference.py OUTDIR [vgg16]

Writes, with torchvision's state-dict names and PyTorch's shapes:
  OUTDIR/mini.h5     vgg-mini (1x28x28, 10 classes, batch 4), evaluation mode: weights (float32),
                     input, targets, logits, cross-entropy loss; from that loss the gradients of
                     features.0 / classifier.6 weight and bias, of the input, and at the tapped
                     layer features.13 (the ReLU after the last conv) with its activation.
  OUTDIR/mini_bn.h5  vgg-mini with batch-norm in training mode (dropout 0): the same, plus the
                     BN running statistics after the step and features.1's gradients; its
                     weights go .pth -> HDF5 through tools/convert_torchvision.py.
  OUTDIR/vgg16.h5    torchvision vgg16 (seeded init, 3x224x224, batch 1): logits, and from a
                     one-hot on class 7 the gradient at features.29 and its activation.
  OUTDIR/keys.txt    "<arch> <state-dict key> <shape>" for torchvision's eight VGG variants,
                     and "<arch> #params <count>".
Weights are float32 in the files; the computation runs in float64 on exactly those values.
"""
import os
import subprocess
import sys

import h5py
import numpy as np
import torch
import torch.nn as nn
import torchvision

torch.manual_seed(1234)
out = sys.argv[1]
want_vgg16 = len(sys.argv) > 2 and sys.argv[2] == "vgg16"
CONVERTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                         "convert_torchvision.py")


class Mini(nn.Module):
    def __init__(self, cfg, in_ch, hidden, classes, bn, dropout, avg):
        super().__init__()
        layers = []
        for v in cfg:
            if v == -1:
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers.append(nn.Conv2d(in_ch, v, 3, padding=1))
                if bn:
                    layers.append(nn.BatchNorm2d(v))
                layers.append(nn.ReLU(inplace=True))
                in_ch = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(avg)
        self.classifier = nn.Sequential(
            nn.Linear(in_ch * avg * avg, hidden), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(hidden, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def write_weights(f, model):
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        f["weights/" + k] = v.detach().float().numpy()


def tap(model, name, store):
    layer = dict(model.named_modules())[name]

    def hook(mod, inp, output):
        store["act"] = output.detach().clone()
        output.register_hook(lambda g: store.__setitem__("grad", g.detach().clone()))
    layer.register_forward_hook(hook)


def mini_case(path, bn, train, tap_name, params):
    cfg = [32, 32, -1, 64, 64, -1, 128, 128, -1]
    model = Mini(cfg, 1, 256, 10, bn, 0.0 if train else 0.5, 1)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.normal_(m.bias, 0, 0.1)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.05)
            nn.init.normal_(m.bias, 0, 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.normal_(m.bias, 0, 0.1)
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    x = torch.randn(4, 1, 28, 28)
    targets = torch.tensor([3, 7, 0, 9])
    if bn:
        # Through tools/convert_torchvision.py, as a user would bring a torchvision checkpoint.
        pth = path + ".pth"
        torch.save(model.state_dict(), pth)
        subprocess.run([sys.executable, CONVERTER, pth, path], check=True,
                       stdout=subprocess.DEVNULL)
        os.unlink(pth)
    with h5py.File(path, "a" if bn else "w") as f:
        if not bn:
            write_weights(f, model)
        model = model.double()
        model.train(train)
        store = {}
        tap(model, tap_name, store)
        xd = x.double().requires_grad_(True)
        logits = model(xd)
        loss = nn.functional.cross_entropy(logits, targets)
        loss.backward()
        f["input"] = x.numpy()
        f["targets"] = targets.numpy().astype(np.int64)
        f["logits"] = logits.detach().float().numpy()
        f["loss"] = np.array([loss.item()])
        f["dx"] = xd.grad.float().numpy()
        f["tap/act"] = store["act"].float().numpy()
        f["tap/grad"] = store["grad"].float().numpy()
        named = dict(model.named_parameters())
        for p in params:
            f["grad/" + p] = named[p].grad.float().numpy()
        if bn:
            for k, v in model.state_dict().items():
                if "running" in k:
                    f["after/" + k] = v.float().numpy()


mini_case(os.path.join(out, "mini.h5"), False, False, "features.13",
          ["features.0.weight", "features.0.bias", "classifier.6.weight", "classifier.6.bias"])
mini_case(os.path.join(out, "mini_bn.h5"), True, True, "features.19",
          ["features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
           "classifier.6.weight", "classifier.6.bias"])

if want_vgg16:
    torch.manual_seed(16)
    model = torchvision.models.vgg16()
    x = torch.randn(1, 3, 224, 224)
    with h5py.File(os.path.join(out, "vgg16.h5"), "w") as f:
        write_weights(f, model)
        model = model.double().eval()
        store = {}
        tap(model, "features.29", store)
        logits = model(x.double())
        onehot = torch.zeros_like(logits)
        onehot[0, 7] = 1.0
        logits.backward(onehot)
        f["input"] = x.numpy()
        f["logits"] = logits.detach().float().numpy()
        f["tap/act"] = store["act"].float().numpy()
        f["tap/grad"] = store["grad"].float().numpy()

# State-dict keys of every variant, without paying for torchvision's initialisation.
nn.Linear.reset_parameters = lambda self: None
nn.modules.conv._ConvNd.reset_parameters = lambda self: None
with open(os.path.join(out, "keys.txt"), "w") as f:
    for arch in ["vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn",
                 "vgg19_bn"]:
        model = getattr(torchvision.models, arch)(init_weights=False)
        for k, v in model.state_dict().items():
            f.write("%s %s %s\n" % (arch, k, ",".join(str(s) for s in v.shape)))
        f.write("%s #params %d\n" % (arch, sum(p.numel() for p in model.parameters())))
