#!/bin/bash
# Many exec jobs at once: every one reported once, no zombies; prints the CPU cost per job.
. "$(dirname "$0")/lib.sh"
J=$ROOT/tests/integration/jobs
N=${N:-1000}
start_broker
CONCURRENCY=50 write_conf "$T/w.conf" "" "
	{ jobtype = \"true\"; exec = [ \"/bin/true\" ]; timeout = 30; },
	{ jobtype = \"fail\"; exec = [ \"$J/fail.sh\" ]; timeout = 30; }"
cli push -n $N --jobtype true --args '["x"]' --prefix t --batch 100 >/dev/null
cli push -n 100 --jobtype fail --prefix f --batch 100 --retry 0 >/dev/null
start_single "$T/w.conf"
wait_for 10 sh -c "[ \$($B/fkcli -u $BROKER_URL XSTATS | jq .working) -ge 1 ]" || fail "no job started"
tick=$(getconf CLK_TCK)
cpu0=$(awk '{print $14 + $15}' /proc/$WRK_PID/stat)
t0=$(date +%s%N)
cli wait-done $((N + 100)) --timeout 120 >/dev/null || { cli audit; fail "jobs not done"; }
t1=$(date +%s%N)
cpu1=$(awk '{print $14 + $15}' /proc/$WRK_PID/stat)
expect_eq "acked once" "$(audit acked_once)" $N
expect_eq "failed" "$(job_field f-00000100 errtype)" ExecFailed
kids=$(ps -o pid=,stat=,args= --ppid $WRK_PID || true)
[ -z "$kids" ] || fail "children left: $kids"
ms=$(( (t1 - t0) / 1000000 ))
echo "# exec /bin/true: $((N + 100)) jobs, 50 at a time, in ${ms} ms ($(( (N + 100) * 1000 / (ms > 0 ? ms : 1) )) jobs/s);" \
    "worker CPU $(( (cpu1 - cpu0) * 1000000 / tick / (N + 100) )) us/job (commands not included)"
stop_pid $WRK_PID 10
