#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# build.sh RKT OUTDIR: builds the appc ACE validator (appc.md §12) and its two images,
# OUTDIR/ace-validator-main.aci and OUTDIR/ace-validator-sidekick.aci, with RKT's
# "image build". The validator is compiled offline, in GOPATH mode, from the source Debian's
# golang-github-appc-spec-dev ships (/usr/share/gocode), with Debian's golang-go; CGO off, so
# the binary is static and the images need nothing else.
#
# The two image manifests are the ones appc/spec ships as ace/image_manifest_main.json.in and
# ace/image_manifest_sidekick.json.in (Copyright The appc Authors, Apache License 2.0; Debian's
# package leaves them out), rendered as the spec's build script does: @GOOS@/@GOARCH@ become
# the build's os and arch. The layout is the spec's too (ace/build_aci): the validator at
# /ace-validator and an empty /opt/acvalidator, the main app's working directory.
#
# Exits 3 without go or the validator's source (the caller skips), 1 on any other failure.
# Rebuilds only when OUTDIR lacks an image or RKT is newer than it.
set -eu
RKT=$1 OUT=$2
GOPATH=${ACE_GOPATH:-/usr/share/gocode}
SRC=$GOPATH/src/github.com/appc/spec/ace
command -v go >/dev/null 2>&1 || {
	echo "ace: no go (Debian: golang-go)" >&2
	exit 3
}
[ -f "$SRC/validator.go" ] || {
	echo "ace: no $SRC (Debian: golang-github-appc-spec-dev)" >&2
	exit 3
}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
up_to_date() {
	for t in main sidekick; do
		[ -s "$OUT/ace-validator-$t.aci" ] && [ ! "$RKT" -nt "$OUT/ace-validator-$t.aci" ] || return 1
	done
}
up_to_date && exit 0

# One builder at a time (make check runs this for build/ and build-san/ in turn, but a
# developer may run two bats at once).
exec 9>"$OUT/.lock"
flock 9
up_to_date && exit 0

GOOS=$(go env GOOS) GOARCH=$(go env GOARCH)
VERSION=0.8.11
BIN=$OUT/ace-validator
if [ ! -x "$BIN" ] || [ "$SRC/validator.go" -nt "$BIN" ]; then
	# a throw-away build cache (some 70 MB): the binary is rebuilt only when it is missing
	rm -rf "$OUT/gocache"
	GOPATH=$GOPATH GO111MODULE=off GOFLAGS= CGO_ENABLED=0 GOCACHE=$OUT/gocache \
		go build -trimpath -o "$BIN.tmp" github.com/appc/spec/ace
	rm -rf "$OUT/gocache"
	mv "$BIN.tmp" "$BIN"
fi

labels() {
	cat <<JSON
    "labels": [
        { "name": "version", "value": "$VERSION" },
        { "name": "os", "value": "$GOOS" },
        { "name": "arch", "value": "$GOARCH" }
    ],
JSON
}

manifest_main() {
	cat <<JSON
{
    "acVersion": "$VERSION",
    "acKind": "ImageManifest",
    "name": "coreos.com/ace-validator-main",
$(labels)
    "app": {
        "exec": [ "/ace-validator", "main" ],
        "eventHandlers": [
            { "name": "pre-start", "exec": [ "/ace-validator", "prestart" ] },
            { "name": "post-stop", "exec": [ "/ace-validator", "poststop" ] }
        ],
        "user": "0",
        "group": "0",
        "workingDirectory": "/opt/acvalidator",
        "environment": [ { "name": "IN_ACE_VALIDATOR", "value": "correct" } ],
        "mountPoints": [ { "name": "database", "path": "/db", "readOnly": false } ],
        "ports": [ { "name": "www", "protocol": "tcp", "port": 80 } ],
        "isolators": [ { "name": "resource/memory", "value": {"limit": "1G"} } ]
    },
    "annotations": [
        { "name": "created", "value": "2014-10-27T19:32:27.67021798Z" },
        { "name": "authors", "value": "Carly Container <carly@example.com>, Nat Network <nat@example.com>" },
        { "name": "homepage", "value": "https://github.com/appc/spec" },
        { "name": "documentation", "value": "https://github.com/appc/spec/blob/master/README.md" },
        { "name": "lorem", "value": "ipsum" }
    ]
}
JSON
}

manifest_sidekick() {
	cat <<JSON
{
    "acVersion": "$VERSION",
    "acKind": "ImageManifest",
    "name": "coreos.com/ace-validator-sidekick",
$(labels)
    "app": {
        "exec": [ "/ace-validator", "sidekick" ],
        "user": "0",
        "group": "0",
        "mountPoints": [ { "name": "database", "path": "/db", "readOnly": false } ]
    }
}
JSON
}

for t in main sidekick; do
	L=$OUT/layout-$t
	rm -rf "$L"
	mkdir -p "$L/rootfs/opt/acvalidator"
	cp "$BIN" "$L/rootfs/ace-validator"
	"manifest_$t" >"$L/manifest"
	"$RKT" image build --overwrite "$L" "$OUT/ace-validator-$t.aci.tmp" >/dev/null
	mv "$OUT/ace-validator-$t.aci.tmp" "$OUT/ace-validator-$t.aci"
	rm -rf "$L"
done
