#!/usr/bin/python3
"""libpvx exports exactly the plugin surface: the functions the installed headers declare.

Usage: check_exports.py INCLUDE_DIR LIBPVX PVX_EXE CC [CFLAGS...]

Prints TAP. Checks that
  1. every dynamic symbol libpvx.so defines is a function declared in an installed header
     (core/include/pvx/*.h, which meson installs as they are);
  2. every function and variable an installed header declares is defined by libpvx.so (no dangling promise);
  3. the pvx program exports the same pvx_ symbols (a plugin loaded into it binds to its copy);
  4. each installed header compiles on its own with nothing but the installed headers and GLib
     on the include path (no installed header reaches a private one).
"""
import os
import re
import subprocess
import sys
import tempfile

include_dir, libpvx, pvx_exe, cc = sys.argv[1:5]
cflags = sys.argv[5:]
results = []


def check(ok, name, detail=""):
    results.append((ok, name, detail))


def declared_functions(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # comments
    text = re.sub(r"//[^\n]*", " ", text)
    lines, skip = [], False
    for line in text.split("\n"):  # preprocessor directives with their continuation lines
        if skip or line.lstrip().startswith("#"):
            skip = line.rstrip().endswith("\\")
            continue
        lines.append(line)
    code = "\n".join(lines)
    # typedefs of function pointers and struct bodies name no exported function
    code = re.sub(r"\(\s*\*\s*\w+\s*\)\s*\(", "(", code)
    # static inline helpers are compiled into the plugin, not exported
    inline = set(re.findall(r"\bstatic\s+inline\b[^;{]*?\b(pvx_\w+)\s*\(", code))
    functions = set(re.findall(r"\b(pvx_\w+)\s*\(", code)) - inline
    variables = set(re.findall(r"\bextern\b[^;(]*?\b(pvx_\w+)\s*(?:\[[^\]]*\])?\s*;", code))
    return functions | variables


def dynamic_symbols(path):
    out = subprocess.run(["nm", "-D", "--defined-only", path], check=True, capture_output=True,
                         text=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TtDdBbRrWwVvi":
            syms.add(parts[2].split("@")[0])
    return syms


def data_symbols(path):
    out = subprocess.run(["nm", "-D", "--defined-only", path], check=True, capture_output=True,
                         text=True).stdout
    return {line.split()[2] for line in out.splitlines()
            if len(line.split()) == 3 and line.split()[1] in "DdBbRrVv"}


headers = sorted(f for f in os.listdir(os.path.join(include_dir, "pvx")) if f.endswith(".h"))
declared = {}
for h in headers:
    for fn in declared_functions(os.path.join(include_dir, "pvx", h)):
        declared.setdefault(fn, h)

exported = dynamic_symbols(libpvx)
extra = sorted(s for s in exported if s not in declared)
check(not extra, "every symbol libpvx exports is declared in an installed header",
      "exported but not in an installed header: " + ", ".join(extra))
missing = sorted(f for f in declared if f not in exported)
check(not missing, "every function and variable an installed header declares is exported",
      "declared but not exported: " + ", ".join(f"{f} ({declared[f]})" for f in missing))
data = sorted(s for s in data_symbols(libpvx))
check(not data, "libpvx exports functions only, no data (a plugin in the pvx program would see "
      "two copies of it)", "exported data: " + ", ".join(data))
check(len(exported) > 50, f"libpvx exports the plugin surface ({len(exported)} functions)",
      "suspiciously few exports")

exe_pvx = {s for s in dynamic_symbols(pvx_exe) if s.startswith("pvx_")}
lib_pvx = {s for s in exported if s.startswith("pvx_")}
check(exe_pvx == lib_pvx, "the pvx program exports the same pvx_ symbols as libpvx",
      "only the program: " + ", ".join(sorted(exe_pvx - lib_pvx)) + "; only libpvx: " +
      ", ".join(sorted(lib_pvx - exe_pvx)))

with tempfile.TemporaryDirectory() as tmp:
    for h in headers:
        src = os.path.join(tmp, "t.c")
        with open(src, "w") as f:
            f.write(f"#include <pvx/{h}>\n#include <pvx/{h}>\nint main(void) {{ return 0; }}\n")
        r = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                            "-I", include_dir] + cflags + [src], capture_output=True, text=True)
        check(r.returncode == 0, f"pvx/{h} compiles alone against the installed headers",
              r.stderr.strip().replace("\n", "\n# "))

print(f"1..{len(results)}")
for i, (ok, name, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
    if not ok and detail:
        print("# " + detail)
sys.exit(0 if all(ok for ok, _, _ in results) else 1)
