#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# rkt trust: add (review prompt, --skip-fingerprint-review, explicit --root), list (table and
# JSON), remove and vendor masks, refusals that leave the store and the audit log untouched,
# audit records, and no GnuPG daemon or private home left behind. The verification matrix of
# rkt's TestTrust is in tests/unit/test-trust.c (the fetch tests add the end-to-end cases).

load helpers

setup() {
	K=$REPO_ROOT/keys
	T=$BATS_TEST_TMPDIR
	D=$T/d
	L=$T/l
	S=$T/s
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	G=(--dir="$D" --local-config="$L" --system-config="$S")
	RSA=$(cat "$K/test-good-rsa.fpr")
	ED=$(cat "$K/test-good-ed25519.fpr")
}

trust() {
	rkt_run "${G[@]}" trust "$@"
}

# trust_tty INPUT ARGS...: rkt trust with a terminal on stdin and stderr (script(1)), INPUT
# typed at the prompt. Output (both streams) in $output.
trust_tty() {
	local input=$1
	shift
	local cmd
	printf -v cmd '%q ' "$RKT" "${G[@]}" trust "$@"
	run bash -c "printf '%s' \"\$1\" | script -qec \"\$2\" /dev/null" _ "$input" "$cmd"
}

audit_count() { # EVENT
	[ -f "$D/audit/audit.log" ] || { echo 0; return; }
	grep -c "\"event\":\"$1\"" "$D/audit/audit.log" || true
}

no_store() {
	[ ! -e "$L/trustedkeys" ]
}

@test "add with --skip-fingerprint-review stores the key 0644 in 0755 dirs and audits it" {
	umask 077
	trust --prefix=example.com/app --skip-fingerprint-review "$K/test-good-rsa.pub.asc"
	[ "$status" -eq 0 ]
	f=$L/trustedkeys/prefix.d/example.com/app/$RSA
	[[ "$output" == "Added key $RSA for prefix \"example.com/app\" at \"$f\"" ]]
	[ "$(stat -c %a "$f")" = 644 ]
	[ "$(stat -c %a "$L/trustedkeys/prefix.d/example.com/app")" = 755 ]
	[ "$(stat -c %a "$L/trustedkeys/prefix.d/example.com")" = 755 ]
	grep -q -- "-----BEGIN PGP PUBLIC KEY BLOCK-----" "$f"
	[ "$(audit_count trust-add)" -eq 1 ]
	grep '"event":"trust-add"' "$D/audit/audit.log" | grep -q "\"fingerprint\":\"$RSA\""
	grep '"event":"trust-add"' "$D/audit/audit.log" | grep -q '"prefix":"example.com/app"'
	grep '"event":"trust-add"' "$D/audit/audit.log" | grep -q "\"source\":\"$K/test-good-rsa.pub.asc\""
}

@test "without a terminal the review refuses, and nothing is stored or audited" {
	trust --prefix=example.com/app "$K/test-good-rsa.pub.asc" </dev/null
	[ "$status" -eq 1 ]
	[[ "$stderr" == "rkt: trust: cannot review key $RSA"*"without a terminal"*"--skip-fingerprint-review" ]]
	no_store
	[ "$(audit_count trust-add)" -eq 0 ]
}

@test "the review on a terminal shows the key and accepts exactly 'yes'" {
	command -v script >/dev/null || skip "no script(1)"
	trust_tty $'yes\n' --prefix=example.com/app "$K/test-subkey.pub.asc"
	[ "$status" -eq 0 ]
	[[ "$output" == *'Prefix: "example.com/app"'* ]]
	up=$(tr a-f A-F <"$K/test-subkey.fpr")
	[[ "$output" == *"GPG key fingerprint is: ${up:0:4} ${up:4:4} "*"  ${up:20:4} "* ]]
	[[ "$output" == *"Subkey fingerprint: "*"[S] ed25519"* ]]
	[[ "$output" == *"<subkey@test.invalid>"* ]]
	[[ "$output" == *"(yes/no)?"* ]]
	[ -f "$L/trustedkeys/prefix.d/example.com/app/$(cat "$K/test-subkey.fpr")" ]
	[ "$(audit_count trust-add)" -eq 1 ]
}

