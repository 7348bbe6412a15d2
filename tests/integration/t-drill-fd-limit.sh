#!/bin/bash
# Drill 9: running out of file descriptors.
# 1. Start with concurrency far above RLIMIT_NOFILE (ulimit -n 256, hard limit
#    too, concurrency 2000): the master must exit 78 at once with a message
#    naming the numbers, and start no child (no crash loop).
# 2. The same under a hard limit the master could raise itself to: it raises
#    the soft limit and runs.
# 3. A running fkworker (limit 256, concurrency 200) asked to reload to
#    concurrency 2000: refused with the same message, the old configuration
#    keeps serving, no child restarts, and the jobs pushed meanwhile are all
#    processed once.
# 4. The largest concurrency the check accepts under 256 (192 slots a child):
#    every slot really connects, and jobs flow (the estimate is not optimistic).
. "$(dirname "$0")/lib-drill.sh"

start_broker --max-conns 4000
N=$(drill_pick 5000 2000 300)

# 1. Far above the limit, hard limit included.
CPUS=2 CONCURRENCY=2000 sup_conf "$T/f.conf"
t0=$(now_s)
rc=0
# shellcheck disable=SC2086 # FKW_WRAP is a command line
( ulimit -n 256 && ulimit -Hn 256 && exec ${FKW_WRAP:-} "$B/fkworker" -c "$T/f.conf" ) \
    >"$T/fkworker.log" 2>&1 || rc=$?
el=$(elapsed "$t0")
expect_eq "exit status with concurrency 2000 under 256 descriptors" "$rc" 78
expect_log "worker.concurrency 2000 with worker.cpus 2 needs ~1064 file descriptors per child but RLIMIT_NOFILE is 256; raise LimitNOFILE or lower concurrency"
awk "BEGIN{exit !($el < $(drill_secs 3))}" || fail "took ${el}s to refuse"
grep -q "worker [0-9] (pid" "$T/fkworker.log" && fail "a child was started: $(cat "$T/fkworker.log")"
msg1=$(grep -o 'needs ~1064 .*' "$T/fkworker.log")

# 2. The soft limit is low but the hard one allows it: the master raises it.
: >"$T/fkworker.log"
drill_count_base
( ulimit -Sn 256 && ulimit -Hn 4096 && exec ${FKW_WRAP:-} "$B/fkworker" -c "$T/f.conf" ) \
    >>"$T/fkworker.log" 2>&1 &
FKW_PID=$!
track $FKW_PID
wait_ready "$(drill_secs 30)"
expect_eq "connections up with the soft limit raised" "$(sfield .connected)" "$(sfield .connections)"
drill_stop_fkworker

# 3. A reload past the limit is refused; the old configuration keeps serving.
: >"$T/fkworker.log"
CPUS=2 CONCURRENCY=200 sup_conf "$T/f.conf"
drill_count_base
( ulimit -n 256 && ulimit -Hn 256 && exec ${FKW_WRAP:-} "$B/fkworker" -c "$T/f.conf" ) \
    >>"$T/fkworker.log" 2>&1 &
FKW_PID=$!
track $FKW_PID
wait_ready "$(drill_secs 20)"
kids=$(child_pids | sort | tr '\n' ' ')
cli push -n "$N" --jobtype sleep --args '[20]' --prefix f --batch 1000 >/dev/null
CPUS=2 CONCURRENCY=2000 sup_conf "$T/f.conf"
rc=0
ctl reload >"$T/out" 2>&1 || rc=$?
expect_eq "reload exit status" "$rc" 1
grep -q "needs ~1064 file descriptors per child but RLIMIT_NOFILE is 256" "$T/out" ||
	fail "reload refusal unclear: $(cat "$T/out")"
expect_eq "concurrency kept" "$(sfield .concurrency)" 200
expect_eq "children kept" "$(child_pids | sort | tr '\n' ' ')" "$kids"
drill_wait_n "$N" "$(drill_secs 30)" || fail "jobs not done after the refused reload: $(cli audit)"
expect_eq "children restarted" "$(sfield .restarts)" 0
drill_stop_fkworker

# 4. At the limit the check allows: 2 x (256 - 64) slots.
: >"$T/fkworker.log"
EDGE=$(( 2 * (256 - 64) ))
CPUS=2 CONCURRENCY=$EDGE sup_conf "$T/f.conf"
drill_count_base
( ulimit -n 256 && ulimit -Hn 256 && exec ${FKW_WRAP:-} "$B/fkworker" -c "$T/f.conf" ) \
    >>"$T/fkworker.log" 2>&1 &
FKW_PID=$!
track $FKW_PID
wait_ready "$(drill_secs 20)" || true
wait_for "$(drill_secs 10)" drill_all_connected ||
	fail "at concurrency $EDGE under 256 descriptors not every slot connected: $(status_json | jq -c '{connected, slots}'); $(grep -m 3 -i 'too many open files\|EMFILE' "$T/fkworker.log")"
cli push -n "$N" --jobtype sleep --args '[20]' --prefix e --batch 1000 >/dev/null
drill_wait_n $((2 * N)) "$(drill_secs 30)" || fail "jobs not done at the edge: $(cli audit)"
expect_eq "children restarted at the edge" "$(sfield .restarts)" 0
drill_stop_fkworker
drill_verify f "$N"
f_proc=$DV_PROCESSED f_dups=$DV_DUPS
drill_verify e "$N"
drill_report fd-limit $((2 * N)) $((f_proc + DV_PROCESSED)) $((f_dups + DV_DUPS)) "$DV_CAUSE" "$DV_LOST" \
	"concurrency 2000 under ulimit -n 256: exit 78 in ${el}s, no child started ($msg1); soft limit raised to the hard one when it fits; reload to 2000 refused, old children kept; $EDGE slots at the limit all connected"
