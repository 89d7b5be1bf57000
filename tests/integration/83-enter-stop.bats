#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# rkt enter and rkt stop against live pods whose app is the probe (tests/probe/probe.c) in
# "serve" mode: it prints its report and identity lines to rkt's stdout, then sleeps. enter must
# reproduce the app's isolation field by field (rkt's unfixed CVE-2019-10144/10145/10147); stop
# signals only the pod's init, through a pidfd checked against the recorded start time.
# Same images and helpers as 70-pods.bats and 80-isolators.bats.

load helpers

setup_file() {
	local l=$BATS_FILE_TMPDIR/layout
	probe_layout "$l" sh sleep true cat || return 1
	mkdir -p "$l/rootfs/v"
	manifest example.com/probe '"exec":["/bin/probe","serve"],"user":"0","group":"0"' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/probe.aci" >/dev/null
	manifest example.com/user '"exec":["/bin/probe","serve"],"user":"user","group":"users",
	  "supplementaryGIDs":[50],"workingDirectory":"/v",
	  "environment":[{"name":"FOO","value":"image"}]' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/user.aci" >/dev/null
	# a post-stop handler that leaves evidence in a volume
	manifest example.com/handler '"exec":["/bin/probe","serve"],"user":"0","group":"0",
	  "eventHandlers":[{"name":"post-stop","exec":["/bin/sh","-c","echo post-stop >/v/evidence"]}],
	  "mountPoints":[{"name":"v","path":"/v"}]' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/handler.aci" >/dev/null
	manifest example.com/plain '"exec":["/bin/probe"],"user":"0","group":"0"' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/plain.aci" >/dev/null
	manifest example.com/sleeper '"exec":["/bin/sleep","1000"],"user":"0","group":"0"' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/sleeper.aci" >/dev/null
	# an app that ignores SIGTERM (its children inherit the ignored disposition)
	manifest example.com/stubborn '"exec":["/bin/sh","-c","trap \"\" TERM; while :; do sleep 1; done"],
	  "user":"0","group":"0"' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/stubborn.aci" >/dev/null
}

setup() {
	pod_setup
	PROBE_ACI=$BATS_FILE_TMPDIR/probe.aci
	USER_ACI=$BATS_FILE_TMPDIR/user.aci
	HANDLER_ACI=$BATS_FILE_TMPDIR/handler.aci
	SLEEPER_ACI=$BATS_FILE_TMPDIR/sleeper.aci
	STUBBORN_ACI=$BATS_FILE_TMPDIR/stubborn.aci
}

teardown() {
	local p
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done
	[ -n "${SLEEPER:-}" ] && kill -9 "$SLEEPER" 2>/dev/null || true
	[ -d "$D/pods" ] && "$RKT" --dir="$D" gc --grace-period=0s >/dev/null 2>&1 || true
}

G() { echo --dir="$D" --local-config="$T/lc" --system-config="$T/sc"; }
rk() { rkt_run $(G) "$@"; }
# rkt_bg ARGS... &: in the background only; exec, so that $! is rkt's (then stage1's) PID
rkt_bg() {
	net_none "$@"
	exec "$RKT" $(G) --insecure-options=image "${NN_ARGS[@]}"
}

lines_in() { [ "$(wc -l <"$1")" -ge "$2" ]; }

# serve NAME ARGS...: starts "rkt run ARGS" in the background with stdout in $T/NAME.out and the
# UUID in $T/NAME.uuid; waits until the app has printed its two lines; sets UUID.
serve() {
	local name=$1
	shift
	rkt_bg run --uuid-file-save="$T/$name.uuid" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	wait_for 20 lines_in "$T/$name.out" 2 || fail_with "the app did not report: $(cat "$T/$name.err")"
	UUID=$(cat "$T/$name.uuid")
}

# same_isolation APP_OUT ENTER_OUT: the report and identity lines agree on every field but the
# pid, the ppid and what fds 0-2 point to (the same fds must be open).
same_isolation() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][:2]
b = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")][:2]
if len(a) != 2 or len(b) != 2:
    sys.exit("expected a report and an identity line from each side")
