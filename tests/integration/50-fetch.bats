#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# rkt fetch end to end: files and https:// URLs into the store, each admitted only through the
# trust decision of ARCHITECTURE.md (signature first, keys per prefix, name binding, policy,
# opt-ins that are loud, audited and remembered). Then the HTTPS transport on loopback with a
# throw-away CA (tests/tools/https-server.py), concurrent fetches, fetches killed with SIGKILL,
# and the audit log tampered with through the CLI.
#
# Every refusal checks the exit status, the one-line message naming the image and the reason,
# that the store and the trust store are unchanged, and the audit record. Signatures come from
# the TEST-ONLY keys in keys/ (fixtures over tests/data/images/test.aci, name example.com/test,
# or made here with the secret test keys).
#
# HTTPS tests ("https:" and "kill:" in their names) get two servers from setup: $U (HTTPS with
# the test CA) and $HU (plain HTTP), both serving $W. rkt_ca runs rkt in a private mount
# namespace whose system CA bundle holds the test CA: rkt needs no option to trust it, and the
# host's files are never changed.

load helpers

setup_file() {
	# One throw-away CA for the file (read only); every test has its own servers and stores.
	local ca=$BATS_FILE_TMPDIR/ca
	sh "$REPO_ROOT/tests/tools/make-test-ca.sh" "$ca" localhost >/dev/null
	cat /etc/ssl/certs/ca-certificates.crt "$ca/ca.pem" >"$BATS_FILE_TMPDIR/bundle.pem"
}

setup() {
	K=$REPO_ROOT/keys
	IMG=$REPO_ROOT/tests/data/images
	T=$BATS_TEST_TMPDIR
	D=$T/d
	L=$T/l
	S=$T/s
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR" "$L" "$S"
	G=(--dir="$D" --local-config="$L" --system-config="$S")
	RSA=$(cat "$K/test-good-rsa.fpr")
	ED=$(cat "$K/test-good-ed25519.fpr")
	CA=$BATS_FILE_TMPDIR/ca
	BUNDLE=$BATS_FILE_TMPDIR/bundle.pem
	# "${WITH_CA[@]}" CMD...: CMD (exec'd, same PID) in a private mount namespace whose system
	# CA bundle, the file libcurl reads, is a bind mount of one that also holds the test CA.
	WITH_CA=(unshare -m sh -c 'mount --bind "$0" /etc/ssl/certs/ca-certificates.crt && exec "$@"'
		"$BUNDLE")
	PIDS=()
	GH=
	# the image under test, without a signature next to it
	F=$T/f
	mkdir -p "$F"
	cp "$IMG/test.aci" "$F/test.aci"
	case $BATS_TEST_DESCRIPTION in
	https:* | kill:*) start_servers ;;
	esac
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "$GH" ]; then
		gpgconf --homedir "$GH" --kill all 2>/dev/null || true
		rm -rf "$GH"
	fi
}

fetch() { rkt_run "${G[@]}" fetch "$@"; }
rk() { "$RKT" "${G[@]}" "$@"; }

# rkt_ca ARGS...: rkt_run, trusting the test CA.
rkt_ca() {
	run --separate-stderr "${WITH_CA[@]}" "$RKT" "${G[@]}" "$@"
}

wait_file() { # FILE: up to 10 s
	local i
	for i in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	fail_with "$1 did not appear"
}

# start_servers: $W served over HTTPS ($U, log $HLOG) and plain HTTP ($HU, log $PLOG), with
# per-path behaviours. Files: /test.aci(.asc) by good-rsa; /untrusted/ signed by good-ed25519;
# /unsigned/ without signature; /defer1/ and /defer2/ defer the signature once and twice;
# /maxage/ sends Cache-Control: max-age=600; /cut/ cuts the first image download after 150
# bytes; /redir/test.aci redirects to $HU/test.aci; /nosuch/ has only the signature;
# /slow/test.aci and /slowsig/test.aci.asc stall 5 s in the middle of the body.
start_servers() {
	W=$T/www
	local d
	for d in . untrusted unsigned defer1 defer2 maxage cut redir nosuch slow slowsig; do
		mkdir -p "$W/$d"
		[ "$d" = nosuch ] || cp "$IMG/test.aci" "$W/$d/test.aci"
		cp "$IMG/test.aci.good-rsa.asc" "$W/$d/test.aci.asc"
	done
	cp "$IMG/test.aci.good-ed25519.asc" "$W/untrusted/test.aci.asc"
	rm "$W/unsigned/test.aci.asc" "$W/redir/test.aci"
	HLOG=$T/https.log
	PLOG=$T/http.log
	: >"$HLOG"
	: >"$PLOG"
	python3 "$REPO_ROOT/tests/tools/https-server.py" --root "$W" --log "$PLOG" \
		--port-file "$T/http.port" --lifetime 300 >/dev/null 2>&1 3>&- &
	PIDS+=($!)
	wait_file "$T/http.port"
	HU=http://127.0.0.1:$(cat "$T/http.port")
	cat >"$T/https.json" <<JSON
{"/defer1/test.aci.asc": {"status": 202, "times": 1},
 "/defer2/test.aci.asc": {"status": 202, "times": 2},
 "/maxage/test.aci": {"max_age": 600},
 "/cut/test.aci": {"cut_after": 150, "times": 1},
 "/redir/test.aci": {"redirect": "$HU/test.aci", "code": 302},
 "/slow/test.aci": {"delay": 5, "delay_after": 100},
 "/slowsig/test.aci.asc": {"delay": 5, "delay_after": 60}}
JSON
	python3 "$REPO_ROOT/tests/tools/https-server.py" --root "$W" --cert "$CA/server.pem" \
		--key "$CA/server.key" --config "$T/https.json" --log "$HLOG" \
		--port-file "$T/https.port" --lifetime 300 >/dev/null 2>&1 3>&- &
	PIDS+=($!)
	wait_file "$T/https.port"
	U=https://127.0.0.1:$(cat "$T/https.port")
}

