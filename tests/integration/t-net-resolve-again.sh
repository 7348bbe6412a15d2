#!/bin/bash
# Issue 13 item 1: every reconnect resolves the server's name again, so a DNS
# failover is followed without a restart. tests/tools/fakedns.so (LD_PRELOAD)
# answers for the name "faktory.test" from a file: the test points it at
# broker A, then at broker B (another port: every test server listens on
# 127.0.0.1) and stops A. The master and every child must end up on B.
# Then the DNS fails (the name stops resolving) while B restarts on its
# port: the last address found still serves. Then the DNS is slow (300 ms a
# lookup) while the server is gone: each child asks it at most once per
# 20 lookups' time, so a blocked loop stays the exception.
. "$(dirname "$0")/lib.sh"
[ -f "$B/fakedns.so" ] || skip "no $B/fakedns.so (make builds it)"
ldd "$B/fkworker" | grep -q libasan && skip "sanitizer build: the ASan runtime must come first in LD_PRELOAD"
start_broker
PID_A=$BROKER_PID PORT_A=$BROKER_PORT URL_A=$BROKER_URL
export FKW_FAKEDNS_NAME=faktory.test FKW_FAKEDNS_FILE="$T/dns"
echo "127.0.0.1 $PORT_A" >"$T/dns"
BROKER_URL="tcp://faktory.test:7419"
CPUS=2 CONCURRENCY=8 sup_conf "$T/f.conf" 'connections = 4; reconnect_max = 1000;'
LD_PRELOAD="$B/fakedns.so" "$B/fkworker" -c "$T/f.conf" >>"$T/fkworker.log" 2>&1 &
FKW_PID=$!
track $FKW_PID
wait_ready 20
BROKER_URL=$URL_A
cli push -n 20 --jobtype noop --prefix a >/dev/null
done_a() { [ "$(audit done)" = 20 ]; }
wait_for 20 done_a || fail "jobs at broker A not done: $(cli audit)"

# The failover: the name now points at B, and A goes away.
mkdir "$T/b"
fkbroker_start "$T/b" || fail "broker B did not start"
track "$BROKER_PID"
echo "127.0.0.1 $BROKER_PORT" >"$T/dns"
t0=$(now_s)
stop_pid "$PID_A" 10
all_back() {
	st=$(status_json) || return 1
	[ "$(echo "$st" | jq .faktory_connected)" = true ] &&
	    [ "$(echo "$st" | jq .connected)" = "$(echo "$st" | jq .connections)" ]
}
# The status can lag the children by a publish: the broker counts who is
# really there, the master and all 4 child connections (and this cli).
all_here() { [ "$(stat_field connections)" = 6 ]; }
wait_for 30 all_back || fail "not all on broker B: $(status_json | jq -c '{faktory_connected, faktory_error, connected, connections}')"
wait_for 10 all_here || fail "connections at broker B: got $(stat_field connections), want 6"
cli push -n 20 --jobtype noop --prefix b >/dev/null
wait_for 20 done_a || fail "jobs at broker B not done: $(cli audit)"
failover=$(elapsed "$t0")
pids=$(cut -d' ' -f1 "$T/dns.log" | sort -u | wc -l)
[ "$(grep " $BROKER_PORT\$" "$T/dns.log" | cut -d' ' -f1 | sort -u | wc -l)" -ge 3 ] ||
	fail "the master and both children did not each resolve the name again: $(tr '\n' ' ' <"$T/dns.log")"

# A DNS outage while B restarts on the same port: the last address serves.
# B stays down until every child has asked the failing DNS, so each one
# reconnects after a failed lookup, not on an address it had just found.
: >"$T/dns"
PORT_B=$BROKER_PORT
kids=$(sfield '.children[].pid')
# lookups_since: the lookups the stand-in logged after the first $n0 lines.
lookups_since() { tail -n +"$((n0 + 1))" "$T/dns.log"; }
n0=$(grep -c . "$T/dns.log")
stop_pid "$BROKER_PID" 10
all_failed_lookup() {
	for k in $kids; do
		lookups_since | grep -q "^$k NONAME" || return 1
	done
}
wait_for 10 all_failed_lookup || fail "not every child asked the failing DNS: $(lookups_since | tr '\n' ' ')"
mkdir "$T/c"
"$B/fkbroker" -b "127.0.0.1:$PORT_B" --port-file "$T/c/broker.port" >"$T/c/broker.log" 2>&1 &
BROKER_PID=$!
track "$BROKER_PID"
wait_for 10 test -s "$T/c/broker.port" || fail "broker B did not start again on port $PORT_B"
wait_for 30 all_here || fail "not back on the last address during a DNS outage: $(stat_field connections) connections at the new broker, want 6; $(status_json | jq -c '{faktory_connected, faktory_error, connected, connections}')"

# A slow DNS (300 ms a lookup) while the server is gone: children keep
# reconnecting, but each asks the resolver at most once in 6 s.
echo "127.0.0.1 $PORT_B 300" >"$T/dns"
n0=$(grep -c . "$T/dns.log")
stop_pid "$BROKER_PID" 10
sleep 8
for k in $kids; do
	n=$(lookups_since | grep -c "^$k " || true)
	[ "$n" -ge 1 ] || fail "child $k never asked the resolver again"
	[ "$n" -le 2 ] || fail "child $k asked a 300 ms resolver $n times in 8 s"
done
echo "# failover followed in ${failover}s by $pids processes; a DNS outage fell back on the last address; a 300 ms resolver asked at most twice in 8 s per child"
