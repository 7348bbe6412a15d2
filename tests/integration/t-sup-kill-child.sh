#!/bin/bash
# kill -9 of a child under load: it is respawned within 1 s, the master FAILs
# the jobs it had in flight (errtype WorkerCrash) within 5 s, they are
# processed again, and no job is lost. Duplicates are allowed only for those.
. "$(dirname "$0")/lib.sh"
CPUS=2 CONCURRENCY=100 sup_up --retry-delay-ms 0
cli push -n 4000 --jobtype sleep --args '[100]' --prefix k --batch 1000 >/dev/null
wait_for 10 sh -c "[ \$($B/fkcli -u $BROKER_URL XSTATS | jq .working) -ge 90 ]" || fail "not busy"
victim=$(child_pid 0)
[ -n "$victim" ] || fail "no child 0"
t0=$(now_s)
kill -KILL "$victim"
new_child() { p=$(child_pid 0); [ -n "$p" ] && [ "$p" != "$victim" ]; }
wait_for 1 new_child || fail "child 0 not respawned within 1 s"
resp=$(elapsed "$t0")
crash_failed() { [ "$(stat_field failed)" -gt 0 ]; }
wait_for 5 crash_failed || fail "in-flight jobs not FAILed within 5 s: $(cli XSTATS)"
failed_in=$(elapsed "$t0")
# Which ones: the first jobs delivered; at least one carries the master's errtype.
cmds=$(for i in $(seq 1 600); do printf 'XJOB k-%08d\n' "$i"; done)
mapfile -t xjob <<<"$cmds"
crashes=$(cli -P "${xjob[@]}" | jq -s '[.[] | select(.errtype == "WorkerCrash")] | length')
[ "$crashes" -gt 0 ] || fail "no job FAILed with errtype WorkerCrash"
expect_log "worker 0 \\(pid $victim\\) exited on signal 9 after [0-9.]+s; respawn in 0s"
expect_log "worker 0 \\(pid $victim\\): FAILing [0-9]+ in-flight job\\(s\\) \\(WorkerCrash\\)"
n=$(grep -o "pid $victim): FAILing [0-9]*" "$T/fkworker.log" | grep -o '[0-9]*$')
cli wait-done --timeout 90 4000 >/dev/null || { cli audit; fail "not all jobs done"; }
expect_eq "jobs" "$(audit jobs)" 4000
expect_eq "done" "$(audit done)" 4000
multi=$(audit acked_multi)
[ "$multi" -le "$n" ] || fail "$multi jobs ACKed twice, only $n were in flight"
echo "# kill -9 under load: respawned in ${resp}s, $n in-flight jobs FAILed within ${failed_in}s, 4000/4000 done, $multi acked twice"
