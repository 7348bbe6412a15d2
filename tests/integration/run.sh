#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every tests/integration/t-*.sh (or those named in $T) with a time limit each.
# Usage: run.sh BUILD_DIR
set -u
B=$(cd "$1" && pwd)
export FKW_BUILD="$B"
export FKW_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LIMIT=${FKW_TEST_LIMIT:-240}
pass=0 fail=0 failed=""
tests=${T:-$(ls "$FKW_ROOT"/tests/integration/t-*.sh)}
for t in $tests; do
	[ -f "$t" ] || t="$FKW_ROOT/tests/integration/$t"
	name=$(basename "$t" .sh)
	log=$(mktemp /tmp/fkw-it.XXXXXX)
	start=$(date +%s)
	if timeout -k 10 "$LIMIT" bash "$t" >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "ok   $name ($(( $(date +%s) - start ))s)"
		grep '^#' "$log" | sed 's/^/     /'
	else
		rc=$?
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL $name (exit $rc, $(( $(date +%s) - start ))s)"
		tail -n 40 "$log" | sed 's/^/     | /'
	fi
	rm -f "$log"
done
[ -n "$failed" ] && echo "failed:$failed"
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
