#!/bin/bash
# An exec job past its timeout is FAILed "Timeout"; its whole process group gets SIGTERM, then
# SIGKILL 2 s later if it ignores SIGTERM; the slot runs other jobs meanwhile; nothing is left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wrk.sh"
J=$ROOT/tests/integration/jobs
export FKW_TEST_PIDFILE=$T/pids
# gone PID: no such process, or a zombie (reaped by init later, or not at all in a container).
gone() { ! [ -e /proc/$1 ] || grep -q '^[0-9]* (.*) [ZX] ' /proc/$1/stat 2>/dev/null; }
start_broker
CONCURRENCY=1 write_conf "$T/w.conf" "" "
	{ jobtype = \"hang\";     exec = [ \"$J/hang.sh\" ]; timeout = 1; },
	{ jobtype = \"stubborn\"; exec = [ \"$J/hang-ignore-term.sh\" ]; timeout = 1; },
	{ jobtype = \"ok\";       exec = [ \"$J/ok.sh\" ]; timeout = 5; }"
start_single "$T/w.conf"

cli push -n 1 --jobtype hang --prefix hang --retry 0 >/dev/null
wait_for 10 test -s "$FKW_TEST_PIDFILE" || fail "hang.sh did not start"
read -r sh1 bg1 <"$FKW_TEST_PIDFILE"
rm -f "$FKW_TEST_PIDFILE"
cli wait-done 1 --timeout 10 >/dev/null || fail "hang job not done"
expect_eq "hang errtype" "$(job_field hang-00000001 errtype)" Timeout
wait_for 2 gone $sh1 || fail "hang.sh $sh1 survived"
wait_for 2 gone $bg1 || fail "hang.sh's background process $bg1 survived SIGTERM to the group"

# One slot: the job after a SIGTERM-proof one runs while the old command still dies.
cli push -n 1 --jobtype stubborn --prefix stub --retry 0 >/dev/null
wait_for 10 test -s "$FKW_TEST_PIDFILE" || fail "hang-ignore-term.sh did not start"
read -r sh2 bg2 <"$FKW_TEST_PIDFILE"
cli wait-done 2 --timeout 10 >/dev/null || fail "stubborn job not done"
t0=$(date +%s%N)
expect_eq "stubborn errtype" "$(job_field stub-00000001 errtype)" Timeout
cli push -n 20 --jobtype ok --prefix ok --batch 20 >/dev/null
cli wait-done 22 --timeout 10 >/dev/null || fail "jobs after the timeout not done"
el=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ $el -lt 1500 ]; then
	! gone $sh2 || fail "SIGTERM-proof command died before SIGKILL (${el} ms)"
fi
wait_for 4 gone $sh2 || fail "stubborn shell $sh2 survived SIGKILL"
wait_for 1 gone $bg2 || fail "stubborn background $bg2 survived SIGKILL"
expect_eq "ok acked" "$(audit acked_once)" 20
sleep 0.3
kids=$(ps -o pid=,stat=,args= --ppid $WRK_PID || true)
[ -z "$kids" ] || fail "children left: $kids"
kill -0 $WRK_PID || fail "worker died"
echo "# exec timeout: group SIGTERMed; SIGTERM-proof group SIGKILLed after 2 s; 20 jobs ran meanwhile (${el} ms)"
stop_pid $WRK_PID 10
