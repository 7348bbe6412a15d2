#!/bin/bash
# 1 ms added to every broker reply: 400 slots keep the work flowing, nothing lost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wrk.sh"
start_broker --latency-us 1000
CONCURRENCY=400 write_conf "$T/w.conf"
cli push -n 20000 --jobtype noop --prefix l --batch 1000 >/dev/null
start_single "$T/w.conf"
cli wait-done 20000 --timeout 90 >/dev/null || fail "jobs not done"
expect_eq "acked once" "$(audit acked_once)" 20000
report "latency 1 ms"
stop_pid $WRK_PID 10
