#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: the whole product end to end on this machine, in about a minute.
#   1. fkbroker (the test Faktory server) on a free loopback port
#   2. fkworker with the documented default configuration (conf/fkworker.conf),
#      its faktory.url pointed at that broker
#   3. fkworkerctl perf-test 100000, then fkworkerctl status
#   4. everything it started is stopped again, by pid
# Usage: demo.sh BUILD_DIR   (make demo builds first). DEMO_JOBS=N changes the job count.
set -eu
B=$(cd "${1:-build}" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# fkbroker_start, wait_for_pid, stop_pid (TERM, wait, then KILL; never by name).
. "$ROOT/scripts/lib-proc.sh"
N=${DEMO_JOBS:-100000}
D=$(mktemp -d /tmp/fkworker-demo.XXXXXX)
BROKER_PID=""
FKW_PID=""
CHILDREN=""

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

cleanup() {
	rc=$?
	trap - EXIT INT TERM
	stop_pid "$FKW_PID" 40 demo
	# The children die with the master; make sure of it.
	for p in $CHILDREN; do
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	stop_pid "$BROKER_PID" 10 demo
	if [ $rc -ne 0 ]; then
		for f in "$D/fkworker.log" "$D/broker.log"; do
			[ -s "$f" ] && { echo "---- last lines of $(basename "$f")"; tail -n 20 "$f"; }
		done
	fi
	rm -rf "$D"
	exit $rc
}
trap cleanup EXIT INT TERM

for f in fkbroker fkworker fkworkerctl; do
	[ -x "$B/$f" ] || die "$B/$f is missing: run 'make demo' (it builds first)"
done
[ -f "$ROOT/conf/fkworker.conf" ] || die "conf/fkworker.conf is missing"

step "Starting fkbroker, a small Faktory-compatible test server, on 127.0.0.1"
# Like Faktory, fkbroker accepts 2000 connections by default: the default
# configuration (2000 slots, worker.connections "auto") opens 32 per child.
fkbroker_start "$D" || die "fkbroker exited or did not start within 10 s (see its log below)"
URL=$BROKER_URL
echo "fkbroker (pid $BROKER_PID) listens at $URL"
echo "note: a real open-source Faktory server accepts 2000 connections in all; fkworker"
echo "      opens worker.connections of them (\"auto\": 32 per child, a quarter of"
echo "      faktory.connection_budget at most) and one for its heartbeat."

step "Starting fkworker with conf/fkworker.conf, pointed at $URL"
# The shipped file, with the server and the control socket of this demo.
sed -e "s|^\([[:space:]]*url[[:space:]]*=[[:space:]]*\)\"[^\"]*\"|\1\"$URL\"|" \
    -e "s|^\([[:space:]]*socket[[:space:]]*=[[:space:]]*\)\"[^\"]*\"|\1\"$D/control.sock\"|" \
    "$ROOT/conf/fkworker.conf" >"$D/fkworker.conf"
grep -q "$D/control.sock" "$D/fkworker.conf" || die "cannot set control.socket in the demo copy"
SOCK="$D/control.sock"
# FAKTORY_URL wins over the file, as for operators; the sed above keeps the copy honest.
FAKTORY_URL="$URL" "$B/fkworker" -c "$D/fkworker.conf" >"$D/fkworker.log" 2>&1 &
FKW_PID=$!
running() { "$B/fkworkerctl" -s "$SOCK" status --json 2>/dev/null | grep -q '"state": "running"'; }
rc=0
wait_for_pid "$FKW_PID" 30 running || rc=$?
[ $rc -ne 2 ] || die "fkworker exited (see its log below)"
[ $rc -eq 0 ] || die "fkworker was not ready within 30 s"
CHILDREN=$("$B/fkworkerctl" -s "$SOCK" status --json | sed -n 's/^ *"pid": \([0-9]*\),*$/\1/p')
echo "fkworker (pid $FKW_PID) is ready: control socket $SOCK"

step "fkworkerctl perf-test $N"
"$B/fkworkerctl" -s "$SOCK" perf-test "$N"

step "fkworkerctl status"
"$B/fkworkerctl" -s "$SOCK" status

step "Stopping fkworker (SIGTERM: children finish their jobs) and fkbroker"
stop_pid "$FKW_PID" 40 demo
FKW_PID=""
stop_pid "$BROKER_PID" 10 demo
BROKER_PID=""
left=""
for p in $CHILDREN; do
	kill -0 "$p" 2>/dev/null && left="$left $p"
done
[ -z "$left" ] || die "children still running after the master stopped:$left"
echo "Everything the demo started has stopped."
echo
echo "Next: read README.md; tune worker.concurrency and worker.cpus in /etc/fkworker.conf,"
echo "then 'fkworkerctl reload'; measure again with 'fkworkerctl perf-test 100000'."
