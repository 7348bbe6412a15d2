#!/bin/bash
# Drill 4: the broker cuts every worker connection at its Nth command, for the
# whole fkworker (master and two children): on half the connections that
# command runs and its reply is lost, on the other half it never runs. Slots
# reconnect with backoff; an ACK whose +OK was lost is sent again (the server
# answers +OK and does nothing: ack_noop) and an ACK that never ran is sent
# again and finishes its job, each exactly once. A FETCH whose reply was cut
# leaves its job reserved at the server with nobody working on it; the
# broker's clock is moved past reserve_for so that those jobs come back, as
# real Faktory does after 30 minutes. Only jobs whose delivery fkbroker itself
# cut may come back that way (DRILL_LOSSES=cut); none may run twice.
. "$(dirname "$0")/lib-drill.sh"
DRILL_LOSSES=cut

N=$(drill_pick 20000 6000 500)
CONC=$(drill_pick 100 60 10)
DROP=$(drill_pick 40 40 20)
CPUS=2 CONCURRENCY=$CONC drill_up --retry-delay-ms 0 --reap-s 86400
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
	"ReservationExpired=FETCH replies cut, redelivered once XTIME ended their reservation (never ran twice)"
expect_eq "jobs run to completion twice" "$DV_RAN_TWICE" 0
# Every ACK that ran but lost its +OK was sent again and answered +OK for nothing, once.
x=$(cli XSTATS)
ran=$(echo "$x" | jq '.cut_ran.ACK // 0')
unrun=$(echo "$x" | jq '.cut_unrun.ACK // 0')
noop=$(echo "$DV_JSON" | jq .ack_noop)
# Which command a cut hits is chance; over a run some ACKs are (and every command a cut
# left unread never ran: those ACKs must be resent too, or their jobs are lost above).
[ $((ran + unrun)) -gt 0 ] ||
	fail "the drill cut no ACK (ran $ran, never ran $unrun): it did not test the resend"
# Each ACK that ran with its +OK cut was resent and answered +OK for nothing; so were
# ACKs that ran earlier in the batch the cut discarded the replies of.
[ "$noop" -ge "$ran" ] || fail "only $noop ACKs resent for nothing; $ran ran with their +OK cut"
drill_report broker-drops "$DV_PUSHED" "$DV_PROCESSED" "$DV_DUPS" "$DV_CAUSE" "$DV_LOST" \
	"cut at every ${DROP}th command: $drops reconnects; deliveries fkbroker cut: $DV_WIRE; $ran ACKs ran with their +OK cut ($noop resent and answered +OK for nothing), $unrun cut before they ran, resent and run; $DRILL_XTIME clock moves, $DV_RAN_TWICE ran twice"
