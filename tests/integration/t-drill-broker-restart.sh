#!/bin/bash
# Drill 2: the Faktory server restarted mid-run.
# Set A is pushed to the first broker and is being processed when that broker
# is killed (-9). A new broker starts on the same port after a second of
# downtime; every slot of every child, and the master's heartbeat connection,
# must reconnect to it, and set B, pushed to the new broker, must be processed
# completely with nothing lost and nothing run twice.
# fkbroker keeps its jobs in memory, so A's unfinished jobs die with the first
# broker (real Faktory keeps them in Redis); the drill reports A's fate as
# seen before the kill and asserts only what the worker controls.
. "$(dirname "$0")/lib-drill.sh"

NA=$(drill_pick 20000 6000 400)
NB=$(drill_pick 10000 4000 300)
CONC=$(drill_pick 200 100 20)
SLEEP_MS=$(drill_pick 20 20 100)
CPUS=2 CONCURRENCY=$CONC drill_up --retry-delay-ms 0 --reap-s 86400
port=$BROKER_PORT
old=$BROKER_PID
wid=$(sfield .wid)
CONNS=$(drill_conns_for "$T/f.conf") || fail "cannot read $T/f.conf back"
expect_eq "connections at the first broker" "$(drill_broker_conns "$wid")" "$CONNS"

cli push -n "$NA" --jobtype sleep --args "[$SLEEP_MS]" --prefix a --batch 1000 >/dev/null
quarter() { [ "$(audit done)" -ge $((NA / 4)) ]; }
wait_for "$(drill_secs 20)" quarter || fail "set A made no progress: $(cli audit)"
snap=$(cli audit)
a_done=$(echo "$snap" | jq .done)
a_working=$(stat_field working)

# The crash: no goodbye to anyone. The server's counters die with it.
DRILL_COUNTS_SKIP="the server was killed -9 and restarted, its counters with it"
kill -KILL "$old"
wait "$old" 2>/dev/null || true
t0=$(now_s)
lost_conn() { grep -q "connection(s) lost" "$T/fkworker.log"; }
wait_for "$(drill_secs 5)" lost_conn || fail "no slot noticed the broker was gone"
sleep 1
drill_restart_broker "$port" --retry-delay-ms 0 --reap-s 86400
[ "$(audit jobs)" = 0 ] || fail "the new broker is not empty"

# Every slot reconnects (fkworkerctl's view and the broker's).
wait_for "$(drill_secs 30)" drill_all_connected ||
	fail "slots not all reconnected: $(status_json | jq -c '{connected, slots}')"
broker_sees() { [ "$(drill_broker_conns "$wid")" = $CONNS ]; }
wait_for "$(drill_secs 20)" broker_sees ||
	fail "the new broker sees $(drill_broker_conns "$wid") connections of $wid, want $CONNS: $(cli XWORKERS)"
reconnected=$(elapsed "$t0")
beat_up() { [ "$(sfield .faktory_connected)" = true ]; }
wait_for "$(drill_secs 20)" beat_up || fail "the master's heartbeat connection did not come back"

cli push -n "$NB" --jobtype sleep --args "[$SLEEP_MS]" --prefix b --batch 1000 >/dev/null
drill_wait_n "$NB" "$(drill_secs 40)" || fail "set B not done: $(cli audit)"
kill -0 "$FKW_PID" || fail "fkworker died"
expect_eq "children restarted" "$(sfield .restarts)" 0
drill_stop_fkworker
drill_verify b "$NB"
expect_eq "set B jobs run twice" "$DV_DUPS" 0
drill_report broker-restart "$NB" "$DV_PROCESSED" "$DV_DUPS" "$DV_CAUSE" "$DV_LOST" \
	"set B, pushed to the new broker; all $CONNS connections back ${reconnected}s after the kill (1 s down); set A: $NA pushed to the old broker, $a_done done and $a_working in flight when it was killed -9, the rest lost with the broker's memory (fkbroker keeps no store; real Faktory keeps them in Redis)"
