#!/usr/bin/env bash
# The project's Python environment, .venv/, from the lock file (run by make; prints each step).
#
#   tools/env.sh setup   create or update .venv: uv sync from uv.lock (pip + requirements.lock if
#                        uv cannot be installed), bytecode compiled, library linked, kernel installed
#   tools/env.sh check   exit 0 if .venv imports the library of this checkout and has its kernel
#
# .venv is relocatable: scripts find their interpreter relative to themselves and the library is
# linked by a relative path (.venv/lib/pythonX.Y/site-packages/crwv_note.pth -> ../../../../src),
# so a copied or moved checkout reads its own src/ and data/, never the folder it came from.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
CACHE=${CACHE:-$PWD/.cache}
UV_VERSION=${UV_VERSION:-0.13.9}
UV=$CACHE/bootstrap/bin/uv
export UV_CACHE_DIR=${UV_CACHE_DIR:-$CACHE/uv} UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=$PWD/$VENV
KERNEL=crwv-note

say() { printf '[env] %s\n' "$*"; }
now() { date +%s%N; }

check() {
  [ -x "$VENV/bin/python" ] || return 1
  [ -f "$VENV/share/jupyter/kernels/$KERNEL/kernel.json" ] || return 1
  "$VENV/bin/python" -c 'import os, sys, analysis.paths as p; sys.exit(0 if os.path.samefile(p.ROOT, os.getcwd()) else 1)' 2>/dev/null
}

link_library() {
  local sp
  sp=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  rm -f "$sp"/_editable_impl_crwv_note.pth "$sp"/__editable__.crwv_note*.pth
  rm -rf "$sp"/crwv_note-*.dist-info
  python3 -c 'import os, sys; print(os.path.relpath("src", sys.argv[1]))' "$sp" > "$sp/crwv_note.pth"
}

setup() {
  local t0 py
  t0=$(now)
  python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (python3 is %s)" % sys.version.split()[0])'
  py=$(python3 -c 'import sys; print(sys.version.split()[0])')
  if [ ! -x "$UV" ]; then
    say "installing uv $UV_VERSION into .cache/bootstrap (once)"
    { python3 -m venv "$CACHE/bootstrap" && "$CACHE/bootstrap/bin/python" -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"; } >/dev/null 2>&1 || true
  fi
  if [ -L "$VENV" ]; then
    say "replacing the link $VENV (another folder's environment) by this folder's own"
    rm -f "$VENV"
  fi
  if [ -x "$UV" ]; then
    if [ -d "$VENV" ] && ! grep -q '^relocatable = true' "$VENV/pyvenv.cfg" 2>/dev/null; then
      say "removing $VENV: it was made by an older setup and is tied to the folder it was made in"
      rm -rf "$VENV"
    fi
    if [ ! -d "$VENV" ]; then
      say "creating $VENV (Python $py, relocatable)"
      "$UV" venv --relocatable --quiet --python python3 "$VENV"
    fi
    say "installing the locked packages (uv.lock) and compiling their bytecode"
    "$UV" sync --frozen --no-install-project --compile-bytecode --quiet
  else
    say "uv could not be installed: using pip with requirements.lock (slower)"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes -r requirements.lock
  fi
  say "linking the library: $VENV -> src/ (relative path)"
  link_library
  "$VENV/bin/python" -m analysis.build kernel
  check || { say "error: $VENV does not import the library of $PWD"; exit 1; }
  say "ready in $(( ($(now) - t0) / 1000000000 )) s"
}

case "${1:-}" in
  setup) setup ;;
  check) check ;;
  *) echo "usage: tools/env.sh setup|check" >&2; exit 2 ;;
esac
