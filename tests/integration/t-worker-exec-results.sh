#!/bin/bash
# exec handlers: exit 0 is ACK; a non-zero exit, a signal or a command that cannot run is FAIL
# "ExecFailed" with the tail of stderr. The command gets the job on stdin, its configured
# arguments, and FKW_JID / FKW_JOBTYPE / FKW_QUEUE; no zombie is left behind.
. "$(dirname "$0")/lib.sh"
J=$ROOT/tests/integration/jobs
start_broker
write_conf "$T/w.conf" "" "
	{ jobtype = \"ok\";      exec = [ \"$J/check-stdin.sh\" ]; timeout = 10; },
	{ jobtype = \"fail\";    exec = [ \"$J/fail.sh\" ]; timeout = 10; },
	{ jobtype = \"segv\";    exec = [ \"$J/segv.sh\" ]; },
	{ jobtype = \"env\";     exec = [ \"$J/env.sh\" ]; },
	{ jobtype = \"missing\"; exec = [ \"$T/vanish\", \"x\" ]; },
	{ jobtype = \"binary\";  exec = [ \"$J/stderr-binary.sh\" ]; },
	{ jobtype = \"flood\";   exec = [ \"$J/stderr-flood.sh\" ]; },
	"'{ jobtype = "argv"; exec = [ "/bin/sh", "-c", "echo $0 $1 >&2; exit 9", "zero", "one" ]; }'
cli push -n 50 --jobtype ok --args '["a", {"b": [1, 2]}]' --prefix ok --batch 50 >/dev/null
for t in fail segv env binary flood argv; do
	cli push -n 2 --jobtype $t --prefix $t --batch 2 --retry 0 >/dev/null
done
# A command must exist at start (fkworker refuses the file otherwise): this
# one goes away while the worker runs, and its jobs still fail cleanly.
printf '#!/bin/sh\nexit 0\n' >"$T/vanish"
chmod 755 "$T/vanish"
start_single "$T/w.conf"
wait_for 10 grep -q "connected" "$T/worker.log" || fail "worker not up: $(cat "$T/worker.log")"
rm "$T/vanish"
cli push -n 2 --jobtype missing --prefix missing --batch 2 --retry 0 >/dev/null
cli wait-done 64 --timeout 30 >/dev/null || { cli audit; fail "jobs not done"; }
expect_eq "ok acked" "$(job_field ok-00000050 acked)" 1
expect_eq "acked once" "$(audit acked_once)" 50
expect_eq "fail errtype" "$(job_field fail-00000001 errtype)" ExecFailed
expect_eq "fail message" "$(job_field fail-00000001 message)" "exit status 3: first line
disk full: /var/x"
expect_eq "segv message" "$(job_field segv-00000002 message)" "killed by signal SIGSEGV: about to crash"
expect_eq "env message" "$(job_field env-00000001 message)" \
	"exit status 5: jid=env-00000001 jobtype=env queue=default"
expect_eq "missing errtype" "$(job_field missing-00000001 errtype)" ExecFailed
expect_eq "missing message" "$(job_field missing-00000001 message)" \
	"cannot run $T/vanish: No such file or directory"
expect_eq "binary message" "$(job_field binary-00000001 message)" "exit status 1: ?ok?x"
expect_eq "argv message" "$(job_field argv-00000001 message)" "exit status 9: zero one"
m=$(job_field flood-00000001 message)
case "$m" in
"exit status 2: xxx"*xEND) ;;
*) fail "flood message: ${m:0:40}...${m: -10}" ;;
esac
[ ${#m} -le 1000 ] || fail "flood message is ${#m} bytes"
kill -0 $WRK_PID || fail "worker died"
kids=$(ps -o pid=,stat=,args= --ppid $WRK_PID || true)
[ -z "$kids" ] || fail "children left: $kids"
echo "# exec: 50 ACKed (job on stdin), 14 FAILed with exit status, signal, ENOENT and stderr tails"
stop_pid $WRK_PID 10
