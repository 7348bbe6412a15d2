#!/bin/bash
# Children die with the master (PR_SET_PDEATHSIG, and EOF on their channel):
# kill -9 of the master leaves no child behind, and a new master starts on
# the stale control socket it left.
. "$(dirname "$0")/lib.sh"
CPUS=2 CONCURRENCY=20 SHUTDOWN_TIMEOUT=2 sup_up
pids=$(child_pids)
kill -KILL "$FKW_PID"
# shellcheck disable=SC2086 # a list of pids
wait_for 8 all_gone $pids || fail "children outlived the master: $pids"
[ -S "$SOCK" ] || fail "expected the stale socket of a killed master"
start_fkworker "$T/f.conf"
wait_ready 20
expect_eq "children after a restart" "$(child_pids | wc -l)" 2
echo "# master killed: children gone, restart on the stale socket works"
