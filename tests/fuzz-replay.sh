#!/bin/sh
# TAP: replay every fuzz target's seed corpus and regression inputs through the standalone
# replay binaries, normal and sanitizer builds. A crash, a sanitizer report or an escape found
# by an oracle (the harness aborts) fails the test.
set -u
B=${RKT_BUILD:-build}
S=${RKT_SAN_BUILD:-}
targets=$(cd fuzz && ls fuzz-*.c 2>/dev/null | sed 's/\.c$//')
n=0
for b in $B $S; do for t in $targets; do n=$((n + 1)); done; done
echo "1..$n"
i=0
for b in $B $S; do
	for t in $targets; do
		i=$((i + 1))
		dirs=""
		for d in fuzz/corpus/$t fuzz/regress/$t; do [ -d "$d" ] && dirs="$dirs $d"; done
		out=$(ASAN_OPTIONS=detect_leaks=1 "$b/fuzz/replay-$t" $dirs 2>&1)
		rc=$?
		if [ $rc -eq 0 ]; then
			echo "ok $i - $b $t: $(echo "$out" | tail -1)"
		else
			echo "not ok $i - $b $t (exit $rc)"
			echo "$out" | tail -20 | sed 's/^/# /'
		fi
	done
done
