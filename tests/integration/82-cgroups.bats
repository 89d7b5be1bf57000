#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Cgroups per pod and app (src/stage1/PLAN.md "Cgroups"): limits in the host's cgroup files and
# seen from inside, a fork bomb stopped by the pids limit, a memory hog OOM-killed at its
# limit, no way to write a limit or mount cgroupfs from inside, gc removing every cgroup, and
# the errors. Real cgroups (this host: v1 controllers), real processes.

load helpers

CG=/sys/fs/cgroup

setup_file() {
	local l=$BATS_FILE_TMPDIR/layout
	probe_layout "$l" sh true cat echo sleep || return 1
	manifest example.com/probe '"exec":["/bin/probe"],"user":"0","group":"0"' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/probe.aci" >/dev/null
	# image isolators: 48Mi of memory, 250m of CPU, oom_score_adj 300
	manifest example.com/limited '"exec":["/bin/probe"],"user":"0","group":"0","isolators":[
	  {"name":"resource/memory","value":{"limit":"48Mi"}},
	  {"name":"resource/cpu","value":{"limit":"250m"}},
	  {"name":"os/linux/oom-score-adj","value":300}]' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/limited.aci" >/dev/null
}

setup() {
	pod_setup
	[ -d $CG/pids ] && [ -d $CG/memory ] && [ -d $CG/cpu ] || skip "needs the v1 memory, cpu and pids controllers"
	PROBE_ACI=$BATS_FILE_TMPDIR/probe.aci
	LIMITED_ACI=$BATS_FILE_TMPDIR/limited.aci
}

teardown() {
	[ -d "$D/pods" ] && "$RKT" --dir="$D" gc --grace-period=0s >/dev/null 2>&1 || true
}

G() { echo --dir="$D" --local-config="$T/lc" --system-config="$T/sc"; }
rk() { rkt_run $(G) "$@"; }
rki() { rkt_run $(G) --insecure-options=image "$@"; }
uuid() { cat "$T/uuid"; }

json() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$output" "$1"
}

@test "limits land in the app's cgroup files; inside, /proc/self/cgroup is relative to the pod" {
	rki run --uuid-file-save="$T/uuid" "$PROBE_ACI" --memory=64Mi --cpu=500m --cpu-shares=512 \
		--oom-score-adj=250 --exec=/bin/sh -- -c 'cat /proc/self/cgroup /proc/self/oom_score_adj' ---
	[ "$status" -eq 0 ] || fail_with "status $status: $stderr"
	contains "$output" "memory:/probe"
	contains "$output" "pids:/probe"
	contains "$output" "cpu:/probe"
	[[ $output != *rkt* ]] || fail_with "the host's path shows inside: $output"
	[ "$(echo "$output" | tail -1)" = 250 ]
	local u
	u=$(uuid)
	[ "$(cat $CG/memory/rkt/$u/probe/memory.limit_in_bytes)" = 67108864 ]
	[ "$(cat $CG/memory/rkt/$u/probe/memory.memsw.limit_in_bytes 2>/dev/null || echo 67108864)" = 67108864 ]
	[ "$(cat $CG/cpu/rkt/$u/probe/cpu.cfs_quota_us)" = 50000 ]
	[ "$(cat $CG/cpu/rkt/$u/probe/cpu.cfs_period_us)" = 100000 ]
	[ "$(cat $CG/cpu/rkt/$u/probe/cpu.shares)" = 512 ]
	[ "$(cat $CG/pids/rkt/$u/probe/pids.max)" = 2048 ] # the default
	# the plan carries them
	run python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["apps"][0]; print(a["cgroup"], a["oomScoreAdj"])' "$D/pods/run/$u/plan.json"
	[ "$output" = "{'memoryMax': 67108864, 'cpuMilli': 500, 'cpuShares': 512, 'pidsMax': 2048} 250" ]
}

