#!/usr/bin/env bash
# `make docker-up`: bring up the fedalert test network on this machine.
#   1. a Docker engine (install-engine.sh, only when none answers)
#   2. host wheels, base image, fedalert image (build-image.sh)
#   3. key ceremony job, matcher, three areas (compose up), wait for health
#   4. load docker/data/area-*.csv into each area and show each area's alerts
# Env: FEDALERT_PROJECT (compose project, default fedalert), FEDALERT_IMAGE,
#      FEDALERT_DOCKER_BASE, FEDALERT_MATCHER_PUBLISH (127.0.0.1 port, default 7443),
#      FEDALERT_UP_TIMEOUT (seconds to wait for health, default 180),
#      FEDALERT_ALERT_TIMEOUT (seconds to wait for alerts, default 60).
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
UP_TIMEOUT=${FEDALERT_UP_TIMEOUT:-180}
ALERT_TIMEOUT=${FEDALERT_ALERT_TIMEOUT:-60}
AREAS=(a b c)

docker info >/dev/null 2>&1 || "$DOCKER_DIR/scripts/install-engine.sh"
"$DOCKER_DIR/scripts/build-image.sh"

log "starting project $FEDALERT_PROJECT (keys job, matcher, key service, areas ${AREAS[*]})"
compose up -d --remove-orphans

# Bounded wait until every long-running service reports healthy.
health() { docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$1" 2>/dev/null || echo missing; }
deadline=$((SECONDS + UP_TIMEOUT))
for svc in matcher keysvc "${AREAS[@]/#/area-}"; do
  while :; do
    cid=$(container_of "$svc")
    state=$( [[ -n $cid ]] && health "$cid" || echo missing)
    [[ $state == healthy ]] && { log "$svc healthy"; break; }
    if ((SECONDS >= deadline)) || [[ $state == exited || $state == dead ]]; then
      compose ps >&2 || true
      compose logs --tail 30 "$svc" >&2 || true
      die "$svc is '$state' after ${UP_TIMEOUT}s (logs above)"
    fi
    sleep 2
  done
done

for area in "${AREAS[@]}"; do
  log "importing docker/data/area-$area.csv into area $area"
  "$DOCKER_DIR/scripts/area.sh" import "$area" "$DOCKER_DIR/data/area-$area.csv"
done

# The nodes publish on their own; wait (bounded) until every area has an alert.
log "waiting up to ${ALERT_TIMEOUT}s for alerts"
deadline=$((SECONDS + ALERT_TIMEOUT))
while :; do
  missing=()
  for area in "${AREAS[@]}"; do
    n=$("$DOCKER_DIR/scripts/area.sh" alerts "$area" 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0)
    ((n > 0)) || missing+=("$area")
  done
  ((${#missing[@]} == 0)) && break
  ((SECONDS < deadline)) || { log "no alerts yet for area(s) ${missing[*]} after ${ALERT_TIMEOUT}s"; break; }
  sleep 2
done

for area in "${AREAS[@]}"; do
  echo "== alerts in area $area =="
  "$DOCKER_DIR/scripts/area.sh" show-alerts "$area" || true
done
port=$(compose port matcher 7443 2>/dev/null || true)
log "project $FEDALERT_PROJECT, matcher published on ${port:-?}; stop with 'make docker-down' (VOLUMES=1 forgets keys and state)"
