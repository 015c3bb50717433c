#!/usr/bin/env bash
# Set up everything tsne-gallery needs on a fresh machine (idempotent, fast when already done).
#   scripts/setup.sh          Python 3.11+ venv in .venv with requirements.txt and this project (editable)
#   scripts/setup.sh --test   also Java 17+ (py5), Xvfb + Mesa software OpenGL for headless sketch tests
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

apt_install() {  # apt_install PKG...: install Debian packages (as root, or through sudo)
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    command -v apt-get >/dev/null || die "missing $* and no apt-get here: install them with your package manager"
    say "installing $* (apt-get)"
    $sudo apt-get update -qq >/dev/null || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

# --- Python virtual environment ---------------------------------------------------------------
PY=""
for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        PY=$candidate; break
    fi
done
[ -n "$PY" ] || die "Python 3.11 or newer is needed (py5 requires it); install python3.11"
if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $($PY --version)"
    "$PY" -m venv .venv || die "could not create .venv (Debian: apt-get install python3-venv)"
fi
stamp=.venv/.requirements.sha1
want=$(cat requirements.txt pyproject.toml | sha1sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python packages into .venv (torch is large: a few minutes the first time)"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -r requirements.txt || die "pip install -r requirements.txt failed"
    # the project itself, editable: its packages and console commands; dependencies are the pins above
    log=$(.venv/bin/python -m pip install -q --no-deps -e . 2>&1) || { printf '%s\n' "$log" >&2; die "pip install -e . failed"; }
    echo "$want" > "$stamp"
fi

[ "${1:-}" = "--test" ] || exit 0

# --- Java 17+ for py5 -------------------------------------------------------------------------
java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
if ! command -v java >/dev/null || [ "$(java_major)" -lt 17 ]; then
    apt_install openjdk-17-jre
fi
[ "$(java_major)" -ge 17 ] || die "py5 needs Java 17 or newer; found: $(java -version 2>&1 | head -n1)"

# --- Headless display for the sketch tests ----------------------------------------------------
missing=()
command -v Xvfb >/dev/null || missing+=(xvfb)
command -v xauth >/dev/null || missing+=(xauth)
ls /usr/lib/*/dri/swrast_dri.so /usr/lib/*/dri/llvmpipe_dri.so /usr/lib/*/dri/kms_swrast_dri.so >/dev/null 2>&1 \
    || missing+=(libgl1-mesa-dri)
ldconfig -p 2>/dev/null | grep -q 'libGL.so.1 ' || missing+=(libgl1)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
say "ready: $(.venv/bin/python --version), Java $(java_major), Xvfb $(command -v Xvfb)"
