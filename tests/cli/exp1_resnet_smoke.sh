#!/bin/sh
# configs/exp1-resnet.yaml end to end at smoke size: the shipped config with its work cut down
# (--set: one short epoch, CR 2 and 4 only, studies over those; enough training that the designs
# find images every CR model classifies), every stage run on ResNet-20 (train, evaluate, pruning
# with fine-tuning, Grad-CAM and Grad-CAM++ maps, metrics, study export, report). Checks the exit
# code, the report's architecture line, the maps and the study upload.
# Under a sanitizer (third argument not "none") the run is smaller still — a few hundred training
# images, ten explained images, no study designs — as the sanitizers make it ten times slower.
# Usage: exp1_resnet_smoke.sh PVX SOURCE_ROOT [SANITIZE]
set -eu
pvx=$1
src=$2
sanitize=${3:-none}
data=/usr/share/datasets/fashion-mnist
if [ ! -d "$data" ]; then
    echo "1..0 # SKIP $data missing (Debian's dataset-fashion-mnist)"
    exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "1..3"
if [ "$sanitize" = none ]; then
    set -- --set train.epoch_fraction=0.2 --set prune.finetune.epoch_fraction=0.1 \
        --set explain.per_class=3 \
        --set 'study.designs=[{name: likert, type: pairwise, method: gradcam, models: [1, 2, 4],
            pairs: all, scale: 5, rendering: heat}, {name: identify, type: identify,
            method: gradcam, models: [1, 4]}]'
else
    set -- --set train.epoch_fraction=0.03 --set prune.finetune.epoch_fraction=0.01 \
        --set explain.selection=per_class --set explain.per_class=1 --set 'study.designs=[]'
fi
"$pvx" --quiet run "$src/configs/exp1-resnet.yaml" --run-id smoke --set output="$out" \
    --set train.epochs=1 --set 'prune.rates=[2, 4]' --set metrics.bootstrap=50 \
    --set preview.per_class=2 "$@" >"$out/log.txt" 2>&1 || {
    sed 's/^/# /' "$out/log.txt"
    echo "not ok 1 pvx run configs/exp1-resnet.yaml (smoke size)"
    exit 1
}
echo "ok 1 pvx run configs/exp1-resnet.yaml (smoke size) exits 0"
run="$out/exp1-resnet/smoke"
grep -q "architecture <b>resnet20</b> (model plugin resnet)" "$run/report.html"
echo "ok 2 the report names the architecture"
[ "$sanitize" != none ] || ls "$run"/study/*/upload/* >/dev/null
ls "$run"/maps/* >/dev/null
echo "ok 3 the maps (and without a sanitizer the study upload) exist"
