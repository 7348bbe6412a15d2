#!/bin/bash
# TSTP = quiet (no new jobs, running ones finish); TERM = drain up to shutdown_timeout,
# FAIL what still runs (errtype Shutdown), exit 0 within the timeout.
. "$(dirname "$0")/lib.sh"
start_broker
CONCURRENCY=10 SHUTDOWN_TIMEOUT=2 write_conf "$T/w.conf"
cli push -n 10 --jobtype sleep --args '[500]' --prefix q --batch 10 >/dev/null
start_single "$T/w.conf"
wait_for 10 sh -c "[ \$($B/fkcli -u $BROKER_URL XSTATS | jq .working) -ge 10 ]" || fail "jobs not started"
kill -TSTP $WRK_PID
cli push -n 5 --jobtype noop --prefix after --batch 5 >/dev/null
cli wait-done 10 --timeout 10 >/dev/null || fail "running jobs did not finish after quiet"
sleep 2.5
expect_eq "jobs fetched after quiet" "$(job_field after-00000001 delivered)" 0
kill -0 $WRK_PID || fail "quiet worker exited"
stop_pid $WRK_PID 5

# TERM with jobs that outlive shutdown_timeout.
start_single "$T/w.conf"
cli push -n 5 --jobtype sleep --args '[60000]' --prefix long --batch 5 --retry 0 >/dev/null
wait_for 10 sh -c "[ \$($B/fkcli -u $BROKER_URL XSTATS | jq .working) -ge 5 ]" || fail "long jobs not started"
t0=$(date +%s.%N)
kill -TERM $WRK_PID
rc=0; wait $WRK_PID || rc=$?
t1=$(date +%s.%N)
expect_eq "exit status" $rc 0
el=$(echo "$t1 - $t0" | bc 2>/dev/null || awk "BEGIN{print $t1 - $t0}")
awk "BEGIN{exit !($el < 4.5)}" || fail "took ${el}s to stop, shutdown_timeout is 2"
expect_eq "long job errtype" "$(job_field long-00000001 errtype)" Shutdown
expect_eq "long job failed" "$(job_field long-00000005 failed)" 1
echo "# TERM with 5 long jobs: exited in ${el}s, 5 FAILed with Shutdown"