# requests LOG: one "METHOD PATH STATUS [range] [inm]" line per request, in order.
requests() {
	jq -r '[.method, .path, (.status|tostring),
		(if .headers.Range then "range=" + .headers.Range else empty end),
		(if .headers["If-None-Match"] then "inm" else empty end)] | join(" ")' "$1"
}

trust_prefix() { # PREFIX KEY
	"$RKT" "${G[@]}" trust --prefix="$1" --skip-fingerprint-review "$K/test-$2.pub.asc" >/dev/null
}

# plant PREFIX KEY: put a key into the local trust store directly, as if it had been trusted
# before it expired or was revoked ("rkt trust" refuses such keys).
plant() {
	local dir=$L/trustedkeys/prefix.d/$1
	mkdir -p "$dir"
	cp "$K/test-$2.pub.asc" "$dir/$(cat "$K/test-$2.fpr")"
}

gpg_setup() {
	GH=$(mktemp -d /tmp/rkt-fetch-gpg.XXXXXX)
	gpg --homedir "$GH" --batch --quiet --import "$K/test-good-rsa.sec.asc" \
		"$K/test-good-ed25519.sec.asc" 2>/dev/null
}

sign() { # FILE [FPR]: FILE.asc
	gpg --homedir "$GH" --batch --quiet --yes --local-user "${2:-$RSA}" --detach-sign \
		--armor -o "$1.asc" "$1"
}

build() { # NAME OUT.aci: an image made from make_layout, its contents naming OUT
	local l=$T/layout-${2##*/}
	make_layout "$l" "$1"
	echo "${2##*/}" >"$l/rootfs/etc/which"
	"$RKT" image build --overwrite "$l" "$2" >/dev/null
}

# snapshot: the store (minus the audit log and the SQLite files, compared through the
# listing), the trust stores and the private temporary dirs, with file checksums.
snapshot() {
	(
		cd "$T" || exit 1
		"$RKT" "${G[@]}" --format=json image list # (opens the store, creating it once)
		find d l s \( -path d/audit -o -name 'index.db*' \) -prune -o -printf '%p %y %m\n' |
			sort
		find d l s \( -path d/audit -o -name 'index.db*' \) -prune -o -type f -print0 |
			sort -z | xargs -0r sha256sum
		[ -f d/cas/index.db ] && sqlite3 d/cas/index.db 'select * from remote order by url;'
	)
}

unchanged() { # BEFORE
	local now
	now=$(snapshot)
	[ "$now" = "$1" ] || {
		diff <(echo "$1") <(echo "$now") >&2
		fail_with "the store or the trust store changed"
	}
}

audit_count() { # EVENT DECISION
	[ -f "$D/audit/audit.log" ] || {
		echo 0
		return
	}
	grep "\"event\":\"$1\"" "$D/audit/audit.log" | grep -c "\"decision\":\"$2\"" || true
}

last_fetch_record() { grep '"event":"fetch"' "$D/audit/audit.log" | tail -1; }

# refused REF REASON: the last rkt run failed with status 1 and exactly one stderr line
# "rkt: fetch REF: ...REASON..."
refused() {
	[ "$status" -eq 1 ] || fail_with "status $status, expected 1; stderr: $stderr"
	[ -z "$output" ] || fail_with "stdout not empty: $output"
	[ "${#stderr_lines[@]}" -eq 1 ] || fail_with "expected one line on stderr: $stderr"
	contains "$stderr" "rkt: fetch $1: "
	contains "$stderr" "$2"
}

# admitted ID FPR PREFIX: the image is stored, verified by FPR for PREFIX
admitted() {
	rk --format=json image list | jq -e --arg id "$1" --arg f "$2" --arg p "$3" \
		'[.[] | select(.id | startswith($id))] | length == 1 and
		 (.[0].verification == {"signer": $f, "prefix": $p, "rule": .[0].verification.rule})' \
		>/dev/null || fail_with "not admitted as $2/$3: $(rk --format=json image list)"
}

image_count() { rk --format=json image list | jq length; }

# ---- files ----

@test "a signed file is stored verified: the ID on stdout, signer and prefix in the index and the audit log" {
	trust_prefix example.com/test good-rsa
	cp "$IMG/test.aci.good-rsa.asc" "$F/test.aci.asc"
	fetch "$F/test.aci"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^sha512-[0-9a-f]{32}$ ]]
	id=$output
	contains "$stderr" "signature verified"
	admitted "$id" "$RSA" example.com/test
	rk --format=json image list | jq -e '.[0].name == "example.com/test" and .[0].signature'
	rec=$(last_fetch_record)
	contains "$rec" '"decision":"accepted"'
	contains "$rec" "\"signer\":\"$RSA\""
	contains "$rec" '"prefix":"example.com/test"'
	contains "$rec" "\"image\":\"$id"
	# --full prints the whole ID, which is the SHA-512 of the uncompressed tar
	fetch --full "$F/test.aci"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^sha512-[0-9a-f]{128}$ ]]
	[ "${output:0:39}" = "$id" ]
	[ "$(image_count)" -eq 1 ]
	# nothing left behind: no temporary file, no private GnuPG home
	[ -z "$(ls -A "$D/cas/tmp")" ]
	[ -z "$(ls -A "$D/tmp" 2>/dev/null)" ]
	rk audit verify >/dev/null
}

