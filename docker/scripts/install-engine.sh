#!/usr/bin/env bash
# Make sure a Docker engine, a compose command and debootstrap are here and the
# engine answers. Idempotent: every step is skipped when already done.
#
# Debian bookworm, as root (CI and the dev machines). Installs Debian's own
# packages (docker.io, docker-compose, debootstrap) when missing, then starts
# dockerd in the background when nothing answers on the socket, logging to
# $FEDALERT_DOCKERD_LOG (default /var/log/fedalert-dockerd.log), and waits at
# most $FEDALERT_DOCKERD_WAIT seconds (default 60) for `docker info`.
#
# Exit codes: 0 engine ready; 1 could not install or start (the message says
# what to look at).
set -euo pipefail

log() { printf 'install-engine: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

DOCKERD_LOG=${FEDALERT_DOCKERD_LOG:-/var/log/fedalert-dockerd.log}
DOCKERD_WAIT=${FEDALERT_DOCKERD_WAIT:-60}

have_compose() {
  docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1
}

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
have_compose || missing+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)

if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || die "need root to install ${missing[*]}; run as root or install them yourself"
  command -v apt-get >/dev/null 2>&1 || die "no apt-get: install ${missing[*]} with this system's package manager"
  # Unique names, stable order.
  mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')
  log "installing ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" ca-certificates iptables >/dev/null \
    || die "apt-get install ${pkgs[*]} failed"
fi

if docker info >/dev/null 2>&1; then
  log "engine already answering"
else
  [[ $(id -u) -eq 0 ]] || die "no engine answers and only root can start dockerd"
  if pgrep -x dockerd >/dev/null 2>&1; then
    log "dockerd is running but not answering yet; waiting"
  else
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    log "starting dockerd (log: $DOCKERD_LOG)"
    # setsid + nohup: the daemon outlives this script and the shell that ran it.
    setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
  deadline=$((SECONDS + DOCKERD_WAIT))
  until docker info >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      tail -n 20 "$DOCKERD_LOG" >&2 || true
      die "dockerd did not answer within ${DOCKERD_WAIT}s; see $DOCKERD_LOG"
    fi
    pgrep -x dockerd >/dev/null 2>&1 || { tail -n 20 "$DOCKERD_LOG" >&2 || true; die "dockerd exited; see $DOCKERD_LOG"; }
    sleep 1
  done
  log "engine ready"
fi

have_compose || die "no compose command after install (want 'docker compose' or 'docker-compose')"
log "docker $(docker version --format '{{.Server.Version}}' 2>/dev/null), compose: $(docker compose version --short 2>/dev/null || docker-compose version --short 2>/dev/null)"
