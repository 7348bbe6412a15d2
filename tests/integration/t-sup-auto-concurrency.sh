#!/bin/bash
# issue 16: worker.concurrency = "auto". From concurrency_min (4) with a
# backlog of 300 ms sleep jobs (I/O-bound: fkworker's CPU stays low), the
# controller adds slots while the queue holds work and every slot is busy,
# live in the running children (no child replaced); once the backlog is
# done the idle slots retire and the host returns to concurrency_min within
# the promised minute. Every job is ACKed once, none FAILed. The decision
# period is cut to 300 ms (worker.auto_interval_ms) so this takes seconds;
# cpu_target 100 (no CPU bound) keeps other load on the test machine from
# steering it.
. "$(dirname "$0")/lib.sh"
N=8000
start_broker
CPUS=2 CONCURRENCY="\"auto\"" sup_conf "$T/f.conf" \
    "concurrency_min = 4; concurrency_max = 400; cpu_target = 100; auto_interval_ms = 300;"
start_fkworker "$T/f.conf"
wait_ready 20
pids=$(child_pids | sort | tr '\n' ' ')
expect_eq "mode" "$(sfield .concurrency_mode)" auto
expect_eq "bounds" "$(sfield '"\(.concurrency_min)..\(.concurrency_max)"')" "4..400"
expect_eq "concurrency at start (the floor)" "$(sfield .concurrency)" 4
expect_eq "slots at start" "$(sfield .slots)" 4

cli push -n $N --jobtype sleep --args '[300]' --prefix a --batch 1000 >/dev/null
t0=$(now_s)
# At 4 slots the backlog would take 600 s; the controller must grow toward
# the rate the backlog needs (here concurrency_max) long before that.
wait_for 30 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq .slots) -ge 200 ]" ||
	fail "slots did not grow past 200 within 30 s: $(status_json | jq -c '{concurrency, slots, busy, auto_last}')"
grown=$(elapsed "$t0")
peak_busy=0
for _ in $(seq 1 10); do
	b=$(sfield .busy)
	[ "$b" -gt "$peak_busy" ] && peak_busy=$b
	sleep 0.1
done
[ "$peak_busy" -gt 100 ] || fail "the new slots ran no jobs: busy at most $peak_busy"
last=$(sfield .auto_last)
echo "$last" | grep -Eq '^([-+][0-9]+ slots|hold at [0-9]+( \([^)]*\))?): queue .*busy, CPU' || fail "auto_last: '$last'"
grep -q "auto: +[0-9]* slots: queue [0-9,]*" "$T/fkworker.log" || fail "no decision logged"
cli wait-done --timeout 120 $N >/dev/null || { cli audit; fail "not all jobs done"; }
done_s=$(elapsed "$t0")

# Idle: back to the floor within a minute.
t1=$(now_s)
wait_for 60 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq .slots) -eq 4 ]" ||
	fail "not back at concurrency_min: $(status_json | jq -c '{concurrency, slots, busy, auto_last}')"
idle_s=$(elapsed "$t1")
expect_eq "concurrency when idle" "$(sfield .concurrency)" 4
expect_eq "children (same pids)" "$(child_pids | sort | tr '\n' ' ')" "$pids"
expect_eq "jobs" "$(audit jobs)" $N
expect_eq "acked once" "$(audit acked_once)" $N
expect_eq "acked more than once" "$(audit acked_multi)" 0
expect_eq "failed" "$(audit failed)" 0
echo "# auto: 4 -> 200+ slots in ${grown}s (busy up to $peak_busy), $N jobs of 300 ms in ${done_s}s, back to 4 in ${idle_s}s"
report "auto concurrency"
