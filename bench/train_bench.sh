#!/bin/sh
# Training throughput of pvx against PyTorch on this machine, in the same run: one epoch of
# Fashion-MNIST through the same small VGG (bench/train-bench.yaml, bench/train_bench_torch.py).
#
#   sh bench/train_bench.sh [IMAGES] [BUILD_DIR]     (defaults: 60000 = one epoch, build)
#
# Prints images/s of each and the ratio pvx / PyTorch. Both use every core (PVX_NUM_THREADS and
# torch.set_num_threads follow it). pvx's time is the train stage's epoch (its loader included);
# PyTorch reads from memory.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
images=${1:-60000}
build=${2:-$here/build}
out=$(mktemp -d /tmp/pvx-train-bench-XXXXXX)
trap 'rm -rf "$out"' EXIT

"$build/pvx" run "$here/bench/train-bench.yaml" --quiet --run-id bench \
    --set "output=$out" --set "dataset.params.limit_train=$images" \
    --set dataset.params.limit_test=1000 >"$out/pvx.txt" 2>"$out/pvx.err" || {
    cat "$out/pvx.err" >&2
    exit 1
}
# "train: 1 epochs in 51.2 s, ..."
pvx_s=$(sed -n 's/^train: 1 epochs in \([0-9.]*\) s.*/\1/p' "$out/pvx.txt")
pvx_rate=$(awk -v n="$images" -v s="$pvx_s" 'BEGIN { printf "%.1f", n / s }')
echo "pvx: $images images in $pvx_s s"

torch_line=$(/usr/bin/python3 "$here/bench/train_bench_torch.py" "$images")
echo "$torch_line" | head -1
torch_rate=$(echo "$torch_line" | sed -n 's/^torch_img_per_s //p')

echo "pvx   $pvx_rate img/s"
echo "torch $torch_rate img/s"
awk -v a="$pvx_rate" -v b="$torch_rate" 'BEGIN { printf "ratio pvx/torch %.2f (target >= 2)\n", a / b }'
