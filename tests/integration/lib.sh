# SPDX-License-Identifier: MIT
# Shared helpers for integration tests: sourced, never run. Every process a
# test starts is recorded and stopped by pid when the test exits.
# Lines a test prints starting with '#' are shown by the runner on success.
set -eu
B=${FKW_BUILD:?run through tests/integration/run.sh or set FKW_BUILD}
ROOT=${FKW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/fkw-test.XXXXXX)
PIDS=""

cleanup() {
	rc=$?
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ $rc -ne 0 ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "---- $f (tail)"; tail -n 30 "$f"
		done
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
track() { PIDS="$PIDS $1"; }

# stop_pid PID [SECONDS]: TERM, wait, then KILL. Returns the exit status when it was our child.
stop_pid() {
	p=$1; lim=${2:-10}
	kill -TERM "$p" 2>/dev/null || return 0
	i=0
	while kill -0 "$p" 2>/dev/null && [ $i -lt $((lim * 10)) ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds or time runs out.
wait_for() {
	lim=$1; shift
	i=0
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $((lim * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

# start_broker [ARGS...]: starts fkbroker on a free loopback port; sets BROKER_PID, BROKER_PORT.
start_broker() {
	rm -f "$T/broker.port"
	"$B/fkbroker" -b 127.0.0.1:0 --port-file "$T/broker.port" "$@" >"$T/broker.log" 2>&1 &
	BROKER_PID=$!
	track $BROKER_PID
	wait_for 10 test -s "$T/broker.port" || fail "fkbroker did not start"
	BROKER_PORT=$(cat "$T/broker.port")
	BROKER_URL="tcp://127.0.0.1:$BROKER_PORT"
}

# ---- talking to fkbroker (after start_broker) ----

# cli ARGS...: fkcli against the broker (see tests/tools/fkcli.c for the commands).
cli() { "$B/fkcli" -u "$BROKER_URL" "$@"; }
# audit_field NAME: one field of the broker's XAUDIT (done, pending, acked_multi, ...).
audit_field() { cli audit | jq -r ".$1"; }
# stats_field NAME: one field of the broker's XSTATS.
stats_field() { cli XSTATS | jq -r ".$1"; }
# xjob_field JID NAME: one field of XJOB for a jid.
xjob_field() { cli XJOB "$1" | jq -r ".$2"; }
# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# raw SECONDS FORMAT [ARGS...]: one raw connection to the broker: writes
# printf FORMAT ARGS, prints what comes back, then "! EOF" if the broker closed
# the connection within SECONDS or "! OPEN" if it was still open.
raw() {
	_secs=$1; shift
	exec 9<>"/dev/tcp/127.0.0.1/$BROKER_PORT" || fail "cannot connect to the broker"
	# shellcheck disable=SC2059
	printf "$@" >&9 2>/dev/null || true
	if timeout "$_secs" cat <&9; then echo "! EOF"; else echo "! OPEN"; fi
	exec 9<&- 9>&-
}

# now_s / elapsed T0: seconds since T0 with three decimals.
now_s() { date +%s.%N; }
elapsed() { awk "BEGIN{printf \"%.3f\", $(now_s) - $1}"; }
# between VALUE LOW HIGH: numeric check.
between() { awk "BEGIN{exit !($1 >= $2 && $1 <= $3)}"; }
