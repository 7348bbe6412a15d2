#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every tests/integration/t-*.sh (or those named in $T) with a time limit each.
# Usage: run.sh BUILD_DIR
#
# A test passes when it exits 0. A test that cannot run here (a tool, a
# privilege or a build flavour it needs is missing) prints one line
# "skipped: REASON" and exits 77; it is counted as skipped and shown as
# "skip NAME (REASON)", never as ok. With FKW_NO_SKIP=1 (CI, where everything
# must run) a skip counts as a failure. Exit 77 without a "skipped:" line is a
# failure too. Any other status is a failure.
set -u
B=$(cd "$1" && pwd)
export FKW_BUILD="$B"
export FKW_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIMIT=${FKW_TEST_LIMIT:-240}
NO_SKIP=${FKW_NO_SKIP:-0}
pass=0 fail=0 skip=0 failed="" skipped=""
tests=${T:-$(ls "$FKW_ROOT"/tests/integration/t-*.sh)}
for t in $tests; do
	[ -f "$t" ] || t="$FKW_ROOT/tests/integration/$t"
	name=$(basename "$t" .sh)
	log=$(mktemp /tmp/fkw-it.XXXXXX)
	start=$(date +%s)
	rc=0
	timeout -k 10 "$LIMIT" bash "$t" >"$log" 2>&1 || rc=$?
	el=$(( $(date +%s) - start ))
	why=""
	if [ $rc -eq 77 ]; then
		why=$(sed -n 's/^skipped: //p' "$log" | tail -n 1)
	fi
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "ok   $name (${el}s)"
		grep '^#' "$log" | sed 's/^/     /'
	elif [ -n "$why" ] && [ "$NO_SKIP" != 1 ]; then
		skip=$((skip + 1))
		skipped="$skipped $name"
		echo "skip $name ($why)"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		if [ -n "$why" ]; then
			echo "FAIL $name (skipped: $why; FKW_NO_SKIP=1 requires every test to run)"
		else
			echo "FAIL $name (exit $rc, ${el}s)"
			[ $rc -eq 77 ] && echo "     exit 77 (skip) without a 'skipped: REASON' line"
			tail -n 40 "$log" | sed 's/^/     | /'
		fi
	fi
	rm -f "$log"
done
[ -n "$skipped" ] && echo "skipped:$skipped"
[ -n "$failed" ] && echo "failed:$failed"
echo "integration: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
