#!/bin/bash
# The control socket checks its peer (SO_PEERCRED): even with mode 0666 a
# user other than root, the master's uid or the socket's group is refused,
# with a log line; root is served.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root to switch to nobody"
chmod 0755 "$T"
mkdir -m 0755 "$T/pub"
SOCK=$T/pub/ctl.sock
CPUS=1 CONCURRENCY=10 CTL_MODE=0666 sup_up
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
