#!/usr/bin/env bash
# Build the fedalert wheel and every dependency wheel on the host into
# docker/wheels/, for the image to install with --no-index. Uses the host's pip
# configuration to reach the package index; nothing of it goes into the image.
# The image runs CPython 3.11 (bookworm), so the host interpreter must be 3.11
# (FEDALERT_PYTHON picks one). Dependency wheels already in docker/wheels/ are reused.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"

PY=${FEDALERT_PYTHON:-}
if [[ -z $PY ]]; then
  for c in python3.11 python3; do command -v "$c" >/dev/null 2>&1 && { PY=$c; break; }; done
fi
[[ -n $PY ]] || die "no python3 found; set FEDALERT_PYTHON to a CPython 3.11"
ver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[[ $ver == 3.11 ]] || die "$PY is Python $ver; the image runs 3.11, so build wheels with a 3.11 (set FEDALERT_PYTHON)"

mkdir -p "$WHEELS_DIR"
rm -f "$WHEELS_DIR"/fedalert-*.whl
log "building wheels into $WHEELS_DIR with $PY ($ver)"
"$PY" -m pip wheel --quiet --disable-pip-version-check \
  --find-links "$WHEELS_DIR" -w "$WHEELS_DIR" "$REPO_ROOT"
ls "$WHEELS_DIR"/fedalert-*.whl >/dev/null 2>&1 || die "no fedalert wheel was built"
log "$(ls "$WHEELS_DIR" | wc -l) wheels ready"