@test "image isolators set limits; flags win over them; two apps get two cgroups" {
	rki run --uuid-file-save="$T/uuid" --pids-limit=100 "$LIMITED_ACI" --exec=/bin/true \
		"$PROBE_ACI" --name=second --memory=32Mi --exec=/bin/true
	[ "$status" -eq 0 ] || fail_with "status $status: $stderr"
	local u
	u=$(uuid)
	[ "$(cat $CG/memory/rkt/$u/limited/memory.limit_in_bytes)" = $((48 << 20)) ]
	[ "$(cat $CG/cpu/rkt/$u/limited/cpu.cfs_quota_us)" = 25000 ]
	[ "$(cat $CG/memory/rkt/$u/second/memory.limit_in_bytes)" = $((32 << 20)) ]
	[ "$(cat $CG/cpu/rkt/$u/second/cpu.cfs_quota_us)" = -1 ]
	[ "$(cat $CG/pids/rkt/$u/limited/pids.max)" = 100 ]
	[ "$(cat $CG/pids/rkt/$u/second/pids.max)" = 100 ]
	rki run "$LIMITED_ACI" --memory=16Mi --exec=/bin/cat -- /proc/self/oom_score_adj ---
	[ "$status" -eq 0 ]
	[ "$output" = 300 ] # the image's
	rki run "$LIMITED_ACI" --memory=16Mi --oom-score-adj=700 --exec=/bin/cat -- /proc/self/oom_score_adj ---
	[ "$status" -eq 0 ]
	[ "$output" = 700 ]
	# lowering it takes CAP_SYS_RESOURCE, which this rkt may not have: then a clear failure
	rki run "$LIMITED_ACI" --oom-score-adj=-7 --exec=/bin/cat -- /proc/self/oom_score_adj ---
	if (($(printf '%d' 0x$(awk '$1 == "CapBnd:" {print $2}' /proc/self/status)) >> 24 & 1)); then
		[ "$status" -eq 0 ] && [ "$output" = -7 ]
	else
		[ "$status" -eq 125 ]
		contains "$stderr" "cannot set oom_score_adj -7"
	fi
}

@test "a fork bomb stops at the pids limit (and would not without it)" {
	rki run --uuid-file-save="$T/uuid" --pids-limit=64 "$PROBE_ACI" --exec=/bin/probe -- forkbomb 2000 ---
	[ "$status" -eq 0 ] || fail_with "status $status: $stderr"
	[ "$(json 'd["forkbomb"]["errno"]')" = EAGAIN ]
	[ "$(json 'd["forkbomb"]["forked"]')" -eq 63 ] # 64 with the probe itself
	[ "$(awk '$1 == "max" {print $2}' $CG/pids/rkt/$(uuid)/probe/pids.events)" -ge 1 ]
	# the default limit holds too
	rki run "$PROBE_ACI" --exec=/bin/probe -- forkbomb 3000 ---
	[ "$status" -eq 0 ]
	[ "$(json 'd["forkbomb"]["errno"]')" = EAGAIN ]
	[ "$(json 'd["forkbomb"]["forked"]')" -eq 2047 ]
	# without a limit the same bomb gets all it asks for (with a warning)
	rki run --pids-limit=max "$PROBE_ACI" --exec=/bin/probe -- forkbomb 300 ---
	[ "$status" -eq 0 ]
	[ "$(json 'd["forkbomb"]["forked"]')" -eq 300 ]
	contains "$stderr" "--pids-limit=max"
}

@test "a memory hog is OOM-killed at its limit (137), with the kernel's evidence" {
	rki run --uuid-file-save="$T/uuid" "$PROBE_ACI" --memory=32Mi --exec=/bin/probe -- alloc 200 ---
	[ "$status" -eq 137 ] || fail_with "status $status: $output $stderr"
	local m=$CG/memory/rkt/$(uuid)/probe
	[ "$(awk '$1 == "oom_kill" {print $2}' $m/memory.oom_control)" -ge 1 ]
	# it reached the limit, and no further
	[ "$(cat $m/memory.max_usage_in_bytes)" -ge $((31 << 20)) ]
	[ "$(cat $m/memory.max_usage_in_bytes)" -le $((32 << 20)) ]
	# the same program below its limit lives
	rki run "$PROBE_ACI" --memory=256Mi --exec=/bin/probe -- alloc 64 ---
	[ "$status" -eq 0 ]
	[ "$(json 'd["alloc"]["mib"]')" = 64 ]
}

