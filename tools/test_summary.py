#!/usr/bin/python3
"""Counts test cases in meson's testlog.json: each TAP 'ok'/'not ok' line of a test program is
one case (a program that fails without TAP output counts as one failure). Prints one line
'N passed, N failed, N skipped' and exits 1 if anything failed."""
import json
import re
import sys

passed = failed = skipped = 0
for line in open(sys.argv[1]):
    entry = json.loads(line)
    out = entry.get("stdout") or ""
    oks = nots = skips = 0
    for l in out.splitlines():
        m = re.match(r"\s*(not ok|ok)\b(.*)", l)
        if not m:
            continue
        if m.group(1) == "not ok":
            nots += 1
        elif re.search(r"#\s*skip", m.group(2), re.I):
            skips += 1
        else:
            oks += 1
    result = entry.get("result")
    if oks + nots + skips == 0:
        if result in ("OK", "EXPECTEDFAIL"):
            oks = 1
        elif result == "SKIP":
            skips = 1
        else:
            nots = 1
    elif result not in ("OK", "SKIP", "EXPECTEDFAIL") and nots == 0:
        nots = 1  # crashed or timed out after its last TAP line
    passed += oks
    failed += nots
    skipped += skips
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
