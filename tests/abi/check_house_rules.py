#!/usr/bin/python3
"""House rules kept by a machine, not by memory (STYLE.md).

Usage: check_house_rules.py SOURCE_ROOT BUILD_ROOT [CLANG_FORMAT]

Prints TAP. Checks that
  1. every C file of the tree is formatted with its .clang-format (when CLANG_FORMAT is given);
  2. every file of libpvx, the pvx program and the plugins is compiled with a G_LOG_DOMAIN set by
     meson ("pvx" for the core, "pvx-<name>" for a plugin), and no source defines its own;
  3. C file names follow one rule: lowercase words joined by '_' (folders and meson targets use
     '-');
  4. each folder of core/ builds its own files only (no '../' in a core/*/meson.build).
"""
import json
import os
import re
import subprocess
import sys

source_root, build_root = sys.argv[1:3]
clang_format = sys.argv[3] if len(sys.argv) > 3 else None
results = []
C_DIRS = ("core", "plugins", "tests", "bench", "examples", "tools")


def check(ok, name, detail=""):
    results.append((ok, name, detail))


def c_files():
    try:
        out = subprocess.run(["git", "-C", source_root, "ls-files", "--", *C_DIRS],
                             check=True, capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = []
        for d in C_DIRS:
            for dirpath, _, files in os.walk(os.path.join(source_root, d)):
                out += [os.path.relpath(os.path.join(dirpath, f), source_root) for f in files]
    return sorted(f for f in out if f.endswith((".c", ".h", ".inc")))


files = c_files()
check(len(files) > 100, f"the tree's C files are found ({len(files)})")

skips = []
if not clang_format:
    # tools/setup.sh installs clang-format, so CI always runs this check
    skips.append("every C file is formatted with the tree's .clang-format (no clang-format)")
else:
    bad = []
    for i in range(0, len(files), 50):
        chunk = [os.path.join(source_root, f) for f in files[i:i + 50]]
        r = subprocess.run([clang_format, "--dry-run", "-Werror"] + chunk, capture_output=True,
                           text=True, cwd=source_root)
        bad += sorted({line.split(":")[0] for line in r.stderr.splitlines() if "error:" in line})
    check(not bad, "every C file is formatted with the tree's .clang-format",
          "run clang-format -i on: " + " ".join(os.path.relpath(b, source_root) for b in bad))

with open(os.path.join(build_root, "compile_commands.json")) as f:
    commands = json.load(f)
missing = []
for c in commands:
    # objects of libpvx, the pvx program and the plugins (tests compile some plugin files too)
    # "pvx" for the core and the program, "pvx-<name>" for a plugin
    out = c.get("output", "")
    src = os.path.relpath(os.path.join(c["directory"], c["file"]), source_root)
    m = re.search(r"-DG_LOG_DOMAIN=(?:'|\\)?\"([^\"\\]*)", c["command"])
    domain = m.group(1) if m else None
    if out.startswith(("core/", "pvx.p/")):
        if domain != "pvx":
            missing.append(f"{src} ({domain})")
    elif out.startswith("plugins/"):
        if not domain or not re.fullmatch(r"pvx-[a-z0-9][a-z0-9_+-]*", domain):
            missing.append(f"{src} ({domain})")
check(commands and not missing, "every core file logs as \"pvx\" and every plugin file as "
      "\"pvx-<name>\", set by meson", "wrong or no -DG_LOG_DOMAIN: " + ", ".join(sorted(set(missing))))
defines = [f for f in files if f.startswith(("core/", "plugins/", "examples/"))
           and re.search(r"^\s*#\s*define\s+G_LOG_DOMAIN\b",
                         open(os.path.join(source_root, f), encoding="utf-8").read(), re.M)]
check(not defines, "no core, plugin or example source defines G_LOG_DOMAIN itself",
      "defines it: " + ", ".join(defines))

name_rule = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*\.(c|h|inc)$")
misnamed = [f for f in files if not name_rule.match(os.path.basename(f))]
check(not misnamed, "C file names are lowercase words joined by '_'",
      "rename: " + ", ".join(misnamed))

outside = []
for folder in sorted(os.listdir(os.path.join(source_root, "core"))):
    mb = os.path.join(source_root, "core", folder, "meson.build")
    if os.path.isfile(mb) and re.search(r"\.\.|join_paths", open(mb).read()):
        outside.append(f"core/{folder}/meson.build")
check(not outside, "each core folder builds only its own files",
      "builds a file of another folder: " + ", ".join(outside))

print(f"1..{len(results) + len(skips)}")
for i, (ok, name, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok and detail:
        print("# " + detail)
for i, name in enumerate(skips, len(results) + 1):
    print(f"ok {i} - {name} # SKIP")
sys.exit(0 if all(r[0] for r in results) else 1)
