#!/bin/sh
# Network cost of a pod start: `rkt run --net=default` against `rkt run --net=none` of an
# already-fetched image running /bin/true, interleaved round by round in one run, plus the
# `rkt gc` that tears a default pod down (veth, lease, table rebuild). Everything runs inside a
# sandbox of its own (unshare --net --mount --pid): the host's interfaces and nftables ruleset
# are never touched. Prints median/min/max per row and the median per-round difference.
#   BENCH_ROUNDS (default 30), BENCH_WARMUP (default 3)
set -eu
cd "$(dirname "$0")/.."
RKT=${RKT:-$PWD/build/rkt}
OUT=$PWD/bench/out/net
rm -rf "$OUT"
mkdir -p "$OUT/layout/rootfs/bin"
cp /bin/busybox "$OUT/layout/rootfs/bin/busybox"
ln -sf busybox "$OUT/layout/rootfs/bin/true"
cat >"$OUT/layout/manifest" <<'JSON'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"bench.example.com/true",
 "labels":[{"name":"version","value":"1"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
JSON
"$RKT" image build --overwrite "$OUT/layout" "$OUT/true.aci" >/dev/null
G="--dir=$OUT/rkt --local-config=$OUT/etc --system-config=$OUT/vendor --insecure-options=image"
ID=$("$RKT" $G fetch --full --no-progress "$OUT/true.aci" 2>/dev/null)

exec unshare --net --mount --pid --fork --kill-child --propagation private --mount-proc \
	python3 - "$RKT" "$G" "$ID" "${BENCH_ROUNDS:-30}" "${BENCH_WARMUP:-3}" <<'PY'
import os, statistics, subprocess, sys, time
rkt, g, image, rounds, warm = sys.argv[1], sys.argv[2].split(), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
def once(cmd):
    t0 = time.perf_counter_ns()
    rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return (time.perf_counter_ns() - t0) / 1e6, rc
rows = [("run --net=none", [rkt] + g + ["run", "--net=none", image]),
        ("run --net=default", [rkt] + g + ["run", "--net=default", image])]
gc = [rkt] + g + ["gc", "--grace-period=0s"]
times = {n: [] for n, _ in rows}
times["gc (after both)"] = []
for r in range(warm + rounds):
    for name, cmd in (rows if r % 2 == 0 else rows[::-1]):
        ms, rc = once(cmd)
        if rc != 0:
            sys.exit("%s failed (exit %d)" % (name, rc))
        if r >= warm:
            times[name].append(ms)
    ms, rc = once(gc)
    if r >= warm:
        times["gc (after both)"].append(ms)
print("%-20s %10s %8s %8s" % ("row", "median ms", "min", "max"))
for name, t in times.items():
    print("%-20s %10.2f %8.2f %8.2f" % (name, statistics.median(t), min(t), max(t)))
d = [a - b for a, b in zip(times["run --net=default"], times["run --net=none"])]
print("default - none, median of per-round differences: %.2f ms (%d rounds)" % (statistics.median(d), len(d)))
left = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout.strip()
links = [l for l in subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout.splitlines() if "rkt" in l]
print("after the last gc: nft ruleset %s, rkt links %d" % ("empty" if not left else "NOT EMPTY", len(links)))
PY
