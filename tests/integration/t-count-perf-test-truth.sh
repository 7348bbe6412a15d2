#!/bin/bash
# Issue 12: perf-test tells the truth. Failed jobs are failures, not
# throughput (exit 1, the errtype named); --args makes sleep jobs measurable;
# bad --args is a usage error naming the problem; --seconds pushes for a
# duration; a short run is flagged; at --timeout it ends with a line naming
# the jobs not done and what the server still holds; a quiet host is refused.
. "$(dirname "$0")/lib.sh"
CPUS=2 CONCURRENCY=100 sup_up --retry-delay-ms 60000
perf() { rc=0; ctl perf-test "$@" >"$T/out" 2>"$T/err" || rc=$?; }
out() { cat "$T/out" "$T/err"; }

# sleep without args: every job fails. Not throughput: exit 1, and it says why.
perf 300 --jobtype sleep --batch 100
expect_eq "exit status when every job failed" "$rc" 1
grep -q "^perf-test: 0 processed, 300 failed$" "$T/out" || fail "no '0 processed, 300 failed': $(out)"
grep -Eq "^perf-test: 300 sleep jobs failed with [A-Za-z]+$" "$T/out" || fail "no errtype line: $(out)"
grep -q "^perf-test: 300 of 300 jobs FAILED" "$T/out" || fail "no FAILED line: $(out)"
expect_eq "last line" "$(tail -n 1 "$T/out" | sed -E 's/ in .*//')" "0 jobs"
expect_eq "server FAILs" "$(stat_field failed)" 300

# --args: sleep jobs of 20 ms run, and a 0.x s run is flagged as too short.
perf 400 --jobtype sleep --args '[20]'
expect_eq "exit status of 400 sleep jobs with --args [20]" "$rc" 0
grep -q "^perf-test: 400 processed, 0 failed$" "$T/out" || fail "sleep jobs with args: $(out)"
grep -q "warning: the run took .* under 3 s" "$T/out" || fail "short run not flagged: $(out)"
grep -Eq "^400 jobs in [0-9.]+ s: [0-9]+ jobs/s$" "$T/out" || fail "last line: $(out)"
# Per-child lines add up to the jobs.
sum=$(sed -nE 's/^child [0-9]+ \(cpu -?[0-9]+\): ([0-9]+) jobs.*/\1/p' "$T/out" | paste -sd+ | bc)
expect_eq "per-child jobs add up" "$sum" 400

# Bad --args: usage errors that name the problem; nothing pushed.
pushed=$(stat_field pushed)
perf 10 --args 'x'
expect_eq "exit status with --args x" "$rc" 64
grep -q -- "--args: not JSON" "$T/err" || fail "bad --args not named: $(out)"
perf 10 --args '{"a":1}'
expect_eq "exit status with --args object" "$rc" 64
grep -q -- "--args: a job's args must be a JSON array" "$T/err" || fail "object --args: $(out)"
perf --batch 10
expect_eq "exit status without N or --seconds" "$rc" 64
expect_eq "jobs pushed by refused runs" "$(stat_field pushed)" "$pushed"

# --seconds: pushes for 3 s, then waits for every job it pushed.
perf --seconds 3 --batch 100
expect_eq "exit status of a 3 s run" "$rc" 0
n=$(sed -nE 's/^perf-test: pushed ([0-9]+) noop jobs.*/\1/p' "$T/out")
[ -n "$n" ] && [ "$n" -gt 0 ] || fail "--seconds pushed nothing: $(out)"
grep -q "^perf-test: $n processed, 0 failed$" "$T/out" || fail "--seconds: $(out)"
grep -q "warning: the run took" "$T/out" && fail "a 3 s run flagged as short: $(out)"
push_s=$(sed -nE 's/^perf-test: pushed .* in ([0-9.]+) s$/\1/p' "$T/out")
between "$push_s" 2.9 4 || fail "--seconds 3 pushed for $push_s s"

# --timeout: jobs nobody fetches (a queue fkworker does not serve).
t0=$(now_s)
perf 50 --queue nowhere --timeout 2
el=$(elapsed "$t0")
expect_eq "exit status after --timeout" "$rc" 1
between "$el" 1.9 8 || fail "--timeout 2 took ${el}s"
grep -q "timed out after 2 s: 50 of 50 jobs not done" "$T/err" || fail "timeout line: $(out)"
grep -q "the server holds 50 queued in nowhere, 0 reserved by workers" "$T/err" ||
	fail "timeout line has no server numbers: $(out)"

# A quiet host fetches nothing: perf-test refuses instead of waiting.
ctl quiet >/dev/null
wait_for 5 is_state quiet || fail "not quiet"
pushed=$(stat_field pushed)
perf 10
expect_eq "exit status on a quiet host" "$rc" 1
grep -q "fkworker is quiet: it fetches no new jobs" "$T/err" || fail "quiet host: $(out)"
expect_eq "jobs pushed to a quiet host" "$(stat_field pushed)" "$pushed"
echo "# perf-test: all-failed run exits 1 naming the errtype; --args; --seconds 3 pushed $n; --timeout 2 in ${el}s naming 50 queued; quiet host refused"
