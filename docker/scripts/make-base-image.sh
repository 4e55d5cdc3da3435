#!/usr/bin/env bash
# Build the registry-free base image fedalert-base:bookworm-sodium: a minimal Debian
# bookworm rootfs (debootstrap minbase + python3, python3-venv, ca-certificates,
# libsodium23 for the OPRF token mode),
# trimmed, then `docker import`ed. No image registry is needed.
#
# Skips everything when the image already exists. Caches, under
# $FEDALERT_CACHE (default /var/cache/fedalert):
#   debootstrap-debs/           downloaded .debs, so a rebuild downloads nothing
#   fedalert-base-bookworm-sodium.tar  the trimmed rootfs, so a lost image re-imports in seconds
# FEDALERT_BASE_REBUILD=1 ignores both the image and the tarball.
# The Debian mirror is the one this host's apt uses (FEDALERT_DEBIAN_MIRROR overrides).
set -euo pipefail

IMAGE=${FEDALERT_BASE_IMAGE:-fedalert-base:bookworm-sodium}
SUITE=bookworm
CACHE=${FEDALERT_CACHE:-/var/cache/fedalert}
TARBALL="$CACHE/fedalert-base-$SUITE-sodium.tar"
DEBS="$CACHE/debootstrap-debs"
# libsodium23: ristretto255 for the OPRF token mode (pysodium loads it; keys/oprf.py)
PACKAGES=python3,python3-venv,ca-certificates,libsodium23

log() { printf 'make-base-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ ${FEDALERT_BASE_REBUILD:-0} != 1 ]] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE already exists; nothing to do"
  exit 0
fi

import_tarball() {
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    --message "fedalert base: debootstrap $SUITE minbase + $PACKAGES" \
    "$TARBALL" "$IMAGE" >/dev/null
  log "imported $IMAGE from $TARBALL"
}

if [[ ${FEDALERT_BASE_REBUILD:-0} != 1 && -s $TARBALL ]]; then
  import_tarball
  exit 0
fi

[[ $(id -u) -eq 0 ]] || die "debootstrap needs root"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap missing: run docker/scripts/install-engine.sh first"

# The first Debian mirror this host's apt uses (deb822 .sources or one-line lists).
host_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    # deb822 stanza: take the URIs of a stanza whose Suites include $SUITE, skipping -security.
    uri=$(awk -v s="$SUITE" '
      BEGIN { RS=""; FS="\n" }
      {
        u=""; ok=0
        for (i=1;i<=NF;i++) {
          if ($i ~ /^URIs:/)   { u=$i; sub(/^URIs:[ \t]*/,"",u); split(u,a,/[ \t]+/); u=a[1] }
          if ($i ~ /^Suites:/) { n=split($i,b,/[ \t]+/); for (j=2;j<=n;j++) if (b[j]==s) ok=1 }
          if ($i ~ /^Enabled:[ \t]*no/) ok=0
        }
        if (ok && u!="" && u !~ /security/) { print u; exit }
      }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    uri=$(awk -v s="$SUITE" '$1=="deb" { i=2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
          if ($(i+1)==s && $i !~ /security/) { print $i; exit } }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  echo http://deb.debian.org/debian
}
MIRROR=${FEDALERT_DEBIAN_MIRROR:-$(host_mirror)}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

mkdir -p "$CACHE" "$DEBS"
WORK=$(mktemp -d /var/tmp/fedalert-rootfs.XXXXXX)
trap 'rm -rf --one-file-system "$WORK"' EXIT
ROOT="$WORK/rootfs"

log "debootstrap $SUITE from $MIRROR into $ROOT (debs cached in $DEBS)"
keyring_opt=()
[[ -r $KEYRING ]] && keyring_opt=(--keyring="$KEYRING")
debootstrap --variant=minbase --components=main --include="$PACKAGES" \
  --cache-dir="$DEBS" "${keyring_opt[@]}" "$SUITE" "$ROOT" "$MIRROR" \
  >"$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }

# The image's own apt points at the public mirror, not at anything of this host.
printf 'deb http://deb.debian.org/debian %s main\n' "$SUITE" >"$ROOT/etc/apt/sources.list"
# Sanity: the venv module and its bundled pip must work (ensurepip needs python3-venv).
chroot "$ROOT" /usr/bin/python3 -c 'import ensurepip, venv, ssl' || die "python3-venv/ensurepip missing in rootfs"

log "trimming"
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/cache/apt/*.bin \
       "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/log/* "$ROOT"/tmp/* "$ROOT"/var/tmp/* \
       "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* \
       "$ROOT"/usr/share/locale/* "$ROOT"/usr/share/lintian "$ROOT"/usr/share/linda
# No host identity baked in.
: >"$ROOT/etc/resolv.conf"; : >"$ROOT/etc/hostname"; rm -f "$ROOT/etc/machine-id"

tar --numeric-owner -C "$ROOT" -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
log "rootfs tarball $(du -h "$TARBALL" | cut -f1) at $TARBALL"
import_tarball
