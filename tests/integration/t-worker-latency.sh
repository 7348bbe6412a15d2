#!/bin/bash
# 1 ms added to every broker reply: the worker keeps many jobs in flight at once so the
# work keeps flowing (a worker that waited for each round trip before the next would
# never hold more than one job at the broker), and nothing is lost.
. "$(dirname "$0")/lib.sh"
start_broker --latency-us 1000
CONCURRENCY=400 write_conf "$T/w.conf"
cli push -n 20000 --jobtype noop --prefix l --batch 1000 >/dev/null
start_single "$T/w.conf"
# The most jobs the broker had handed out and not yet seen reported, sampled.
peak=0
for _ in $(seq 1 900); do
	x=$(cli XSTATS)
	w=$(echo "$x" | jq .working)
	[ "$w" -gt "$peak" ] && peak=$w
	[ "$(echo "$x" | jq .acked)" -ge 20000 ] && break
	sleep 0.05
done
cli wait-done 20000 --timeout 90 >/dev/null || fail "jobs not done"
expect_eq "acked once" "$(audit acked_once)" 20000
[ "$peak" -ge 10 ] || fail "at most $peak jobs in flight at once through 1 ms replies: the worker serialises its round trips"
report "latency 1 ms"
echo "# up to $peak jobs in flight at once"
stop_pid $WRK_PID 10
