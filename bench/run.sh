#!/bin/sh
# Image build and validation throughput against GNU tar on the same layout (the physical floor
# for "read every byte and write an archive"), reported as ratios. Pod start-up against runc,
# bubblewrap and systemd-nspawn comes with stage1.
set -eu
RKT=${RKT:-build/rkt}
N=${BENCH_RUNS:-5}
work=$(mktemp -d /tmp/rkt-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
DEMO_DIR=$work RKT=$RKT sh scripts/demo.sh >/dev/null
layout=$work/busybox
# A bigger tree than busybox alone: add /usr/share/doc and /usr/lib/x86_64-linux-gnu's .so files.
mkdir -p "$layout/rootfs/usr/share"
cp -a /usr/share/doc "$layout/rootfs/usr/share/" 2>/dev/null || true
find "$layout/rootfs/usr/share/doc" -type l -delete 2>/dev/null || true
size=$(du -sm "$layout/rootfs" | cut -f1)

now() { date +%s.%N; }
best() { # best-of-N wall time of a command
	b=999999
	i=0
	while [ $i -lt "$N" ]; do
		s=$(now)
		"$@" >/dev/null 2>&1
		e=$(now)
		b=$(echo "$e $s $b" | awk '{d=$1-$2; print (d<$3)?d:$3}')
		i=$((i + 1))
	done
	echo "$b"
}
t_build=$(best "$RKT" image build --overwrite "$layout" "$work/b.aci")
t_tar=$(best tar -C "$layout" -czf "$work/t.tar.gz" manifest rootfs)
t_val=$(best "$RKT" image validate "$work/b.aci")
t_list=$(best tar -tzf "$work/b.aci")
printf 'layout: %s MiB, best of %s runs\n' "$size" "$N"
printf '%-34s %8.3fs\n' "rkt image build (gzip)" "$t_build" "tar czf" "$t_tar"
printf '%-34s %8.3fs\n' "rkt image validate" "$t_val" "tar tzf (no checks)" "$t_list"
awk -v a="$t_build" -v b="$t_tar" -v c="$t_val" -v d="$t_list" 'BEGIN {
	printf "ratio build/tar-czf:    %.2f\nratio validate/tar-tzf: %.2f\n", a/b, c/d }'
