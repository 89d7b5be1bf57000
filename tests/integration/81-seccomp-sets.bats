#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# appc seccomp sets (os/linux/seccomp-retain-set / -remove-set), rkt run --seccomp= and
# --seccomp-profile=, seen by the probe (tests/probe/probe.c) from inside the app. Each check
# has an oracle: the same call under the default filter gives another answer. Semantics:
# profiles/README.md. Same setup as 80-isolators.bats.

load helpers

setup_file() {
	local l=$BATS_FILE_TMPDIR/layout
	probe_layout "$l" sh true || return 1
	manifest example.com/probe '"exec":["/bin/probe"],"user":"0","group":"0"' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/probe.aci" >/dev/null
	manifest example.com/retain '"exec":["/bin/probe"],"user":"0","group":"0","isolators":[
	  {"name":"os/linux/seccomp-retain-set","value":{"set":["@docker/default-whitelist","chroot"],"errno":"EACCES"}}]' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/retain.aci" >/dev/null
	manifest example.com/remove '"exec":["/bin/probe"],"user":"0","group":"0","isolators":[
	  {"name":"os/linux/seccomp-remove-set","value":{"set":["chroot"],"errno":"EXDEV"}}]' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/remove.aci" >/dev/null
	manifest example.com/all '"exec":["/bin/probe"],"user":"0","group":"0","isolators":[
	  {"name":"os/linux/seccomp-retain-set","value":{"set":["@appc.io/all"]}}]' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/all.aci" >/dev/null
	manifest example.com/badset '"exec":["/bin/probe"],"user":"0","group":"0","isolators":[
	  {"name":"os/linux/seccomp-retain-set","value":{"set":["read","no_such_call"]}}]' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/badset.aci" >/dev/null
}

setup() {
	pod_setup
	PROBE_ACI=$BATS_FILE_TMPDIR/probe.aci
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

# sc NAME WANT: the probe's result for syscall NAME is WANT
sc() {
	local v
	v=$(json "d['syscalls']['$1']")
	[ "$v" = "$2" ] || fail_with "$1: $v (want $2): $output $stderr"
}

CALLS="chroot sethostname syslog keyctl mount-fs clone3"

no_pods() {
	local n
	n=$(find "$D/pods" -mindepth 2 -maxdepth 2 2>/dev/null | wc -l)
	[ "$n" -eq 0 ] || fail_with "pods left: $(find "$D/pods" -mindepth 2 -maxdepth 2)"
}

@test "the oracle: under the default filter" {
	rki run "$PROBE_ACI" --exec=/bin/probe -- syscall $CALLS ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	sc chroot ENOENT # CAP_SYS_CHROOT is in the default set; the path does not exist
	sc sethostname ENOSYS
	sc syslog ENOSYS
	sc keyctl EPERM
	sc clone3 ENOSYS
}

@test "--seccomp retain-set: listed calls work, others get the errno, the hardening stays" {
	rki run "$PROBE_ACI" --seccomp=mode=retain,errno=EACCES,@docker/default-whitelist,chroot,keyctl
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ "$(json 'd["Seccomp"]')" = 2 ] || fail_with "Seccomp $(json 'd["Seccomp"]') != 2"
	[ "$(json 'd["Seccomp_filters"]')" = 1 ] || fail_with "Seccomp_filters $(json 'd["Seccomp_filters"]')"
	rki run "$PROBE_ACI" --seccomp=mode=retain,errno=EACCES,@docker/default-whitelist,chroot,keyctl \
		--exec=/bin/probe -- syscall $CALLS ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	sc chroot ENOENT
	sc sethostname EACCES
	sc syslog EACCES
	sc keyctl EPERM # listed, but always denied
	sc mount-fs EPERM
	sc clone3 ENOSYS
}

@test "--seccomp retain-set without errno: a call outside the set kills with SIGSYS" {
	# (rkt's old @rkt/default-whitelist lacks rseq, which glibc >= 2.35 calls at start: without an
	# errno it kills such programs before main; see profiles/README.md)
	rki run "$PROBE_ACI" --seccomp=mode=retain,@docker/default-whitelist,chroot --exec=/bin/probe -- syscall chroot sethostname ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	sc chroot ENOENT
	sc sethostname SIGSYS
}

