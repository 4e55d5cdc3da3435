# Shared helpers for docker/scripts/*.sh (sourced, not run).
# Paths, image names and the compose command live here, in one place.

DOCKER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd "$DOCKER_DIR/.." && pwd)
COMPOSE_FILE=$DOCKER_DIR/compose.yaml
WHEELS_DIR=$DOCKER_DIR/wheels
: "${FEDALERT_BASE_IMAGE:=fedalert-base:bookworm-sodium}"
: "${FEDALERT_IMAGE:=fedalert:dev}"
: "${FEDALERT_PROJECT:=fedalert}"
export FEDALERT_BASE_IMAGE FEDALERT_IMAGE FEDALERT_PROJECT

log() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# `docker compose` (v2 plugin) when present, else Debian's docker-compose (v1.29).
# FEDALERT_COMPOSE_EXTRA: more compose files to layer on top, ':'-separated.
compose() {
  local files=(-f "$COMPOSE_FILE") extra
  if [[ -n ${FEDALERT_COMPOSE_EXTRA:-} ]]; then
    IFS=: read -r -a extra <<<"$FEDALERT_COMPOSE_EXTRA"
    for f in "${extra[@]}"; do files+=(-f "$f"); done
  fi
  if docker compose version >/dev/null 2>&1; then
    docker compose "${files[@]}" -p "$FEDALERT_PROJECT" "$@"
  else
    docker-compose "${files[@]}" -p "$FEDALERT_PROJECT" "$@"
  fi
}

# Container id of a compose service in this project (by compose's labels: much
# faster than `compose ps -q`, and the same for compose v1 and v2).
container_of() {
  docker ps -aq --filter "label=com.docker.compose.project=$FEDALERT_PROJECT" \
    --filter "label=com.docker.compose.service=$1" | head -n 1
}
