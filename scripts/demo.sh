#!/usr/bin/env bash
# Lay out the bundled demo images (assets/demo/images) into OUT (default out/demo):
# layout JSON + atlases, a printed summary of its metrics, and a poster of each layout's grid.
# WEIGHTS=default (pretrained, downloaded once), a .pth file, or random.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/demo}
py=.venv/bin/python
weights=${WEIGHTS:-default}

status=0
$py -m embed assets/demo/images -o "$out/demo.json" --weights "$weights" || status=$?
if [ "$status" = 3 ] && [ "$weights" = default ]; then
    echo "demo: pretrained weights are not available here (offline?). Running the demo with --weights random:"
    echo "demo: the layouts then group by colour and texture rather than by object. To use real weights offline,"
    echo "demo: run WEIGHTS=/path/to/resnet18.pth make demo (a torchvision state dict)."
    status=0
    $py -m embed assets/demo/images -o "$out/demo.json" --weights random || status=$?
fi
[ "$status" = 0 ] || exit "$status"

$py -m embed info "$out/demo.json"
for layout in blur combined; do
    $py -m embed poster "$out/demo.json" --layout "$layout" --cell 64 -o "$out/poster_$layout.jpg"
done
echo
echo "demo: done. Look at $out/poster_blur.jpg and $out/poster_combined.jpg, or animate it:"
echo "demo:   .venv/bin/python sketches/gallery.py $out/demo.json"
