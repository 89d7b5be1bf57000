#!/bin/sh
# Pod start latency: `rkt run` of an already-fetched image running /bin/true, against the
# floor (unshare with the same namespaces + chroot) and the peers installed from Debian
# (bubblewrap, runc, crun, systemd-nspawn), interleaved round by round in one run. Prints the
# median per row and the median of the per-round ratio to the unshare floor. runc and crun run
# twice, without seccomp (`runc spec`'s default) and with rkt's default profile; rkt runs with
# every isolator on, and again without its seccomp filter (--insecure-options=seccomp). crun
# refuses a hybrid cgroup host; its "crun*" rows run it in a mount namespace without the v2
# mount, and "umount-wrapper" is that wrapper alone (subtract it to compare).
#   BENCH_ROUNDS (default 30), BENCH_WARMUP (default 3)
set -eu
cd "$(dirname "$0")/.."
RKT=${RKT:-$PWD/build/rkt}
OUT=$PWD/bench/out/start
rm -rf "$OUT"
mkdir -p "$OUT"
for t in runc:runc bwrap:bubblewrap crun:crun systemd-nspawn:systemd-container; do
	command -v "${t%%:*}" >/dev/null 2>&1 ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${t#*:}" >/dev/null 2>&1 || true
done

# A static busybox rootfs, the same for every row.
R=$OUT/rootfs
mkdir -p "$R/bin" "$R/proc" "$R/dev" "$R/sys" "$R/tmp" "$R/run" "$R/usr/lib" "$R/etc"
cp /bin/busybox "$R/bin/busybox"
ln -sf busybox "$R/bin/true"
ln -sf busybox "$R/bin/sh"
echo 'ID=busybox' >"$R/usr/lib/os-release"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"

# OCI bundle for runc/crun: pid, ipc, uts, mount, network namespaces, like every row.
B=$OUT/bundle
mkdir -p "$B"
(cd "$B" && runc spec 2>/dev/null) || true
if [ -f "$B/config.json" ]; then
	python3 - "$B/config.json" "$R" <<'PY'
import json, sys
p, root = sys.argv[1], sys.argv[2]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"] = {"path": root, "readonly": True}
c["linux"]["namespaces"] = [{"type": t} for t in ("pid", "ipc", "uts", "mount", "network")]
json.dump(c, open(p, "w"))
PY
	# the same bundle with the default seccomp profile rkt applies (profiles/, OCI format)
	mkdir -p "$B-seccomp"
	python3 - "$B/config.json" "$B-seccomp/config.json" profiles/seccomp-default.json <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["linux"]["seccomp"] = json.load(open(sys.argv[3]))
json.dump(c, open(sys.argv[2], "w"))
PY
fi

# The rkt image: built, signed with a throw-away key, trusted and fetched before timing.
L=$OUT/layout
mkdir -p "$L"
cp -a "$R" "$L/rootfs"
cat >"$L/manifest" <<'JSON'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"bench.example.com/true",
 "labels":[{"name":"version","value":"1"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
JSON
GH=$(mktemp -d /tmp/rkt-bench-gpg.XXXXXX)
trap 'gpgconf --homedir "$GH" --kill all 2>/dev/null; rm -rf "$GH"' EXIT
gpg --homedir "$GH" --batch --quiet --pinentry-mode loopback --passphrase '' \
	--quick-gen-key "rkt bench <bench@example.com>" ed25519 sign never 2>/dev/null
gpg --homedir "$GH" --batch --armor --export >"$OUT/key.asc"
"$RKT" image build --overwrite "$L" "$OUT/true.aci" >/dev/null
gpg --homedir "$GH" --batch --quiet --yes --armor --detach-sign -o "$OUT/true.aci.asc" "$OUT/true.aci"
G="--dir=$OUT/rkt --local-config=$OUT/etc --system-config=$OUT/vendor"
"$RKT" $G trust --prefix=bench.example.com --skip-fingerprint-review "$OUT/key.asc" >/dev/null
ID=$("$RKT" $G fetch --full --no-progress "$OUT/true.aci")

python3 - "$OUT" "$R" "$B" "$RKT" "$G" "$ID" "${BENCH_ROUNDS:-30}" "${BENCH_WARMUP:-3}" <<'PY'
import os, statistics, sys, time
out, root, bundle, rkt, g, image, rounds, warm = sys.argv[1:9]
rounds, warm = int(rounds), int(warm)
UMOUNT = "umount /sys/fs/cgroup/unified"
rows = [
    ("exec", [root + "/bin/true"]),
    ("unshare", ["unshare", "-m", "-p", "-f", "-u", "-i", "-n", "chroot", root, "/bin/true"]),
    ("bwrap", ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-ipc",
               "--ro-bind", root, "/", "--proc", "/proc", "--dev", "/dev", "/bin/true"]),
    ("runc", ["runc", "run", "--bundle", bundle, "ID"]),
    ("runc+seccomp", ["runc", "run", "--bundle", bundle + "-seccomp", "ID"]),
    ("crun", ["crun", "run", "--bundle", bundle, "ID"]),
    ("crun+seccomp", ["crun", "run", "--bundle", bundle + "-seccomp", "ID"]),
    # crun refuses hybrid cgroups ("drop all controllers from cgroupv2"): where it does, it
    # also runs in a mount namespace without the v2 mount, beside that wrapper's own cost
    ("umount-wrapper", ["unshare", "-m", "sh", "-c", UMOUNT + " && exec true"]),
    ("crun*", ["unshare", "-m", "sh", "-c", UMOUNT + " && exec crun run --bundle " + bundle + " ID"]),
    ("crun*+seccomp", ["unshare", "-m", "sh", "-c",
                       UMOUNT + " && exec crun run --bundle " + bundle + "-seccomp ID"]),
    ("systemd-nspawn", ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit",
                        "--private-network", "--read-only", "-D", root, "/bin/true"]),
    ("rkt run", [rkt] + g.split() + ["run", "--net=none", image]),
    ("rkt run -seccomp", [rkt] + g.split() + ["--insecure-options=seccomp", "run", "--net=none",
                                              image]),
]
def which(c):
    if c[0].startswith("/"):
        return os.access(c[0], os.X_OK)
    return any(os.access(os.path.join(d, c[0]), os.X_OK) for d in os.environ["PATH"].split(":"))
def once(cmd, n):
    tag = "bench-%d-%d" % (os.getpid(), n)
    cmd = [tag if a == "ID" else a.replace(" ID", " " + tag) if a.endswith(" ID") else a
           for a in cmd]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ,
                          file_actions=[(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
                                        (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)])
    _, st = os.waitpid(pid, 0)
    t1 = time.perf_counter_ns()
    return (t1 - t0) / 1e6, os.waitstatus_to_exitcode(st)
live, why = [], {}
for name, cmd in rows:
    if not which(cmd):
        why[name] = "not installed"
        continue
    ms, rc = once(cmd, 0)
    if rc != 0:
        why[name] = "fails here (exit %d)" % rc
        continue
    live.append((name, cmd))
times = {n: [] for n, _ in live}
for r in range(warm + rounds):
    for name, cmd in live:
        ms, rc = once(cmd, r + 1)
        if r >= warm and rc == 0:
            times[name].append(ms)
floor = times.get("unshare")
print("%-16s %10s %8s %8s %12s" % ("row", "median ms", "min", "max", "x unshare"))
for name, _ in live:
    t = times[name]
    if not t:
        continue
    ratio = statistics.median(a / b for a, b in zip(t, floor)) if floor else float("nan")
    print("%-16s %10.2f %8.2f %8.2f %12.2f" % (name, statistics.median(t), min(t), max(t), ratio))
if times.get("rkt run") and times.get("rkt run -seccomp"):
    d = statistics.median(a - b for a, b in zip(times["rkt run"], times["rkt run -seccomp"]))
    print("rkt's seccomp filter costs %.2f ms per start (median of per-round differences)" % d)
for name, w in why.items():
    print("%-16s %s" % (name, w))
print("rounds: %d (interleaved), warm-up: %d, load average: %s" % (rounds, warm, os.getloadavg()[0]))
PY
"$RKT" $G gc --grace-period=0s >/dev/null 2>&1 || true
