#!/bin/sh
# Runs each libFuzzer target for FUZZ_SECONDS with its dictionary; new inputs go to a scratch
# directory (first corpus argument), the committed corpus is read-only input. Any crash, leak
# or oracle abort fails the run and leaves the reproducer in fuzz/out/<target>/.
set -u
secs=${FUZZ_SECONDS:-30}
fail=0
for t in "$@"; do
	out=fuzz/out/$t
	mkdir -p "$out/new"
	dict=""
	[ -f "fuzz/$t.dict" ] && dict="-dict=fuzz/$t.dict"
	echo "fuzz-smoke: $t for ${secs}s"
	# shellcheck disable=SC2086
	if ! build-fuzz/$t -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
		-artifact_prefix="$out/" $dict "$out/new" "fuzz/corpus/$t" >"$out/log" 2>&1; then
		echo "fuzz-smoke: $t FAILED; see $out/log" >&2
		tail -30 "$out/log" >&2
		fail=1
	else
		grep -E '^#[0-9]+.*(DONE|pulse)' "$out/log" | tail -1
	fi
done
if [ $fail -eq 0 ]; then echo "fuzz-smoke: all targets clean"; fi
exit $fail
