#!/bin/sh
# make demo: build a busybox ACI from Debian's busybox-static, validate it, print its manifest
# and image ID. Deterministic: running it twice prints the same ID.
set -eu
RKT=${RKT:-build/rkt}
OUT=${DEMO_DIR:-demo}
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || { echo "demo: $BUSYBOX missing (apt-get install busybox-static)" >&2; exit 1; }

layout=$OUT/busybox
rm -rf "$layout"
mkdir -p "$layout/rootfs/bin" "$layout/rootfs/etc" "$layout/rootfs/tmp"
cp "$BUSYBOX" "$layout/rootfs/bin/busybox"
chmod 0755 "$layout/rootfs/bin/busybox"
for applet in $("$BUSYBOX" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$layout/rootfs/bin/$applet"
done
chmod 1777 "$layout/rootfs/tmp"
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$layout/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$layout/rootfs/etc/group"

version=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null | sed 's/^[0-9]*://; s/[-+~].*//')
[ -n "$version" ] || version=0.0.0
case $(uname -m) in
x86_64) arch=amd64 ;; aarch64) arch=aarch64 ;; i?86) arch=i386 ;; *) arch=$(uname -m) ;;
esac
cat >"$layout/manifest" <<JSON
{
  "acKind": "ImageManifest",
  "acVersion": "0.8.11",
  "name": "example.com/busybox",
  "labels": [
    {"name": "version", "value": "$version"},
    {"name": "os", "value": "linux"},
    {"name": "arch", "value": "$arch"}
  ],
  "app": {
    "exec": ["/bin/sh", "-c", "echo hello from busybox"],
    "user": "0",
    "group": "0",
    "workingDirectory": "/",
    "environment": [{"name": "HOME", "value": "/"}]
  },
  "annotations": [
    {"name": "authors", "value": "rkt demo, from Debian busybox-static"},
    {"name": "created", "value": "1970-01-01T00:00:00Z"}
  ]
}
JSON

echo "== rkt image build $layout $OUT/busybox.aci"
id=$(SOURCE_DATE_EPOCH=0 "$RKT" image build --full --overwrite "$layout" "$OUT/busybox.aci")
echo "$id"
echo "== rkt image validate $OUT/busybox.aci"
vid=$("$RKT" image validate --full "$OUT/busybox.aci")
echo "$vid"
[ "$id" = "$vid" ] || { echo "demo: build and validate disagree on the image ID" >&2; exit 1; }
echo "== rkt image cat-manifest $OUT/busybox.aci"
"$RKT" image cat-manifest "$OUT/busybox.aci"

# ---- trust, fetch, audit: a private data dir and config under $OUT, never /var/lib/rkt ----
# Pods of an earlier run are collected first: never rm -rf what might still be mounted.
[ ! -d "$OUT/var/pods" ] || "$RKT" --dir="$OUT/var" gc --grace-period=0s >/dev/null 2>&1 || true
rm -rf "$OUT/var" "$OUT/etc" "$OUT/vendor" "$OUT/gnupg"
G="--dir=$OUT/var --local-config=$OUT/etc --system-config=$OUT/vendor"
GH=$(mktemp -d /tmp/rkt-demo-gpg.XXXXXX)
trap 'gpgconf --homedir "$GH" --kill all 2>/dev/null; rm -rf "$GH"' EXIT
echo "== a demo signing key (made now, used only here) signs the image"
gpg --homedir "$GH" --batch --quiet --pinentry-mode loopback --passphrase '' \
	--quick-gen-key "rkt demo publisher <demo@example.com>" ed25519 sign never 2>/dev/null
gpg --homedir "$GH" --batch --armor --export >"$OUT/demo-key.asc"
rm -f "$OUT/busybox.aci.asc"
gpg --homedir "$GH" --batch --quiet --armor --detach-sign -o "$OUT/busybox.aci.asc" "$OUT/busybox.aci"
echo "== rkt trust --prefix=example.com/busybox $OUT/demo-key.asc"
"$RKT" $G trust --prefix=example.com/busybox --skip-fingerprint-review "$OUT/demo-key.asc"
echo "== rkt fetch $OUT/busybox.aci   (signature $OUT/busybox.aci.asc)"
"$RKT" $G fetch --full "$OUT/busybox.aci"
echo "== rkt image list"
"$RKT" $G image list
echo "== an unsigned copy is refused"
cp "$OUT/busybox.aci" "$OUT/unsigned-busybox.aci"
rm -f "$OUT/unsigned-busybox.aci.asc"
if "$RKT" $G fetch "$OUT/unsigned-busybox.aci"; then
	echo "demo: the unsigned copy was accepted" >&2
	exit 1
fi
echo "== a tampered copy with the original signature is refused"
cp "$OUT/busybox.aci" "$OUT/tampered-busybox.aci"
printf 'X' | dd of="$OUT/tampered-busybox.aci" bs=1 seek=5000 conv=notrunc 2>/dev/null
cp "$OUT/busybox.aci.asc" "$OUT/tampered-busybox.aci.asc"
if "$RKT" $G fetch "$OUT/tampered-busybox.aci"; then
	echo "demo: the tampered copy was accepted" >&2
	exit 1
fi
echo "== rkt run example.com/busybox   (the signed image, in its own pod)"
"$RKT" $G run --net=none --uuid-file-save="$OUT/uuid" example.com/busybox
echo "== rkt status"
"$RKT" $G status "$(cat "$OUT/uuid")"
echo "== rkt list"
"$RKT" $G list
echo "== rkt audit list"
"$RKT" $G audit list
echo "== rkt audit verify"
"$RKT" $G audit verify
echo "== image ID (the same on every run: the build is deterministic)"
echo "$id"
