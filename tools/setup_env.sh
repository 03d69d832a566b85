#!/usr/bin/env bash
# Create or reuse the project environment in .venv/ (idempotent).
#
# Steps, each named when it fails:
#   1. venv       python3 -m venv .venv, with the build tools of requirements/build.txt
#   2. torch      torch + torchvision (requirements/torch.txt; pip takes them from this disk)
#   3. mmcv       mmcv 2.1.0 built from its PyPI source with compiled ops, C++ standard raised to
#                 c++20 for torch 2.14's headers. The wheel is cached in $MEJIGCLU_CACHE (default
#                 ~/.cache/mejigclu_mm) and reused on later runs and fresh checkouts.
#   4. runtime    mmengine, mmpretrain, mmdet, ... (requirements/runtime.txt, tests.txt)
#   5. detectron2 a test stand-in of detectron2 v0.6: its Python sources from the PyPI sdist
#                 pb1-detectron2 (no C++ sources; cached in $MEJIGCLU_CACHE/sdists like the
#                 mmcv wheel), patched for today's Pillow / numpy, with a stand-in for the
#                 compiled detectron2._C (tools/dev/install_detectron2_stand_in.py), and its
#                 dependencies (requirements/detectron2.txt)
#   6. data       the data/ folders of the packages in requirements/offline-data.txt, extracted
#                 into .venv/share/offline-data/<package>/ (real images for tests and the demo)
#   7. package    editable install of mejigclu_mm
# Steps 2, 4 and 5 install under the constraints of requirements/lock.txt (exact versions of every
# package), so that every machine gets the same environment.
# A stamp file, written only after every step succeeded, records a hash of the inputs; a second
# run with the same inputs checks the stamp and returns in seconds. A failed run leaves no stamp,
# so the next run redoes the unfinished steps instead of mistaking them for done.
#
#   bash tools/setup_env.sh                 create / update .venv/ ($MEJIGCLU_VENV moves it)
#   bash tools/setup_env.sh --refresh-lock  resolve requirements/*.txt afresh, without the lock,
#       in a scratch environment ($MEJIGCLU_LOCK_VENV, default $MEJIGCLU_CACHE/lock-venv; .venv/
#       is not touched), then write what it installed to requirements/lock.txt. The next run
#       without the option installs exactly that into .venv/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${MEJIGCLU_CACHE:-$HOME/.cache/mejigclu_mm}"
LOCK="$ROOT/requirements/lock.txt"
REFRESH=0
case "${1:-}" in
  "") ;;
  --refresh-lock) REFRESH=1 ;;
  *) echo "usage: $0 [--refresh-lock]" >&2; exit 2 ;;
esac
if ((REFRESH)); then
  VENV="${MEJIGCLU_LOCK_VENV:-$CACHE/lock-venv}"
  CONSTRAINTS=()
else
  VENV="${MEJIGCLU_VENV:-$ROOT/.venv}"
  CONSTRAINTS=(-c "$LOCK")
fi
PY="$VENV/bin/python"
WHEELS="$CACHE/wheels"
STAMP="$VENV/.mejigclu_mm-setup"
MMCV_VERSION=2.1.0
DETECTRON2_VERSION=0.6  # the sdist pb1-detectron2, sha256 in tools/dev/install_detectron2_stand_in.py
DETECTRON2_SDIST="pb1-detectron2-$DETECTRON2_VERSION.tar.gz"

step=""
trap 'echo "setup_env: step \"$step\" failed; fix the error above and run again." >&2' ERR
log() { echo "[setup_env] $*"; }

