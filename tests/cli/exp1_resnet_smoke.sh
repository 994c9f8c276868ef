#!/bin/sh
# configs/exp1-resnet.yaml end to end at smoke size: the shipped config with its work cut down
# (--set: one short epoch, CR 2 and 4 only, studies over those; enough training that the
# designs find images every CR model classifies), every stage run on ResNet-20 (train, evaluate, five prune rates with fine-tuning,
# Grad-CAM and Grad-CAM++ maps, metrics, study export, report). Checks the exit code, the report's
# architecture line and that a map sheet and the study upload exist.
# Usage: exp1_resnet_smoke.sh PVX SOURCE_ROOT
set -eu
pvx=$1
src=$2
data=/usr/share/datasets/fashion-mnist
if [ ! -d "$data" ]; then
    echo "1..0 # SKIP $data missing (Debian's dataset-fashion-mnist)"
    exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "1..3"
"$pvx" --quiet run "$src/configs/exp1-resnet.yaml" --run-id smoke \
    --set output="$out" --set train.epochs=1 --set train.epoch_fraction=0.2 \
    --set 'prune.rates=[2, 4]' --set prune.finetune.epoch_fraction=0.1 \
    --set explain.per_class=3 --set metrics.bootstrap=50 --set preview.per_class=2 \
    --set 'study.designs=[{name: likert, type: pairwise, method: gradcam, models: [1, 2, 4],
        pairs: all, scale: 5, rendering: heat}, {name: identify, type: identify,
        method: gradcam, models: [1, 4]}]' >"$out/log.txt" 2>&1 || {
    sed 's/^/# /' "$out/log.txt"
    echo "not ok 1 pvx run configs/exp1-resnet.yaml (smoke size)"
    exit 1
}
echo "ok 1 pvx run configs/exp1-resnet.yaml (smoke size) exits 0"
run="$out/exp1-resnet/smoke"
grep -q "architecture <b>resnet20</b> (model plugin resnet)" "$run/report.html"
echo "ok 2 the report names the architecture"
ls "$run"/study/*/upload/* >/dev/null
ls "$run"/maps/* >/dev/null
echo "ok 3 map sheets and the study upload exist"
