#!/bin/bash
# Drill 8: garbage from the server. Once every slot is connected, every Nth
# reply of the broker is replaced by random bytes. A slot that reads garbage
# must drop its connection and reconnect (resending an unconfirmed ACK or
# FAIL); no process may crash; every job must end processed. Garbage in place
# of a FETCH reply loses that job's delivery: the job stays reserved at the
# server with nobody working on it, and the broker's clock is moved past
# reserve_for so that it comes back (real Faktory: after 30 minutes).
. "$(dirname "$0")/lib-drill.sh"
# Garbage in place of a reply loses it and every reply after it on that
# connection; a connection closed on garbage leaves its FETCHes to run
# orphaned at the server.
DRILL_LOSSES="garbled orphaned"

N=$(drill_pick 20000 6000 500)
CONC=$(drill_pick 100 60 10)
EVERY=$(drill_pick 97 97 23)
CPUS=2 CONCURRENCY=$CONC drill_up --retry-delay-ms 0 --reap-s 86400
kids=$(child_pids | sort | tr '\n' ' ')
cli "XFAULT garbage_every $EVERY" >/dev/null
cli push -n "$N" --jobtype noop --prefix g --batch 1000 >/dev/null
drill_wait_done "$N" "$(drill_secs 30)"
cli "XFAULT garbage_every 0" >/dev/null
kill -0 "$FKW_PID" || fail "the master died"
expect_eq "children (same processes)" "$(child_pids | sort | tr '\n' ' ')" "$kids"
expect_eq "children restarted" "$(sfield .restarts)" 0
grep -q "connection(s) lost" "$T/fkworker.log" || fail "no reconnect logged"
lost=$(grep -o '[0-9]* connection(s) lost' "$T/fkworker.log" | awk '{ s += $1 } END { print s + 0 }')
wait_for "$(drill_secs 20)" drill_all_connected || fail "slots not all connected after the garbage"
drill_stop_fkworker
drill_verify g "$N" \
	"ReservationExpired=FETCH replies replaced by garbage, redelivered once XTIME ended their reservation (never ran twice)"
expect_eq "jobs run to completion twice" "$DV_RAN_TWICE" 0
noop=$(echo "$DV_JSON" | jq .ack_noop)
drill_report garbage-replies "$DV_PUSHED" "$DV_PROCESSED" "$DV_DUPS" "$DV_CAUSE" "$DV_LOST" \
	"every ${EVERY}th reply garbage: $lost reconnects, deliveries lost: $DV_WIRE; $noop ACKs resent after their +OK was garbled, $DRILL_XTIME clock moves, no process restarted"
