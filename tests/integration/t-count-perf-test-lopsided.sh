#!/bin/bash
# Issue 12: perf-test flags a lopsided split between children. Child 1 is
# stopped (SIGSTOP) for most of the run, so child 0 does nearly all the jobs;
# the per-child lines still add up to N and the split is flagged.
. "$(dirname "$0")/lib.sh"
N=20000
CPUS=2 CONCURRENCY=100 sup_up
c1=$(child_pid 1)
[ -n "$c1" ] || fail "no child 1"
kill -STOP "$c1"
ctl perf-test "$N" --batch 1000 --timeout 120 >"$T/perf.out" 2>"$T/perf.err" &
PERF=$!
track $PERF
# Child 1 does nothing while stopped: once 90% are done, child 0 did them all.
most() { [ "$(audit done)" -ge $((N * 9 / 10)) ]; }
wait_for 60 most || { kill -CONT "$c1"; fail "child 0 did not get through the jobs: $(cli audit)"; }
kill -CONT "$c1"
wait_exit "$PERF" 60
[ "$EXIT_RC" != 124 ] || fail "perf-test did not end: $(cat "$T/perf.err")"
rc=0
wait "$PERF" || rc=$?
expect_eq "perf-test exit status" "$rc" 0
sum=$(sed -nE 's/^child [0-9]+ \(cpu -?[0-9]+\): ([0-9]+) jobs.*/\1/p' "$T/perf.out" | paste -sd+ | bc)
expect_eq "per-child jobs add up" "$sum" "$N"
grep -Eq "^perf-test: warning: lopsided split: child (0 did (9[0-9]|100)|1 did [0-9])% of the jobs \(an even share is 50%\)$" "$T/perf.out" ||
	fail "lopsided split not flagged: $(cat "$T/perf.out")"
echo "# perf-test with child 1 stopped for most of the run: $(grep lopsided "$T/perf.out")"
