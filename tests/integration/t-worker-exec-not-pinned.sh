#!/bin/bash
# An exec command runs on the CPUs the child had before it pinned itself to its core
# (worker.cpu_affinity, on by default), not on that core alone: a command is a program of its
# own, started off the loop by spawner threads that keep those CPUs; confined to the child's
# core it would take it from the loop it reports to. The command here reports its own
# Cpus_allowed_list (as its FAIL message), checked against the master's.
. "$(dirname "$0")/lib.sh"
start_broker
CPUS=1 CONCURRENCY=2 sup_conf "$T/f.conf" "" "
	{ jobtype = \"cpus\"; exec = [ \"/bin/sh\", \"-c\", \"grep Cpus_allowed_list /proc/self/status >&2; exit 1\" ]; timeout = 30; },"
start_fkworker "$T/f.conf"
wait_ready 20
cpus() { awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$1/status"; }
all=$(cpus "$FKW_PID")
child=$(child_pid 0)
[ -n "$child" ] || fail "no child 0"
[ "$all" != "$(cpus "$child")" ] || skip "the master may run on one CPU only ($all): nothing to tell apart"
expect_eq "child 0 pinned" "$(cpus "$child")" 0
cli push -n 1 --jobtype cpus --prefix cpus --retry 0 >/dev/null
cli wait-done 1 --timeout 20 >/dev/null || fail "job not done: $(cli "XJOB cpus-00000001")"
expect_eq "command's CPUs" "$(job_field cpus-00000001 message)" "exit status 1: Cpus_allowed_list:	$all"
echo "# child pinned to CPU 0; its exec command may run on $all"
