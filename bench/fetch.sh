#!/bin/sh
# Fetch + verify + store + render of a large image, beside the tools that do the same work
# one after another (gpgv, sha512sum, bsdtar -x) and the extraction alone (bsdtar -x), in the
# same run, for an uncompressed, a gzip and a zstd image. Reports medians and ratios.
#
# The image is a debootstrap --variant=minbase bookworm rootfs (about 200 MB, 6,700 entries),
# built once into bench/out/ (needs the Debian mirror apt uses). BENCH_RUNS (default 3).
set -eu
cd "$(dirname "$0")/.."
RKT=${RKT:-$PWD/build/rkt}
N=${BENCH_RUNS:-3}
OUT=$PWD/bench/out
mkdir -p "$OUT"
for tool in debootstrap bsdtar gpgv; do
	command -v $tool >/dev/null || {
		pkg=$tool
		[ $tool = bsdtar ] && pkg=libarchive-tools
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkg >/dev/null
	}
done

ROOT=$OUT/minbase
if [ ! -f "$ROOT/.done" ]; then
	echo "bench: debootstrap --variant=minbase bookworm (once)..." >&2
	rm -rf "$ROOT"
	mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
	debootstrap --variant=minbase bookworm "$ROOT" "${mirror:-http://deb.debian.org/debian}" >"$OUT/debootstrap.log" 2>&1
	touch "$ROOT/.done"
fi
L=$OUT/layout
if [ ! -d "$L/rootfs" ]; then
	mkdir -p "$L"
	# Device nodes are the runtime's business: leave /dev empty in the image.
	cp -a "$ROOT" "$L/rootfs"
	rm -f "$L/rootfs/.done"
	find "$L/rootfs/dev" -mindepth 1 -delete
	find "$L/rootfs" \( -type p -o -type s -o -type c -o -type b \) -delete
	cat >"$L/manifest" <<'JSON'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"bench.example.com/minbase",
 "labels":[{"name":"version","value":"12"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
JSON
fi

GH=$(mktemp -d /tmp/rkt-bench-gpg.XXXXXX)
W=$(mktemp -d "$OUT/run.XXXXXX")
trap 'gpgconf --homedir "$GH" --kill all 2>/dev/null; rm -rf "$GH" "$W"' EXIT
gpg --homedir "$GH" --batch --quiet --pinentry-mode loopback --passphrase '' \
	--quick-gen-key "rkt bench <bench@example.com>" ed25519 sign never 2>/dev/null
gpg --homedir "$GH" --batch --armor --export >"$W/key.asc"
gpg --homedir "$GH" --batch --export >"$W/key.gpg"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# time_it PREP CMD: median wall time of CMD over N runs, PREP run (untimed) before each
time_it() {
	prep=$1
	shift
	i=0
	while [ $i -lt "$N" ]; do
		sh -c "$prep"
		sync
		s=$(now)
		"$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
		e=$(now)
		echo "$e $s" | awk '{print $1-$2}'
		i=$((i + 1))
	done | median
}

printf '%-6s %-44s %9s %8s\n' comp pipeline median ratio
for comp in none gzip zstd; do
	img=$W/minbase-$comp.aci
	"$RKT" image build --overwrite --compression=$comp "$L" "$img" >/dev/null
	gpg --homedir "$GH" --batch --quiet --yes --armor --detach-sign -o "$img.asc" "$img"
	C="--dir=$W/d --local-config=$W/etc --system-config=$W/vendor"
	prep_rkt="rm -rf '$W/d' '$W/x' '$W/etc'; '$RKT' $C trust --prefix=bench.example.com --skip-fingerprint-review '$W/key.asc' >/dev/null"
	t_rkt=$(time_it "$prep_rkt" sh -c "'$RKT' $C fetch --no-progress --full '$img' >'$W/id' && '$RKT' $C image render \$(cat '$W/id') '$W/x'")
	prep_x="rm -rf '$W/x'; mkdir '$W/x'"
	t_seq=$(time_it "$prep_x" sh -c "gpgv --keyring '$W/key.gpg' '$img.asc' '$img' && sha512sum '$img' && bsdtar -xf '$img' -C '$W/x'")
	t_bsd=$(time_it "$prep_x" bsdtar -xf "$img" -C "$W/x")
	printf '%-6s %-44s %8.3fs %8s\n' $comp "rkt fetch + image render" "$t_rkt" \
		"$(echo "$t_rkt $t_seq" | awk '{printf "%.2f", $1/$2}')"
	printf '%-6s %-44s %8.3fs %8s\n' $comp "gpgv; sha512sum; bsdtar -x (reference)" "$t_seq" 1.00
	printf '%-6s %-44s %8.3fs %8s\n' $comp "bsdtar -x alone" "$t_bsd" \
		"$(echo "$t_bsd $t_seq" | awk '{printf "%.2f", $1/$2}')"
done
echo "size: $(du -sm "$L/rootfs" | cut -f1) MiB, $(find "$L/rootfs" | wc -l) entries; runs: $N (median)"
