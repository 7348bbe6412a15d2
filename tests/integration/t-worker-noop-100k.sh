#!/bin/bash
# 100k noop jobs through one child: every one ACKed exactly once, none lost.
. "$(dirname "$0")/lib.sh"
start_broker
CONCURRENCY=200 write_conf "$T/w.conf"
cli push -n 100000 --jobtype noop --prefix n --batch 1000 >/dev/null
start_single "$T/w.conf"
cli wait-done 100000 --timeout 120 >/dev/null || { cli audit; fail "not all jobs done"; }
expect_eq "jobs pushed" "$(audit jobs)" 100000
expect_eq "acked once" "$(audit acked_once)" 100000
expect_eq "acked more than once" "$(audit acked_multi)" 0
expect_eq "delivered more than once" "$(audit delivered_multi)" 0
expect_eq "failed" "$(audit failed)" 0
report "noop 100k"
stop_pid $WRK_PID 10
