#!/bin/bash
# Issue 13 item 1: a host name that does not resolve is a connection failure
# like any other. The children keep retrying with backoff (no exit, so no
# crash brake), log it as a warning at most once a second each, never call
# it a lost connection (they never had one), and the master's status says
# the server is not connected and why; a reload says to fix and restart.
. "$(dirname "$0")/lib.sh"
start_broker
# .invalid never resolves (RFC 6761), with or without a DNS server.
BROKER_URL="tcp://faktory.invalid:$BROKER_PORT"
CPUS=2 CONCURRENCY=8 sup_conf "$T/f.conf" 'connections = 4; reconnect_max = 1000;'
t0=$(now_s)
start_fkworker "$T/f.conf"
answers() { status_json >/dev/null 2>&1; }
wait_for 10 answers || fail "fkworker never answered status"
# Long enough for the crash brake (children dying within 1 s of start, thrice) to have acted.
sleep 4
kill -0 "$FKW_PID" 2>/dev/null || fail "fkworker exited: $(tail -n 5 "$T/fkworker.log")"
expect_eq "restarts" "$(sfield .restarts)" 0
expect_eq "faktory_connected" "$(sfield .faktory_connected)" false
sfield .faktory_error | grep -q "faktory.invalid" || fail "status error does not name the host: $(sfield .faktory_error)"
ctl status | grep -q "NOT connected" || fail "status does not say NOT connected"
expect_eq "connected" "$(sfield .connected)" 0
expect_eq "state" "$(sfield .state)" starting
el=$(elapsed "$t0")
# Each child warns about it, at most once a second.
for i in 0 1; do
	n=$(grep -Ec "^<4>fkworker\[[0-9]+\]: worker $i: .*faktory.invalid" "$T/fkworker.log" || true)
	[ "$n" -ge 1 ] || fail "worker $i did not warn about the unresolvable name"
	awk "BEGIN{exit !($n <= $el + 1)}" || fail "worker $i warned $n times in ${el}s"
done
grep -q "connection(s) lost" "$T/fkworker.log" && fail "a child that never connected says connections were lost"
# A reload cannot roll children that never connected: the refusal names the way out.
rc=0
out=$(ctl reload 2>&1) || rc=$?
expect_eq "reload while starting: exit status" "$rc" 1
echo "$out" | grep -q "fix it and restart fkworker" || fail "reload while starting does not say what to do: $out"
# A clean stop, not a configuration or crash exit.
kill -TERM "$FKW_PID"
wait_exit "$FKW_PID" 15
expect_eq "exit status" "$EXIT_RC" 0
echo "# unresolvable host: up ${el}s without a respawn, status says NOT connected"
