#!/usr/bin/env bats
# rkt image build / validate / cat-manifest on real files.

load helpers

setup() {
	L="$BATS_TEST_TMPDIR/layout"
	make_layout "$L"
}

@test "build prints an ID equal to the SHA-512 of the uncompressed tar, and validate agrees" {
	rkt_run image build --full "$L" "$BATS_TEST_TMPDIR/a.aci"
	[ "$status" -eq 0 ]
	id=$output
	[[ "$id" =~ ^sha512-[0-9a-f]{128}$ ]]
	want="sha512-$(gzip -dc "$BATS_TEST_TMPDIR/a.aci" | sha512sum | cut -d' ' -f1)"
	[ "$id" = "$want" ]
	rkt_run image validate --full "$BATS_TEST_TMPDIR/a.aci"
	[ "$status" -eq 0 ]
	[ "$output" = "$id" ]
	# Without --full the ID is shortened to 32 hex digits.
	rkt_run image validate "$BATS_TEST_TMPDIR/a.aci"
	[ "$output" = "${id:0:39}" ]
}

@test "the build is deterministic: same input, same ID and same bytes, whatever mtimes say" {
	rkt_run image build --full "$L" "$BATS_TEST_TMPDIR/a.aci"
	id1=$output
	touch -d '2001-02-03' "$L/rootfs/bin/hello" "$L/rootfs/etc"
	rkt_run image build --full "$L" "$BATS_TEST_TMPDIR/b.aci"
	[ "$status" -eq 0 ]
	[ "$output" = "$id1" ]
	cmp "$BATS_TEST_TMPDIR/a.aci" "$BATS_TEST_TMPDIR/b.aci"
	# ... and a content change changes it.
	echo changed >"$L/rootfs/etc/sub/file"
	rkt_run image build --full "$L" "$BATS_TEST_TMPDIR/c.aci"
	[ "$output" != "$id1" ]
}

@test "the ID does not depend on the compression" {
	rkt_run image build --full "$L" "$BATS_TEST_TMPDIR/gz.aci"
	id=$output
	for c in none bzip2 xz zstd; do
		rkt_run image build --full --compression=$c "$L" "$BATS_TEST_TMPDIR/$c.aci"
		[ "$status" -eq 0 ]
		[ "$output" = "$id" ]
		rkt_run image validate --full "$BATS_TEST_TMPDIR/$c.aci"
		[ "$status" -eq 0 ]
		[ "$output" = "$id" ]
	done
	file "$BATS_TEST_TMPDIR/xz.aci" | grep -q XZ || xz -t "$BATS_TEST_TMPDIR/xz.aci"
}

@test "SOURCE_DATE_EPOCH sets entry times; --preserve-times keeps them" {
	SOURCE_DATE_EPOCH=1000000000 "$RKT" image build "$L" "$BATS_TEST_TMPDIR/a.aci"
	tar -tvzf "$BATS_TEST_TMPDIR/a.aci" rootfs/bin/hello | grep -q '2001-09-09'
	touch -d '2005-05-05 00:00:00' "$L/rootfs/bin/hello"
	"$RKT" image build --preserve-times "$L" "$BATS_TEST_TMPDIR/b.aci"
	tar -tvzf "$BATS_TEST_TMPDIR/b.aci" rootfs/bin/hello | grep -q '2005-05-05'
}

@test "the archive has the manifest first, sorted entries, owners 0:0, links kept" {
	chown 1234:5678 "$L/rootfs/etc/sub/file"
	"$RKT" image build "$L" "$BATS_TEST_TMPDIR/a.aci"
	run tar -tzf "$BATS_TEST_TMPDIR/a.aci"
	[ "${lines[0]}" = "manifest" ]
	[ "${lines[1]}" = "rootfs/" ]
	sorted=$(printf '%s\n' "${lines[@]:1}" | LC_ALL=C sort)
	[ "$sorted" = "$(printf '%s\n' "${lines[@]:1}")" ]
	tar -tvzf "$BATS_TEST_TMPDIR/a.aci" rootfs/etc/sub/file | grep -q ' 0/0 '
	tar -tvzf "$BATS_TEST_TMPDIR/a.aci" rootfs/bin/hi | grep -q 'rootfs/bin/hi -> hello'
	tar -tvzf "$BATS_TEST_TMPDIR/a.aci" | grep -q 'rootfs/bin/hello2 link to rootfs/bin/hello'
	"$RKT" image build --preserve-owners "$L" "$BATS_TEST_TMPDIR/b.aci"
	tar -tvzf "$BATS_TEST_TMPDIR/b.aci" rootfs/etc/sub/file | grep -q ' 1234/5678 '
}

