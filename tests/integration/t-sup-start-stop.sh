#!/bin/bash
# The master starts one child per configured cpu, every slot connects (status
# "running"), jobs flow, and SIGTERM stops everything: exit 0, children gone,
# control socket removed.
. "$(dirname "$0")/lib.sh"
start_broker
CPUS=2 CONCURRENCY=60 sup_conf "$T/f.conf"
start_fkworker "$T/f.conf"
t0=$(now_s)
wait_ready 20
echo "# ready in $(elapsed "$t0") s"
expect_eq "cpus" "$(sfield .cpus)" 2
expect_eq "slots" "$(sfield .slots)" 60
expect_eq "connected" "$(sfield .connected)" "$(sfield .connections)"
expect_eq "child rows" "$(sfield '.children | length')" 2
pids=$(child_pids)
for p in $pids; do
	expect_eq "parent of child $p" "$(ps -o ppid= -p "$p" | tr -d ' ')" "$FKW_PID"
done
expect_eq "socket mode" "$(stat -c %a "$SOCK")" 660
# One wid for the whole host: the broker sees one worker process (the master's pid).
expect_eq "worker processes at the broker" "$(cli XWORKERS | jq 'length')" 1
expect_eq "pid the broker sees" "$(cli XWORKERS | jq '.[].pid')" "$FKW_PID"
expect_eq "wid the broker sees" "$(cli XWORKERS | jq -r 'keys[0]')" "$(sfield .wid)"

cli push -n 3000 --jobtype noop --prefix s >/dev/null
cli wait-done --timeout 30 3000 >/dev/null || fail "jobs not done"
expect_eq "acked once" "$(audit acked_once)" 3000
wait_for 5 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq .processed) -eq 3000 ]" ||
	fail "status processed $(sfield .processed), want 3000"

t0=$(now_s)
kill -TERM "$FKW_PID"
wait_exit "$FKW_PID" 10
expect_eq "exit status after TERM" "$EXIT_RC" 0
echo "# stopped in $(elapsed "$t0") s"
no_process $pids
[ ! -e "$SOCK" ] || fail "control socket left behind"
expect_log "exiting with status 0"
ctl status >/dev/null 2>"$T/err" && fail "status answered after the stop"
rc=0; ctl status >/dev/null 2>&1 || rc=$?
expect_eq "fkworkerctl exit when fkworker is gone" "$rc" 69
grep -q "cannot reach fkworker at $SOCK" "$T/err" || fail "unclear message: $(cat "$T/err")"
