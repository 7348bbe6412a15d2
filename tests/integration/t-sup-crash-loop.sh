#!/bin/bash
# A child that dies at start, every time, trips the crash-loop brake: the
# master exits 70 (so that systemd decides) instead of respawning forever,
# after backing off between attempts, and leaves no child behind: neither a
# crashing one nor the healthy one serving the other index (the first child
# to start survives; every later one crashes in its plugin's init; the
# plugin's first init of all is the master's trial load, which passes).
. "$(dirname "$0")/lib.sh"
start_broker
cat >"$T/crash.c" <<'C'
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include "fkworker.h"
const int fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;
static int run(struct fkw_job *j, void *u) { (void)j; (void)u; return FKW_ACK; }
int fkw_plugin_init(struct fkw_plugin *p)
{
	/* The first init is fkworker's trial load at start, before any child. */
	int fd = open(TRIAL, O_WRONLY | O_CREAT | O_EXCL, 0644);

	if (fd != -1) {
		close(fd);
		return fkw_register(p, "crash", run, NULL, NULL);
	}
	fd = open(SURVIVOR, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd == -1)
		raise(SIGSEGV);
	dprintf(fd, "%d\n", (int)getpid());
	close(fd);
	return fkw_register(p, "crash", run, NULL, NULL);
}
C
cc -shared -fPIC -I"$ROOT/worker" -DSURVIVOR="\"$T/survivor\"" -DTRIAL="\"$T/trial\"" \
	-o "$T/crash.so" "$T/crash.c" ||
	fail "cannot build the crashing plugin"
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
# Nothing left. Children orphaned by the master's exit are re-parented (to
# PID 1 or a subreaper), so asking for the master's children now would always
# find none: check every child the master forked, by the pid its "started"
# line gave (a fork of the master still runs $B/fkworker), then that no
# process at all still runs with this test's configuration.
pids=$(sed -n 's/.*worker [0-9]* (pid \([0-9]*\)) started.*/\1/p' "$T/fkworker.log" | sort -un)
np=$(echo "$pids" | grep -c . || true)
[ "$np" -ge $((n + 1)) ] || fail "$np children logged as started for $n crashes and a survivor"
[ -e "$T/trial" ] || fail "the master did not try the plugin before starting children"
surv=$(cat "$T/survivor" 2>/dev/null) || fail "no child survived its plugin's init"
echo "$pids" | grep -qx "$surv" || fail "survivor pid $surv was never logged as started"
expect_log "worker [0-9]+ \(pid $surv\) ready in"
grep -q "pid $surv) exited on signal" "$T/fkworker.log" && fail "the survivor $surv crashed"
for p in $(sed -n 's/.*worker [0-9]* (pid \([0-9]*\)) exited on signal 11.*/\1/p' "$T/fkworker.log"); do
	echo "$pids" | grep -qx "$p" || fail "pid $p crashed but was never logged as started"
done
# alive PID: runs (not a zombie) and is a fork of this build's fkworker.
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	grep -q '^[0-9]* (.*) [ZX] ' "/proc/$1/stat" 2>/dev/null && return 1
	[ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$(readlink -f "$B/fkworker")" ]
}
left=""
for p in $pids; do
	alive "$p" && left="$left $p"
done
[ -z "$left" ] || fail "children left behind:$left ($(ps -o pid=,ppid=,stat=,args= -p "${left# }" | tr '\n' ';'))"
others=""
for d in /proc/[0-9]*; do
	p=${d#/proc/}
	[ "$p" != $$ ] || continue
	tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF -- "$T/f.conf" || continue
	grep -q '^[0-9]* (.*) [ZX] ' "$d/stat" 2>/dev/null && continue
	others="$others $p"
done
[ -z "$others" ] || fail "processes still running with $T/f.conf:$others"
[ ! -e "$SOCK" ] || fail "control socket left behind"
echo "# crash loop: $n crashes, exit 70 after ${el}s; none of the $np children it started is left (the healthy one, pid $surv, included)"
