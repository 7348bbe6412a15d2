#!/bin/bash
# A report's +OK and the job its pipelined FETCH brings wake a child once
# (SO_RCVLOWAT, worker/wrk_lowat.c), against fkbroker serving one command per
# connection per turn like the real server (--cost-us 100):
# - drained backlog: the child made fewer than 1.5 reads per job (the +OK and
#   the job read apart would be 2), and each job ACKed exactly once (coalescing
#   off: its naps would gather the two as well);
# - the +OK of a backlog's last jobs, held behind FETCHes that wait on the empty
#   queue (10 s here), is read within the hold: the host's processed count
#   matches the broker's within 1 s of its last ACK, three times over.
. "$(dirname "$0")/lib.sh"
start_broker --cost-us 100 --fetch-wait-ms 10000 --reap-s 86400
N=4000
cli push -n $N --jobtype noop --prefix b --batch 1000 >/dev/null
CPUS=1 CONCURRENCY=8 sup_conf "$T/f.conf" "connections = 8; coalesce_us = 0;"
start_fkworker "$T/f.conf"
wait_ready 20
pid=$(child_pid 0)
[ -n "$pid" ] || fail "no child"
cli wait-done $N --timeout 120 >/dev/null || { cli audit; fail "not all jobs done"; }
reads=$(awk '/^syscr:/ { print $2 }' "/proc/$pid/io")
expect_eq "acked once" "$(audit acked_once)" $N
expect_eq "acked more than once" "$(audit acked_multi)" 0
awk -v r="$reads" -v n=$N 'BEGIN { exit !(r < 1.5 * n) }' ||
	fail "$reads reads for $N jobs: the +OK and the job were read apart"

# counted TOTAL: the host has counted TOTAL jobs (polled by wait_for, 1 s at most).
counted() { [ "$(sfield '.processed + .failed')" -ge "$1" ]; }
wait_for 1 counted $N || fail "processed $(sfield .processed) of $N 1 s after the broker's last ACK"
total=$N
for round in 1 2 3; do
	cli push -n 300 --jobtype noop --prefix "r$round" --batch 100 >/dev/null
	total=$((total + 300))
	cli wait-done $total --timeout 60 >/dev/null || { cli audit; fail "round $round not done"; }
	wait_for 1 counted $total ||
		fail "round $round: processed $(sfield .processed) of $total 1 s after the broker's last ACK"
done
echo "# $N jobs drained with $reads reads ($(awk -v r="$reads" -v n=$N 'BEGIN { printf "%.2f", r / n }') per job); last ACKs counted within 1 s, 4 of 4"
