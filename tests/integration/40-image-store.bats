#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# rkt image list | rm | cat-manifest | validate | export | extract | render | gc | verify
# against a store under --dir. Images are built with "rkt image build" and put into the store
# by the TEST-ONLY driver tests/tools/store-import (rkt fetch verifies; this driver records an
# insecure admission, or with --signer a made-up one for output tests).
#
# Every failure test checks the exit status, that stderr names the object, and that the store
# is unchanged afterwards (files under cas/ and audit/, and the index rows).

load helpers

setup() {
	B=${RKT_BUILD:-build}
	case $B in /*) ;; *) B=$REPO_ROOT/$B ;; esac
	IMPORT=$B/tools/store-import
	[ -x "$IMPORT" ] || {
		echo "no $IMPORT: run make tests first" >&2
		return 1
	}
	T=$BATS_TEST_TMPDIR
	D=$T/data
	FPR=0123456789ABCDEF0123456789ABCDEF01234567
}

rk() { rkt_run --dir="$D" "$@"; }

# build NAME VERSION [EXTRA_MANIFEST_JSON]: an image from a layout named after it; prints the
# file. Files: /bin/hello, /etc/sub/file, /etc/<short name>.
build() {
	local name=$1 version=$2 extra=${3:-} short=${1##*/}
	local l=$T/layout-$short-$version
	make_layout "$l" "$name"
	echo "$short $version" >"$l/rootfs/etc/$short"
	cat >"$l/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"$name",
 "labels":[{"name":"version","value":"$version"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],
 "app":{"exec":["/bin/hello"],"user":"0","group":"0"}$extra}
JSON
	"$RKT" image build --overwrite "$l" "$T/$short-$version.aci" >/dev/null
	echo "$T/$short-$version.aci"
}

# import [store-import flags] FILE...: prints the full IDs
import() { "$IMPORT" --dir "$D" "$@"; }

snapshot() {
	(
		# (cas/ itself changes mtime as SQLite makes and drops index.db-wal and -shm)
		cd "$D" && find cas audit -printf '%p %y %m %s %i %T@\n' 2>/dev/null |
			grep -v 'cas/index.db' | sed 's/^\(cas d .*\) [0-9.]*$/\1/' | sort
		sqlite3 "$D/cas/index.db" \
			'select id, name, import_time, last_used, signer, insecure, has_signature from images order by id;
			 select id, last_used, digest from trees order by id;
			 select * from remote order by url;'
	)
}

unchanged() { # before
	local now
	now=$(snapshot)
	[ "$now" = "$1" ] || {
		diff <(echo "$1") <(echo "$now") >&2
		fail_with "the store changed"
	}
}

@test "an empty store lists only the header; --no-legend nothing; json an empty array" {
	rk image list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	contains "${lines[0]}" "ID"
	contains "${lines[0]}" "NAME"
	contains "${lines[0]}" "IMPORT TIME"
	contains "${lines[0]}" "LAST USED"
	contains "${lines[0]}" "SIZE"
	contains "${lines[0]}" "VERIFIED-BY"
	rk image list --no-legend
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	rk --format=json image list
	[ "$status" -eq 0 ]
	[ "$output" = "[]" ]
	# the layout is private
	[ "$(stat -c %a "$D/cas")" = 700 ]
	[ "$(stat -c %a "$D/cas/tree")" = 700 ]
	[ "$(stat -c %a "$D/cas/index.db")" = 600 ]
}

