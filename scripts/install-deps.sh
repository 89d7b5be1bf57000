#!/bin/sh
# Installs the Debian 12 packages the build, the tests and the demo need, only where missing.
# golang-go and golang-github-appc-spec-dev: tests/ace/build.sh compiles the appc ACE validator
# (tests/integration/95-ace.bats) offline from the source the latter ships.
set -eu
PKGS="gcc make pkg-config clang libclang-rt-14-dev clang-format
libjansson-dev libarchive-dev libssl-dev libgpgme-dev libseccomp-dev libcap-dev libselinux1-dev
libcurl4-openssl-dev libsqlite3-dev libcmocka-dev libmnl-dev libnftables-dev nftables
containernetworking-plugins iptables
bats python3 scdoc busybox-static gnupg attr zstd xz-utils bzip2 gzip perl
ca-certificates openssl util-linux file sqlite3
golang-go golang-github-appc-spec-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing (run 'make deps' as root)" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