bad = []
for x, y in zip(a, b):
    for k in sorted(set(x) | set(y)):
        if k in ("pid", "ppid"):
            continue
        u, v = x.get(k), y.get(k)
        if k == "fds":
            u, v = sorted(u), sorted(v)
        if u != v:
            bad.append("%s: app %r, enter %r" % (k, u, v))
if bad:
    sys.exit("\n".join(bad))
EOF
}

json() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1].splitlines()[0]); print(eval(sys.argv[2]))' "$output" "$1"
}

@test "enter runs with exactly the app's isolation (root app)" {
	serve app --insecure-options=image "$PROBE_ACI"
	# enter's caller has other limits and OOM score than run's: the command gets the app's
	run --separate-stderr bash -c 'ulimit -S -n 100; echo 300 >/proc/self/oom_score_adj; exec "$@"' \
		- "$RKT" $(G) enter "$UUID" /bin/probe all
	[ "$status" -eq 0 ] || fail_with "enter: $status $stderr"
	printf '%s\n' "$output" >"$T/enter.out"
	same_isolation "$T/app.out" "$T/enter.out"
	# and it is the hardened set, not merely equal
	[ "$(json 'd["Seccomp"]')" = 2 ]
	[ "$(json 'd["NoNewPrivs"]')" = 1 ]
	[ "$(json 'd["CapBnd"]')" = 00000000800405fb ]
	[ "$(json 'sorted(d["fds"])')" = "['0', '1', '2']" ]
}

@test "enter runs with exactly the app's isolation (user app, groups, cwd, caps retained)" {
	serve app --insecure-options=image "$USER_ACI" --caps-retain=CAP_NET_BIND_SERVICE \
		--memory=64Mi --cpu=500m
	# another user's limits are read from /proc/<pid>/limits (prlimit would need
	# CAP_SYS_RESOURCE, which a host may not give rkt)
	run --separate-stderr bash -c 'ulimit -S -n 64; exec "$@"' - "$RKT" $(G) enter "$UUID" -- /bin/probe all
	[ "$status" -eq 0 ] || fail_with "enter: $status $stderr"
	printf '%s\n' "$output" >"$T/enter.out"
	same_isolation "$T/app.out" "$T/enter.out"
	[ "$(json 'd["uid"]["effective"]')" = 1000 ]
	[ "$(json 'd["groups"]')" = "[50]" ]
	# the command is in the app's memory, cpu and pids cgroups (the second line of the report)
	python3 - "$T/enter.out" <<'PY' || fail_with "cgroups: $(sed -n 2p "$T/enter.out")"
import json, sys
cg = json.loads(open(sys.argv[1]).read().splitlines()[1])["cgroup"]
for c in ("memory", "cpu", "pids"):
    assert any(l.split(":")[1].split(",").count(c) and l.endswith(":/user") for l in cg), (c, cg)
PY
	[ "$(json 'd["cwd"]')" = /v ]
	[ "$(json 'd["CapAmb"]')" = 0000000000000400 ]
	contains "$output" '"FOO=image"'
}

@test "enter matches an app without no_new_privs (filter loaded before the caps drop)" {
	serve app --insecure-options=image --no-new-privileges=false "$USER_ACI"
	rk enter "$UUID" /bin/probe all
	[ "$status" -eq 0 ] || fail_with "enter: $status $stderr"
	printf '%s\n' "$output" >"$T/enter.out"
	same_isolation "$T/app.out" "$T/enter.out"
	[ "$(json 'd["NoNewPrivs"]')" = 0 ]
	[ "$(json 'd["Seccomp"]')" = 2 ]
}

@test "--private-users: enter joins the pod's user namespace at the app's step" {
	serve app --insecure-options=image --private-users "$PROBE_ACI"
	rk enter "$UUID" /bin/probe all
	[ "$status" -eq 0 ] || fail_with "enter: $status $stderr"
	printf '%s\n' "$output" >"$T/enter.out"
	same_isolation "$T/app.out" "$T/enter.out"
	[ "$(json 'd["namespaces"]["user"]')" != "$(stat -L -c %i /proc/self/ns/user)" ]
	# root in the pod is not root on the host, for the entered command too
	[[ "$(sed -n 2p "$T/enter.out")" != *'"         0          0 '* ]] || fail_with "identity map"
	rk enter "$UUID" /bin/probe unshare-user
	[ "$(json 'd["unshare-user"]')" != OK ]
}

