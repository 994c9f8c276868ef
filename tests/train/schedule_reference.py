#!/usr/bin/python3
"""Learning rates of torch.optim.lr_scheduler, one line per case: NAME v0 v1 ... (per batch).

The cases mirror tests/train/test_train_reference.c. Warm-up is torch's LinearLR(start_factor
1/W, total_iters W-1) for the first W batches, then the main schedule from its start (what
SequentialLR does)."""
import torch

EPOCHS, STEPS = 6, 5


def run(sched_fn, lr, n):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr)
    s = sched_fn(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    return out


def warm(lr, w):
    if w == 0:
        return []
    if w == 1:
        return [lr]
    return run(lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=1.0 / w, end_factor=1.0,
                                                           total_iters=w - 1), lr, w)


T = EPOCHS * STEPS
cases = {}
cases["constant"] = run(lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1.0), 0.1, T)
cases["step"] = run(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2 * STEPS, gamma=0.3), 0.1, T)
cases["cosine"] = run(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=T), 0.1, T)
cases["onecycle"] = run(lambda o: torch.optim.lr_scheduler.OneCycleLR(
    o, max_lr=0.2, total_steps=T, cycle_momentum=False), 0.2, T)
W = 2 * STEPS
cases["cosine_warmup2"] = warm(0.1, W) + run(
    lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=T - W), 0.1, T - W)
cases["step_warmup1"] = warm(0.1, STEPS) + run(
    lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=1 * STEPS, gamma=0.5), 0.1, T - STEPS)
for name, values in cases.items():
    print(name, " ".join(repr(v) for v in values))
