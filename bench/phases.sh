#!/usr/bin/env bash
# Where the milliseconds of `run --rm busybox true` go: runs it N times
# against a fresh berthd with BERTH_TRACE set (see docs/ARCHITECTURE.md) and
# prints, per phase mark, the median time since the CLI started and the
# median time since the previous mark (of any process).
#
# Usage: bench/phases.sh [RUNS] [-- extra run arguments]   (default 20)
# Needs root and a release build (cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
shift || true
[ "${1:-}" = "--" ] && shift
bin=$PWD/target/release
[ -s fixtures/out/busybox.tar ] || bash fixtures/build-busybox.sh >/dev/null

work=$(mktemp -d /tmp/bp-XXXX)
sock=$work/b.sock
trace=$work/trace.log
BERTH_TRACE=$trace "$bin/berthd" -H "unix://$sock" --data-root "$work/data" --exec-root "$work/run" >"$work/berthd.log" 2>&1 &
berthd_pid=$!
cleanup() {
  kill "$berthd_pid" 2>/dev/null || true
  wait "$berthd_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
"$bin/berth" -H "unix://$sock" load -q -i fixtures/out/busybox.tar >/dev/null
# Two warm-up runs (seccomp cache, page cache), not counted.
for i in $(seq $((runs + 2))); do
  BERTH_TRACE=$trace "$bin/berth" -H "unix://$sock" run --rm "$@" busybox true
  echo "---- end" >>"$trace"
done
python3 - "$trace" <<'EOF'
import collections, statistics, sys
runs = [[]]
for line in open(sys.argv[1]):
    if line.startswith("----"):
        runs.append([])
        continue
    t, _proc, label = line.split(maxsplit=2)
    runs[-1].append((int(t), label.strip()))
runs = [r for r in runs if any(l == "cli.main" for _, l in r)][2:]
since, delta, order = collections.defaultdict(list), collections.defaultdict(list), []
for r in runs:
    r.sort()
    t0 = next(t for t, l in r if l == "cli.main")
    prev, seen = t0, collections.Counter()
    for t, l in r:
        seen[l] += 1
        key = l if seen[l] == 1 else f"{l}#{seen[l]}"
        if key not in order:
            order.append(key)
        since[key].append((t - t0) / 1e6)
        delta[key].append((t - prev) / 1e6)
        prev = t
print(f"{len(runs)} runs, medians in ms:  since start  since previous mark")
for k in order:
    print(f"{k:28s} {statistics.median(since[k]):8.2f} {statistics.median(delta[k]):8.2f}")
EOF
