#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs each libFuzzer binary for SECONDS with its dictionary (tests/fuzz/NAME.dict)
# and a fresh corpus directory seeded from tests/fuzz/corpus/NAME/ (NAME is the
# binary's name without "fuzz_"), so runs never write into the tree.
# Usage: run.sh SECONDS BIN...
# Prints one line per target, then "fuzz: N passed, N failed"; exits 1 if any
# target crashed, leaked, timed out or could not run. A failed target's work
# directory (log, crash input) is kept and named.
set -u
if [ $# -lt 2 ]; then
	echo "usage: $0 SECONDS BIN..." >&2
	exit 64
fi
secs=$1
shift
case $secs in
''|*[!0-9]*) echo "$0: SECONDS must be a number: $secs" >&2; exit 64 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0

for bin in "$@"; do
	base=$(basename "$bin")
	name=${base#fuzz_}
	if [ ! -x "$bin" ]; then
		echo "$base: FAILED (not an executable: $bin)"
		fail=$((fail + 1))
		continue
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$name.XXXXXX") || exit 1
	mkdir "$work/corpus"
	if [ -d "$here/corpus/$name" ]; then
		cp -R "$here/corpus/$name/." "$work/corpus/"
	fi
	dict=
	if [ -f "$here/$name.dict" ]; then
		dict="-dict=$here/$name.dict"
	fi
	seeds=$(find "$work/corpus" -type f | wc -l)
	# shellcheck disable=SC2086 # $dict is empty or one word
	"$bin" -max_total_time="$secs" -timeout=25 $dict -artifact_prefix="$work/" \
	    "$work/corpus" >"$work/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$work/log" | tail -n 1)
	cov=$(sed -n 's/^#[0-9]*.*cov: \([0-9]*\).*/\1/p' "$work/log" | tail -n 1)
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		echo "$base: ok (${secs}s, $runs runs, cov ${cov:-?}, $seeds seeds${dict:+, dict})"
		pass=$((pass + 1))
		rm -rf "$work"
	else
		echo "$base: FAILED (exit $rc); log and crash input kept in $work"
		grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|Test unit written' "$work/log" |
		    head -n 5 | sed 's/^/    /'
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
