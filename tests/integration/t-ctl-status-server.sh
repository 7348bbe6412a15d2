#!/bin/bash
# status shows the server's side: its retry, dead and scheduled set sizes
# (from a fresh INFO), every configured queue with its size (0 when empty,
# never "none") and trend, queues it does not serve too, and latency as
# "n/a" (null in --json) while no job has run.
. "$(dirname "$0")/lib.sh"
start_broker --retry-delay-ms 600000
CPUS=1 CONCURRENCY=10 sup_conf "$T/f.conf"
sed -i 's/queues = \[ "default" \];/queues = [ "default", "critical", "empty_q" ];/' "$T/f.conf"
start_fkworker "$T/f.conf"
wait_ready 20

# Nothing ran yet: latency is n/a, every configured queue shows 0.
status_json >"$T/s0.json"
j0() { jq -r "$1" "$T/s0.json"; }
expect_eq "p50 before any job" "$(j0 .latency_p50_us)" null
expect_eq "p99 before any job" "$(j0 .latency_p99_us)" null
expect_eq "empty_q size" "$(j0 .queues.empty_q)" 0
expect_eq "critical size" "$(j0 .queues.critical)" 0
expect_eq "configured queues listed" "$(j0 '[.queue_list[] | select(.configured) | .name] | join(",")')" \
    "default,critical,empty_q"
ctl status >"$T/s0.txt"
grep -q "^latency    n/a" "$T/s0.txt" || fail "latency line: $(grep latency "$T/s0.txt")"
grep -q "empty_q 0" "$T/s0.txt" || fail "queues line: $(grep -A4 '^queues' "$T/s0.txt")"
grep -q "none" "$T/s0.txt" && fail "'none' in: $(cat "$T/s0.txt")"

# The server's sets: 4 jobs to retry, 3 dead at once, 2 scheduled far ahead.
cli push -n 4 --jobtype fail --prefix r >/dev/null
cli push -n 3 --jobtype fail --prefix d --retry -1 >/dev/null
for i in 1 2; do
	cli "PUSH {\"jid\":\"sched-0000000$i\",\"jobtype\":\"noop\",\"args\":[],\"at\":\"2099-01-01T00:00:00Z\"}" >/dev/null
done
wait_for 20 sh -c "[ \$($B/fkcli -u $BROKER_URL XSTATS | jq .failed) -ge 7 ]" ||
	fail "jobs not failed: $(cli XSTATS)"
wait_for 10 sh -c "[ \"\$($B/fkworkerctl -s $SOCK status --json | jq .server_retries)\" = 4 ]" ||
	fail "retries: $(sfield .server_retries) (broker: $(stat_field retries))"
status_json >"$T/s1.json"
j1() { jq -r "$1" "$T/s1.json"; }
expect_eq "retries = broker" "$(j1 .server_retries)" "$(stat_field retries)"
expect_eq "dead" "$(j1 .server_dead)" 3
expect_eq "scheduled" "$(j1 .server_scheduled)" 2
j1 '.latency_p50_us != null and .latency_p99_us != null' | grep -q true || fail "latency after jobs: $(j1 .latency_p50_us)"
ctl status >"$T/s1.txt"
grep -Eq "^server +retries 4 +dead 3 +scheduled 2" "$T/s1.txt" || fail "server line: $(cat "$T/s1.txt")"

# Trend: a queue nobody serves grows; the configured empty one stays flat.
sleep 2.1
status_json >/dev/null
cli push -n 300 --jobtype noop --queue elsewhere --prefix q >/dev/null
sleep 2.1
status_json >"$T/s2.json"
j2() { jq -r "$1" "$T/s2.json"; }
expect_eq "elsewhere size" "$(j2 .queues.elsewhere)" 300
j2 '.queue_list[] | select(.name == "elsewhere") | .trend_per_sec > 50' | grep -q true ||
	fail "trend of elsewhere: $(j2 '.queue_list[] | select(.name == "elsewhere")')"
expect_eq "trend of empty_q" "$(j2 '.queue_list[] | select(.name == "empty_q") | .trend_per_sec')" 0
expect_eq "elsewhere is not configured" "$(j2 '.queue_list[] | select(.name == "elsewhere") | .configured')" false
ctl status >"$T/s2.txt"
grep -Eq "elsewhere +300 +\+[0-9.]+/s" "$T/s2.txt" || fail "trend in the table: $(cat "$T/s2.txt")"
echo "# $(grep -A6 '^queues' "$T/s2.txt" | tr '\n' '|')"

# The server does not answer: status still answers at once with the last sizes and their age.
kill -STOP "$BROKER_PID"
t0=$(now_s)
sleep 2.1
ctl status >"$T/s3.txt" || { kill -CONT "$BROKER_PID"; fail "status failed while the server hangs"; }
kill -CONT "$BROKER_PID"
between "$(elapsed "$t0")" 0 5 || fail "status waited $(elapsed "$t0") s"
grep -Eq "as of [0-9.]+s ago" "$T/s3.txt" || fail "no age: $(cat "$T/s3.txt")"

# A server with 15000 queues: status still answers (one control frame), with
# every configured queue, the largest others first, and how many it left out.
for b in $(seq 10 24); do
	jobs=$(seq -f "%04g" 0 999 | awk -v b="$b" '{ printf "%s{\"jid\":\"many-%s-%s\",\"jobtype\":\"noop\",\"args\":[],\"queue\":\"many%s_%s\"}", (NR > 1 ? "," : ""), b, $1, b, $1 }')
	cli "PUSHB [$jobs]" >/dev/null
done
cli push -n 500 --jobtype noop --queue zz_big --prefix big >/dev/null
sleep 2.1
status_json >"$T/s4.json" || fail "status with 15000 queues: $(ctl status --json 2>&1 | tail -n 1)"
j4() { jq -r "$1" "$T/s4.json"; }
expect_eq "configured first" "$(j4 '[.queue_list[0:3][].name] | join(",")')" "default,critical,empty_q"
expect_eq "rows: the configured and the 100 largest others" "$(j4 '.queue_list | length')" 103
expect_eq "the largest other queues first" "$(j4 '[.queue_list[3:5][].name] | join(",")')" zz_big,elsewhere
j4 '(.queue_list | length) + .queues_omitted == 15000 + 1 + 1 + 3' | grep -q true ||
	fail "rows $(j4 '.queue_list | length') + omitted $(j4 .queues_omitted) (15005 queues, 3 configured)"
ctl status >"$T/s4.txt"
grep -Eq "^  \.\.\. [0-9]+ more queues? on the server" "$T/s4.txt" || fail "no 'more queues': $(tail -n 12 "$T/s4.txt")"
