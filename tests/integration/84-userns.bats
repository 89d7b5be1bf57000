#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# --private-users: the pod's user namespace (uid/gid maps from the registry's range), file
# ownership through the idmapped tree (and the chown'ed-copy fallback), ranges that never
# collide and are freed by rm, and nested user namespaces blocked even without seccomp.
# Same images and helpers as 80-isolators.bats.

load helpers

BASE=2147483648 # the first range of the pool (2^31): every test starts with an empty registry

setup_file() {
	local l=$BATS_FILE_TMPDIR/layout
	probe_layout "$l" sh true cat ls || return 1
	mkdir -p "$l/rootfs/home/user"
	chown 1000:1001 "$l/rootfs/home/user"
	manifest example.com/probe '"exec":["/bin/probe"],"user":"0","group":"0"' >"$l/manifest"
	# a plain tar (an ACI), which keeps the owners: /home/user is 1000:1001 in the image
	tar -C "$l" --numeric-owner -cf "$BATS_FILE_TMPDIR/probe.aci" manifest rootfs
}

setup() {
	pod_setup
	PROBE_ACI=$BATS_FILE_TMPDIR/probe.aci
	# the pool skips ranges in /etc/subuid; the tests expect the first one to be free
	if grep -qs ":$BASE:" /etc/subuid /etc/subgid; then skip "/etc/subuid uses $BASE"; fi
}

teardown() {
	[ -d "$D/pods" ] && "$RKT" --dir="$D" gc --grace-period=0s >/dev/null 2>&1 || true
}

G() { echo --dir="$D" --local-config="$T/lc" --system-config="$T/sc"; }
rk() { rkt_run $(G) "$@"; }
rki() { rkt_run $(G) --insecure-options=image "$@"; }

json() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$output" "$1"
}

only_pod() { ls "$D/pods/$1"; }
plan_base() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["userns"]["uidBase"])' "$1/plan.json"; }

@test "--private-users: uid and gid maps are '0 <base> 65536' from the registry" {
	rki run --private-users "$PROBE_ACI" --exec=/bin/cat -- /proc/self/uid_map /proc/self/gid_map ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ "$(echo "$output" | awk 'NR==1 {print $1, $2, $3}')" = "0 $BASE 65536" ] || fail_with "uid_map: $output"
	[ "$(echo "$output" | awk 'NR==2 {print $1, $2, $3}')" = "0 $BASE 65536" ] || fail_with "gid_map: $output"
	uuid=$(only_pod run)
	[ "$(plan_base "$D/pods/run/$uuid")" = "$BASE" ]
	grep -qx "$uuid $BASE" "$D/userns/registry"
	# the pod's processes really run as the mapped ids on the host
	rki run --private-users "$PROBE_ACI"
	[ "$status" -eq 0 ]
	[ "$(json 'd["uid"]["effective"]')" = 0 ]
}

@test "--private-users: image files keep their owners inside; what the app writes is the range's on the host" {
	mkdir -m 0777 "$T/vol"
	rki run --private-users --volume=v,kind=host,source="$T/vol" --mount=volume=v,target=/vol \
		"$PROBE_ACI" --exec=/bin/sh -- -c 'probe stat /bin/busybox; probe stat /home/user; probe stat /etc/hosts;
		  probe write /vol/out; probe write /new; probe stat /new; probe stat /dev/null' ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	lines=($output)
	contains "${lines[0]}" '"uid":0,"gid":0'
	contains "${lines[1]}" '"uid":1000,"gid":1001'
	contains "${lines[2]}" '"uid":0,"gid":0'
	contains "${lines[5]}" '"uid":0,"gid":0'
	# on the host: the app's files belong to the range, the shared tree was not chown'ed
	[ "$(stat -c %u:%g "$T/vol/out")" = "$BASE:$BASE" ]
	uuid=$(only_pod run)
	[ "$(stat -c %u:%g "$D/pods/run/$uuid/overlay/probe/upper/new")" = "$BASE:$BASE" ]
	tree=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["apps"][0]["tree"])' "$D/pods/run/$uuid/plan.json")
	[ "$(stat -c %u "$tree/bin/busybox")" = 0 ]
	[ "$(stat -c %u "$tree/home/user")" = 1000 ]
	[[ $stderr != *"chown'ed"* ]] || fail_with "fell back to a copy: $stderr"
}

