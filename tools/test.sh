#!/bin/sh
# Builds pvx (installing what is missing) and runs the whole test suite, reference tests against
# PyTorch included. Ends with one line "N passed, N failed, N skipped" counting test cases.
# Usage: tools/test.sh [BUILD_DIR [MESON_SETUP_OPTIONS...]]
set -u
cd "$(dirname "$0")/.."
sh tools/setup.sh || exit 1
dir=${1:-build}
if [ "$dir" != build ]; then
    shift
    [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" || exit 1
    ninja -C "$dir" || exit 1
fi
meson test -C "$dir" --print-errorlogs --num-processes 2
rc=$?
/usr/bin/python3 tools/test_summary.py "$dir/meson-logs/testlog.json" || rc=1
exit $rc
