#!/bin/bash
# stats.listen serves /metrics in the Prometheus text format from the master
# (issue 12): promtool accepts a scrape taken under load and one after the
# run; after the run the counters equal `fkworkerctl status --json` exactly;
# the histograms' cumulative buckets hold the jobs they should; label values
# are escaped (a jobtype with a quote, a backslash); other paths are 404,
# other methods 405.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || skip "promtool (Debian package prometheus) is not installed"
command -v curl >/dev/null || skip "curl is not installed"
start_broker
STATS_LISTEN=127.0.0.1:0 CPUS=2 CONCURRENCY=40 sup_conf "$T/f.conf" "" \
    '{ jobtype = "*"; builtin = "noop"; },'
start_fkworker "$T/f.conf"
wait_ready 20
port=$(sed -n 's|.*metrics: serving http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' "$T/fkworker.log")
[ -n "$port" ] || fail "no 'metrics: serving' line in the log"
M=http://127.0.0.1:$port/metrics
# scrape FILE: the body into FILE; prints "CODE CONTENT-TYPE".
scrape() { curl -sS --max-time 10 -o "$1" -w '%{http_code} %{content_type}' "$M"; }
# metric FILE SERIES: the value of one series ("name" or 'name{labels}').
# (ENVIRON, not awk -v: -v would undo the backslashes of escaped label values.)
metric() { S=$2 awk '$1 == ENVIRON["S"] { print $2 }' "$1"; }
# total FILE NAME: the sum of a family's samples.
total() { awk -v n="$1" 'index($1, n "{") == 1 || $1 == n { t += $2 } END { printf "%d", t }' "$2"; }
check() { promtool check metrics <"$1" >"$T/promtool.out" 2>&1 || fail "promtool on $1: $(cat "$T/promtool.out")"; }

expect_eq "empty host" "$(scrape "$T/m0.txt")" "200 text/plain; version=0.0.4; charset=utf-8"
check "$T/m0.txt"

# A burst: 20000 noop, 100 failing, 5 with an odd name. Then the load
# scraped: 400 sleeps of 200 ms on 40 slots, about 2 s. (Apart: a timer armed
# in a long loop iteration of the burst could end a sleep early.)
cli push -n 20000 --jobtype noop --prefix ok >/dev/null
cli push -n 100 --jobtype fail --prefix bad --retry 0 >/dev/null
cli push -n 5 --jobtype 'we"ird\job' --prefix w >/dev/null
cli wait-done --timeout 60 20105 >/dev/null || fail "burst not done"
cli push -n 400 --jobtype sleep --args '[200]' --prefix s >/dev/null
busy=0
for i in $(seq 1 50); do
	scrape "$T/load.txt" >/dev/null
	busy=$(metric "$T/load.txt" fkworker_slots_busy)
	[ "${busy:-0}" -gt 0 ] && break
	sleep 0.1
done
[ "${busy:-0}" -gt 0 ] || fail "no scrape saw a busy slot during the load"
check "$T/load.txt"
echo "# under load: $busy of $(metric "$T/load.txt" fkworker_slots) slots busy," \
    "$(total fkworker_jobs_processed_total "$T/load.txt") processed so far"

cli wait-done --timeout 60 20505 >/dev/null || fail "jobs not done"
wait_for 5 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq '.processed + .failed') -eq 20505 ]" ||
	fail "status did not catch up: $(sfield '.processed + .failed')"
