#!/bin/bash
# Issue 13 item 6: systemd/fkworker.service's ExecReload= gives the reload's
# true result. Its command lines run here as systemd runs them (in order,
# the first failure fails the reload; $MAINPID the master), with the
# installed paths pointed at this build: a reload the master refuses (a
# plugin that does not load) must fail with the reason; a good one succeed.
. "$(dirname "$0")/lib.sh"
start_broker
cat >"$T/noinit.c" <<'C'
#include "fkworker.h"
const int fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;
C
${CC:-cc} -shared -fPIC -I"$ROOT/worker" -o "$T/noinit.so" "$T/noinit.c" || fail "cannot build noinit.so"
CPUS=1 sup_conf "$T/f.conf"
start_fkworker "$T/f.conf"
wait_ready 20
grep '^ExecReload=' "$ROOT/systemd/fkworker.service" | sed -e 's/^ExecReload=//' \
    -e "s|/usr/sbin/fkworker|$B/fkworker|g" -e "s|/usr/bin/fkworkerctl|$B/fkworkerctl|g" \
    -e "s|/etc/fkworker.conf|$T/f.conf|g" -e "s|\\\$MAINPID|$FKW_PID|g" >"$T/reload.cmds"
[ -s "$T/reload.cmds" ] || fail "no ExecReload= in the unit"
# unit_reload: 0 when every ExecReload line succeeds, else the first failure's status.
unit_reload() {
	while IFS= read -r cmd; do
		rc=0; sh -c "$cmd" >>"$T/out" 2>&1 || rc=$?
		[ $rc -eq 0 ] || return $rc
	done <"$T/reload.cmds"
}

# A refused reload: a plugin that does not load.
old=$(child_pids)
CPUS=1 sup_conf "$T/f.conf" "" '{ jobtype = "n"; plugin = "'"$T/noinit.so"'"; },'
: >"$T/out"; rc=0; unit_reload || rc=$?
[ $rc -ne 0 ] || fail "systemctl reload would succeed though the master refused: $(cat "$T/out")"
grep -qF "plugin $T/noinit.so: does not export fkw_plugin_init" "$T/out" ||
	fail "the reason is not in the reload's output: $(cat "$T/out")"
expect_eq "children kept" "$(child_pids)" "$old"

# A good reload succeeds once the children run on it.
CPUS=1 CONCURRENCY=60 sup_conf "$T/f.conf"
: >"$T/out"; rc=0; unit_reload || rc=$?
expect_eq "good reload status" $rc 0
expect_eq "new concurrency" "$(sfield .concurrency)" 60
echo "# ExecReload: refused reload fails with the reason, a good one succeeds after the roll"
