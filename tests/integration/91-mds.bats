#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# rkt metadata-service and rkt run --mds-register (appc.md §8, network.md §5). Everything runs
# inside a sandbox the test makes (network.md §6.1): new PID, mount and network namespaces,
# a tmpfs on /run (the registration socket), lo up and nothing else, so no packet can leave;
# --kill-child takes the service and the pods down with it. Pods with --net=host share the
# sandbox's network and reach the service on its 127.0.0.1; pods with their own network
# namespace (--net=none) reach it on their own 127.0.0.1, through a listener stage1 hands over.

load helpers

setup_file() {
	local l=$BATS_FILE_TMPDIR/layout
	probe_layout "$l" sh wget sleep echo cat
	manifest example.com/mds '"exec":["/bin/sh"],"user":"0","group":"0"' |
		python3 -c 'import json,sys; d=json.load(sys.stdin); d["annotations"]=[{"name":"a","value":"1"},{"name":"b","value":"2"}]; print(json.dumps(d))' >"$l/manifest"
	"$RKT" image build --overwrite "$l" "$BATS_FILE_TMPDIR/mds.aci" >/dev/null
	# the client: prints status|content-type|repr(body)
	cat >"$BATS_FILE_TMPDIR/get.py" <<'PY'
import sys, urllib.request, urllib.error
url, data = sys.argv[1], (sys.argv[2].encode() if len(sys.argv) > 2 and sys.argv[2] != "-" else None)
r = urllib.request.Request(url, data=data)
if not (len(sys.argv) > 3 and sys.argv[3] == "noflavor"):
    r.add_header("Metadata-Flavor", "AppContainer")
try:
    with urllib.request.urlopen(r, timeout=3) as f:
        st, ct, body = f.status, f.headers["Content-Type"], f.read()
except urllib.error.HTTPError as e:
    st, ct, body = e.code, e.headers["Content-Type"], e.read()
print("%d|%s|%r" % (st, ct, body))
PY
}

# a pod that writes its AC_METADATA_URL to /out/url, fetches its uuid from inside into
# /out/uuid, then waits for /out/stop
POD_SH='echo "$AC_METADATA_URL" >/out/url; wget -q -O /out/uuid --header "Metadata-Flavor: AppContainer" "$AC_METADATA_URL/acMetadata/v1/pod/uuid"; while [ ! -e /out/stop ]; do sleep 0.1; done'

setup() {
	pod_setup
	[ "$(id -u)" = 0 ] || skip "needs root"
	command -v unshare >/dev/null && command -v ip >/dev/null || skip "needs unshare and ip"
	IMG=$BATS_FILE_TMPDIR/mds.aci
	GET="python3 $BATS_FILE_TMPDIR/get.py"
	export RKT T D IMG GET POD_SH
	mkdir -p "$T/out"
}

# sandbox SCRIPT: run the bash SCRIPT in the sandbox, the metadata service started first
# (unless NO_MDS; its log in $T/mds.log), with helpers rk (rkt with this test's dirs) and
# wait_file FILE.
sandbox() {
	{
		echo 'set -eu'
		echo 'mount -t tmpfs -o mode=0755 tmpfs /run'
		echo 'ip link set lo up'
		echo 'rk() { "$RKT" --dir="$D" --local-config="$T/lc" --system-config="$T/sc" --insecure-options=image "$@"; }'
		echo 'wait_file() { local i; for i in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "no $1" >&2; return 1; }'
		echo 'if [ -z "${NO_MDS:-}" ]; then'
		echo '  "$RKT" metadata-service 2>"$T/mds.log" &'
		echo '  for i in $(seq 200); do [ -S /run/rkt/metadata-svc.sock ] && break; sleep 0.05; done'
		echo 'fi'
		printf '%s\n' "$1"
	} >"$T/sandbox.sh"
	run --separate-stderr unshare --net --mount --propagation private --pid --fork --kill-child \
		--mount-proc bash "$T/sandbox.sh"
}

# the script lines that start the POD_SH pod in the background and wait for it
RUN_POD='rk run --net=host --mds-register --uuid-file-save="$T/uuid" --volume=out,kind=host,source="$T/out" "$IMG" --mount=volume=out,target=/out --exec=/bin/sh -- -c "$POD_SH" >"$T/pod.log" 2>&1 & POD=$!
wait_file "$T/out/url"; wait_file "$T/out/uuid"
'

