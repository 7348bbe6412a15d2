#!/bin/bash
# fkworkerctl status --json: every documented field is there, and the numbers
# agree with what the broker counted (processed = ACKs, failed = FAILs), the
# children's rows add up to the host totals, queue depths come from INFO.
# The table shows the same struct.
. "$(dirname "$0")/lib.sh"
CPUS=2 CONCURRENCY=40 sup_up
cli push -n 3000 --jobtype noop --prefix ok >/dev/null
cli push -n 100 --jobtype fail --prefix bad --retry 0 >/dev/null
cli wait-done --timeout 30 3100 >/dev/null || fail "jobs not done"
wait_for 5 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq '.processed + .failed') -eq 3100 ]" ||
	fail "status did not catch up: $(sfield '.processed + .failed')"
# Queue depths: a queue nobody serves, seen through INFO.
cli push -n 7 --jobtype noop --queue elsewhere --prefix q >/dev/null
sleep 2.1
status_json >"$T/s.json"
for f in version pid hostname wid url state uptime_ms cpus concurrency slots connections connected \
    busy processed failed jobs_per_sec latency_p50_us latency_p99_us rss_kb restarts \
    fetching fetches fetch_empty naps faktory_connected queues children \
    cpu_percent cpu_seconds cpu_cores saturated_percent saturated_count \
    server_retries server_dead server_scheduled queues_trend_window_ms queues_omitted queue_list; do
	jq -e "has(\"$f\")" "$T/s.json" >/dev/null || fail "status has no $f"
done
for f in index cpu pid state slots connections connected busy fetch_window fetching \
    fetch_rtt_us nap_us processed failed jobs_per_sec rss_kb restarts uptime_ms \
    cpu_percent cpu_seconds saturated_percent saturated_count; do
	jq -e ".children | all(has(\"$f\"))" "$T/s.json" >/dev/null || fail "child row has no $f"
done
j() { jq -r "$1" "$T/s.json"; }
expect_eq "processed = broker ACKs" "$(j .processed)" "$(stat_field acked)"
expect_eq "failed = broker FAILs" "$(j .failed)" "$(stat_field failed)"
expect_eq "processed" "$(j .processed)" 3000
expect_eq "failed" "$(j .failed)" 100
expect_eq "children add up (processed)" "$(j '[.children[].processed] | add')" 3000
expect_eq "children add up (failed)" "$(j '[.children[].failed] | add')" 100
expect_eq "slots" "$(j .slots)" 40
# "auto": one connection per slot up to 32 per child.
expect_eq "connections" "$(j .connections)" 40
expect_eq "connected" "$(j '[.children[].connected] | add')" 40
expect_eq "FETCHes sent = jobs + empty answers + those out now" "$(j .fetches)" \
    "$(j '.processed + .failed + .fetch_empty + .fetching')"
expect_eq "faktory connected" "$(j .faktory_connected)" true
expect_eq "queue elsewhere" "$(j .queues.elsewhere)" 7
expect_eq "pid" "$(j .pid)" "$FKW_PID"
expect_eq "url has no password" "$(j .url)" "$BROKER_URL"
j '.jobs_per_sec > 0' | grep -q true || fail "jobs_per_sec is $(j .jobs_per_sec)"
j '.latency_p99_us >= .latency_p50_us' | grep -q true || fail "p99 < p50"
j '.rss_kb > 1000' | grep -q true || fail "rss_kb $(j .rss_kb)"
j '[.children[].cpu] | sort == [0, 1]' | grep -q true || fail "cpus: $(j '[.children[].cpu]')"
# The table renders the same numbers.
ctl status >"$T/s.txt"
grep -q "3000 processed, 100 failed" "$T/s.txt" || fail "table: $(cat "$T/s.txt")"
grep -q "^CHILD" "$T/s.txt" || fail "no child table"
grep -q "elsewhere 7" "$T/s.txt" || fail "no queue depth in the table"
# Round trip of status, measured.
t0=$(date +%s%N)
for i in $(seq 1 20); do ctl status --json >/dev/null; done
echo "# status round trip (fkworkerctl process included): $(( ($(date +%s%N) - t0) / 20000 )) us"