@test "the review refuses 'no', and anything but yes/no three times" {
	command -v script >/dev/null || skip "no script(1)"
	trust_tty $'no\n' --prefix=example.com/app "$K/test-good-rsa.pub.asc"
	[ "$status" -eq 1 ]
	[[ "$output" == *"rkt: trust: key $RSA from '$K/test-good-rsa.pub.asc' not trusted"* ]]
	trust_tty $'y\nYES\nyes please\n' --prefix=example.com/app "$K/test-good-rsa.pub.asc"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Please enter 'yes' or 'no'"* ]]
	no_store
	[ "$(audit_count trust-add)" -eq 0 ]
}

@test "no implicit root trust: --root must be explicit" {
	trust --skip-fingerprint-review "$K/test-good-rsa.pub.asc"
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"implicit unbounded trust"* ]]
	no_store
	trust --root --prefix=example.com --skip-fingerprint-review "$K/test-good-rsa.pub.asc"
	[ "$status" -eq 2 ]
	no_store
	trust --root --skip-fingerprint-review "$K/test-good-rsa.pub.asc"
	[ "$status" -eq 0 ]
	[ -f "$L/trustedkeys/root.d/$RSA" ]
	grep '"event":"trust-add"' "$D/audit/audit.log" | grep -q '"root":true'
}

@test "bad key files are refused and leave the store and the audit log alone" {
	for f in test-multi.pub.asc test-good-rsa.sec.asc test-revoked.pub.asc \
		test-expired.pub.asc; do
		trust --prefix=example.com --skip-fingerprint-review "$K/$f"
		[ "$status" -eq 1 ]
		[[ "$stderr" == "rkt: trust: '$K/$f': "* ]]
	done
	trust --prefix=example.com --skip-fingerprint-review "$K/test-multi.pub.asc"
	[[ "$stderr" == *"holds 2 keys"* ]]
	trust --prefix=example.com --skip-fingerprint-review "$K/test-good-rsa.sec.asc"
	[[ "$stderr" == *"secret key"* ]]
	trust --prefix=example.com --skip-fingerprint-review "$K/test-revoked.pub.asc"
	[[ "$stderr" == *"revoked"* ]]
	trust --prefix=example.com --skip-fingerprint-review "$K/nonexistent.asc"
	[ "$status" -eq 1 ]
	no_store
	[ "$(audit_count trust-add)" -eq 0 ]
}

@test "URLs, bad prefixes and bad fingerprints are refused with a message" {
	trust --prefix=example.com https://example.com/key.asc
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is a URL; fetching keys from URLs is not supported yet"* ]]
	for p in example.com/ ../etc /abs a//b https://example.com Example.com; do
		trust --prefix="$p" --skip-fingerprint-review "$K/test-good-rsa.pub.asc"
		[ "$status" -eq 2 ]
		[[ "$stderr" == "rkt: trust: --prefix: "* ]]
	done
	trust --remove=D94627D0D5728376 --prefix=example.com
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"key IDs are not accepted"* ]]
	trust --root
	[ "$status" -eq 2 ]
	trust --list --prefix=example.com
	[ "$status" -eq 2 ]
	trust --bogus
	[ "$status" -eq 2 ]
	no_store
}

@test "list: table, --no-legend and JSON" {
	trust --prefix=example.com/app --skip-fingerprint-review "$K/test-good-rsa.pub.asc"
	trust --root --skip-fingerprint-review "$K/test-good-ed25519.pub.asc"
	trust --list
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == FINGERPRINT*PREFIX*SOURCE*EXPIRES*"USER ID" ]]
	[ "${#lines[@]}" -eq 3 ]
	[[ "$output" == *"$RSA  example.com/app  local"*"<good-rsa@test.invalid>"* ]]
	[[ "$output" == *"$ED  (root)"*"local"*"never"* ]]
	trust --list --no-legend
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" != FINGERPRINT* ]]
	rkt_run "${G[@]}" --format=json trust --list
	[ "$status" -eq 0 ]
	echo "$output" | jq -e 'length == 2'
	echo "$output" | jq -e --arg f "$RSA" '.[] | select(.fingerprint == $f) |
		.prefix == "example.com/app" and .source == "local" and (.root | not) and
		(.uids[0] | contains("good-rsa@test.invalid")) and .expires == null and
		(.path | endswith("/trustedkeys/prefix.d/example.com/app/" + $f))'
	echo "$output" | jq -e --arg f "$ED" '.[] | select(.fingerprint == $f) |
		.root == true and (has("prefix") | not)'
}

