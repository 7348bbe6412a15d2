#!/bin/bash
# SIGTERM with jobs running that outlive shutdown_timeout: the master exits 0
# within shutdown_timeout + 2 s, every fetched job is ACKed or FAILed (nothing
# stays reserved at the server), the long ones FAILed with errtype Shutdown.
. "$(dirname "$0")/lib.sh"
CPUS=2 CONCURRENCY=100 SHUTDOWN_TIMEOUT=2 sup_up
cli push -n 60 --jobtype sleep --args '[30000]' --prefix long --batch 60 --retry 0 >/dev/null
cli push -n 4000 --jobtype sleep --args '[20]' --prefix short --batch 1000 >/dev/null
wait_for 10 sh -c "[ \$($B/fkcli -u $BROKER_URL XSTATS | jq .working) -ge 90 ]" ||
	fail "not busy: $(stat_field working) working"
pids=$(child_pids)
t0=$(now_s)
kill -TERM "$FKW_PID"
wait_exit "$FKW_PID" 8
el=$(elapsed "$t0")
expect_eq "exit status" "$EXIT_RC" 0
awk "BEGIN{exit !($el <= 4.0)}" || fail "took ${el}s to stop; shutdown_timeout is 2"
no_process $pids
expect_eq "jobs still reserved at the server" "$(stat_field working)" 0
expect_eq "long job errtype" "$(job_field long-00000001 errtype)" Shutdown
a=$(cli audit)
echo "# TERM under load: exited in ${el}s; $(echo "$a" | jq .done) done," \
    "$(echo "$a" | jq .pending) never fetched, 0 reserved"
