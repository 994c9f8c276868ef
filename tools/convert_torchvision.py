#!/usr/bin/python3
"""Convert torchvision checkpoints (.pth state dicts) to pvx HDF5 weights, and back.

  /usr/bin/python3 tools/convert_torchvision.py vgg16.pth vgg16.h5            # .pth -> HDF5
  /usr/bin/python3 tools/convert_torchvision.py --group /models/cr0/weights vgg16.pth run.h5
  /usr/bin/python3 tools/convert_torchvision.py --to-pth vgg16.h5 vgg16.pth   # HDF5 -> .pth

HDF5 side: one float32 dataset per state tensor, <group>/<state-dict key>, PyTorch's shape
(docs/weights.md). BN's integer num_batches_tracked is left out (pvx does not need it); --to-pth
puts it back as 0 so torchvision's load_state_dict(strict=True) accepts the file. A checkpoint
that wraps its state dict ({"state_dict": ...} or {"model": ...}) is unwrapped; a "module."
prefix (DataParallel) is stripped. Needs Debian's python3-torch, numpy and h5py (use
/usr/bin/python3: another python3 on PATH may lack torch).
"""
import argparse
import os
import sys


def die(msg):
    print("convert_torchvision: " + msg, file=sys.stderr)
    sys.exit(1)


def load_state_dict(path):
    import torch
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - any load failure is the user's file
        die("%s: not a PyTorch checkpoint (%s)" % (path, e))
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(torch.is_tensor(v) for v in obj.values()):
        die("%s: expected a state dict (name -> tensor)" % path)
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in obj.items()}


def pth_to_h5(src, dst, group, force):
    import h5py
    sd = load_state_dict(src)
    mode = "a" if os.path.exists(dst) else "w"
    tmp = dst + ".tmp-convert"
    if mode == "a":
        import shutil
        shutil.copyfile(dst, tmp)
    with h5py.File(tmp, mode if mode == "w" else "a") as f:
        if group in f:
            if not force:
                os.unlink(tmp)
                die("%s already has %s (use --force to replace it)" % (dst, group))
            del f[group]
        g = f.require_group(group)
        n = 0
        for k, v in sd.items():
            if k.endswith("num_batches_tracked"):
                continue
            if not v.is_floating_point():
                die("%s: %s is %s, not a float tensor" % (src, k, v.dtype))
            g.create_dataset(k, data=v.detach().float().numpy())
            n += 1
    os.replace(tmp, dst)  # a crash never leaves a half-written file under dst
    print("%s: %d tensors -> %s:%s" % (src, n, dst, group))


def h5_to_pth(src, dst, group):
    import h5py
    import torch
    try:
        f = h5py.File(src, "r")
    except OSError as e:
        die("%s: not an HDF5 file (%s)" % (src, e))
    with f:
        if group not in f:
            die("%s has no group %s" % (src, group))
        sd = {}
        # HDF5 lists names sorted; torchvision registers modules in forward order. Top level:
        # VGG/MobileNet/EfficientNet features, avgpool, classifier; ResNet conv1, bn1,
        # layer1..4, fc. Inside a ResNet block conv1, bn1, conv2, bn2, conv3, bn3, downsample;
        # numbered children by number; other names (SqueezeExcitation's fc1, fc2) by name.
        top = {"conv1": 0, "bn1": 1, "features": 2, "layer1": 3, "layer2": 4, "layer3": 5,
               "layer4": 6, "avgpool": 7, "classifier": 8, "fc": 9}
        inner = {"conv1": 0, "bn1": 1, "conv2": 2, "bn2": 3, "conv3": 4, "bn3": 5,
                 "downsample": 6}
        slot = {"weight": 0, "bias": 1, "running_mean": 2, "running_var": 3}

        def order(k):
            parts = k.split(".")
            return [(top.get(parts[0], 10), parts[0])] + \
                   [(0, int(p), "") if p.isdigit() else (1, inner.get(p, 7), p)
                    for p in parts[1:-1]] + \
                   [(slot.get(parts[-1], 9), parts[-1])]
        names = [k for k in f[group] if isinstance(f[group][k], h5py.Dataset)]
        for k in sorted(names, key=order):
            sd[k] = torch.from_numpy(f[group][k][()].astype("float32"))
            if k.endswith(".running_var"):
                sd[k[:-len("running_var")] + "num_batches_tracked"] = torch.tensor(0)
    torch.save(sd, dst + ".tmp-convert")
    os.replace(dst + ".tmp-convert", dst)
    print("%s:%s -> %s (%d tensors)" % (src, group, dst, len(sd)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--group", default="/weights", help="HDF5 group (default /weights)")
    ap.add_argument("--to-pth", action="store_true", help="convert HDF5 -> .pth")
    ap.add_argument("--force", action="store_true", help="replace an existing group")
    a = ap.parse_args()
    if not os.path.exists(a.src):
        die("%s: no such file" % a.src)
    if a.to_pth:
        h5_to_pth(a.src, a.dst, a.group)
    else:
        pth_to_h5(a.src, a.dst, a.group, a.force)


if __name__ == "__main__":
    main()