@test "the app cannot write its limits: /sys/fs/cgroup is empty and read-only inside" {
	rki run "$PROBE_ACI" --memory=32Mi --exec=/bin/probe -- write /sys/fs/cgroup/memory/memory.limit_in_bytes ---
	[ "$status" -ne 0 ]
	[ "$(json 'd["write"]["result"]')" != OK ]
	rki run "$PROBE_ACI" --exec=/bin/probe -- write /sys/fs/cgroup/release_agent ---
	[ "$status" -ne 0 ]
	[ "$(json 'd["write"]["result"]')" != OK ]
	rki run "$PROBE_ACI" --exec=/bin/probe -- write /sys/fs/cgroup/x ---
	[ "$(json 'd["write"]["result"]')" != OK ]
	rki run "$PROBE_ACI" --exec=/bin/sh -- -c 'ls -A /sys/fs/cgroup | wc -l' ---
	[ "$output" = 0 ]
	# nor through the cgroup fds init holds: they are not the app's, and init is not dumpable
	rki run "$PROBE_ACI" --memory=32Mi --exec=/bin/sh -- -c 'n=0; for f in /proc/1/fd/*; do echo 0 2>/dev/null >"$f" && n=$((n+1)); done; echo $n; ls /proc/self/fd' ---
	[ "$(echo $output)" = "0 0 1 2 3" ] || fail_with "writable init fds, app fds: $output"
}

@test "the app cannot mount cgroupfs: seccomp, the missing CAP_SYS_ADMIN and Landlock each stop it" {
	rki run "$PROBE_ACI" --exec=/bin/probe -- cgmount ---
	[ "$status" -eq 0 ]
	[ "$(json 'd["cgmount"]["cgroup"]')" = EPERM ]
	[ "$(json 'd["cgmount"]["cgroup2"]')" = EPERM ]
	# without the filter, no CAP_SYS_ADMIN still refuses it
	rkt_run $(G) --insecure-options=image,seccomp run "$PROBE_ACI" --exec=/bin/probe -- cgmount ---
	[ "$(json 'd["cgmount"]["cgroup"]')" = EPERM ]
	[ "$(json 'd["cgmount"]["cgroup2"]')" = EPERM ]
	# with all capabilities, Landlock (a domain may not mount) still refuses it
	rkt_run $(G) --insecure-options=image,seccomp,capabilities run "$PROBE_ACI" --exec=/bin/probe -- cgmount ---
	[ "$(json 'd["cgmount"]["cgroup"]')" = EPERM ]
	[ "$(json 'd["cgmount"]["cgroup2"]')" = EPERM ]
	# with none of the three the probe would succeed: the test detects a hole
	rkt_run $(G) --insecure-options=image,seccomp,capabilities,landlock run "$PROBE_ACI" --exec=/bin/probe -- cgmount ---
	[ "$(json 'd["cgmount"]["cgroup"]')" = OK ]
}

@test "rkt gc and rkt rm remove every cgroup of the pod" {
	rki run --uuid-file-save="$T/uuid" "$PROBE_ACI" --memory=32Mi --cpu=1 --exec=/bin/true
	[ "$status" -eq 0 ]
	local u c
	u=$(uuid)
	for c in memory cpu pids; do [ -d $CG/$c/rkt/$u/probe ] || fail_with "no $c cgroup"; done
	rk gc --grace-period=0s
	[ "$status" -eq 0 ] || fail_with "$stderr"
	for c in memory cpu pids; do [ ! -e $CG/$c/rkt/$u ] || fail_with "$c/rkt/$u is left"; done
	rki run --uuid-file-save="$T/uuid" "$PROBE_ACI" --exec=/bin/true
	[ "$status" -eq 0 ]
	u=$(uuid)
	[ -d $CG/pids/rkt/$u/probe ]
	rk rm "$u"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ ! -e $CG/pids/rkt/$u ]
}

@test "bad limit values are usage errors (exit 2, one line)" {
	local f
	for f in --memory=abc --memory=1k --cpu=abc --cpu=5m --cpu-shares=1 --oom-score-adj=2000; do
		rki run "$PROBE_ACI" $f
		[ "$status" -eq 2 ] || fail_with "$f: status $status"
		contains "$stderr" "${f%%=*}: '${f#*=}'"
		[ "$(echo "$stderr" | wc -l)" -eq 1 ] || fail_with "$f: $stderr"
	done
	rki run --pids-limit=x "$PROBE_ACI"
	[ "$status" -eq 2 ]
	contains "$stderr" "--pids-limit: 'x'"
	[ ! -d "$D/pods/run" ] || [ -z "$(ls -A "$D/pods/run")" ]
}

