#!/usr/bin/env bash
# berth's main job on a fresh machine: install what it needs, build, start
# berthd, load the busybox fixture and run a container.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release -q
bash fixtures/build-busybox.sh >/dev/null
bin=$PWD/target/release
sock=/run/berth/berth.sock
if ! "$bin/berth" version >/dev/null 2>&1; then
  mkdir -p /var/log
  setsid "$bin/berthd" >>/var/log/berthd.log 2>&1 </dev/null &
  for _ in $(seq 100); do [ -S $sock ] && "$bin/berth" version >/dev/null 2>&1 && break; sleep 0.1; done
fi
"$bin/berth" load -i fixtures/out/busybox.tar
"$bin/berth" run --rm busybox echo hello from berth
