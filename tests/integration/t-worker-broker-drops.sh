#!/bin/bash
# The broker drops every worker connection after 40 commands: slots reconnect, unconfirmed
# ACKs are sent again, and nothing is lost. A FETCH whose reply was cut off leaves its job
# reserved on the server; the test moves the broker's clock past the reservation so those
# jobs come back, as they would from real Faktory after reserve_for. One slot per
# connection here (the ACK and the next FETCH in one write on the slot's own connection);
# t-worker-shared-conns drops shared connections and the report connection.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wrk.sh"
# One child without a master sends no BEAT: keep the broker from reaping it.
start_broker --drop-after 40 --retry-delay-ms 0 --reap-s 86400
CONCURRENCY=20 write_conf "$T/w.conf" "slots_per_connection = 1;"
cli push -n 3000 --jobtype noop --prefix d --batch 100 >/dev/null
start_single "$T/w.conf"
if ! cli wait-done 3000 --timeout 15 >/dev/null 2>&1; then
	cli "XTIME 1900" >/dev/null
	cli wait-done 3000 --timeout 30 >/dev/null || { cli audit; fail "jobs lost"; }
fi
expect_eq "pending" "$(audit pending)" 0
expect_eq "done" "$(audit done)" 3000
expect_eq "processed twice" "$(audit acked_multi)" 0
grep -q "connection(s) lost" "$T/worker.log" || fail "no reconnect logged"
a=$(cli audit)
echo "# drop after 40 commands: pushed 3000, processed 3000, lost 0;" \
    "$(echo "$a" | jq .ack_late) ACKs resent after a drop, $(echo "$a" | jq .delivered_multi)" \
    "jobs delivered again after their reservation expired (FETCH reply cut off)"
stop_pid $WRK_PID 10