@test "Landlock reaches enter too: no escape through /proc/1/root (the pod's init has the host's root)" {
	python3 -c 'import ctypes; exit(ctypes.CDLL(None).syscall(444, None, 0, 1) < 1)' ||
		skip "no Landlock in this kernel"
	echo "HOST-SENTINEL-$$" >"$T/sentinel"
	chmod 0600 "$T/sentinel"
	# every other defence off, so only Landlock stands in the way
	serve app --insecure-options=image,capabilities,seccomp "$PROBE_ACI"
	rk enter "$UUID" /bin/probe open "/proc/1/root$T/sentinel"
	[ "$(json 'd["open"]["result"]')" = EACCES ] || fail_with "$output $stderr"
	[[ $output != *HOST-SENTINEL* ]]
	rk stop --force "$UUID"
	# the oracle: the same pod without Landlock, where enter does read the host's file
	serve raw --insecure-options=image,capabilities,seccomp,landlock "$PROBE_ACI"
	rk enter "$UUID" /bin/probe open "/proc/1/root$T/sentinel"
	[ "$(json 'd["open"]["result"]')" = OK ] || fail_with "no hole to close? $output $stderr"
	contains "$output" "HOST-SENTINEL-$$"
}

@test "a trojaned binary run by enter is as powerless as the app (CVE-2019-10144/10145)" {
	serve app --insecure-options=image "$PROBE_ACI"
	local calls="mount-fs socket mknod ptrace unshare keyctl bpf io_uring_setup kexec_load setns"
	rk enter "$UUID" /bin/probe syscall $calls
	[ "$status" -eq 0 ]
	local via_enter=$output
	# the same image's app, run directly (exec "/bin/probe" instead of "/bin/probe serve")
	rkt_run $(G) --insecure-options=image run "$BATS_FILE_TMPDIR/plain.aci" -- syscall $calls ---
	[ "$status" -eq 0 ]
	[ "$via_enter" = "$output" ] || fail_with "enter: $via_enter; app: $output"
	output=$via_enter
	[ "$(json 'd["syscalls"]["mount-fs"]')" = EPERM ]
	[ "$(json 'd["syscalls"]["socket"]')" = EPERM ]
	[ "$(json 'd["syscalls"]["keyctl"]')" != OK ]
}

@test "the comparison catches a missing isolator (oracle: a pod without seccomp)" {
	serve app --insecure-options=image "$PROBE_ACI"
	serve raw --insecure-options=image,seccomp "$PROBE_ACI"
	run same_isolation "$T/app.out" "$T/raw.out"
	[ "$status" -ne 0 ]
	contains "$output" "Seccomp"
}

@test "enter holds no fd of the caller's" {
	serve app --insecure-options=image "$PROBE_ACI"
	exec 7</etc/passwd 8>"$T/leak"
	rk enter "$UUID" /bin/probe
	exec 7<&- 8>&-
	[ "$status" -eq 0 ]
	[ "$(json 'sorted(d["fds"])')" = "['0', '1', '2']" ] || fail_with "fds: $(json 'd["fds"]')"
}

@test "the enter helper runs from a sealed memfd and holds only stdio and its error pipe" {
	serve app --insecure-options=image "$PROBE_ACI"
	"$RKT" $(G) enter "$UUID" /bin/sleep 3 </dev/null >"$T/e.out" 2>"$T/e.err" &
	local rkt=$! helper= n=0
	while [ -z "$helper" ] && [ $n -lt 100 ]; do
		# rkt -> rkt-stage1 enter (host PID ns) -> the command (pod PID ns)
		helper=$(cat /proc/$rkt/task/*/children 2>/dev/null | tr -d ' ')
		if [ -n "$helper" ] && [ -z "$(cat /proc/$helper/task/*/children 2>/dev/null)" ]; then
			helper=
		fi
		n=$((n + 1))
		sleep 0.05
	done
	[ -n "$helper" ] || fail_with "no enter helper found under rkt ($rkt)"
	contains "$(readlink /proc/$helper/exe)" "memfd:rkt-stage1"
	local f t
	for f in /proc/$helper/fd/*; do
		t=$(readlink "$f")
		case ${f##*/}:$t in
		0:/dev/null | 1:"$T/e.out" | 2:"$T/e.err" | [3-9]:pipe:* | [1-9][0-9]:pipe:*) ;;
		*) fail_with "enter helper holds fd ${f##*/} -> $t" ;;
		esac
	done
	wait "$rkt"
}

