#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Fetching by name through appc meta discovery, end to end, against real HTTPS (and plain
# HTTP) servers on loopback: discovery pages, keys, images and signatures published under the
# test names example.test and other.test.
#
# Each test gets a private network and mount namespace (held by a sleeper, entered with
# nsenter): its own loopback, where the servers listen on ports 443 and 80; its own /etc/hosts
# (a bind mount) that resolves the test names to 127.0.0.1; its own system CA bundle (a bind
# mount) that also holds the throw-away test CA. The host's files and network are never
# touched. Images are signed with the TEST-ONLY keys in keys/.
#
# Every refusal checks the exit status and the one-line message; the server's request log
# (one JSON line per request, with its Host and headers) shows what was asked and what was not.

load helpers

setup_file() {
	local f=$BATS_FILE_TMPDIR
	K=$REPO_ROOT/keys
	sh "$REPO_ROOT/tests/tools/make-test-ca.sh" "$f/ca" example.test other.test >/dev/null
	cat /etc/ssl/certs/ca-certificates.crt "$f/ca/ca.pem" >"$f/bundle.pem"
	printf '127.0.0.1 localhost example.test other.test\n::1 localhost\n' >"$f/hosts"
	BUSYBOX=$(command -v busybox) || {
		echo "busybox-static is needed" >&2
		return 1
	}
	case $(uname -m) in
	x86_64) ARCH=amd64 ;;
	i?86) ARCH=i386 ;;
	*) ARCH=$(uname -m) ;;
	esac
	GH=$(mktemp -d /tmp/rkt-disc-gpg.XXXXXX)
	gpg --homedir "$GH" --batch --quiet --import "$K/test-good-rsa.sec.asc" \
		"$K/test-good-ed25519.sec.asc" 2>/dev/null
	W=$f/www
	E=$W/example.test
	O=$W/other.test
	mkdir -p "$E/aci/example.test" "$E/missing" "$E/keys" "$E/r" "$O/aci/other.test" \
		"$O/aci/example.test" "$O/r/other.test"
	cp "$K/test-good-rsa.pub.asc" "$E/keys/rsa.asc"
	cp "$K/test-good-ed25519.pub.asc" "$E/keys/ed.asc"
	local a=$E/aci/example.test p
	img example.test/app 1.0 "$a/app-1.0-linux-$ARCH.aci"
	img example.test/app latest "$a/app-latest-linux-$ARCH.aci"
	# the 1.0 image served where 2.0 and another name are asked for
	cp "$a/app-1.0-linux-$ARCH.aci" "$a/app-2.0-linux-$ARCH.aci"
	cp "$a/app-1.0-linux-$ARCH.aci.asc" "$a/app-2.0-linux-$ARCH.aci.asc"
	cp "$a/app-1.0-linux-$ARCH.aci" "$a/evil-1.0-linux-$ARCH.aci"
	cp "$a/app-1.0-linux-$ARCH.aci.asc" "$a/evil-1.0-linux-$ARCH.aci.asc"
	img example.test/tool 1.0 "$a/tool-1.0-linux-$ARCH.aci"
	img example.test/deep/er/tool 1.0 "$a/deep/er/tool-1.0-linux-$ARCH.aci"
	img example.test/labels 1.0 "$a/labels-1.0-beta.aci" ',{"name":"channel","value":"beta"}'
	img example.test/app2 1.0 "$a/app2-1.0-linux-$ARCH.aci" "" "" "$(cat "$K/test-good-ed25519.fpr")"
	img example.test/deferred 1.0 "$a/deferred-1.0-linux-$ARCH.aci"
	img example.test/deferred2 1.0 "$a/deferred2-1.0-linux-$ARCH.aci"
	img example.test/many 1.0 "$a/many-1.0-linux-$ARCH.aci"
	img example.test/base 1.0 "$a/base-1.0-linux-$ARCH.aci"
	img example.test/withdep 1.0 "$a/withdep-1.0-linux-$ARCH.aci" "" \
		',"dependencies":[{"imageName":"example.test/base","labels":[{"name":"version","value":"1.0"}]}]'
	img example.test/authed 1.0 "$O/aci/example.test/authed-1.0-linux-$ARCH.aci"
	mv "$O/aci/example.test/authed-1.0-linux-$ARCH.aci.asc" "$a/"
	img other.test/plain 1.0 "$O/aci/other.test/plain-1.0-linux-$ARCH.aci"
	img other.test/redir 1.0 "$O/aci/other.test/redir-1.0-linux-$ARCH.aci"
	mv "$O/aci/other.test/redir-1.0-linux-$ARCH.aci.asc" "$O/r/other.test/"
	gpgconf --homedir "$GH" --kill all 2>/dev/null || true
	rm -rf "$GH"

	local tpl='{name}-{version}-{os}-{arch}.{ext}'
	# the root page: a template for every name under example.test, and the key
	page "$E/index.html" \
		"ac-discovery" "example.test https://example.test/aci/$tpl" \
		"ac-discovery-pubkeys" "example.test https://example.test/keys/rsa.asc"
	# example.test/app: a prefix that is a string prefix but not a path component (never
	# used), a template whose endpoint 404s, then the one that works; no keys at this level
	page "$E/app" \
		"ac-discovery" "example.test/ap https://example.test/wrong/$tpl" \
		"ac-discovery" "example.test/app https://example.test/missing/$tpl" \
		"ac-discovery" "example.test/app https://example.test/aci/$tpl"
	page "$E/evil" "ac-discovery" "example.test/evil https://example.test/aci/$tpl"
	page "$E/labels" "ac-discovery" \
		"example.test/labels https://example.test/aci/{name}-{version}-{channel}.{ext}"
	# example.test/app2: its key is published for a sibling prefix only
	page "$E/app2" "ac-discovery" "example.test/app2 https://example.test/aci/$tpl" \
		"ac-discovery-pubkeys" "example.test/app https://example.test/keys/ed.asc"
	page "$E/authed" "ac-discovery" "example.test/authed https://example.test/aci/$tpl"
	page "$O/plain" "ac-discovery" "other.test/plain http://other.test/aci/$tpl"
	page "$O/redir" "ac-discovery" "other.test/redir https://other.test/r/$tpl"
	# thousands of unrelated <meta> tags around the real one
	{
		echo '<html><head>'
		for p in $(seq 5000); do echo "<meta name=\"description\" content=\"filler $p\">"; done
		echo "<meta name=\"ac-discovery\" content=\"example.test/many https://example.test/aci/$tpl\">"
		echo '</head></html>'
	} >"$E/many"
	# thousands of discovery tags: the parser keeps a bounded number
	{
		echo '<html><head>'
		for p in $(seq 5000); do
			echo "<meta name=\"ac-discovery\" content=\"example.test/flood https://example.test/f$p/$tpl\">"
		done
		echo '</head></html>'
	} >"$E/flood"
	local v=linux-$ARCH.aci
	cat >"$f/config.json" <<JSON
{"/example.test/aci/example.test/deferred-1.0-$v.asc": {"status": 202, "times": 1},
 "/example.test/aci/example.test/deferred2-1.0-$v.asc": {"status": 202, "times": 2},
 "/example.test/authed": {"auth": "Basic dXNlcjpzM2NyZXQ="},
 "/example.test/aci/example.test/authed-1.0-$v.asc": {"auth": "Basic dXNlcjpzM2NyZXQ="},
 "/example.test/aci/example.test/authed-1.0-$v": {"auth": "Basic dXNlcjpzM2NyZXQ=",
   "redirect": "https://other.test/aci/example.test/authed-1.0-$v"},
 "/other.test/r/other.test/redir-1.0-$v": {"redirect": "http://other.test/aci/other.test/redir-1.0-$v"},
 "/other.test/pageredir": {"redirect": "http://other.test/plain?ac-discovery=1"}}
