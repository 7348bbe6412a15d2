#!/bin/bash
# issue 16: worker.concurrency = "auto" on CPU-heavy jobs holds the host's CPU
# near cpu_target. The example plugin's crunch jobs burn 10 ms of CPU, then
# wait 190 ms on a timer: a slot keeps 5% of a core busy, 2.5 points of this
# 2-child host's CPU, so the target (60) is about 24 slots. From
# concurrency_min (2) with a backlog, auto grows to it and holds: over 10 s
# after it settled, the host's CPU is within 15 points of the target (loose:
# CI hosts are shared; make bench measures the 5 points the issue asks), the
# concurrency never passes concurrency_max (60), and no job fails. Decisions
# every second keep it within 40 s. Other load on the host takes its part of
# the target (auto then holds fewer slots): the summary line shows the count.
# Other load alone past the band fails it.
. "$(dirname "$0")/lib.sh"
N=8000 TARGET=60 MAX=60 WIN=10
host_ticks() { awk '/^cpu / { print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9; exit }' /proc/stat; }
conc() { sfield .concurrency; }
start_broker
cli push -n $N --jobtype crunch --args '[10000,190]' --prefix c --batch 1000 >/dev/null
CPUS=2 CONCURRENCY="\"auto\"" sup_conf "$T/f.conf" \
    "concurrency_min = 2; concurrency_max = $MAX; cpu_target = $TARGET; auto_interval_ms = 1000;" \
    "{ jobtype = \"crunch\"; plugin = \"$B/plugins/example.so\"; },"
start_fkworker "$T/f.conf"
wait_ready 20
expect_eq "bounds" "$(sfield '"\(.concurrency_min)..\(.concurrency_max)"')" "2..$MAX"
t0=$(now_s)

# Settled: a decision held the count (the CPU in its band), within 20 s.
peak=0
settled() {
	c=$(conc)
	[ "$c" -gt "$peak" ] && peak=$c
	sfield .auto_last | grep -q '^hold at [0-9]* (CPU at target)'
}
wait_for 20 settled || fail "auto did not settle within 20 s: $(status_json | jq -c '{concurrency, busy, auto_last}')"
settle_s=$(elapsed "$t0")

read -r b0 a0 <<<"$(host_ticks)"
lo=1000000 hi=0
for _ in $(seq 1 $WIN); do
	sleep 1
	c=$(conc)
	[ "$c" -lt "$lo" ] && lo=$c
	[ "$c" -gt "$hi" ] && hi=$c
done
read -r b1 a1 <<<"$(host_ticks)"
cpu=$(awk -v b=$((b1 - b0)) -v a=$((a1 - a0)) 'BEGIN { printf "%.1f", 100 * b / a }')
[ "$hi" -gt "$peak" ] && peak=$hi
last=$(sfield .auto_last)

[ "$peak" -le $MAX ] || fail "concurrency $peak is past concurrency_max $MAX"
between "$cpu" $((TARGET - 15)) $((TARGET + 15)) ||
	fail "host CPU $cpu% over ${WIN} s, target $TARGET: concurrency $lo..$hi; last decision: $last"
expect_eq "failed" "$(audit failed)" 0
# Stopped while fkbroker is up: its children would otherwise retry their last reports for
# shutdown_timeout, burning CPU into the next test.
stop_pid "$FKW_PID" 20
echo "# auto on crunch jobs: held after ${settle_s}s; host CPU $cpu% over ${WIN}s (target $TARGET)," \
	"concurrency $lo..$hi (at most $peak); last decision: $last"
