#!/bin/bash
# Operator messages say what happened and what to do next:
# - --version: fkworker and fkworkerctl print the one version (SUP_VERSION,
#   the Debian changelog's, status's);
# - reload while quiet (or stopping) is refused with the next step;
# - a child that only failed jobs does not say "N jobs done" when it exits:
#   it says how many were processed and how many failed;
# - every line of a multi-line log message (a refused reload and its
#   reasons) carries the <N> priority and the process tag.
. "$(dirname "$0")/lib.sh"
V=$(sed -n 's/.*SUP_VERSION[[:space:]]*"\([^"]*\)".*/\1/p' "$ROOT/supervisor/sup.h")
[ -n "$V" ] || fail "no SUP_VERSION"
expect_eq "changelog version" "$(sed -n '1s/^fkworker (\([^)]*\)).*/\1/p' "$ROOT/packaging/debian/changelog")" "$V"
expect_eq "fkworker --version" "$("$B/fkworker" --version)" "fkworker $V"
expect_eq "fkworkerctl --version" "$("$B/fkworkerctl" --version)" "fkworkerctl $V"

start_broker
CPUS=1 CONCURRENCY=10 sup_conf "$T/f.conf" "" '{ jobtype = "x"; exec = [ "/bin/false" ]; },'
start_fkworker "$T/f.conf"
wait_ready 20
expect_eq "status version" "$(sfield .version)" "$V"
cli push -n 3 --jobtype x --prefix x --retry 0 >/dev/null
cli wait-done --timeout 20 3 >/dev/null || fail "exec jobs not done: $(cli audit)"
expect_eq "failed" "$(stat_field failed)" 3
wait_for 5 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq .failed) -eq 3 ]" ||
    fail "status did not count the failures"

# A refused reload logs its reasons on lines of their own: each carries the
# warning priority and the tag, so journalctl -p warning shows them.
cp "$T/f.conf" "$T/good.conf"
sed -i 's/queues = \[ "default" \];/&\n\tbogus_one = 1;\n\tbogus_two = 2;/' "$T/f.conf"
rc=0
ctl reload >"$T/out" 2>&1 || rc=$?
expect_eq "invalid reload exits" "$rc" 1
for k in bogus_one bogus_two; do
	l=$(grep -n "$k" "$T/f.conf" | cut -d: -f1)
	wait_for 5 grep -q "f.conf:$l: worker.$k" "$T/fkworker.log" || fail "$k not logged"
	grep -q "^<4>fkworker\[$FKW_PID\]: master: .*f.conf:$l: worker.$k" "$T/fkworker.log" ||
	    fail "the reason for $k lost its priority or tag: $(grep "$k" "$T/fkworker.log")"
done
echo "# $(grep "bogus_two" "$T/fkworker.log")"
cp "$T/good.conf" "$T/f.conf"

ctl quiet >/dev/null
rc=0
ctl reload >"$T/out" 2>&1 || rc=$?
echo "# reload while quiet: exit $rc, '$(cat "$T/out")'"
expect_eq "reload while quiet exits" "$rc" 1
grep -q "cannot reload while quiet" "$T/out" || fail "reload: $(cat "$T/out")"
grep -q "restart fkworker (systemctl restart fkworker)" "$T/out" ||
    fail "no next step: $(cat "$T/out")"

stop_pid "$FKW_PID" 20
line=$(grep "worker 0: exiting" "$T/fkworker.log" || true)
echo "# $line"
[ -n "$line" ] || fail "no exit line"
echo "$line" | grep -q "jobs done" && fail "claims jobs done: $line"
echo "$line" | grep -q "exiting: 0 processed, 3 failed" || fail "exit line: $line"