@test "--signature=FILE gives the signature from anywhere; a missing one is an error" {
	trust_prefix example.com/test good-rsa
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci"
	[ "$status" -eq 0 ]
	admitted "$output" "$RSA" example.com/test
	rk image rm "$output" >/dev/null
	before=$(snapshot)
	fetch --signature="$T/nope.asc" "$F/test.aci"
	refused "$F/test.aci" "$T/nope.asc"
	unchanged "$before"
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci" "$IMG/other.aci"
	[ "$status" -eq 2 ]
}

@test "several images: each good one is fetched and printed, each bad one refused on its own line" {
	trust_prefix example.com good-rsa
	cp "$IMG/test.aci.good-rsa.asc" "$F/test.aci.asc"
	cp "$IMG/other.aci" "$F/other.aci"
	fetch "$F/other.aci" "$F/test.aci" "$T/missing.aci"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" =~ ^sha512-[0-9a-f]{32}$ ]]
	admitted "$output" "$RSA" example.com
	[ "${#stderr_lines[@]}" -eq 3 ]
	contains "${stderr_lines[0]}" "rkt: fetch $F/other.aci: no signature found"
	contains "${stderr_lines[1]}" "signature verified"
	contains "${stderr_lines[2]}" "rkt: fetch $T/missing.aci: cannot open the image: No such file"
	[ "$(image_count)" -eq 1 ]
}

@test "no signature: refused with the hint, nothing stored, the refusal audited" {
	trust_prefix example.com/test good-rsa
	before=$(snapshot)
	fetch "$F/test.aci"
	refused "$F/test.aci" "no signature found (looked for '$F/test.aci.asc')"
	contains "$stderr" "--signature"
	contains "$stderr" "--insecure-options=image"
	unchanged "$before"
	[ "$(audit_count fetch refused)" -eq 1 ]
	contains "$(last_fetch_record)" "\"ref\":\"$F/test.aci\""
}

# refuse_fixture SIG REASON: test.aci with the fixture signature SIG is refused for REASON,
# although every fixture key is trusted for example.com and the store already holds an image.
refuse_fixture() {
	local k
	for k in good-rsa good-ed25519 expired revoked sha1 wrong-usage; do
		plant example.com "$k"
	done
	cp "$IMG/other.aci" "$F/other.aci"
	fetch --signature="$IMG/test.aci.other-image.asc" "$F/other.aci"
	[ "$status" -eq 0 ] || fail_with "the control image was refused: $stderr"
	cp "$IMG/test.aci.$1.asc" "$F/test.aci.asc"
	local before n
	before=$(snapshot)
	n=$(audit_count fetch refused)
	fetch "$F/test.aci"
	refused "$F/test.aci" "$2"
	unchanged "$before"
	[ "$(audit_count fetch refused)" -eq $((n + 1)) ]
	local rec
	rec=$(last_fetch_record)
	contains "$rec" "\"ref\":\"$F/test.aci\""
	contains "$rec" '"reason":'
	rk audit verify >/dev/null
}

@test "fixture: a key that has expired is refused" {
	refuse_fixture expired "$(cat "$K/test-expired.fpr"), which has expired"
}

@test "fixture: a revoked key is refused" {
	refuse_fixture revoked "$(cat "$K/test-revoked.fpr"), which is revoked"
}

@test "fixture: a SHA-1 signature is refused" {
	refuse_fixture sha1 "weak or unsupported hash algorithm (SHA1)"
}

@test "fixture: a key not allowed to sign is refused" {
	refuse_fixture wrong-usage "not allowed to sign"
}

@test "fixture: an expired signature is refused" {
	refuse_fixture sig-expired "by $RSA has expired"
}

@test "fixture: a signature with an unknown critical notation is refused" {
	# GnuPG reports it as a bad signature
	refuse_fixture critical-notation "signature by"
}

@test "fixture: a signature dated in the future is refused" {
	refuse_fixture future "dated in the future"
}

@test "fixture: a good signature over another image is refused" {
	refuse_fixture other-image "does not match the image"
}

@test "fixture: two signatures (both by trusted keys) are refused" {
	refuse_fixture two-sigs "holds 2 signatures; exactly one is accepted"
}

@test "fixture: armored garbage is refused" {
	refuse_fixture garbage "not an OpenPGP signature"
}

@test "TestTrust: a key trusted for the exact prefix admits the image" {
	trust_prefix example.com/test good-rsa
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci"
	[ "$status" -eq 0 ]
	admitted "$output" "$RSA" example.com/test
}