@test "list shows each image with its admission; --full and json" {
	a=$(build example.com/alpha 1.0.0)
	b=$(build example.com/beta 2.1.0)
	ida=$(import "$a")
	idb=$(import --signer $FPR --prefix example.com --sig "$b" "$b")
	rk image list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	contains "${lines[1]}" "${ida:0:39} "
	contains "${lines[1]}" "example.com/alpha:1.0.0"
	contains "${lines[1]}" "insecure:image"
	contains "${lines[2]}" "${idb:0:39} "
	contains "${lines[2]}" "example.com/beta:2.1.0"
	contains "${lines[2]}" "${FPR: -16}"
	[[ "${lines[1]}" =~ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z ]]
	rk image list --full --no-legend
	[ "${#lines[@]}" -eq 2 ]
	contains "${lines[0]}" "$ida"
	contains "${lines[1]}" "$FPR"
	rk --format=json image list
	[ "$status" -eq 0 ]
	echo "$output" | IDA=$ida IDB=$idb FPR=$FPR python3 -c '
import json, os, sys
d = json.load(sys.stdin)
assert [e["id"] for e in d] == [os.environ["IDA"], os.environ["IDB"]], d
a, b = d
assert a["name"] == "example.com/alpha" and a["labels"]["version"] == "1.0.0", a
assert a["verification"] == {"insecure": "image"}, a
assert b["verification"]["signer"] == os.environ["FPR"], b
assert b["verification"]["prefix"] == "example.com", b
for e in d:
    assert e["size"] > 0 and e["importTime"].endswith("Z") and e["lastUsed"].endswith("Z"), e'
}

@test "cat-manifest and validate take store references: ID prefix, name, name:version" {
	a=$(build example.com/alpha 1.0.0)
	id=$(import "$a")
	rkt_run image cat-manifest "$a"
	want=$output
	for ref in "${id:0:12}" "$id" example.com/alpha example.com/alpha:1.0.0 \
		"example.com/alpha,os=linux,arch=amd64"; do
		rk image cat-manifest "$ref"
		[ "$status" -eq 0 ]
		[ "$output" = "$want" ]
	done
	rk image validate --full example.com/alpha "$a"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$id" ]
	[ "${lines[1]}" = "$id" ]
}

@test "unknown, ambiguous-looking and malformed references fail, name the reference, change nothing" {
	a=$(build example.com/alpha 1.0.0)
	import "$a" >/dev/null
	before=$(snapshot)
	rk image cat-manifest example.com/nope
	[ "$status" -eq 1 ]
	contains "$stderr" "example.com/nope"
	contains "$stderr" "not in the store"
	rk image cat-manifest example.com/alpha:9.9.9
	[ "$status" -eq 1 ]
	contains "$stderr" "example.com/alpha,version=9.9.9"
	rk image rm sha512-0000000000000000
	[ "$status" -eq 1 ]
	contains "$stderr" "sha512-0000000000000000"
	rk image rm sha512-a
	[ "$status" -eq 1 ]
	contains "$stderr" "sha512-a"
	contains "$stderr" "too short"
	rk image verify sha512-XYZ
	[ "$status" -eq 1 ]
	contains "$stderr" "sha512-XYZ"
	rk image export 'Bad Name' "$T/out.aci"
	[ "$status" -eq 1 ]
	contains "$stderr" "Bad Name"
	[ ! -e "$T/out.aci" ]
	unchanged "$before"
}

@test "an ID prefix shared by two images is ambiguous; one more digit resolves" {
	declare -A seen
	local i id p a="" b=""
	for i in $(seq 1 48); do
		id=$(import "$(build example.com/many 1.0.$i)")
		p=${id:0:9}
		if [ -n "${seen[$p]:-}" ]; then
			a=${seen[$p]}
			b=$id
			break
		fi
		seen[$p]=$id
	done
	[ -n "$b" ] || skip "no two IDs shared a prefix"
	before=$(snapshot)
	rk image rm "${a:0:9}"
	[ "$status" -eq 1 ]
	contains "$stderr" "${a:0:9}"
	contains "$stderr" "ambiguous"
	unchanged "$before"
	local k=9
	while [ "${a:$k:1}" = "${b:$k:1}" ]; do k=$((k + 1)); done
	rk image rm "${a:0:$((k + 1))}"
	[ "$status" -eq 0 ]
	[ "$output" = "$a" ]
	rk image cat-manifest "${b:0:9}"
	[ "$status" -eq 0 ]
}

