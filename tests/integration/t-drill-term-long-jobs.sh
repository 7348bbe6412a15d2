#!/bin/bash
# Drill 6: SIGTERM during load, with long sleep jobs that outlive
# shutdown_timeout. The master must exit 0 within shutdown_timeout + 2 s,
# leave no child behind and nothing reserved at the server: the short jobs in
# hand finish and are ACKed, the long ones are FAILed (errtype Shutdown) when
# the timeout ends, and a job whose FETCH reply arrives after TERM is FAILed
# unstarted. fkworker is then started again (as after a deploy) and every job
# must end processed; the only duplicates are the jobs FAILed at shutdown.
. "$(dirname "$0")/lib-drill.sh"

NL=$(drill_pick 40 40 6)
NS=$(drill_pick 12000 5000 300)
LONG_MS=$(drill_pick 6000 6000 6000)
ST=3
CONC=$(drill_pick 100 100 20)
CPUS=2 CONCURRENCY=$CONC SHUTDOWN_TIMEOUT=$ST drill_up --retry-delay-ms 0 --reap-s 86400
cli push -n "$NL" --jobtype sleep --args "[$LONG_MS]" --prefix long --batch 100 >/dev/null
cli push -n "$NS" --jobtype sleep --args '[50]' --prefix short --batch 1000 >/dev/null
busy() { [ "$(stat_field working)" -ge $((CONC * 9 / 10)) ]; }
wait_for "$(drill_secs 10)" busy || fail "not busy: $(cli XSTATS)"
sleep 0.5
pids=$(child_pids)
t0=$(now_s)
kill -TERM "$FKW_PID"
wait_exit "$FKW_PID" $((ST + $(drill_secs 2) + 5))
el=$(elapsed "$t0")
expect_eq "exit status after TERM" "$EXIT_RC" 0
awk "BEGIN{exit !($el <= $ST + $(drill_secs 2))}" || fail "took ${el}s to stop; shutdown_timeout is $ST"
no_process $pids
expect_eq "jobs still reserved at the server after the exit" "$(stat_field working)" 0

# What happened to each job in flight: long ones FAILed at the timeout, short ones ACKed or FAILed unstarted.
drill_jobs long "$NL" >"$T/long1.json"
drill_jobs short "$NS" >"$T/short1.json"
long_failed=$(jq -s '[.[] | select(.failed > 0)] | length' "$T/long1.json")
bad_long=$(jq -s -c '[.[] | select(.delivered > 0 and (.failed != 1 or .errtype != "Shutdown" or .acked != 0)) | .jid] | .[:5]' "$T/long1.json")
expect_eq "long jobs not FAILed as Shutdown" "$bad_long" "[]"
[ "$long_failed" -gt 0 ] || fail "no long job was running at TERM"
short_cut=$(jq -s -c '[.[] | select(.failed > 0 and (.message | test("not started") | not))] | map(.jid + ": " + .errtype + ": " + .message) | .[:3]' "$T/short1.json")
expect_eq "short jobs interrupted although they fit in shutdown_timeout" "$short_cut" "[]"
short_unstarted=$(jq -s '[.[] | select(.failed > 0)] | length' "$T/short1.json")
logged=$(grep -o 'stopping: [0-9]* running job(s) FAILed' "$T/fkworker.log" | awk '{ s += $2 } END { print s + 0 }')
expect_eq "jobs the children logged as FAILed at the timeout" "$logged" "$long_failed"
done_at_exit=$(audit done)

# Started again: everything left runs, the long ones from the start.
SHUTDOWN_TIMEOUT=$((LONG_MS / 1000 + 5)) CPUS=2 CONCURRENCY=$CONC sup_conf "$T/f.conf"
drill_start_fkworker "$T/f.conf"
wait_ready "$(drill_secs 20)"
drill_wait_n $((NL + NS)) "$(drill_secs 40)" || fail "jobs not done after the restart: $(cli audit)"
drill_stop_fkworker
drill_verify long "$NL" "Shutdown=long jobs FAILed as Shutdown when shutdown_timeout ran out, run again after the restart"
l_dups=$DV_DUPS l_proc=$DV_PROCESSED
drill_verify short "$NS" "Shutdown=short jobs whose FETCH reply arrived after TERM, FAILed unstarted and run after the restart"
drill_report term-long-jobs $((NL + NS)) $((l_proc + DV_PROCESSED)) $((l_dups + DV_DUPS)) \
	"$l_dups long jobs FAILed as Shutdown after shutdown_timeout ${ST}s; $DV_DUPS short ones FAILed unstarted" "$DV_LOST" \
	"exited 0 in ${el}s after TERM with $long_failed long jobs FAILed, $short_unstarted short ones FAILed unstarted, 0 reserved; $done_at_exit done before the restart"
