#!/bin/sh
# Installs what pvx needs from Debian 12's archive (as root), then configures and builds pvx in
# ./build. Safe to run again: it installs only what is missing and rebuilds only what changed.
set -eu
cd "$(dirname "$0")/.."

# Build tools and libraries; the Fashion-MNIST files for the default experiment; Python with
# PyTorch, torchvision, h5py and PIL for the reference tests and benchmarks (Debian's own builds);
# Chromium to check that the run report renders (tests/report); clang-format to keep the tree
# formatted (tests/abi, house-rules).
PKGS="gcc libc6-dev make meson ninja-build pkg-config clang-format
libglib2.0-dev libyaml-dev libhdf5-dev libpng-dev zlib1g-dev libjpeg62-turbo-dev libopenblas-dev
libcairo2-dev fonts-dejavu-core
dataset-fashion-mnist
python3 python3-numpy python3-torch python3-torchvision python3-h5py python3-pil
chromium"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq $missing
fi

# Optional: ONNX Runtime, bench-cnn's second peer (bench/package.json). Debian's nodejs and npm
# if there is no npm yet; `npm install --ignore-scripts` because onnxruntime-node's install script
# only fetches GPU parts (and fails offline) while its CPU library is inside the package. Nothing
# here can fail the setup: without it bench-cnn prints "onnxruntime: not installed".
if ! command -v npm >/dev/null 2>&1; then
    echo "setup: installing nodejs npm (optional, for bench-cnn)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm ||
        echo "setup: nodejs/npm not installed; bench-cnn will skip ONNX Runtime"
fi
if command -v npm >/dev/null 2>&1 && [ ! -d bench/node_modules/onnxruntime-node ]; then
    (cd bench && timeout 300 npm install --ignore-scripts --no-audit --no-fund) ||
        echo "setup: onnxruntime-node not installed; bench-cnn will skip ONNX Runtime"
fi

if [ ! -f build/build.ninja ]; then
    meson setup build
fi
ninja -C build
