#!/bin/bash
# The master heartbeats Faktory for the whole host (one wid). A quiet
# requested at the server reaches every child through the next BEAT reply:
# running jobs finish, nothing new is fetched, the process keeps running.
# Then terminate stops the host gracefully (exit 0).
. "$(dirname "$0")/lib.sh"
start_broker
# One slot per connection: then at most one FETCH per slot is out when quiet
# arrives, and the 2.5 s below covers it. With slots sharing a connection their
# FETCHes queue up there, ~2 s each, and may bring jobs for that much longer.
CPUS=2 CONCURRENCY=20 HEARTBEAT=5 sup_conf "$T/f.conf"
start_fkworker "$T/f.conf"
wait_ready 20
wid=$(sfield .wid)
expect_eq "wid length" "${#wid}" 16
wait_for 10 sh -c "$B/fkcli -u $BROKER_URL XWORKERS | jq -e '.[\"$wid\"].beats > 0'" ||
	fail "no BEAT from the master: $(cli XWORKERS)"
cli push -n 10 --jobtype sleep --args '[3000]' --prefix busy --batch 10 >/dev/null
wait_for 10 sh -c "[ \$($B/fkcli -u $BROKER_URL XSTATS | jq .working) -ge 10 ]" || fail "jobs not started"
cli "XSTATE $wid quiet" >/dev/null
wait_for 8 is_state quiet || fail "state $(sfield .state) after the server asked for quiet"
# A FETCH already out when quiet arrived may still bring a job (the server
# holds it up to 2 s); from then on nothing is asked for.
sleep 2.5
cli push -n 5 --jobtype noop --prefix after >/dev/null
cli wait-done --timeout 10 10 >/dev/null || fail "running jobs did not finish while quiet"
sleep 2.5
expect_eq "jobs fetched while quiet" "$(job_field after-00000001 delivered)" 0
kill -0 "$FKW_PID" || fail "quiet master exited"
expect_eq "state the broker has" "$(cli XWORKERS | jq -r ".[\"$wid\"].state")" quiet
cli "XSTATE $wid terminate" >/dev/null
wait_exit "$FKW_PID" 15
expect_eq "exit status after terminate" "$EXIT_RC" 0
expect_log "the Faktory server asked to terminate"
echo "# quiet and terminate relayed from the broker's BEAT replies"
