"""pvx run ends with a report: report.html whose every image and link resolves on disk, figures
as PNG/PDF/SVG, and — when Debian's chromium is installed — a headless Chromium screenshot with
no console messages, kept as BUILD_ROOT/report-screenshot.png. Speaks TAP.

Usage: test_report.py PVX_EXE BUILD_ROOT
"""
import html.parser
import os
import shutil
import subprocess
import sys
import tempfile

PVX, BUILD = sys.argv[1], sys.argv[2]
FMNIST = "/usr/share/datasets/fashion-mnist"
results = []


def check(ok, name, detail=""):
    results.append((ok, name, detail))


class Refs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.links = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a.get("src"))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])


def main():
    if not os.path.isdir(FMNIST):
        print("1..0 # SKIP dataset-fashion-mnist is not installed")
        return 0
    tmp = tempfile.mkdtemp(prefix="pvx-report-")
    cfg = os.path.join(tmp, "exp.yaml")
    with open(cfg, "w") as f:
        f.write(
            "name: report-test\nseed: 2\noutput: out\n"
            "plugin_path: [%s/plugins]\n"
            "dataset:\n  plugin: idx\n  params: {root: %s, limit_train: 400, limit_test: 100}\n"
            "model:\n  plugin: vgg\n  params: {arch: vgg-mini, channels: [8, -1, 16, -1], "
            "hidden: 32, batch_norm: true, avgpool: 3}\n"
            "train: {epochs: 2, batch_size: 50, lr: 0.05}\n"
            "prune:\n  plugin: magnitude\n  rates: [2, 4]\n  finetune: {epochs: 1, lr: 0.01}\n"
            "explain:\n  selection: per_class\n  per_class: 1\n"
            "  methods: [{plugin: gradcam}]\n" % (BUILD, FMNIST))
    r = subprocess.run([PVX, "run", cfg, "--run-id", "r"], cwd=tmp, capture_output=True, text=True)
    check(r.returncode == 0, "pvx run exits 0", r.stderr[-2000:])
    run = os.path.join(tmp, "out", "report-test", "r")
    page = os.path.join(run, "report.html")
    check(os.path.isfile(page), "pvx run writes report.html")
    check("report: " + page in r.stdout, "pvx run prints the report's path")
    if os.path.isfile(page):
        text = open(page, encoding="utf-8").read()
        refs = Refs()
        refs.feed(text)
        check(len(refs.imgs) >= 4, "the report shows figures, the preview and map sheets",
              "%d images" % len(refs.imgs))
        missing = [s for s in refs.imgs + refs.links
                   if not s.startswith("http") and not os.path.isfile(os.path.join(run, s))]
        check(not missing, "every image and link of the report is a file in the run", str(missing))
        bad_png = [s for s in refs.imgs if s.endswith(".png") and os.path.isfile(os.path.join(run, s))
                   and open(os.path.join(run, s), "rb").read(8) != b"\x89PNG\r\n\x1a\n"]
        check(not bad_png, "every image is a PNG", str(bad_png))
        check("http://" not in text and "https://" not in text,
              "the report loads nothing from the network")
        for section in ("Accuracy and pruning per compression rate",
                        "Explanation maps across compression rates", "Config and provenance"):
            check(section in text, "the report has the section '%s'" % section)
        for name in ("accuracy", "density", "training"):
            for ext, magic in (("png", b"\x89PNG"), ("pdf", b"%PDF"), ("svg", b"<?xml")):
                path = os.path.join(run, "report", "%s.%s" % (name, ext))
                ok = os.path.isfile(path) and open(path, "rb").read(len(magic)) == magic
                check(ok, "figure %s.%s is written" % (name, ext))
        # Again from the command line: the same page.
        r2 = subprocess.run([PVX, "report", run], capture_output=True, text=True)
        check(r2.returncode == 0 and open(page, encoding="utf-8").read() == text,
              "pvx report RUN_DIR writes the same page again", r2.stderr)
    r3 = subprocess.run([PVX, "report", tmp], capture_output=True, text=True)
    check(r3.returncode == 2 and "not a pvx run folder" in r3.stderr,
          "pvx report on a folder without results.h5: exit 2 and a message", r3.stderr)

    chromium = shutil.which("chromium")
    if chromium and os.path.isfile(page):
        shot = os.path.join(tmp, "shot.png")
        c = subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                            "--hide-scrollbars", "--enable-logging=stderr", "--log-level=0",
                            "--window-size=1200,1600", "--screenshot=" + shot,
                            "file://" + page], capture_output=True, text=True, timeout=120)
        check(c.returncode == 0 and os.path.isfile(shot), "headless Chromium renders the report",
              c.stderr[-2000:])
        console = [l for l in c.stderr.splitlines() if "CONSOLE" in l]
        check(not console, "no console messages while the page loads", "\n".join(console))
        if os.path.isfile(shot):
            from PIL import Image
            im = Image.open(shot).convert("RGB")
            colours = len(set(im.resize((300, 400)).getdata()))
            check(im.size == (1200, 1600) and colours > 50,
                  "the screenshot shows a rendered page, not a blank one", "%d colours" % colours)
            keep = os.path.join(BUILD, "report-screenshot.png")
            shutil.copyfile(shot, keep)
            print("# screenshot: " + keep)
    else:
        results.append((None, "headless Chromium screenshot", "chromium is not installed"))

    print("1..%d" % len(results))
    for i, (ok, name, detail) in enumerate(results, 1):
        if ok is None:
            print("ok %d - %s # SKIP %s" % (i, name, detail))
            continue
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
        if not ok and detail:
            for line in str(detail).splitlines():
                print("# " + line)
    if all(ok is not False for ok, _, _ in results):
        shutil.rmtree(tmp, ignore_errors=True)
        return 0
    print("# kept " + tmp)
    return 1


sys.exit(main())