@test "--seccomp remove-set: the removed call gets the errno, the others are unchanged" {
	rki run "$PROBE_ACI" --seccomp=mode=remove,errno=EACCES,chroot --exec=/bin/probe -- syscall $CALLS ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	sc chroot EACCES
	sc sethostname ENOSYS
	sc syslog ENOSYS
	sc keyctl EPERM
	sc clone3 ENOSYS
	rki run "$PROBE_ACI" --seccomp=mode=remove,errno=EACCES,chroot
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ "$(json 'd["Seccomp"]')" = 2 ] || fail_with "Seccomp $(json 'd["Seccomp"]') != 2"
}

@test "image isolators: retain-set and remove-set; --seccomp replaces them" {
	rki run "$BATS_FILE_TMPDIR/retain.aci" --exec=/bin/probe -- syscall $CALLS ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	sc chroot ENOENT
	sc sethostname EACCES
	sc keyctl EPERM
	rki run "$BATS_FILE_TMPDIR/remove.aci" --exec=/bin/probe -- syscall $CALLS ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	sc chroot EXDEV
	sc sethostname ENOSYS
	# the flag replaces the image's set
	rki run "$BATS_FILE_TMPDIR/remove.aci" --seccomp=mode=remove,errno=EACCES,sethostname --exec=/bin/probe -- syscall $CALLS ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	sc chroot ENOENT
	sc sethostname EACCES
	rki prepare "$BATS_FILE_TMPDIR/remove.aci" --seccomp=mode=remove,errno=EACCES,sethostname
	[ "$status" -eq 0 ] || fail_with "$stderr"
	rk cat-manifest "$output"
	contains "$output" '"os/linux/seccomp-remove-set"'
	contains "$output" '"sethostname"'
	[[ $output != *EXDEV* ]] || fail_with "the image's set is still there: $output"
}

@test "retain-set @appc.io/all: every call, but the hardening stays" {
	rki run "$BATS_FILE_TMPDIR/all.aci" --exec=/bin/probe -- syscall $CALLS ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	sc chroot ENOENT
	v=$(json "d['syscalls']['sethostname']")
	[ "$v" != ENOSYS ] || fail_with "sethostname: ENOSYS (the default filter's)"
	sc keyctl EPERM
	sc clone3 ENOSYS
}