@test "TestTrust: a key trusted for a parent prefix admits the image" {
	trust_prefix example.com good-rsa
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci"
	[ "$status" -eq 0 ]
	admitted "$output" "$RSA" example.com
}

@test "TestTrust: a root key admits the image" {
	"$RKT" "${G[@]}" trust --root --skip-fingerprint-review "$K/test-good-rsa.pub.asc" >/dev/null
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci"
	[ "$status" -eq 0 ]
	admitted "$output" "$RSA" ""
	contains "$stderr" "trusted for every image"
}

@test "TestTrust: sibling prefixes do not cover the name (example.com/tes, example.com/other)" {
	trust_prefix example.com/tes good-rsa
	trust_prefix example.com/other good-rsa
	trust_prefix example.com/test/sub good-rsa
	before=$(snapshot)
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci"
	refused "$F/test.aci" "signed by $RSA, which is not trusted for 'example.com/test'"
	contains "$stderr" "rkt trust --prefix example.com/test"
	unchanged "$before"
	[ "$(audit_count fetch refused)" -eq 1 ]
}

@test "TestTrust: the right prefix with another key refuses; adding the signer's key admits" {
	trust_prefix example.com/test good-ed25519
	before=$(snapshot)
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci"
	refused "$F/test.aci" "$RSA"
	contains "$stderr" "not trusted"
	unchanged "$before"
	fetch --signature="$IMG/test.aci.good-ed25519.asc" "$F/test.aci"
	[ "$status" -eq 0 ]
	admitted "$output" "$ED" example.com/test
}

@test "TestTrust: no key at all refuses and says to run rkt trust --prefix" {
	before=$(snapshot)
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci"
	refused "$F/test.aci" "no key is trusted"
	contains "$stderr" "rkt trust --prefix"
	unchanged "$before"
	[ "$(audit_count fetch refused)" -eq 1 ]
}

@test "name binding: a key trusted for example.com/a cannot admit an image named example.com/b" {
	gpg_setup
	trust_prefix example.com/a good-rsa
	build example.com/b "$F/a.aci"
	sign "$F/a.aci"
	before=$(snapshot)
	fetch "$F/a.aci"
	refused "$F/a.aci" "not trusted for 'example.com/b'"
	unchanged "$before"
	# the same key and bytes, named as the key allows, are admitted
	build example.com/a/app "$F/app.aci"
	sign "$F/app.aci"
	fetch "$F/app.aci"
	[ "$status" -eq 0 ]
	admitted "$output" "$RSA" example.com/a
}

@test "policy: reject refuses a signed image, and also with --insecure-options=image" {
	trust_prefix example.com good-rsa
	mkdir -p "$L"
	echo '{"default":{"type":"signed"},"prefixes":{"example.com/test":{"type":"reject"}}}' \
		>"$L/policy.json"
	before=$(snapshot)
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci"
	refused "$F/test.aci" 'policy rule "example.com/test"'
	contains "$stderr" "rejects 'example.com/test'"
	unchanged "$before"
	rkt_run "${G[@]}" --insecure-options=image fetch "$F/test.aci"
	[ "$status" -eq 1 ]
	contains "$stderr" "rejects 'example.com/test'"
	unchanged "$before"
	[ "$(audit_count fetch refused)" -eq 2 ]
	# the rule is about that name only
	fetch --signature="$IMG/test.aci.other-image.asc" "$IMG/other.aci"
	[ "$status" -eq 0 ]
}

@test "policy: signedBy admits the listed key and refuses another trusted key" {
	trust_prefix example.com good-rsa
	trust_prefix example.com good-ed25519
	mkdir -p "$L"
	printf '{"default":{"type":"signed"},"prefixes":{"example.com/test":{"type":"signedBy","keys":["%s"]}}}' \
		"$ED" >"$L/policy.json"
	before=$(snapshot)
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci"
	refused "$F/test.aci" "example.com/test"
	contains "$stderr" "$RSA"
	unchanged "$before"
	fetch --signature="$IMG/test.aci.good-ed25519.asc" "$F/test.aci"
	[ "$status" -eq 0 ]
	admitted "$output" "$ED" example.com
	rk --format=json image list | jq -e '.[0].verification.rule == "example.com/test"'
}

@test "policy: insecureAcceptAnything admits an unsigned image, recorded as unverified" {
	mkdir -p "$L"
	echo '{"default":{"type":"signed"},"prefixes":{"example.com/test":{"type":"insecureAcceptAnything"}}}' \
		>"$L/policy.json"
	fetch "$F/test.aci"
	[ "$status" -eq 0 ]
	id=$output
	rk --format=json image list | jq -e '.[0].verification == {"insecure": "policy"}'
	contains "$(last_fetch_record)" '"decision":"accepted"'
	contains "$(last_fetch_record)" '"rule":"example.com/test"'
	# later uses follow today's policy
	fetch "$id"
	[ "$status" -eq 0 ]
	echo '{"default":{"type":"signed"}}' >"$L/policy.json"
	fetch "$id"
	refused "$id" "stored unverified"
}

