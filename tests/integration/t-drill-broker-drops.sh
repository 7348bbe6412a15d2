#!/bin/bash
# Drill 4: the broker drops every worker connection after N commands (the
# Nth command runs, its reply is lost), for the whole fkworker (master and
# two children). Slots reconnect with backoff, an ACK or FAIL whose +OK was
# lost is sent again (the server answers +OK and does nothing), and nothing is
# lost. A FETCH whose reply was cut off leaves its job reserved at the server
# with nobody working on it; the broker's clock is moved past reserve_for so
# that those jobs come back, as real Faktory does after 30 minutes. Those are
# the only jobs allowed to be delivered twice, and none may run twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wrk.sh"
. "$(dirname "$0")/lib-sup.sh"
. "$(dirname "$0")/lib-drill.sh"

N=$(drill_pick 20000 6000 500)
CONC=$(drill_pick 100 60 10)
DROP=$(drill_pick 40 40 20)
start_broker --retry-delay-ms 0 --reap-s 86400
CPUS=2 CONCURRENCY=$CONC sup_conf "$T/f.conf"
drill_start_fkworker "$T/f.conf"
wait_ready "$(drill_secs 20)"
# Faults from now on: the handshakes above were clean, every command after counts.
cli "XFAULT drop_after $DROP" >/dev/null
cli push -n "$N" --jobtype noop --prefix d --batch 1000 >/dev/null
drill_wait_done "$N" "$(drill_secs 30)"
kill -0 "$FKW_PID" || fail "fkworker died"
expect_eq "children restarted" "$(sfield .restarts)" 0
grep -q "connection(s) lost" "$T/fkworker.log" || fail "no reconnect logged"
drops=$(grep -o '[0-9]* connection(s) lost' "$T/fkworker.log" | awk '{ s += $1 } END { print s + 0 }')
cli "XFAULT drop_after 0" >/dev/null
wait_for "$(drill_secs 20)" drill_all_connected || fail "slots not all connected after the drops"
drill_stop_fkworker
drill_verify d "$N" \
	"ReservationExpired=FETCH replies lost in a drop, redelivered once XTIME ended their reservation (never ran twice)"
expect_eq "jobs run to completion twice" "$DV_RAN_TWICE" 0
noop=$(echo "$DV_JSON" | jq .ack_noop)
drill_report broker-drops "$DV_PUSHED" "$DV_PROCESSED" "$DV_DUPS" "$DV_CAUSE" "$DV_LOST" \
	"dropped after every $DROP commands: $drops reconnects, $noop ACKs resent after their +OK was lost, $DRILL_XTIME clock moves, 0 ran twice"
