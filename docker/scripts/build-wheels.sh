#!/usr/bin/env bash
# Build the fedalert wheel and every dependency wheel on the host, for the
# image to install with --no-index. Uses the host's pip configuration to reach
# the package index; nothing of it goes into the image.
#   docker/wheels/deps/  exactly the dependency wheels this checkout needs
#   docker/wheels/app/   the fedalert wheel
# Two folders so that the image's dependency layer stays cached while only
# the project changes. Dependencies are resolved only when pyproject.toml
# changed (docker/wheels/deps/.stamp), reusing wheels kept in
# $FEDALERT_CACHE/wheels (default /var/cache/fedalert/wheels).
# The image runs CPython 3.11 (bookworm), so the host interpreter must be 3.11
# (FEDALERT_PYTHON picks one).
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
CACHE=${FEDALERT_CACHE:-/var/cache/fedalert}/wheels

PY=${FEDALERT_PYTHON:-}
if [[ -z $PY ]]; then
  for c in python3.11 python3; do command -v "$c" >/dev/null 2>&1 && { PY=$c; break; }; done
fi
[[ -n $PY ]] || die "no python3 found; set FEDALERT_PYTHON to a CPython 3.11"
ver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[[ $ver == 3.11 ]] || die "$PY is Python $ver; the image runs 3.11, so build wheels with a 3.11 (set FEDALERT_PYTHON)"

mkdir -p "$CACHE"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
quiet_pip() {
  # The host's pip may point at local mirrors that do not list every package;
  # its 'location is ignored' notices are noise here.
  "$PY" -m pip "$@" 2> >(grep -v -E "^WARNING: Location '.*' is ignored" >&2)
}

# Dependencies are resolved again only when pyproject.toml changed (stamp).
stamp=$(sha256sum "$REPO_ROOT/pyproject.toml" | cut -d' ' -f1)
if [[ -f $WHEELS_DIR/deps/.stamp && $(cat "$WHEELS_DIR/deps/.stamp") == "$stamp" ]]; then
  log "dependencies unchanged (pyproject.toml); building the fedalert wheel only"
  quiet_pip wheel --quiet --disable-pip-version-check --no-deps -w "$stage" "$REPO_ROOT"
else
  log "resolving and building all wheels with $PY ($ver)"
  quiet_pip wheel --quiet --disable-pip-version-check --find-links "$CACHE" -w "$stage" "$REPO_ROOT"
  rm -rf "$WHEELS_DIR/deps"
  mkdir -p "$WHEELS_DIR/deps"
  find "$stage" -maxdepth 1 -name '*.whl' ! -name 'fedalert-*.whl' -exec cp -p {} "$WHEELS_DIR/deps/" \;
  cp -n "$WHEELS_DIR"/deps/*.whl "$CACHE/" 2>/dev/null || true
  echo "$stamp" >"$WHEELS_DIR/deps/.stamp"
fi
ls "$stage"/fedalert-*.whl >/dev/null 2>&1 || die "no fedalert wheel was built"
rm -rf "$WHEELS_DIR/app"
mkdir -p "$WHEELS_DIR/app"
mv "$stage"/fedalert-*.whl "$WHEELS_DIR/app/"
log "$(ls "$WHEELS_DIR/deps" | wc -l) dependency wheels + $(basename "$WHEELS_DIR"/app/*.whl) in $WHEELS_DIR"