@test "rm removes blob, signature, trees and row; by ID prefix and by name" {
	a=$(build example.com/alpha 1.0.0)
	b=$(build example.com/beta 1.0.0)
	out=$(import --render --signer $FPR --sig "$a" "$a")
	ida=$(echo "$out" | head -1)
	tree=$(echo "$out" | tail -1)
	idb=$(import "$b")
	[ -f "$D/cas/blob/sha512/${ida:7:2}/$ida.asc" ]
	[ -f "$D/cas/tree/$tree/rendered" ]
	rk image rm "${ida:0:20}" example.com/beta
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$ida" ]
	[ "${lines[1]}" = "$idb" ]
	[ ! -e "$D/cas/blob/sha512/${ida:7:2}/$ida" ]
	[ ! -e "$D/cas/blob/sha512/${ida:7:2}/$ida.asc" ]
	[ ! -e "$D/cas/tree/$tree" ]
	rk image list --no-legend
	[ -z "$output" ]
	# removing again fails, names it, and the exit status says so even with a good one
	c=$(build example.com/gamma 1.0.0)
	idc=$(import "$c")
	rk image rm "$ida" example.com/gamma
	[ "$status" -eq 1 ]
	contains "$stderr" "$ida"
	[ "$output" = "$idc" ]
	grep -q '"event":"remove"' "$D/audit/audit.log"
}

@test "export writes the bytes as distributed, with the signature beside them" {
	a=$(build example.com/alpha 1.0.0)
	echo "fake signature" >"$T/a.asc"
	id=$(import --signer $FPR --sig "$T/a.asc" "$a")
	rk image export example.com/alpha "$T/out.aci"
	[ "$status" -eq 0 ]
	cmp "$a" "$T/out.aci"
	cmp "$T/a.asc" "$T/out.aci.asc"
	# refused without --overwrite: named, nothing changed
	echo precious >"$T/out.aci"
	before=$(snapshot)
	rk image export "${id:0:10}" "$T/out.aci"
	[ "$status" -eq 1 ]
	contains "$stderr" "$T/out.aci"
	contains "$stderr" "--overwrite"
	[ "$(cat "$T/out.aci")" = precious ]
	unchanged "$before"
	rk image export --overwrite "${id:0:10}" "$T/out.aci"
	[ "$status" -eq 0 ]
	cmp "$a" "$T/out.aci"
	# the export validates to the same ID
	rkt_run image validate --full "$T/out.aci"
	[ "$output" = "$id" ]
}

@test "extract writes the image alone; --rootfs-only; DIR must be new or empty" {
	a=$(build example.com/alpha 1.0.0)
	import "$a" >/dev/null
	rk image extract example.com/alpha "$T/x"
	[ "$status" -eq 0 ]
	[ -f "$T/x/manifest" ]
	[ "$(cat "$T/x/rootfs/etc/alpha")" = "alpha 1.0.0" ]
	[ -x "$T/x/rootfs/bin/hello" ]
	[ "$(readlink "$T/x/rootfs/bin/hi")" = hello ]
	mkdir "$T/y"
	rk image extract --rootfs-only example.com/alpha "$T/y"
	[ "$status" -eq 0 ]
	[ ! -e "$T/y/manifest" ]
	[ "$(cat "$T/y/etc/sub/file")" = data ]
	before=$(snapshot)
	rk image extract example.com/alpha "$T/y"
	[ "$status" -eq 1 ]
	contains "$stderr" "$T/y"
	contains "$stderr" "not empty"
	[ ! -e "$T/y/manifest" ]
	ln -s "$T/z-target" "$T/z"
	mkdir "$T/z-target"
	rk image extract example.com/alpha "$T/z"
	[ "$status" -eq 1 ]
	contains "$stderr" "$T/z"
	[ -z "$(ls -A "$T/z-target")" ]
	unchanged "$before"
}

