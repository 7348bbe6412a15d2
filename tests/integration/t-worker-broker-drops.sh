#!/bin/bash
# The broker drops every connection after 40 commands: slots reconnect and nothing is lost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wrk.sh"
start_broker --drop-after 40
CONCURRENCY=20 write_conf "$T/w.conf"
cli push -n 3000 --jobtype noop --prefix d --batch 1 >/dev/null
start_single "$T/w.conf"
if ! cli wait-done 3000 --timeout 60 >/dev/null; then
	# A FETCH whose reply was cut off leaves its job reserved: let reservations expire.
	cli XTIME 1900 >/dev/null
	cli wait-done 3000 --timeout 30 >/dev/null || { cli audit; fail "jobs lost"; }
fi
expect_eq "pending" "$(audit pending)" 0
expect_eq "done" "$(audit done)" 3000
grep -q "reconnecting" "$T/worker.log" || fail "no reconnect logged"
report "drop after 40 commands"
stop_pid $WRK_PID 10
