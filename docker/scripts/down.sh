#!/usr/bin/env bash
# `make docker-down [VOLUMES=1]`: stop the test network. Keys and state stay in
# their named volumes unless VOLUMES=1, which removes them (a new ceremony next up).
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
docker info >/dev/null 2>&1 || die "no Docker engine answers; nothing to stop"
args=(down --remove-orphans)
[[ ${VOLUMES:-0} == 1 ]] && args+=(-v)
compose "${args[@]}"
log "project $FEDALERT_PROJECT$([[ ${VOLUMES:-0} == 1 ]] && echo ', volumes removed')"
