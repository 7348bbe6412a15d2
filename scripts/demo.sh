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
N=${DEMO_JOBS:-100000}
D=$(mktemp -d /tmp/fkworker-demo.XXXXXX)
BROKER_PID=""
FKW_PID=""
CHILDREN=""

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# stop PID SECONDS: TERM, wait, then KILL; never by name.
stop() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "demo: pid $1 did not stop in $2 s; killing it" >&2
		kill -KILL "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM
	stop "$FKW_PID" 40
	# The children die with the master; make sure of it.
	for p in $CHILDREN; do
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	stop "$BROKER_PID" 10
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
"$B/fkbroker" -b 127.0.0.1:0 --port-file "$D/broker.port" >"$D/broker.log" 2>&1 &
BROKER_PID=$!
i=0
until [ -s "$D/broker.port" ]; do
	kill -0 "$BROKER_PID" 2>/dev/null || die "fkbroker exited (see above)"
	[ $i -lt 100 ] || die "fkbroker did not start within 10 s"
	sleep 0.1
	i=$((i + 1))
done
URL="tcp://127.0.0.1:$(cat "$D/broker.port")"
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
i=0
until "$B/fkworkerctl" -s "$SOCK" status --json 2>/dev/null | grep -q '"state": "running"'; do
	kill -0 "$FKW_PID" 2>/dev/null || die "fkworker exited (see its log below)"
	[ $i -lt 300 ] || die "fkworker was not ready within 30 s"
	sleep 0.1
	i=$((i + 1))
done
CHILDREN=$("$B/fkworkerctl" -s "$SOCK" status --json | sed -n 's/^ *"pid": \([0-9]*\),*$/\1/p')
echo "fkworker (pid $FKW_PID) is ready: control socket $SOCK"

step "fkworkerctl perf-test $N"
"$B/fkworkerctl" -s "$SOCK" perf-test "$N"

step "fkworkerctl status"
"$B/fkworkerctl" -s "$SOCK" status

step "Stopping fkworker (SIGTERM: children finish their jobs) and fkbroker"
stop "$FKW_PID" 40
FKW_PID=""
stop "$BROKER_PID" 10
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
