#!/bin/bash
# An idle host with 2000 slots, after a burst of work: the shipped connection count
# ("auto": 32 per child), and one FETCH per child every FETCH wait (2 s) reaching the
# server, not one per slot (faktory_worker_go at concurrency 2000 sends ~1000 FETCH/s)
# nor one per connection (the window falls back to one when the queues run dry).
. "$(dirname "$0")/lib.sh"
start_broker --service-us 150 --reap-s 86400
CPUS=2 CONCURRENCY=2000 sup_conf "$T/f.conf"
want=$("$B/fkworker" -nn -c "$T/f.conf" | sed -n 's/^[[:space:]]*connections = "auto";[[:space:]]*# = \([0-9]*\),.*/\1/p')
[ -n "$want" ] || fail "fkworker -nn does not resolve worker.connections"
start_fkworker "$T/f.conf"
wait_ready 20
wid=$(sfield .wid)
expect_eq "connections (status)" "$(sfield .connections)" "$want"
expect_eq "connections at the broker (and the heartbeat)" \
    "$(cli XWORKERS | jq -r --arg w "$wid" '.[$w].conns')" $((want + 1))
cli push -n 20000 --jobtype noop --prefix burst --batch 1000 >/dev/null
cli wait-done 20000 --timeout 60 >/dev/null || fail "burst not done"
sleep 3
c0=$(stat_field commands); f0=$(sfield .fetches)
sleep 10
c1=$(stat_field commands); f1=$(sfield .fetches)
# 2 children x (10 s / 2 s) long polls, one more each for the phase; BEAT every 15 s.
[ $((f1 - f0)) -le 12 ] || fail "$((f1 - f0)) FETCHes in 10 s from an idle host of 2 children"
[ $((c1 - c0)) -le 14 ] || fail "$((c1 - c0)) commands reached the server in 10 s from an idle host"
echo "# idle, 2000 slots on $want connections (+1 heartbeat): $((f1 - f0)) FETCHes and" \
    "$((c1 - c0)) commands in 10 s (bound: 1 FETCH per child per 2 s)"
