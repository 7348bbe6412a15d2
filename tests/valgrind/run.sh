#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs reliability drills 1, 2 and 7 (kill -9 of children, broker restart,
# malformed jobs) with fkworker under valgrind's memcheck, at the small job
# counts the drills pick for valgrind. valgrind follows the children's fork(),
# so the master and every child write their own log (one file per pid).
# A run passes when the drill passes and every process's log ends with
# "ERROR SUMMARY: 0 errors" (definite and indirect leaks count as errors).
# Children the drill killed with SIGKILL write no summary; their pids are
# listed by the drill (DRILL_KILLED_FILE) and only checked for errors found
# before they died.
# Usage: run.sh BUILD_DIR [DRILL...]   (a plain, non-sanitizer build)
set -u
if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [t-drill-NAME.sh...]" >&2
	exit 64
fi
B=$(cd "$1" && pwd) || exit 1
shift
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case "$B" in *-san)
	echo "valgrind: $B is a sanitizer build; give a plain one" >&2
	exit 64 ;;
esac
command -v valgrind >/dev/null 2>&1 || { echo "valgrind: not installed (make setup)" >&2; exit 1; }
for bin in fkworker fkworkerctl fkbroker fkcli; do
	[ -x "$B/$bin" ] || { echo "valgrind: $B/$bin missing (make B=... all)" >&2; exit 1; }
done
drills=${*:-t-drill-kill9-children.sh t-drill-broker-restart.sh t-drill-malformed-jobs.sh}
work=$(mktemp -d /tmp/fkw-valgrind.XXXXXX) || exit 1
pass=0 fail=0 failed=""

for d in $drills; do
	name=$(basename "$d" .sh)
	dir="$work/$name"
	mkdir -p "$dir"
	: >"$dir/killed"
	start=$(date +%s)
	FKW_WRAP="valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
--error-exitcode=99 --child-silent-after-fork=no --num-callers=30 \
--log-file=$dir/vg.%p.log" \
	DRILL_KILLED_FILE="$dir/killed" FKW_TEST_LIMIT=${FKW_VALGRIND_LIMIT:-900} T="$d" \
	    sh "$ROOT/tests/integration/run.sh" "$B" >"$dir/drill.out" 2>&1
	drc=$?
	bad="" n=0 k=0
	for log in "$dir"/vg.*.log; do
		[ -f "$log" ] || continue
		pid=${log##*/vg.}
		pid=${pid%.log}
		n=$((n + 1))
		if grep -qx "$pid" "$dir/killed"; then
			k=$((k + 1))
			# Killed mid-run: no summary, but any error found before must not be there.
			if grep -Eq '^==[0-9]+== (Invalid|Conditional|Use of uninitialised|Syscall param|Mismatched|Source and destination)' "$log"; then
				bad="$bad $pid(errors before SIGKILL)"
			fi
			continue
		fi
		if ! grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
			if grep -q 'ERROR SUMMARY' "$log"; then
				bad="$bad $pid($(grep -o 'ERROR SUMMARY: [0-9]* errors' "$log" | tail -n 1))"
			else
				bad="$bad $pid(no summary: did not exit normally)"
			fi
		fi
	done
	el=$(( $(date +%s) - start ))
	if [ $drc -eq 0 ] && [ -z "$bad" ] && [ $n -gt 0 ]; then
		pass=$((pass + 1))
		echo "ok   $name under valgrind (${el}s, $n processes checked, $k killed by the drill)"
		grep '^ *# ' "$dir/drill.out" | sed 's/^ */     /'
	else
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL $name under valgrind (${el}s, drill exit $drc, $n process logs):${bad:- drill failed}"
		tail -n 30 "$dir/drill.out" | sed 's/^/     | /'
		for p in $bad; do
			log="$dir/vg.${p%%(*}.log"
			[ -f "$log" ] || continue
			echo "     ---- $log"
			grep -E -A12 '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|Source and|.* are (definitely|indirectly) lost)' "$log" |
			    head -n 60 | sed 's/^/     | /'
		done
	fi
done
echo "valgrind: $pass passed, $fail failed${failed:+ (logs in $work)}"
[ $fail -eq 0 ] && rm -rf "$work"
[ $fail -eq 0 ]
