#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs each Check unit test binary; each prints Check's own summary line.
# Usage: run.sh BUILD_DIR BIN...
set -u
B=$1; shift
export FKW_BUILD="$B"
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-30}
fail=0 total=0
for t in "$@"; do
	total=$((total + 1))
	echo "== $(basename "$t")"
	if ! "$t"; then
		fail=$((fail + 1))
		echo "FAILED: $t"
	fi
done
echo "unit: $((total - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