# The run-time histogram rides the children's stats records (every stats.interval_ms), a
# moment behind the exact counts: wait until it has every job too.
hist_done() { scrape "$T/h.txt" >/dev/null && [ "$(metric "$T/h.txt" fkworker_job_duration_seconds_count)" = 20505 ]; }
wait_for 5 hist_done || fail "the run-time histogram did not catch up: $(metric "$T/h.txt" fkworker_job_duration_seconds_count)"
scrape "$T/m.txt" >/dev/null
status_json >"$T/s.json"
# Idle FETCHes go on after the run: their count is bracketed by a scrape before and after.
scrape "$T/m2.txt" >/dev/null
check "$T/m.txt"
j() { jq -r "$1" "$T/s.json"; }
expect_eq "processed = status" "$(total fkworker_jobs_processed_total "$T/m.txt")" "$(j .processed)"
expect_eq "failed = status" "$(total fkworker_jobs_failed_total "$T/m.txt")" "$(j .failed)"
expect_eq "processed = broker ACKs" "$(j .processed)" "$(stat_field acked)"
expect_eq "noop" "$(metric "$T/m.txt" 'fkworker_jobs_processed_total{jobtype="noop"}')" 20000
expect_eq "sleep" "$(metric "$T/m.txt" 'fkworker_jobs_processed_total{jobtype="sleep"}')" 400
expect_eq "fail" "$(metric "$T/m.txt" 'fkworker_jobs_failed_total{jobtype="fail",errtype="Failed"}')" 100
expect_eq "escaped jobtype" \
    "$(metric "$T/m.txt" 'fkworker_jobs_processed_total{jobtype="we\"ird\\job"}')" 5
f1=$(metric "$T/m.txt" fkworker_fetches_total) f2=$(metric "$T/m2.txt" fkworker_fetches_total)
between "$(j .fetches)" "$f1" "$f2" || fail "fetches: status $(j .fetches) not within the scrapes' $f1..$f2"
expect_eq "slots = status" "$(metric "$T/m.txt" fkworker_slots)" "$(j .slots)"
expect_eq "connections = status" "$(metric "$T/m.txt" fkworker_connections)" "$(j .connections)"
expect_eq "restarts = status" "$(metric "$T/m.txt" fkworker_child_restarts_total)" "$(j .restarts)"
# Run time: every job counted; noop and fail take microseconds, the sleeps 200 ms.
expect_eq "duration count" "$(metric "$T/m.txt" fkworker_job_duration_seconds_count)" 20505
expect_eq "duration le 0.1" \
    "$(metric "$T/m.txt" 'fkworker_job_duration_seconds_bucket{le="0.1"}')" 20105
expect_eq "duration +Inf" \
    "$(metric "$T/m.txt" 'fkworker_job_duration_seconds_bucket{le="+Inf"}')" 20505
between "$(metric "$T/m.txt" fkworker_job_duration_seconds_sum)" 80 100 ||
	fail "duration sum $(metric "$T/m.txt" fkworker_job_duration_seconds_sum) s, want 400 x 0.2 s"
expect_eq "pickup count" "$(metric "$T/m.txt" fkworker_job_pickup_latency_seconds_count)" 20505
expect_eq "pickup jobs = status" "$(j .pickup_jobs)" 20505
# Processes: one CPU and memory row per child, a host CPU total at least the children's.
expect_eq "child cpu rows" "$(grep -c '^fkworker_child_cpu_seconds_total{' "$T/m.txt")" 2
awk '$1 == "fkworker_resident_memory_bytes" && $2 > 1000000 { ok = 1 } END { exit !ok }' "$T/m.txt" ||
	fail "resident memory: $(grep '^fkworker_resident_memory_bytes' "$T/m.txt")"
awk '/^fkworker_child_cpu_seconds_total\{/ { c += $2 } $1 == "fkworker_cpu_seconds_total" { t = $2 }
    END { exit !(c > 0 && t >= c) }' "$T/m.txt" || fail "cpu: $(grep cpu_seconds "$T/m.txt")"
# Server queue sizes from INFO.
cli push -n 3 --jobtype noop --queue elsewhere --prefix q >/dev/null
wait_for 10 sh -c "curl -s $M | grep -qx 'fkworker_server_queue_jobs{queue=\"elsewhere\"} 3'" ||
	fail "queue elsewhere: $(curl -s "$M" | grep server_queue)"

expect_eq "other path" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" 404
expect_eq "POST" "$(curl -s -o /dev/null -w '%{http_code}' -d x "$M")" 405
stop_pid $FKW_PID 10
# The port goes with the master.
! curl -s --max-time 2 "$M" >/dev/null || fail "/metrics still answers after the master exited"
