"""configs/paper/vgg16-imagenette.yaml never rots: the very file runs end to end on a generated
Imagenette-style folder (one image per class and split, plus a second training image per class)
with random VGG-16 weights converted by tools/convert_torchvision.py, exactly where the config
expects them (data/ two folders above it). Overrides only make it short: one training and
fine-tuning epoch, rates without 16 (no design uses it), and the whole weights file taken as it
is (weights_exclude: []), because its 10-class head is built to classify the tench images
correctly at every CR — the paper's image selection needs such images.
Speaks TAP. Skipped in sanitizer builds (VGG-16 under ASan takes too long for CI).

Usage: test_paper.py PVX_EXE SOURCE_ROOT BUILD_ROOT [sanitize]
"""
import os
import shutil
import subprocess
import sys
import tempfile

PVX, SRC, BUILD = sys.argv[1], sys.argv[2], sys.argv[3]
SANITIZE = len(sys.argv) > 4 and sys.argv[4] not in ("", "none")
WNIDS = ["n01440764", "n02102040", "n02979186", "n03000684", "n03028079", "n03394916",
         "n03417042", "n03425413", "n03445777", "n03888605"]
results = []


def check(ok, name, detail=""):
    results.append((ok, name, detail))


def main():
    if SANITIZE:
        print("1..0 # SKIP VGG-16 end to end is too slow under the sanitizers")
        return 0
    import numpy as np
    import torch
    import torchvision
    from PIL import Image

    tmp = tempfile.mkdtemp(prefix="pvx-paper-")
    os.makedirs(os.path.join(tmp, "configs", "paper"))
    shutil.copy(os.path.join(SRC, "configs", "paper", "vgg16-imagenette.yaml"),
                os.path.join(tmp, "configs", "paper"))
    rng = np.random.default_rng(7)
    for split, n in (("train", 2), ("test", 1)):
        for c, wnid in enumerate(WNIDS):
            d = os.path.join(tmp, "data", "imagenette", split, wnid)
            os.makedirs(d)
            for i in range(n):
                # A class-coloured disc on noise, 320 px like imagenette2-320.
                yy, xx = np.mgrid[0:320, 0:400]
                img = rng.integers(0, 255, size=(320, 400, 3)).astype(np.uint8)
                disc = (yy - 160) ** 2 + (xx - 120 - 16 * c) ** 2 < 80 ** 2
                img[disc] = [25 * c, 255 - 25 * c, 128]
                Image.fromarray(img).save(os.path.join(d, "%s_%d.JPEG" % (wnid, i)), "JPEG")
    # Random VGG-16 weights with a 10-class head that always answers "tench": random weights
    # classify nothing reliably, and the paper's selection needs images that every CR model
    # classifies correctly (here: the tench images).
    torch.manual_seed(0)
    state = torchvision.models.vgg16(num_classes=10).state_dict()
    state["classifier.6.weight"].zero_()
    state["classifier.6.bias"].zero_()
    state["classifier.6.bias"][0] = 20.0
    pth = os.path.join(tmp, "vgg16.pth")
    torch.save(state, pth)
    conv = subprocess.run(["/usr/bin/python3", os.path.join(SRC, "tools", "convert_torchvision.py"),
                           pth, os.path.join(tmp, "data", "vgg16-imagenet.h5")],
                          capture_output=True, text=True)
    check(conv.returncode == 0, "tools/convert_torchvision.py converts torchvision's VGG-16",
          conv.stderr)
    os.unlink(pth)
    cmd = [PVX, "run", "configs/paper/vgg16-imagenette.yaml", "--run-id", "t",
           "--set", "train.epochs=1", "--set", "prune.finetune.epochs=1",
           "--set", "prune.rates=[2, 4, 8, 32]", "--set", "model.weights_exclude=[]"]
    r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
    check(r.returncode == 0, "pvx run configs/paper/vgg16-imagenette.yaml exits 0",
          (r.stdout[-1500:] + r.stderr[-3000:]))
    run = os.path.join(tmp, "results", "paper-vgg16-imagenette", "t")
    import h5py
    store = os.path.join(run, "results.h5")
    if os.path.isfile(store):
        with h5py.File(store, "r") as f:
            check(f["/models/cr1/weights/features.28.weight"].shape == (512, 512, 3, 3),
                  "the model is torchvision's VGG-16")
            check(f["/models/cr1/weights/classifier.6.weight"].shape == (10, 4096),
                  "with a 10-class head")
            check(f["/dataset/explain/ids"].shape[0] >= 1, "images every CR classifies correctly "
                  "are explained")
            for cr in (2, 4, 8, 32):
                g = "/models/cr%d" % cr
                ok = g in f and abs(f[g].attrs["compression_rate_achieved"] - cr) < 0.01 * cr
                check(ok, "CR %d is stored with its achieved rate" % cr)
            layers = [x.decode() for x in f["/prune/layers"][...]]
            check(len(layers) == 13 and all(l.startswith("features.") for l in layers),
                  "the 13 conv layers are pruned, nothing else", str(layers))
            check("/maps/gradcam/cr32/raw" in f and f["/maps/gradcam/cr1/raw"].shape[1:] == (14, 14),
                  "Grad-CAM maps of every CR at features.29's 14x14")
    for design in ("prestudy-heat", "prestudy-occlusion", "experiment1", "experiment2"):
        d = os.path.join(run, "study", design)
        check(os.path.isfile(os.path.join(d, "upload", "tasks.csv")) and os.path.isfile(os.path.join(d, "key.csv")),
              "study design %s is exported (tasks.csv, key.csv)" % design)
    check(os.path.isfile(os.path.join(run, "report.html")), "the run ends with its report")
    print("1..%d" % len(results))
    for i, (ok, name, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
        if not ok and detail:
            for line in str(detail).splitlines():
                print("# " + line)
    if all(ok for ok, _, _ in results):
        shutil.rmtree(tmp, ignore_errors=True)
        return 0
    print("# kept " + tmp)
    return 1


sys.exit(main())