JSON
}

# img NAME VERSION OUT.aci [EXTRA_LABELS] [EXTRA_MANIFEST] [SIGNER]: a runnable busybox image,
# signed (OUT.aci.asc) by SIGNER (default the RSA test key).
img() {
	local l
	l=$(mktemp -d "$BATS_FILE_TMPDIR/layout.XXXXXX")
	mkdir -p "$l/rootfs/bin" "$(dirname "$3")"
	cp "$BUSYBOX" "$l/rootfs/bin/busybox"
	ln -s busybox "$l/rootfs/bin/sh"
	cat >"$l/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"$1",
 "labels":[{"name":"version","value":"$2"},{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}${4:-}],
 "app":{"exec":["/bin/sh","-c","echo hello from $1 $2"],"user":"0","group":"0"}${5:-}}
JSON
	"$RKT" image build --overwrite "$l" "$3" >/dev/null
	gpg --homedir "$GH" --batch --quiet --yes --local-user "${6:-$(cat "$K/test-good-rsa.fpr")}" \
		--detach-sign --armor -o "$3.asc" "$3"
	rm -rf "$l"
}

# page FILE (NAME CONTENT)...: an HTML page with those <meta> tags, attributes in varied order
# and quoting.
page() {
	local f=$1
	shift
	{
		echo '<!DOCTYPE html><html><head><title>test</title>'
		while [ $# -gt 0 ]; do
			echo "<meta content='$2' name=\"$1\">"
			shift 2
		done
		echo '</head><body>discovery</body></html>'
	} >"$f"
}

setup() {
	K=$REPO_ROOT/keys
	T=$BATS_TEST_TMPDIR
	D=$T/d
	L=$T/l
	S=$T/s
	W=$BATS_FILE_TMPDIR/www
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR" "$L" "$S"
	G=(--dir="$D" --local-config="$L" --system-config="$S")
	RSA=$(cat "$K/test-good-rsa.fpr")
	ED=$(cat "$K/test-good-ed25519.fpr")
	case $(uname -m) in
	x86_64) ARCH=amd64 ;;
	i?86) ARCH=i386 ;;
	*) ARCH=$(uname -m) ;;
	esac
	LOG=$T/server.log
	: >"$LOG"
	PIDS=()
	# the namespace holder: its network and mount namespaces are the test's
	unshare -n -m --propagation private sleep 600 3>&- &
	NS=$!
	PIDS+=("$NS")
	wait_for 5 ns_ready
	nsenter -t "$NS" -n ip link set lo up
	nsenter -t "$NS" -m mount --bind "$BATS_FILE_TMPDIR/hosts" /etc/hosts
	nsenter -t "$NS" -m mount --bind "$BATS_FILE_TMPDIR/bundle.pem" \
		/etc/ssl/certs/ca-certificates.crt
	local ca=$BATS_FILE_TMPDIR/ca
	nsenter -t "$NS" -n python3 "$REPO_ROOT/tests/tools/https-server.py" --vhosts --root "$W" \
		--cert "$ca/server.pem" --key "$ca/server.key" --config "$BATS_FILE_TMPDIR/config.json" \
		--log "$LOG" --port 443 --port-file "$T/https.port" --lifetime 300 >/dev/null 2>&1 3>&- &
	PIDS+=($!)
	nsenter -t "$NS" -n python3 "$REPO_ROOT/tests/tools/https-server.py" --vhosts --root "$W" \
		--config "$BATS_FILE_TMPDIR/config.json" --log "$LOG" --port 80 \
		--port-file "$T/http.port" --lifetime 300 >/dev/null 2>&1 3>&- &
	PIDS+=($!)
	wait_for 10 test -s "$T/https.port"
	wait_for 10 test -s "$T/http.port"
}

