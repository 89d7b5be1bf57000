#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Escape regressions (security.md 8.4), one per CVE class of runc/crun/rkt that applies to a
# pod built by rkt-stage1, through the real `rkt run`. Each tries the attack and checks a
# sentinel on the host, not just an exit status. Classes covered elsewhere: CVE-2019-5736 and
# the /proc|/sys|/dev symlink images (60-stage1.bats), capability sets (80-isolators.bats),
# cgroups and release_agent (82-cgroups.bats), enter (83-enter-stop.bats).

load helpers

setup_file() {
	local l=$BATS_FILE_TMPDIR/layout
	probe_layout "$l" sh sleep cat echo true ls stat mkdir ln rm || return 1
	mkdir -p "$l/rootfs/dev"
	manifest example.com/probe '"exec":["/bin/probe"],"user":"0","group":"0"' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/probe.aci" >/dev/null
	# CVE-2025-31133 / CVE-2025-52565: the image's own /dev/null and /dev/pts aim at the
	# host's kernel knobs and at a host directory
	ln -s /proc/sys/kernel/core_pattern "$l/rootfs/dev/null"
	ln -s /proc/sysrq-trigger "$l/rootfs/dev/console"
	ln -s "$BATS_FILE_TMPDIR/host-pts" "$l/rootfs/dev/pts"
	manifest example.com/devtricks '"exec":["/bin/probe"],"user":"0","group":"0"' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/devtricks.aci" >/dev/null
}

setup() {
	pod_setup
	PROBE_ACI=$BATS_FILE_TMPDIR/probe.aci
}

teardown() {
	local p
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done
	[ -d "$D/pods" ] && "$RKT" --dir="$D" gc --grace-period=0s >/dev/null 2>&1 || true
}

G() { echo --dir="$D" --local-config="$T/lc" --system-config="$T/sc"; }
rki() { rkt_run $(G) --insecure-options=image "$@"; }

@test "CVE-2024-21626: a working directory through a leaked fd or another process's cwd is refused" {
	local n
	for n in 3 4 5 6 7 8 9 10 11 12; do
		rki run "$PROBE_ACI" --working-dir=/proc/self/fd/$n
		[ "$status" -eq 125 ] || fail_with "fd $n: status $status, output $output"
		[ -z "$output" ] || fail_with "fd $n: the app ran: $output"
	done
	# PID 1 of the pod is stage1's init: its cwd and root are the host's
	for p in /proc/1/cwd /proc/1/root /proc/self/root/../../proc/1/cwd; do
		rki run "$PROBE_ACI" --working-dir=$p
		[ "$status" -eq 125 ] || fail_with "$p: status $status, output $output"
		[[ $stderr == *"working directory"* || $stderr == *workingDirectory* ]] ||
			fail_with "$p: $stderr"
	done
}

@test "CVE-2025-31133 / CVE-2025-52565: an image's /dev/null, /dev/console and /dev/pts symlinks are ignored" {
	mkdir -p "$BATS_FILE_TMPDIR/host-pts"
	local core sysrq
	core=$(cat /proc/sys/kernel/core_pattern)
	rki --insecure-options=image run "$BATS_FILE_TMPDIR/devtricks.aci" --exec=/bin/sh -- -c \
		'echo "|/tmp/pwned" >/dev/null; stat -c "%F %t:%T" /dev/null; ls -A /dev/pts; \
		 cat /proc/sys/kernel/core_pattern >/dev/null; if test -L /dev/console; then echo console-link; fi' ---
	[ "$status" -eq 0 ] || fail_with "status $status: $stderr"
	contains "$output" "character special file 1:3"
	[[ $output != *console-link* ]] || fail_with "/dev/console is the image's symlink"
	[ "$(cat /proc/sys/kernel/core_pattern)" = "$core" ] || fail_with "host core_pattern changed"
	[ -z "$(ls -A "$BATS_FILE_TMPDIR/host-pts")" ] || fail_with "host dir written through /dev/pts"
}

@test "CVE-2024-45310 / CVE-2021-30465: a racer flipping a shared volume's directory to a host symlink makes nothing on the host" {
	local shared=$T/shared sentinel=$T/host-sentinel inner=$T/inner
	mkdir -p "$shared/d" "$sentinel" "$inner"
	local before
	before=$(grep -c . /proc/self/mountinfo)
	# the racer (an app in another pod would do the same through the shared volume)
	(
		end=$((SECONDS + 60))
		while [ $SECONDS -lt $end ]; do
			rm -rf "$shared/d" 2>/dev/null
			ln -sfn "$sentinel" "$shared/d" 2>/dev/null
			rm -f "$shared/d" 2>/dev/null
			mkdir -p "$shared/d" 2>/dev/null
		done
	) &
	local racer=$! i ok=0
	for i in $(seq 1 25); do
		rki run --volume="s,kind=host,source=$shared" --mount=volume=s,target=/shared \
			--volume="in,kind=host,source=$inner" --mount=volume=in,target=/shared/d/new/mnt \
			"$PROBE_ACI" --exec=/bin/true
		case $status in
		0) ok=$((ok + 1)) ;;
		125) [ "${#stderr}" -gt 0 ] || fail_with "run $i: 125 without a message" ;;
		*) fail_with "run $i: status $status: $stderr" ;;
		esac
		[ -z "$(ls -A "$sentinel")" ] || fail_with "run $i made $(ls -A "$sentinel") on the host"
	done
	kill "$racer" 2>/dev/null || true
	wait "$racer" 2>/dev/null || true
	[ "$(grep -c . /proc/self/mountinfo)" = "$before" ] || fail_with "host mounts changed"
	echo "# $ok of 25 runs started during the race (the rest were refused)" >&3
}
