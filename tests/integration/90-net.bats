#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Networking (--net=default, default-restricted, --port, teardown). Every test runs rkt inside
# a sandbox of its own (network.md §6): `unshare --net --mount --pid --fork --kill-child`,
# whose network namespace has no interface to the outside. In it: the "fake host" (where rkt
# and its pods' host ends live), a "client" network namespace joined to it by a veth
# (10.99.0.1 <-> 10.99.0.2, the LAN), and the pods. No packet can leave namespaces the test
# made; the host's interfaces and nftables ruleset are never touched (the sandbox refuses to
# run in the netns the test started in). Killing the sandbox frees every namespace, link and
# table it made.

load helpers

setup_file() {
	local b=${RKT_BUILD:-build}
	case $b in /*) ;; *) b=$REPO_ROOT/$b ;; esac
	command -v busybox >/dev/null || skip "busybox-static is needed"
	command -v nft >/dev/null || skip "nft (nftables) is needed for the checks"
	local l=$BATS_FILE_TMPDIR/layout
	probe_layout "$l" sh sleep cat echo ip wget httpd ls timeout
	mkdir -p "$l/rootfs/www" "$l/rootfs/www81"
	echo pod80 >"$l/rootfs/www/index.html"
	echo pod81 >"$l/rootfs/www81/index.html"
	manifest example.com/net '"exec":["/bin/sh"],"user":"0","group":"0",
	  "ports":[{"name":"http","protocol":"tcp","port":80},{"name":"dns","protocol":"udp","port":53},
	           {"name":"alt","protocol":"tcp","port":81}]' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/net.aci" >/dev/null
}

setup() {
	pod_setup
	NET_ACI=$BATS_FILE_TMPDIR/net.aci
	OUTER_NS=$(readlink /proc/self/ns/net)
	# the client's web root: index, and a CGI printing the peer's address
	mkdir -p "$T/cl/cgi-bin"
	echo client >"$T/cl/index.html"
	printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n' >"$T/cl/cgi-bin/ip"
	chmod 0755 "$T/cl/cgi-bin/ip"
}

# sandbox: run the script on stdin inside a fresh sandbox (see above). Its stdout and stderr
# land in $output / $stderr, the status in $status. The script gets: R (rkt with this test's
# dirs), C (a command in the client's netns), pod_bg NAME ARGS (a pod in the background, its
# UUID in $T/NAME.uuid), wait_pod NAME (until it runs), snapshot FILE (links, addresses,
# routes, nft ruleset, nsfs mounts, leases).
sandbox() {
	local script
	script=$(cat)
	run --separate-stderr timeout -s KILL 120 unshare --net --mount --pid --fork --kill-child \
		--propagation private --mount-proc \
		env RKT="$RKT" D="$D" T="$T" NET_ACI="$NET_ACI" OUTER_NS="$OUTER_NS" \
		bash -c "$(sandbox_prelude)
$script"
}

sandbox_prelude() {
	cat <<'EOF'
set -eu
[ "$(readlink /proc/self/ns/net)" != "$OUTER_NS" ] || { echo "not in a sandbox" >&2; exit 99; }
ip link set lo up
unshare --net sleep 1000 &
CL=$!
while [ "$(readlink /proc/$CL/ns/net 2>/dev/null)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
ip link add up0 type veth peer name cl0 netns "$CL"
ip addr add 10.99.0.1/24 dev up0
ip link set up0 up
C() { nsenter --net=/proc/$CL/ns/net "$@"; }
C ip link set lo up
C ip addr add 10.99.0.2/24 dev cl0
C ip link set cl0 up
R() { "$RKT" --dir="$D" --local-config="$T/lc" --system-config="$T/sc" --insecure-options=image "$@"; }
Rx() { exec "$RKT" --dir="$D" --local-config="$T/lc" --system-config="$T/sc" --insecure-options=image "$@"; }
pod_bg() {
	local name=$1
	shift
	R run --uuid-file-save="$T/$name.uuid" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	echo $! >"$T/$name.pid"
}
# stop_pod NAME...: rkt stop, then wait for each (never a bare wait: the client's holder is a job)
stop_pod() {
	local n
	for n in "$@"; do R stop "$(cat "$T/$n.uuid")" >/dev/null || true; done
	for n in "$@"; do wait "$(cat "$T/$n.pid")" || true; done
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
snapshot() {
	{
		ip -o link | sed 's/^[0-9]*: //; s/ link\/ether.*//; s/@if[0-9]*//'
		ip -o addr | awk '{print $2, $3, $4}'
		ip route
		nft list ruleset
		grep -c nsfs /proc/self/mountinfo || true
		grep " $D" /proc/self/mountinfo | awk '{print $5}' || true
		cat "$D/net/leases" 2>/dev/null | tail -n +2
	} >"$1"
}
snapshot "$T/base"
EOF
}

