#!/bin/sh
# Network setup + teardown: our native `--net=default` against the same job done by Debian's
# CNI plugins through the CNI runner (`--net=cni-ptp`: ptp + host-local + ipMasq, rkt's
# default network as a conflist; `--net=cni-bridge`: bridge + host-local + ipMasq), with
# `--net=none` as the floor. Each round runs every row (order rotated) as `rkt run` of a
# fetched image running /bin/true followed by `rkt gc` (native: veth, lease and table go at
# gc; CNI: DEL runs when the pod exits, inside `run`), so "run+gc" is the whole cost. Then the
# plugins alone: ADD and DEL of each conflist through build/tools/cni-run against a bare netns.
# Everything runs in a sandbox of its own (unshare --net --mount --pid); host-local's leases
# live in bench/out. BENCH_ROUNDS (default 20), BENCH_WARMUP (default 3)
set -eu
cd "$(dirname "$0")/.."
RKT=${RKT:-$PWD/build/rkt}
TOOL=${CNI_RUN:-$(dirname "$RKT")/tools/cni-run}
[ -x /usr/lib/cni/ptp ] || { echo "bench/cni.sh: containernetworking-plugins not installed, skipped"; exit 0; }
[ -x "$TOOL" ] || { echo "bench/cni.sh: no $TOOL (make tests), skipped"; exit 0; }
OUT=$PWD/bench/out/cni
rm -rf "$OUT"
mkdir -p "$OUT/layout/rootfs/bin" "$OUT/etc/net.d" "$OUT/ipam" "$OUT/cache"
cp /bin/busybox "$OUT/layout/rootfs/bin/busybox"
ln -sf busybox "$OUT/layout/rootfs/bin/true"
cat >"$OUT/layout/manifest" <<'JSON'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"bench.example.com/true",
 "labels":[{"name":"version","value":"1"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
JSON
cat >"$OUT/etc/net.d/10-ptp.conflist" <<JSON
{"cniVersion":"1.0.0","name":"cni-ptp","plugins":[{"type":"ptp","ipMasq":true,
 "ipam":{"type":"host-local","dataDir":"$OUT/ipam","ranges":[[{"subnet":"172.16.29.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}}]}
JSON
cat >"$OUT/etc/net.d/20-bridge.conflist" <<JSON
{"cniVersion":"1.0.0","name":"cni-bridge","plugins":[{"type":"bridge","bridge":"cni-bench0","isGateway":true,"ipMasq":true,
 "ipam":{"type":"host-local","dataDir":"$OUT/ipam","ranges":[[{"subnet":"172.16.30.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}}]}
JSON
"$RKT" image build --overwrite "$OUT/layout" "$OUT/true.aci" >/dev/null
G="--dir=$OUT/rkt --local-config=$OUT/etc --system-config=$OUT/vendor --insecure-options=image"
ID=$("$RKT" $G fetch --full --no-progress "$OUT/true.aci" 2>/dev/null)

exec unshare --net --mount --pid --fork --kill-child --propagation private --mount-proc \
	python3 - "$RKT" "$G" "$ID" "$TOOL" "$OUT" "${BENCH_ROUNDS:-20}" "${BENCH_WARMUP:-3}" <<'PY'
import os, statistics, subprocess, sys, time
rkt, g, image, tool, out = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4], sys.argv[5]
rounds, warm = int(sys.argv[6]), int(sys.argv[7])
subprocess.run(["mount", "-t", "tmpfs", "none", "/run"], check=True)
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
def once(cmd):
    t0 = time.perf_counter_ns()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("%s failed (exit %d): %s" % (" ".join(cmd[-3:]), p.returncode, p.stderr.strip()[-300:]))
    return (time.perf_counter_ns() - t0) / 1e6
nets = ["none", "default", "cni-ptp", "cni-bridge"]
gc = [rkt] + g + ["gc", "--grace-period=0s"]
t = {}
for r in range(warm + rounds):
    k = r % len(nets)
    for n in nets[k:] + nets[:k]:
        a = once([rkt] + g + ["run", "--net=" + n, image])
        b = once(gc)
        if r >= warm:
            t.setdefault(n + " run", []).append(a)
            t.setdefault(n + " gc", []).append(b)
            t.setdefault(n + " run+gc", []).append(a + b)
# the plugins alone, ADD then DEL of one attachment, against a bare pinned netns
subprocess.run(["ip", "netns", "add", "bench"], check=True)
for n in ["cni-ptp", "cni-bridge"]:
    for r in range(warm + rounds):
        a = once([tool, "add", out + "/etc/net.d", n, "/run/netns/bench", "eth0", "bench%d" % r, out + "/cache"])
        d = once([tool, "del", out + "/cache", "bench%d" % r, "eth0"])
        if r >= warm:
            t.setdefault("plugins " + n + " ADD", []).append(a)
            t.setdefault("plugins " + n + " DEL", []).append(d)
print("%-26s %10s %8s %8s" % ("row (%d rounds)" % rounds, "median ms", "min", "max"))
for name, v in t.items():
    print("%-26s %10.2f %8.2f %8.2f" % (name, statistics.median(v), min(v), max(v)))
for n in ["default", "cni-ptp", "cni-bridge"]:
    d = [a - b for a, b in zip(t[n + " run+gc"], t["none run+gc"])]
    print("%-10s - none, run+gc, median of per-round differences: %7.2f ms" % (n, statistics.median(d)))
leases = [f for f in os.listdir(out + "/ipam/cni-ptp") + os.listdir(out + "/ipam/cni-bridge") if f[0].isdigit()]
links = [l for l in subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout.splitlines() if "veth" in l or "rkt" in l]
chains = [l for l in subprocess.run(["iptables-save"], capture_output=True, text=True).stdout.splitlines() if l.startswith(":CNI-")]
print("after the last gc/DEL: host-local leases %d, veth/rkt links %d, CNI- chains %d" % (len(leases), len(links), len(chains)))
PY