@test "enter --app chooses among several apps; without it the apps are listed" {
	serve app --insecure-options=image "$PROBE_ACI" --name=a "$SLEEPER_ACI" --name=b
	wait_for 10 test -e "$D/pods/run/$UUID/started/b"
	rk enter "$UUID" /bin/probe
	[ "$status" -eq 2 ]
	contains "$stderr" "several apps (a, b)"
	[ "${#stderr_lines[@]}" -eq 1 ]
	rk enter --app=c "$UUID" /bin/probe
	[ "$status" -eq 1 ]
	contains "$stderr" "no app 'c' (its apps: a, b)"
	rk enter --app=b "$UUID" /bin/probe
	[ "$status" -eq 0 ]
	local b_mnt
	b_mnt=$(json 'd["namespaces"]["mnt"]')
	contains "$output" '"AC_APP_NAME=b"'
	rk enter --app=a "$UUID" /bin/probe all
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$T/enter.out"
	same_isolation "$T/app.out" "$T/enter.out"
	# each app has its own mount namespace, and enter joined the one asked for
	[ "$(json 'd["namespaces"]["mnt"]')" != "$b_mnt" ]
}

@test "enter: the command's exit status; 127 for a missing command" {
	serve app --insecure-options=image "$PROBE_ACI"
	rk enter "$UUID" /bin/probe exit 7
	[ "$status" -eq 7 ]
	run -127 --separate-stderr "$RKT" $(G) enter "$UUID" /bin/nonexistent
	rk enter "$UUID" probe exit 0 # searched in the app's PATH
	[ "$status" -eq 0 ]
	rk enter "$UUID" </dev/null # the default shell, here busybox's /bin/sh
	[ "$status" -eq 0 ]
}

@test "enter into an unknown, exited or missing pod is a one-line error" {
	rk enter 00000000-0000-4000-8000-000000000000
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	rk enter
	[ "$status" -eq 2 ]
	rkt_run $(G) --insecure-options=image run --uuid-file-save="$T/uuid" "$PROBE_ACI" --exec=/bin/true
	[ "$status" -eq 0 ]
	rk enter "$(cat "$T/uuid")" /bin/probe
	[ "$status" -eq 1 ]
	contains "$stderr" "is not running"
	[ "${#stderr_lines[@]}" -eq 1 ]
	rk stop "$(cat "$T/uuid")"
	[ "$status" -eq 1 ]
	contains "$stderr" "is not running"
	rk stop
	[ "$status" -eq 2 ]
	rk stop --timeout=soon "$(cat "$T/uuid")"
	[ "$status" -eq 2 ]
}

@test "stop: SIGTERM reaches the app and its post-stop handler runs" {
	mkdir "$T/vol"
	serve app --insecure-options=image --volume=v,kind=host,source="$T/vol" "$HANDLER_ACI"
	local pid=$!
	# with a post-stop handler the app runs under a supervisor: enter still matches the app
	rk enter "$UUID" /bin/probe all
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" >"$T/enter.out"
	same_isolation "$T/app.out" "$T/enter.out"
	local t0=$SECONDS
	rk stop "$UUID"
	[ "$status" -eq 0 ] || fail_with "stop: $stderr"
	[ "$output" = "$UUID" ]
	[ $((SECONDS - t0)) -lt 8 ]
	[ "$(cat "$T/vol/evidence")" = post-stop ]
	rk status "$UUID"
	contains "$output" "state=exited"
	contains "$output" "app-handler=143"
	wait "$pid" || true
}