@test "default: eth0 with a /32 and no IPv6, a default route via the gateway, lo up; reaches the host and, masqueraded, the LAN" {
	sandbox <<'EOF'
busybox httpd -p 8000 -h "$T/cl"
C busybox httpd -p 10.99.0.2:80 -h "$T/cl"
R run --net=default "$NET_ACI" -- -c '
	ip -o addr show dev eth0 | awk "{print \$4}"; ip route; cat /sys/class/net/lo/operstate
	wget -q -O - http://172.16.28.1:8000/ ; wget -q -O - http://10.99.0.2/cgi-bin/ip' ---
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "172.16.28.2/32" ]
	contains "$output" "default via 172.16.28.1 dev eth0"
	contains "$output" "172.16.28.1 dev eth0 scope link"
	[ "${lines[3]}" = "unknown" ] # lo: up, no carrier semantics
	[ "${lines[4]}" = "client" ]
	[ "${lines[5]}" = "10.99.0.1" ] # the client saw the fake host's address
}

@test "default-restricted: the host only; no default route, nothing forwarded to the LAN" {
	sandbox <<'EOF'
busybox httpd -p 8000 -h "$T/cl"
C busybox httpd -p 10.99.0.2:80 -h "$T/cl"
R run --net=default-restricted "$NET_ACI" -- -c '
	ip -4 -o addr show dev eth0 | awk "{print \$4}"; ip route
	wget -q -O - http://172.31.0.1:8000/
	timeout 2 wget -q -O - http://10.99.0.2/ && echo LAN-REACHED || echo no-lan' ---
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "172.31.0.2/32" ]
	! contains "$output" "default via" 2>/dev/null
	contains "$output" "172.31.0.0/16 via 172.31.0.1 dev eth0"
	contains "$output" "client"
	[ "${lines[-1]}" = "no-lan" ]
}

@test "rkt list and status show the pod's address (table and JSON)" {
	sandbox <<'EOF'
pod_bg a --net=default "$NET_ACI" -- -c 'sleep 30' ---
wait_pod a
u=$(cat "$T/a.uuid")
R list --no-legend
R status "$u"
R --format=json status "$u"
R --format=json list
stop_pod a
R gc --grace-period=0s >/dev/null 2>&1
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	contains "${lines[0]}" "default:ip4=172.16.28.2"
	contains "$output" "networks=default:ip4=172.16.28.2"
	contains "$output" '"networks":[{"netName":"default","ifName":"eth0","ip":"172.16.28.2"}]'
}

@test "--port: from the LAN, from the host and its loopback, hairpin; unpublished ports unreachable; udp" {
	sandbox <<'EOF'
pod_bg web --net=default --port=http:8080 --port=dns:5353 "$NET_ACI" -- -c '
	httpd -p 80 -h /www; httpd -p 81 -h /www81; probe udp-recv 53 >/udp & sleep 30' ---
wait_pod web
echo "lan: $(C wget -q -t 1 -T 3 -O - http://10.99.0.1:8080/ || echo fail)"
echo "host: $(wget -q -t 1 -T 3 -O - http://10.99.0.1:8080/ || echo fail)"
echo "loopback: $(wget -q -t 1 -T 3 -O - http://127.0.0.1:8080/ || echo fail)"
# the malicious neighbour routes the pod subnet through the fake host
C ip route add 172.16.28.0/24 via 10.99.0.1
echo "unpublished: $(C wget -q -t 1 -T 2 -O - http://172.16.28.2:81/ || echo fail)"
echo "direct-published: $(C wget -q -t 1 -T 2 -O - http://172.16.28.2:80/ || echo fail)"
# a second pod: the first's published port through the gateway, not its unpublished one
R run --net=default "$NET_ACI" -- -c '
	echo "hairpin: $(timeout 3 wget -q -O - http://172.16.28.1:8080/ || echo fail)"
	echo "pod-to-pod-unpublished: $(timeout 2 wget -q -O - http://172.16.28.2:81/ || echo fail)"
	echo "pod-to-pod-80: $(timeout 2 wget -q -O - http://172.16.28.2:80/ || echo fail)"' ---
C "$(dirname "$RKT")/probe" udp-send 10.99.0.1 5353 hello-udp
sleep 0.5
u=$(cat "$T/web.uuid")
R enter "$u" /bin/cat /udp | sed 's/^/udp: /' || true
stop_pod web
R gc --grace-period=0s >/dev/null 2>&1
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	contains "$output" "lan: pod80"
	contains "$output" "host: pod80"
	contains "$output" "loopback: pod80"
	contains "$output" "unpublished: fail"
	contains "$output" "direct-published: fail"
	contains "$output" "hairpin: pod80"
	contains "$output" "pod-to-pod-unpublished: fail"
	contains "$output" "pod-to-pod-80: fail"
	contains "$output" "udp: hello-udp"
}