inputs_hash() {
  (cd "$ROOT" && cat requirements/*.txt setup.py tools/setup_env.sh \
    tools/dev/install_detectron2_stand_in.py tools/dev/detectron2_C_stand_in.py
   echo "$MMCV_VERSION $DETECTRON2_VERSION") \
    | sha256sum | cut -d' ' -f1
}

if ((REFRESH)); then
  if [[ "$(realpath -m "$VENV")" == "$(realpath -m "$ROOT/.venv")" ]]; then
    echo "setup_env: --refresh-lock builds a scratch environment; point MEJIGCLU_LOCK_VENV" \
      "elsewhere than $ROOT/.venv" >&2
    exit 2
  fi
  log "refreshing $LOCK: resolving requirements/*.txt without it in $VENV (new)"
  rm -rf "$VENV"
elif [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(inputs_hash)" && -x "$PY" ]]; then
  log "environment up to date ($VENV)"
  exit 0
fi
rm -f "$STAMP"

step="venv"
if ! "$PY" -c 'import sys' 2>/dev/null; then
  log "creating $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
fi
PIP=(pip_quiet)
# pip warns once per package about this machine's index folders that hold no such package.
pip_quiet() { "$PY" -m pip --disable-pip-version-check "$@" 2> >(grep -v "is ignored: it is neither" >&2); }

step="torch"
log "installing build tools and torch (torch from this machine's disk when present)"
# One resolver run, so that torch's own setuptools requirement cannot lift the < 82 pin.
"${PIP[@]}" install -q -r "$ROOT/requirements/build.txt" -r "$ROOT/requirements/torch.txt" \
  ${CONSTRAINTS[@]+"${CONSTRAINTS[@]}"}

step="mmcv"
mmcv_wheel() { ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1; }
if [[ -z "$(mmcv_wheel)" ]]; then
  with_cuda=0
  if command -v nvcc >/dev/null && "$PY" -c 'import torch,sys; sys.exit(not torch.cuda.is_available())'; then
    with_cuda=1
  fi
  log "building mmcv $MMCV_VERSION with compiled ops (FORCE_CUDA=$with_cuda)."
  log "This is slow (about 25 minutes on 2 CPU cores): no wheel of mmcv 2.1.0 exists for this"
  log "torch, and its source must be compiled with -std=c++20 for torch 2.14's headers."
  log "The wheel is cached in $WHEELS; later runs reuse it."
  build="$(mktemp -d)"
  "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation \
    -d "$build" "mmcv==$MMCV_VERSION"
  tar -xzf "$build"/mmcv-"$MMCV_VERSION".tar.gz -C "$build"
  src="$build/mmcv-$MMCV_VERSION"
  # mmcv hard-codes older standards; torch >= 2.10 headers need C++20.
  sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' "$src/setup.py"
  grep -q 'c++20' "$src/setup.py" || { echo "setup_env: could not raise mmcv's C++ standard" >&2; exit 1; }
  (cd "$src" && MMCV_WITH_OPS=1 FORCE_CUDA=$with_cuda MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$build/dist" .)
  mkdir -p "$WHEELS"
  # Move into the cache only once complete, so an interrupted build is never taken for a wheel.
  built="$(ls "$build"/dist/mmcv-*.whl)"
  mv "$built" "$WHEELS/.tmp-$(basename "$built")"
  mv "$WHEELS/.tmp-$(basename "$built")" "$WHEELS/$(basename "$built")"
  rm -rf "$build"
fi
log "installing mmcv from $(mmcv_wheel)"
"${PIP[@]}" install -q --no-deps "$(mmcv_wheel)"

step="runtime"
log "installing mmengine, mmpretrain, mmdet and test tools"
"${PIP[@]}" install -q --find-links "$WHEELS" -r "$ROOT/requirements/runtime.txt" \
  -r "$ROOT/requirements/tests.txt" ${CONSTRAINTS[@]+"${CONSTRAINTS[@]}"}

step="detectron2"
SDISTS="$CACHE/sdists"
if [[ ! -f "$SDISTS/$DETECTRON2_SDIST" ]]; then
  log "downloading detectron2 v0.6's Python sources ($DETECTRON2_SDIST) into $SDISTS"
  tmp="$(mktemp -d)"
  # pip reads the sdist's metadata with its setup.py, which imports torch: no build isolation.
  "${PIP[@]}" download -q --no-deps --no-binary :all: --no-build-isolation -d "$tmp" \
    "pb1-detectron2==$DETECTRON2_VERSION"
  mkdir -p "$SDISTS"
  # Into the cache only once complete (the installer checks its sha256 too).
  mv "$tmp/$DETECTRON2_SDIST" "$SDISTS/.tmp-$DETECTRON2_SDIST"
  mv "$SDISTS/.tmp-$DETECTRON2_SDIST" "$SDISTS/$DETECTRON2_SDIST"
  rm -rf "$tmp"
fi
log "installing detectron2's dependencies and its test stand-in"
"${PIP[@]}" install -q -r "$ROOT/requirements/detectron2.txt" ${CONSTRAINTS[@]+"${CONSTRAINTS[@]}"}
"$PY" "$ROOT/tools/dev/install_detectron2_stand_in.py" "$SDISTS/$DETECTRON2_SDIST"
"$PY" -W ignore -c 'import detectron2.modeling, detectron2.engine, detectron2.evaluation
from detectron2 import model_zoo; model_zoo.get_config_file("Base-RCNN-FPN.yaml")'

step="data"
DATA="$VENV/share/offline-data"
grep -v '^\s*#' "$ROOT/requirements/offline-data.txt" | while read -r spec; do
  [[ -n "$spec" ]] || continue
  package="${spec%%==*}"
  [[ -d "$DATA/$package/data" ]] && continue
  log "extracting the data files of $spec"
  tmp="$(mktemp -d)"
  "${PIP[@]}" download -q --no-deps --only-binary=:all: -d "$tmp" "$spec"
  "$PY" -m zipfile -e "$tmp"/*.whl "$tmp/unpacked"
  mkdir -p "$DATA/$package"
  mv "$tmp/unpacked/$package/data" "$DATA/$package/data"
  rm -rf "$tmp"
done

step="package"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"
"$PY" -c 'import mejigclu_mm, mmcv.ops, mmdet, mmpretrain'

if ((REFRESH)); then
  step="lock"
  head="$(grep '^#' "$LOCK" || true)"  # the file's own explanation, kept
  { echo "$head"
    "${PIP[@]}" freeze --all --exclude-editable | grep -v -e '^mmcv[ =@]' -e '^pip==' \
      | LC_ALL=C sort -f
  } >"$LOCK.tmp"
  mv "$LOCK.tmp" "$LOCK"
  log "wrote $LOCK ($(grep -vc '^#' "$LOCK") packages); run it again without --refresh-lock"
  log "to install exactly these into .venv/, and review the change with git diff"
  exit 0
fi

inputs_hash >"$STAMP"
log "environment ready ($VENV)"