@test "usage: --listen-port is checked; --mds-register needs run" {
	local p
	for p in 0 65536 abc -1 ""; do
		rkt_run metadata-service --listen-port="$p"
		[ "$status" -eq 2 ] || fail_with "port '$p': $status"
		[ "${#stderr_lines[@]}" -eq 1 ]
	done
	rkt_run metadata-service extra
	[ "$status" -eq 2 ]
	rkt_run --dir="$D" --insecure-options=image prepare --net=host --mds-register "$IMG"
	[ "$status" -eq 2 ]
	contains "$stderr" "only with rkt run and run-prepared"
}

@test "run-prepared --mds-register: without a service the pod stays prepared; with one it is registered" {
	NO_MDS=1 sandbox '
rk prepare --net=none "$IMG" --exec=/bin/sh -- -c "echo url=\$AC_METADATA_URL" >"$T/p"
UUID=$(cat "$T/p")
rk run-prepared --mds-register "$UUID" || echo "status=$?"
rk list --no-legend | grep -c prepared | sed "s/^/prepared=/"
"$RKT" metadata-service 2>>"$T/mds.log" &
for i in $(seq 200); do [ -S /run/rkt/metadata-svc.sock ] && break; sleep 0.05; done
rk run-prepared --mds-register "$UUID" && echo "status=$?"
'
	[ "$status" -eq 0 ] || fail_with "$output $stderr"
	contains "$output" "status=125"
	contains "$stderr" "could not reach the metadata service"
	contains "$output" "prepared=1"
	[[ $output =~ url=http://127\.0\.0\.1:18112/[0-9a-f]{64} ]] || fail_with "$output"
	contains "$output" "status=0"
	contains "$(cat "$T/mds.log")" "registered (contained network)"
}

@test "without a service, --mds-register fails before the pod starts" {
	NO_MDS=1 sandbox 'rk run --net=host --mds-register "$IMG" --exec=/bin/echo -- started || echo "status=$?"'
	contains "$output" "status=125"
	[[ $output != *started* ]]
	contains "$stderr" "could not reach the metadata service"
}

@test "every endpoint: exact status, content type and body; from inside the pod too" {
	sandbox "$RUN_POD"'
URL=$(cat "$T/out/url"); UUID=$(cat "$T/uuid")
case $URL in http://127.0.0.1:18112/*) ;; *) echo "bad url $URL"; exit 1;; esac
TOKEN=${URL#http://127.0.0.1:18112/}
[ ${#TOKEN} -eq 64 ] || { echo "token $TOKEN"; exit 1; }
# the pod reached the service itself, and the body has no trailing newline
[ "$(od -An -c "$T/out/uuid" | tr -d " \n")" = "$(printf %s "$UUID" | od -An -c | tr -d " \n")" ]
ID=$(rk image list --no-legend --full | awk "{print \$1}" | head -1)
M=$URL/acMetadata/v1
echo "uuid $($GET $M/pod/uuid)"
echo "podann $($GET $M/pod/annotations)"
echo "appann $($GET $M/apps/mds/annotations)"
echo "imgid $($GET $M/apps/mds/image/id)"
$GET $M/pod/manifest >"$T/podman"
$GET $M/apps/mds/image/manifest >"$T/imgman"
echo "noapp $($GET $M/apps/nope/image/id)"
echo "nopath $($GET $M/pod/nothing)"
echo "noflavor $($GET $M/pod/uuid - noflavor)"
echo "method $($GET $M/pod/uuid x=1)"
echo "id=$ID"
touch "$T/out/stop"; wait $POD
'
	[ "$status" -eq 0 ] || fail_with "$output $stderr"
	local uuid id
	uuid=$(cat "$T/uuid")
	id=$(grep '^id=' <<<"$output" | cut -d= -f2)
	[[ $id == sha512-* ]] || fail_with "$output"
	contains "$output" "uuid 200|text/plain; charset=us-ascii|b'$uuid'"
	contains "$output" "podann 200|application/json|b'null'"
	contains "$output" "appann 200|application/json|b'[{\"name\":\"a\",\"value\":\"1\"},{\"name\":\"b\",\"value\":\"2\"}]'"
	contains "$output" "imgid 200|text/plain; charset=us-ascii|b'$id'"
	contains "$output" "noapp 404|"
	contains "$output" "nopath 404|"
	contains "$output" "noflavor 400|"
	contains "$output" "method 405|"
	# the manifests: the pod's as stored, the image's as stored
	python3 - "$T/podman" "$T/imgman" "$D" "$uuid" <<'PY'
import ast, json, sys, glob
st, ct, body = open(sys.argv[1]).read().rstrip("\n").split("|", 2)
assert st == "200" and ct == "application/json", (st, ct)
pod = json.loads(ast.literal_eval(body))
stored = json.load(open(glob.glob(sys.argv[3] + "/pods/*/" + sys.argv[4] + "/pod")[0]))
assert pod == stored, (pod, stored)
st, ct, body = open(sys.argv[2]).read().rstrip("\n").split("|", 2)
assert st == "200" and ct == "application/json"
im = json.loads(ast.literal_eval(body))
assert im["name"] == "example.com/mds" and im["annotations"][1] == {"name": "b", "value": "2"}
PY
}

@test "pod and app annotations: as in the pod manifest, pod overrides merged in order" {
	sandbox '
rk prepare --volume=out,kind=host,source="$T/out" "$IMG" --mount=volume=out,target=/out >"$T/p"
rk cat-manifest "$(cat "$T/p")" | python3 -c "
import json,sys; d=json.load(sys.stdin)
d[\"annotations\"]=[{\"name\":\"ip-address\",\"value\":\"10.1.2.3\"}]
d[\"apps\"][0][\"annotations\"]=[{\"name\":\"c\",\"value\":\"3\"},{\"name\":\"b\",\"value\":\"pod\"}]
d[\"apps\"][0][\"app\"][\"exec\"]=[\"/bin/sh\",\"-c\",sys.argv[1]]
print(json.dumps(d))" "$POD_SH" >"$T/pod.json"
rk run --net=host --mds-register --uuid-file-save="$T/uuid" --pod-manifest="$T/pod.json" >"$T/pod.log" 2>&1 & POD=$!
wait_file "$T/out/url"
M=$(cat "$T/out/url")/acMetadata/v1
echo "podann $($GET $M/pod/annotations)"
echo "appann $($GET $M/apps/mds/annotations)"
touch "$T/out/stop"; wait $POD
'
	[ "$status" -eq 0 ] || fail_with "$output $stderr $(cat "$T/pod.log")"
	contains "$output" "podann 200|application/json|b'[{\"name\":\"ip-address\",\"value\":\"10.1.2.3\"}]'"
	contains "$output" "appann 200|application/json|b'[{\"name\":\"a\",\"value\":\"1\"},{\"name\":\"b\",\"value\":\"pod\"},{\"name\":\"c\",\"value\":\"3\"}]'"
}

@test "hmac: sign/verify round trip; a forged or altered signature is refused" {
	sandbox "$RUN_POD"'
M=$(cat "$T/out/url")/acMetadata/v1; UUID=$(cat "$T/uuid")
S=$($GET $M/pod/hmac/sign "content=hello+world")
echo "sign $S"
SIG=$(python3 -c "import ast,sys; print(ast.literal_eval(sys.argv[1].split(\"|\",2)[2]).decode())" "$S")
enc() { python3 -c "import sys,urllib.parse; print(urllib.parse.urlencode({\"content\":sys.argv[1],\"uuid\":sys.argv[2],\"signature\":sys.argv[3]}))" "$@"; }
echo "good $($GET $M/pod/hmac/verify "$(enc "hello world" "$UUID" "$SIG")")"
echo "content $($GET $M/pod/hmac/verify "$(enc "hello World" "$UUID" "$SIG")")"
echo "otheruuid $($GET $M/pod/hmac/verify "$(enc "hello world" 00000000-0000-4000-8000-000000000000 "$SIG")")"
FORGED=$(python3 -c "import base64,os; print(base64.b64encode(os.urandom(64)).decode())")
echo "forged $($GET $M/pod/hmac/verify "$(enc "hello world" "$UUID" "$FORGED")")"
echo "badb64 $($GET $M/pod/hmac/verify "$(enc "hello world" "$UUID" "!!!!")")"
echo "baduuid $($GET $M/pod/hmac/verify "$(enc "hello world" "NOT-A-UUID" "$SIG")")"
echo "nocontent $($GET $M/pod/hmac/sign "x=1")"
echo "getsign $($GET $M/pod/hmac/sign)"
touch "$T/out/stop"; wait $POD
'
	[ "$status" -eq 0 ] || fail_with "$output $stderr"
	[[ $output =~ sign\ 200\|text/plain\;\ charset=us-ascii\|b\'[A-Za-z0-9+/]{86}==\' ]] || fail_with "$output"
	contains "$output" "good 200|text/plain; charset=us-ascii|b''"
	contains "$output" "content 403|text/plain; charset=us-ascii|"
	contains "$output" "otheruuid 403|"
	contains "$output" "forged 403|"
	contains "$output" "badb64 400|"
	contains "$output" "baduuid 400|"
	contains "$output" "nocontent 400|"
	contains "$output" "getsign 405|"
}

@test "a wrong token is refused; the token stops working when the pod exits" {
	sandbox "$RUN_POD"'
URL=$(cat "$T/out/url"); TOKEN=${URL##*/}
OTHER=$(printf %064d 0)
echo "good $($GET $URL/acMetadata/v1/pod/uuid)"
echo "wrong $($GET http://127.0.0.1:18112/$OTHER/acMetadata/v1/pod/uuid)"
echo "short $($GET http://127.0.0.1:18112/${TOKEN%?}/acMetadata/v1/pod/uuid)"
echo "notoken $($GET http://127.0.0.1:18112/acMetadata/v1/pod/uuid)"
touch "$T/out/stop"; wait $POD || true
for i in $(seq 50); do r=$($GET $URL/acMetadata/v1/pod/uuid); case $r in 403*) break;; esac; sleep 0.1; done
echo "after $r"
echo "verify-after $($GET $URL/acMetadata/v1/pod/hmac/verify "content=x&uuid=$(cat "$T/uuid")&signature=x")"
'
	[ "$status" -eq 0 ] || fail_with "$output $stderr"
	contains "$output" "good 200|"
	contains "$output" "wrong 403|"
	contains "$output" "short 403|"
	contains "$output" "notoken 404|"
	contains "$output" "after 403|"
	contains "$output" "verify-after 403|"
	contains "$(cat "$T/mds.log")" "exited: unregistered"
}

@test "registration: socket 0600 root, non-root peers refused (SO_PEERCRED), bad bodies refused" {
	command -v setpriv >/dev/null || skip "needs setpriv"
	cat >"$T/reg.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect("/run/rkt/metadata-svc.sock")
b = sys.argv[2].encode()
head = sys.argv[1] + " HTTP/1.1\r\n" + ("Content-Length: %d\r\n" % len(b) if len(sys.argv) < 4 else sys.argv[3] + "\r\n") + "\r\n"
try:
    s.sendall(head.encode() + b)
except (BrokenPipeError, ConnectionResetError):
    pass  # a refused peer is answered and dropped at once
print(s.recv(4096).split(b"\r\n")[0].decode())
PY
	cat >"$T/conn.py" <<'PY'
import socket
try:
    socket.socket(socket.AF_UNIX).connect("/run/rkt/metadata-svc.sock")
    print("connected")
except PermissionError:
    print("EACCES")
PY
	sandbox '
stat -c "%a %U %F" /run/rkt/metadata-svc.sock
stat -c "%a %U" /run/rkt
R="python3 $T/reg.py"
install -m 0644 "$T/conn.py" "$T/reg.py" /run/
U=/pods/6f1c2a3e-1111-4222-8333-444455556666
# nobody cannot even connect (mode 0600); with the mode opened up, SO_PEERCRED refuses it
setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 /run/conn.py
chmod 0666 /run/rkt/metadata-svc.sock
echo "nobody $(setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 /run/reg.py "PUT $U" "{}")"
chmod 0600 /run/rkt/metadata-svc.sock
echo "badjson $($R "PUT $U" "{")"
echo "badtoken $($R "PUT $U" "{\"token\":\"abc\",\"net\":\"host\",\"manifest\":{\"apps\":[]},\"images\":{}}")"
echo "baduuid $($R "PUT /pods/NOT" "{}")"
echo "delete $($R "DELETE $U" "")"
echo "chunked $($R "PUT $U" "" "Transfer-Encoding: chunked")"
echo "badlen $($R "PUT $U" "" "Content-Length: 1x")"
'
	[ "$status" -eq 0 ] || fail_with "$output $stderr"
	contains "$output" "600 root socket"
	contains "$output" "755 root"
	contains "$output" "EACCES"
	contains "$output" "nobody HTTP/1.1 403 Forbidden" || fail_with "$stderr"
	contains "$output" "badjson HTTP/1.1 400"
	contains "$output" "badtoken HTTP/1.1 400"
	contains "$output" "baduuid HTTP/1.1 404"
	contains "$output" "delete HTTP/1.1 204"
	contains "$output" "chunked HTTP/1.1 501"
	contains "$output" "badlen HTTP/1.1 400"
	contains "$(cat "$T/mds.log")" "registration refused: peer uid 65534 is not root"
}

@test "the service listens on 127.0.0.1 only; a second service does not take over" {
	sandbox '
ip addr add 198.51.100.7/24 dev lo
ss -ltnH | awk "{print \$4}" | sort
python3 -c "
import socket
for a in (\"198.51.100.7\", \"127.0.0.1\"):
    s=socket.socket(); s.settimeout(1)
    try: s.connect((a, 18112)); print(a, \"open\")
    except OSError: print(a, \"refused\")"
"$RKT" metadata-service --listen-port=18998 2>"$T/second.log" && echo second-started || echo second-refused
'
	[ "$status" -eq 0 ] || fail_with "$output $stderr"
	contains "$output" "127.0.0.1:18112"
	[[ $output != *"0.0.0.0:18112"* && $output != *"*:18112"* ]]
	contains "$output" "198.51.100.7 refused"
	contains "$output" "127.0.0.1 open"
	contains "$output" "second-refused"
	contains "$(cat "$T/second.log")" "already listens"
}

@test "a pod with its own network (--net=none) reaches the service on its own 127.0.0.1; tokens are bound to their listener" {
	mkdir -p "$T/outb"
	sandbox "$RUN_POD"'
# pod B: its own network namespace (only lo); it tries its own token, then host pod A'"'"'s
rk run --net=none --mds-register --uuid-file-save="$T/uuidb" --volume=out,kind=host,source="$T/outb" --volume=outa,kind=host,source="$T/out" "$IMG" --mount=volume=out,target=/out --mount=volume=outa,target=/outa --exec=/bin/sh -- -c "
ls /sys/class/net >/out/ifaces
echo \"\$AC_METADATA_URL\" >/out/url
H=\"Metadata-Flavor: AppContainer\"
wget -q -O /out/uuid --header \"\$H\" \"\$AC_METADATA_URL/acMetadata/v1/pod/uuid\" || echo fail >/out/uuid
A=\$(cat /outa/url)
wget -q -O /out/a-token --header \"\$H\" \"http://127.0.0.1:18112/\${A##*/}/acMetadata/v1/pod/uuid\" 2>/out/a-err || echo refused >/out/a-token
while [ ! -e /out/stop ]; do sleep 0.1; done" >"$T/podb.log" 2>&1 & PODB=$!
wait_file "$T/outb/a-token"
B=$(cat "$T/outb/url")
echo "burl $B"
echo "ifaces $(cat "$T/outb/ifaces" | tr "\n" " ")"
echo "b-uuid $(cat "$T/outb/uuid")"
echo "b-used-a $(cat "$T/outb/a-token") $(cat "$T/outb/a-err")"
# B'"'"'s token through the loopback listener of the host: refused
echo "b-on-host $($GET $B/acMetadata/v1/pod/uuid)"
touch "$T/out/stop" "$T/outb/stop"; wait $POD; wait $PODB
echo "b-status $?"
'
	[ "$status" -eq 0 ] || fail_with "$output $stderr"
	contains "$output" "burl http://127.0.0.1:18112/"
	contains "$output" "ifaces lo "
	contains "$output" "b-uuid $(cat "$T/uuidb")"
	contains "$output" "b-used-a refused"
	contains "$output" "403"
	contains "$output" "b-on-host 403|"
	contains "$output" "b-status 0"
	contains "$(cat "$T/mds.log")" "listener in its network namespace attached"
}

@test "a contained pod fails to start when the service refuses its listener" {
	sandbox '
rk prepare "$IMG" --exec=/bin/echo -- started >"$T/p"
# a plan asking for a listener with no registration behind it
P=$(ls -d "$D"/pods/prepared/*)
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d[\"mds\"]={\"port\":18112}; open(sys.argv[1],\"w\").write(json.dumps(d))" "$P/plan.json"
rk run-prepared "$(cat "$T/p")" || echo "status=$?"
'
	contains "$output" "status=125"
	[[ $output != *started* ]]
	contains "$stderr" "listener was refused"
}

@test "a pod on the default network (the default) reaches the service on its own 127.0.0.1" {
	sandbox '
rk run --net=default --mds-register --uuid-file-save="$T/uuid" --volume=out,kind=host,source="$T/out" "$IMG" --mount=volume=out,target=/out --exec=/bin/sh -- -c "
ls /sys/class/net >/out/ifaces
wget -q -O /out/uuid --header \"Metadata-Flavor: AppContainer\" \"\$AC_METADATA_URL/acMetadata/v1/pod/uuid\" || echo fail >/out/uuid" >"$T/pod.log" 2>&1
echo "status $?"
echo "ifaces $(cat "$T/out/ifaces" | tr "\n" " ")"
echo "uuid $(cat "$T/out/uuid")"
rk gc --grace-period=0s >/dev/null 2>&1 || true
'
	[ "$status" -eq 0 ] || fail_with "$output $stderr"
	contains "$output" "status 0"
	contains "$output" "eth0"
	contains "$output" "uuid $(cat "$T/uuid")"
}