@test "--private-users: an empty volume belongs to the mapped ids; a non-root app writes to it" {
	rki run --private-users --volume=e,kind=empty,uid=1000,gid=1001 --mount=volume=e,target=/e \
		"$PROBE_ACI" --user=1000 --group=1001 --exec=/bin/sh -- -c 'probe stat /e; probe write /e/x' ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	contains "$output" '"uid":1000,"gid":1001'
	contains "$output" '"result":"OK"'
	uuid=$(only_pod run)
	[ "$(stat -c %u:%g "$D/pods/run/$uuid/volumes/e")" = "$((BASE + 1000)):$((BASE + 1001))" ]
	[ "$(stat -c %u:%g "$D/pods/run/$uuid/volumes/e/x")" = "$((BASE + 1000)):$((BASE + 1001))" ]
}

@test "--private-users: root in the pod has no power over host root's files in a volume" {
	mkdir -m 0777 "$T/vol"
	echo secret >"$T/vol/root-only"
	chmod 0600 "$T/vol/root-only"
	rki run --private-users --volume=v,kind=host,source="$T/vol" --mount=volume=v,target=/vol \
		"$PROBE_ACI" --exec=/bin/sh -- -c 'probe write /vol/root-only; probe stat /vol/root-only' ---
	contains "$output" '"result":"EACCES"'
	contains "$output" '"uid":65534,"gid":65534'
	[ "$(cat "$T/vol/root-only")" = secret ]
	# control: without --private-users the same app (CAP_DAC_OVERRIDE) may
	rki run --volume=v,kind=host,source="$T/vol" --mount=volume=v,target=/vol \
		"$PROBE_ACI" --exec=/bin/probe -- write /vol/root-only ---
	contains "$output" '"result":"OK"'
}

@test "--private-users: the chown'ed-copy fallback gives the same ownership" {
	mkdir -m 0777 "$T/vol"
	RKT_TEST_USERNS_CHOWN=1 rki run --private-users --volume=v,kind=host,source="$T/vol" \
		--mount=volume=v,target=/vol "$PROBE_ACI" --exec=/bin/sh -- -c \
		'probe stat /bin/busybox; probe stat /home/user; probe write /vol/out; cat /proc/self/uid_map' ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	contains "$stderr" "chown'ed"
	lines=($output)
	contains "${lines[0]}" '"uid":0,"gid":0'
	contains "${lines[1]}" '"uid":1000,"gid":1001'
	[ "$(stat -c %u:%g "$T/vol/out")" = "$BASE:$BASE" ]
	uuid=$(only_pod run)
	# the copy in the pod is shifted, the tree is not
	[ "$(stat -c %u:%g "$D/pods/run/$uuid/rootfs/probe/bin/busybox")" = "$BASE:$BASE" ]
	[ "$(stat -c %u:%g "$D/pods/run/$uuid/rootfs/probe/home/user")" = "$((BASE + 1000)):$((BASE + 1001))" ]
	# --no-overlay takes the same path
	rki run --private-users --no-overlay "$PROBE_ACI" --exec=/bin/probe -- stat /home/user ---
	[ "$status" -eq 0 ]
	contains "$output" '"uid":1000,"gid":1001'
}

@test "--private-users: concurrent prepares get disjoint ranges; two pods run side by side" {
	for i in 1 2 3 4 5 6; do
		"$RKT" $(G) --insecure-options=image prepare --quiet --net=none --private-users "$PROBE_ACI" \
			--exec=/bin/sh -- -c 'sleep 1; cat /proc/self/uid_map' --- >"$T/uuid$i" 2>"$T/err$i" &
	done
	wait
	for i in 1 2 3 4 5 6; do [ -s "$T/uuid$i" ] || fail_with "prepare $i: $(cat "$T/err$i")"; done
	bases=$(for u in $(ls "$D/pods/prepared"); do plan_base "$D/pods/prepared/$u"; done | sort -n)
	[ "$(echo "$bases" | wc -l)" = 6 ]
	[ "$(echo "$bases" | uniq | wc -l)" = 6 ] || fail_with "shared ranges: $bases"
	[ "$(grep -c . "$D/userns/registry")" = 7 ] # the header and 6 pods
	for b in $bases; do [ $(((b - BASE) % 65536)) = 0 ] && [ "$b" -ge "$BASE" ]; done
	# two of them running at the same time, each in its own range
	u1=$(cat "$T/uuid1") u2=$(cat "$T/uuid2")
	"$RKT" $(G) run-prepared "$u1" >"$T/out1" 2>&1 &
	"$RKT" $(G) run-prepared "$u2" >"$T/out2" 2>&1 &
	wait
	grep -qx " *0 *$(plan_base "$D/pods/run/$u1") *65536" "$T/out1" || fail_with "pod 1: $(cat "$T/out1")"
	grep -qx " *0 *$(plan_base "$D/pods/run/$u2") *65536" "$T/out2" || fail_with "pod 2: $(cat "$T/out2")"
}

