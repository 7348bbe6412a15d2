#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs each Check unit test binary; each prints Check's own summary line
# ("100%: Checks: N, Failures: F, Errors: E"). A binary passes when it exits 0
# and its summary line shows at least one check and no failure or error; one
# that runs no check, or prints no summary, fails. The last line totals them:
# "unit: N passed, N failed (C checks)". Check has no notion of a skipped
# test, and no binary here skips one.
# Usage: run.sh BUILD_DIR BIN...
set -u
B=$1; shift
export FKW_BUILD="$B"
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-30}
out=$(mktemp /tmp/fkw-unit.XXXXXX) || exit 1
trap 'rm -f "$out"' EXIT
fail=0 total=0 checks=0 failed=""
for t in "$@"; do
	total=$((total + 1))
	name=$(basename "$t")
	echo "== $name"
	rc=0
	"$t" >"$out" 2>&1 || rc=$?
	cat "$out"
	# The last summary line: "NN%: Checks: N, Failures: F, Errors: E".
	sum=$(sed -n 's/^[0-9]*%: Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' "$out" | tail -n 1)
	why=""
	if [ $rc -ne 0 ]; then
		why="exit $rc"
	elif [ -z "$sum" ]; then
		why="no Check summary line"
	fi
	if [ -n "$sum" ]; then
		n=${sum%% *}
		rest=${sum#* }
		f=${rest%% *}
		e=${rest#* }
		checks=$((checks + n))
		if [ -z "$why" ] && [ "$n" -eq 0 ]; then
			why="ran no check"
		elif [ -z "$why" ] && [ $((f + e)) -ne 0 ]; then
			why="$f failures, $e errors"
		fi
	fi
	if [ -n "$why" ]; then
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAILED: $t ($why)"
	fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "unit: $((total - fail)) passed, $fail failed ($checks checks)"
[ "$fail" -eq 0 ]
