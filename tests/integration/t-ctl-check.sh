#!/bin/bash
# fkworkerctl check: one monitoring-plugin line and exit code per state of a
# real fkworker against fkbroker: OK (0) when every connection is up;
# WARNING (1) while quiet and while a crashed child waits to respawn;
# CRITICAL (2) when the master's Faktory connection is down and when
# fkworker is not running; UNKNOWN (3) when the control socket answers
# nothing usable. status keeps exiting 0 whatever the host's health.
. "$(dirname "$0")/lib.sh"
# check_rc SOCKET [ARGS...]: runs fkworkerctl check, its output in $T/check.out; sets RC.
check_rc() {
	RC=0
	"$B/fkworkerctl" -s "$1" check "${@:2}" >"$T/check.out" 2>&1 || RC=$?
}
# expect_check WANT_RC PATTERN SOCKET [ARGS...]: one check gives WANT_RC and a line matching PATTERN.
expect_check() {
	want=$1 pat=$2; shift 2
	check_rc "$@"
	expect_eq "check exit ($(cat "$T/check.out"))" "$RC" "$want"
	expect_eq "check prints one line" "$(wc -l <"$T/check.out")" 1
	grep -Eq "$pat" "$T/check.out" || fail "check said '$(cat "$T/check.out")', want /$pat/"
	echo "# exit $RC: $(cut -c1-150 "$T/check.out")"
}
# is_check WANT_RC: check exits WANT_RC now.
is_check() { check_rc "$SOCK"; [ "$RC" = "$1" ]; }

# Not running: no socket there at all.
expect_check 2 '^FKWORKER CRITICAL - not running: ' "$T/none.sock"

CPUS=2 CONCURRENCY=20 STATS_MS=50 sup_up
expect_check 0 '^FKWORKER OK - 20/20 connections up, 2/2 children, 20 slots \| ' "$SOCK"
grep -Eq '\| connected=20;20:;1:;0;20 children=2;2:;1:;0;2 busy=0;;;0;20 jobs_per_sec=[0-9.]+ processed=0c failed=0c restarts=0c$' \
    "$T/check.out" || fail "perfdata: $(cat "$T/check.out")"

# A child crashing again within 10 s waits 1 s before its respawn (a first
# crash respawns at once): WARNING meanwhile, then OK once it is back.
victim=$(child_pid 1)
[ -n "$victim" ] || fail "no child 1"
kill -KILL "$victim"
# The respawned child must be ready (its own state, not only the host's) before
# the second kill, or check may first see it "starting" and only then reaped.
child1_state() { sfield '.children[] | select(.index == 1 and .state != "draining") | .state' | tail -n 1; }
respawned() { p=$(child_pid 1); [ -n "$p" ] && [ "$p" != "$victim" ] &&
    [ "$(child1_state)" = ready ] && is_state running; }
wait_for 10 respawned || fail "child 1 not respawned"
kill -KILL "$(child_pid 1)"
backoff() { is_check 1 && grep -Eq '^FKWORKER WARNING - child 1 restarting \(backoff\)' "$T/check.out"; }
wait_for 5 backoff || fail "no WARNING naming child 1 in backoff: $(cat "$T/check.out")"
wait_for 20 is_check 0 || fail "no OK after the child came back: $(cat "$T/check.out")"
grep -q ' restarts=2c$' "$T/check.out" || fail "restarts not counted: $(cat "$T/check.out")"

# Quiet: WARNING, and it says how to resume.
ctl quiet >/dev/null
expect_check 1 '^FKWORKER WARNING - quiet: no job is fetched \(restart fkworker to resume\); ' \
    "$SOCK"
rc=0; ctl status >/dev/null || rc=$?
expect_eq "status exit while quiet" "$rc" 0

# The server gone: CRITICAL, naming the URL.
stop_pid "$BROKER_PID"
wait_for 20 is_check 2 || fail "no CRITICAL with the server down: $(cat "$T/check.out")"
grep -q "^FKWORKER CRITICAL - not connected to Faktory at $BROKER_URL" "$T/check.out" ||
    fail "critical line: $(cat "$T/check.out")"
rc=0; ctl status >/dev/null || rc=$?
expect_eq "status exit with the server down" "$rc" 0

# UNKNOWN: something listens on the socket path but is no fkworker.
socat UNIX-LISTEN:"$T/bogus.sock",fork SYSTEM:'echo not-msgpack' >/dev/null 2>&1 &
track $!
wait_for 5 test -S "$T/bogus.sock" || fail "socat did not listen"
expect_check 3 '^FKWORKER UNKNOWN - ' "$T/bogus.sock"
# Usage errors are UNKNOWN too (a plugin never exits 64).
expect_check 3 '^FKWORKER UNKNOWN - usage: ' "$SOCK" --bogus
echo "# check: OK, WARNING (child killed, quiet), CRITICAL (server down, not running), UNKNOWN"