@test "policy: allowInsecure false forbids --insecure-options=image and --insecure-skip-verify" {
	mkdir -p "$L"
	echo '{"allowInsecure":false,"default":{"type":"signed"}}' >"$L/policy.json"
	before=$(snapshot)
	rkt_run "${G[@]}" --insecure-options=image fetch "$F/test.aci"
	[ "$status" -eq 1 ]
	contains "$stderr" "rkt: fetch $F/test.aci: "
	contains "$stderr" "forbids --insecure-options=image"
	unchanged "$before"
	rkt_run "${G[@]}" --insecure-skip-verify fetch "$F/test.aci"
	[ "$status" -eq 1 ]
	contains "$stderr" "forbids --insecure-options=image"
	unchanged "$before"
	[ "$(audit_count fetch refused)" -eq 2 ]
	# signed images still come in
	trust_prefix example.com good-rsa
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci"
	[ "$status" -eq 0 ]
}

@test "--insecure-options=image admits an unsigned image: warned every time, marked, audited" {
	rkt_run "${G[@]}" --insecure-options=image fetch "$F/test.aci"
	[ "$status" -eq 0 ]
	id=$output
	contains "$stderr" "warning: image signature verification has been disabled"
	rk --format=json image list | jq -e '.[0].verification == {"insecure": "image"}'
	rec=$(last_fetch_record)
	contains "$rec" '"decision":"accepted"'
	contains "$rec" '"insecure":"image"'
	rk --format=json image list | jq -e '.[0].signature == false'
	# again: the warning again
	rkt_run "${G[@]}" --insecure-skip-verify fetch "$F/test.aci"
	[ "$status" -eq 0 ]
	[ "$output" = "$id" ]
	contains "$stderr" "warning: image signature verification has been disabled"
	[ "$(image_count)" -eq 1 ]
}

@test "an image stored unverified is refused later without the opt-in, by ID and by name" {
	"$RKT" "${G[@]}" --insecure-options=image fetch "$F/test.aci" >/dev/null 2>&1
	id=$("$RKT" "${G[@]}" --insecure-options=image fetch --full "$F/test.aci" 2>/dev/null)
	before=$(snapshot)
	for ref in "$id" "${id:0:20}" example.com/test example.com/test:1.0.0; do
		fetch --pull-policy=new "$ref"
		refused "$ref" "example.com/test (${id:0:39}) was stored unverified"
		contains "$stderr" "--insecure-options=image"
	done
	unchanged "$before"
	# with the opt-in given again it is used, with the warning
	rkt_run "${G[@]}" --insecure-options=image fetch --pull-policy=new example.com/test
	[ "$status" -eq 0 ]
	[ "$output" = "${id:0:39}" ]
	contains "$stderr" "warning:"
	# fetched again with its signature, it is verified from then on
	trust_prefix example.com/test good-rsa
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci"
	[ "$status" -eq 0 ]
	admitted "$id" "$RSA" example.com/test
	fetch --pull-policy=new example.com/test
	[ "$status" -eq 0 ]
	[ "$output" = "${id:0:39}" ]
}

@test "a verified image in the store is used by ID and name without any option" {
	trust_prefix example.com/test good-rsa
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci"
	id=$output
	fetch "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "$id" ]
	# by name, the store is used under --pull-policy=new (update asks the server)
	fetch --pull-policy=new example.com/test
	[ "$status" -eq 0 ]
	[ "$output" = "$id" ]
	[ -z "$(echo "$stderr" | grep warning)" ]
	fetch --pull-policy=never example.com/nothing
	refused example.com/nothing "not in the store"
}

# ---- HTTPS on loopback ----

