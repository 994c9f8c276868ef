#!/usr/bin/env python3
"""Fails when a C file of core/ other than core/store/layout.c spells a path of the run file's
HDF5 layout (docs/hdf5-layout.md) in a string literal: those paths have one owner,
pvx-private/run_layout.h. Comments are ignored; so are the few literals, listed below, that name paths
of other HDF5 files (a compact weights export, the output of `pvx explain`).

usage: check_layout_literals.py CORE_DIR [FILE...]   (FILEs: check these instead of CORE_DIR)
"""
import os
import re
import sys

OWNER = os.path.join("store", "layout.c")

# The run file's top-level groups: a literal that starts with one is a run-layout path.
ROOTS = r"(?:config|provenance|dataset|models|prune|maps|metrics|study|stages)"
# Groups and datasets that the layout places below a model, maps, metric or study group: a
# literal that appends one to a group ("/eval/", "%s/raw") spells part of the layout.
CHILDREN = (r"(?:eval|train|weights|masks|pruned|history|checkpoint|layers|layer_size|"
            r"layer_kept|layer_density|val_indices|raw|target|ids|tasks|key|answers|analysis|models|pairs|"
            r"explain)")
PATTERNS = [
    ("starts with a run-file group", re.compile(r"^/" + ROOTS + r"(?:/|$)")),
    ("appends a run-layout group", re.compile(r"(?:^|%s)/" + CHILDREN + r"(?:/|$)")),
    ("formats a model group name (cr<k>)", re.compile(r"(?<![-_])cr%d")),
]
# (file relative to core/, literal): paths of files that are not a run's results.h5.
ALLOWED = {
    ("cli/prune.c", "/weights"),      # the compact model file of `pvx prune --export`
    ("nn/weights.c", "/weights"),     # the default group of a standalone weights file
    ("prune/architecture.c", "/weights"),  # an exported model file (pvx_model_new_from_file)
    ("cli/prune.c", "/weights/%s"),
    ("cli/explain.c", "/target"),     # the output file of `pvx explain` (explain.c:write_h5)
    ("cli/explain.c", "/maps/%s"),
}


def literals(text):
    """Yields (line, literal body) for every string literal of C source @text, skipping
    comments and character constants."""
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
        elif c in "\"'":
            j, body = i + 1, []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    body.append(text[j:j + 2])
                    j += 2
                else:
                    body.append(text[j])
                    j += 1
            if c == '"':
                yield line, "".join(body)
            line += text.count("\n", i, j)
            i = j + 1
        else:
            i += 1


def check(path, rel):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    found = []
    for line, lit in literals(text):
        if (rel, lit) in ALLOWED:
            continue
        for why, pattern in PATTERNS:
            if pattern.search(lit):
                found.append(f'{path}:{line}: "{lit}" {why}; use pvx-private/run_layout.h')
                break
    return found


# The checker checks itself first, so that a pattern broken by an edit cannot pass silently.
SELF_TEST = r'''
/* "/models/cr1" in a comment is fine */
// so is "/maps/%s" here
static const char c = '"';
char *a = g_strdup_printf("/models/cr%d/weights", cr);
char *b = g_strconcat(group, "/eval/", split, NULL);
char *c2 = g_strdup_printf("%s/raw", base);
char *d = g_strdup_printf("%scr%d", sep, cr);
const char *e = "/provenance";
const char *ok1 = "prune-%s", *ok2 = "/proc/self/exe", *ok3 = "a \\"/models\\" b";
'''
SELF_TEST_FLAGGED = 5


def self_test():
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
        f.write(SELF_TEST)
    try:
        found = check(f.name, "self-test.c")
    finally:
        os.unlink(f.name)
    if len(found) != SELF_TEST_FLAGGED:
        print("the checker itself is broken; it flagged:", *found, sep="\n  ", file=sys.stderr)
        return False
    return True


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    if not self_test():
        return 1
    core = argv[1]
    files = argv[2:]
    if not files:
        for root, _, names in os.walk(core):
            files += [os.path.join(root, n) for n in sorted(names) if n.endswith((".c", ".h"))]
    problems = []
    for path in sorted(files):
        rel = os.path.relpath(path, core)
        if rel == OWNER:
            continue
        problems += check(path, rel)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} run-layout path literal(s) outside core/{OWNER}", file=sys.stderr)
        return 1
    print(f"no run-layout path literal outside core/{OWNER}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
