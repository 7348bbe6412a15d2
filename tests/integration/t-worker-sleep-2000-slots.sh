#!/bin/bash
# 2000 sleeping jobs in flight at once in one child: timers, not blocked loops.
# (The broker allows more than the real server's 2000 connections so that the test can still ask it.)
. "$(dirname "$0")/lib.sh"
ulimit -n 8192
start_broker --max-conns 4000
CONCURRENCY=2000 write_conf "$T/w.conf"
cli push -n 2000 --jobtype sleep --args '[3000]' --prefix s --batch 500 >/dev/null
start_single "$T/w.conf"
# Every job sleeps 3 s; if the loop blocked on one, 2000 could never be reserved together.
max=0
for _ in $(seq 1 50); do
	w=$(stat_field working)
	[ "$w" -gt "$max" ] && max=$w
	[ "$max" -ge 2000 ] && break
	sleep 0.1
done
[ "$max" -ge 2000 ] || fail "at most $max jobs in flight at once, want 2000"
cli wait-done 2000 --timeout 30 >/dev/null || fail "sleep jobs not done"
expect_eq "acked once" "$(audit acked_once)" 2000
echo "# 2000 sleep jobs: $max in flight at once"
stop_pid $WRK_PID 10
