#!/bin/bash
# The FETCH window and the connection pool, against fkbroker serving like the real
# server (each command holds its connection 150 us: --service-us 150):
# - the broker sees the connections worker.connections asks for, plus the heartbeat;
# - 30000 noop jobs drained: each ACKed exactly once, at most 1.05 FETCH per job, the
#   window grown past 1 while the backlog lasted;
# - idle: the window is back to one long-poll FETCH per child;
# - an ACK never waits behind a FETCH blocked on an empty queue: with the broker's
#   FETCH wait raised to 10 s, single jobs pushed to an idle host are ACKed within 5 s
#   (a report written behind the blocked long poll would wait 10 s).
. "$(dirname "$0")/lib.sh"
start_broker --service-us 150 --fetch-wait-ms 10000 --reap-s 86400
CPUS=2 CONCURRENCY=64 sup_conf "$T/f.conf" "connections = 8;"
start_fkworker "$T/f.conf"
wait_ready 20
wid=$(sfield .wid)
expect_eq "connections in the status" "$(sfield '"\(.connected)/\(.connections)"')" 8/8
expect_eq "connections at the broker (and the heartbeat)" "$(cli XWORKERS | jq -r --arg w "$wid" '.[$w].conns')" 9

cli push -n 30000 --jobtype noop --prefix s --batch 1000 >/dev/null
maxw=0
for _ in $(seq 1 300); do
	w=$(sfield '[.children[].fetch_window] | max')
	[ "$w" -gt "$maxw" ] && maxw=$w
	[ "$(audit done)" -ge 30000 ] && break
	sleep 0.1
done
cli wait-done 30000 --timeout 60 >/dev/null || { cli audit; fail "not all jobs done"; }
expect_eq "acked once" "$(audit acked_once)" 30000
expect_eq "acked more than once" "$(audit acked_multi)" 0
expect_eq "delivered more than once" "$(audit delivered_multi)" 0
[ "$maxw" -gt 1 ] || fail "the FETCH window never grew past 1 while draining"
fetches=$(sfield .fetches)
awk -v f="$fetches" 'BEGIN { exit !(f <= 30000 * 1.05) }' ||
	fail "$fetches FETCHes for 30000 jobs: more than 1.05 per job"

# Idle: one long poll per child, blocked (10 s) at the broker.
one_each() { [ "$(sfield '[.children[] | .fetching == 1 and .fetch_window == 1] | all')" = true ]; }
wait_for 15 one_each || fail "not back to one FETCH per child: $(status_json | jq -c '[.children[] | {fetching, fetch_window}]')"
for i in 1 2 3; do
	t0=$(now_s)
	cli push -n 1 --jobtype noop --prefix "idle$i" >/dev/null
	cli wait-done $((30000 + i)) --timeout 5 >/dev/null ||
	    fail "job $i on an idle host not ACKed within 5 s: the ACK waited behind a FETCH"
	el=$(elapsed "$t0")
done
expect_eq "pending" "$(audit pending)" 0
echo "# 64 slots, 8 connections (9 at the broker with the heartbeat): 30000 jobs ACKed once," \
    "$fetches FETCHes, window up to $maxw while draining, back to 1 per child when idle;" \
    "an idle host's ACK not held by the blocked long poll (last job done in ${el}s)"