@test "render applies dependencies and pathWhitelist; a missing dependency is named" {
	base=$(build example.com/base 1.0.0)
	app=$(build example.com/app 1.0.0 ',
 "dependencies":[{"imageName":"example.com/base","labels":[{"name":"version","value":"1.0.0"}]}],
 "pathWhitelist":["/bin","/bin/hello","/etc","/etc/app","/etc/base"]')
	idapp=$(import "$app")
	before=$(snapshot)
	rk image render example.com/app "$T/r"
	[ "$status" -eq 1 ]
	contains "$stderr" "example.com/base"
	contains "$stderr" "example.com/app"
	[ ! -e "$T/r" ]
	unchanged "$before"
	import "$base" >/dev/null
	rk image render "${idapp:0:16}" "$T/r"
	[ "$status" -eq 0 ]
	[ "$(cat "$T/r/rootfs/etc/app")" = "app 1.0.0" ]
	[ "$(cat "$T/r/rootfs/etc/base")" = "base 1.0.0" ]
	[ -x "$T/r/rootfs/bin/hello" ]
	# not whitelisted: files of either layer stay out (directories of the image itself stay)
	[ ! -e "$T/r/rootfs/etc/sub/file" ]
	[ ! -e "$T/r/rootfs/bin/hi" ]
	[ ! -e "$T/r/rootfs/bin/hello2" ]
	grep -q '"name":"example.com/app"' "$T/r/manifest"
	# extract is the image alone
	rk image extract --rootfs-only example.com/app "$T/e"
	[ "$status" -eq 0 ]
	[ ! -e "$T/e/etc/base" ]
}

@test "verify re-hashes blob and trees; a tampered blob or tree fails and is named" {
	a=$(build example.com/alpha 1.0.0)
	out=$(import --render "$a")
	id=$(echo "$out" | head -1)
	tree=$(echo "$out" | tail -1)
	rk image verify example.com/alpha
	[ "$status" -eq 0 ]
	contains "$output" "${id:0:39}: ok"
	contains "$output" "1 tree(s)"
	contains "$output" "signature: none (stored without verification)"
	rk --format=json image verify "$id"
	echo "$output" | python3 -c '
import json,sys; d=json.load(sys.stdin); assert d[0]["ok"] and d[0]["trees"]==1, d'
	echo evil >"$D/cas/tree/$tree/rootfs/etc/alpha"
	rk image verify example.com/alpha
	[ "$status" -eq 1 ]
	contains "$stderr" "$tree"
	contains "$stderr" "changed"
	rk image rm example.com/alpha
	id=$(import "$a")
	printf 'X' | dd of="$D/cas/blob/sha512/${id:7:2}/$id" bs=1 seek=200 conv=notrunc 2>/dev/null
	rk image verify "$id"
	[ "$status" -eq 1 ]
	contains "$stderr" "$id"
}

@test "verify re-checks the stored signature against the trust store as it is now" {
	K=$REPO_ROOT/keys
	I=$REPO_ROOT/tests/data/images
	fpr=$(cat "$K/test-good-rsa.fpr")
	C="--local-config=$T/local --system-config=$T/system"
	"$RKT" --dir="$D" $C trust --prefix=example.com --skip-fingerprint-review "$K/test-good-rsa.pub.asc"
	id=$(import --signer "$fpr" --sig "$I/test.aci.good-rsa.asc" "$I/test.aci")
	rk $C image verify "$id"
	[ "$status" -eq 0 ]
	contains "$output" "signature: verified"
	# The key is no longer trusted: the stored image no longer verifies.
	"$RKT" --dir="$D" $C trust --remove="$fpr" --prefix=example.com
	rk $C image verify "$id"
	[ "$status" -eq 1 ]
	contains "$stderr" "$id"
	# A signature that does not match the stored bytes is found too.
	"$RKT" --dir="$D" $C trust --prefix=example.com --skip-fingerprint-review "$K/test-good-rsa.pub.asc"
	cp "$I/test.aci.other-image.asc" "$D/cas/blob/sha512/${id:7:2}/$id.asc"
	rk $C image verify "$id"
	[ "$status" -eq 1 ]
}

@test "gc repairs crash leftovers, then removes trees unused for the grace period" {
	a=$(build example.com/alpha 1.0.0)
	out=$(import --render "$a")
	id=$(echo "$out" | head -1)
	tree=$(echo "$out" | tail -1)
	# a stale download, a fresh one, a half-built and an unmarked tree, a blob without row,
	# a temporary blob link
	touch -d '2 hours ago' "$D/cas/tmp/stale"
	touch "$D/cas/tmp/fresh"
	mkdir -p "$D/cas/tree/.new-0011223344556677/rootfs"
	fake=deps-sha512-$(printf '%0128d' 3)
	mkdir -p "$D/cas/tree/$fake/rootfs"
	orphan=sha512-$(printf 'ab%0126d' 0)
	mkdir -p "$D/cas/blob/sha512/ab"
	echo junk >"$D/cas/blob/sha512/ab/$orphan"
	echo junk >"$D/cas/blob/sha512/${id:7:2}/.tmp-0123456789abcdef"
	rk image gc --grace-period=1h
	[ "$status" -eq 0 ]
	contains "$output" "0 unused tree(s), 2 partial tree(s), 2 temporary file(s)"
	contains "$output" "1 orphaned blob(s)"
	[ ! -e "$D/cas/tmp/stale" ]
	[ -e "$D/cas/tmp/fresh" ]
	[ ! -e "$D/cas/tree/$fake" ]
	[ ! -e "$D/cas/blob/sha512/ab/$orphan" ]
	[ -f "$D/cas/tree/$tree/rendered" ]
	# a row whose blob vanished
	b=$(build example.com/beta 1.0.0)
	idb=$(import "$b")
	rm "$D/cas/blob/sha512/${idb:7:2}/$idb"
	rk --format=json image gc --grace-period=1h
	echo "$output" | python3 -c '
import json,sys; d=json.load(sys.stdin); assert d["indexEntriesRemoved"]==1 and d["treesRemoved"]==0, d'
	rk image cat-manifest example.com/beta
	[ "$status" -eq 1 ]
	# with no grace the tree goes, the image stays
	rk image gc --grace-period=0s
	[ "$status" -eq 0 ]
	contains "$output" "1 unused tree(s)"
	[ ! -e "$D/cas/tree/$tree" ]
	rk image cat-manifest "$id"
	[ "$status" -eq 0 ]
	grep -q '"event":"gc"' "$D/audit/audit.log"
}

@test "usage errors exit 2 and change nothing" {
	a=$(build example.com/alpha 1.0.0)
	import "$a" >/dev/null
	before=$(snapshot)
	rk image gc --grace-period=soon
	[ "$status" -eq 2 ]
	contains "$stderr" "soon"
	rk image rm
	[ "$status" -eq 2 ]
	rk image export example.com/alpha
	[ "$status" -eq 2 ]
	rk image list --bogus
	[ "$status" -eq 2 ]
	contains "$stderr" "--bogus"
	rk image extract example.com/alpha
	[ "$status" -eq 2 ]
	rk image frob
	[ "$status" -eq 2 ]
	contains "$stderr" "frob"
	unchanged "$before"
	rk image rm --help
	[ "$status" -eq 0 ]
	contains "$output" "Usage: rkt image rm"
}

@test "a store directory others can write is refused, and named" {
	rk image list
	chmod 0777 "$D/cas/blob"
	rk image list
	[ "$status" -eq 1 ]
	contains "$stderr" "$D"
	contains "$stderr" "cas/blob"
	chmod 0700 "$D/cas/blob"
	rk image list
	[ "$status" -eq 0 ]
}

@test "importing through an O_TMPFILE and concurrent imports keep the store consistent" {
	a=$(build example.com/alpha 1.0.0)
	b=$(build example.com/beta 1.0.0)
	for i in 1 2 3 4; do
		import --tmpfile "$a" "$b" >/dev/null &
	done
	wait
	rk image list --no-legend
	[ "${#lines[@]}" -eq 2 ]
	rk image verify example.com/alpha example.com/beta
	[ "$status" -eq 0 ]
	rk --format=json image gc --grace-period=1h
	echo "$output" | python3 -c '
import json,sys; d=json.load(sys.stdin); assert sum(v for k,v in d.items() if k!="lockFilesRemoved")==0, d'
	[ -z "$(ls -A "$D/cas/tmp")" ]
}
