#!/bin/sh
# Install, then use pvx the way a researcher outside this tree does (TAP):
#   1. `meson install --destdir` of the build under test;
#   2. the layout: pvx, libpvx, headers, pvx.pc, plugins in pvx.pc's plugindir, which is also the
#      folder libpvx searches by default;
#   3. examples/explainer-plugin builds with its Makefile, and with its meson.build, from pvx.pc
#      alone;
#   4. the installed pvx (not the build tree's) lists its installed plugins and the example;
#   5. it runs a tiny experiment (kandinsky, vgg-mini, 1 epoch) whose config's plugin_path names
#      the example's folder, explaining with the example plugin, and the raw maps land in
#      results.h5;
#   6. examples/model-plugin (resnet-tiny) builds the same way, and the installed pvx trains it and
#      explains it with Grad-CAM at its default CAM layer (an alias of the last block's output).
# A destdir install keeps the compiled-in prefix, so pkg-config reads a copy of pvx.pc whose prefix
# points into the destdir, and the installed pvx gets the installed plugin folder through
# PVX_PLUGIN_PATH.
# Needs PVX_BUILD_ROOT and PVX_SOURCE_ROOT (set by meson test).
set -u
build=${PVX_BUILD_ROOT:?}
src=${PVX_SOURCE_ROOT:?}
tmp=$(mktemp -d /tmp/pvx-install-test-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
dest=$tmp/dest
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); failed=1; echo "not ok $n - $1"
    [ -f "$tmp/log" ] && sed 's/^/# /' "$tmp/log" | tail -n 40
}
bail() { not_ok "$1"; echo "1..$n"; exit 1; }

echo "# build $build, scratch $tmp"
meson install -C "$build" --no-rebuild --destdir "$dest" --quiet >"$tmp/log" 2>&1 ||
    bail "meson install --destdir"
ok "meson install --destdir"

pc=$(find "$dest" -name pvx.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || bail "pvx.pc is installed"
prefix=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=prefix pvx)
# The destdir copy of pvx.pc with its prefix pointing into the destdir (everything else in it
# derives from the prefix).
mkdir -p "$tmp/pkgconfig"
sed "s|^prefix=.*|prefix=$dest$prefix|" "$pc" >"$tmp/pkgconfig/pvx.pc"
export PKG_CONFIG_PATH="$tmp/pkgconfig"
PKG_CONFIG=pkg-config
libdir=$($PKG_CONFIG --variable=libdir pvx)
includedir=$($PKG_CONFIG --variable=includedir pvx)
plugindir=$($PKG_CONFIG --variable=plugindir pvx)
bindir=$dest$prefix/bin
missing=""
for f in "$bindir/pvx" "$libdir/libpvx.so" "$includedir/pvx/pvx.h" "$includedir/pvx/plugin.h" \
         "$includedir/pvx/explainer.h" "$includedir/pvx/api.h" \
         "$plugindir/pvx-dataset-kandinsky.so" "$plugindir/pvx-model-vgg.so" \
         "$plugindir/pvx-explainer-gradcam.so" "$plugindir/pvx-metric-accuracy.so"; do
    [ -e "$f" ] || missing="$missing ${f#$dest}"
done
if [ -z "$missing" ]; then ok "layout: bin/pvx, libpvx, include/pvx, pvx.pc, plugins in plugindir"
else echo "# missing:$missing" >"$tmp/log"; not_ok "layout"; fi

# The installed headers are the plugin surface and nothing more: exactly core/include/pvx, no
# private header (pvx-private/) installed.
installed=$(cd "$includedir" && find . -type f | sort)
surface=$(cd "$PVX_SOURCE_ROOT/core/include" && find . -type f | sort)
if [ "$installed" = "$surface" ]; then ok "the installed headers are core/include/pvx, nothing else"
else
    echo "$surface" >"$tmp/surface"; echo "$installed" >"$tmp/installed"
    diff "$tmp/surface" "$tmp/installed" >"$tmp/log"
    not_ok "the installed headers are core/include/pvx, nothing else"
fi

# The installed pvx carries the core itself (it needs no libpvx.so), and an installed plugin finds
# the libpvx.so it names as its dependency without LD_LIBRARY_PATH (its RUNPATH).
plugin_so="$plugindir/pvx-explainer-gradcam.so"
if ! readelf -d "$bindir/pvx" 2>/dev/null | grep NEEDED | grep -q libpvx &&
    readelf -d "$plugin_so" 2>/dev/null | grep -E "R(UN)?PATH" | grep -q -F "${libdir#$dest}"; then
    ok "the installed pvx needs no libpvx.so; its plugins carry RUNPATH ${libdir#$dest}"
