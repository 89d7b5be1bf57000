#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Named CNI networks (--net=NAME[:ARGS],...) through the CNI runner (src/lib/pod/cni.c) and
# Debian's containernetworking-plugins (/usr/lib/cni). Each test runs in a sandbox of its own,
# as in 90-net.bats: `unshare --net --mount --pid --fork --kill-child` with a private /run,
# whose network namespace has no interface to the outside; the plugins' bridges, veths,
# iptables-nft rules and sysctls all land in it, host-local's leases in the test's directory
# (dataDir). Plugins come from $T/plugins: symlinks to the real ones plus fakes written here.

load helpers

setup_file() {
	command -v busybox >/dev/null || skip "busybox-static is needed"
	[ -x /usr/lib/cni/bridge ] || skip "containernetworking-plugins is needed"
	command -v iptables-save >/dev/null || skip "iptables is needed by the plugins"
	local l=$BATS_FILE_TMPDIR/layout
	probe_layout "$l" sh sleep cat echo ip wget httpd ls timeout
	manifest example.com/cni '"exec":["/bin/sh"],"user":"0","group":"0"' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/cni.aci" >/dev/null
}

setup() {
	pod_setup
	ACI=$BATS_FILE_TMPDIR/cni.aci
	OUTER_NS=$(readlink /proc/self/ns/net)
	mkdir -p "$T/lc/net.d" "$T/plugins" "$T/ipam" "$T/www"
	echo host >"$T/www/index.html"
	ln -s /usr/lib/cni/* "$T/plugins/"
	# fail: ADD fails with an error JSON; DEL succeeds. Both logged.
	cat >"$T/plugins/fail" <<EOF
#!/bin/sh
cat >/dev/null
echo "\$CNI_COMMAND \$CNI_IFNAME" >>"$T/fail.log"
[ "\$CNI_COMMAND" = DEL ] && exit 0
echo '{"cniVersion":"1.0.0","code":999,"msg":"fake failure","details":"as asked"}'
exit 1
EOF
	# record: logs its env and stdin, passes prevResult on
	cat >"$T/plugins/record" <<EOF
#!/usr/bin/python3
import json, os, sys
c = json.load(sys.stdin)
with open("$T/record.log", "a") as f:
    f.write("%s args=%s ifname=%s netns=%s prev=%s\n" % (os.environ["CNI_COMMAND"],
            os.environ.get("CNI_ARGS"), os.environ["CNI_IFNAME"], os.environ["CNI_NETNS"],
            "prevResult" in c))
if os.environ["CNI_COMMAND"] == "ADD":
    print(json.dumps(c["prevResult"]))
EOF
	# slow: sleeps 2 s in ADD (a window to kill stage1 in), then passes prevResult on
	cat >"$T/plugins/slow" <<EOF
#!/usr/bin/python3
import json, os, sys, time
c = json.load(sys.stdin)
with open("$T/slow.log", "a") as f:
    f.write("%s prev=%s\n" % (os.environ["CNI_COMMAND"], "prevResult" in c))
if os.environ["CNI_COMMAND"] == "ADD":
    open("$T/slow.started", "w").close()
    time.sleep(2)
    print(json.dumps(c["prevResult"]))
EOF
	chmod 0755 "$T/plugins/fail" "$T/plugins/record" "$T/plugins/slow"
	conflist br1 bridge '"bridge":"cni-br1","isGateway":true,"ipMasq":true' 10.88.7.0/24 >"$T/lc/net.d/10-br1.conflist"
	conflist pt1 ptp '"ipMasq":true' 10.88.8.0/24 >"$T/lc/net.d/20-pt1.conflist"
}

# conflist NAME TYPE EXTRA SUBNET [MORE_PLUGINS]: a network with host-local IPAM in $T/ipam
conflist() {
	cat <<EOF
{"cniVersion":"1.0.0","name":"$1","plugins":[
 {"type":"$2",$3,"ipam":{"type":"host-local","dataDir":"$T/ipam","ranges":[[{"subnet":"$4"}]],"routes":[{"dst":"0.0.0.0/0"}]}}${5:+,$5}]}
EOF
}

sandbox() {
	local script
	script=$(cat)
	run --separate-stderr timeout -s KILL 120 unshare --net --mount --pid --fork --kill-child \
		--propagation private --mount-proc \
		env RKT="$RKT" D="$D" T="$T" ACI="$ACI" OUTER_NS="$OUTER_NS" \
		RKT_CNI_PLUGIN_DIR="$T/plugins" bash -c "$(sandbox_prelude)
$script"
}

sandbox_prelude() {
	cat <<'EOF'
set -eu
[ "$(readlink /proc/self/ns/net)" != "$OUTER_NS" ] || { echo "not in a sandbox" >&2; exit 99; }
mount -t tmpfs none /run
ip link set lo up
R() { "$RKT" --dir="$D" --local-config="$T/lc" --system-config="$T/sc" --insecure-options=image "$@"; }
pod_bg() {
	local name=$1
	shift
	R run --uuid-file-save="$T/$name.uuid" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	echo $! >"$T/$name.pid"
}
wait_pod() {
	local n=400
	until [ -s "$T/$1.uuid" ] && R status "$(cat "$T/$1.uuid")" 2>/dev/null | grep -q '^pid='; do
		n=$((n - 1))
		[ $n -gt 0 ] || { echo "pod $1 did not start" >&2; cat "$T/$1.err" >&2; return 1; }
		sleep 0.05
	done
	sleep 0.3
}
stop_pod() {
	local n
	for n in "$@"; do R stop "$(cat "$T/$n.uuid")" >/dev/null || true; done
	for n in "$@"; do wait "$(cat "$T/$n.pid")" || true; done
}
# links (veth names are random: counted), addresses, routes, iptables and nft rules, nsfs
# mounts, mounts under the data dir, host-local leases, CNI caches
snapshot() {
	{
		# a bridge's carrier follows its ports a moment later (linkwatch): the links and routes
		# are compared, not their carrier state
		ip -o link | sed 's/^[0-9]*: //; s/ link\/ether.*//; s/@if[0-9]*//; s/^veth[0-9a-f]*/veth/;
			s/NO-CARRIER,//; s/ state [A-Z]*//'
		ip -o addr | awk '{print $2, $3, $4}'
		ip route | sed 's/ linkdown//'
		iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//'
		nft list ruleset
		grep -c nsfs /proc/self/mountinfo || true
		grep " $D" /proc/self/mountinfo | awk '{print $5}' || true
		find "$T/ipam" -type f | sort
		find "$D" -path '*/net/cni/*' -type f 2>/dev/null || true
	} >"$1"
}
EOF
}

