#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Landlock and SELinux (src/stage1/isolators/{landlock,selinux}.c, src/lib/pod/lsm.c). The
# escape tests run with --insecure-options=capabilities,seccomp so that only Landlock stands
# in the way, and show the hole with --insecure-options=landlock. This host has no SELinux:
# rkt must say so and audit it (labels are unit-tested in tests/unit/test-selinux.c).

load helpers

setup_file() {
	local l=$BATS_FILE_TMPDIR/layout
	probe_layout "$l" sh true mount sleep kill cat || return 1
	mkdir -p "$l/rootfs/vol"
	manifest example.com/probe '"exec":["/bin/probe"],"user":"0","group":"0"' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/probe.aci" >/dev/null
}

setup() {
	pod_setup
	PROBE_ACI=$BATS_FILE_TMPDIR/probe.aci
	# a host file no app should reach: the escape tests look for its content
	echo HOST-SENTINEL-$$ >"$T/sentinel"
	chmod 0600 "$T/sentinel"
}

teardown() {
	[ -d "$D/pods" ] && "$RKT" --dir="$D" gc --grace-period=0s >/dev/null 2>&1 || true
}

G() { echo --dir="$D" --local-config="$T/lc" --system-config="$T/sc"; }
rk() { rkt_run $(G) "$@"; }
rki() { rkt_run $(G) --insecure-options=image "$@"; }
# every other defence off: what remains is Landlock (and the mount namespace)
rkx() { rkt_run $(G) --insecure-options=image,capabilities,seccomp"$1" "${@:2}"; }

json() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$output" "$1"
}

kernel_abi() {
	python3 -c 'import ctypes,os; print(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1))'
}

@test "Landlock is on by default; the kernel's ABI is negotiated and audited" {
	abi=$(kernel_abi)
	[ "$abi" -ge 1 ] || skip "no Landlock in this kernel"
	rki run "$PROBE_ACI" --exec=/bin/probe -- landlock ---
	[ "$status" -eq 0 ]
	[ "$(json 'd["landlock"]["abi"]')" = "$abi" ]
	[[ $stderr != *Landlock* ]] || fail_with "unexpected Landlock warning: $stderr"
	rk audit list --event=run --format=json
	contains "$output" "\"landlock\":\"abi $abi\""
	# what the app itself needs still works: its root, /dev/null, /proc, its own writes
	rki run "$PROBE_ACI" --exec=/bin/sh -- -c 'echo x >/dev/null && cat /proc/self/status >/dev/null && echo ok >/written && cat /written' ---
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "Landlock stops an escape through /proc/1/root (the pod's init has the host's root)" {
	[ "$(kernel_abi)" -ge 1 ] || skip "no Landlock in this kernel"
	# the hole: without Landlock, an app with every capability reads the host's file
	rkx ,landlock run "$PROBE_ACI" --exec=/bin/probe -- open "/proc/1/root$T/sentinel" ---
	[ "$status" -eq 0 ] || fail_with "no hole to close? $output $stderr"
	[ "$(json 'd["open"]["result"]')" = OK ]
	contains "$(json 'd["open"]["data"]')" "HOST-SENTINEL-$$"
	contains "$stderr" "--insecure-options=landlock"
	rk audit list --event=run --format=json
	contains "$output" '"landlock":"off (insecure)"'
	# the defence: the same app, the same capabilities, Landlock on
	rkx "" run "$PROBE_ACI" --exec=/bin/probe -- open "/proc/1/root$T/sentinel" ---
	[ "$(json 'd["open"]["result"]')" = EACCES ] || fail_with "$output $stderr"
	[[ $output != *HOST-SENTINEL* ]]
	# ... and any other host path through it
	rkx "" run "$PROBE_ACI" --exec=/bin/probe -- open /proc/1/root/etc/hostname ---
	[ "$(json 'd["open"]["result"]')" = EACCES ] || fail_with "$output $stderr"
	# ... also with no_new_privs off (Landlock is then applied while the setup process
	# still has CAP_SYS_ADMIN)
	rkx "" run --no-new-privileges=false "$PROBE_ACI" --exec=/bin/probe -- open "/proc/1/root$T/sentinel" ---
	[ "$(json 'd["open"]["result"]')" = EACCES ] || fail_with "$output $stderr"
	# ... and init's executable (a memfd: no path beneath the app's root)
	rkx "" run "$PROBE_ACI" --exec=/bin/probe -- open /proc/1/exe ---
	[ "$(json 'd["open"]["result"]')" = EACCES ] || fail_with "$output $stderr"
}

@test "Landlock keeps a read-only volume read-only: no remount, no write" {
	[ "$(kernel_abi)" -ge 1 ] || skip "no Landlock in this kernel"
	mkdir "$T/vol"
	script='mount -o remount,bind,rw /vol && echo remounted; exec /bin/probe write /vol/pwned'
	# the hole: with CAP_SYS_ADMIN and no seccomp the app makes the bind mount writable
	rkx ,landlock run --readonly-rootfs --volume="v,kind=host,source=$T/vol,readOnly=true" \
		--mount=volume=v,target=/vol "$PROBE_ACI" --exec=/bin/sh -- -c "$script" ---
	[ "$status" -eq 0 ] || fail_with "no hole to close? $output $stderr"
	contains "$output" remounted
	[ -f "$T/vol/pwned" ]
	rm "$T/vol/pwned"
	# the defence: a Landlock domain may not change its mounts (EPERM), and the write is
	# refused by Landlock too (the root is read-only, so no rule grants writes beneath /)
	rkx "" run --readonly-rootfs --volume="v,kind=host,source=$T/vol,readOnly=true" \
		--mount=volume=v,target=/vol "$PROBE_ACI" --exec=/bin/sh -- -c "$script" ---
	[ "$status" -eq 1 ] || fail_with "status $status: $output $stderr"
	[[ $output != *remounted* ]] || fail_with "$output"
	contains "$stderr" "mount: permission denied"
	contains "$output" '"result":"EROFS"'
	[ ! -e "$T/vol/pwned" ]
	# a writable volume stays writable under Landlock, and a read-only root stays readable
	rki run --readonly-rootfs --volume="v,kind=host,source=$T/vol" \
		--mount=volume=v,target=/vol "$PROBE_ACI" --exec=/bin/probe -- write /vol/ok ---
	[ "$status" -eq 0 ] || fail_with "$output $stderr"
	[ -f "$T/vol/ok" ]
}

@test "Landlock: a non-root app and a single-file volume get their rules" {
	[ "$(kernel_abi)" -ge 1 ] || skip "no Landlock in this kernel"
	echo conf-data >"$T/conf"
	chmod 0644 "$T/conf"
	rki run --volume="c,kind=host,source=$T/conf,readOnly=true" --mount=volume=c,target=/etc/conf \
		"$PROBE_ACI" --user=1000 --group=1000 --exec=/bin/probe -- open /etc/conf ---
	[ "$status" -eq 0 ] || fail_with "$output $stderr"
	[ "$(json 'd["open"]["data"]')" = conf-data ]
}

@test "prepare --insecure-options=landlock writes it into the plan; run-prepared warns and audits" {
	rkt_run $(G) --insecure-options=image,landlock prepare "$PROBE_ACI" --exec=/bin/probe -- open /proc/1/exe ---
	[ "$status" -eq 0 ]
	uuid=$output
	run python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["apps"][0]["landlock"])' "$D/pods/prepared/$uuid/plan.json"
	[ "$output" = False ]
	rk run-prepared "$uuid"
	contains "$stderr" "--insecure-options=landlock"
	rk audit list --event=run --format=json
	contains "$output" '"landlock":"off (insecure)"'
	# the default plan says nothing: Landlock on
	rki prepare "$PROBE_ACI"
	[ "$status" -eq 0 ]
	run python3 -c 'import json,sys; print("landlock" in json.load(open(sys.argv[1]))["apps"][0])' "$D/pods/prepared/${output}/plan.json"
	[ "$output" = False ]
}