ns_ready() {
	[ "$(readlink "/proc/$NS/ns/net")" != "$(readlink /proc/self/ns/net)" ] &&
		[ "$(readlink "/proc/$NS/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]
}

teardown() {
	local p
	# gc where the pods' network lives: run in the host's namespace it would rebuild the rkt
	# table (and turn on ip_forward) there
	[ -d "$D/pods" ] && [ -n "${NS:-}" ] &&
		nsenter -t "$NS" -n -m -- "$RKT" --dir="$D" gc --grace-period=0s >/dev/null 2>&1 || true
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# rkt_ns ARGS...: rkt_run inside the test's namespaces.
rkt_ns() {
	run --separate-stderr nsenter -t "$NS" -n -m -- "$RKT" "${G[@]}" "$@"
}

# refused VERB REF NEEDLE: status 1, nothing on stdout, one line on stderr naming REF
refused() {
	[ "$status" -eq "${4:-1}" ] || fail_with "status $status; stderr: $stderr"
	[ -z "$output" ] || fail_with "stdout not empty: $output"
	[ "${#stderr_lines[@]}" -eq 1 ] || fail_with "expected one line on stderr: $stderr"
	contains "$stderr" "rkt: $1 $2"
	contains "$stderr" "$3"
}

image_count() { "$RKT" "${G[@]}" --format=json image list | jq length; }
requests() { # JQ-FILTER: matching requests in the server log
	jq -c "select($1)" "$LOG" | wc -l
}
trust_file() { # PREFIX KEY
	"$RKT" "${G[@]}" trust --prefix="$1" --skip-fingerprint-review "$K/test-$2.pub.asc" >/dev/null
}

@test "discovery: the first endpoint 404s and the second works; component prefix; keys at the root level" {
	rkt_ns trust --prefix=example.test/app --trust-keys-from-https
	[ "$status" -eq 0 ] || fail_with "$stderr"
	contains "$output" "Added key $RSA for prefix \"example.test/app\""
	contains "$stderr" "https://example.test/keys/rsa.asc"
	contains "$stderr" "without review"
	[ -f "$L/trustedkeys/prefix.d/example.test/app/$RSA" ]
	grep '"event":"trust-add"' "$D/audit/audit.log" | grep -q '"review":"trust-keys-from-https"'
	rkt_ns fetch --full example.test/app:1.0
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[[ "$output" == sha512-* ]]
	# the 404ing endpoint was tried first, the non-component prefix never
	[ "$(requests '.path | startswith("/missing/example.test/app-1.0")')" -eq 1 ]
	[ "$(requests '.path | startswith("/wrong/")')" -eq 0 ]
	# the signature was asked for before the image
	first_asc=$(grep -n "/aci/example.test/app-1.0-linux-$ARCH.aci.asc\"" "$LOG" | head -1 | cut -d: -f1)
	first_aci=$(grep -n "/aci/example.test/app-1.0-linux-$ARCH.aci\"" "$LOG" | head -1 | cut -d: -f1)
	[ "$first_asc" -lt "$first_aci" ]
	grep '"event":"fetch"' "$D/audit/audit.log" | grep '"decision":"accepted"' |
		grep -q '"url":"https://example.test/aci/example.test/app-1.0-linux-'"$ARCH"'.aci"'
}

@test "discovery: walks up to the parent pages; no version means latest" {
	trust_file example.test good-rsa
	rkt_ns fetch example.test/deep/er/tool:1.0
	[ "$status" -eq 0 ] || fail_with "$stderr"
	for p in "/deep/er/tool?ac-discovery=1" "/deep/er?ac-discovery=1" "/deep?ac-discovery=1" \
		"/?ac-discovery=1"; do
		[ "$(requests ".path == \"$p\"")" -eq 1 ] || fail_with "no request for $p"
	done
	rkt_ns fetch example.test/app
	[ "$status" -eq 0 ] || fail_with "$stderr"
	id=$output
	rkt_ns image cat-manifest "$id"
	echo "$output" | jq -e '.labels[] | select(.name == "version") | .value == "latest"'
}

@test "discovery: a template with a missing label is dropped (--debug says why); given, it works" {
	trust_file example.test good-rsa
	rkt_ns --debug fetch example.test/labels:1.0
	[ "$status" -eq 1 ]
	contains "$stderr" "{channel}"
	contains "$stderr" "https://example.test/labels?ac-discovery=1"
	rkt_ns fetch example.test/labels:1.0
	refused fetch example.test/labels:1.0 "HTTP 404"
	rkt_ns fetch example.test/labels:1.0,channel=beta
	[ "$status" -eq 0 ] || fail_with "$stderr"
}

@test "discovery: nothing found names every URL tried and what it answered" {
	rkt_ns fetch other.test/nothing/here:1.0
	refused fetch other.test/nothing/here:1.0 "no image endpoints found"
	contains "$stderr" "https://other.test/nothing/here?ac-discovery=1 (server answered HTTP 404)"
	contains "$stderr" "https://other.test?ac-discovery=1"
}

@test "refused: the manifest's name differs from the name asked for" {
	trust_file example.test good-rsa
	rkt_ns fetch example.test/evil:1.0
	refused fetch example.test/evil:1.0 "is named 'example.test/app': refused"
	[ "$(image_count)" -eq 0 ]
	grep '"event":"fetch"' "$D/audit/audit.log" | grep -q '"decision":"refused"'
}

@test "refused: a requested label the image does not carry" {
	trust_file example.test good-rsa
	rkt_ns fetch example.test/app:2.0
	refused fetch example.test/app:2.0 "has version='1.0', not version='2.0'"
	[ "$(image_count)" -eq 0 ]
}

@test "refused: a key published for a sibling prefix; the signer checked before the download" {
	rkt_ns trust --prefix=example.test/app2 --trust-keys-from-https
	[ "$status" -eq 0 ] || fail_with "$stderr"
	# the sibling's key (ed25519) was not offered: the root level's was
	[ -f "$L/trustedkeys/prefix.d/example.test/app2/$RSA" ]
	[ ! -e "$L/trustedkeys/prefix.d/example.test/app2/$ED" ]
	[ "$(requests '.path == "/keys/ed.asc"')" -eq 0 ]
	rkt_ns fetch example.test/app2:1.0
	refused fetch example.test/app2:1.0 "not trusted for 'example.test/app2'"
	contains "$stderr" "rkt trust --prefix example.test/app2"
	# the image itself was never downloaded
	[ "$(requests '.path | endswith("app2-1.0-linux-'"$ARCH"'.aci")')" -eq 0 ]
	[ "$(image_count)" -eq 0 ]
	# a key trusted for example.test/app does not cover example.test/app2 either
	trust_file example.test/app good-ed25519
	rkt_ns fetch example.test/app2:1.0
	refused fetch example.test/app2:1.0 "not trusted for 'example.test/app2'"
}

@test "no key: the error says which 'rkt trust --prefix' to run; nothing is trusted silently" {
	rkt_ns fetch example.test/tool:1.0
	refused fetch example.test/tool:1.0 "rkt trust --prefix example.test/tool'"
	[ ! -d "$L/trustedkeys" ] || [ -z "$(find "$L/trustedkeys" -type f)" ]
}

@test "TOFU: --trust-keys-from-https adds the discovered key for the name only when nothing covers it" {
	rkt_ns --trust-keys-from-https fetch example.test/tool:1.0
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ -f "$L/trustedkeys/prefix.d/example.test/tool/$RSA" ]
	grep '"event":"trust-add"' "$D/audit/audit.log" | grep -q '"tofu":true'
	# existing trust (another key for a covering prefix) is never widened or replaced
	rm -rf "$L/trustedkeys" "$D"
	trust_file example.test good-ed25519
	rkt_ns --trust-keys-from-https fetch example.test/tool:1.0
	refused fetch example.test/tool:1.0 "not trusted for 'example.test/tool'"
	[ ! -e "$L/trustedkeys/prefix.d/example.test/tool" ]
	[ "$(find "$L/trustedkeys" -type f | wc -l)" -eq 1 ]
	# on a terminal, the review prompt: "no" trusts nothing, "yes" trusts it for the name
	command -v script >/dev/null || skip "no script(1)"
	rm -rf "$L/trustedkeys" "$D"
	local cmd
	printf -v cmd '%q ' nsenter -t "$NS" -n -m -- "$RKT" "${G[@]}" fetch example.test/tool:1.0
	run bash -c "printf 'no\n' | script -qec \"\$1\" /dev/null" _ "$cmd"
	[ "$status" -eq 1 ]
	contains "$output" 'Key: "https://example.test/keys/rsa.asc"'
	[ ! -e "$L/trustedkeys/prefix.d/example.test/tool/$RSA" ]
	run bash -c "printf 'yes\n' | script -qec \"\$1\" /dev/null" _ "$cmd"
	[ "$status" -eq 0 ]
	[ -f "$L/trustedkeys/prefix.d/example.test/tool/$RSA" ]
	grep '"event":"trust-add"' "$D/audit/audit.log" | grep -q '"review":"prompt"'
}