@test "bridge + host-local: eth0 gets the address, reaches the gateway; status shows it; stop + gc leave nothing but the bridge" {
	sandbox <<'EOF'
busybox httpd -p 8000 -h "$T/www"
pod_bg a --net=br1 "$ACI" -- -c '
	ip -4 -o addr show dev eth0 | awk "{print \$4}"; ip route
	timeout 3 wget -q -O - http://10.88.7.1:8000/ || echo wget-failed; sleep 30' ---
wait_pod a
u=$(cat "$T/a.uuid")
R status "$u" | grep networks
R list --no-legend | awk '{print $NF}'
ls "$D"/pods/run/"$u"/net/cni/br1/
ip -o link | grep -c veth
ls "$T/ipam/br1" | grep -c 10.88.7
stop_pod a
cat "$T/a.out"
ip -o link | grep -c veth || true
ls "$T/ipam/br1" | grep -c 10.88.7 || true
R gc --grace-period=0s >/dev/null 2>&1
snapshot "$T/after"
grep -c "CNI-" "$T/after" || true
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	contains "$output" "networks=br1:ip4=10.88.7.2"
	[ "${lines[1]}" = "br1:ip4=10.88.7.2" ] || [ "${lines[1]}" = "ip4=10.88.7.2" ] || contains "${lines[1]}" "10.88.7.2"
	contains "$output" "-eth0.json"
	contains "$output" "10.88.7.2/24"
	contains "$output" "default via 10.88.7.1 dev eth0"
	contains "$output" "host"
	# while running: one veth, one lease; after the pod: none of either, no CNI- chain
	[ "${lines[3]}" = 1 ]
	[ "${lines[4]}" = 1 ]
	[ "${lines[-3]}" = 0 ]
	[ "${lines[-2]}" = 0 ]
	[ "${lines[-1]}" = 0 ]
}