@test "https: URL and URL.asc, the signature requested first" {
	trust_prefix example.com/test good-rsa
	rkt_ca fetch "$U/test.aci"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	admitted "$output" "$RSA" example.com/test
	[ "$(requests "$HLOG")" = "GET /test.aci.asc 200
GET /test.aci 200" ]
	contains "$(last_fetch_record)" '"source":"url"'
	contains "$(last_fetch_record)" "\"ref\":\"$U/test.aci\""
	[ -z "$(ls -A "$D/cas/tmp")" ]
}

@test "https: an untrusted signer is refused before the image is requested" {
	trust_prefix example.com/test good-rsa
	before=$(snapshot)
	rkt_ca fetch "$U/untrusted/test.aci"
	refused "$U/untrusted/test.aci" "signature by $ED"
	unchanged "$before"
	[ "$(requests "$HLOG")" = "GET /untrusted/test.aci.asc 200" ]
	[ "$(audit_count fetch refused)" -eq 1 ]
}

@test "https: an unsigned URL is refused before the image is requested" {
	trust_prefix example.com/test good-rsa
	before=$(snapshot)
	rkt_ca fetch "$U/unsigned/test.aci"
	refused "$U/unsigned/test.aci" "no signature found (looked for '$U/unsigned/test.aci.asc')"
	unchanged "$before"
	[ "$(requests "$HLOG")" = "GET /unsigned/test.aci.asc 404" ]
	# the opt-in admits it, unverified, and later uses need it again
	rkt_ca --insecure-options=image fetch "$U/unsigned/test.aci"
	[ "$status" -eq 0 ]
	contains "$stderr" "warning:"
	rk --format=json image list | jq -e '.[0].verification == {"insecure": "image"}'
	rkt_ca fetch --pull-policy=never "$U/unsigned/test.aci"
	refused "$U/unsigned/test.aci" "stored unverified"
}

@test "https: a server certificate from an unknown CA is refused; --insecure-options=tls takes it with a warning" {
	trust_prefix example.com/test good-rsa
	before=$(snapshot)
	fetch "$U/test.aci"
	refused "$U/test.aci" "TLS verification failed"
	unchanged "$before"
	[ "$(audit_count fetch refused)" -eq 1 ]
	rkt_run "${G[@]}" --insecure-options=tls fetch "$U/test.aci"
	[ "$status" -eq 0 ]
	contains "$stderr" "warning: TLS verification has been disabled"
	contains "$(last_fetch_record)" '"insecureTransport":"tls"'
	contains "$(last_fetch_record)" '"decision":"accepted"'
	# the signature is still required and verified
	admitted "$output" "$RSA" example.com/test
}

@test "https: a redirect to http:// is refused unless --insecure-options=http" {
	trust_prefix example.com/test good-rsa
	before=$(snapshot)
	rkt_ca fetch "$U/redir/test.aci"
	refused "$U/redir/test.aci" "redirected to a protocol that is not allowed"
	unchanged "$before"
	[ -z "$(requests "$PLOG")" ]
	rkt_ca --insecure-options=http fetch "$U/redir/test.aci"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	contains "$stderr" "warning:"
	admitted "$output" "$RSA" example.com/test
	[ "$(requests "$PLOG")" = "GET /test.aci 200" ]
}

@test "https: a plain http:// URL is refused unless --insecure-options=http" {
	trust_prefix example.com/test good-rsa
	before=$(snapshot)
	fetch "$HU/test.aci"
	refused "$HU/test.aci" "only https:// is allowed"
	unchanged "$before"
	[ -z "$(requests "$PLOG")" ]
	rkt_run "${G[@]}" --insecure-options=http fetch "$HU/test.aci"
	[ "$status" -eq 0 ]
	contains "$stderr" "warning: plain HTTP"
	admitted "$output" "$RSA" example.com/test
}

@test "https: a signature deferred once (HTTP 202) is fetched after the image" {
	trust_prefix example.com/test good-rsa
	rkt_ca fetch "$U/defer1/test.aci"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	admitted "$output" "$RSA" example.com/test
	[ "$(requests "$HLOG")" = "GET /defer1/test.aci.asc 202
GET /defer1/test.aci 200
GET /defer1/test.aci.asc 200" ]
}

@test "https: a signature deferred twice is refused" {
	trust_prefix example.com/test good-rsa
	before=$(snapshot)
	rkt_ca fetch "$U/defer2/test.aci"
	refused "$U/defer2/test.aci" "deferred the signature '$U/defer2/test.aci.asc' twice"
	unchanged "$before"
	[ -z "$(ls -A "$D/cas/tmp")" ]
}

@test "https: a second fetch sends If-None-Match, gets 304 and prints the same ID" {
	trust_prefix example.com/test good-rsa
	rkt_ca fetch "$U/test.aci"
	[ "$status" -eq 0 ]
	id=$output
	rkt_ca fetch "$U/test.aci"
	[ "$status" -eq 0 ]
	[ "$output" = "$id" ]
	[ "$(requests "$HLOG")" = "GET /test.aci.asc 200
GET /test.aci 200
GET /test.aci.asc 200
GET /test.aci 304 inm" ]
	[ "$(image_count)" -eq 1 ]
	[ "$(audit_count fetch accepted)" -eq 1 ]
}

@test "https: Cache-Control max-age makes the next fetch use the store without a request" {
	trust_prefix example.com/test good-rsa
	rkt_ca fetch "$U/maxage/test.aci"
	[ "$status" -eq 0 ]
	id=$output
	n=$(wc -l <"$HLOG")
	[ "$n" -eq 2 ]
	rkt_ca fetch "$U/maxage/test.aci"
	[ "$status" -eq 0 ]
	[ "$output" = "$id" ]
	[ "$(wc -l <"$HLOG")" -eq "$n" ]
	# without max-age the server is asked again
	rkt_ca fetch "$U/test.aci"
	rkt_ca fetch "$U/test.aci"
	[ "$(wc -l <"$HLOG")" -eq $((n + 4)) ]
}

@test "https: --pull-policy=never uses the store only" {
	trust_prefix example.com/test good-rsa
	before=$(snapshot)
	rkt_ca fetch --pull-policy=never "$U/test.aci"
	refused "$U/test.aci" "not in the store, and --pull-policy=never"
	unchanged "$before"
	[ -z "$(requests "$HLOG")" ]
	rkt_ca fetch "$U/test.aci"
	id=$output
	: >"$HLOG"
	rkt_ca fetch --pull-policy=never "$U/test.aci"
	[ "$status" -eq 0 ]
	[ "$output" = "$id" ]
	[ -z "$(requests "$HLOG")" ]
	fetch --pull-policy=sometimes "$U/test.aci"
	[ "$status" -eq 2 ]
}

@test "https: a download cut in the middle is resumed with a Range request and verifies" {
	trust_prefix example.com/test good-rsa
	rkt_ca fetch "$U/cut/test.aci"
	[ "$status" -eq 0 ] || fail_with "$stderr"
	admitted "$output" "$RSA" example.com/test
	contains "$stderr" "resuming"
	[ "$(requests "$HLOG")" = "GET /cut/test.aci.asc 200
GET /cut/test.aci 200
GET /cut/test.aci 206 range=bytes=150-" ]
	[ "$(rk --format=json image list | jq '.[0].size')" -eq "$(stat -c %s "$IMG/test.aci")" ]
	rk image verify "$output" >/dev/null
	[ -z "$(ls -A "$D/cas/tmp")" ]
}

@test "https: a 404 names the URL" {
	trust_prefix example.com/test good-rsa
	before=$(snapshot)
	rkt_ca fetch "$U/nosuch/test.aci"
	refused "$U/nosuch/test.aci" "'$U/nosuch/test.aci': server answered HTTP 404"
	unchanged "$before"
	[ -z "$(ls -A "$D/cas/tmp")" ]
}

@test "https: the progress bar is drawn only on a terminal" {
	command -v script >/dev/null || skip "no script(1)"
	trust_prefix example.com/test good-rsa
	rkt_ca fetch "$U/test.aci"
	[ "$status" -eq 0 ]
	[[ "$stderr" != *Downloading* ]]
	rk image rm "$output" >/dev/null
	local cmd
	printf -v cmd '%q ' "${WITH_CA[@]}" "$RKT" "${G[@]}" fetch "$U/test.aci"
	run script -qec "$cmd" /dev/null
	[ "$status" -eq 0 ]
	contains "$output" "Downloading $U/test.aci"
	contains "$output" "sha512-"
}

# ---- concurrency ----

@test "concurrency: 4 parallel fetches of the same image and of 4 images all succeed" {
	gpg_setup
	trust_prefix example.com good-rsa
	cp "$IMG/test.aci.good-rsa.asc" "$F/test.aci.asc"
	local pids=() i
	for i in 1 2 3 4; do
		"$RKT" "${G[@]}" fetch "$F/test.aci" >"$T/out.$i" 2>"$T/err.$i" &
		pids+=($!)
	done
	for i in 1 2 3 4; do
		wait "${pids[$((i - 1))]}" || fail_with "fetch $i failed: $(cat "$T/err.$i")"
	done
	[ "$(sort -u "$T"/out.* | wc -l)" -eq 1 ]
	[ "$(image_count)" -eq 1 ]
	for i in 1 2 3 4; do
		build "example.com/app$i" "$F/app$i.aci"
		sign "$F/app$i.aci"
	done
	pids=()
	for i in 1 2 3 4; do
		"$RKT" "${G[@]}" fetch "$F/app$i.aci" >"$T/out.$i" 2>"$T/err.$i" &
		pids+=($!)
	done
	for i in 1 2 3 4; do
		wait "${pids[$((i - 1))]}" || fail_with "fetch app$i failed: $(cat "$T/err.$i")"
	done
	[ "$(image_count)" -eq 5 ]
	[ "$(rk --format=json image list | jq '[.[].name] | unique | length')" -eq 5 ]
	[ "$(rk --format=json image list | jq '[.[] | select(.verification.signer == "'"$RSA"'")] | length')" -eq 5 ]
	[ "$(audit_count fetch accepted)" -eq 8 ]
	run "$RKT" "${G[@]}" audit verify
	[ "$status" -eq 0 ]
	contains "$output" "audit log intact"
}

@test "https: 4 parallel fetches of the same URL all succeed, stored once" {
	trust_prefix example.com/test good-rsa
	local pids=() i
	for i in 1 2 3 4; do
		"${WITH_CA[@]}" "$RKT" "${G[@]}" fetch "$U/test.aci" >"$T/out.$i" 2>"$T/err.$i" &
		pids+=($!)
	done
	for i in 1 2 3 4; do
		wait "${pids[$((i - 1))]}" || fail_with "fetch $i failed: $(cat "$T/err.$i")"
	done
	[ "$(sort -u "$T"/out.* | wc -l)" -eq 1 ]
	[ "$(image_count)" -eq 1 ]
	admitted "$(cat "$T/out.1")" "$RSA" example.com/test
	[ "$(sqlite3 "$D/cas/index.db" 'select count(*) from remote')" -eq 1 ]
	rk audit verify >/dev/null
	[ -z "$(ls -A "$D/cas/tmp")" ]
}

# after_kill: the store and the audit log are consistent after a SIGKILL
after_kill() {
	run "$RKT" "${G[@]}" image gc
	[ "$status" -eq 0 ] || fail_with "gc: $output"
	run "$RKT" "${G[@]}" audit verify
	[ "$status" -eq 0 ] || fail_with "audit verify: $output"
	[ -z "$(ls -A "$D/cas/tmp")" ] || fail_with "left in cas/tmp: $(ls -A "$D/cas/tmp")"
	local id
	for id in $(rk --format=json image list | jq -r '.[].id'); do
		rk image verify "$id" >/dev/null || fail_with "half image $id"
	done
}

# kill_at SECONDS CMD...: start CMD and SIGKILL it after SECONDS (if it is still running).
kill_at() {
	local s=$1
	shift
	"$@" >/dev/null 2>&1 &
	local pid=$!
	sleep "$s"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# kill_when PATH CMD...: start CMD and SIGKILL it while the server stalls in the middle of the
# response to PATH (logged when the stall begins); fails if CMD ended before.
kill_when() {
	local path=$1 i
	shift
	"$@" >/dev/null 2>&1 &
	local pid=$!
	for i in $(seq 100); do
		grep -q "\"path\": \"$path\"" "$HLOG" && break
		sleep 0.1
	done
	sleep 0.3
	kill -0 "$pid" || fail_with "the fetch ended before the kill"
	[ "$(cat "/proc/$pid/comm")" = rkt ] || fail_with "$pid is not rkt"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	grep -q "\"path\": \"$path\"" "$HLOG" || fail_with "$path was not requested"
}

@test "kill: SIGKILL while the image or its signature is downloading leaves no half image" {
	trust_prefix example.com/test good-rsa
	# the image stalls after 100 bytes, the signature after 60
	kill_when /slow/test.aci "${WITH_CA[@]}" "$RKT" "${G[@]}" fetch "$U/slow/test.aci"
	kill_when /slowsig/test.aci.asc "${WITH_CA[@]}" "$RKT" "${G[@]}" fetch "$U/slowsig/test.aci"
	# the image was never requested after the stalled signature
	if grep -q '"path": "/slowsig/test.aci"' "$HLOG"; then fail_with "image requested"; fi
	[ "$(image_count)" -eq 0 ]
	after_kill
	[ "$(image_count)" -eq 0 ]
	rkt_ca fetch "$U/test.aci"
	[ "$status" -eq 0 ]
	admitted "$output" "$RSA" example.com/test
}

@test "kill: SIGKILL at several points of a file fetch; gc, audit verify and a new fetch work" {
	trust_prefix example.com/test good-rsa
	cp "$IMG/test.aci.good-rsa.asc" "$F/test.aci.asc"
	local s
	for s in 0.005 0.01 0.02 0.03 0.04 0.06 0.1; do
		kill_at "$s" "$RKT" "${G[@]}" fetch "$F/test.aci"
		after_kill
	done
	fetch "$F/test.aci"
	[ "$status" -eq 0 ]
	admitted "$output" "$RSA" example.com/test
	[ "$(image_count)" -eq 1 ]
	rk audit verify >/dev/null
}

# ---- the audit log through the CLI ----

# some_fetches: a few records: trust-add, then per fetch import + fetch, and a refusal
some_fetches() {
	trust_prefix example.com good-rsa
	fetch --signature="$IMG/test.aci.good-rsa.asc" "$F/test.aci"
	fetch --signature="$IMG/test.aci.other-image.asc" "$IMG/other.aci"
	fetch "$F/test.aci"
	rk audit verify >/dev/null
	LOG=$D/audit/audit.log
	[ "$(wc -l <"$LOG")" -eq 6 ]
}

@test "audit: a flipped byte in a middle record fails verify, naming the line" {
	some_fetches
	# record 3 (a fetch): one character of its reference changes
	python3 - "$LOG" <<'EOF'
import sys
p = sys.argv[1]
lines = open(p, "rb").read().split(b"\n")
i = lines[2].index(b'"ref":"') + 9
lines[2] = lines[2][:i] + bytes([lines[2][i] ^ 1]) + lines[2][i + 1:]
open(p, "wb").write(b"\n".join(lines))
EOF
	run "$RKT" "${G[@]}" audit verify
	[ "$status" -eq 1 ]
	contains "$output" "rkt: audit log: line 4: "
	contains "$output" "modified"
}

@test "audit: a deleted record fails verify" {
	some_fetches
	sed -i 3d "$LOG"
	run "$RKT" "${G[@]}" audit verify
	[ "$status" -eq 1 ]
	contains "$output" "line 3: record 4 where 3 was expected"
}

@test "audit: a duplicated record fails verify" {
	some_fetches
	sed -i 4p "$LOG"
	run "$RKT" "${G[@]}" audit verify
	[ "$status" -eq 1 ]
	contains "$output" "line 5: record 4 where 5 was expected"
}

@test "audit: a truncated last record fails verify" {
	some_fetches
	sed -i '$d' "$LOG"
	run "$RKT" "${G[@]}" audit verify
	[ "$status" -eq 1 ]
	contains "$output" "ends at record 5 but the head records 6"
}

@test "audit: a torn last line (half a record appended) is a warning, and the chain goes on" {
	some_fetches
	tail -1 "$LOG" | head -c 100 >>"$LOG"
	run --separate-stderr "$RKT" "${G[@]}" audit verify
	[ "$status" -eq 0 ]
	contains "$stderr" "warning: audit log: 1 torn record"
	contains "$output" "6 records"
	fetch "$F/test.aci"
	run --separate-stderr "$RKT" "${G[@]}" audit verify
	[ "$status" -eq 0 ]
	contains "$output" "7 records"
}

@test "audit: list --event=fetch --format=json shows the fetch decisions only" {
	some_fetches
	run "$RKT" "${G[@]}" --format=json audit list --event=fetch
	[ "$status" -eq 0 ]
	echo "$output" | jq -e 'length == 3 and all(.[]; .event == "fetch")'
	echo "$output" | jq -e '[.[].decision] == ["accepted", "accepted", "refused"]'
	echo "$output" | jq -e --arg f "$RSA" '.[0].signer == $f and .[0].prefix == "example.com"'
	run "$RKT" "${G[@]}" --format=json audit list --event=import
	echo "$output" | jq -e 'length == 2'
	run "$RKT" "${G[@]}" audit list --event=fetch --no-legend
	[ "${#lines[@]}" -eq 3 ]
}
