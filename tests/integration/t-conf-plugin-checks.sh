#!/bin/bash
# Issue 13 item 6: a plugin that cannot be loaded is refused by -n (which
# loads it, as a child would), at start and on reload, each time naming the
# configuration's FILE:LINE and the reason; `fkworkerctl reload` prints the
# reason and exits 1, the log has it, and the old configuration stays.
. "$(dirname "$0")/lib.sh"
start_broker
cat >"$T/noinit.c" <<'C'
#include "fkworker.h"
const int fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;
C
${CC:-cc} -shared -fPIC -I"$ROOT/worker" -o "$T/noinit.so" "$T/noinit.c" || fail "cannot build noinit.so"
good="$B/plugins/example.so"
[ -f "$good" ] || fail "$good: build it first"

# -n: a missing file, and a file that is there but is no plugin.
sup_conf "$T/missing.conf" "" '{ jobtype = "m"; plugin = "/nonexistent/fkw.so"; },'
lm=$(grep -n fkw.so "$T/missing.conf" | cut -d: -f1)
rc=0; "$B/fkworker" -n -c "$T/missing.conf" >"$T/out" 2>&1 || rc=$?
expect_eq "-n exit status, missing plugin" $rc 78
grep -qF "$T/missing.conf:$lm: handlers[0].plugin: the plugin /nonexistent/fkw.so: No such file or directory" "$T/out" ||
	fail "-n missing: $(cat "$T/out")"
sup_conf "$T/noinit.conf" "" '{ jobtype = "n"; plugin = "'"$T/noinit.so"'"; },'
ln=$(grep -n noinit.so "$T/noinit.conf" | cut -d: -f1)
rc=0; "$B/fkworker" -n -c "$T/noinit.conf" >"$T/out" 2>&1 || rc=$?
expect_eq "-n exit status, no init" $rc 78
grep -qF "$T/noinit.conf:$ln: handlers[0].plugin: plugin $T/noinit.so: does not export fkw_plugin_init" "$T/out" ||
	fail "-n noinit: $(cat "$T/out")"

# At start: exit 78 with FILE:LINE, before any child.
rc=0; timeout 20 "$B/fkworker" -c "$T/noinit.conf" >"$T/start.out" 2>&1 || rc=$?
expect_eq "start exit status" $rc 78
grep -qF "$T/noinit.conf:$ln: handlers[0].plugin: plugin $T/noinit.so: does not export" "$T/start.out" ||
	fail "start: $(cat "$T/start.out")"
grep -q "worker 0" "$T/start.out" && fail "a child ran: $(cat "$T/start.out")"

# A good plugin passes -n and runs.
sup_conf "$T/f.conf" "" '{ jobtype = "echo"; plugin = "'"$good"'"; },'
rc=0; "$B/fkworker" -n -c "$T/f.conf" >"$T/out" 2>&1 || rc=$?
expect_eq "-n exit status, good plugin" $rc 0
start_fkworker "$T/f.conf"
wait_ready 20
old=$(child_pids | sort | tr '\n' ' ')

# Reload onto the bad plugin: refused with the reason, through ctl and in the log.
cp "$T/noinit.conf" "$T/f.conf"
rc=0; ctl reload >"$T/out" 2>&1 || rc=$?
expect_eq "reload exit status" $rc 1
grep -qF "$T/f.conf:$ln: handlers[0].plugin: plugin $T/noinit.so: does not export fkw_plugin_init" "$T/out" ||
	fail "reload reason: $(cat "$T/out")"
wait_for 5 grep -qF "handlers[0].plugin: plugin $T/noinit.so: does not export" "$T/fkworker.log" ||
	fail "reason not logged"
expect_eq "children kept" "$(child_pids | sort | tr '\n' ' ')" "$old"
cli push -n 100 --jobtype noop --prefix k >/dev/null
cli wait-done --timeout 20 100 >/dev/null || fail "jobs not processed after the refused reload"
echo "# plugin refused by -n, start and reload with FILE:LINE and the reason"
