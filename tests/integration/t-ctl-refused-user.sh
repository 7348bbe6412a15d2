#!/bin/bash
# The control socket checks its peer (SO_PEERCRED): even with mode 0666 a
# user other than root, the master's uid or the socket's group is refused,
# with a log line; root is served. A refused user (by the master, or by the
# socket's mode 0660) is told which group to join and exits 77.
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
# The master's refusal is a permission problem: exit 77, naming the group to join.
expect_eq "exit for a refused user (mode 0666)" "$rc" 77
grep -q "group $(stat -c %G "$SOCK")" "$T/out" || fail "no group named: $(cat "$T/out")"

# Mode 0660 (the default): connect(2) itself is refused. Not "is it running?"
# and 69: the group to join, the socket path, exit 77.
stop_pid "$FKW_PID"
CTL_MODE=0660 sup_conf "$T/f2.conf"
start_fkworker "$T/f2.conf"
wait_ready 20
expect_eq "socket mode" "$(stat -c %a "$SOCK")" 660
group=$(stat -c %G "$SOCK")
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$B/fkworkerctl" -s "$SOCK" status \
    >"$T/out" 2>&1 || rc=$?
echo "# nobody, mode 0660: exit $rc, '$(cat "$T/out")'"
expect_eq "exit for a user outside the group" "$rc" 77
grep -q "permission denied on $SOCK" "$T/out" || fail "no socket path: $(cat "$T/out")"
grep -q "members of group $group" "$T/out" || fail "no group named: $(cat "$T/out")"
grep -q "is it running" "$T/out" && fail "says 'is it running?' to a refused user: $(cat "$T/out")"
# check: a permission problem is UNKNOWN, not CRITICAL (fkworker is running).
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$B/fkworkerctl" -s "$SOCK" check \
    >"$T/out" 2>&1 || rc=$?
expect_eq "check exit for a refused user" "$rc" 3
grep -q "^FKWORKER UNKNOWN - permission denied on $SOCK: .* group $group" "$T/out" ||
    fail "check line: $(cat "$T/out")"
# A member of the group is served.
setpriv --reuid=nobody --regid=nogroup --groups="$group" "$B/fkworkerctl" -s "$SOCK" status \
    >/dev/null 2>"$T/out" || fail "a member of group $group was refused: $(cat "$T/out")"
