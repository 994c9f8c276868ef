#!/usr/bin/python3
"""The PyTorch side of bench-cnn: one torchvision model, its weights and ONNX export for the
other two sides, and its timings.

  cnn_torch.py prepare ARCH CACHE INPUT        (INPUT: raw float32 [B, 3, 224, 224], B >= 1)
      Builds torchvision.models.ARCH() seeded with torch.manual_seed(0) and writes, each only if
      it is not there yet: CACHE/ARCH.h5 (the state dict as pvx weights: /weights/<key>, float32,
      PyTorch's shapes, num_batches_tracked left out) and CACHE/ARCH.onnx (torch.onnx.export,
      opset 13, evaluation mode, input "input" [batch, 3, 224, 224] with a dynamic batch axis,
      output "logits"). Then writes CACHE/ARCH.logits.f32: the evaluation-mode logits of INPUT's
      first image (raw float32 [1000]), which the pvx and ONNX Runtime sides compare against.
  cnn_torch.py time ARCH CACHE INPUT THREADS BATCH REPS TRAIN
      Loads CACHE/ARCH.h5 into the model (so all three sides run the same weights) and prints one
      line `name seconds` per workload, the median of REPS repetitions after one warm-up:
      forward_b1, forward_bBATCH (torch.no_grad, evaluation mode) and, when TRAIN is 1,
      train_step_bBATCH (training mode: batch-norm on batch statistics; SGD with momentum 0.9 and
      weight decay 5e-4, lr 1e-3; zero_grad, forward, cross-entropy, backward, step), all on
      the first images of INPUT. torch.set_num_threads(THREADS).

Needs Debian's python3-torch, torchvision, numpy and h5py (/usr/bin/python3).
"""
import os
import statistics
import sys
import time

import numpy as np
import torch
import torchvision


def build(arch):
    torch.manual_seed(0)
    return getattr(torchvision.models, arch)()


def read_input(path):
    x = np.fromfile(path, dtype=np.float32)
    if x.size % (3 * 224 * 224):
        sys.exit("cnn_torch: %s is not [B, 3, 224, 224] float32" % path)
    return torch.from_numpy(x.reshape(-1, 3, 224, 224))


def write_atomic(path, writer):
    tmp = path + ".tmp"
    writer(tmp)
    os.replace(tmp, path)  # an interrupted export never leaves half a file under path


def prepare(arch, cache, input_path):
    import h5py
    os.makedirs(cache, exist_ok=True)
    model = build(arch).eval()
    h5 = os.path.join(cache, arch + ".h5")
    if not os.path.exists(h5):
        def write_h5(tmp):
            with h5py.File(tmp, "w") as f:
                g = f.create_group("weights")
                for k, v in model.state_dict().items():
                    if not k.endswith("num_batches_tracked"):
                        g.create_dataset(k, data=v.detach().float().numpy())
        write_atomic(h5, write_h5)
    else:
        load_h5(model, h5)
    onnx = os.path.join(cache, arch + ".onnx")
    if not os.path.exists(onnx):
        write_atomic(onnx, lambda tmp: torch.onnx.export(
            model, torch.zeros(1, 3, 224, 224), tmp, opset_version=13, input_names=["input"],
            output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}))
    x = read_input(input_path)[:1]
    with torch.no_grad():
        logits = model(x)
    logits.numpy().astype(np.float32).tofile(os.path.join(cache, arch + ".logits.f32"))


def load_h5(model, h5):
    import h5py
    sd = model.state_dict()
    with h5py.File(h5, "r") as f:
        for k in sd:
            if not k.endswith("num_batches_tracked"):
                sd[k] = torch.from_numpy(f["weights"][k][()])
    model.load_state_dict(sd)


def median_time(fn, reps):
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def time_workloads(arch, cache, input_path, threads, batch, reps, train):
    torch.set_num_threads(threads)
    model = build(arch)
    load_h5(model, os.path.join(cache, arch + ".h5"))
    x = read_input(input_path)
    x1, xb = x[:1].clone(), x[:batch].clone()
    model.eval()
    with torch.no_grad():
        print("forward_b1", median_time(lambda: model(x1), reps), flush=True)
        if batch > 1:
            print("forward_b%d" % batch, median_time(lambda: model(xb), reps), flush=True)
    if not train:
        return
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)
    target = torch.tensor([(i * 137) % 1000 for i in range(batch)])

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xb), target)
        loss.backward()
        opt.step()

    print("train_step_b%d" % batch, median_time(step, reps), flush=True)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 9 and sys.argv[1] == "time":
        a = sys.argv
        time_workloads(a[2], a[3], a[4], int(a[5]), int(a[6]), int(a[7]), a[8] == "1")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
