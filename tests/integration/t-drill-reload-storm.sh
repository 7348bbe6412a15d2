#!/bin/bash
# Drill 5: a reload storm under load. 20 reloads back to back while jobs
# flow: the even ones valid (concurrency and stats.interval_ms change, so
# every child is rolled: new one ready, old one drained; concurrency alone
# would apply live), the odd ones invalid in a different way
# each time (syntax, unknown key, out-of-range value, wrong type, a change
# that needs a restart). A valid one must roll every child; an invalid one
# must be refused with its reason and change nothing. No job may be lost,
# FAILed or run twice, and the master must stay the same process.
. "$(dirname "$0")/lib-drill.sh"

N=$(drill_pick 20000 10000 600)
SLEEP_MS=$(drill_pick 100 100 200)
read -r -a CONCS <<<"$(drill_pick "100 60 80 40" "60 40 50 30" "10 8 6 4")"
CPUS=2 CONCURRENCY=${CONCS[0]} drill_up --retry-delay-ms 0 --reap-s 86400
master=$FKW_PID
cli push -n "$N" --jobtype sleep --args "[$SLEEP_MS]" --prefix r --batch 1000 >/dev/null

# invalid K: a broken configuration, and the text its refusal must contain.
invalid() {
	case $(($1 % 5)) in
	0) printf 'worker: {\n  concurrency = ;\n};\n' >"$T/f.conf"
	   BAD="f.conf:2" ;;
	1) CPUS=2 CONCURRENCY=$2 sup_conf "$T/f.conf" "bogus_key = 1;"
	   BAD="f.conf:$(grep -n bogus_key "$T/f.conf" | cut -d: -f1)" ;;
	2) CPUS=2 CONCURRENCY=0 sup_conf "$T/f.conf"
	   BAD="f.conf:$(grep -n 'concurrency = 0' "$T/f.conf" | cut -d: -f1)" ;;
	3) CPUS=2 CONCURRENCY='"lots"' sup_conf "$T/f.conf"
	   BAD="f.conf:$(grep -n 'concurrency = "lots"' "$T/f.conf" | cut -d: -f1)" ;;
	4) CPUS=3 CONCURRENCY=$2 sup_conf "$T/f.conf"
	   BAD="requires restart" ;;
	esac
}

ok=0 refused=0 roll_max=0 i=0 cur=${CONCS[0]}
for k in $(seq 1 20); do
	before=$(child_pids | sort | tr '\n' ' ')
	if [ $((k % 2)) = 0 ]; then
		i=$(((i + 1) % ${#CONCS[@]}))
		cur=${CONCS[$i]}
		STATS_MS=$((90 + k)) CPUS=2 CONCURRENCY=$cur sup_conf "$T/f.conf"
		t0=$(now_s)
		ctl reload >"$T/out" 2>&1 || fail "valid reload $k refused: $(cat "$T/out")"
		el=$(elapsed "$t0")
		roll_max=$(awk "BEGIN{print ($el > $roll_max) ? $el : $roll_max}")
		grep -q "reloaded" "$T/out" || fail "reload $k said: $(cat "$T/out")"
		expect_eq "concurrency after reload $k" "$(sfield .concurrency)" "$cur"
		after=$(child_pids | sort | tr '\n' ' ')
		for p in $before; do
			case " $after " in *" $p "*) fail "reload $k: child $p was not replaced" ;; esac
		done
		ok=$((ok + 1))
	else
		invalid "$k" "$cur"
		rc=0
		ctl reload >"$T/out" 2>&1 || rc=$?
		expect_eq "exit status of invalid reload $k" "$rc" 1
		grep -qF "$BAD" "$T/out" || fail "invalid reload $k: no '$BAD' in: $(cat "$T/out")"
		expect_eq "state after invalid reload $k" "$(sfield .state)" running
		expect_eq "concurrency after invalid reload $k" "$(sfield .concurrency)" "$cur"
		expect_eq "children after invalid reload $k" "$(child_pids | sort | tr '\n' ' ')" "$before"
		refused=$((refused + 1))
	fi
	kill -0 "$master" || fail "the master died at reload $k"
	[ "$FKW_PID" = "$master" ] || fail "master changed"
done
done_after=$(audit done); echo "storm over at $(drill_elapsed)s"
[ "$done_after" -lt "$N" ] || echo "note: the jobs ran out during the storm (raise N)"
drill_wait_n "$N" "$(drill_secs 60)" || fail "jobs not done after the storm: $(cli audit)"
expect_eq "jobs FAILed" "$(stat_field failed)" 0
expect_eq "children crashed" "$(sfield .restarts)" 0
echo "all done at $(drill_elapsed)s"; drill_stop_fkworker
drill_verify r "$N"
expect_eq "duplicates" "$DV_DUPS" 0
drill_report reload-storm "$DV_PUSHED" "$DV_PROCESSED" "$DV_DUPS" "$DV_CAUSE" "$DV_LOST" \
	"$ok valid reloads (each rolled both children, slowest ${roll_max}s), $refused invalid ones refused with file:line or the reason, $done_after done during the storm, 0 FAILed"
