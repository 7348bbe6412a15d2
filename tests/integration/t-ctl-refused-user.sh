#!/bin/bash
# The control socket checks its peer (SO_PEERCRED): even with mode 0666 a
# user other than root, the master's uid or the socket's group is refused,
# with a log line; root is served.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wrk.sh"
# Cannot run here: one line for run.sh, exit 77 (counted as skipped, a failure with FKW_NO_SKIP=1).
skip() { echo "skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to switch to nobody"
chmod 0755 "$T"
mkdir -m 0755 "$T/pub"
SOCK=$T/pub/ctl.sock
. "$(dirname "$0")/lib-sup.sh"
start_broker
CPUS=1 CONCURRENCY=10 CTL_MODE=0666 sup_conf "$T/f.conf"
start_fkworker "$T/f.conf"
wait_ready 20
expect_eq "socket mode" "$(stat -c %a "$SOCK")" 666
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$B/fkworkerctl" -s "$SOCK" status \
    >"$T/out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "nobody was served: $(cat "$T/out")"
grep -q "permission denied: uid 65534" "$T/out" || fail "unclear refusal: $(cat "$T/out")"
wait_for 5 grep -q "control: refused uid 65534" "$T/fkworker.log" || fail "no log line for the refusal"
echo "# nobody: exit $rc, '$(cat "$T/out")'"
ctl status >/dev/null || fail "root refused"
kill -0 "$FKW_PID" || fail "master died"
