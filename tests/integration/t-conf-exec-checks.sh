#!/bin/bash
# Issue 13 item 5: an exec handler whose command is missing or not
# executable is refused by -n, at start and on reload with FILE:LINE; a
# command under a path the unit's sandbox hides gets a warning; and a failing
# exec job is a warning (jobtype, error type, message), one line a second at
# most with the count of those held back.
. "$(dirname "$0")/lib.sh"
start_broker
printf '#!/bin/sh\necho "disk full on /data" >&2\nexit 3\n' >"$T/failing.sh"
chmod 755 "$T/failing.sh"
printf 'not a program\n' >"$T/plain"
chmod 644 "$T/plain"

# -n: each bad command named with its file and line; exit 78.
sup_conf "$T/bad.conf" "" '{ jobtype = "a"; exec = [ "/nonexistent/fkw-cmd" ]; },
	{ jobtype = "b"; exec = [ "'"$T/plain"'" ]; },'
la=$(grep -n fkw-cmd "$T/bad.conf" | cut -d: -f1)
lb=$(grep -n '"b"' "$T/bad.conf" | cut -d: -f1)
rc=0; "$B/fkworker" -n -c "$T/bad.conf" >"$T/out" 2>&1 || rc=$?
expect_eq "-n exit status" $rc 78
grep -qF "fkworker: $T/bad.conf:$la: handlers[0].exec: the command /nonexistent/fkw-cmd: No such file or directory" "$T/out" ||
	fail "missing command not named: $(cat "$T/out")"
grep -qF "fkworker: $T/bad.conf:$lb: handlers[1].exec: the command $T/plain is not executable" "$T/out" ||
	fail "non-executable command not named: $(cat "$T/out")"

# At start: the same, exit 78, before any child runs.
rc=0; timeout 20 "$B/fkworker" -c "$T/bad.conf" >"$T/start.out" 2>&1 || rc=$?
expect_eq "start exit status" $rc 78
grep -qF "$T/bad.conf:$la: handlers[0].exec" "$T/start.out" || fail "start: $(cat "$T/start.out")"

# A good command under /tmp (the unit's PrivateTmp): OK with a warning.
sup_conf "$T/f.conf" "" '{ jobtype = "boom"; exec = [ "'"$T/failing.sh"'" ]; },'
rc=0; "$B/fkworker" -n -c "$T/f.conf" >"$T/out" 2>&1 || rc=$?
expect_eq "-n exit status with a warning" $rc 0
grep -qF "configuration OK (with warnings)" "$T/out" || fail "no OK: $(cat "$T/out")"
grep -qF "warning: $T/f.conf:" "$T/out" || fail "no warning: $(cat "$T/out")"
grep -qF "is under /tmp, which fkworker.service hides (PrivateTmp=yes)" "$T/out" ||
	fail "sandbox not named: $(cat "$T/out")"

# Running: a failing exec job is a warning naming jobtype, error type and message.
start_fkworker "$T/f.conf"
wait_ready 20
grep -q "is under /tmp, which fkworker.service hides" "$T/fkworker.log" || fail "start: no sandbox warning"
cli push -n 1 --jobtype boom --prefix one >/dev/null
wait_for 10 grep -q "failed: ExecFailed: .*disk full on /data" "$T/fkworker.log" ||
	fail "no warning for a failed job: $(cat "$T/fkworker.log")"
grep "failed: ExecFailed" "$T/fkworker.log" | head -n 1 | grep -q '^<4>.*(jobtype boom) failed: ExecFailed' ||
	fail "not a warning with the jobtype: $(grep ExecFailed "$T/fkworker.log" | head -n 1)"

# 300 failing jobs over 2 children: rate-limited per child, with counts.
t0=$(now_s)
cli push -n 300 --jobtype boom --prefix many >/dev/null
wait_for 60 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq .failed) -ge 301 ]" ||
	fail "failed $(sfield .failed), want 301"
# counted: every failure is on a line of its own or counted in a later one.
counted() {
	held=$(grep -o "[0-9]* more job(s) failed" "$T/fkworker.log" | awk '{s += $1} END {print s + 0}')
	shown=$(grep -c "failed: ExecFailed" "$T/fkworker.log")
	[ $((held + shown)) -eq 301 ]
}
wait_for 10 counted || { counted; fail "shown $shown + counted $held, want 301"; }
counted
el=$(elapsed "$t0")
lines=$(grep -c "failed: ExecFailed\|more job(s) failed" "$T/fkworker.log")
[ "$held" -gt 0 ] || fail "nothing held back: not rate-limited"
# At most 2 lines a second per child (one failure, one count), plus the first.
awk "BEGIN{exit !($lines <= 2 * 2 * ($el + 2) + 1)}" ||
	fail "$lines lines in ${el}s: not rate-limited"
echo "# 301 failed exec jobs: $shown lines shown, $held counted, in ${el}s"

# Reload onto a missing command: refused with the reason, old configuration kept.
old=$(child_pids | sort | tr '\n' ' ')
cp "$T/bad.conf" "$T/f.conf"
rc=0; ctl reload >"$T/out" 2>&1 || rc=$?
expect_eq "reload exit status" $rc 1
grep -qF "$T/f.conf:$la: handlers[0].exec: the command /nonexistent/fkw-cmd" "$T/out" ||
	fail "reload reason: $(cat "$T/out")"
expect_log "reload refused"
expect_eq "children kept" "$(child_pids | sort | tr '\n' ' ')" "$old"
