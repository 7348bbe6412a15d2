#!/bin/bash
# A valid reload under load: fkworkerctl reload answers when every child was
# replaced (new ready first, old drained), concurrency changes, jobs keep
# flowing through the roll, and no job is lost or run twice. HUP does the same.
# (A change of concurrency alone applies live without a roll, see
# t-sup-reload-live-concurrency.sh: here stats.interval_ms changes too.)
. "$(dirname "$0")/lib.sh"
CPUS=2 CONCURRENCY=100 sup_up
old=$(child_pids | sort | tr '\n' ' ')
cli push -n 6000 --jobtype sleep --args '[50]' --prefix r --batch 1000 >/dev/null
wait_for 10 sh -c "[ \$($B/fkcli -u $BROKER_URL audit | jq .done) -ge 500 ]" || fail "no progress"

# Sample the broker's done count every 0.25 s through the reload.
( for i in $(seq 1 60); do cli audit | jq .done; sleep 0.25; done ) >"$T/done.log" 2>/dev/null &
sampler=$!
track $sampler
STATS_MS=90 CPUS=2 CONCURRENCY=40 sup_conf "$T/f.conf"
t0=$(now_s)
ctl reload >"$T/reload.out" 2>&1 || { cat "$T/reload.out"; fail "reload failed"; }
echo "# reload under load took $(elapsed "$t0") s: $(cat "$T/reload.out")"
grep -q "reloaded" "$T/reload.out" || fail "reload said: $(cat "$T/reload.out")"
expect_eq "concurrency after reload" "$(sfield .concurrency)" 40
wait_for 10 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq .slots) -eq 40 ]" ||
	fail "slots: $(sfield .slots)"
new=$(child_pids | sort | tr '\n' ' ')
for p in $old; do
	case " $new " in *" $p "*) fail "child $p was not replaced" ;; esac
done
# The replaced children drain (quiet, then terminate) and leave.
# shellcheck disable=SC2086 # a list of pids
wait_for 15 all_gone $old || fail "replaced children still running: $old"
cli wait-done --timeout 60 6000 >/dev/null || { cli audit; fail "not all jobs done"; }
wait $sampler 2>/dev/null || true
# Throughput never stopped: every 1 s window while work remained made progress.
awk '{ v[NR] = $1 } END { for (i = 5; i <= NR; i++) if (v[i] < 6000 && v[i] == v[i-4]) { print "stalled at " v[i]; exit 1 } }' \
    "$T/done.log" || fail "jobs stopped flowing during the reload"
expect_eq "jobs" "$(audit jobs)" 6000
expect_eq "acked once" "$(audit acked_once)" 6000
expect_eq "acked more than once" "$(audit acked_multi)" 0
expect_eq "failed" "$(audit failed)" 0

# HUP: the same roll, reported in the log.
CPUS=1 CONCURRENCY=30 sup_conf "$T/f.conf"
kill -HUP "$FKW_PID"
wait_for 20 sh -c "grep -q 'reloaded .*: 1 children' $T/fkworker.log" || fail "HUP did not reload"
wait_for 10 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq '[.children[] | select(.state != \"draining\")] | length') -eq 1 ]" ||
	fail "children after HUP: $(sfield '.children | length')"
expect_eq "slots after HUP" "$(sfield .slots)" 30
report "reload under load"
