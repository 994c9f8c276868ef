"""Independent check of `pvx study analyse`: a synthetic key (4 models, every pair, random sides),
answers from `pvx study simulate` with a small worker pool (so most worker x task cells are
missing), and every number of summary.json recomputed here with numpy from the textbook
definitions: Krippendorff's alpha from the coincidence matrix (all three levels), pair means and
shares, chi-squared p (erfc), explainability index, task standard deviations, Bradley-Terry by
Hunter's MM algorithm with the standard errors from the pseudo-inverse of the Fisher information;
identify accuracy, rates, alpha and confusion.

usage: study_reference.py PVX_EXE WORK_DIR
"""
import csv
import json
import math
import os
import subprocess
import sys

import numpy as np

pvx, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(5)
models = ["cr1", "cr2", "cr4", "cr8"]
classes = ["fish", "dog", "church"]
failures = []


def check(what, got, want, tol=1e-9):
    ok = (got is None and want is None) or (
        got is not None and want is not None and abs(got - want) <= tol * max(1.0, abs(want)))
    print(f"# {what:48s} pvx {got!r:>24}  numpy {want!r:>24}  {'ok' if ok else 'MISMATCH'}")
    if not ok:
        failures.append(what)


def run(*args):
    r = subprocess.run([pvx, "study", *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"pvx study {' '.join(args)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")


def alpha(units, domain, level):
    """units: list of lists of values; domain: sorted values."""
    V = len(domain)
    idx = {v: i for i, v in enumerate(domain)}
    o = np.zeros((V, V))
    for vals in units:
        m = len(vals)
        if m < 2:
            continue
        cnt = np.zeros(V)
        for v in vals:
            cnt[idx[v]] += 1
        o += (np.outer(cnt, cnt) - np.diag(cnt)) / (m - 1)
    nc = o.sum(axis=1)
    n = nc.sum()
    d2 = np.zeros((V, V))
    for c in range(V):
        for k in range(V):
            if c == k:
                continue
            if level == "nominal":
                d2[c, k] = 1
            elif level == "interval":
                d2[c, k] = (domain[c] - domain[k]) ** 2
            else:
                lo, hi = min(c, k), max(c, k)
                d2[c, k] = (nc[lo:hi + 1].sum() - (nc[lo] + nc[hi]) / 2) ** 2
    den = (np.outer(nc, nc) * d2).sum()
    if n < 2 or den == 0:
        return None
    return 1 - (n - 1) * (o * d2).sum() / den


def read_answers(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    return [(r["WorkerId"], r["Input.task_id"], r["Answer.choice"] if "Answer.choice" in r
             else r["Answer.category.label"]) for r in rows]


# ---- pairwise -------------------------------------------------------------------------------
key = []
t = 0
for a in range(4):
    for b in range(a + 1, 4):
        for i in range(15):
            t += 1
            left, right = (models[a], models[b]) if rng.random() < 0.5 else (models[b], models[a])
            key.append((f"t{t:03d}", f"img{i}", classes[i % 3], left, right))
with open(os.path.join(work, "key.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["task_id", "image_id", "class", "left", "right"])
    w.writerows(key)
res = os.path.join(work, "results.csv")
run("simulate", "--key", os.path.join(work, "key.csv"), "--out", res, "--raters", "4",
    "--workers", "9", "--prefer", "cr1=0.2,cr2=0.5,cr4=0,cr8=-0.4", "--noise", "1.2",
    "--seed", "9")
out = os.path.join(work, "analysis")
run("analyse", "--key", os.path.join(work, "key.csv"), "--answers", res, "--out", out,
    "--ridge", "0", "-q")
s = json.load(open(os.path.join(out, "summary.json")))

codes = {"cmr": 2, "smr": 1, "equal": 0, "slr": -1, "clr": -2}
kt = {k[0]: k for k in key}
order = {m: i for i, m in enumerate(models)}
per_task = {k[0]: [] for k in key}     # from the first model's side
for worker, task, value in read_answers(res):
    _, _, cls, left, right = kt[task]
    c = codes[value]
    per_task[task].append(c if order[left] < order[right] else -c)
domain = sorted({v for vs in per_task.values() for v in vs} | {-v for vs in per_task.values() for v in vs} | {0})
units = list(per_task.values())
for level in ("nominal", "ordinal", "interval"):
    check(f"alpha {level}", s["alpha"][level], alpha(units, domain, level))
stds = [float(np.std(v)) for v in units if len(v) >= 2]
check("mean_task_std", s["mean_task_std"], float(np.mean(stds)))
check("answers", s["answers"], sum(len(v) for v in units))
check("raters", s["raters"], len({w for w, _, _ in read_answers(res)}))

pairs = {(p["a"], p["b"]): p for p in s["pairs"]}
wins = np.zeros((4, 4))
for a in range(4):
    for b in range(a + 1, 4):
        vals = [v for task, v_ in per_task.items() for v in v_
                if {kt[task][3], kt[task][4]} == {models[a], models[b]}]
        p = pairs[(models[a], models[b])]
        na, nb, ne = sum(v > 0 for v in vals), sum(v < 0 for v in vals), sum(v == 0 for v in vals)
        check(f"{models[a]} v {models[b]} mean", p["mean"], float(np.mean(vals)))
        check(f"{models[a]} v {models[b]} a_preferred", p["a_preferred"], na / (na + nb))
        check(f"{models[a]} v {models[b]} equal", p["equal"], ne / len(vals))
        chi2 = (na - nb) ** 2 / (na + nb)
        check(f"{models[a]} v {models[b]} chi2", p["chi2"], chi2)
        check(f"{models[a]} v {models[b]} p", p["p"], math.erfc(math.sqrt(chi2 / 2)))
        pu = [per_task[k[0]] for k in key if {k[3], k[4]} == {models[a], models[b]}]
        check(f"{models[a]} v {models[b]} alpha ordinal", p["alpha_ordinal"],
              alpha(pu, domain, "ordinal"))
        wins[a, b] += na + ne / 2
        wins[b, a] += nb + ne / 2

mods = {m["model"]: m for m in s["models"]}
for i, m in enumerate(models):
    own = []
    for task, vals in per_task.items():
        _, _, _, left, right = kt[task]
        if m in (left, right):
            first = left if order[left] < order[right] else right
            own += [v if m == first else -v for v in vals]
    check(f"{m} explainability index", mods[m]["explainability_index"], float(np.mean(own)))

# Bradley-Terry: Hunter's MM to convergence, strengths centred on the log scale
wv = np.ones(4)
n = wins + wins.T
for _ in range(20000):
    new = wins.sum(axis=1) / np.array([sum(n[i, j] / (wv[i] + wv[j]) for j in range(4) if j != i)
                                       for i in range(4)])
    new /= np.exp(np.mean(np.log(new)))
    if np.max(np.abs(new - wv)) < 1e-14:
        wv = new
        break
    wv = new
theta = np.log(wv) - np.mean(np.log(wv))
P = 1 / (1 + np.exp(-(theta[:, None] - theta[None, :])))
info = -(n * P * (1 - P))
np.fill_diagonal(info, 0)
np.fill_diagonal(info, -info.sum(axis=1))
cov = np.linalg.pinv(info)
for i, m in enumerate(models):
    check(f"{m} Bradley-Terry", mods[m]["bradley_terry"], float(theta[i]), 1e-7)
    se = math.sqrt(cov[i, i])
    check(f"{m} BT ci low", mods[m]["ci"][0], float(theta[i] - 1.959963984540054 * se), 1e-7)

# ---- identify -------------------------------------------------------------------------------
ikey = [(f"i{t:03d}", f"img{t % 12}", classes[t % 3], models[t % 2]) for t in range(48)]
with open(os.path.join(work, "ikey.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["task_id", "image_id", "class", "model"])
    w.writerows(ikey)
ires = os.path.join(work, "iresults.csv")
run("simulate", "--key", os.path.join(work, "ikey.csv"), "--out", ires, "--raters", "3",
    "--workers", "7", "--accuracy", "cr1=0.7,cr2=0.5", "--dont-know-rate", "0.2", "--seed", "4")
iout = os.path.join(work, "ianalysis")
run("analyse", "--key", os.path.join(work, "ikey.csv"), "--answers", ires, "--out", iout, "-q")
si = json.load(open(os.path.join(iout, "summary.json")))
ik = {k[0]: k for k in ikey}
cats = classes + ["I do not know"]
iunits = {k[0]: [] for k in ikey}
stats = {m: [0, 0, 0] for m in models[:2]}
conf = {m: np.zeros((3, 4)) for m in models[:2]}
for worker, task, value in read_answers(ires):
    _, _, cls, m = ik[task]
    iunits[task].append(cats.index(value))
    stats[m][0 if value == cls else 2 if value == "I do not know" else 1] += 1
    conf[m][classes.index(cls), cats.index(value)] += 1
check("identify alpha nominal", si["alpha"]["nominal"], alpha(list(iunits.values()), [0, 1, 2, 3], "nominal"))
for m in si["models"]:
    c, w_, d = stats[m["model"]]
    tot = c + w_ + d
    check(f"identify {m['model']} accuracy", m["accuracy"], c / tot)
    check(f"identify {m['model']} error_rate", m["error_rate"], w_ / tot)
    check(f"identify {m['model']} indecisive", m["indecisive"], d / tot)
    check(f"identify {m['model']} alpha", m["alpha_nominal"],
          alpha([iunits[k[0]] for k in ikey if k[3] == m["model"]], [0, 1, 2, 3], "nominal"))
    order_cls = si["classes"]
    got = np.array(m["confusion"]["counts"])
    perm = [classes.index(c) for c in order_cls]
    want = conf[m["model"]][perm][:, perm + [3]]
    check(f"identify {m['model']} confusion", float(np.abs(got - want).sum()), 0.0)

if failures:
    sys.exit("mismatches: " + ", ".join(failures))
print("all values agree")
