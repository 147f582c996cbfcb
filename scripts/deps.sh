#!/usr/bin/env bash
# Installs the Debian packages berth needs to build and test (idempotent).
set -euo pipefail
pkgs="busybox-static libseccomp-dev pkg-config iproute2 util-linux procps nftables tini"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "deps: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $missing >/dev/null
fi
