#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The ACI extractor against hostile archives (security.md §4.3), through the test driver
# tests/tools/aci-extract (the confined child, as rkt runs it). Each archive is generated here
# by tests/tools/mkaci.py and aims at a sentinel file beside the destination:
#
#   $T/sentinel   must keep its content, inode, mode, link count and mtime
#   $T/outside/   must stay empty, with its mode and mtime
#   $T/dest/      the destination
#   $T/work/      archives and outputs
#
# Refused classes must exit 1 with "aci-extract: '<file>': entry '<name>': <why>"; neutralised
# classes exit 0 with the bit or xattr gone. If $RKT_BUILD/rkt has "image validate", it must
# refuse the same archives with the same message.

load helpers

setup() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	B=${RKT_BUILD:-build}
	case $B in /*) ;; *) B=$ROOT/$B ;; esac
	X=$B/tools/aci-extract
	M=$ROOT/tests/tools/mkaci.py
	[ -x "$X" ] || {
		echo "no $X: run make tests first" >&2
		return 1
	}
	T=$BATS_TEST_TMPDIR
	W=$T/work
	DEST=$T/dest
	mkdir -p "$W" "$T/outside"
	echo sentinel >"$T/sentinel"
	touch -d @1000 "$T/sentinel" "$T/outside"
	SENTINEL_STAT=$(stat -c '%i %s %Y %h %a %u' "$T/sentinel")
	OUTSIDE_STAT=$(stat -c '%i %Y %h %a %u' "$T/outside")
}

# The escape oracle: nothing beside dest changed, nothing new appeared.
intact() {
	[ "$(cat "$T/sentinel")" = sentinel ] || fail_with "sentinel content changed"
	[ "$(stat -c '%i %s %Y %h %a %u' "$T/sentinel")" = "$SENTINEL_STAT" ] ||
		fail_with "sentinel metadata changed"
	[ "$(stat -c '%i %Y %h %a %u' "$T/outside")" = "$OUTSIDE_STAT" ] ||
		fail_with "outside/ changed"
	[ -z "$(ls -A "$T/outside")" ] || fail_with "something was created in outside/"
	local top
	top=$(cd "$T" && ls -A | grep -v '^dest$' | tr '\n' ' ')
	[ "$top" = "outside sentinel work " ] || fail_with "unexpected names beside dest: $top"
}

mk() { # preset out [mkaci args]
	local p=$1 out=$2
	shift 2
	python3 "$M" "$p" "$out" --target "$T/sentinel" "$@"
}

# rkt image validate, when built, must say the same.
validate_agrees() { # file message
	local rkt=$B/rkt
	[ -x "$rkt" ] && "$rkt" image validate --help >/dev/null 2>&1 || return 0
	run "$rkt" image validate "$1"
	[ "$status" -ne 0 ] || fail_with "rkt image validate accepted $1"
	contains "$output" "$2"
}

# refused PRESET MESSAGE [mkaci args...] -- with the driver options in XOPTS
refused() {
	local p=$1 msg=$2
	shift 2
	[ -n "${KEEP_DEST:-}" ] || rm -rf "$DEST"
	mk "$p" "$W/$p.aci" "$@"
	run "$X" ${XOPTS:-} "$W/$p.aci" "$DEST"
	echo "$output"
	[ "$status" -eq 1 ] || fail_with "exit $status, wanted 1"
	contains "$output" "aci-extract: '$W/$p.aci': "
	contains "$output" "$msg"
	case $output in *sha512-*) fail_with "an image ID was printed" ;; esac
	intact
	[ -n "${XOPTS:-}" ] || validate_agrees "$W/$p.aci" "$msg"
}

# ---- good archives ----

@test "good archives in every compression: the image ID is sha512sum of the uncompressed tar" {
	mk good "$W/good.aci" --keep-tar
	want=sha512-$(sha512sum <"$W/good.aci.tar" | cut -d' ' -f1)
	for c in none gz bz2 xz zst; do
		mk good "$W/good-$c.aci" --compress "$c"
		rm -rf "$DEST"
		run "$X" "$W/good-$c.aci" "$DEST"
		[ "$status" -eq 0 ] || fail_with "$c: $output"
		[ "$output" = "$want" ] || fail_with "$c: got $output, want $want"
		run "$X" --check "$W/good-$c.aci"
		[ "$output" = "$want" ]
	done
	[ "$(cat "$DEST/rootfs/bin/hello")" = "$(printf '#!/bin/sh\necho hello')" ]
	[ "$(readlink "$DEST/rootfs/bin/sh")" = hello ]
	[ "$(readlink "$DEST/rootfs/abs")" = /etc/passwd ]
	[ "$(stat -c %i "$DEST/rootfs/bin/hello")" = "$(stat -c %i "$DEST/rootfs/bin/hello2")" ]
	[ "$(stat -c '%a %Y' "$DEST/rootfs/etc")" = "750 1234567890" ]
	[ "$(stat -c '%a' "$DEST/rootfs/tmp")" = 1777 ]
	[ "$(stat -c '%u:%g %a' "$DEST/rootfs/etc/owned")" = "1234:5678 600" ]
	[ -f "$DEST/manifest" ]
	intact
}

@test "check-only mode decides everything and writes nothing" {
	mk good "$W/good.aci"
	run "$X" --check "$W/good.aci"
	[ "$status" -eq 0 ]
	[ ! -e "$DEST" ]
	mk symlink-dir "$W/bad.aci"
	run "$X" --check "$W/bad.aci"
	[ "$status" -eq 1 ]
	contains "$output" "parent 'rootfs/evil' is a symlink made by this archive"
	intact
}

@test "gnu and ustar tars, trailing bytes hashed, --rootfs-only and --no-owners" {
	for p in gnu-format ustar-format trailing; do
		python3 "$M" "$p" "$W/$p.aci" --keep-tar
		want=sha512-$(sha512sum <"$W/$p.aci.tar" | cut -d' ' -f1)
		run "$X" --rootfs-only --no-owners "$W/$p.aci" "$DEST-$p"
		[ "$status" -eq 0 ] || fail_with "$p: $output"
		[ "$output" = "$want" ]
		[ ! -e "$DEST-$p/manifest" ]
		[ -f "$DEST-$p/bin/hello" ]
		[ "$(stat -c '%u:%g' "$DEST-$p/etc/owned")" = "$(id -u):$(id -g)" ]
		rm -rf "$DEST-$p"
	done
}

@test "expected image ID: a mismatch is refused" {
	mk good "$W/good.aci"
	run "$X" --expect-id "sha512-$(printf '0%.0s' $(seq 128))" "$W/good.aci" "$DEST"
	[ "$status" -eq 1 ]
	contains "$output" "image ID mismatch: expected sha512-000"
}

# ---- refused classes ----

@test "'..' traversal is refused, wherever the component is" {
	refused dotdot "entry 'rootfs/../../sentinel': path contains '..'"
	refused dotdot-mid "entry 'rootfs/a/../../../sentinel': path contains '..'"
}

@test "absolute names are refused" {
	refused absolute "entry '$T/sentinel': absolute path"
}

@test "symlink then write-through is refused (absolute, relative, '.'-named, leaf)" {
	refused symlink-dir "entry 'rootfs/evil/sentinel': parent 'rootfs/evil' is a symlink made by this archive"
	# a name that does not exist yet: O_EXCL alone would not save it
	refused symlink-dir "entry 'rootfs/evil/new': parent 'rootfs/evil' is a symlink made by this archive" --target "$T/outside/new"
	refused symlink-dir-rel "entry 'rootfs/evil/sentinel': parent 'rootfs/evil' is a symlink made by this archive"
	refused symlink-dot "entry 'rootfs/sub/.': duplicate entry"
	refused symlink-leaf "entry 'rootfs/x': duplicate entry"
}

@test "a symlink planted in the destination is never followed" {
	mkdir -p "$DEST"
	ln -s "$T/outside" "$DEST/rootfs"
	mk good "$W/good.aci"
	run "$X" "$W/good.aci" "$DEST"
	[ "$status" -eq 1 ]
	contains "$output" "entry 'rootfs/': cannot create directory: File exists"
	[ -L "$DEST/rootfs" ]
	intact
}

@test "hard links to outside, to '..', to symlinks, to files not from this archive, with data" {
	refused hardlink-abs "entry 'rootfs/h': hard link with data"
	refused hardlink-abs-nodata "entry 'rootfs/h': hard link target: absolute path"
	refused hardlink-dotdot "entry 'rootfs/h': hard link target: path contains '..'"
	refused hardlink-symlink "entry 'rootfs/h': hard link target 'rootfs/l' is not a regular file"
	rm -rf "$DEST"
	mkdir -p "$DEST/rootfs"
	ln -s "$T/sentinel" "$DEST/rootfs/pre"
	KEEP_DEST=1 refused hardlink-preexisting "entry 'rootfs/h': hard link target 'rootfs/pre' is not an earlier entry of this archive"
	[ "$(stat -c %h "$T/sentinel")" = 1 ]
}

@test "a directory then a symlink of the same name: no deferred fixup through the link" {
	refused fixup-symlink "entry 'rootfs/d': duplicate entry" --target "$T/outside/x"
}

@test "device nodes and FIFOs are refused" {
	refused device "entry 'rootfs/sda': device nodes are not allowed"
	refused chardev "entry 'rootfs/mem': device nodes are not allowed"
	refused fifo "entry 'rootfs/fifo': FIFOs are not allowed"
}

@test "duplicate entries are refused, naming the path" {
	refused dup "entry 'rootfs/a': duplicate entry"
	refused dup-dot "entry './rootfs/a': duplicate entry"
	refused dup-manifest "entry 'manifest': duplicate entry"
}

@test "only 'manifest' and 'rootfs/' at the top level; both required" {
	refused toplevel "entry 'rootfs-evil/x': outside 'rootfs/'"
	refused toplevel-etc "entry 'etc/passwd': outside 'rootfs/'"
	refused manifest-symlink "entry 'manifest': 'manifest' must be a regular file"
	refused no-manifest "no 'manifest' entry: not an ACI"
	refused no-rootfs "no 'rootfs' directory: not an ACI"
}

@test "only tar is parsed, and one level of compression" {
	refused zip "not a tar archive"
	refused nested-gz "nested compression is not supported"
	printf 'BZh91AY&SY garbage' >"$W/junk.aci"
	run "$X" "$W/junk.aci" "$DEST"
	[ "$status" -eq 1 ]
	contains "$output" "aci-extract: '$W/junk.aci': "
	intact
}

@test "caps: decompression bomb, entries, depth, names, links, headers, xattrs, manifest" {
	XOPTS="--max-total-bytes 1048576" refused bomb "entry 'rootfs/zeros': uncompressed tar larger than the limit of 1048576 bytes" --compress gz --n $((64 << 20))
	[ ! -e "$DEST/rootfs/zeros" ] || [ "$(stat -c %s "$DEST/rootfs/zeros")" -le 1048576 ]
	XOPTS="--max-compressed-bytes 4096" refused bomb "archive larger than the limit of 4096 bytes" --n 100000
	XOPTS="--max-file-bytes 1000" refused bomb "entry 'rootfs/zeros': file of 100000 bytes, over the limit of 1000" --n 100000
	XOPTS="--max-entries 100" refused many "entry 'rootfs/f98': more than the limit of 100 entries" --n 200
	refused deep "path has too many components" --n 200
	contains "$output" "entry 'rootfs/d/d/d/d/d/d/d/d/d/d/"
	refused longname "name longer than the limit of 4096 bytes"
	contains "$output" "entry 'rootfs/nnnnnnnnnnnnnnnnnnnnnnnnnnn"
	refused longlink "entry 'rootfs/l': link target longer than the limit of 4095 bytes"
	refused bigpax "Special header too large (after entry 'rootfs/')"
	refused manyxattrs "entry 'rootfs/x': 1000 xattrs, over the limit of 64"
	refused bigmanifest "entry 'manifest': manifest of 2097152 bytes, over the limit of 1048576"
	refused sparse "entry 'rootfs/sparse': sparse files are not supported"
}

# ---- neutralised classes ----

@test "setuid and setgid bits are stripped, sticky kept" {
	mk setid "$W/setid.aci"
	run "$X" --stats "$W/setid.aci" "$DEST"
	[ "$status" -eq 0 ] || fail_with "$output"
	contains "$output" "setid_stripped=3"
	[ "$(stat -c %a "$DEST/rootfs/suid")" = 755 ]
	[ "$(stat -c %a "$DEST/rootfs/sgid")" = 755 ]
	[ "$(stat -c %a "$DEST/rootfs/sgiddir")" = 775 ]
	[ "$(stat -c %a "$DEST/rootfs/sticky")" = 1777 ]
	intact
}

@test "xattrs outside user.* are dropped (file caps, SELinux labels, trusted, ACLs)" {
	mk xattrs "$W/xattrs.aci"
	run "$X" --stats "$W/xattrs.aci" "$DEST"
	[ "$status" -eq 0 ] || fail_with "$output"
	contains "$output" "xattrs_dropped=4"
	run getfattr --absolute-names -d -m - "$DEST/rootfs/x"
	contains "$output" 'user.ok="yes"'
	for x in security.capability trusted.evil security.selinux system.posix_acl_access; do
		case $output in *"$x"*) fail_with "$x survived: $output" ;; esac
	done
	intact
}

@test "whiteout names are data in an ACI" {
	mk whiteout "$W/wh.aci"
	run "$X" "$W/wh.aci" "$DEST"
	[ "$status" -eq 0 ]
	[ "$(cat "$DEST/rootfs/foo")" = keep ]
	[ -f "$DEST/rootfs/.wh.foo" ]
	[ -f "$DEST/rootfs/.wh..wh..opq" ]
}

# ---- the confining child ----

@test "a killed extractor is an error, never a partial success" {
	mk good "$W/good.aci"
	mkfifo "$W/fifo.aci"
	# (fd 3 is bats' own: the background driver must not hold it)
	"$X" "$W/fifo.aci" "$DEST" >"$W/out" 2>&1 3>&- &
	pid=$!
	exec 8>"$W/fifo.aci"
	head -c 3072 "$W/good.aci" >&8
	child=""
	for _ in $(seq 200); do
		child=$(pgrep -P "$pid" || true)
		[ -z "$child" ] || break
		sleep 0.05
	done
	[ -n "$child" ] || fail_with "no extractor child"
	sleep 0.2
	kill -KILL "$child"
	exec 8>&-
	rc=0
	wait "$pid" || rc=$?
	cat "$W/out"
	[ "$rc" -eq 1 ]
	contains "$(cat "$W/out")" "'$W/fifo.aci': extractor killed by signal 9 (SIGKILL)"
	! grep -q sha512- "$W/out"
	intact
}
