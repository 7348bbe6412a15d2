#!/bin/bash
# worker.pipelining = false: no command is written on a connection before the reply to
# the one before it has arrived (fkbroker counts every command a client sent early:
# XSTATS pipelined), and every job still gets exactly one ACK. The same workload with
# pipelining on does pipeline (the ACK and the next FETCH in one write), so the count
# is not 0 by accident.
. "$(dirname "$0")/lib.sh"
run() {
	start_broker
	CONCURRENCY=20 write_conf "$T/w.conf" "pipelining = $1;"
	cli push -n 5000 --jobtype noop --prefix p --batch 500 >/dev/null
	start_single "$T/w.conf"
	cli wait-done 5000 --timeout 60 >/dev/null || fail "pipelining $1: jobs not done"
	expect_eq "pipelining $1: acked once" "$(audit acked_once)" 5000
	expect_eq "pipelining $1: acked more than once" "$(audit acked_multi)" 0
	PIPELINED=$(stat_field pipelined)
	stop_pid $WRK_PID 10
	stop_pid $BROKER_PID 5
}
run false
off=$PIPELINED
expect_eq "commands sent before the previous reply, pipelining off" "$off" 0
run true
on=$PIPELINED
[ "$on" -gt 0 ] || fail "pipelining on sent no command ahead of a reply: the check above proves nothing"
echo "# 5000 jobs, pipelining off: 0 commands sent ahead of a reply; on: $on"
