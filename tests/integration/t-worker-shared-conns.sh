#!/bin/bash
# worker.slots_per_connection = 16: 64 slots ride 4 FETCH connections plus the report
# connection. Checked against fkbroker:
# - the broker sees 5 connections, not 64;
# - 30000 noop jobs, each ACKed exactly once;
# - an ACK never waits behind a FETCH blocked on an empty queue: with the broker's FETCH
#   wait raised to 10 s, single jobs pushed to an idle worker are ACKed within 5 s (a
#   report written behind a blocked FETCH would wait 10 s or more);
# - the broker dropping connections every 40 commands loses nothing (reports on the
#   report connection are resent after it drops too);
# - SIGTERM with only blocked FETCHes outstanding exits within shutdown_timeout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wrk.sh"
start_broker --fetch-wait-ms 10000 --reap-s 86400
CONCURRENCY=64 write_conf "$T/w.conf" "slots_per_connection = 16;"
start_single "$T/w.conf"
wait_for 10 grep -q "64 slots connected" "$T/worker.log" || fail "slots did not connect"
grep -q "64 slots on 5 connection(s)" "$T/worker.log" || fail "start line: $(grep starting "$T/worker.log")"
expect_eq "connections at the broker" "$(cli XWORKERS | jq '[.[].conns] | add')" 5

cli push -n 30000 --jobtype noop --prefix s --batch 1000 >/dev/null
cli wait-done 30000 --timeout 60 >/dev/null || { cli audit; fail "not all jobs done"; }
expect_eq "acked once" "$(audit acked_once)" 30000
expect_eq "acked more than once" "$(audit acked_multi)" 0
expect_eq "delivered more than once" "$(audit delivered_multi)" 0

# The queue is empty now and every connection has a FETCH waiting up to 10 s.
sleep 0.5
for i in 1 2 3; do
	cli push -n 1 --jobtype noop --prefix "idle$i" >/dev/null
	cli wait-done $((30000 + i)) --timeout 5 >/dev/null ||
	    fail "job $i on an idle worker not ACKed within 5 s: the ACK waited behind a FETCH"
done
expect_eq "pending" "$(audit pending)" 0

# A stop waits for the FETCHes still blocked (10 s each here), within shutdown_timeout (5 s).
t0=$(date +%s.%N)
stop_pid $WRK_PID 30
t1=$(date +%s.%N)
grep -q "exiting (30003 jobs done)" "$T/worker.log" || fail "no clean exit"
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 9) }' ||
    fail "stop took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s: past shutdown_timeout 5 s"
a=$(cli audit)
echo "# 64 slots on 5 connections: 30003 jobs ACKed once, $(echo "$a" | jq .acked_multi) twice;" \
    "ACKs on an idle worker not held by blocked FETCHes; stop with FETCHes blocked took" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s (shutdown_timeout 5)"
stop_pid $BROKER_PID 5

# Drops: a fresh broker cuts every worker connection after 40 commands; nothing is lost.
start_broker --drop-after 40 --retry-delay-ms 0 --reap-s 86400
CONCURRENCY=64 write_conf "$T/w2.conf" "slots_per_connection = 16;"
cli push -n 5000 --jobtype noop --prefix d --batch 100 >/dev/null
start_single "$T/w2.conf"
for round in 1 2 3 4 5 6; do
	cli wait-done 5000 --timeout 10 >/dev/null 2>&1 && break
	# A FETCH reply cut off (the broker's close turns into a reset while pipelined
	# commands are unread, and the reset discards replies not yet read) leaves its job
	# reserved: move past the reservation, as reserve_for would, so the job comes back.
	cli "XTIME 1900" >/dev/null
done
cli wait-done 5000 --timeout 1 >/dev/null || { cli audit; fail "jobs lost under drops"; }
expect_eq "pending after drops" "$(audit pending)" 0
expect_eq "acked more than once after drops" "$(audit acked_multi)" 0
grep -q "connection(s) lost" "$T/worker.log" || fail "no reconnect logged"
a=$(cli audit)
echo "# drops every 40 commands: 5000/5000 done," \
    "$(echo "$a" | jq .delivered_multi) jobs delivered again after a cut-off FETCH reply" \
    "(ReservationExpired, counted failed: $(echo "$a" | jq .failed))"
stop_pid $WRK_PID 30