@test "--private-users: nested user namespaces are blocked, with and without the seccomp filter" {
	rki run --private-users "$PROBE_ACI" --exec=/bin/sh -- -c 'probe unshare-user; cat /proc/sys/user/max_user_namespaces' ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	contains "$output" '"unshare-user":"EPERM"'
	contains "$output" $'\n0'
	# without seccomp only the per-namespace limit stands: ENOSPC
	rkt_run $(G) --insecure-options=image,seccomp run --private-users "$PROBE_ACI" --exec=/bin/probe -- unshare-user ---
	contains "$output" '"unshare-user":"ENOSPC"'
	# ... and the app cannot lift it (its /proc/sys is read-only, even with CAP_SYS_RESOURCE)
	rkt_run $(G) --insecure-options=image,seccomp run --private-users "$PROBE_ACI" --caps-retain=CAP_SYS_RESOURCE,CAP_SYS_ADMIN \
		--exec=/bin/sh -- -c 'echo 10 >/proc/sys/user/max_user_namespaces; probe unshare-user' ---
	contains "$output" '"unshare-user":"ENOSPC"'
	# control: the same pod without --private-users can (so ENOSPC above is the defence's)
	rkt_run $(G) --insecure-options=image,seccomp run "$PROBE_ACI" --exec=/bin/probe -- unshare-user ---
	contains "$output" '"unshare-user":"OK"'
}

@test "--private-users: root in the pod keeps its default capabilities inside; a non-root user works" {
	rki run --private-users "$PROBE_ACI"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ "$(json 'd["CapEff"]')" = 00000000800405fb ]
	[ "$(json 'd["NoNewPrivs"]')" = 1 ]
	rki run --private-users "$PROBE_ACI" --user=1000 --group=1001 --exec=/bin/probe -- stat /proc/self/. ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	contains "$output" '"uid":1000,"gid":1001'
}

@test "--private-users: rm and gc free the range; a corrupt registry is an error, not a fresh pool" {
	rki prepare --quiet --private-users "$PROBE_ACI"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	u1=$output
	rki prepare --quiet --private-users "$PROBE_ACI"
	u2=$output
	[ "$(plan_base "$D/pods/prepared/$u2")" = $((BASE + 65536)) ]
	rk rm "$u1"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	! grep -q "$u1" "$D/userns/registry"
	grep -q "$u2 $((BASE + 65536))" "$D/userns/registry"
	# the freed (lowest) range is handed out again
	rki prepare --quiet --private-users "$PROBE_ACI"
	u3=$output
	[ "$(plan_base "$D/pods/prepared/$u3")" = "$BASE" ]
	# a pod that ran and is collected by gc frees its range too
	rk run-prepared "$u3"
	[ "$status" -eq 0 ]
	rk gc --grace-period=0s
	! grep -q "$u3" "$D/userns/registry"
	# corrupt: refused with a message that says so
	echo "garbage line" >>"$D/userns/registry"
	rki prepare --quiet --private-users "$PROBE_ACI"
	[ "$status" -ne 0 ]
	contains "$stderr" "corrupt"
}

@test "--private-users: an app id outside the 65536 mapped ids is refused at prepare" {
	rki prepare --private-users "$PROBE_ACI" --user=70000
	[ "$status" -ne 0 ]
	contains "$stderr" "outside the pod's user namespace"
	# the failed prepare gave its range back
	[ "$(grep -c . "$D/userns/registry")" = 1 ]
}

@test "without --private-users nothing changes: host maps, no registry, no userns in the plan" {
	rki run "$PROBE_ACI" --exec=/bin/sh -- -c 'cat /proc/self/uid_map; probe stat /bin/busybox' ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ "$(echo "$output" | awk 'NR==1 {print $1, $2, $3}')" = "0 0 4294967295" ]
	contains "$output" '"uid":0,"gid":0'
	[ ! -e "$D/userns" ]
	uuid=$(only_pod run)
	! grep -q userns "$D/pods/run/$uuid/plan.json"
}
