#!/usr/bin/env bash
# Side-by-side benchmark of berth and Docker in one run, reported as ratios.
# Needs root, a release build (cargo build --release), the busybox fixture,
# and the Docker anchors (../shared/anchors/setup.sh: dockerd with busybox).
#
# Usage: bench/compare.sh [RUNS]     (default 20; writes bench/results.md)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
bin=$PWD/target/release
command -v hyperfine >/dev/null || { echo "bench: needs hyperfine (apt-get install hyperfine)"; exit 1; }
docker version >/dev/null 2>&1 || { echo "bench: Docker engine not running: run ../shared/anchors/setup.sh"; exit 1; }
[ -x "$bin/berthd" ] || cargo build --release -q
[ -s fixtures/out/busybox.tar ] || bash fixtures/build-busybox.sh >/dev/null

work=$(mktemp -d /tmp/bb-XXXX)
sock=$work/b.sock
# berthd runs in a network namespace of its own, so that its bridges and
# nftables table never touch the host's (nsenter execs berthd: same PID).
touch "$work/netns"
unshare --net="$work/netns" true
nsenter --net="$work/netns" ip link set lo up
nsenter --net="$work/netns" -- "$bin/berthd" -H "unix://$sock" --data-root "$work/data" --exec-root "$work/run" >"$work/berthd.log" 2>&1 &
berthd_pid=$!
cleanup() {
  for id in $("$bin/berth" -H "unix://$sock" ps -aq 2>/dev/null); do "$bin/berth" -H "unix://$sock" rm -f "$id" >/dev/null 2>&1 || true; done
  kill "$berthd_pid" 2>/dev/null || true
  wait "$berthd_pid" 2>/dev/null || true
  for c in $(docker ps -aq --filter label=berth-bench); do docker rm -f "$c" >/dev/null 2>&1 || true; done
  umount "$work/netns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
B="$bin/berth -H unix://$sock"
$B load -q -i fixtures/out/busybox.tar >/dev/null
sleep 1
idle_rss=$(awk '/VmRSS/{print $2}' /proc/$berthd_pid/status)

median() { # hyperfine json → median seconds
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"
}
bench() { # name, berth cmd, docker cmd
  hyperfine -N -w 3 -r "$runs" --export-json "$work/b.json" "$2" >/dev/null 2>&1
  hyperfine -N -w 3 -r "$runs" --export-json "$work/d.json" "$3" >/dev/null 2>&1
  local b d
  b=$(median "$work/b.json"); d=$(median "$work/d.json")
  python3 -c "import sys; b,d=float(sys.argv[2]),float(sys.argv[3]); print(f'| {sys.argv[1]} | {b*1000:.1f} ms | {d*1000:.1f} ms | {b/d:.3f} |')" "$1" "$b" "$d"
}

{
echo "# berth vs Docker ($(date -u +%FT%TZ), $runs runs each, medians)"
echo
echo "| measure | berth | docker | ratio |"
echo "| --- | --- | --- | --- |"
bench 'run --rm busybox true' "$B run --rm busybox true" "docker run --rm busybox true"
bench 'run --rm --network none busybox true' "$B run --rm --network none busybox true" "docker run --rm --network none busybox true"
# What networking adds to `run --rm`, berth only, measured back to back
# (before the 50 containers below): the default bridge (veth, address,
# /etc/hosts), a user network (plus the embedded DNS server) and a published
# port, each against --network none.
$B network create berth-bench-net >/dev/null
echo
echo "| networking cost (berth, medians) | vs --network none | target |"
echo "| --- | --- | --- |"
# Interleaved rounds: on a busy machine, drift between back-to-back
# hyperfine batches is larger than the differences measured here.
python3 - "$B" "$((runs * 2))" <<'PY'
import statistics, subprocess, sys, time
b, rounds = sys.argv[1].split(), int(sys.argv[2])
cmds = [["--network", "none"], [], ["--network", "berth-bench-net"], ["-p", "18080:80"]]
times = [[] for _ in cmds]
for r in range(rounds + 3):
    for i, extra in enumerate(cmds):
        t = time.perf_counter()
        subprocess.run(b + ["run", "--rm", *extra, "busybox", "true"], check=True)
        if r >= 3:
            times[i].append(time.perf_counter() - t)
m = [statistics.median(t) for t in times]
for name, t, target in [("default bridge", m[1], "≤ 5 ms"), ("user network (with DNS server)", m[2], ""), ("default bridge with -p 18080:80", m[3], "")]:
    print(f"| {name} | {(t - m[0]) * 1000:+.1f} ms | {target} |")
PY
$B network rm berth-bench-net >/dev/null
echo
echo "| measure | berth | docker | ratio |"
echo "| --- | --- | --- | --- |"
bench 'ps -a' "$B ps -a" "docker ps -a"
bench 'images' "$B images" "docker images"

t0=$(date +%s.%N)
for i in $(seq 50); do $B run -d -l berth-bench busybox sleep 600 >/dev/null; done
t1=$(date +%s.%N)
for i in $(seq 50); do docker run -d -l berth-bench busybox sleep 600 >/dev/null; done
t2=$(date +%s.%N)
python3 -c "import sys; a,b,c=map(float,sys.argv[1:]); print(f'| run -d x50 | {(b-a):.2f} s | {(c-b):.2f} s | {(b-a)/(c-b):.3f} |')" "$t0" "$t1" "$t2"
bench 'ps (50 running)' "$B ps" "docker ps"

pss=0; rss=0; n=0
for p in $(pgrep -f "berth-shim --id"); do
  grep -q "$work" /proc/$p/cmdline 2>/dev/null || continue
  pss=$((pss + $(awk '/^Pss:/{print $2}' /proc/$p/smaps_rollup)))
  rss=$((rss + $(awk '/^Rss:/{print $2}' /proc/$p/smaps_rollup)))
  n=$((n+1))
done
echo
echo "| memory | berth | target |"
echo "| --- | --- | --- |"
echo "| berthd idle RSS | $((idle_rss)) kB | ≤ 10240 kB |"
[ "$n" -gt 0 ] && echo "| shim PSS per container ($n shims) | $((pss / n)) kB | ≤ 512 kB |"
[ "$n" -gt 0 ] && echo "| shim RSS per container | $((rss / n)) kB | |"
echo "| berthd RSS with 50 containers | $(awk '/VmRSS/{print $2}' /proc/$berthd_pid/status) kB | |"
} | tee bench/results.md