@test "--port: refused with host and none, for an unknown name, and when another pod has the host port" {
	sandbox <<'EOF'
R run --net=host --port=http:8080 "$NET_ACI" 2>&1 && echo BAD || echo "host-refused"
R run --net=none --port=http:8080 "$NET_ACI" 2>&1 && echo BAD || echo "none-refused"
R run --net=default --port=nope:8080 "$NET_ACI" -- -c true --- 2>&1 || echo "unknown-refused"
pod_bg a --net=default --port=http:8080 "$NET_ACI" -- -c 'sleep 30' ---
wait_pod a
R run --net=default --port=alt:10.99.0.1:8080 "$NET_ACI" -- -c true --- 2>&1 || echo "clash-refused"
R run --net=default --port=http:udp-free:1 "$NET_ACI" 2>&1 || echo "syntax-refused"
R run --net=default --port=dns:8080 "$NET_ACI" -- -c 'echo udp-8080-ok' --- 2>&1
stop_pod a
R gc --grace-period=0s >/dev/null 2>&1
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	contains "$output" "host-refused"
	contains "$output" "none-refused"
	contains "$output" "no app has a port named so"
	contains "$output" "is forwarded to pod"
	contains "$output" "clash-refused"
	contains "$output" "syntax-refused"
	contains "$output" "udp-8080-ok"
}

@test "the 127.0.0.0/8 filter: a LAN packet for the host's loopback is dropped even with route_localnet" {
	sandbox <<'EOF'
pod_bg web --net=default --port=http:8080 "$NET_ACI" -- -c 'httpd -p 80 -h /www; sleep 30' ---
wait_pod web
busybox httpd -p 127.0.0.1:9000 -h "$T/cl"
# the client sends to 127.0.0.1 through the fake host (its own 127/8 route removed), and the
# fake host's LAN interface accepts such packets (route_localnet): only rkt's rule stops them
C ip route del local 127.0.0.1 dev lo table local
C ip route del local 127.0.0.0/8 dev lo table local
C ip route add 127.0.0.0/8 via 10.99.0.1
C sysctl -qw net.ipv4.conf.cl0.route_localnet=1
sysctl -qw net.ipv4.conf.up0.route_localnet=1
echo "martian-9000: $(C wget -q -t 1 -T 2 -O - http://127.0.0.1:9000/ || echo fail)"
echo "martian-8080: $(C wget -q -t 1 -T 2 -O - http://127.0.0.1:8080/ || echo fail)"
nft list chain inet rkt raw-prerouting | grep "127.0.0.0/8 counter"
stop_pod web
R gc --grace-period=0s >/dev/null 2>&1
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	contains "$output" "martian-9000: fail"
	contains "$output" "martian-8080: fail"
	# they did reach the fake host, and this rule dropped them
	[[ "$output" =~ "counter packets "[1-9] ]]
}

@test "teardown: after gc nothing is left (links, addresses, routes, nft, leases, mounts); a second gc is a no-op" {
	sandbox <<'EOF'
pod_bg a --net=default --port=http:8080 "$NET_ACI" -- -c 'sleep 30' ---
pod_bg b --net=default-restricted "$NET_ACI" -- -c 'sleep 30' ---
wait_pod a
wait_pod b
ip -o link | grep -c rkt
nft list table inet rkt | grep -c "dnat ip to"
sed 1d "$D/net/leases" | wc -l
stop_pod a b
R gc --grace-period=0s >/dev/null 2>&1
snapshot "$T/after"
diff "$T/base" "$T/after" && echo CLEAN
R gc --grace-period=0s >/dev/null 2>&1 && echo GC2-OK
snapshot "$T/after2"
diff "$T/base" "$T/after2" && echo CLEAN2
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 2 ]
	[ "${lines[1]}" = 2 ]
	[ "${lines[2]}" = 2 ]
	contains "$output" CLEAN
	contains "$output" GC2-OK
	contains "$output" CLEAN2
}