@test "Landlock scoping: an app signals its own processes, not another app's" {
	[ "$(kernel_abi)" -ge 6 ] || skip "Landlock ABI < 6: no signal scoping"
	# app a: its own child, signalled; app b: tries app a's processes (CAP_KILL, same uid)
	rkx "" run "$PROBE_ACI" --name=a --exec=/bin/sh -- -c 'sleep 5 & kill $! && echo own-ok; sleep 3' --- \
		"$PROBE_ACI" --name=b --exec=/bin/sh -- -c 'sleep 1; for p in /proc/[0-9]*; do p=${p#/proc/}; [ "$(cat /proc/$p/comm)" = sleep ] && { kill -0 $p 2>/dev/null && echo other-ok || echo other-denied; }; done; true' ---
	[ "$status" -eq 0 ] || fail_with "$output $stderr"
	contains "$output" own-ok
	contains "$output" other-denied
	[[ $output != *other-ok* ]] || fail_with "$output"
}

@test "without Landlock in the kernel the app runs, with warnings and an audit record" {
	W=$B/tools/no-landlock
	[ -x "$W" ] || skip "no $W"
	run --separate-stderr "$W" "$RKT" $(G) --insecure-options=image run --net=none "$PROBE_ACI" --exec=/bin/probe -- landlock ---
	[ "$status" -eq 0 ] || fail_with "$output $stderr"
	[ "$(json 'd["landlock"]["abi"]')" = ENOSYS ]
	contains "$stderr" "the kernel has no Landlock"
	contains "$stderr" "runs without Landlock"
	rk audit list --event=run --format=json
	contains "$output" '"landlock":"unavailable (kernel)"'
}

@test "SELinux is disabled here: rkt says so, audits it, and the plan has no labels" {
	[ -d /sys/fs/selinux ] && [ "$(cat /sys/fs/selinux/enforce 2>/dev/null)" != "" ] && skip "SELinux is enabled"
	rki prepare "$PROBE_ACI"
	[ "$status" -eq 0 ]
	contains "$stderr" "SELinux disabled, labels not applied"
	uuid=$output
	run python3 -c 'import json,sys; print("selinux" in json.load(open(sys.argv[1]))["apps"][0])' "$D/pods/prepared/$uuid/plan.json"
	[ "$output" = False ]
	[ ! -e "$D/pods/prepared/$uuid/selinux-mcs" ]
	rk run-prepared "$uuid"
	[ "$status" -eq 0 ]
	contains "$stderr" "SELinux disabled, labels not applied"
	rki run "$PROBE_ACI"
	[ "$status" -eq 0 ]
	contains "$stderr" "SELinux disabled, labels not applied"
	rk audit list --event=run --format=json
	contains "$output" '"selinux":"disabled, labels not applied"'
}
