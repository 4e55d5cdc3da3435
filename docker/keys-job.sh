#!/bin/sh
# One-shot key ceremony job for the compose test network (runs as root in the
# `keys` service so that it can hand each role volume to the fedalert user).
#
#   fedalert-keys-job fedalert keys init --federation demo --areas a,b,c --out /ceremony/federation ...
#
# 1. Runs the given ceremony command as the unprivileged fedalert user, unless
#    $FEDALERT_CEREMONY_DIR/ca/ca.crt already exists (keys survive restarts;
#    `down -v` forgets them). The ceremony's --out must be that folder: a
#    subfolder of the /ceremony volume, because the ceremony stages its output
#    beside --out and renames it into place.
# 2. For every role volume mounted at /export/<role>, replaces its contents with
#    exactly that role's folder: /export/matcher <- /ceremony/matcher (no token
#    keyset), /export/keysvc <- /ceremony/keysvc (the OPRF key service: the only
#    role that holds a token key), /export/area-<id> <- /ceremony/areas/<id>
#    (no token key in OPRF mode). Nothing else is copied.
# 3. For every area config volume mounted at /config/area-<id>, writes the
#    area's protocol overlay overlay.toml (invented partners <id>-police,
#    <id>-council, <id>-ida, signed off 30 days before the first run; see
#    fedalert.demo_data.overlay_text) unless one is already there, so an
#    edited overlay survives restarts (`down -v` forgets it).
set -eu

VOLUME=/ceremony
CEREMONY=${FEDALERT_CEREMONY_DIR:-/ceremony/federation}
EXPORT=${FEDALERT_EXPORT_DIR:-/export}
CONFIG=${FEDALERT_CONFIG_DIR:-/config}
RUN_AS=${FEDALERT_USER:-fedalert}

say() { printf 'keys-job: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must start as root (it drops to $RUN_AS for the ceremony)"
[ "$#" -gt 0 ] || die "usage: fedalert-keys-job CEREMONY-COMMAND..."

chown "$RUN_AS:$RUN_AS" "$VOLUME"
chmod 0700 "$VOLUME"
if [ -f "$CEREMONY/ca/ca.crt" ]; then
  say "ceremony already done ($CEREMONY/ca/ca.crt exists); re-exporting role folders only"
else
  say "running the key ceremony"
  setpriv --reuid="$RUN_AS" --regid="$RUN_AS" --init-groups -- "$@"
fi

for dest in "$EXPORT"/*; do
  [ -d "$dest" ] || continue
  role=$(basename "$dest")
  case $role in
    matcher) src=$CEREMONY/matcher ;;
    keysvc)  src=$CEREMONY/keysvc ;;
    area-*)  src=$CEREMONY/areas/${role#area-} ;;
    *) die "unknown role volume $dest (want matcher, keysvc or area-<id>)" ;;
  esac
  [ -d "$src" ] || die "the ceremony made no $src for $dest"
  # Replace, never merge: a file removed from the ceremony output must not linger.
  find "$dest" -mindepth 1 -delete
  cp -a "$src/." "$dest/"
  chown -R "$RUN_AS:$RUN_AS" "$dest"
  chmod 0700 "$dest"
  say "exported $src -> $dest ($(ls "$dest" | tr '\n' ' '))"
done

for dest in "$CONFIG"/*; do
  [ -d "$dest" ] || continue
  role=$(basename "$dest")
  case $role in
    area-*) area=${role#area-} ;;
    *) die "unknown config volume $dest (want area-<id>)" ;;
  esac
  if [ -s "$dest/overlay.toml" ]; then
    say "kept $dest/overlay.toml"
  else
    # Written to a temporary name and renamed: never a half-written overlay.
    python3 -c 'import datetime, sys; from fedalert.demo_data import overlay_text
sys.stdout.write(overlay_text(sys.argv[1], datetime.date.today()))' "$area" >"$dest/.overlay.toml.tmp"
    chmod 0644 "$dest/.overlay.toml.tmp"
    mv "$dest/.overlay.toml.tmp" "$dest/overlay.toml"
    say "wrote the protocol overlay $dest/overlay.toml (area $area)"
  fi
  chown -R "$RUN_AS:$RUN_AS" "$dest"
  chmod 0700 "$dest"
done