@test "remove: a local key is deleted, audited, and gone from the list" {
	trust --prefix=example.com/app --skip-fingerprint-review "$K/test-good-rsa.pub.asc"
	upper=$(echo "$RSA" | tr a-f A-F)
	trust --remove="$upper" --prefix=example.com/app
	[ "$status" -eq 0 ]
	[[ "$output" == "Removed key $RSA for example.com/app" ]]
	[ ! -e "$L/trustedkeys/prefix.d/example.com/app/$RSA" ]
	[ "$(audit_count trust-remove)" -eq 1 ]
	grep '"event":"trust-remove"' "$D/audit/audit.log" | grep -q "\"fingerprint\":\"$RSA\""
	trust --list --no-legend
	[ -z "$output" ]
	# At another prefix it was never trusted.
	trust --remove="$RSA" --prefix=example.com/app
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"is not trusted for prefix example.com/app"*"rkt trust --list"* ]]
	[ "$(audit_count trust-remove)" -eq 1 ]
	# --remove needs the scope too.
	trust --remove="$RSA"
	[ "$status" -eq 2 ]
}

@test "a vendor key is masked by an empty local file, and remove writes that mask" {
	mkdir -p "$S/trustedkeys/prefix.d/example.com" "$S/trustedkeys/root.d"
	cp "$K/test-good-rsa.pub.asc" "$S/trustedkeys/prefix.d/example.com/$RSA"
	cp "$K/test-good-ed25519.pub.asc" "$S/trustedkeys/root.d/$ED"
	rkt_run "${G[@]}" --format=json trust --list
	echo "$output" | jq -e 'length == 2 and all(.[]; .source == "system")'
	# Masked by hand ...
	mkdir -p "$L/trustedkeys/root.d"
	: >"$L/trustedkeys/root.d/$ED"
	rkt_run "${G[@]}" --format=json trust --list
	echo "$output" | jq -e --arg f "$ED" '[.[] | select(.fingerprint == $f)] |
		length == 2 and any(.[]; .source == "local" and .mask == true)'
	trust --list
	[[ "$output" == *"$ED  (root)"*"local"*"(mask: not trusted)"* ]]
	# ... or by --remove, which cannot delete the vendor's file.
	trust --remove="$RSA" --prefix=example.com
	[ "$status" -eq 0 ]
	[[ "$output" == "Masked vendor key $RSA for example.com with an empty file in $L" ]]
	[ -f "$S/trustedkeys/prefix.d/example.com/$RSA" ]
	[ -s "$S/trustedkeys/prefix.d/example.com/$RSA" ]
	[ -f "$L/trustedkeys/prefix.d/example.com/$RSA" ]
	[ ! -s "$L/trustedkeys/prefix.d/example.com/$RSA" ]
	grep '"event":"trust-remove"' "$D/audit/audit.log" | grep -q '"result":"masked"'
	# Trusting it again replaces the mask.
	trust --prefix=example.com --skip-fingerprint-review "$K/test-good-rsa.pub.asc"
	[ "$status" -eq 0 ]
	[ -s "$L/trustedkeys/prefix.d/example.com/$RSA" ]
}

@test "a key file named for another key is listed as invalid" {
	mkdir -p "$S/trustedkeys/root.d"
	cp "$K/test-good-rsa.pub.asc" "$S/trustedkeys/root.d/$ED"
	rkt_run "${G[@]}" --format=json trust --list
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.[0].error | contains("not the key its name says")'
}

@test "no GnuPG daemon and no private home are left behind" {
	trust --prefix=example.com --skip-fingerprint-review "$K/test-good-rsa.pub.asc"
	trust --list
	trust --prefix=example.com --skip-fingerprint-review "$K/test-multi.pub.asc"
	[ -z "$(ls -A "$D/tmp" 2>/dev/null)" ]
	[ -z "$(ls -A "$TMPDIR")" ]
	# Live daemons (by command name, not zombies) whose arguments mention this test's dirs.
	left=$(ps -eo stat=,comm=,args= |
		awk -v t="$T" '$1 !~ /^Z/ && $2 ~ /^(gpg-agent|dirmngr|keyboxd|scdaemon)$/ &&
			index($0, t)')
	[ -z "$left" ]
}

@test "the audit log still verifies after trust changes" {
	trust --prefix=example.com --skip-fingerprint-review "$K/test-good-rsa.pub.asc"
	trust --remove="$RSA" --prefix=example.com
	rkt_run "${G[@]}" audit verify
	if [ "$status" -eq 2 ]; then skip "rkt audit is not registered yet"; fi
	[ "$status" -eq 0 ]
}
