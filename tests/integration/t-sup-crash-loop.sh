#!/bin/bash
# A child that dies at start, every time, trips the crash-loop brake: the
# master exits 70 (so that systemd decides) instead of respawning forever,
# after backing off between attempts, and leaves no child behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wrk.sh"
. "$(dirname "$0")/lib-sup.sh"
start_broker
cat >"$T/crash.c" <<'C'
#include <signal.h>
#include "fkworker.h"
const int fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;
int fkw_plugin_init(struct fkw_plugin *p) { (void)p; raise(SIGSEGV); return 0; }
C
cc -shared -fPIC -I"$ROOT/worker" -o "$T/crash.so" "$T/crash.c" || fail "cannot build the crashing plugin"
CPUS=2 CONCURRENCY=20 sup_conf "$T/f.conf" "" "{ jobtype = \"crash\"; plugin = \"$T/crash.so\"; },"
t0=$(now_s)
start_fkworker "$T/f.conf"
wait_exit "$FKW_PID" 30
el=$(elapsed "$t0")
expect_eq "exit status" "$EXIT_RC" 70
expect_log "exited on signal 11.*respawn in 0s"
expect_log "exited on signal 11.*respawn in [1-9][0-9]*s"
expect_log "crash loop: [0-9]+ crashes in [0-9]+s"
n=$(grep -c "exited on signal 11" "$T/fkworker.log")
[ "$n" -ge 5 ] || fail "only $n crashes before the brake"
echo "# crash loop: $n crashes, exit 70 after ${el}s"
# Nothing left: no child of that master still runs.
pgrep -P "$FKW_PID" >/dev/null 2>&1 && fail "children left behind"
[ ! -e "$SOCK" ] || fail "control socket left behind"
exit 0