@test "trust --prefix without a key: the review prompt on a terminal" {
	command -v script >/dev/null || skip "no script(1)"
	local cmd
	printf -v cmd '%q ' nsenter -t "$NS" -n -m -- "$RKT" "${G[@]}" trust --prefix=example.test/app
	run bash -c "printf 'no\n' | script -qec \"\$1\" /dev/null" _ "$cmd"
	[ "$status" -eq 1 ]
	contains "$output" 'Prefix: "example.test/app"'
	contains "$output" 'Key: "https://example.test/keys/rsa.asc"'
	contains "$output" "GPG key fingerprint is:"
	contains "$output" "not trusted"
	[ ! -e "$L/trustedkeys/prefix.d/example.test/app/$RSA" ]
	run bash -c "printf 'yes\n' | script -qec \"\$1\" /dev/null" _ "$cmd"
	[ "$status" -eq 0 ]
	[ -f "$L/trustedkeys/prefix.d/example.test/app/$RSA" ]
	# without a terminal and without --trust-keys-from-https: refused, saying what to do
	rm -rf "$L/trustedkeys"
	rkt_ns trust --prefix=example.test/app
	[ "$status" -eq 1 ]
	contains "$stderr" "without a terminal"
	[ ! -e "$L/trustedkeys/prefix.d/example.test/app/$RSA" ]
}

