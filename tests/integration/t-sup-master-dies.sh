#!/bin/bash
# Children die with the master (PR_SET_PDEATHSIG, and EOF on their channel):
# kill -9 of the master leaves no child behind, and a new master starts on
# the stale control socket it left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wrk.sh"
. "$(dirname "$0")/lib-sup.sh"
start_broker
CPUS=2 CONCURRENCY=20 SHUTDOWN_TIMEOUT=2 sup_conf "$T/f.conf"
start_fkworker "$T/f.conf"
wait_ready 20
pids=$(child_pids)
kill -KILL "$FKW_PID"
gone() { for p in $pids; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
wait_for 8 gone || fail "children outlived the master: $pids"
[ -S "$SOCK" ] || fail "expected the stale socket of a killed master"
start_fkworker "$T/f.conf"
wait_ready 20
expect_eq "children after a restart" "$(child_pids | wc -l)" 2
echo "# master killed: children gone, restart on the stale socket works"
