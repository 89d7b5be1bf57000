#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Stage1 isolators: capability sets, no_new_privs and the default seccomp filter, seen by the probe (tests/probe/probe.c)
# from inside the app, and the attacks they stop (mount, raw sockets, mknod). Same images and
# helpers as 70-pods.bats.

load helpers

DEFAULT_CAPS=00000000800405fb # CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
#                               NET_BIND_SERVICE SYS_CHROOT SETFCAP
# "all": every capability rkt itself has (its bounding set; this host's may lack some)
ALL_CAPS=$(awk '$1 == "CapBnd:" {print $2}' /proc/self/status)

setup_file() {
	local l=$BATS_FILE_TMPDIR/layout
	probe_layout "$l" sh true || return 1
	manifest example.com/probe '"exec":["/bin/probe"],"user":"0","group":"0"' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/probe.aci" >/dev/null
	manifest example.com/user '"exec":["/bin/probe"],"user":"user","group":"users"' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/user.aci" >/dev/null
	# image isolators: retain CAP_NET_ADMIN and CAP_SYS_TIME, no_new_privs off
	manifest example.com/iso '"exec":["/bin/probe"],"user":"0","group":"0","isolators":[
	  {"name":"os/linux/capabilities-retain-set","value":{"set":["CAP_NET_ADMIN","CAP_SYS_TIME"]}},
	  {"name":"os/linux/no-new-privileges","value":false}]' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/iso.aci" >/dev/null
}