@test "HTTP 202 on the signature: fetched again after the image, once" {
	trust_file example.test good-rsa
	rkt_ns fetch example.test/deferred:1.0
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ "$(requests '.path | endswith("deferred-1.0-linux-'"$ARCH"'.aci.asc")')" -eq 2 ]
	rkt_ns fetch example.test/deferred2:1.0
	refused fetch example.test/deferred2:1.0 "deferred the signature"
	[ "$(image_count)" -eq 1 ]
}

@test "downgrade: an http template is dropped, an https->http redirect refused, without --insecure-options=http" {
	trust_file other.test good-rsa
	rkt_ns --debug fetch other.test/plain:1.0
	[ "$status" -eq 1 ]
	contains "$stderr" "http://other.test/aci/{name}"
	rkt_ns fetch other.test/plain:1.0
	refused fetch other.test/plain:1.0 "no image endpoints found"
	[ "$(requests '.path | startswith("/aci/")')" -eq 0 ]
	rkt_ns fetch other.test/redir:1.0
	refused fetch other.test/redir:1.0 "redirected to a protocol that is not allowed"
	# a discovery page redirecting to http is not followed either
	rkt_ns fetch other.test/pageredir:1.0
	refused fetch other.test/pageredir:1.0 "no image endpoints found"
	contains "$stderr" "https://other.test/pageredir?ac-discovery=1 (redirected to a protocol that is not allowed"
	[ "$(requests '.tls == false')" -eq 0 ]
	[ "$(image_count)" -eq 0 ]
	# with the opt-in both work (loudly)
	rkt_ns --insecure-options=http fetch other.test/plain:1.0
	[ "$status" -eq 0 ] || fail_with "$stderr"
	contains "$stderr" "warning:"
	rkt_ns --insecure-options=http fetch other.test/redir:1.0
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ "$(requests '.tls == false and .host == "other.test"')" -eq 3 ]
	grep '"event":"fetch"' "$D/audit/audit.log" | grep '"decision":"accepted"' |
		grep -q '"insecureTransport":"http"'
}

