# Shared set-up for the integration tests: the rkt binary under test and image layouts built
# in the test's own temporary directory.
RKT_BUILD=${RKT_BUILD:-build}
REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
RKT="$REPO_ROOT/$RKT_BUILD/rkt"
case $RKT_BUILD in /*) RKT="$RKT_BUILD/rkt" ;; esac

# make_layout DIR [NAME]: a small valid image layout with a regular file, a symlink, a hard
# link, a nested directory and a manifest.
make_layout() {
	local dir=$1 name=${2:-example.com/test}
	mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc/sub"
	printf '#!/bin/sh\necho hi\n' >"$dir/rootfs/bin/hello"
	chmod 0755 "$dir/rootfs/bin/hello"
	ln -s hello "$dir/rootfs/bin/hi"
	ln "$dir/rootfs/bin/hello" "$dir/rootfs/bin/hello2"
	echo data >"$dir/rootfs/etc/sub/file"
	cat >"$dir/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"$name",
 "labels":[{"name":"version","value":"1.0.0"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],
 "app":{"exec":["/bin/hello"],"user":"0","group":"0"}}
JSON
}

# net_none ARGS...: ARGS in NN_ARGS, with --net=none after the first "run" or "prepare" unless
# a --net is given. A pod's default network is "default" (a veth and the rkt nftables table in
# the caller's network namespace): outside 90-net.bats, which runs it in a sandbox of its own,
# no test may touch the host's network.
net_none() {
	local a has=0 done=0
	NN_ARGS=()
	for a in "$@"; do case $a in --net | --net=*) has=1 ;; esac; done
	for a in "$@"; do
		NN_ARGS+=("$a")
		if [ $has = 0 ] && [ $done = 0 ]; then
			case $a in run | prepare) NN_ARGS+=(--net=none) done=1 ;; esac
		fi
	done
}

# rkt_run ARGS...: run rkt (with net_none), capturing stdout in $output and stderr in $stderr.
bats_require_minimum_version 1.5.0
rkt_run() {
	net_none "$@"
	run --separate-stderr "$RKT" "${NN_ARGS[@]}"
}

# fail_with MESSAGE: print to stderr (shown by bats on failure) and fail.
fail_with() {
	echo "$*" >&2
	return 1
}

# contains HAYSTACK NEEDLE: fail, showing both, unless NEEDLE is in HAYSTACK.
contains() {
	case $1 in
	*"$2"*) return 0 ;;
	*) fail_with "expected '$2' in: $1" ;;
	esac
}

# manifest NAME APP_JSON_MEMBERS: an image manifest for linux/amd64, version 1.0.0.
manifest() { # NAME APP_JSON_MEMBERS
	cat <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"$1",
 "labels":[{"name":"version","value":"1.0.0"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],
 "app":{$2}}
JSON
}

# probe_layout DIR APPLET...: an image layout for pod tests in DIR: busybox-static with the
# applets linked in /bin, the test probe as /bin/probe, and /etc/passwd and /etc/group with
# root, user (1000:1001) and the groups staff (50) and users (1001). Fails, saying why, without
# the probe or busybox-static.
probe_layout() {
	local l=$1 b=${RKT_BUILD:-build} busybox a
	shift
	case $b in /*) ;; *) b=$REPO_ROOT/$b ;; esac
	[ -x "$b/probe" ] || {
		echo "no $b/probe: run 'make tests' first" >&2
		return 1
	}
	busybox=$(command -v busybox) || {
		echo "busybox-static is needed" >&2
		return 1
	}
	mkdir -p "$l/rootfs/bin" "$l/rootfs/etc"
	cp "$busybox" "$l/rootfs/bin/busybox"
	cp "$b/probe" "$l/rootfs/bin/probe"
	for a in "$@"; do ln -sf busybox "$l/rootfs/bin/$a"; done
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1001::/home/user:/bin/sh\n' >"$l/rootfs/etc/passwd"
	printf 'root:x:0:\nstaff:x:50:\nusers:x:1001:\n' >"$l/rootfs/etc/group"
}

# pod_setup: what every pod test starts with: T (its directory), D (its data dir), B (the
# build); skips the test when rkt-stage1 is not built.
pod_setup() {
	T=$BATS_TEST_TMPDIR
	D=$T/data
	B=${RKT_BUILD:-build}
	case $B in /*) ;; *) B=$REPO_ROOT/$B ;; esac
	[ -x "$B/rkt-stage1" ] || skip "no $B/rkt-stage1"
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds (polling every 50 ms), or fail.
wait_for() {
	local n=$(($1 * 20))
	shift
	while ! "$@" 2>/dev/null; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.05
	done
}
