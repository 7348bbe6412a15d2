#!/bin/bash
# When the server forgets the host's process record (reaped after a silence,
# its connections closed), the master and the children reconnect and say
# HELLO again: the wid is registered anew, BEATs resume and jobs flow.
. "$(dirname "$0")/lib.sh"
CPUS=2 CONCURRENCY=10 sup_up --reap-s 60
wid=$(sfield .wid)
beats0=$(cli XWORKERS | jq ".[\"$wid\"].beats")
# Two minutes pass at the server at once: no BEAT for that long, so it reaps us.
cli "XTIME 120" >/dev/null
wait_for 10 sh -c "grep -q 'reaping worker $wid' $T/broker.log" || fail "the broker did not reap: $(cat "$T/broker.log")"
registered() { cli XWORKERS | jq -e ".[\"$wid\"].conns >= 1" >/dev/null; }
wait_for 15 registered || fail "wid $wid not registered again: $(cli XWORKERS)"
expect_log "faktory: .*reconnect"
cli push -n 1000 --jobtype noop --prefix r >/dev/null
cli wait-done --timeout 30 1000 >/dev/null || fail "jobs not processed after the reap"
wait_for 10 sh -c "[ \$($B/fkcli -u $BROKER_URL XWORKERS | jq '.[\"$wid\"].beats') -ge 1 ]" ||
	fail "no BEAT after registering again"
echo "# reaped by the server, registered again, 1000 jobs done after"
