#!/bin/bash
# Coalescing as shipped (worker.coalesce_us left out: 1000; worker/wrk_coalesce.c)
# against fkbroker serving one command per connection per turn like the real server:
# - jobs picked up promptly (4000 a second pushed to a host that keeps up): the
#   loop naps for at most 2% of the jobs (a stall on this machine may engage it
#   for a moment; engaged throughout it naps for about a third of them);
# - a backlog on a fast server (--cost-us 0): the nap stays within 1/16 of the
#   FETCH round trip (each connection carries one FETCH: a longer nap would
#   slow the child down);
# - a backlog the server's CPU paces (--cost-us 300, pushes outrun it): the
#   child's nap bound goes above 0, and every job is ACKed exactly once.
. "$(dirname "$0")/lib.sh"
start_broker --cost-us 100 --reap-s 86400
CPUS=1 CONCURRENCY=128 sup_conf "$T/f.conf" "connections = 64;"
start_fkworker "$T/f.conf"
wait_ready 20
# while_draining TOTAL CMD: CMD every 50 ms until the broker has TOTAL jobs done (15 s at most).
while_draining() {
	local total=$1
	shift
	for _ in $(seq 1 300); do
		"$@"
		[ "$(audit done)" -ge "$total" ] && return 0
		sleep 0.05
	done
}

# Warmed up first, paced too: a child starts with a FETCH window of 1, and the
# jobs that queue while it grows wait long enough to engage the naps (rightly).
W=1000
cli push -n $W --jobtype noop --prefix w --batch 10 --rate 4000 >/dev/null
cli wait-done $W --timeout 60 >/dev/null || { cli audit; fail "warm-up jobs not done"; }
naps0=$(sfield .naps)
P=12000
cli push -n $P --jobtype noop --prefix p --batch 10 --rate 4000 >/dev/null
cli wait-done $((W + P)) --timeout 60 >/dev/null || { cli audit; fail "paced jobs not done"; }
naps=$(($(sfield .naps) - naps0))
p99=$(sfield .pickup_p99_us)
awk -v z="$naps" -v n=$P 'BEGIN { exit !(z <= 0.02 * n) }' ||
	fail "$naps naps for $P jobs picked up promptly (pickup p99 $p99 us)"
P=$((W + P))

# A backlog on a fast server (cost 0): jobs wait long, but FETCHes come back
# within a few hundred us, and a nap longer than 1/16 of that would hold the
# child's one-FETCH-per-connection cycle up: every sample of the child's nap
# bound stays within an eighth of its FETCH round trip (margin: both move).
cli XFAULT cost_us 0 >/dev/null
F=30000
cli push -n $F --jobtype noop --prefix f --batch 1000 >/dev/null
bad=0 samples=0
check_nap() {
	local nap rtt
	read -r nap rtt < <(status_json | jq -r '.children[0] | "\(.nap_us) \(.fetch_rtt_us)"')
	samples=$((samples + 1))
	if [ "$nap" -gt 0 ] && [ $((nap * 8)) -gt "$rtt" ]; then
		bad=$((bad + 1))
		echo "# nap $nap us, FETCH rtt $rtt us"
	fi
}
while_draining $((P + F)) check_nap
cli wait-done $((P + F)) --timeout 60 >/dev/null || { cli audit; fail "fast backlog not done"; }
[ $bad = 0 ] || fail "$bad of $samples samples napped longer than an eighth of the FETCH round trip"
P=$((P + F))

# A backlog the server's own CPU paces (pushes outrun it): the governor
# engages, with a bound above 0 (the FETCH round trip is milliseconds).
cli XFAULT cost_us 300 >/dev/null
N=6000
cli push -n $N --jobtype noop --prefix b --batch 1000 >/dev/null
maxnap=0
note_max_nap() {
	local nap
	nap=$(sfield '.children[0].nap_us')
	[ "$nap" -le "$maxnap" ] || maxnap=$nap
}
while_draining $((P + N)) note_max_nap
cli wait-done $((P + N)) --timeout 120 >/dev/null || { cli audit; fail "backlog not done"; }
expect_eq "acked once" "$(audit acked_once)" $((P + N))
expect_eq "acked more than once" "$(audit acked_multi)" 0
[ "$maxnap" -gt 0 ] || fail "no nap bound while a backlog of $N jobs drained: coalescing never engaged"
echo "# coalesce_us as shipped: paced 4000/s after a warm-up: $naps naps for 12000 jobs (pickup p99 $p99 us); fast backlog: nap within 1/8 of the FETCH rtt in $samples samples; server-paced backlog: nap bound up to $maxnap us"
