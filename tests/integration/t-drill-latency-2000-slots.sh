#!/bin/bash
# Drill 3: every broker reply 1 ms late, with 2000 slots (2 children x 1000).
# Every slot must connect, all 2000 must hold a job at once (the loop never
# waits on one connection), and every job is processed exactly once.
# The 2000 slots share 128 connections (16 per connection, the default), each
# with FETCHes pipelined through the 1 ms delay; the test raises RLIMIT_NOFILE (root).
. "$(dirname "$0")/lib-drill.sh"

ulimit -n 8192 || fail "cannot raise RLIMIT_NOFILE to 8192"
CONC=$(drill_pick 2000 2000 200)
N=$(drill_pick 40000 10000 1000)
SLEEP_MS=$(drill_pick 200 300 1000)
start_broker --latency-us 1000
CPUS=2 CONCURRENCY=$CONC sup_conf "$T/f.conf"
t0=$(now_s)
drill_start_fkworker "$T/f.conf"
wait_ready "$(drill_secs 30)"
ready_in=$(elapsed "$t0")
wait_for "$(drill_secs 10)" drill_all_connected ||
	fail "not every slot connected: $(status_json | jq -c '{connected, slots}')"
wid=$(sfield .wid)
CONNS=$(drill_conns_for "$T/f.conf") || fail "cannot read $T/f.conf back"
expect_eq "connections at the broker" "$(drill_broker_conns "$wid")" "$CONNS"

# Sleeping jobs first: all 2000 slots must be running one at the same time.
cli push -n "$CONC" --jobtype sleep --args "[$((SLEEP_MS * 10))]" --prefix s --batch 1000 >/dev/null
max=0
for _ in $(seq 1 $((SLEEP_MS * 10 / 100))); do
	w=$(stat_field working)
	[ "$w" -gt "$max" ] && max=$w
	[ "$max" -ge "$CONC" ] && break
	sleep 0.1
done
[ "$max" -ge "$CONC" ] || fail "at most $max jobs in flight at once, want $CONC"

# Then a stream of short jobs through the slow replies.
t1=$(now_s)
cli push -n "$N" --jobtype sleep --args "[$SLEEP_MS]" --prefix l --batch 1000 >/dev/null
drill_wait_n $((N + CONC)) "$(drill_secs 40)" || fail "jobs not done: $(cli audit)"
rate=$(awk "BEGIN{printf \"%.0f\", $N / ($(now_s) - $t1)}")
kill -0 "$FKW_PID" || fail "fkworker died"
expect_eq "children restarted" "$(sfield .restarts)" 0
# Slow replies are not a dead server: no slot may have given up on its connection.
grep "connection(s) lost" "$T/fkworker.log" && fail "connections dropped under 1 ms latency"
drill_stop_fkworker
drill_verify s "$CONC"
s_dups=$DV_DUPS
drill_verify l "$N"
[ "$s_dups" = 0 ] && [ "$DV_DUPS" = 0 ] || fail "jobs run twice without a fault"
drill_report latency-1ms $((N + CONC)) $((DV_PROCESSED + CONC)) "$DV_DUPS" "$DV_CAUSE" "$DV_LOST" \
	"$CONC slots connected in ${ready_in}s, $max jobs in flight at once, ${rate} jobs/s for ${SLEEP_MS} ms jobs through 1 ms replies"