@test "the manifest is validated and stored canonically" {
	rkt_run image build "$L" "$BATS_TEST_TMPDIR/a.aci"
	[ "$status" -eq 0 ]
	tar -xOzf "$BATS_TEST_TMPDIR/a.aci" manifest >"$BATS_TEST_TMPDIR/m"
	# Compact, schema key order, no trailing newline.
	head -c 40 "$BATS_TEST_TMPDIR/m" | grep -q '^{"acKind":"ImageManifest","acVersion"'
	[ "$(tail -c 1 "$BATS_TEST_TMPDIR/m" | od -An -c | tr -d ' ')" = "}" ]
	rkt_run image cat-manifest "$BATS_TEST_TMPDIR/a.aci"
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["name"]=="example.com/test", d'
}

@test "an invalid manifest is refused with the field named, and no output is left" {
	sed -i 's/"name":"example.com\/test"/"name":"Example.com\/TEST"/' "$L/manifest"
	rkt_run image build "$L" "$BATS_TEST_TMPDIR/a.aci"
	[ "$status" -eq 1 ]
	[[ "$stderr" == rkt:* ]]
	[[ "$stderr" == *"Example.com/TEST"* ]]
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[ ! -e "$BATS_TEST_TMPDIR/a.aci" ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep -v -e layout -e stderr)" ]
}

@test "a manifest with a duplicate key is refused" {
	printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"a","name":"b"}' >"$L/manifest"
	rkt_run image build "$L" "$BATS_TEST_TMPDIR/a.aci"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"duplicate"* ]]
}

@test "a layout without rootfs/ is refused" {
	rm -rf "$L/rootfs"
	rkt_run image build "$L" "$BATS_TEST_TMPDIR/a.aci"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"rootfs"* ]]
}

@test "device nodes and FIFOs in the rootfs are refused by the builder" {
	mknod "$L/rootfs/etc/null" c 1 3
	rkt_run image build "$L" "$BATS_TEST_TMPDIR/a.aci"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"rootfs/etc/null"*"device nodes"* ]]
	rm "$L/rootfs/etc/null"
	mkfifo "$L/rootfs/etc/fifo"
	rkt_run image build "$L" "$BATS_TEST_TMPDIR/a.aci"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"rootfs/etc/fifo"*"FIFOs"* ]]
}

@test "an existing output is not replaced without --overwrite" {
	echo precious >"$BATS_TEST_TMPDIR/a.aci"
	rkt_run image build "$L" "$BATS_TEST_TMPDIR/a.aci"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"already exists"*"--overwrite"* ]]
	[ "$(cat "$BATS_TEST_TMPDIR/a.aci")" = precious ]
	rkt_run image build --overwrite "$L" "$BATS_TEST_TMPDIR/a.aci"
	[ "$status" -eq 0 ]
	gzip -t "$BATS_TEST_TMPDIR/a.aci"
}

@test "validate reports each file; one bad file makes the exit status 1; json output" {
	"$RKT" image build "$L" "$BATS_TEST_TMPDIR/good.aci"
	echo "not an archive" >"$BATS_TEST_TMPDIR/bad.aci"
	rkt_run image validate "$BATS_TEST_TMPDIR/good.aci" "$BATS_TEST_TMPDIR/bad.aci"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$stderr" == *"bad.aci"* ]]
	rkt_run --format=json image validate "$BATS_TEST_TMPDIR/good.aci" "$BATS_TEST_TMPDIR/bad.aci"
	[ "$status" -eq 1 ]
	echo "$output" | python3 -c '
import json,sys
d=json.load(sys.stdin)
assert d[0]["valid"] is True and d[0]["name"]=="example.com/test" and d[0]["labels"]["os"]=="linux", d
assert d[1]["valid"] is False and "bad.aci" in d[1]["error"], d'
}

@test "validate of a missing file names it" {
	rkt_run image validate "$BATS_TEST_TMPDIR/nope.aci"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"nope.aci"*"No such file"* ]]
}

@test "make demo twice yields the same image ID" {
	[ -x /bin/busybox ] || skip "busybox-static not installed"
	d1="$BATS_TEST_TMPDIR/d1"
	d2="$BATS_TEST_TMPDIR/d2"
	RKT="$RKT" DEMO_DIR="$d1" sh "$REPO_ROOT/scripts/demo.sh" >"$BATS_TEST_TMPDIR/o1"
	RKT="$RKT" DEMO_DIR="$d2" sh "$REPO_ROOT/scripts/demo.sh" >"$BATS_TEST_TMPDIR/o2"
	[ "$(tail -1 "$BATS_TEST_TMPDIR/o1")" = "$(tail -1 "$BATS_TEST_TMPDIR/o2")" ]
	grep -q '"name": "example.com/busybox"' "$BATS_TEST_TMPDIR/o1"
}
