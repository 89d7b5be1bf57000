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
echo "== image ID (the same on every run: the build is deterministic)"
echo "$id"
