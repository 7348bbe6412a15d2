#!/bin/bash
# Coalescing (worker.coalesce_us, shipped 1000; worker/wrk_coalesce.c) against
# fkbroker serving one command per connection per turn like the real server:
# - jobs picked up promptly (4000 a second pushed to a host that keeps up): the
#   loop naps for at most 2% of the jobs (a stall on this machine may engage it
#   for a moment; engaged throughout it naps for about a third of them);
# - a backlog (jobs queued before the start, --cost-us 300: the server sets the
#   pace): the loop naps, and every job is ACKed exactly once.
. "$(dirname "$0")/lib.sh"
start_broker --cost-us 100 --reap-s 86400
CPUS=1 CONCURRENCY=64 sup_conf "$T/f.conf" "connections = 16;"
start_fkworker "$T/f.conf"
wait_ready 20

P=12000
cli push -n $P --jobtype noop --prefix p --batch 10 --rate 4000 >/dev/null
cli wait-done $P --timeout 60 >/dev/null || { cli audit; fail "paced jobs not done"; }
naps=$(sfield .naps)
p99=$(sfield .pickup_p99_us)
awk -v z="$naps" -v n=$P 'BEGIN { exit !(z <= 0.02 * n) }' ||
	fail "$naps naps for $P jobs picked up promptly (pickup p99 $p99 us)"

# A backlog: the server's own CPU sets the pace, pushes outrun it.
cli XFAULT cost_us 300 >/dev/null
N=6000
cli push -n $N --jobtype noop --prefix b --batch 1000 >/dev/null
cli wait-done $((P + N)) --timeout 120 >/dev/null || { cli audit; fail "backlog not done"; }
bnaps=$(($(sfield .naps) - naps))
expect_eq "acked once" "$(audit acked_once)" $((P + N))
expect_eq "acked more than once" "$(audit acked_multi)" 0
awk -v z="$bnaps" -v n=$N 'BEGIN { exit !(z >= 0.01 * n) }' ||
	fail "$bnaps naps for a backlog of $N jobs: coalescing never engaged"
echo "# paced 4000/s: $naps naps for $P jobs (pickup p99 $p99 us); backlog: $bnaps naps for $N jobs"