@test "a missing controller is refused unless --insecure-options=cgroups (warned and audited)" {
	command -v unshare >/dev/null || skip "no unshare"
	# a private mount namespace in which the pids hierarchy is gone
	run --separate-stderr unshare -m sh -c "mount -t tmpfs none $CG/pids && $RKT $(G) --insecure-options=image run --net=none $PROBE_ACI --exec=/bin/true"
	[ "$status" -eq 125 ] || fail_with "status $status: $stderr"
	contains "$stderr" "no usable pids cgroup controller"
	contains "$stderr" "--insecure-options=cgroups"
	run --separate-stderr unshare -m sh -c "mount -t tmpfs none $CG/pids && $RKT $(G) --insecure-options=image,cgroups run --net=none $PROBE_ACI --memory=32Mi --exec=/bin/true"
	[ "$status" -eq 0 ] || fail_with "status $status: $stderr"
	contains "$stderr" "--insecure-options=cgroups"
	contains "$stderr" "without its pids limits"
	rk audit list --event=run --format=json
	contains "$output" '"cgroups":"optional (insecure)"'
}

@test "prepare records the limits in the pod manifest; run-prepared and --pod-manifest apply them" {
	rki prepare --pids-limit=50 "$PROBE_ACI" --memory=40Mi --cpu-shares=300
	[ "$status" -eq 0 ]
	local u=$output
	rk cat-manifest "$u"
	contains "$output" '"resource/memory"'
	contains "$output" '"os/linux/cpu-shares"'
	echo "$output" >"$T/pod.json"
	rk run-prepared "$u"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ "$(cat $CG/memory/rkt/$u/probe/memory.limit_in_bytes)" = $((40 << 20)) ]
	[ "$(cat $CG/cpu/rkt/$u/probe/cpu.shares)" = 300 ]
	[ "$(cat $CG/pids/rkt/$u/probe/pids.max)" = 50 ]
	# a pod-level resource isolator applies to an app without its own
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
d["isolators"]=[{"name":"resource/cpu","value":{"limit":"200m"}},{"name":"resource/memory","value":{"limit":"1Gi"}}]
json.dump(d, open(sys.argv[1],"w"))' "$T/pod.json"
	rki run --uuid-file-save="$T/uuid" --pod-manifest="$T/pod.json"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	u=$(uuid)
	[ "$(cat $CG/cpu/rkt/$u/probe/cpu.cfs_quota_us)" = 20000 ]
	[ "$(cat $CG/memory/rkt/$u/probe/memory.limit_in_bytes)" = $((40 << 20)) ] # the app's own
	[ "$(cat $CG/pids/rkt/$u/probe/pids.max)" = 2048 ]
}

@test "v2 mechanics on this hybrid host's cgroup2 (no controllers there): clone3 into the cgroups, init in _init, gc" {
	[ "$(stat -f -c %T $CG/unified 2>/dev/null)" = cgroup2fs ] || skip "no cgroup2 at $CG/unified"
	# in a private mount namespace /sys/fs/cgroup is the cgroup2 hierarchy: stage1 takes the v2
	# path; its controllers are all bound to v1 here, so only --insecure-options=cgroups runs
	run --separate-stderr unshare -m sh -c "mount -t cgroup2 none $CG && $RKT $(G) --insecure-options=image run --net=none $PROBE_ACI --exec=/bin/true"
	[ "$status" -eq 125 ]
	contains "$stderr" "no usable pids cgroup controller"
	run --separate-stderr unshare -m sh -c "mount -t cgroup2 none $CG &&
		$RKT $(G) --insecure-options=image,cgroups run --net=none --uuid-file-save=$T/uuid $PROBE_ACI --exec=/bin/sh -- -c 'cat /proc/self/cgroup; cat /proc/1/cgroup' --- &&
		find $CG/rkt/\$(cat $T/uuid) -mindepth 1 -type d | sort &&
		$RKT $(G) gc --grace-period=0s >/dev/null 2>&1 &&
		if [ -e $CG/rkt/\$(cat $T/uuid) ]; then echo LEFT; else echo GONE; fi"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	local u
	u=$(uuid)
	contains "$output" "0::/probe"
	contains "$output" "0::/_init"
	contains "$output" "$CG/rkt/$u/_init"
	contains "$output" "$CG/rkt/$u/probe"
	[ "$(echo "$output" | tail -1)" = GONE ] || fail_with "gc left $u: $output"
}
