#!/bin/sh
# SPDX-License-Identifier: MIT
# Replays each libFuzzer binary's seed corpus (tests/fuzz/corpus/NAME/, NAME
# being the binary's name without "fuzz_") once, without fuzzing: the binary
# runs every file given on its command line one time, under AddressSanitizer
# (leaks included) and UndefinedBehaviorSanitizer. `make check` runs this, so
# a target that no longer builds, or a corpus input that now crashes, leaks or
# trips a sanitizer, fails the check.
# Usage: replay.sh BIN...
# Prints one line per target with the number of inputs replayed, then
# "fuzz-replay: N passed, N failed (I inputs)". A target fails when it exits
# non-zero, reports a sanitizer error, replays fewer inputs than its corpus
# holds, or has no corpus at all (a replay of nothing cannot fail).
set -u
if [ $# -lt 1 ]; then
	echo "usage: $0 BIN..." >&2
	exit 64
fi
here=$(cd "$(dirname "$0")" && pwd)
# Sanitizer reports are fatal (the build says so too), leaks are checked at exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1"
pass=0 fail=0 inputs=0
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-replay.XXXXXX") || exit 1

for bin in "$@"; do
	base=$(basename "$bin")
	name=${base#fuzz_}
	dir=$here/corpus/$name
	log=$work/$name.log
	why=""
	n=0 ran=0
	if [ ! -x "$bin" ]; then
		why="not an executable: $bin"
	elif [ ! -d "$dir" ]; then
		why="no corpus directory $dir"
	else
		# The corpus files, as arguments (a corpus is a flat directory); the
		# loop over the binaries expanded its own list already.
		set --
		for f in "$dir"/* "$dir"/.[!.]*; do
			[ -f "$f" ] && set -- "$@" "$f"
		done
		n=$#
		[ "$n" -gt 0 ] || why="empty corpus $dir"
	fi
	if [ -z "$why" ]; then
		rc=0
		# One run of each file; -timeout per input, a wall-clock limit for the lot;
		# a crash input is written to the work directory, never into the tree.
		timeout -k 5 120 "$bin" -timeout=25 -rss_limit_mb=2048 \
		    -artifact_prefix="$work/$name-" "$@" >"$log" 2>&1 || rc=$?
		ran=$(grep -c '^Executed ' "$log")
		if [ $rc -ne 0 ]; then
			why="exit $rc"
		elif grep -Eq '^==[0-9]+==ERROR|^SUMMARY: |runtime error:' "$log"; then
			why="sanitizer report"
		elif [ "$ran" -ne "$n" ]; then
			why="$ran of $n inputs executed"
		fi
	fi
	inputs=$((inputs + ran))
	if [ -z "$why" ]; then
		echo "$base: ok ($ran inputs replayed)"
		pass=$((pass + 1))
	else
		echo "$base: FAILED ($why; $ran of $n inputs replayed)"
		if [ -f "$log" ]; then
			last=$(sed -n 's/^Running: //p' "$log" | tail -n 1)
			[ -n "$last" ] && echo "    last input: $last"
			grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|^fuzz_[a-z]*: |Test unit written' "$log" |
			    head -n 6 | sed 's/^/    /'
		fi
		fail=$((fail + 1))
	fi
done
echo "fuzz-replay: $pass passed, $fail failed ($inputs inputs)"
if [ "$fail" -eq 0 ]; then
	rm -rf "$work"
else
	echo "fuzz-replay: logs kept in $work"
fi
[ "$fail" -eq 0 ]
