#!/bin/bash
# issue 16, drill with worker.concurrency = "auto": the controller moving the
# slots live while the faults of the other drills hit. Set A: while auto
# grows the slots under a backlog, two children are killed -9 (each
# respawned with its current share of the host's concurrency, the master
# FAILing their in-flight jobs as WorkerCrash) and a live reload changes the
# controller's settings; every job of A ends processed. Then the broker is
# killed -9 and restarted on the same port: every connection comes back,
# auto keeps steering, and set B, pushed to the new broker, is processed
# with nothing lost, nothing run twice. Loses nothing, strands no more than
# the fixed-concurrency drills (a killed child's FETCHes at most, one per
# connection).
. "$(dirname "$0")/lib-drill.sh"
DRILL_LOSSES="cut orphaned unread"

NA=$(drill_pick 12000 5000 3000)
NB=$(drill_pick 6000 3000 300)
SLEEP_MS=$(drill_pick 100 100 500)
AUTO="concurrency_min = 4; concurrency_max = 300; cpu_target = 100; auto_interval_ms = 300;"
start_broker --retry-delay-ms 0 --reap-s 86400
port=$BROKER_PORT
CPUS=2 CONCURRENCY='"auto"' sup_conf "$T/f.conf" "$AUTO"
drill_start_fkworker "$T/f.conf"
wait_ready "$(drill_secs 20)"
expect_eq "concurrency at start" "$(sfield .concurrency)" 4

cli push -n "$NA" --jobtype sleep --args "[$SLEEP_MS]" --prefix a --batch 1000 >/dev/null
grown() { [ "$(sfield .slots)" -ge 40 ] && [ "$(sfield .busy)" -ge 20 ]; }
ready2() { [ "$(sfield '[.children[] | select(.pid > 0 and .state == "ready")] | length')" = 2 ]; }
kills=0 csum=0
for _ in 1 2; do
	wait_for "$(drill_secs 20)" grown || fail "auto did not grow: $(status_json | jq -c '{concurrency, slots, busy, auto_last}')"
	v=$(sfield '.children[] | select(.pid > 0 and .state == "ready") | .pid' | shuf -n 1)
	csum=$((csum + $(sfield ".children[] | select(.pid == $v) | .connections")))
	kill -KILL "$v"
	drill_note_killed "$v"
	kills=$((kills + 1))
	wait_for "$(drill_secs 8)" ready2 || fail "children not back after kill $kills"
	# The respawned child runs its share of the controller's concurrency, not the floor's.
	wait_for "$(drill_secs 5)" drill_all_connected ||
		fail "slots != concurrency after kill $kills: $(status_json | jq -c '{concurrency, slots, connected, connections}')"
done
# A live reload of the controller's settings while it works: no child replaced.
before=$(child_pids | sort | tr '\n' ' ')
CPUS=2 CONCURRENCY='"auto"' sup_conf "$T/f.conf" "${AUTO/auto_interval_ms = 300/auto_interval_ms = 250}"
ctl reload >"$T/out" 2>&1 || fail "reload refused: $(cat "$T/out")"
expect_eq "children after the live reload" "$(child_pids | sort | tr '\n' ' ')" "$before"
[ "$(audit done)" -lt "$NA" ] || fail "set A ran out before the faults: raise NA"
drill_wait_done "$NA" "$(drill_secs 60)"
drill_verify a "$NA" \
	"WorkerCrash=in flight in a killed child, FAILed by the master as WorkerCrash and retried" \
	"ReservationExpired=FETCH replies unread in a killed child's socket, redelivered once XTIME ended their reservation"
a_line="set A: $DV_PROCESSED of $NA processed, $DV_DUPS duplicates ($DV_CAUSE)"
[ "$DRILL_STRANDED" -le "$csum" ] ||
	fail "$DRILL_STRANDED jobs stranded by $kills kills of children holding $csum connections"

# The broker dies -9 and comes back empty on the same port.
DRILL_COUNTS_SKIP="the server was killed -9 and restarted, its counters with it"
kill -KILL "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null || true
sleep 1
drill_restart_broker "$port" --retry-delay-ms 0 --reap-s 86400
wait_for "$(drill_secs 30)" drill_all_connected ||
	fail "not all reconnected: $(status_json | jq -c '{concurrency, slots, connected, connections}')"
cli push -n "$NB" --jobtype sleep --args "[$SLEEP_MS]" --prefix b --batch 1000 >/dev/null
grew_again() { [ "$(sfield .slots)" -ge 20 ]; }
wait_for "$(drill_secs 20)" grew_again || fail "auto did not grow after the broker restart: $(sfield .auto_last)"
drill_wait_n "$NB" "$(drill_secs 60)" || fail "set B not done: $(cli audit)"
drill_stop_fkworker
drill_verify b "$NB"
expect_eq "set B jobs run twice" "$DV_DUPS" 0
drill_report auto "$NB" "$DV_PROCESSED" "$DV_DUPS" "$DV_CAUSE" "$DV_LOST" \
	"set B after a broker restart; $a_line, $kills kills of children while auto grew the slots, a live reload"