@test "ptp + host-local: eth0 gets the address and reaches the gateway" {
	sandbox <<'EOF'
busybox httpd -p 8000 -h "$T/www"
R run --net=pt1 "$ACI" -- -c '
	ip -4 -o addr show dev eth0 | awk "{print \$4}"; ip route
	timeout 3 wget -q -O - http://10.88.8.1:8000/' ---
ls "$T/ipam/pt1" | grep -c 10.88.8 || true
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "10.88.8.2/24" ]
	contains "$output" "default via 10.88.8.1 dev eth0"
	contains "$output" "host"
	[ "${lines[-1]}" = 0 ]
}

@test "two networks at once: eth0 on the first, eth1 on the second; CNI_ARGS reach the plugins (host-local IP=)" {
	conflist pt2 ptp '"ipMasq":false' 10.88.9.0/24 '{"type":"record"}' >"$T/lc/net.d/30-pt2.conflist"
	sandbox <<'EOF'
R run '--net=br1:IgnoreUnknown=1;IP=10.88.7.42,pt2:IgnoreUnknown=1;FOO=bar' "$ACI" -- -c '
	ip -4 -o addr | awk "{print \$2, \$4}" | grep eth' ---
cat "$T/record.log"
ls "$T/ipam/br1" "$T/ipam/pt2" | grep -c 10.88 || true
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	contains "$output" "eth0 10.88.7.42/24"
	contains "$output" "eth1 10.88.9.2/24"
	contains "$output" "ADD args=IgnoreUnknown=1;FOO=bar ifname=eth1 netns=$D/pods/run/"
	contains "$output" "DEL args=IgnoreUnknown=1;FOO=bar ifname=eth1"
	contains "$output" "prev=True"
	[ "${lines[-1]}" = 0 ]
}

@test "a plugin failing midway: ADD refused naming network, plugin and reason; DEL ran for it and the earlier ones, nothing leaks" {
	conflist bad bridge '"bridge":"cni-bad","isGateway":true,"ipMasq":true' 10.88.10.0/24 '{"type":"fail"}' >"$T/lc/net.d/40-bad.conflist"
	sandbox <<'EOF'
R run --net=br1,bad "$ACI" -- -c 'echo RAN' --- 2>&1 && echo BAD || echo refused
cat "$T/fail.log"
ip -o link | grep -c veth || true
find "$T/ipam" -name '10.88.*' | wc -l
iptables-save | grep -c "CNI-" || true
find "$D" -path '*/net/cni/*' -type f | wc -l
grep -c nsfs /proc/self/mountinfo || true
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	contains "$output" "network 'bad': plugin 'fail' ADD failed (code 999): fake failure: as asked"
	contains "$output" "refused"
	! contains "$output" "RAN" 2>/dev/null
	contains "$output" "ADD eth1"
	contains "$output" "DEL eth1"
	[ "${lines[-5]}" = 0 ]
	[ "${lines[-4]}" = 0 ]
	[ "${lines[-3]}" = 0 ]
	[ "${lines[-2]}" = 0 ]
	[ "${lines[-1]}" = 0 ]
}

@test "kill -9 of the pod's stage1, then gc: DEL from the cache, nothing left compared to the baseline" {
	sandbox <<'EOF'
# a baseline with the shared scaffolding the plugins keep (bridge, empty nat chains)
R run --net=br1,pt1 "$ACI" -- -c true ---
R gc --grace-period=0s >/dev/null 2>&1
snapshot "$T/base"
pod_bg a --net=br1,pt1 "$ACI" -- -c 'sleep 30' ---
wait_pod a
ip -o link | grep -c veth
# the pod's outer rkt-stage1 process: init's parent (init dies with it, PR_SET_PDEATHSIG)
init=$(R status "$(cat "$T/a.uuid")" | sed -n 's/^pid=//p')
kill -9 "$(awk '/^PPid:/ {print $2}' /proc/$init/status)"
wait "$(cat "$T/a.pid")" || true
sleep 0.5
find "$T/ipam" -name '10.88.*' | wc -l
R gc --grace-period=0s >/dev/null 2>&1
snapshot "$T/after"
diff "$T/base" "$T/after" && echo CLEAN
R gc --grace-period=0s >/dev/null 2>&1 && echo GC2-OK
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 2 ]
	[ "${lines[1]}" = 2 ] # the leases outlived stage1: only the cache can free them
	contains "$output" CLEAN
	contains "$output" GC2-OK
}

