#!/bin/bash
# Issue 13 items 3 and 13: a server that hangs (SIGSTOP) rather than dies.
# An overdue BEAT answer (master, 10 s) or FETCH answer (child, 15 s) marks
# the connection lost: the master stops saying connected and both warn; after
# SIGCONT every connection comes back and the recovery is logged once per
# process with how long the outage lasted. "N connection(s) lost" counts
# connections, never retries.
. "$(dirname "$0")/lib.sh"
# within SECONDS CMD...: wait_for bounded by the clock, not by polls (a
# status call may wait up to 1 s for the hung server's INFO).
within() {
	local lim=$1 t=$(now_s)
	shift
	while ! "$@" >/dev/null 2>&1; do
		awk "BEGIN{exit !($(now_s) - $t < $lim)}" || return 1
		sleep 0.2
	done
}
CPUS=2 CONCURRENCY=8 HEARTBEAT=5 sup_up
beat_up() { [ "$(sfield .faktory_connected)" = true ]; }
within 10 beat_up || fail "not connected"
CONNS=$(sfield .connections)
kill -STOP "$BROKER_PID"
t0=$(now_s)
down() { [ "$(sfield .faktory_connected)" = false ]; }
within 30 down || { kill -CONT "$BROKER_PID"; fail "the master still says connected $(elapsed "$t0")s after the server hung"; }
detected=$(elapsed "$t0")
sfield .faktory_error | grep -q "no reply" || { kill -CONT "$BROKER_PID"; fail "status error: $(sfield .faktory_error)"; }
fewer() { [ "$(sfield .connected)" -lt "$CONNS" ]; }
within 30 fewer || { kill -CONT "$BROKER_PID"; fail "the children still hold all connections"; }
# Retries go on against the hung server for a while.
sleep 6
kill -CONT "$BROKER_PID"
t1=$(now_s)
up() { [ "$(sfield .faktory_connected)" = true ] && [ "$(sfield .connected)" = "$CONNS" ]; }
within 60 up || fail "not back after SIGCONT: $(status_json | jq -c '{faktory_connected, connected}')"
sleep 1
log="$T/fkworker.log"
expect_eq "restarts" "$(sfield .restarts)" 0
grep -Eq '^<4>fkworker\[[0-9]+\]: master: .*no reply' "$log" || fail "the master did not warn about the hung server"
grep -Eq '^<4>fkworker\[[0-9]+\]: worker [01]: .*connection\(s\) lost' "$log" || fail "no child warned of lost connections"
# N counts connections: a child has CONNS/2 of them, however often they retried.
per_child=$((CONNS / 2))
for i in 0 1; do
	lost=$(grep -E "worker $i: [0-9]+ connection\(s\) lost" "$log" |
	    sed -E 's/.*worker [0-9]+: ([0-9]+) connection.*/\1/' | awk '{s += $1} END {print s + 0}')
	[ "$lost" -le "$per_child" ] || fail "worker $i reported $lost connections lost, it has $per_child"
done
n=$(grep -Ec 'master: .*after an outage of [0-9.]+ ?s' "$log" || true)
expect_eq "master recovery lines" "$n" 1
for i in 0 1; do
	if grep -Eq "worker $i: .*connection\(s\) lost" "$log"; then
		n=$(grep -Ec "worker $i: .*after an outage of [0-9.]+ ?s" "$log" || true)
		expect_eq "worker $i recovery lines" "$n" 1
	fi
done
echo "# SIGSTOP: master noticed in ${detected}s; back $(elapsed "$t1")s after SIGCONT"