@test "teardown: kill -9 of the pod at start and while running, then gc, leaves nothing" {
	sandbox <<'EOF'
# killed while running
pod_bg a --net=default --port=http:8080 "$NET_ACI" -- -c 'sleep 30' ---
wait_pod a
kill -9 "$(R status "$(cat "$T/a.uuid")" | sed -n 's/^pid=//p')"
wait "$(cat "$T/a.pid")" || true
# killed at start, at several points
for d in 0 0.01 0.03 0.06 0.1; do
	(Rx run --net=default --port=http:808$((RANDOM % 10)) "$NET_ACI" -- -c 'sleep 30' --- >/dev/null 2>&1) &
	p=$! # rkt, then (exec) rkt-stage1
	sleep $d
	kill -9 $p 2>/dev/null || true
	wait $p 2>/dev/null || true
done
sleep 0.3
R gc --grace-period=0s >/dev/null 2>&1 || true
R gc --grace-period=0s --expire-prepared=0s >/dev/null 2>&1 || true
R list --no-legend | wc -l
snapshot "$T/after"
diff "$T/base" "$T/after" && echo CLEAN
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	contains "$output" CLEAN
}

@test "the rkt table comes back after something flushed the ruleset (rkt gc rebuilds it)" {
	sandbox <<'EOF'
pod_bg web --net=default --port=http:8080 "$NET_ACI" -- -c 'httpd -p 80 -h /www; sleep 30' ---
wait_pod web
nft flush ruleset
echo "flushed: $(C wget -q -t 1 -T 2 -O - http://10.99.0.1:8080/ || echo fail)"
R gc >/dev/null 2>&1
echo "rebuilt: $(C wget -q -t 1 -T 3 -O - http://10.99.0.1:8080/ || echo fail)"
# a table of that name declared otherwise (another chain priority) is replaced whole
nft delete table inet rkt
nft add table inet rkt
nft add chain inet rkt forward '{ type filter hook forward priority 10; }'
R gc >/dev/null 2>&1
nft list chain inet rkt forward | grep -o "priority filter"
echo "replaced: $(C wget -q -t 1 -T 3 -O - http://10.99.0.1:8080/ || echo fail)"
stop_pod web
R gc --grace-period=0s >/dev/null 2>&1
nft list ruleset | wc -l
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	contains "$output" "flushed: fail"
	contains "$output" "rebuilt: pod80"
	contains "$output" "priority filter"
	contains "$output" "replaced: pod80"
	[ "${lines[-1]}" = 0 ]
}

@test "none: only lo; host: the sandbox's own interfaces" {
	sandbox <<'EOF'
R run --net=none "$NET_ACI" -- -c 'ls /sys/class/net' ---
echo ---
R run --net=host "$NET_ACI" -- -c 'ls /sys/class/net' ---
EOF
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = lo ]
	[ "${lines[1]}" = --- ]
	contains "$output" up0
}

@test "--private-users: the veth's pod end lands in the namespace the pod's user namespace owns" {
	sandbox <<'EOF2'
busybox httpd -p 8000 -h "$T/cl"
R run --private-users "$NET_ACI" -- -c '
	ip -o addr show dev eth0 | awk "{print \$4}"; cat /proc/self/uid_map
	wget -q -O - http://172.16.28.1:8000/' ---
R gc --grace-period=0s >/dev/null 2>&1
snapshot "$T/after"
diff "$T/base" "$T/after" && echo CLEAN
EOF2
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "172.16.28.2/32" ]
	[[ "${lines[1]}" =~ ^\ +0\ +[1-9][0-9]+\ +65536$ ]]
	[ "${lines[2]}" = client ]
	contains "$output" CLEAN
}

@test "concurrent starts get distinct addresses (no --net: default), and all of them are released" {
	sandbox <<'EOF2'
for i in 1 2 3 4 5 6; do pod_bg p$i "$NET_ACI" -- -c 'sleep 30' ---; done
for i in 1 2 3 4 5 6; do wait_pod p$i; done
R list --no-legend | awk '{print $NF}' | sort -u | wc -l
R list --no-legend | grep -c 'default:ip4=172.16.28.'
stop_pod p1 p2 p3 p4 p5 p6
R gc --grace-period=0s >/dev/null 2>&1
snapshot "$T/after"
diff "$T/base" "$T/after" && echo CLEAN
EOF2
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 6 ]
	[ "${lines[1]}" = 6 ]
	contains "$output" CLEAN
}