@test "auth.d: credentials per host, not sent across a cross-host redirect; files checked" {
	trust_file example.test good-rsa
	mkdir -p "$L/auth.d"
	cat >"$L/auth.d/test.json" <<'JSON'
{"rktKind":"auth","rktVersion":"v1","domains":["example.test"],"type":"basic",
 "credentials":{"user":"user","password":"s3cret"}}
JSON
	chmod 0600 "$L/auth.d/test.json"
	rkt_ns fetch example.test/authed:1.0
	[ "$status" -eq 0 ] || fail_with "$stderr"
	# example.test got the header for the page, the signature and the image (which redirects)
	[ "$(requests '.host == "example.test" and .path != "/?ac-discovery=1" and .headers.Authorization == "Basic dXNlcjpzM2NyZXQ="')" -ge 3 ]
	# other.test, where the image was redirected, never saw it
	[ "$(requests '.host == "other.test"')" -ge 1 ]
	[ "$(requests '.host == "other.test" and (.headers | has("Authorization"))')" -eq 0 ]
	# without the credentials the page and the signature answer 401
	rm -rf "$D"
	mv "$L/auth.d/test.json" "$T/test.json"
	rkt_ns fetch example.test/authed:1.0
	[ "$status" -eq 1 ]
	contains "$stderr" "HTTP 401"
	# a world-readable credentials file is refused, naming it
	mv "$T/test.json" "$L/auth.d/test.json"
	chmod 0644 "$L/auth.d/test.json"
	rkt_ns fetch example.test/authed:1.0
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ] || fail_with "$stderr"
	contains "$stderr" "auth.d/test.json"
	contains "$stderr" "readable by others"
	# unknown members are refused
	chmod 0600 "$L/auth.d/test.json"
	sed -i 's/"type"/"typo":1,"type"/' "$L/auth.d/test.json"
	rkt_ns fetch example.test/authed:1.0
	[ "$status" -eq 1 ]
	contains "$stderr" "unknown member 'typo'"
}