@test "every compiled profile is cached by its digest" {
	rki prepare "$PROBE_ACI"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	rki prepare "$PROBE_ACI" --seccomp=mode=remove,chroot
	[ "$status" -eq 0 ] || fail_with "$stderr"
	local pod=$D/pods/prepared/$output
	local bpf=("$D"/cas/seccomp/*.bpf)
	[ "${#bpf[@]}" -eq 2 ] || fail_with "cache: ${bpf[*]}"
	local hit=0 f
	for f in "${bpf[@]}"; do cmp -s "$f" "$pod/seccomp/probe.bpf" && hit=1; done
	[ $hit -eq 1 ] || fail_with "the pod's filter is not a cached one"
	# @appc.io/empty removes nothing: the default profile, the same cache file
	rki prepare "$PROBE_ACI" --seccomp=mode=remove,@appc.io/empty
	[ "$status" -eq 0 ] || fail_with "$stderr"
	bpf=("$D"/cas/seccomp/*.bpf)
	[ "${#bpf[@]}" -eq 2 ] || fail_with "cache: ${bpf[*]}"
}

@test "--seccomp-profile: a custom OCI profile is used" {
	python3 - "$REPO_ROOT/profiles/seccomp-default.json" "$T/custom.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["syscalls"][0]["names"].remove("chroot")
p["syscalls"].append({"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95})
json.dump(p, open(sys.argv[2], "w"))
PY
	rki run "$PROBE_ACI" --seccomp-profile="$T/custom.json" --exec=/bin/probe -- syscall $CALLS ---
	[ "$status" -eq 0 ] || fail_with "$stderr"
	sc chroot EOPNOTSUPP
	sc keyctl EPERM
	rki run "$PROBE_ACI" --seccomp-profile="$T/custom.json"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ "$(json 'd["Seccomp"]')" = 2 ] || fail_with "Seccomp $(json 'd["Seccomp"]') != 2"
}

@test "--seccomp-profile: a malformed or oversized profile is refused before any pod exists" {
	printf '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","no_such_call"],"action":"SCMP_ACT_ALLOW"}]}' >"$T/bad.json"
	rki run "$PROBE_ACI" --seccomp-profile="$T/bad.json"
	[ "$status" -eq 2 ] || fail_with "status $status: $stderr"
	contains "$stderr" "bad.json"
	contains "$stderr" '"no_such_call"'
	[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ] || fail_with "not one line: $stderr"
	no_pods
	printf '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["read"],"action":"SCMP_ACT_ERRNO"}]}' >"$T/dup.json"
	rki run "$PROBE_ACI" --seccomp-profile="$T/dup.json"
	[ "$status" -eq 2 ] || fail_with "status $status: $stderr"
	contains "$stderr" '"read" listed twice'
	printf '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}' >"$T/allow.json"
	rki run "$PROBE_ACI" --seccomp-profile="$T/allow.json"
	[ "$status" -eq 2 ] || fail_with "status $status: $stderr"
	contains "$stderr" "SCMP_ACT_ALLOW"
	head -c 1100000 /dev/zero | tr '\0' ' ' >"$T/big.json"
	rki run "$PROBE_ACI" --seccomp-profile="$T/big.json"
	[ "$status" -eq 2 ] || fail_with "status $status: $stderr"
	contains "$stderr" "big.json"
	no_pods
}

@test "bad --seccomp values and conflicts are usage errors naming the word" {
	rki run "$PROBE_ACI" --seccomp=mode=retain,read,no_such_call
	[ "$status" -eq 2 ] || fail_with "status $status: $stderr"
	contains "$stderr" "unknown syscall 'no_such_call'"
	rki run "$PROBE_ACI" --seccomp=mode=retain,@rkt/nope
	[ "$status" -eq 2 ] || fail_with "status $status: $stderr"
	contains "$stderr" "'@rkt/nope'"
	rki run "$PROBE_ACI" --seccomp=mode=remove,errno=EACCESS,chroot
	[ "$status" -eq 2 ] || fail_with "status $status: $stderr"
	contains "$stderr" "unknown errno 'EACCESS'"
	rki run "$PROBE_ACI" --seccomp=mode=retain,read,read
	[ "$status" -eq 2 ] || fail_with "status $status: $stderr"
	contains "$stderr" "listed twice"
	rki run "$PROBE_ACI" --seccomp=mode=retain,mode=remove,read
	[ "$status" -eq 2 ] || fail_with "status $status: $stderr"
	contains "$stderr" "mode given twice"
	rki run "$PROBE_ACI" --seccomp=mode=remove,@appc.io/all
	[ "$status" -eq 2 ] || fail_with "status $status: $stderr"
	contains "$stderr" "@appc.io/all"
	rki run "$PROBE_ACI" --seccomp=mode=remove,chroot --seccomp-profile="$REPO_ROOT/profiles/seccomp-default.json"
	[ "$status" -eq 2 ] || fail_with "status $status: $stderr"
	contains "$stderr" "exclude each other"
	no_pods
}

@test "an image set naming an unknown syscall is refused, naming the app" {
	rki run "$BATS_FILE_TMPDIR/badset.aci"
	[ "$status" -ne 0 ] || fail_with "ran"
	contains "$stderr" "app badset"
	contains "$stderr" "'no_such_call'"
	no_pods
}

@test "--insecure-options=seccomp still turns every filter off" {
	rki --insecure-options=image,seccomp run "$BATS_FILE_TMPDIR/retain.aci"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ "$(json 'd["Seccomp"]')" = 0 ] || fail_with "Seccomp $(json 'd["Seccomp"]') != 0"
	contains "$stderr" "without a seccomp filter"
}