@test "kill -9 of stage1 while a plugin's ADD runs, then gc: DEL of every plugin that may have acted, nothing left" {
	conflist sl bridge '"bridge":"cni-sl","isGateway":true,"ipMasq":true' 10.88.11.0/24 '{"type":"slow"}' >"$T/lc/net.d/50-sl.conflist"
	sandbox <<'EOF'
R run --net=sl "$ACI" -- -c true ---
R gc --grace-period=0s >/dev/null 2>&1
snapshot "$T/base"
rm -f "$T/slow.log" "$T/slow.started"
pod_bg a --net=sl "$ACI" -- -c 'sleep 30' ---
until [ -e "$T/slow.started" ]; do sleep 0.02; done
# the outer rkt-stage1 (init's parent; its pid file is written before the networks)
init=$(R status "$(cat "$T/a.uuid")" | sed -n 's/^pid=//p')
kill -9 "$(awk '/^PPid:/ {print $2}' /proc/$init/status)"
wait "$(cat "$T/a.pid")" || true
sleep 2.5
find "$T/ipam" -name '10.88.*' | wc -l
R gc --grace-period=0s 2>&1 | grep -v "^rkt: warning" || true
cat "$T/slow.log"
snapshot "$T/after"
diff "$T/base" "$T/after" && echo CLEAN
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	contains "$output" "ADD prev=True"
	contains "$output" "DEL prev=True"
	contains "$output" CLEAN
}

@test "prepare --net=NAME, then run-prepared: the plan's copy of the conflist is used (net.d changed meanwhile)" {
	sandbox <<'EOF'
u=$(R prepare --net=pt1 "$ACI" -- -c 'ip -4 -o addr show dev eth0 | awk "{print \$4}"' --- 2>/dev/null)
rm "$T/lc/net.d/20-pt1.conflist"
R run-prepared "$u"
R run-prepared --net=pt1 "$u" 2>&1 || echo "named-refused-at-run-prepared"
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "10.88.8.2/24" ]
	contains "$output" "named networks are chosen at prepare"
	contains "$output" "named-refused-at-run-prepared"
}

@test "bad conflists and --net lists are refused" {
	sandbox <<'EOF'
R run --net=nope "$ACI" -- -c true --- 2>&1 || echo "missing-refused"
R run --net=br1,br1 "$ACI" -- -c true --- 2>&1 || echo "twice-refused"
R run --net=default,br1 "$ACI" -- -c true --- 2>&1 || echo "mixed-refused"
R run '--net=br1:IP' "$ACI" -- -c true --- 2>&1 || echo "args-refused"
echo '{"cniVersion":"9.9.9","name":"v9","plugins":[{"type":"bridge"}]}' >"$T/lc/net.d/50-v9.conflist"
R run --net=br1 "$ACI" -- -c true --- 2>&1 || echo "version-refused"
rm "$T/lc/net.d/50-v9.conflist"
echo '{"cniVersion":"1.0.0","name":"sl","plugins":[{"type":"../../bin/sh"}]}' >"$T/lc/net.d/50-sl.conflist"
R run --net=sl "$ACI" -- -c true --- 2>&1 || echo "slash-refused"
rm "$T/lc/net.d/50-sl.conflist"
cp "$T/lc/net.d/10-br1.conflist" "$T/lc/net.d/60-dup.conflist"
R run --net=br1 "$ACI" -- -c true --- 2>&1 || echo "dup-refused"
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	contains "$output" "network 'nope': not found in"
	contains "$output" "missing-refused"
	contains "$output" "network 'br1' given twice"
	contains "$output" "twice-refused"
	contains "$output" "mixed-refused"
	contains "$output" "args-refused"
	contains "$output" "cniVersion '9.9.9' is not supported"
	contains "$output" "version-refused"
	contains "$output" "is not a plugin file name"
	contains "$output" "slash-refused"
	contains "$output" "network 'br1' is also declared in 10-br1.conflist"
	contains "$output" "dup-refused"
}
