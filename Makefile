# tsne-gallery: the two commands a newcomer needs (see README.md).
#   make demo   set up, then lay out the bundled demo images → out/demo/
#   make test   set up (with Java + Xvfb), then run the whole test suite headless
PY := .venv/bin/python
DEMO_OUT := out/demo

.PHONY: demo test setup setup-test bench

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --test

demo: setup
	@scripts/demo.sh $(DEMO_OUT)

# JOGL prints "X11Util" notes when the JVM exits; they would bury pytest's summary line.
test: setup-test
	@bash -o pipefail -c '$(PY) -m pytest 2>&1 | grep --line-buffered -v "^X11Util"'
