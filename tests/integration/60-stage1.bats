#!/usr/bin/env bats
# rkt-stage1 driven directly, as stage0 will drive it: a pod dir with a hand-written plan.json,
# flock'ed, RKT_LOCK_FD passed. The image is busybox (static) plus the probe, built with
# `rkt image build` and extracted with aci-extract --rootfs-only. Each test asserts what the
# app sees, and each would fail if the defence it names were removed.

load helpers

BUILD_DIR="$REPO_ROOT/$RKT_BUILD"
case $RKT_BUILD in /*) BUILD_DIR="$RKT_BUILD" ;; esac
STAGE1="$BUILD_DIR/rkt-stage1"
PROBE_BIN="$BUILD_DIR/probe"
AC_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# A static program that tries the classic chroot escape: chroot into a subdirectory while the
# cwd stays outside it, climb with "..", chroot there, and write the host path given.
escape_src() {
	cat <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	mkdir("/esc", 0755);
	if (chroot("/esc") != 0)
		perror("chroot");
	for (int i = 0; i < 64; i++)
		(void)!chdir("..");
	(void)!chroot(".");
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0 && write(fd, "pwned\n", 6) == 6) {
		puts("ESCAPED");
		return 0;
	}
	puts("contained");
	return 1;
}
C
}

setup_file() {
	local L="$BATS_FILE_TMPDIR/layout"
	mkdir -p "$L/rootfs/bin" "$L/rootfs/etc" "$L/rootfs/tmp" "$L/rootfs/home/user"
	cp /bin/busybox "$L/rootfs/bin/busybox"
	for a in sh cat ls id hostname echo sleep readlink grep stat dd touch kill mkdir env pwd \
		head wc sha512sum true false ps mount ln rm sync printf test; do
		ln -s busybox "$L/rootfs/bin/$a"
	done
	[ ! -x "$PROBE_BIN" ] || cp "$PROBE_BIN" "$L/rootfs/bin/probe"
	escape_src >"$BATS_FILE_TMPDIR/escape.c"
	gcc -static -O1 -o "$L/rootfs/bin/escape" "$BATS_FILE_TMPDIR/escape.c"
	printf 'not a program\n' >"$L/rootfs/bin/noexec"
	chmod 0644 "$L/rootfs/bin/noexec"
	chmod 1777 "$L/rootfs/tmp"
	chown 1000:1000 "$L/rootfs/home/user"
	echo data >"$L/rootfs/etc/data"
	ln "$L/rootfs/etc/data" "$L/rootfs/etc/data-link"
	ln -s data "$L/rootfs/etc/data-sym"
	cat >"$L/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/stage1-test",
 "labels":[{"name":"version","value":"1.0.0"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],
 "app":{"exec":["/bin/sh"],"user":"0","group":"0"}}
JSON
	"$RKT" image build --preserve-owners "$L" "$BATS_FILE_TMPDIR/test.aci" >/dev/null
	"$BUILD_DIR/tools/aci-extract" --rootfs-only "$BATS_FILE_TMPDIR/test.aci" \
		"$BATS_FILE_TMPDIR/tree" >/dev/null
}

setup() {
	[ -x "$STAGE1" ] || skip "no $STAGE1"
	TREE="$BATS_FILE_TMPDIR/tree"
	POD="$BATS_TEST_TMPDIR/pod"
	mkdir -m 0750 "$POD"
	HOST_MOUNTS=()
}

teardown() {
	if [ -d "$POD" ]; then "$STAGE1" gc --pod-dir="$POD" || true; fi
	for m in "${HOST_MOUNTS[@]}"; do umount -l "$m" || true; done
}

has_probe() {
	[ -x "$TREE/bin/probe" ] || skip "no probe built"
}

# write_plan [FILTER [jq args...]]: the default one-app plan, edited by a jq filter.
# Every capability this host lets us hold (its CapBnd), by name: the plans below give the app
# all of them, so the mount, /dev and /proc defences are tested against a root app with every
# capability, the worst case (the capability isolators are tested in 80-isolators.bats).
ALL_CAP_NAMES=$(python3 -c '
import json
names = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
 "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN",
 "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE",
 "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
 "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
 "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ",
 "PERFMON", "BPF", "CHECKPOINT_RESTORE"]
bnd = int([l.split()[1] for l in open("/proc/self/status") if l.startswith("CapBnd:")][0], 16)
print(json.dumps(["CAP_" + n for i, n in enumerate(names) if bnd >> i & 1]))')

write_plan() {
	local filter=${1:-.}
	shift || true
	jq -n --arg tree "$TREE" --arg path "PATH=$AC_PATH" --argjson caps "$ALL_CAP_NAMES" '{
	  version: 1, uuid: "6f1c2a3e-1111-4222-8333-444455556666", hostname: "rkt-6f1c2a3e",
	  net: "none",
	  apps: [{name: "app", tree: $tree, exec: ["/bin/probe"],
	          env: [$path, "AC_APP_NAME=app", "container=rkt"], uid: 0, gid: 0,
	          capabilities: {bounding: $caps, effective: $caps, permitted: $caps}}]}' |
		jq "$@" "$filter" >"$POD/plan.json"
	chmod 0600 "$POD/plan.json"
}

# sh_app CMD: the app runs /bin/sh -c CMD.
sh_app() {
	write_plan '.apps[0].exec = ["/bin/sh", "-c", $c]' --arg c "$1"
}

# Run stage1 the way stage0 does: pod dir locked, its fd in RKT_LOCK_FD. Tests that run
# several pods in one directory gc it first, as a pod dir is only ever run once.
stage1_run() {
	"$STAGE1" gc --pod-dir="$POD" >/dev/null
	(exec 9<"$POD" && flock -x 9 && RKT_LOCK_FD=9 exec "$STAGE1" run --pod-dir="$POD" "$@")
}

run_pod() {
	run --separate-stderr stage1_run "$@"
}

# Start the pod in the background; $POD_PID is rkt-stage1 (the subshell execs it).
start_pod() {
	"$STAGE1" gc --pod-dir="$POD" >/dev/null
	(exec 9<"$POD" && flock -x 9 && RKT_LOCK_FD=9 exec "$STAGE1" run --pod-dir="$POD") \
		>"$BATS_TEST_TMPDIR/bg.out" 2>"$BATS_TEST_TMPDIR/bg.err" 3>&- &
	POD_PID=$!
}

wait_file() { wait_for 5 test -e "$1"; } # FILE: until it exists, up to 5 s

mounts_under_pod() {
	grep -F " $POD/" /proc/self/mountinfo || true
}

@test "the app runs as PID 2 under the pod's init, in new pid/uts/ipc/net/mnt/cgroup namespaces" {
	has_probe
	write_plan
	run_pod
	[ "$status" -eq 0 ]
	[ "$(jq .pid <<<"$output")" -eq 2 ]
	[ "$(jq .ppid <<<"$output")" -eq 1 ]
	for ns in pid uts ipc net mnt cgroup; do
		host=$(stat -L -c %i /proc/self/ns/$ns)
		pod=$(jq ".namespaces.$ns" <<<"$output")
		[ "$pod" != "$host" ]
	done
	# The user namespace is the host's (no --private-users yet).
	[ "$(jq .namespaces.user <<<"$output")" = "$(stat -L -c %i /proc/self/ns/user)" ]
	[ -z "$stderr" ] || fail_with "stderr: $stderr"
	[ -f "$POD/started/app" ]
	[ "$(cat "$POD/status/app")" = 0 ]
}

@test "capabilities: a plan without them gives none; one stage1 cannot apply is fatal, naming the step" {
	has_probe
	write_plan 'del(.apps[0].capabilities)'
	run_pod
	[ "$status" -eq 0 ]
	z=0000000000000000
	[ "$(jq -r '[.CapBnd, .CapEff, .CapPrm, .CapInh, .CapAmb, .NoNewPrivs] | join(" ")' <<<"$output")" = "$z $z $z $z $z 1" ]
	# root: execve makes permitted and effective the bounding set again (file caps of uid 0)
	write_plan '.apps[0].noNewPrivileges = false | .apps[0].capabilities =
	  {bounding: ["CAP_KILL", "CAP_NET_ADMIN"], permitted: ["CAP_KILL"], effective: ["CAP_KILL"]}'
	run_pod
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.CapBnd, .CapEff, .CapPrm, .NoNewPrivs] | join(" ")' <<<"$output")" = "0000000000001020 0000000000001020 0000000000001020 0" ]
	# a capability this host does not let us hold cannot be made permitted: capset fails
	missing=$(python3 -c '
bnd = int([l.split()[1] for l in open("/proc/self/status") if l.startswith("CapBnd:")][0], 16)
print(next((i for i in range(41) if not bnd >> i & 1), ""))')
	[ -n "$missing" ] || skip "this host holds every capability"
	name=$(capsh --decode=$(printf '%x' $((1 << missing))) | sed 's/.*=//' | tr a-z A-Z)
	write_plan '.apps[0].capabilities = {bounding: [$c], permitted: [$c]}' --arg c "$name"
	run_pod
	[ "$status" -eq 125 ]
	grep -q "app 'app': capset" <<<"$stderr"
	[ ! -f "$POD/started/app" ] || [ "$(cat "$POD/status/app")" = 125 ]
}

@test "the hostname is the plan's, /etc/hosts names it, and the net namespace has only lo, up" {
	sh_app 'hostname; cat /etc/hosts; ls /sys/class/net; cat /sys/class/net/lo/flags'
	run_pod
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = rkt-6f1c2a3e ]
	grep -q '^127.0.0.1.*localhost.* rkt-6f1c2a3e$' <<<"$output"
	[ "$(grep -c . <<<"$(sed -n '/^::1/,$p' <<<"$output" | sed 1d)")" -eq 2 ]
	[ "${lines[-2]}" = lo ]
	# IFF_UP (0x1) | IFF_LOOPBACK (0x8)
	[ $((${lines[-1]} & 1)) -eq 1 ]
	# The host's hostname is untouched.
	[ "$(hostname)" != rkt-6f1c2a3e ]
}

@test "an image's own /etc/hosts is kept; net host shares the host's interfaces" {
	cp -a "$TREE" "$BATS_TEST_TMPDIR/tree2"
	echo '10.1.2.3 from-the-image' >"$BATS_TEST_TMPDIR/tree2/etc/hosts"
	write_plan '.net = "host" | .apps[0].tree = $t | .apps[0].exec = ["/bin/sh", "-c", "cat /etc/hosts; ls /sys/class/net | wc -l"]' \
		--arg t "$BATS_TEST_TMPDIR/tree2"
	run_pod
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '10.1.2.3 from-the-image' ]
	[ "${lines[1]}" -eq "$(ls /sys/class/net | wc -l)" ]
}

@test "/dev holds exactly the spec's nodes, a private devpts and a /dev/shm tmpfs" {
	sh_app 'ls -A /dev | tr "\n" " "; echo; for n in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$n; done; for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done; cat /proc/self/mountinfo'
	run_pod
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero " ]
	grep -qx '/dev/null character special file 1:3 666' <<<"$output"
	grep -qx '/dev/zero character special file 1:5 666' <<<"$output"
	grep -qx '/dev/full character special file 1:7 666' <<<"$output"
	grep -qx '/dev/random character special file 1:8 666' <<<"$output"
	grep -qx '/dev/urandom character special file 1:9 666' <<<"$output"
	grep -qx '/dev/tty character special file 5:0 666' <<<"$output"
	grep -qx 'pts/ptmx' <<<"$output"
	grep -qx '/proc/self/fd' <<<"$output"
	grep -qx '/proc/self/fd/0' <<<"$output"
	grep -qx '/proc/self/fd/2' <<<"$output"
	grep -q ' /dev rw,nosuid,nodev,noexec,.* - tmpfs .*mode=755' <<<"$output"
	grep -q ' /dev/pts rw,nosuid,noexec,.* - devpts .*ptmxmode=666' <<<"$output"
	grep -q ' /dev/shm rw,nosuid,nodev,noexec,.* - tmpfs ' <<<"$output"
	# A private devpts instance: the host's ptys are not there.
	sh_app 'ls /dev/pts | tr "\n" " "'
	run_pod
	[ "$output" = "ptmx " ]
}

@test "/proc and /sys are mounted; /sys and /proc/sys are read-only" {
	sh_app 'cat /proc/self/mountinfo; echo 1 >/proc/sys/kernel/domainname && echo PROCSYS-WRITABLE; touch /sys/kernel/x 2>/dev/null && echo SYS-WRITABLE; echo -n rkt-x >/proc/sys/kernel/hostname && echo HOSTNAME-WRITABLE; hostname'
	run_pod
	[ "$status" -eq 0 ]
	grep -q ' /proc rw,nosuid,nodev,noexec,.* - proc ' <<<"$output"
	grep -q ' /sys ro,nosuid,nodev,noexec,.* - sysfs ' <<<"$output"
	grep -q ' /proc/sys ro,' <<<"$output"
	! grep -q WRITABLE <<<"$output"
	[ "${lines[-1]}" = rkt-6f1c2a3e ]
}

@test "masked kernel paths read as empty" {
	local paths=()
	for p in /proc/timer_list /proc/keys /proc/interrupts /proc/kcore /proc/sched_debug \
		/proc/latency_stats /proc/timer_stats; do
		[ -f "$p" ] && [ "$(head -c 64 "$p" | wc -c)" -gt 0 ] && paths+=("$p")
	done
	[ "${#paths[@]}" -gt 0 ]
	sh_app "for p in ${paths[*]}; do echo \"\$p \$(head -c 64 \$p 2>/dev/null | wc -c)\"; done; ls -A /sys/firmware | wc -l; ls -A /proc/acpi | wc -l"
	run_pod
	[ "$status" -eq 0 ]
	for p in "${paths[@]}"; do
		grep -qx "$p 0" <<<"$output"
	done
	[ "$(ls -A /sys/firmware | wc -l)" -gt 0 ]
	[ "${lines[-2]}" -eq 0 ]
	[ "${lines[-1]}" -eq 0 ]
}

@test "an image whose /proc, /sys or /dev is a symlink is refused before exec" {
	for d in proc sys dev; do
		rm -rf "$BATS_TEST_TMPDIR/evil" "$BATS_TEST_TMPDIR/hostdir" "$POD"/{started,status,overlay,rootfs}
		mkdir "$BATS_TEST_TMPDIR/hostdir"
		cp -a "$TREE" "$BATS_TEST_TMPDIR/evil"
		ln -s "$BATS_TEST_TMPDIR/hostdir" "$BATS_TEST_TMPDIR/evil/$d"
		write_plan '.apps[0].tree = $t | .apps[0].exec = ["/bin/touch", "/ran"]' \
			--arg t "$BATS_TEST_TMPDIR/evil"
		run_pod
		[ "$status" -eq 125 ]
		grep -q "/$d is a symlink: refused" <<<"$stderr"
		[ ! -e "$POD/started/app" ]
		[ "$(cat "$POD/status/app")" = 125 ]
		[ -z "$(ls -A "$BATS_TEST_TMPDIR/hostdir")" ]
		"$STAGE1" gc --pod-dir="$POD"
	done
}

@test "image symlinks cannot aim stage1's own writes at the host (/etc/hosts, volume targets)" {
	local host_etc="$BATS_TEST_TMPDIR/host-etc" host_vol="$BATS_TEST_TMPDIR/host-vol"
	mkdir "$host_etc" "$host_vol" "$BATS_TEST_TMPDIR/src"
	cp -a "$TREE" "$BATS_TEST_TMPDIR/evil"
	rm -rf "$BATS_TEST_TMPDIR/evil/etc"
	ln -s "$host_etc" "$BATS_TEST_TMPDIR/evil/etc"
	ln -s "$host_vol" "$BATS_TEST_TMPDIR/evil/data"
	# The link's target inside the image exists: an in-root resolution lands there.
	mkdir -p "$BATS_TEST_TMPDIR/evil/$host_vol"
	write_plan '.apps[0].tree = $t | .apps[0].exec = ["/bin/ls", "/data/sub"] |
	            .apps[0].mounts = [{source: $s, target: "/data/sub"}]' \
		--arg t "$BATS_TEST_TMPDIR/evil" --arg s "$BATS_TEST_TMPDIR/src"
	run_pod
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$host_etc")" ]
	[ -z "$(ls -A "$host_vol")" ]
	[ -d "$POD/overlay/app/upper/$host_vol/sub" ]
	# A symlink to nowhere is refused rather than followed.
	rm -rf "$BATS_TEST_TMPDIR/evil/$host_vol" "$POD"/{overlay,rootfs}
	run_pod
	[ "$status" -eq 125 ]
	grep -q "is a symlink to nowhere" <<<"$stderr"
	[ -z "$(ls -A "$host_vol")" ]
}

@test "a chroot-and-climb escape from the app ends at the app's root (pivot_root, no chroot)" {
	local sentinel="$BATS_TEST_TMPDIR/sentinel"
	echo original >"$sentinel"
	write_plan '.apps[0].exec = ["/bin/escape", $s]' --arg s "$sentinel"
	run_pod
	[ "$output" = contained ]
	[ "$(cat "$sentinel")" = original ]
	sh_app "echo pwned >../../../../../../../..$sentinel; echo pwned >/../../..$sentinel; cd /proc/1/root && ls $sentinel"
	run_pod
	[ "$(cat "$sentinel")" = original ]
}

@test "the environment is exactly the plan's: nothing inherited" {
	has_probe
	write_plan '.apps[0].env = ["PATH=/bin", "AC_APP_NAME=app", "container=rkt", "A=1 2", "EMPTY="]'
	CANARY=leaked run_pod
	[ "$status" -eq 0 ]
	[ "$(jq -c .env <<<"$output")" = '["PATH=/bin","AC_APP_NAME=app","container=rkt","A=1 2","EMPTY="]' ]
}

@test "uid, gid and supplementary groups are the plan's" {
	has_probe
	write_plan '.apps[0].uid = 1000 | .apps[0].gid = 1001 | .apps[0].supplementaryGids = [5, 6, 1002]'
	run_pod
	[ "$status" -eq 0 ]
	[ "$(jq -c .uid <<<"$output")" = '{"real":1000,"effective":1000,"saved":1000}' ]
	[ "$(jq -c .gid <<<"$output")" = '{"real":1001,"effective":1001,"saved":1001}' ]
	[ "$(jq -c '.groups | sort' <<<"$output")" = '[5,6,1002]' ]
}

@test "the working directory is the plan's; a missing one fails with 125 before exec" {
	has_probe
	write_plan '.apps[0].workingDirectory = "/home/user" | .apps[0].uid = 1000'
	run_pod
	[ "$status" -eq 0 ]
	[ "$(jq -r .cwd <<<"$output")" = /home/user ]
	write_plan '.apps[0].workingDirectory = "/nonexistent"'
	run_pod
	[ "$status" -eq 125 ]
	grep -q "working directory '/nonexistent'" <<<"$stderr"
	[ -z "$output" ]
	# CVE-2024-21626 class: a magic link to an fd still open in stage1 (fd 9 is the pod dir
	# lock here) cannot serve as the working directory of a handler or the app.
	write_plan '.apps[0].workingDirectory = "/proc/self/fd/9" |
	            .apps[0].preStart = [["/bin/touch", "escaped-pre"]] | .apps[0].exec = ["/bin/touch", "escaped"]'
	run_pod
	[ "$status" -eq 125 ]
	[ ! -e "$POD/escaped-pre" ] && [ ! -e "$POD/escaped" ]
}

@test "only stdio reaches the app (no lock or pod fds); stdin is /dev/null" {
	has_probe
	write_plan
	run_pod 7<"$BATS_TEST_TMPDIR" <"$POD/plan.json"
	[ "$status" -eq 0 ]
	[ "$(jq -c '.fds | keys' <<<"$output")" = '["0","1","2"]' ]
	[ "$(jq -r '.fds["0"]' <<<"$output")" = /dev/null ]
}

@test "exit statuses: 0, 3, 126, 127 and 128+9, recorded in status/<app>" {
	for c in "0:/bin/true" "3:/bin/sh -c 'exit 3'" "126:/bin/noexec" "127:/bin/nonexistent" \
		"137:/bin/sh -c 'kill -9 \$\$'"; do
		want=${c%%:*}
		cmd=${c#*:}
		rm -rf "$POD"/{status,started}
		sh_app "exec $cmd"
		run "-$want" --separate-stderr stage1_run
		[ "$(cat "$POD/status/app")" = "$want" ]
	done
	# Exec failures say which file and why; the app was started (exec was reached).
	write_plan '.apps[0].exec = ["/bin/nonexistent"]'
	run -127 --separate-stderr stage1_run
	grep -q "cannot execute '/bin/nonexistent': No such file or directory" <<<"$stderr"
	write_plan '.apps[0].exec = ["/bin/noexec"]'
	run_pod
	[ "$status" -eq 126 ]
	grep -q "cannot execute '/bin/noexec': Permission denied" <<<"$stderr"
}

@test "two apps share PID/UTS/IPC/net namespaces but not their roots; the first failure in app order wins" {
	has_probe
	write_plan '.detached = true | .apps = [
	  (.apps[0] | .name = "a" | .exec = ["/bin/sh", "-c", "touch /tmp/from-a; probe; sleep 1; exit 5"]),
	  (.apps[0] | .name = "b" | .exec = ["/bin/sh", "-c", "sleep 0.3; ls /tmp; probe; exit 6"]),
	  (.apps[0] | .name = "c" | .exec = ["/bin/true"])]'
	run_pod
	[ "$status" -eq 5 ]
	[ "$(cat "$POD/status/a")" = 5 ]
	[ "$(cat "$POD/status/b")" = 6 ]
	[ "$(cat "$POD/status/c")" = 0 ]
	a=$(grep '^{' "$POD/log/a.log")
	b=$(grep '^{' "$POD/log/b.log")
	for ns in pid uts ipc net cgroup; do
		[ "$(jq .namespaces.$ns <<<"$a")" = "$(jq .namespaces.$ns <<<"$b")" ]
	done
	[ "$(jq .namespaces.mnt <<<"$a")" != "$(jq .namespaces.mnt <<<"$b")" ]
	# b cannot see a's file: separate roots (overlay upper dirs).
	! grep -q from-a "$POD/log/b.log"
	[ -e "$POD/overlay/a/upper/tmp/from-a" ]
}

@test "volumes: rw writes reach the host, ro ones are read-only all the way down, symlinked sources are refused" {
	local rw="$BATS_TEST_TMPDIR/rw" ro="$BATS_TEST_TMPDIR/ro"
	mkdir -p "$rw" "$ro/sub"
	echo keep >"$ro/file"
	mount -t tmpfs tmpfs "$ro/sub"
	HOST_MOUNTS+=("$ro/sub")
	write_plan '.apps[0].exec = ["/bin/sh", "-c", "echo hi >/rw/new; echo x >/ro/file || echo RO1; touch /ro/sub/x || echo RO2; grep -E \" /(ro|rw)(/sub)? \" /proc/self/mountinfo"] |
	            .apps[0].mounts = [{source: $rw, target: "/rw"},
	                               {source: $ro, target: "/ro", readOnly: true, recursive: true}]' \
		--arg rw "$rw" --arg ro "$ro"
	run_pod
	[ "$status" -eq 0 ]
	[ "$(cat "$rw/new")" = hi ]
	[ "$(cat "$ro/file")" = keep ]
	[ ! -e "$ro/sub/x" ]
	grep -qx RO1 <<<"$output"
	grep -qx RO2 <<<"$output"
	grep -q ' /ro ro,nosuid,nodev' <<<"$output"
	grep -q ' /ro/sub ro,nosuid,nodev' <<<"$output"
	grep -q ' /rw rw,nosuid,nodev' <<<"$output"
	# A source that is, or passes through, a symlink is refused.
	ln -s "$rw" "$BATS_TEST_TMPDIR/link"
	for src in "$BATS_TEST_TMPDIR/link" "$BATS_TEST_TMPDIR/link/."; do
		write_plan '.apps[0].mounts = [{source: $s, target: "/v"}]' --arg s "${src%/.}"
		run_pod
		[ "$status" -eq 125 ]
		grep -q "is or passes through a symlink" <<<"$stderr"
	done
	mkdir "$rw/d"
	write_plan '.apps[0].mounts = [{source: $s, target: "/v"}]' --arg s "$BATS_TEST_TMPDIR/link/d"
	run_pod
	[ "$status" -eq 125 ]
}

@test "empty volumes are resolved inside the pod dir, even when the pod dir is reached through a symlink" {
	mkdir -p "$POD/volumes/scratch"
	ln -s "$POD" "$BATS_TEST_TMPDIR/podlink"
	write_plan '.apps[0].exec = ["/bin/sh", "-c", "echo hi >/scratch/f"] |
	            .apps[0].mounts = [{source: $s, target: "/scratch", kind: "empty"}]' \
		--arg s "$BATS_TEST_TMPDIR/podlink/volumes/scratch"
	run --separate-stderr bash -c "exec 9<'$POD'; flock -x 9; RKT_LOCK_FD=9 exec '$STAGE1' run --pod-dir='$BATS_TEST_TMPDIR/podlink'"
	[ "$status" -eq 0 ]
	[ "$(cat "$POD/volumes/scratch/f")" = hi ]
	# Outside the pod dir, or through a symlink inside it: refused.
	mkdir "$BATS_TEST_TMPDIR/elsewhere"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$POD/volumes/link"
	for src in "$BATS_TEST_TMPDIR/elsewhere" "$POD/volumes/link"; do
		write_plan '.apps[0].exec = ["/bin/sh", "-c", "echo hi >/scratch/f"] |
		            .apps[0].mounts = [{source: $s, target: "/scratch", kind: "empty"}]' --arg s "$src"
		run_pod
		[ "$status" -eq 125 ]
		[ ! -e "$BATS_TEST_TMPDIR/elsewhere/f" ]
	done
}

@test "nested volumes: a target inside an earlier volume is made there; one on /proc is not" {
	local outer="$BATS_TEST_TMPDIR/outer" inner="$BATS_TEST_TMPDIR/inner"
	mkdir "$outer" "$inner"
	echo in >"$inner/f"
	write_plan '.apps[0].exec = ["/bin/cat", "/data/logs/f"] |
	            .apps[0].mounts = [{source: $o, target: "/data"}, {source: $i, target: "/data/logs"}]' \
		--arg o "$outer" --arg i "$inner"
	run_pod
	[ "$status" -eq 0 ]
	[ "$output" = in ]
	[ -d "$outer/logs" ]
}

@test "a volume target aimed at /proc through an image symlink is refused" {
	cp -a "$TREE" "$BATS_TEST_TMPDIR/evil"
	ln -s /proc/sys "$BATS_TEST_TMPDIR/evil/data"
	mkdir "$BATS_TEST_TMPDIR/src"
	write_plan '.apps[0].tree = $t | .apps[0].exec = ["/bin/true"] |
	            .apps[0].mounts = [{source: $s, target: "/data"}]' \
		--arg t "$BATS_TEST_TMPDIR/evil" --arg s "$BATS_TEST_TMPDIR/src"
	run_pod
	[ "$status" -eq 125 ]
	grep -q "resolves onto a mount that is not the app's root or one of its volumes" <<<"$stderr"
}

@test "device nodes the app makes open nothing, on its root, /dev, /dev/shm or a volume (nodev)" {
	mkdir "$BATS_TEST_TMPDIR/vol"
	write_plan '.apps[0].exec = ["/bin/sh", "-c", "for d in / /dev/ /dev/shm/ /vol/; do mknod ${d}null2 c 1 3 && echo made; echo x >${d}null2 || echo NODEV; done; echo x >/dev/null && head -c 4 /dev/zero | wc -c"] |
	            .apps[0].mounts = [{source: $v, target: "/vol"}]' --arg v "$BATS_TEST_TMPDIR/vol"
	run_pod
	[ "$status" -eq 0 ]
	[ "$(grep -cx made <<<"$output")" -eq 4 ]
	[ "$(grep -cx NODEV <<<"$output")" -eq 4 ]
	# The runtime's own nodes work.
	[ "${lines[-1]}" -eq 4 ]
}

@test "mounts made for the pod never propagate to the host, even from a shared mount" {
	local shared="$BATS_TEST_TMPDIR/shared"
	mkdir "$shared"
	mount --bind "$shared" "$shared"
	HOST_MOUNTS+=("$shared")
	mount --make-shared "$shared"
	POD="$shared/pod"
	mkdir -m 0750 "$POD"
	sh_app 'sleep 1'
	start_pod
	wait_file "$POD/started/app"
	[ -z "$(mounts_under_pod)" ]
	wait "$POD_PID"
	"$STAGE1" gc --pod-dir="$POD"
}

@test "readOnlyRootFS makes / read-only; writes otherwise go to overlay/<app>/upper, never to the tree" {
	write_plan '.apps[0].readOnlyRootFS = true | .apps[0].exec = ["/bin/sh", "-c", "touch /x || echo RO; grep \" / / \" /proc/self/mountinfo"]'
	run_pod
	[ "$status" -eq 0 ]
	grep -qx RO <<<"$output"
	grep -q ' / / ro,' <<<"$output"
	"$STAGE1" gc --pod-dir="$POD"
	before=$(find "$TREE" -printf '%p %s %T@\n' | sort | sha512sum)
	sh_app 'echo new >/x; echo changed >/etc/data; rm /bin/true'
	run_pod
	[ "$status" -eq 0 ]
	[ "$(cat "$POD/overlay/app/upper/x")" = new ]
	[ "$(find "$TREE" -printf '%p %s %T@\n' | sort | sha512sum)" = "$before" ]
	[ "$(cat "$TREE/etc/data")" = data ]
}

@test "noOverlay copies the tree (links kept, symlinks not followed) and leaves the tree untouched" {
	write_plan '.noOverlay = true | .apps[0].exec = ["/bin/sh", "-c", "stat -c \"%i %h\" /etc/data /etc/data-link; readlink /etc/data-sym; echo new >/etc/data; id -u; stat -c %U /home/user"]'
	run_pod
	[ "$status" -eq 0 ]
	[ "$(sed -n 1p <<<"$output" | cut -d' ' -f1)" = "$(sed -n 2p <<<"$output" | cut -d' ' -f1)" ]
	[ "$(sed -n 1p <<<"$output" | cut -d' ' -f2)" = 2 ]
	[ "${lines[2]}" = data ]
	[ "$(cat "$TREE/etc/data")" = data ]
	[ "$(cat "$POD/rootfs/app/etc/data")" = new ]
	[ "$(stat -c %u "$POD/rootfs/app/home/user")" = 1000 ]
	[ ! -e "$POD/overlay/app/upper" ]
}

@test "pre-start runs first and must succeed; post-stop runs after the app" {
	local vol="$BATS_TEST_TMPDIR/vol"
	mkdir "$vol"
	write_plan '.apps[0].exec = ["/bin/sh", "-c", "cat /v/log; echo app >>/v/log"] |
	            .apps[0].mounts = [{source: $v, target: "/v"}] |
	            .apps[0].preStart = [["/bin/sh", "-c", "echo pre1 >>/v/log"], ["/bin/sh", "-c", "echo pre2 >>/v/log"]] |
	            .apps[0].postStop = [["/bin/sh", "-c", "echo post >>/v/log; exit 4"]]' --arg v "$vol"
	run_pod
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'pre1\npre2')" ]
	[ "$(cat "$vol/log")" = "$(printf 'pre1\npre2\napp\npost')" ]
	# A failing pre-start handler stops the app before it starts.
	rm -rf "$vol/log" "$POD"/{started,status}
	write_plan '.apps[0].exec = ["/bin/touch", "/v/app-ran"] |
	            .apps[0].mounts = [{source: $v, target: "/v"}] |
	            .apps[0].preStart = [["/bin/sh", "-c", "exit 9"]]' --arg v "$vol"
	run_pod
	[ "$status" -eq 9 ]
	[ ! -e "$vol/app-ran" ]
	[ ! -e "$POD/started/app" ]
	grep -q "pre-start handler '/bin/sh' failed with status 9" <<<"$stderr"
}

@test "detached pods write app output to log/<app>.log" {
	write_plan '.detached = true | .apps[0].exec = ["/bin/sh", "-c", "echo out; echo err >&2"]'
	run_pod
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(cat "$POD/log/app.log")" = "$(printf 'out\nerr')" ]
}

@test "the pod dir stays locked exactly as long as the pod runs; pid names the init" {
	sh_app 'sleep 1'
	start_pod
	wait_file "$POD/started/app"
	! flock -n "$POD" true
	init=$(cat "$POD/pid")
	[ "$(grep NSpid "/proc/$init/status" | awk '{print $3}')" = 1 ]
	wait "$POD_PID"
	flock -n "$POD" true
	[ ! -e "/proc/$init" ] || ! grep -q NSpid "/proc/$init/status"
}

@test "SIGTERM to rkt-stage1 reaches the apps; the pod exits 128+15" {
	sh_app 'sleep 30'
	start_pod
	wait_file "$POD/started/app"
	kill -TERM "$POD_PID"
	st=0
	wait "$POD_PID" || st=$?
	[ "$st" -eq 143 ]
	[ "$(cat "$POD/status/app")" = 143 ]
}

@test "gc removes overlay/ and rootfs/, leaves no mounts, and is idempotent" {
	write_plan '.apps[0].exec = ["/bin/true"]'
	run_pod
	[ "$status" -eq 0 ]
	[ -d "$POD/overlay/app/upper" ]
	[ -s "$POD/mounts" ]
	run "$STAGE1" gc --pod-dir="$POD"
	[ "$status" -eq 0 ]
	[ ! -e "$POD/overlay" ] && [ ! -e "$POD/rootfs" ] && [ ! -e "$POD/mounts" ]
	[ -z "$(mounts_under_pod)" ]
	[ "$(cat "$POD/status/app")" = 0 ]
	run "$STAGE1" gc --pod-dir="$POD"
	[ "$status" -eq 0 ]
	# Not a pod directory: nothing is removed.
	mkdir -p "$BATS_TEST_TMPDIR/other/rootfs"
	run "$STAGE1" gc --pod-dir="$BATS_TEST_TMPDIR/other"
	[ "$status" -eq 1 ]
	[ -d "$BATS_TEST_TMPDIR/other/rootfs" ]
}

@test "gc unmounts what is mounted under the pod dir, deepest first, and never empties a bind" {
	local data="$BATS_TEST_TMPDIR/data"
	mkdir -p "$data" "$POD/rootfs/app/vol" "$POD/overlay/app"
	echo precious >"$data/file"
	mount --bind "$data" "$POD/rootfs/app/vol"
	mount -t tmpfs tmpfs "$POD/rootfs/app/vol"
	HOST_MOUNTS+=("$POD/rootfs/app/vol" "$POD/rootfs/app/vol")
	# Hints through an image's symlink, or out of the pod dir, are skipped, not followed.
	ln -s / "$POD/rootfs/app/link"
	printf 'rootfs/app/vol\nrootfs/app/link/proc\n../../x\n/proc\n' >"$POD/mounts"
	write_plan
	run "$STAGE1" gc --pod-dir="$POD"
	[ "$status" -eq 0 ]
	[ -z "$(mounts_under_pod)" ]
	[ "$(cat "$data/file")" = precious ]
	[ ! -e "$POD/rootfs" ]
}

@test "kill -9 of rkt-stage1 at any point takes the pod down, and gc cleans up after it" {
	sh_app 'sleep 30'
	for delay in 0 0.001 0.003 0.006 0.01 0.03; do
		rm -rf "$POD"/{started,status,pid}
		start_pod
		sleep $delay
		kill -9 "$POD_PID"
		wait "$POD_PID" || true
		# The init (PR_SET_PDEATHSIG) and with it every process of the pod go too.
		if [ -e "$POD/pid" ]; then
			init=$(cat "$POD/pid")
			# (up to 10 s: the kernel tears a PID namespace down asynchronously, slower under load)
			for _ in $(seq 1000); do [ -e "/proc/$init" ] || break; sleep 0.01; done
			[ ! -e "/proc/$init" ] || grep -q '^State:.*Z' "/proc/$init/status"
		fi
		for _ in $(seq 1000); do
			[ -n "$(pgrep -f 'sleep 30' | xargs -r -I{} readlink /proc/{}/cwd | grep -F "$POD")" ] || break
			sleep 0.01
		done
		! pgrep -f 'sleep 30' >/dev/null || [ -z "$(pgrep -f 'sleep 30' | xargs -r -I{} readlink /proc/{}/cwd | grep -F "$POD")" ]
		flock -n "$POD" true
		run "$STAGE1" gc --pod-dir="$POD"
		[ "$status" -eq 0 ]
		[ ! -e "$POD/overlay" ] && [ ! -e "$POD/rootfs" ]
		[ -z "$(mounts_under_pod)" ]
	done
}

@test "CVE-2019-5736: /proc/1/exe is a sealed memfd copy; neither it nor the host binary can be written" {
	local before
	before=$(sha512sum <"$STAGE1")
	# Landlock off: it would refuse /proc/1/exe (outside the app's tree) before the memfd
	# defence is reached (85-landlock-selinux.bats tests that separately)
	write_plan '.apps[0].exec = ["/bin/sh", "-c", $c] | .apps[0].landlock = false' --arg c 'readlink /proc/1/exe; echo pwned >/proc/1/exe && echo WROTE1; dd if=/bin/busybox of=/proc/1/exe conv=notrunc 2>/dev/null && echo WROTE2; exec 5</proc/1/exe; echo pwned >/proc/self/fd/5 && echo WROTE3; true'
	run_pod
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == /memfd:rkt-stage1* ]]
	! grep -q WROTE <<<"$output"
	[ "$(sha512sum <"$STAGE1")" = "$before" ]
	# Seen from the host, the pod's init runs from the memfd too.
	rm -rf "$POD"/{started,status,pid}
	sh_app 'sleep 1'
	start_pod
	wait_file "$POD/started/app"
	[[ "$(readlink "/proc/$(cat "$POD/pid")/exe")" == /memfd:rkt-stage1* ]]
	[[ "$(readlink "/proc/$POD_PID/exe")" == /memfd:rkt-stage1* ]]
	wait "$POD_PID"
	[ "$(sha512sum <"$STAGE1")" = "$before" ]
}

@test "a bad plan, an unlocked pod dir or a missing RKT_LOCK_FD fail with 125 before any app" {
	write_plan '.apps[0].exec = ["/bin/touch", "/ran"]'
	chmod 0666 "$POD/plan.json"
	run_pod
	[ "$status" -eq 125 ]
	grep -q 'plan.json must be a regular file owned by' <<<"$stderr"
	write_plan '.apps[0].exec = ["/bin/touch", "/ran"] | .apps[0].isolators = []'
	run_pod
	[ "$status" -eq 125 ]
	grep -q 'unknown key "isolators"' <<<"$stderr"
	write_plan '.apps[0].exec = ["/bin/touch", "/ran"]'
	run --separate-stderr "$STAGE1" run --pod-dir="$POD"
	[ "$status" -eq 125 ]
	grep -q 'RKT_LOCK_FD is not set' <<<"$stderr"
	run --separate-stderr env RKT_LOCK_FD=7 "$STAGE1" run --pod-dir="$POD" 7<"$POD"
	[ "$status" -eq 125 ]
	grep -q 'is not locked' <<<"$stderr"
	run --separate-stderr env RKT_LOCK_FD=7 "$STAGE1" run --pod-dir="$POD" 7<"$BATS_TEST_TMPDIR"
	[ "$status" -eq 125 ]
	grep -q 'is not the pod directory' <<<"$stderr"
	[ ! -e "$POD/started" ]
}

@test "interactive: the app gets rkt's terminal, and /dev/console is that terminal" {
	write_plan '.interactive = true | .apps[0].exec = ["/bin/sh", "-c", "test -t 0 && echo TTY; ls /dev | grep -c console; stat -c %t:%T /dev/console; stat -L -c %t:%T /proc/self/fd/0"]'
	run script -qec "exec 9<'$POD'; flock -x 9; RKT_LOCK_FD=9 exec '$STAGE1' run --pod-dir='$POD'" /dev/null
	[ "$status" -eq 0 ]
	out=$(tr -d '\r' <<<"$output")
	grep -qx TTY <<<"$out"
	grep -qx 1 <<<"$out"
	[ "$(sed -n 3p <<<"$out")" = "$(sed -n 4p <<<"$out")" ]
}
