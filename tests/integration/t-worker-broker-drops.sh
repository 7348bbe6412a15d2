#!/bin/bash
# The broker cuts every worker connection at its 40th command (half the time the
# command runs and its reply is lost, half the time it never runs): one child without a
# master reconnects, resends every ACK the server did not confirm (each accepted exactly
# once: an ACK that ran and lost its +OK is answered +OK for nothing), and loses nothing.
# A FETCH whose reply was cut leaves its job reserved at the server; the test moves the
# broker's clock past the reservation so those jobs come back, as they would from real
# Faktory after reserve_for, and only those may (DRILL_LOSSES=cut).
. "$(dirname "$0")/lib-drill.sh"
DRILL_LOSSES=cut
# One child without a master sends no BEAT: keep the broker from reaping it.
start_broker --drop-after 40 --retry-delay-ms 0 --reap-s 86400
CONCURRENCY=20 write_conf "$T/w.conf"
cli push -n 3000 --jobtype noop --prefix d --batch 100 >/dev/null
start_single "$T/w.conf"
drill_wait_done 3000 30
grep -q "connection(s) lost" "$T/worker.log" || fail "no reconnect logged"
drill_verify d 3000 "ReservationExpired=FETCH replies cut, redelivered once XTIME ended their reservation"
expect_eq "processed twice" "$DV_RAN_TWICE" 0
x=$(cli XSTATS)
ran=$(echo "$x" | jq '.cut_ran.ACK // 0')
unrun=$(echo "$x" | jq '.cut_unrun.ACK // 0')
noop=$(echo "$DV_JSON" | jq .ack_noop)
# Which command a cut hits is chance; over a run some ACKs are (and every command a cut
# left unread never ran: those ACKs must be resent too, or their jobs are lost above).
[ $((ran + unrun)) -gt 0 ] || fail "no ACK cut (ran $ran, never ran $unrun): the resend was not tested"
# Each ACK that ran with its +OK cut was resent and answered +OK for nothing; so were
# ACKs that ran earlier in the batch the cut discarded the replies of.
[ "$noop" -ge "$ran" ] || fail "only $noop ACKs resent for nothing; $ran ran with their +OK cut"
echo "# cut at every 40th command: pushed 3000, processed $DV_PROCESSED, lost $DV_LOST," \
    "stranded $DRILL_STRANDED; deliveries cut: $DV_WIRE; $ran ACKs ran with their +OK cut, $noop resent" \
    "and answered +OK for nothing, $unrun were cut before they ran and were resent and run"
stop_pid $WRK_PID 10
