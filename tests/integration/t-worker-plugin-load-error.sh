#!/bin/bash
# A plugin that cannot be loaded stops the worker with exit 78 (configuration error) and a
# message naming the file and the reason: missing file, missing init, failing init.
. "$(dirname "$0")/lib.sh"
start_broker
cat >"$T/noinit.c" <<'C'
#include "fkworker.h"
const int fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;
C
cat >"$T/initfail.c" <<'C'
#include "fkworker.h"
const int fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;
int fkw_plugin_init(struct fkw_plugin *p) { fkw_plugin_set_error(p, "no database at %s", "db:5432"); return -1; }
C
for p in noinit initfail; do
	${CC:-cc} -shared -fPIC -I"$ROOT/worker" -o "$T/$p.so" "$T/$p.c" || fail "cannot build $p.so"
done

# expect_refused SO MESSAGE
expect_refused() {
	write_conf "$T/w.conf" "" "{ jobtype = \"x\"; plugin = \"$1\"; }"
	: >"$T/worker.log"
	rc=0
	timeout 20 "$B/fkworker" --single -c "$T/w.conf" >>"$T/worker.log" 2>&1 || rc=$?
	expect_eq "exit status with $1" $rc 78
	grep -qF -- "$2" "$T/worker.log" || fail "no '$2' in: $(cat "$T/worker.log")"
}
# A missing file is found before loading, with the configuration's FILE:LINE (issue 13).
expect_refused /nonexistent/fkw.so \
	"handlers[0].plugin: the plugin /nonexistent/fkw.so: No such file or directory"
expect_refused "$T/noinit.so" "plugin $T/noinit.so: does not export fkw_plugin_init"
expect_refused "$T/initfail.so" "plugin $T/initfail.so: fkw_plugin_init failed: no database at db:5432"
echo "# plugin load errors: missing file, missing init, failing init: exit 78 with the reason"