@test "stop --force kills at once: no post-stop handler" {
	mkdir "$T/vol"
	serve app --insecure-options=image --volume=v,kind=host,source="$T/vol" "$HANDLER_ACI"
	rk stop --force "$UUID"
	[ "$status" -eq 0 ]
	[ ! -e "$T/vol/evidence" ]
	rk status "$UUID"
	contains "$output" "state=exited"
}

@test "stop sends SIGKILL when SIGTERM is ignored past the timeout" {
	rkt_bg run --uuid-file-save="$T/uuid" "$STUBBORN_ACI" >/dev/null 2>&1 &
	wait_for 10 test -s "$T/uuid"
	UUID=$(cat "$T/uuid")
	wait_for 10 test -e "$D/pods/run/$UUID/started/stubborn"
	sleep 0.5
	local t0=$SECONDS
	rk stop --timeout=1s "$UUID"
	[ "$status" -eq 0 ] || fail_with "stop: $stderr"
	contains "$stderr" "did not stop within 1 s"
	[ $((SECONDS - t0)) -lt 8 ]
	rk status "$UUID"
	contains "$output" "state=exited"
}

@test "stop never signals a process that merely has the pid file's PID" {
	serve app --insecure-options=image "$PROBE_ACI"
	sleep 1000 &
	SLEEPER=$!
	local p=$D/pods/run/$UUID
	cp "$p/pid" "$T/pid.saved"
	cp "$p/pids/init" "$T/init.saved"
	# the pid file alone rewritten: it no longer matches what stage1 recorded
	printf '%d' "$SLEEPER" >"$p/pid"
	rk stop --force "$UUID"
	[ "$status" -eq 1 ]
	kill -0 "$SLEEPER"
	# both rewritten, as if init had exited and its PID been reused: the start time differs
	printf '%d %s' "$SLEEPER" "$(cut -d' ' -f2 "$T/init.saved")" >"$p/pids/init"
	rk stop --force "$UUID"
	[ "$status" -eq 1 ]
	contains "$stderr" "PID was reused"
	kill -0 "$SLEEPER"
	# enter checks the same way
	printf '%d %s' "$SLEEPER" "$(cut -d' ' -f2 "$p/pids/app-probe")" >"$p/pids/app-probe"
	rk enter "$UUID" /bin/probe
	[ "$status" -eq 125 ]
	contains "$stderr" "PID was reused"
	kill -0 "$SLEEPER"
	# the pod was not touched, and stops once the records are right again
	cp "$T/pid.saved" "$p/pid"
	cp "$T/init.saved" "$p/pids/init"
	rk status "$UUID"
	contains "$output" "state=running"
	rk stop "$UUID"
	[ "$status" -eq 0 ]
	kill -0 "$SLEEPER"
}

@test "enter and stop leave audit records with the isolators and the outcome" {
	serve app --insecure-options=image "$PROBE_ACI"
	rk enter "$UUID" /bin/probe exit 3
	[ "$status" -eq 3 ]
	rk stop "$UUID"
	[ "$status" -eq 0 ]
	rk audit list --format=json
	[ "$status" -eq 0 ]
	python3 - "$output" "$UUID" <<'EOF'
import json, sys
recs = json.loads(sys.argv[1])
uuid = sys.argv[2]
e = [r for r in recs if r["event"] == "enter" and r["pod"] == uuid]
s = [r for r in recs if r["event"] == "stop" and r["pod"] == uuid]
assert len(e) == 1 and len(s) == 1, recs
e, s = e[0], s[0]
assert e["app"] == "probe" and e["command"] == ["/bin/probe", "exit", "3"], e
assert e["exitStatus"] == 3, e
iso = e["isolators"]
assert iso["noNewPrivileges"] is True and len(iso["seccomp"]) == 128, iso
assert "CAP_CHOWN" in iso["capabilities"]["bounding"] and iso["uid"] == 0, iso
assert s["result"] == "stopped" and s["force"] is False, s
EOF
	rk audit verify
	[ "$status" -eq 0 ]
}
