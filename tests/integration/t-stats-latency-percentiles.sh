#!/bin/bash
# Job run time and pickup latency percentiles are right (issue 12): 40 sleep
# jobs of 500 ms on 20 slots. Every job runs 500 ms, so the run-time p50 and
# p99 are within 5% of 500 ms (power-of-two buckets said 393 ms / 522 ms).
# Half the jobs start at once, the other half wait for a slot about 500 ms:
# pickup (start minus enqueued_at) p50 is short, p99 about 500 ms. Then the
# broker's clock jumps a minute ahead: its jobs are "enqueued in the future",
# which counts as clock skew, not as a negative wait.
. "$(dirname "$0")/lib.sh"
CPUS=1 CONCURRENCY=20 sup_up
cli push -n 40 --jobtype sleep --args '[500]' --prefix s >/dev/null
cli wait-done --timeout 30 40 >/dev/null || fail "jobs not done"
wait_for 5 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq '.processed') -eq 40 ]" ||
	fail "status did not catch up: $(sfield .processed)"
status_json >"$T/s.json"
j() { jq -r "$1" "$T/s.json"; }
echo "# run time p50 $(j .latency_p50_us) us, p99 $(j .latency_p99_us) us;" \
    "pickup p50 $(j .pickup_p50_us) us, p99 $(j .pickup_p99_us) us"
between "$(j .latency_p50_us)" 475000 525000 || fail "run-time p50 $(j .latency_p50_us) us, not 500 ms +-5%"
between "$(j .latency_p99_us)" 475000 525000 || fail "run-time p99 $(j .latency_p99_us) us, not 500 ms +-5%"
expect_eq "jobs with a pickup latency" "$(j .pickup_jobs)" 40
expect_eq "skewed" "$(j .pickup_skewed)" 0
between "$(j .pickup_p50_us)" 0 250000 || fail "pickup p50 $(j .pickup_p50_us) us: the first 20 jobs started at once"
between "$(j .pickup_p99_us)" 450000 750000 || fail "pickup p99 $(j .pickup_p99_us) us: the last 20 waited one job, 500 ms"
ctl status >"$T/s.txt"
grep -Eq '^pickup +p50 [0-9.]+(us|ms)  p99 [0-9.]+ms \(enqueued to started\)$' "$T/s.txt" ||
	fail "table: $(grep pickup "$T/s.txt")"

# A server clock a minute ahead of ours.
cli "XTIME 60" >/dev/null
cli push -n 5 --jobtype noop --prefix skew >/dev/null
cli wait-done --timeout 30 45 >/dev/null || fail "skewed jobs not done"
wait_for 5 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq '.pickup_skewed') -eq 5 ]" ||
	fail "skewed jobs not counted: $(sfield .pickup_skewed)"
expect_eq "jobs with a pickup latency" "$(sfield .pickup_jobs)" 45
ctl status | grep -q "5 enqueued in the future: clock skew" || fail "table does not show the skew"
stop_pid $FKW_PID 10
