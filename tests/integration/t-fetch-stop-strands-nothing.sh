#!/bin/bash
# Nothing stranded on the way out, against fkbroker serving like the real server
# (--service-us 150; a FETCH on empty queues waits 2 s, and the server still runs the
# FETCHes a client sent before it closed: docs/faktory-protocol.md 2.4):
# 1. SIGTERM right after draining a burst: exit within one FETCH wait (the product's
#    promise: 2.5 s; asserted < 3.5 s), then 10 s of pushes: none taken by a FETCH the
#    stopped host left behind (0 stranded at the server, all still queued);
# 2. SIGTERM of an idle host: the same, the long polls answered before the exit;
# 3. a reload (every child replaced) right after a burst, then 10 s of pushes worked
#    by the new children: every job done, 0 stranded.
. "$(dirname "$0")/lib.sh"
start_broker --service-us 150 --retry-delay-ms 0 --reap-s 86400
CPUS=2 CONCURRENCY=400 SHUTDOWN_TIMEOUT=25 sup_conf "$T/f.conf"

# push_for SECONDS PREFIX: 20 jobs every half second.
push_for() {
	local k=0 n=$(($1 * 2))
	while [ $k -lt $n ]; do
		k=$((k + 1))
		cli push -n 20 --jobtype noop --prefix "$2-$k" --batch 20 >/dev/null
		sleep 0.5
	done
	PUSHED=$((n * 20))
}
# stop_timed: SIGTERM, exit 0 required; sets STOP_S.
stop_timed() {
	local t0
	t0=$(now_s)
	kill -TERM "$FKW_PID"
	wait_exit "$FKW_PID" 30
	STOP_S=$(elapsed "$t0")
	expect_eq "exit status after SIGTERM" "$EXIT_RC" 0
	awk -v s="$STOP_S" 'BEGIN { exit !(s < 3.5) }' ||
		fail "$1: stop took ${STOP_S}s: more than one FETCH wait"
}

# 1. Right after a burst.
start_fkworker "$T/f.conf"
wait_ready 20
cli push -n 20000 --jobtype noop --prefix burst --batch 1000 >/dev/null
cli wait-done 20000 --timeout 60 >/dev/null || fail "burst not done"
stop_timed "after a burst"
s1=$STOP_S
push_for 10 after
expect_eq "stranded after the stop" "$(audit stranded)" 0
expect_eq "jobs taken after the stop" "$(stat_field working)" 0
expect_eq "jobs still queued" "$(stat_field enqueued)" "$PUSHED"

# 2. Idle (the queue holds the jobs above: flush them first).
cli FLUSH >/dev/null
start_fkworker "$T/f.conf"
wait_ready 20
sleep 3
stop_timed "idle"
s2=$STOP_S
push_for 3 idle
expect_eq "stranded after an idle stop" "$(audit stranded)" 0
expect_eq "jobs taken after an idle stop" "$(stat_field working)" 0

# 3. A reload right after a burst: the retired children strand nothing.
cli FLUSH >/dev/null
start_fkworker "$T/f.conf"
wait_ready 20
base=$(audit done)
cli push -n 20000 --jobtype noop --prefix rburst --batch 1000 >/dev/null
cli wait-done $((base + 20000)) --timeout 60 >/dev/null || fail "burst before the reload not done"
sed -i 's/heartbeat = 15;/heartbeat = 14;/' "$T/f.conf"
ctl reload >/dev/null || fail "reload refused"
push_for 10 reload
cli wait-done $((base + 20000 + PUSHED)) --timeout 30 >/dev/null ||
	fail "jobs pushed after the reload not done: $(cli audit | jq -c '{done, pending, stranded}')"
expect_eq "stranded after the reload" "$(audit stranded)" 0
stop_timed "after the reload"
echo "# stop right after a 20000-job burst: ${s1}s, idle: ${s2}s (promise 2.5 s); 0 stranded" \
    "after either, all later pushes still queued; a reload after a burst: 0 stranded, $PUSHED" \
    "later pushes done by the new children"
