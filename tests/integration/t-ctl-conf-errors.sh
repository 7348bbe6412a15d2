#!/bin/bash
# fkworkerctl -c FILE needs only control.socket: while FILE has errors in
# other keys (an operator half way through an edit), status still answers,
# and the file's errors are warnings on stderr naming file:line. A file that
# cannot be parsed at all falls back to the default socket, saying so; a file
# that does not exist is a usage error.
. "$(dirname "$0")/lib.sh"
CPUS=1 CONCURRENCY=10 sup_up
# The running configuration with two mistakes in keys fkworkerctl does not need.
sed -e 's/cpus = 1;/cpus = 0;/' -e 's/queues = \[ "default" \];/&\n\tqueuez = 3;/' \
    "$T/f.conf" >"$T/bad.conf"
rc=0
"$B/fkworker" -n -c "$T/bad.conf" >/dev/null 2>&1 || rc=$?
expect_eq "the edited file is invalid" "$rc" 78
rc=0
"$B/fkworkerctl" -c "$T/bad.conf" status >"$T/out" 2>"$T/err" || rc=$?
echo "# -c bad.conf status: exit $rc; stderr: $(tr '\n' ' ' <"$T/err")"
expect_eq "status with errors elsewhere in the file" "$rc" 0
grep -q "^fkworker .* running" "$T/out" || fail "no status: $(cat "$T/out")"
cpus_line=$(grep -n 'cpus = 0;' "$T/bad.conf" | cut -d: -f1)
grep -q "^fkworkerctl: warning: $T/bad.conf:$cpus_line: worker.cpus" "$T/err" ||
    fail "no warning naming file:line of worker.cpus: $(cat "$T/err")"
grep -q "queuez" "$T/err" || fail "no warning about the unknown key: $(cat "$T/err")"
# JSON stays clean on stdout.
"$B/fkworkerctl" -c "$T/bad.conf" status --json 2>/dev/null | jq -e '.state == "running"' \
    >/dev/null || fail "status --json with warnings"
# check too.
rc=0
"$B/fkworkerctl" -c "$T/bad.conf" check >"$T/out" 2>/dev/null || rc=$?
expect_eq "check with errors elsewhere in the file" "$rc" 0

# control.socket itself unusable (a syntax error hides every key): the default socket, said so.
printf 'control: { socket = "%s"; };\nworker: { cpus = ;\n' "$SOCK" >"$T/syntax.conf"
rc=0
"$B/fkworkerctl" -c "$T/syntax.conf" status >/dev/null 2>"$T/err" || rc=$?
[ "$rc" -ne 64 ] || fail "refused a file with a syntax error: $(cat "$T/err")"
grep -q "warning: $T/syntax.conf:2: " "$T/err" || fail "syntax error not shown: $(cat "$T/err")"
grep -q "trying the default /run/fkworker/control.sock" "$T/err" ||
    fail "the fallback is not said: $(cat "$T/err")"
# No such file: a usage error.
rc=0
"$B/fkworkerctl" -c "$T/nonexistent.conf" status >/dev/null 2>"$T/err" || rc=$?
expect_eq "exit for a missing file" "$rc" 64
grep -q "nonexistent.conf" "$T/err" || fail "missing file not named: $(cat "$T/err")"
