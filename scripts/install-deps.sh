#!/usr/bin/env bash
# Installs the Debian packages vdev builds and tests with, only when missing.
# Called by the Makefile before any build step; safe to run again.
set -euo pipefail
pkgs=(gcc make flex bison libtalloc-dev libcriterion-dev libjson-c-dev pkg-config libseccomp-dev)
# tests only: lspci -F reads vdevctl's dumps, JSON Schema checks of
# vdevctl --json, groff renders the man pages
pkgs+=(pciutils python3-jsonschema groff-base)
[ "${VDEV_EXTRA_PKGS:-}" ] && pkgs+=($VDEV_EXTRA_PKGS)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "vdev: installing missing packages: ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
