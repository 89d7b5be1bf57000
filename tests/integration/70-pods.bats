#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Pods: rkt prepare | run | run-prepared | list | status | cat-manifest | rm | gc, driving the
# real rkt and rkt-stage1 with images built from busybox-static and the test probe
# (tests/probe/probe.c), admitted with --insecure-options=image. Tests that run a pod are
# skipped while $RKT_BUILD/rkt-stage1 does not exist; the others need only rkt.
#
# Every test uses its own --dir, --local-config and --system-config under $BATS_TEST_TMPDIR.

load helpers

setup_file() {
	local b=${RKT_BUILD:-build}
	case $b in /*) ;; *) b=$REPO_ROOT/$b ;; esac
	[ -x "$b/probe" ] || {
		echo "no $b/probe: run 'make tests' first" >&2
		return 1
	}
	local busybox
	busybox=$(command -v busybox) || {
		echo "busybox-static is needed" >&2
		return 1
	}
	local l=$BATS_FILE_TMPDIR/layout
	mkdir -p "$l/rootfs/bin" "$l/rootfs/etc" "$l/rootfs/data" "$l/rootfs/work"
	cp "$busybox" "$l/rootfs/bin/busybox"
	cp "$b/probe" "$l/rootfs/bin/probe"
	for a in sh sleep cat echo true false ls id; do ln -s busybox "$l/rootfs/bin/$a"; done
	printf 'not executable\n' >"$l/rootfs/bin/noexec"
	chmod 0644 "$l/rootfs/bin/noexec"
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1001::/home/user:/bin/sh\n' >"$l/rootfs/etc/passwd"
	printf 'root:x:0:\nstaff:x:50:\nusers:x:1001:\n' >"$l/rootfs/etc/group"
	manifest example.com/probe '"exec":["/bin/probe"],"user":"0","group":"0"' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/probe.aci" >/dev/null
	# the same tree, with a user and group by name, environment and mount points
	manifest example.com/app '"exec":["probe"],"user":"user","group":"staff",
	  "environment":[{"name":"FOO","value":"image"},{"name":"BAR","value":"image"}],
	  "mountPoints":[{"name":"data","path":"/data","readOnly":true},{"name":"work","path":"/work"}]' \
		>"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/app.aci" >/dev/null
}

setup() {
	T=$BATS_TEST_TMPDIR
	D=$T/data
	B=${RKT_BUILD:-build}
	case $B in /*) ;; *) B=$REPO_ROOT/$B ;; esac
	PROBE_ACI=$BATS_FILE_TMPDIR/probe.aci
	APP_ACI=$BATS_FILE_TMPDIR/app.aci
	SPEC_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
}

teardown() {
	# never leave a pod running or mounted behind a failed test
	local p
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done
	[ -d "$D/pods" ] && "$RKT" --dir="$D" gc --grace-period=0s >/dev/null 2>&1 || true
}

G() { echo --dir="$D" --local-config="$T/lc" --system-config="$T/sc"; }
rk() { rkt_run $(G) "$@"; }
rki() { rkt_run $(G) --insecure-options=image "$@"; }
# rkt_bg ARGS... &: in the background only; exec, so that $! is rkt's (then stage1's) PID
rkt_bg() {
	net_none "$@"
	exec "$RKT" $(G) --insecure-options=image "${NN_ARGS[@]}"
}

need_stage1() {
	[ -x "$B/rkt-stage1" ] || skip "no $B/rkt-stage1 yet: running a pod needs stage1"
}

# json EXPR: evaluates a Python expression over d = the JSON in $output
json() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$output" "$1"
}

fetch() { # ACI: prints the full image ID
	"$RKT" $(G) --insecure-options=image fetch --full "$1" 2>/dev/null
}

pod_dirs() { find "$D/pods" -mindepth 2 -maxdepth 2 -type d | wc -l; }
mounts_under() { grep -c -F " $1" /proc/self/mountinfo || true; }

# no pod directory, no mount under the data dir, no rendered tree left
all_clean() {
	[ "$(pod_dirs)" = 0 ] || fail_with "pods left: $(find "$D/pods" -mindepth 2 -maxdepth 2)"
	[ "$(mounts_under "$D/")" = 0 ] || fail_with "mounts left: $(grep -F "$D/" /proc/self/mountinfo)"
	[ -z "$(ls -A "$D/cas/tree")" ] || fail_with "trees left: $(ls "$D/cas/tree")"
}

has_entries() { [ -n "$(ls -A "$1" 2>/dev/null)" ]; }

# ---- without stage1 ----

@test "prepare prints a UUID; list, status and cat-manifest show the prepared pod" {
	rki prepare "$PROBE_ACI"
	[ "$status" -eq 0 ]
	[[ $output =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
	local uuid=$output
	[ -d "$D/pods/prepared/$uuid" ]
	[ "$(stat -c %a "$D/pods/prepared/$uuid")" = 700 ]
	[ "$(stat -c %a "$D/pods/prepared/$uuid/plan.json")" = 600 ]
	rk list --no-legend
	[ "$status" -eq 0 ]
	contains "$output" "${uuid:0:8}  probe  example.com/probe  prepared"
	rk list --full
	contains "${lines[0]}" "UUID"
	contains "$output" "$uuid"
	rk status "${uuid:0:6}"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = state=prepared ]
	contains "$output" "exited=false"
	rk cat-manifest "$uuid"
	[ "$status" -eq 0 ]
	[ "$(json 'd["apps"][0]["name"]')" = probe ]
	[ "$(json 'd["apps"][0]["image"]["id"][:7]')" = sha512- ]
	[ "$(json 'd["apps"][0]["app"]["exec"]')" = "['/bin/probe']" ]
	rki audit list --event=prepare --format=json
	contains "$output" "$uuid"
}

@test "list and status print JSON" {
	rki prepare "$APP_ACI" --name=web
	local uuid=$output
	rk --format=json list
	[ "$status" -eq 0 ]
	[ "$(json 'len(d)')" = 1 ]
	[ "$(json 'd[0]["name"]')" = "$uuid" ]
	[ "$(json 'd[0]["state"]')" = prepared ]
	[ "$(json 'd[0]["app_names"]')" = "['web']" ]
	[ "$(json 'd[0]["apps"][0]["image_name"]')" = example.com/app ]
	[ "$(json 'd[0]["created_at"] > 1700000000')" = True ]
	rk --format=json status "$uuid"
	[ "$status" -eq 0 ]
	[ "$(json 'd["state"]')" = prepared ]
	[ "$(json 'd["exited"]')" = False ]
	rk --format=json list --no-legend
	[ "$(json 'len(d)')" = 1 ]
}

@test "an empty data dir lists only the header, or an empty JSON array" {
	rk list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	contains "${lines[0]}" "IMAGE NAME"
	rk --format=json list
	[ "$output" = "[]" ]
}

@test "UUID prefixes: unique ones resolve, ambiguous and unknown ones are refused" {
	rki prepare "$PROBE_ACI"
	local a=$output
	rk status "${a:0:1}"
	[ "$status" -eq 0 ]
	rk status "${a//-/}"
	[ "$status" -eq 0 ]
	rk status ffffffff-0000-4000-8000-000000000000
	[ "$status" -eq 1 ]
	contains "$stderr" "no such pod"
	rk status ../etc
	[ "$status" -eq 1 ]
	# make an ambiguous prefix: a second pod with the same first digit
	local b
	for _ in $(seq 1 64); do
		rki prepare "$PROBE_ACI"
		b=$output
		[ "${b:0:1}" = "${a:0:1}" ] && break
	done
	[ "${b:0:1}" = "${a:0:1}" ]
	rk status "${a:0:1}"
	[ "$status" -eq 1 ]
	contains "$stderr" "matches"
}

@test "--uuid-file-save writes the UUID; status, cat-manifest and rm take --uuid-file" {
	rki prepare --uuid-file-save="$T/uuid" "$PROBE_ACI"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/uuid")" = "$output" ]
	rk status --uuid-file="$T/uuid"
	[ "${lines[0]}" = state=prepared ]
	rk cat-manifest --uuid-file="$T/uuid"
	[ "$status" -eq 0 ]
	rk rm --uuid-file="$T/uuid"
	[ "$status" -eq 0 ]
	[ "$(pod_dirs)" = 0 ]
}

@test "a failed prepare leaves no pod behind, and the UUID file names it" {
	rki prepare --uuid-file-save="$T/uuid" "$APP_ACI" --user=nobody
	[ "$status" -eq 1 ]
	contains "$stderr" "user 'nobody': not found in the image's /etc/passwd"
	[ -s "$T/uuid" ]
	[ "$(pod_dirs)" = 0 ]
}

@test "concurrent prepares never collide" {
	local i pids=()
	fetch "$PROBE_ACI" >/dev/null
	for i in $(seq 1 8); do
		rkt_bg prepare --uuid-file-save="$T/u$i" "$PROBE_ACI" >"$T/out$i" 2>"$T/err$i" &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do wait "${pids[$i]}"; done
	[ "$(cat "$T"/u* | sort -u | wc -l)" = 8 ]
	[ "$(ls "$D/pods/prepared" | wc -l)" = 8 ]
}

@test "gc running alongside prepares never takes their trees or pods" {
	local i pids=()
	fetch "$PROBE_ACI" >/dev/null
	[ -z "$(ls -A "$D/cas/tree")" ] # fetch does not render: the prepares below do, racing gc
	for i in $(seq 1 6); do
		rkt_bg prepare --uuid-file-save="$T/u$i" "$PROBE_ACI" >/dev/null 2>"$T/err$i" &
		pids+=($!)
	done
	local k
	for k in $(seq 1 10); do
		"$RKT" $(G) gc --grace-period=0s --expire-prepared=1h 2>/dev/null || true
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || fail_with "prepare $i: $(cat "$T/err$((i + 1))")"
	done
	"$RKT" $(G) gc --grace-period=0s --expire-prepared=1h
	[ "$(ls "$D/pods/prepared" | wc -l)" = 6 ]
	local t
	t=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["apps"][0]["tree"])' \
		"$D/pods/prepared/$(cat "$T/u1")/plan.json")
	[ -x "$t/bin/probe" ]
}

@test "a host volume whose source is or passes through a symlink is refused" {
	mkdir -p "$T/real/sub"
	ln -s real "$T/link"
	rki prepare --volume="data,kind=host,source=$T/link" "$APP_ACI"
	[ "$status" -eq 1 ]
	contains "$stderr" "symlink"
	rki prepare --volume="data,kind=host,source=$T/link/sub" "$APP_ACI"
	[ "$status" -eq 1 ]
	contains "$stderr" "symlink"
	[ "$(pod_dirs)" = 0 ]
	rki prepare --volume="data,kind=host,source=$T/real/sub" "$APP_ACI"
	[ "$status" -eq 0 ]
}

@test "bad flags are usage errors" {
	rk run
	[ "$status" -eq 2 ]
	# any other valid name is a CNI network from net.d (93-cni.bats); a bad one is a usage error
	rk run --net=Bridge "$PROBE_ACI"
	[ "$status" -eq 2 ]
	contains "$stderr" "'Bridge' is not a valid network name"
	rk run --net=host --port=http:8080 "$PROBE_ACI"
	[ "$status" -eq 2 ]
	contains "$stderr" "--port needs --net=default"
	rk run --net=default --port=http:0 "$PROBE_ACI"
	[ "$status" -eq 2 ]
	contains "$stderr" "not NAME:[HOSTIP:]HOSTPORT"
	rk run --user=0 "$PROBE_ACI"
	[ "$status" -eq 2 ]
	contains "$stderr" "app flag"
	rk run "$PROBE_ACI" --hostname=x
	[ "$status" -eq 2 ]
	rk run --volume=data "$PROBE_ACI"
	[ "$status" -eq 2 ]
	rk run --bogus "$PROBE_ACI"
	[ "$status" -eq 2 ]
	rk prepare --pod-manifest="$T/x" "$PROBE_ACI"
	[ "$status" -eq 2 ]
	rk gc --grace-period=soon
	[ "$status" -eq 2 ]
	rk status --wait=forever x
	[ "$status" -eq 2 ]
}

@test "prepare of an untrusted image is refused and leaves no pod" {
	rk prepare "$PROBE_ACI"
	[ "$status" -eq 1 ]
	contains "$stderr" "signature"
	fetch "$PROBE_ACI" >/dev/null
	# stored unverified: the opt-in is needed again
	rk prepare example.com/probe
	[ "$status" -eq 1 ]
	contains "$stderr" "stored unverified"
	[ "$(pod_dirs)" = 0 ]
}

@test "prepare --pod-manifest reproduces a prepared pod's manifest" {
	rki prepare "$APP_ACI" --name=web
	rk cat-manifest "$output"
	echo "$output" >"$T/pod.json"
	rki prepare --pod-manifest="$T/pod.json"
	[ "$status" -eq 0 ]
	rk cat-manifest "$output"
	[ "$output" = "$(cat "$T/pod.json")" ]
	# a template (no image ID) is not runnable
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); del d["apps"][0]["image"]["id"]; json.dump(d, open(sys.argv[1],"w"))' "$T/pod.json"
	rki prepare --pod-manifest="$T/pod.json"
	[ "$status" -eq 1 ]
	contains "$stderr" "image.id is required"
}

@test "rm removes prepared pods; gc expires old prepared pods" {
	rki prepare "$PROBE_ACI"
	local a=$output
	rki prepare "$PROBE_ACI"
	local b=$output
	rk rm "$a"
	[ "$status" -eq 0 ]
	[ "$output" = "$a" ]
	rk rm "$a"
	[ "$status" -eq 1 ]
	rk gc --expire-prepared=1h --grace-period=0s
	[ -d "$D/pods/prepared/$b" ]
	rk gc --expire-prepared=0s --grace-period=0s
	[ "$status" -eq 0 ]
	all_clean
}

@test "gc cleans a prepare killed with SIGKILL while it held the pod" {
	fetch "$PROBE_ACI" >/dev/null
	mkfifo "$T/fifo"
	# stage0 blocks opening the FIFO for --uuid-file-save: the pod exists, locked, in prepare/
	rkt_bg prepare --uuid-file-save="$T/fifo" "$PROBE_ACI" >/dev/null 2>&1 &
	local pid=$!
	wait_for 10 has_entries "$D/pods/prepare"
	local uuid
	uuid=$(ls "$D/pods/prepare")
	rk status "$uuid"
	[ "${lines[0]}" = state=preparing ]
	rk gc --grace-period=0s
	[ -d "$D/pods/prepare/$uuid" ] # locked: left alone
	kill -9 "$pid"
	wait "$pid" || true
	rk status "$uuid"
	[ "${lines[0]}" = "state=aborted prepare" ]
	rk gc --grace-period=0s
	[ "$status" -eq 0 ]
	all_clean
}

# ---- with stage1 ----

@test "run: exit statuses 0, 3, 137, 126, 127" {
	need_stage1
	rki run "$PROBE_ACI" -- exit 0 ---
	[ "$status" -eq 0 ]
	rki run "$PROBE_ACI" -- exit 3 ---
	[ "$status" -eq 3 ]
	rki run "$PROBE_ACI" -- kill KILL ---
	[ "$status" -eq 137 ]
	rki run "$PROBE_ACI" --exec=/bin/noexec
	[ "$status" -eq 126 ]
	run -127 --separate-stderr "$RKT" $(G) --insecure-options=image run --net=none "$PROBE_ACI" \
		--exec=/no/such/program
	run -127 --separate-stderr "$RKT" $(G) --insecure-options=image run --net=none "$PROBE_ACI" \
		--exec=no-such-program
	contains "$stderr" "not found in PATH"
}

@test "run of an untrusted image exits 125 with the fetch message" {
	need_stage1
	rk run "$PROBE_ACI"
	[ "$status" -eq 125 ]
	contains "$stderr" "rkt: run $PROBE_ACI"
	contains "$stderr" "signature"
	[ "$(pod_dirs)" = 0 ]
}

@test "prepare, run-prepared, status: exited with the app's code" {
	need_stage1
	rki prepare "$PROBE_ACI" -- exit 7 ---
	local uuid=$output
	rk run-prepared "${uuid:0:8}"
	[ "$status" -eq 7 ]
	rk status "$uuid"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = state=exited ]
	contains "$output" "exited=true"
	contains "$output" "app-probe=7"
	contains "$output" "started="
	rk --format=json status "$uuid"
	[ "$(json 'd["apps"][0]["exit_code"]')" = 7 ]
	# a pod runs once
	rk run-prepared "$uuid"
	[ "$status" -eq 125 ]
	contains "$stderr" "not prepared"
	rk audit list --event=run --format=json
	contains "$output" "$uuid"
}

@test "the environment is exactly the spec's, then the image's and the flags'" {
	need_stage1
	rki run "$PROBE_ACI"
	[ "$status" -eq 0 ]
	[ "$(json 'd["env"]')" = "['PATH=$SPEC_PATH', 'AC_APP_NAME=probe', 'container=rkt']" ]
	[ "$(json 'd["cwd"]')" = / ]
	[[ $(json 'd["hostname"]') =~ ^rkt-[0-9a-f-]{36}$ ]]
	printf '# comment\nFOO=file\nBAZ=file\nQUX=file\n' >"$T/env"
	rki run --set-env-file="$T/env" --set-env=BAZ=set --set-env=AC_APP_NAME=evil \
		"$APP_ACI" --environment=QUX=app --name=web
	[ "$status" -eq 0 ]
	[ "$(json 'd["env"]')" = "['PATH=$SPEC_PATH', 'FOO=file', 'BAR=image', 'BAZ=set', 'QUX=app', 'AC_APP_NAME=web', 'container=rkt']" ]
	SECRET=host-only rki run --inherit-env "$PROBE_ACI"
	contains "$(json 'd["env"]')" "SECRET=host-only"
}

@test "user and group come from the image's /etc/passwd and /etc/group" {
	need_stage1
	rki run --volume=data,kind=empty --volume=work,kind=empty "$APP_ACI"
	[ "$status" -eq 0 ]
	[ "$(json 'd["uid"]')" = "{'real': 1000, 'effective': 1000, 'saved': 1000}" ]
	[ "$(json 'd["gid"]["effective"]')" = 50 ]
	rki run "$PROBE_ACI" --user=user --group=users --supplementary-gids=50,60
	[ "$(json 'd["uid"]["real"]')" = 1000 ]
	[ "$(json 'd["gid"]["real"]')" = 1001 ]
	[ "$(json 'sorted(d["groups"])')" = "[50, 60]" ]
	rki run "$PROBE_ACI" --user=4242 --group=/etc/passwd
	[ "$(json 'd["uid"]["real"]')" = 4242 ]
	[ "$(json 'd["gid"]["real"]')" = 0 ]
	rki run "$PROBE_ACI" --user=nobody
	[ "$status" -eq 125 ]
	contains "$stderr" "nobody"
}

@test "volumes: host and empty, read-only when either side says so" {
	need_stage1
	mkdir -p "$T/host"
	# /data is a read-only mountPoint in the image; /work is not
	rki run --volume="data,kind=host,source=$T/host" --volume=work,kind=empty,mode=0777 \
		"$APP_ACI" --exec=/bin/probe -- write /data/x ---
	[ "$(json 'd["write"]["result"]')" = EROFS ]
	rki run --volume="data,kind=host,source=$T/host" --volume=work,kind=empty,mode=0777 \
		"$APP_ACI" --exec=/bin/probe -- write /work/x ---
	[ "$status" -eq 0 ]
	[ "$(json 'd["write"]["result"]')" = OK ]
	rki run --volume="v,kind=host,source=$T/host" --mount=volume=v,target=/mnt/v \
		"$PROBE_ACI" -- write /mnt/v/from-pod ---
	[ "$status" -eq 0 ]
	[ "$(cat "$T/host/from-pod")" = probe ]
	rki run --volume="v,kind=host,source=$T/host,readOnly=true" --mount=volume=v,target=/mnt/v \
		"$PROBE_ACI" -- write /mnt/v/y ---
	[ "$(json 'd["write"]["result"]')" = EROFS ]
	# mountPoints without a volume get an implicit empty one
	rki run "$APP_ACI" --user=0 --exec=/bin/probe -- write /work/z ---
	[ "$(json 'd["write"]["result"]')" = OK ]
}

@test "concurrent runs never collide" {
	need_stage1
	local i pids=()
	fetch "$PROBE_ACI" >/dev/null
	for i in $(seq 1 6); do
		rkt_bg run --uuid-file-save="$T/u$i" "$PROBE_ACI" -- exit "$i" --- >"$T/out$i" 2>"$T/err$i" &
		pids+=($!)
	done
	for i in $(seq 1 6); do
		local rc=0
		wait "${pids[$((i - 1))]}" || rc=$?
		[ "$rc" -eq "$i" ] || fail_with "run $i exited $rc: $(cat "$T/err$i")"
	done
	[ "$(cat "$T"/u* | sort -u | wc -l)" = 6 ]
	# (not $i: bats' run clobbers it)
	local n
	for n in $(seq 1 6); do
		rk status "$(cat "$T/u$n")"
		contains "$output" "app-probe=$n"
	done
}

@test "rm refuses a running pod; status --wait returns when it exits" {
	need_stage1
	rkt_bg run --uuid-file-save="$T/uuid" "$PROBE_ACI" --exec=/bin/sleep -- 2 --- >/dev/null 2>&1 &
	wait_for 10 test -s "$T/uuid"
	local uuid
	uuid=$(cat "$T/uuid")
	wait_for 10 grep -q . "$D/pods/run/$uuid/pid"
	rk status "$uuid"
	[ "${lines[0]}" = state=running ]
	contains "$output" "pid="
	rk rm "$uuid"
	[ "$status" -eq 1 ]
	contains "$stderr" "running"
	rk status --wait=100ms "$uuid"
	[ "$status" -eq 1 ]
	contains "$stderr" "timed out"
	rk status --wait=30s "$uuid"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = state=exited ]
	contains "$output" "app-probe=0"
	rk rm "$uuid"
	[ "$status" -eq 0 ]
	[ "$(pod_dirs)" = 0 ]
}

@test "gc keeps the tree of a live pod and removes it after the pod" {
	need_stage1
	rkt_bg run --uuid-file-save="$T/uuid" "$PROBE_ACI" --exec=/bin/sleep -- 30 --- >/dev/null 2>&1 &
	local pid=$!
	wait_for 10 test -s "$T/uuid"
	local uuid
	uuid=$(cat "$T/uuid")
	wait_for 10 grep -q . "$D/pods/run/$uuid/pid"
	rk gc --grace-period=0s
	[ "$status" -eq 0 ]
	[ -d "$D/pods/run/$uuid" ]
	[ -n "$(ls -A "$D/cas/tree")" ]
	kill -9 "$pid"
	wait "$pid" || true
	rk status --wait=10s "$uuid"
	contains "$output" "exited=true"
	rk gc --grace-period=0s
	[ "$status" -eq 0 ]
	all_clean
}

@test "image rm and image gc leave the tree of an existing pod alone" {
	need_stage1
	rki run --uuid-file-save="$T/uuid" "$PROBE_ACI" --exec=/bin/true
	[ "$status" -eq 0 ]
	local uuid tree
	uuid=$(cat "$T/uuid")
	tree=$(ls "$D/cas/tree" | grep '^deps-')
	[ -n "$tree" ]
	# The pod exited but still exists: its tree is its root file system.
	rk image rm example.com/probe
	[ "$status" -eq 1 ]
	contains "$stderr" "used by a pod"
	[ -d "$D/cas/tree/$tree" ]
	rk image gc --grace-period=0s
	[ "$status" -eq 0 ]
	[ -d "$D/cas/tree/$tree" ]
	rk rm "$uuid"
	[ "$status" -eq 0 ]
	rk image rm example.com/probe
	[ "$status" -eq 0 ]
	[ ! -e "$D/cas/tree/$tree" ]
}

@test "gc cleans pods whose stage0 or stage1 was killed with SIGKILL at any point" {
	need_stage1
	fetch "$PROBE_ACI" >/dev/null
	local delay pid
	for delay in 0 0.01 0.03 0.06 0.1 0.2 0.4; do
		rkt_bg run "$PROBE_ACI" --exec=/bin/sleep -- 30 --- >/dev/null 2>&1 &
		pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
	done
	# every pod's lock is free once its processes are gone
	local u
	for u in $(ls "$D/pods/run" "$D/pods/prepare" 2>/dev/null | grep -e -); do
		rk status --wait=10s "$u" || true
	done
	rk gc --grace-period=0s
	[ "$status" -eq 0 ]
	all_clean
	rk --format=json list
	[ "$output" = "[]" ]
}

@test "run --interactive gives the app a real terminal" {
	need_stage1
	command -v script >/dev/null || skip "script(1) not installed"
	run script -qec "$RKT $(G) --insecure-options=image run --net=none --interactive $PROBE_ACI --exec=/bin/sh -- -c 'test -t 0 && test -t 1 && echo IS-A-TTY' ---" /dev/null
	[ "$status" -eq 0 ]
	contains "$output" "IS-A-TTY"
	# Without --interactive, stdin is not the terminal.
	run script -qec "$RKT $(G) --insecure-options=image run --net=none $PROBE_ACI --exec=/bin/sh -- -c 'test -t 0 && echo IS-A-TTY || echo NOT-A-TTY' ---" /dev/null
	contains "$output" "NOT-A-TTY"
}
