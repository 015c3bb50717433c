#!/usr/bin/env bash
# Lay out the bundled demo images (assets/demo/images) into OUT (default out/demo):
# layout JSON + atlases, a printed summary of its metrics, and a poster of each layout's grid.
# The default model is pretrained and installed with the packages: no download, works offline.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/demo}
py=.venv/bin/python

$py -m embed assets/demo/images -o "$out/demo.json"

$py -m embed info "$out/demo.json"
for layout in blur combined; do
    $py -m embed poster "$out/demo.json" --layout "$layout" --cell 64 -o "$out/poster_$layout.jpg"
done
echo
echo "demo: done. Look at $out/poster_blur.jpg and $out/poster_combined.jpg, or animate it:"
echo "demo:   .venv/bin/python sketches/gallery.py $out/demo.json"
