#!/usr/bin/env bash
# Build the fedalert image: host wheels -> base image -> docker build.
#   FEDALERT_IMAGE       tag to build (default fedalert:dev)
#   FEDALERT_DOCKER_BASE base image (default fedalert-base:bookworm-sodium, made here
#                        by make-base-image.sh without any registry; set
#                        python:3.11-slim-bookworm where a registry is reachable)
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
BASE=${FEDALERT_DOCKER_BASE:-$FEDALERT_BASE_IMAGE}

"$DOCKER_DIR/scripts/build-wheels.sh"
if [[ $BASE == "$FEDALERT_BASE_IMAGE" ]]; then
  FEDALERT_BASE_IMAGE=$BASE "$DOCKER_DIR/scripts/make-base-image.sh"
fi
log "building $FEDALERT_IMAGE FROM $BASE"
# The legacy builder is enough (no BuildKit features used); it is what a bare
# docker.io engine without buildx offers. Its output goes to a log, shown on failure.
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build --build-arg "BASE=$BASE" -t "$FEDALERT_IMAGE" "$DOCKER_DIR" \
  >"$build_log" 2>&1 || { tail -n 40 "$build_log" >&2; die "docker build failed (output above)"; }
docker image inspect "$FEDALERT_IMAGE" >/dev/null || die "build left no $FEDALERT_IMAGE"
log "built $FEDALERT_IMAGE"
