#!/bin/bash
# With pipelining off every job still gets exactly one ACK.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wrk.sh"
start_broker
CONCURRENCY=20 write_conf "$T/w.conf" "pipelining = false;"
cli push -n 5000 --jobtype noop --prefix p --batch 500 >/dev/null
start_single "$T/w.conf"
cli wait-done 5000 --timeout 60 >/dev/null || fail "jobs not done"
expect_eq "acked once" "$(audit acked_once)" 5000
expect_eq "acked more than once" "$(audit acked_multi)" 0
stop_pid $WRK_PID 10
