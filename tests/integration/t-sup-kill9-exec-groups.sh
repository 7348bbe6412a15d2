#!/bin/bash
# kill -9 of a child running exec jobs: its commands live in process groups of their own, so
# nothing the kernel does ends them. The master kills the groups the dead child had (recorded
# in the shared in-flight table) when it reaps it: a running job's command and background
# process, and a timed-out job's command still in its SIGTERM grace (it ignores SIGTERM, and the
# child that would have sent the SIGKILL is gone), are all gone within 2 s; the running job is
# FAILed WorkerCrash.
. "$(dirname "$0")/lib.sh"
J=$ROOT/tests/integration/jobs
# pid_gone (lib.sh) takes a zombie for gone: reaped by init later, or not at all in a container.
start_broker
CPUS=1 CONCURRENCY=4 sup_conf "$T/f.conf" "" "
	{ jobtype = \"hang\"; exec = [ \"/bin/sh\", \"-c\", \"FKW_TEST_PIDFILE=$T/run exec $J/hang.sh\" ]; timeout = 60; },
	{ jobtype = \"stubborn\"; exec = [ \"/bin/sh\", \"-c\", \"FKW_TEST_PIDFILE=$T/orphan exec $J/hang-ignore-term.sh\" ]; timeout = 1; },"
start_fkworker "$T/f.conf"
wait_ready 20
victim=$(child_pid 0)
[ -n "$victim" ] || fail "no child 0"

cli push -n 1 --jobtype stubborn --prefix stub --retry 0 >/dev/null
wait_for 10 test -s "$T/orphan" || fail "hang-ignore-term.sh did not start"
read -r osh obg <"$T/orphan"
# Stopped by pid at exit should the test fail with them still running.
track "$osh"; track "$obg"
cli push -n 1 --jobtype hang --prefix hang --retry 0 >/dev/null
wait_for 10 test -s "$T/run" || fail "hang.sh did not start"
read -r rsh rbg <"$T/run"
track "$rsh"; track "$rbg"
# The stubborn job timed out: its command got SIGTERM (ignored) and waits for the SIGKILL
# its child sends 2 s later. Kill the child before that.
is_timeout() { [ "$(job_field stub-00000001 errtype)" = Timeout ]; }
wait_for 10 is_timeout || fail "stubborn job not FAILed Timeout: $(cli "XJOB stub-00000001")"
all_alive() { ! pid_gone "$osh" && ! pid_gone "$obg" && ! pid_gone "$rsh" && ! pid_gone "$rbg"; }
all_alive || fail "a command ended before the child was killed"
t0=$(now_s)
kill -KILL "$victim"
gone() { pid_gone "$osh" && pid_gone "$obg" && pid_gone "$rsh" && pid_gone "$rbg"; }
wait_for 2 gone || fail "commands of the killed child still run 2 s later: $(ps -o pid=,pgid=,args= -p "$osh,$obg,$rsh,$rbg" || true)"
took=$(elapsed "$t0")
crash() { [ "$(job_field hang-00000001 errtype)" = WorkerCrash ]; }
wait_for 5 crash || fail "running exec job not FAILed WorkerCrash: $(cli "XJOB hang-00000001")"
expect_log "worker 0 \\(pid $victim\\): killed 2 exec process group\\(s\\)"
echo "# kill -9 of a child: its 2 exec process groups (one running, one in its SIGTERM grace) gone within ${took}s, the running job FAILed WorkerCrash"