else
    { readelf -d "$bindir/pvx"; readelf -d "$plugin_so"; } >"$tmp/log" 2>&1
    not_ok "the installed pvx needs no libpvx.so; its plugins carry RUNPATH ${libdir#$dest}"
fi

# libpvx's built-in plugin folder is pvx.pc's plugindir (before the destdir).
if grep -a -q -F "${plugindir#$dest}" "$libdir/libpvx.so"; then
    ok "libpvx searches pvx.pc's plugindir ${plugindir#$dest}"
else
    not_ok "libpvx searches pvx.pc's plugindir ${plugindir#$dest}"
fi

cp -r "$src/examples/explainer-plugin" "$tmp/plugin"
rm -f "$tmp/plugin"/*.so
if make -C "$tmp/plugin" PKG_CONFIG="$PKG_CONFIG" CFLAGS="-O2 -Wall -Wextra -Werror" \
        >"$tmp/log" 2>&1 && [ -f "$tmp/plugin/pvx-explainer-input-x-gradient.so" ]; then
    ok "the example plugin builds with pkg-config --cflags --libs pvx"
else
    bail "the example plugin builds with pkg-config --cflags --libs pvx"
fi

if meson setup "$tmp/plugin-meson" "$tmp/plugin" >"$tmp/log" 2>&1 &&
        ninja -C "$tmp/plugin-meson" >>"$tmp/log" 2>&1 &&
        [ -f "$tmp/plugin-meson/pvx-explainer-input-x-gradient.so" ] &&
        meson introspect --installed "$tmp/plugin-meson" | grep -q -F "$plugindir/"; then
    ok "the example plugin builds with its meson.build and installs into plugindir"
else
    not_ok "the example plugin builds with its meson.build and installs into plugindir"
fi

export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PVX_PLUGIN_PATH="$plugindir"
pvx="$bindir/pvx"
if "$pvx" plugins --plugin-dir "$tmp/plugin" >"$tmp/out" 2>"$tmp/log" &&
        grep -q "input-x-gradient" "$tmp/out" && grep -q "gradcam" "$tmp/out" &&
        ! grep -q "refused" "$tmp/log"; then
    ok "the installed pvx lists its installed plugins and the example"
else
    cat "$tmp/out" >>"$tmp/log"; not_ok "the installed pvx lists its installed plugins and the example"
fi
if "$pvx" plugins --plugin-dir "$tmp/plugin" input-x-gradient >"$tmp/out" 2>"$tmp/log" &&
        grep -q "absolute" "$tmp/out" && grep -q -F "$tmp/plugin/" "$tmp/out" &&
        ! grep -q -F "$build" "$tmp/out"; then
    ok "pvx plugins input-x-gradient shows its parameter and file"
else
    cat "$tmp/out" >>"$tmp/log"; not_ok "pvx plugins input-x-gradient shows its parameter and file"
fi

mkdir -p "$tmp/exp"
cat >"$tmp/exp/exp.yaml" <<YAML
name: install-test
seed: 1
plugin_path: [../plugin]
dataset:
  plugin: kandinsky
  params: {size: 32, classes: 2, train_size: 16, val_size: 0, test_size: 8}
preview:
  per_class: 1
model:
  plugin: vgg
  params: {arch: vgg-mini, channels: [8, -1, 16, -1], hidden: 16}
train:
  epochs: 1
  batch_size: 8
evaluate:
  split: test
explain:
  split: test
  selection: per_class
  per_class: 2
  methods:
    - plugin: input-x-gradient
      params: {absolute: true}
YAML
if (cd "$tmp/exp" && "$pvx" run exp.yaml --run-id r1 >"$tmp/out" 2>"$tmp/log"); then
    ok "the installed pvx runs an experiment with the example explainer (plugin_path)"
else
    cat "$tmp/out" >>"$tmp/log"; bail "the installed pvx runs an experiment with the example explainer"
fi
h5=$tmp/exp/results/install-test/r1/results.h5
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import h5py, numpy" 2>/dev/null; then
    if /usr/bin/python3 - "$h5" >"$tmp/log" 2>&1 <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    raw = f["/maps/input-x-gradient/cr1/raw"][...]
    assert raw.ndim == 3 and raw.shape[1:] == (32, 32), raw.shape
    assert raw.shape[0] == 4, raw.shape          # 2 per class, 2 classes
    assert np.isfinite(raw).all() and (raw >= 0).all() and raw.max() > 0   # absolute: true
    assert f["/provenance"].attrs["state"] in (b"finished", "finished")
PY
    then ok "results.h5 holds the example's raw maps [4, 32, 32], finite, >= 0, not all 0"
    else not_ok "results.h5 holds the example's raw maps"; fi
else
    n=$((n + 1)); echo "ok $n # SKIP /usr/bin/python3 with h5py is missing"
fi

# 6. The example model plugin (examples/model-plugin, resnet-tiny: residual blocks, a projection
# shortcut, a default CAM layer that is an alias) builds the same way, trains and explains.
cp -r "$src/examples/model-plugin" "$tmp/model"
rm -f "$tmp/model"/*.so
if make -C "$tmp/model" PKG_CONFIG="$PKG_CONFIG" CFLAGS="-O2 -Wall -Wextra -Werror" \
        >"$tmp/log" 2>&1 && [ -f "$tmp/model/pvx-model-resnet-tiny.so" ] &&
        meson setup "$tmp/model-meson" "$tmp/model" >>"$tmp/log" 2>&1 &&
        ninja -C "$tmp/model-meson" >>"$tmp/log" 2>&1 &&
        [ -f "$tmp/model-meson/pvx-model-resnet-tiny.so" ]; then
    ok "the example model plugin builds with its Makefile and its meson.build"
else
    bail "the example model plugin builds with its Makefile and its meson.build"
fi
if "$pvx" plugins --plugin-dir "$tmp/model" resnet-tiny >"$tmp/out" 2>"$tmp/log" &&
        grep -q "width" "$tmp/out" && grep -q -F "$tmp/model/" "$tmp/out"; then
    ok "pvx plugins resnet-tiny shows its parameters and file"
else
    cat "$tmp/out" >>"$tmp/log"; not_ok "pvx plugins resnet-tiny shows its parameters and file"
fi
mkdir -p "$tmp/exp-model"
cat >"$tmp/exp-model/exp.yaml" <<YAML
name: install-test-model
seed: 1
plugin_path: [../model]
dataset:
  plugin: kandinsky
  params: {size: 32, classes: 2, train_size: 16, val_size: 0, test_size: 8}
preview:
  per_class: 1
model:
  plugin: resnet-tiny
  params: {width: 8, seed: 3}
train:
  epochs: 1
  batch_size: 8
evaluate:
  split: test
explain:
  split: test
  selection: per_class
  per_class: 2
  methods:
    - plugin: gradcam
YAML
if (cd "$tmp/exp-model" && "$pvx" run exp.yaml --run-id r1 >"$tmp/out" 2>"$tmp/log"); then
    ok "the installed pvx trains and explains the example model (Grad-CAM at its default layer)"
else
    cat "$tmp/out" >>"$tmp/log"
    not_ok "the installed pvx trains and explains the example model (Grad-CAM at its default layer)"
fi
h5=$tmp/exp-model/results/install-test-model/r1/results.h5
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import h5py, numpy" 2>/dev/null; then
    if /usr/bin/python3 - "$h5" >"$tmp/log" 2>&1 <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    # Grad-CAM at "block2" (the alias of block2.relu): 32x32 halved by block2's stride.
    raw = f["/maps/gradcam/cr1/raw"][...]
    assert raw.shape == (4, 16, 16), raw.shape
    assert np.isfinite(raw).all(), "non-finite map"
    w = f["/models/cr1/weights"]
    assert w["block2.shortcut.conv.weight"].shape == (16, 8, 1, 1), w["block2.shortcut.conv.weight"].shape
    assert w["fc.weight"].shape == (2, 16), w["fc.weight"].shape
PY
    then ok "results.h5 holds Grad-CAM maps [4, 16, 16] at block2 and the shortcut's weights"
    else not_ok "results.h5 holds Grad-CAM maps at block2 and the shortcut's weights"; fi
else
    n=$((n + 1)); echo "ok $n # SKIP /usr/bin/python3 with h5py is missing"
fi
echo "1..$n"
exit $failed