setup() {
	pod_setup
	PROBE_ACI=$BATS_FILE_TMPDIR/probe.aci
	USER_ACI=$BATS_FILE_TMPDIR/user.aci
	ISO_ACI=$BATS_FILE_TMPDIR/iso.aci
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

caps_are() { # BND EFF PRM INH AMB NNP
	[ "$(json 'd["CapBnd"]')" = "$1" ] || fail_with "CapBnd $(json 'd["CapBnd"]') != $1"
	[ "$(json 'd["CapEff"]')" = "$2" ] || fail_with "CapEff $(json 'd["CapEff"]') != $2"
	[ "$(json 'd["CapPrm"]')" = "$3" ] || fail_with "CapPrm $(json 'd["CapPrm"]') != $3"
	[ "$(json 'd["CapInh"]')" = "$4" ] || fail_with "CapInh $(json 'd["CapInh"]') != $4"
	[ "$(json 'd["CapAmb"]')" = "$5" ] || fail_with "CapAmb $(json 'd["CapAmb"]') != $5"
	[ "$(json 'd["NoNewPrivs"]')" = "$6" ] || fail_with "NoNewPrivs $(json 'd["NoNewPrivs"]') != $6"
}

Z=0000000000000000

@test "a root app gets exactly the default 11 capabilities and no_new_privs" {
	rki run "$PROBE_ACI"
	[ "$status" -eq 0 ]
	caps_are $DEFAULT_CAPS $DEFAULT_CAPS $DEFAULT_CAPS $Z $Z 1
	[[ $stderr != *"not implemented"* ]] || fail_with "unexpected warning: $stderr"
	[[ $stderr != *seccomp* ]] || fail_with "unexpected seccomp warning: $stderr"
	[[ $stderr != *capabilit* ]] || fail_with "unexpected capability warning: $stderr"
}

@test "a root app cannot mount, open raw sockets or mknod" {
	rki run "$PROBE_ACI" --exec=/bin/probe -- syscall mount-fs socket mknod ---
	[ "$status" -eq 0 ]
	[ "$(json 'd["syscalls"]["mount-fs"]')" = EPERM ]
	[ "$(json 'd["syscalls"]["socket"]')" = EPERM ]
	[ "$(json 'd["syscalls"]["mknod"]')" = EPERM ]
	# the oracle: with every capability (and no Landlock, which forbids mounts) the same calls
	# pass the permission check
	rki --insecure-options=image,capabilities,seccomp,landlock run "$PROBE_ACI" --exec=/bin/probe -- syscall mount-fs socket mknod ---
	[ "$status" -eq 0 ]
	[ "$(json 'd["syscalls"]["mount-fs"]')" != EPERM ]
	[ "$(json 'd["syscalls"]["socket"]')" != EPERM ]
	[ "$(json 'd["syscalls"]["mknod"]')" != EPERM ]
}

@test "--caps-retain gives exactly that set; --caps-remove removes from the default" {
	rki run "$PROBE_ACI" --caps-retain=CAP_NET_ADMIN
	[ "$status" -eq 0 ]
	caps_are 0000000000001000 0000000000001000 0000000000001000 $Z $Z 1
	rki run "$PROBE_ACI" --caps-remove=CAP_CHOWN,CAP_KILL
	[ "$status" -eq 0 ]
	caps_are 00000000800405da 00000000800405da 00000000800405da $Z $Z 1
}

@test "image isolators: capabilities-retain-set and no-new-privileges false" {
	rki run "$ISO_ACI"
	[ "$status" -eq 0 ]
	caps_are 0000000002001000 0000000002001000 0000000002001000 $Z $Z 0
	# the flags replace the image's isolators
	rki run "$ISO_ACI" --caps-remove=CAP_CHOWN
	[ "$status" -eq 0 ]
	caps_are 00000000800405fa 00000000800405fa 00000000800405fa $Z $Z 0
}

@test "retain and remove together, and unknown capability names, are errors" {
	rki run "$PROBE_ACI" --caps-retain=CAP_CHOWN --caps-remove=CAP_KILL
	[ "$status" -eq 2 ] # usage error
	contains "$stderr" "--caps-retain and --caps-remove exclude each other"
	rki run "$PROBE_ACI" --caps-retain=CAP_NET_ADMIN,CAP_NO_SUCH
	[ "$status" -eq 2 ] # usage error
	contains "$stderr" "CAP_NO_SUCH"
	rki run "$PROBE_ACI" --caps-remove=chown
	[ "$status" -eq 2 ] # usage error
	contains "$stderr" "chown"
	[ ! -d "$D/pods/run" ] || [ -z "$(ls -A "$D/pods/run")" ]
}

@test "a non-root app has no effective caps, the default bounding set; retain-set goes ambient" {
	rki run "$USER_ACI"
	[ "$status" -eq 0 ]
	[ "$(json 'd["uid"]["effective"]')" = 1000 ]
	caps_are $DEFAULT_CAPS $Z $Z $Z $Z 1
	rki run "$USER_ACI" --caps-retain=CAP_NET_BIND_SERVICE
	[ "$status" -eq 0 ]
	caps_are 0000000000000400 0000000000000400 0000000000000400 0000000000000400 0000000000000400 1
}

@test "--insecure-options=capabilities grants every capability, with a warning and an audit record" {
	rkt_run $(G) --insecure-options=image,capabilities run "$PROBE_ACI"
	[ "$status" -eq 0 ]
	caps_are $ALL_CAPS $ALL_CAPS $ALL_CAPS $Z $Z 1
	contains "$stderr" "warning:"
	contains "$stderr" "--insecure-options=capabilities"
	rk audit list --event=run --format=json
	contains "$output" '"capabilities":"all (insecure)"'
}

@test "--no-new-privileges=false turns no_new_privs off, with a warning and an audit record" {
	rki run --no-new-privileges=false "$PROBE_ACI"
	[ "$status" -eq 0 ]
	caps_are $DEFAULT_CAPS $DEFAULT_CAPS $DEFAULT_CAPS $Z $Z 0
	contains "$stderr" "warning:"
	contains "$stderr" "--no-new-privileges=false"
	rk audit list --event=run --format=json
	contains "$output" '"noNewPrivileges":false'
	rki run --no-new-privileges "$PROBE_ACI"
	[ "$(json 'd["NoNewPrivs"]')" = 1 ]
}

@test "the plan carries the sets by name, and prepare + run-prepared applies them" {
	rki prepare "$PROBE_ACI" --caps-retain=CAP_KILL
	[ "$status" -eq 0 ]
	uuid=$output
	plan=$D/pods/prepared/$uuid/plan.json
	run python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["apps"][0]; print(a["capabilities"]["bounding"], a["noNewPrivileges"])' "$plan"
	[ "$output" = "['CAP_KILL'] True" ]
	rk run-prepared "$uuid"
	[ "$status" -eq 0 ]
	caps_are 0000000000000020 0000000000000020 0000000000000020 $Z $Z 1
}

# ---- seccomp (profiles/seccomp-default.json) ----

@test "apps run under one seccomp filter: dangerous calls get EPERM, unlisted ones ENOSYS" {
	rki --insecure-options=image,capabilities run "$PROBE_ACI"
	[ "$status" -eq 0 ]
	[ "$(json 'd["Seccomp"]')" = 2 ] || fail_with "Seccomp $(json 'd["Seccomp"]') != 2"
	[ "$(json 'd["Seccomp_filters"]')" = 1 ] || fail_with "Seccomp_filters $(json 'd["Seccomp_filters"]')"
	# every capability, so only the filter can refuse these
	local calls="keyctl add_key bpf io_uring_setup userfaultfd ptrace unshare kexec_load reboot setns pivot_root mount-fs init_module open_by_handle_at perf_event_open swapon"
	rki --insecure-options=image,capabilities run "$PROBE_ACI" --exec=/bin/probe -- syscall $calls syslog clone3 ---
	[ "$status" -eq 0 ]
	for c in $calls; do
		[ "$(json "d['syscalls']['$c']")" = EPERM ] || fail_with "$c: $(json "d['syscalls']['$c']") (want EPERM): $output"
	done
	[ "$(json 'd["syscalls"]["syslog"]')" = ENOSYS ] || fail_with "syslog: $output"
	[ "$(json 'd["syscalls"]["clone3"]')" = ENOSYS ] || fail_with "clone3: $output"
	# the oracle: without the filter the same calls get past it
	rki --insecure-options=image,capabilities,seccomp run "$PROBE_ACI" --exec=/bin/probe -- syscall $calls syslog clone3 ---
	[ "$status" -eq 0 ]
	for c in keyctl bpf userfaultfd unshare syslog clone3; do # kexec_load: ENOSYS on kernels without kexec
		local v
		v=$(json "d['syscalls']['$c']")
		[ "$v" != EPERM ] && [ "$v" != ENOSYS ] || fail_with "$c without the filter: $v"
	done
}

@test "ordinary programs work under the filter" {
	rki run "$PROBE_ACI" --exec=/bin/sh -- -c 'ls / >/dev/null && cat /etc/passwd && sleep 0 && id && echo done' ---
	[ "$status" -eq 0 ] || fail_with "status $status: $output $stderr"
	contains "$output" "root:x:0:0"
	contains "$output" "uid=0"
	contains "$output" "done"
}

@test "--insecure-options=seccomp runs without a filter, with a warning and an audit record" {
	rki --insecure-options=image,seccomp run "$PROBE_ACI"
	[ "$status" -eq 0 ]
	[ "$(json 'd["Seccomp"]')" = 0 ] || fail_with "Seccomp $(json 'd["Seccomp"]') != 0"
	contains "$stderr" "without a seccomp filter (--insecure-options=seccomp)"
	rk audit list --event=run --format=json
	contains "$output" '"seccomp":"off (insecure)"'
}

@test "the filter is compiled once into the cache; a tampered filter in the pod is refused" {
	rki prepare "$PROBE_ACI"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	local uuid=$output pod=$D/pods/prepared/$output
	local bpf=("$D"/cas/seccomp/*.bpf)
	[ "${#bpf[@]}" -eq 1 ] && [ -s "${bpf[0]}" ] || fail_with "cache: ${bpf[*]}"
	cmp "${bpf[0]}" "$pod/seccomp/probe.bpf" || fail_with "the pod's filter is not the cached one"
	python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["apps"][0]["seccomp"]; assert a["bpf"]=="seccomp/probe.bpf" and len(a["sha512"])==128, a' "$pod/plan.json"
	# a second prepare reuses the cached file (same inode: not rewritten)
	local ino
	ino=$(stat -c %i "${bpf[0]}")
	rki prepare "$PROBE_ACI"
	[ "$status" -eq 0 ]
	[ "$(stat -c %i "${bpf[0]}")" = "$ino" ] || fail_with "the cache was rewritten"
	# turn the last instruction (RET ALLOW/ERRNO) into something else: the hash no longer matches
	printf '\x06\x00\x00\x00\x00\x00\xff\x7f' | dd of="$pod/seccomp/probe.bpf" bs=1 seek=0 conv=notrunc 2>/dev/null
	rk run-prepared "$uuid"
	[ "$status" -eq 125 ] || fail_with "status $status: $stderr"
	contains "$stderr" "app probe"
	contains "$stderr" "SHA-512"
}

@test "the audit log records each app's isolators on run and its status on exit" {
	rki run "$PROBE_ACI" --caps-remove=CAP_KILL --exec=/bin/probe -- exit 7 ---
	[ "$status" -eq 7 ]
	rk audit list --event=run --format=json
	[ "$status" -eq 0 ]
	local sha
	# the plan names the filter by the SHA-512 of its bytes (the cache, by the profile's)
	sha=$(cat "$D"/cas/seccomp/*.bpf | sha512sum | cut -d' ' -f1)
	python3 - "$output" "$sha" <<'PY' || fail_with "run record: $output"
import json, sys
rec = json.loads(sys.argv[1])[-1]
app = rec["apps"][0]
assert app["name"] == "probe", app
assert "CAP_KILL" not in app["capabilities"]["bounding"], app
assert "CAP_CHOWN" in app["capabilities"]["bounding"], app
assert app["noNewPrivileges"] is True and app["seccomp"] == sys.argv[2], app
assert app["uid"] == 0 and app["gid"] == 0, app
PY
	rk audit list --event=exit --format=json
	[ "$status" -eq 0 ]
	python3 - "$output" "$sha" <<'PY' || fail_with "exit record: $output"
import json, sys
rec = json.loads(sys.argv[1])[-1]
assert rec["status"] == 7 and rec["appStatus"] == {"probe": 7}, rec
assert rec["apps"][0]["seccomp"] == sys.argv[2], rec
assert "error" not in rec, rec
PY
	# and the chain still verifies with stage1's record in it
	rk audit verify
	[ "$status" -eq 0 ]
}

@test "a run without a seccomp filter is logged as such on exit" {
	rki --insecure-options=image,seccomp run "$PROBE_ACI"
	[ "$status" -eq 0 ]
	rk audit list --event=exit --format=json
	[ "$(json 'd[-1]["apps"][0]["seccomp"]')" = off ]
}
