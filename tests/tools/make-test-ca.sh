#!/bin/sh
# make-test-ca.sh DIR [NAME...]: a throw-away test CA and a server certificate for the given DNS
# names (default localhost) and 127.0.0.1, for HTTPS tests on loopback. Test-only.
set -eu
d=$1
shift
[ $# -gt 0 ] || set -- localhost
mkdir -p "$d"
san="IP:127.0.0.1"
for n in "$@"; do san="$san,DNS:$n"; done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/CN=rkt test CA" -keyout "$d/ca.key" -out "$d/ca.pem" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
	-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" >"$d/ext"
openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
	-days 2 -extfile "$d/ext" -out "$d/server.pem" 2>/dev/null