@test "a page with thousands of meta tags: found among fillers, bounded when flooded" {
	trust_file example.test good-rsa
	SECONDS=0
	rkt_ns fetch example.test/many:1.0
	[ "$status" -eq 0 ] || fail_with "$stderr"
	rkt_ns fetch example.test/flood:1.0
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ] || fail_with "$stderr"
	[ "$(requests '.path | test("^/f[0-9]+/")')" -le 64 ]
	[ "$SECONDS" -lt 60 ]
}

@test "pull policies by name: update asks the server (ETag), new uses the store" {
	trust_file example.test good-rsa
	rkt_ns fetch example.test/app:1.0
	[ "$status" -eq 0 ] || fail_with "$stderr"
	id=$output
	n=$(requests 'true')
	rkt_ns fetch example.test/app:1.0
	[ "$status" -eq 0 ]
	[ "$output" = "$id" ]
	[ "$(requests 'true')" -gt "$n" ]
	[ "$(requests '.status == 304')" -eq 1 ]
	[ "$(requests '(.headers | has("If-None-Match"))')" -eq 1 ]
	n=$(requests 'true')
	rkt_ns fetch --pull-policy=new example.test/app:1.0
	[ "$status" -eq 0 ]
	[ "$output" = "$id" ]
	[ "$(requests 'true')" -eq "$n" ]
	rkt_ns fetch --pull-policy=never example.test/tool:1.0
	refused fetch example.test/tool:1.0 "not in the store, and --pull-policy=never"
}

@test "dependencies named in the manifest are discovered, fetched and verified" {
	trust_file example.test good-rsa
	rkt_ns fetch example.test/withdep:1.0
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ "$(image_count)" -eq 2 ]
	"$RKT" "${G[@]}" --format=json image list | jq -e '[.[].name] | sort == ["example.test/base", "example.test/withdep"]'
	"$RKT" "${G[@]}" --format=json image list | jq -e 'all(.[]; .verification.signer == "'"$RSA"'")'
}

@test "end to end: rkt trust --prefix, then rkt run by name" {
	[ -x "$(dirname "$RKT")/rkt-stage1" ] || skip "no rkt-stage1"
	rkt_ns trust --prefix=example.test/app --trust-keys-from-https
	[ "$status" -eq 0 ] || fail_with "$stderr"
	rkt_ns run example.test/app:1.0
	[ "$status" -eq 0 ] || fail_with "$stderr"
	contains "$output" "hello from example.test/app 1.0"
	# prepare by name uses the stored image (--pull-policy=new): no new request
	n=$(requests 'true')
	rkt_ns prepare example.test/app:1.0
	[ "$status" -eq 0 ] || fail_with "$stderr"
	[ "$(requests 'true')" -eq "$n" ]
}
