#!/bin/bash
# Drill 1: kill -9 of random children, repeatedly, under load.
# Four kills inside 30 s: each child is respawned and the master FAILs the
# jobs the dead child had in flight (WorkerCrash) so they run again at once.
# A fifth kill inside the window trips the crash-loop brake (3 + cpus crashes
# in 30 s): the master stops and exits 70; it is started again, as systemd
# would. Jobs whose FETCH reply sat unread in a killed child's socket stay
# reserved at the server; the broker's clock is moved past reserve_for so
# that they come back, as real Faktory does after 30 minutes.
# Every job must end processed, and every duplicate must come from a kill.
. "$(dirname "$0")/lib-drill.sh"
# A killed child's deliveries: replies it never read (unread), never fully
# received (cut), and FETCHes the server ran after its death (orphaned).
DRILL_LOSSES="cut orphaned unread"

N=$(drill_pick 30000 20000 600)
CONC=$(drill_pick 200 100 20)
SLEEP_MS=$(drill_pick 50 50 200)
CPUS=2 CONCURRENCY=$CONC drill_up --retry-delay-ms 0 --reap-s 86400
cli push -n "$N" --jobtype sleep --args "[$SLEEP_MS]" --prefix k --batch 1000 >/dev/null

busy() { [ "$(stat_field working)" -ge $((CONC / 2)) ]; }
# A random child that serves its index now (not draining, not starting).
victim_pick() {
	sfield '.children[] | select(.pid > 0 and .state == "ready") | .pid' | shuf -n 1
}
ready_count() { sfield '[.children[] | select(.pid > 0 and .state == "ready")] | length'; }
kills=0 resp_max=0 killed="" windows="" wsum=0 csum=0
kill_one() {
	local v t0 r row
	wait_for "$(drill_secs 10)" busy || fail "not busy before kill $((kills + 1)): $(cli XSTATS)"
	v=$(victim_pick)
	[ -n "$v" ] || fail "no ready child to kill: $(status_json)"
	# What the victim may leave reserved for nobody: one job per FETCH out, its window
	# at most, and never more than one per connection.
	row=$(sfield ".children[] | select(.pid == $v)")
	windows="$windows${windows:+ }$(echo "$row" | jq .fetch_window)"
	wsum=$((wsum + $(echo "$row" | jq .fetch_window)))
	csum=$((csum + $(echo "$row" | jq .connections)))
	t0=$(now_s)
	kill -KILL "$v"
	drill_note_killed "$v"
	kills=$((kills + 1))
	killed="$killed $v"
	echo "kill $kills: child pid $v"
	r=$1
	[ "$r" = respawn ] || return 0
	# Respawned (the first crash of an index at once, a repeat after a 1-2 s backoff).
	wait_for "$(drill_secs 8)" sh -c "[ \$($B/fkworkerctl -s $SOCK status --json |
	    jq '[.children[] | select(.pid > 0 and .state == \"ready\")] | length') -eq 2 ]" ||
		fail "children not back after kill $kills: $(status_json | jq -c .children)"
	el=$(elapsed "$t0")
	resp_max=$(awk "BEGIN{print ($el > $resp_max) ? $el : $resp_max}")
}

# Four kills, below the brake.
for _ in 1 2 3 4; do
	kill_one respawn
	sleep 0.3
done
[ "$(audit done)" -lt "$N" ] || fail "the jobs ran out before the kills: raise N"
for v in $killed; do
	expect_log "\\(pid $v\\) exited on signal 9"
done
fkill=$(grep -c 'in-flight job(s) (WorkerCrash)' "$T/fkworker.log" || true)
# Each kill found jobs running (busy before it): the master FAILed them at once.
expect_eq "kills whose in-flight jobs the master FAILed (WorkerCrash)" "$fkill" 4

# The fifth kill within 30 s: the crash-loop brake stops fkworker (exit 70).
before=$(child_pids)
kill_one brake
wait_exit "$FKW_PID" "$(drill_secs 15)"
expect_eq "exit status after the fifth crash in 30 s" "$EXIT_RC" 70
expect_log "crash loop: 5 crashes in 30s, giving up"
all_gone() { for v in $before; do kill -0 "$v" 2>/dev/null && return 1; done; return 0; }
wait_for 5 all_gone || no_process $before
done_at_brake=$(audit done)

# Restarted, as systemd's Restart=on-failure would.
drill_start_fkworker "$T/f.conf"
wait_ready "$(drill_secs 20)"
drill_wait_done "$N" "$(drill_secs 30)"
drill_stop_fkworker
drill_verify k "$N" \
	"WorkerCrash=in flight in a killed child, FAILed by the master as WorkerCrash and retried" \
	"Shutdown=running when the crash-loop brake stopped fkworker, FAILed as Shutdown and retried" \
	"ReservationExpired=FETCH replies unread in a killed child's socket, redelivered once XTIME ended their reservation"
# Jobs a killed child's FETCHes left reserved for nobody: never more than one per
# connection of the children killed (each keeps one FETCH per connection at most).
[ "$DRILL_STRANDED" -le "$csum" ] ||
	fail "$DRILL_STRANDED jobs stranded by $kills kills of children holding $csum connections"
drill_report kill9 "$DV_PUSHED" "$DV_PROCESSED" "$DV_DUPS" "$DV_CAUSE" "$DV_LOST" \
	"$kills kills (FETCH windows of the victims: $windows), respawned within ${resp_max}s, $fkill crash FAILs by the master, deliveries lost with the killed children: $DV_WIRE, brake tripped at kill 5 (exit 70) with $done_at_brake done, restarted; $DV_RAN_TWICE ran to completion twice; $DRILL_XTIME clock moves"
