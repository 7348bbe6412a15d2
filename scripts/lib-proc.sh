# SPDX-License-Identifier: MIT
# Process helpers shared by everything that starts fkbroker or fkworker from a
# shell: scripts/demo.sh, tests/integration/lib.sh, tests/interop/run.sh and
# tests/bench/bench.sh. Sourced, never run; POSIX sh plus "local" (dash and
# bash). A process is always stopped by its pid, never by name.
# shellcheck shell=sh disable=SC3043 # "local": dash and bash have it

# wait_for SECONDS CMD...: polls CMD (its output discarded) every 0.1 s until
# it succeeds; returns 1 if it still fails after SECONDS.
wait_for() { wait_for_pid "" "$@"; }

# wait_for_pid PID SECONDS CMD...: wait_for while PID runs: returns 2 as soon
# as PID has exited (no PID: never), 1 after SECONDS.
wait_for_pid() {
	local _lp_pid="$1" _lp_lim="$2" _lp_i=0
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		[ -z "$_lp_pid" ] || kill -0 "$_lp_pid" 2>/dev/null || return 2
		_lp_i=$((_lp_i + 1))
		[ $_lp_i -ge $((_lp_lim * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

# wait_gone PID SECONDS: polls every 0.1 s until PID has exited; returns 1 if it
# still runs after SECONDS.
wait_gone() {
	local _lp_i=0
	while kill -0 "$1" 2>/dev/null; do
		[ $_lp_i -lt $(($2 * 10)) ] || return 1
		sleep 0.1
		_lp_i=$((_lp_i + 1))
	done
	return 0
}

# stop_pid PID [SECONDS [WHO]]: SIGTERM, up to SECONDS (10) for it to exit,
# then SIGKILL (saying so on stderr as "WHO: ..." when WHO is given), and reaps
# it when it is our child. An empty PID, or one already gone, is no error.
stop_pid() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	if ! wait_gone "$1" "${2:-10}"; then
		[ -z "${3:-}" ] || echo "$3: pid $1 did not stop in ${2:-10} s; killing it" >&2
		kill -KILL "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
}

# stop_pids SECONDS PID...: SIGTERM to all of them at once, then for each up to
# SECONDS to exit before SIGKILL.
stop_pids() {
	local _lp_lim="$1" _lp_p
	shift
	for _lp_p in "$@"; do
		kill -TERM "$_lp_p" 2>/dev/null || true
	done
	for _lp_p in "$@"; do
		wait_gone "$_lp_p" "$_lp_lim" || kill -KILL "$_lp_p" 2>/dev/null || true
		wait "$_lp_p" 2>/dev/null || true
	done
}

# fkbroker_start DIR [FKBROKER ARGS...]: $B/fkbroker on a free loopback port,
# its output in DIR/broker.log; waits up to 10 s for the port it writes to
# DIR/broker.port. Sets BROKER_PID, BROKER_PORT and BROKER_URL; returns 1 if
# fkbroker exited or did not start in time.
fkbroker_start() {
	local _lp_dir="$1"
	shift
	rm -f "$_lp_dir/broker.port"
	"$B/fkbroker" -b 127.0.0.1:0 --port-file "$_lp_dir/broker.port" "$@" >"$_lp_dir/broker.log" 2>&1 &
	BROKER_PID=$!
	wait_for_pid "$BROKER_PID" 10 test -s "$_lp_dir/broker.port" || return 1
	BROKER_PORT=$(cat "$_lp_dir/broker.port")
	# shellcheck disable=SC2034 # for the caller
	BROKER_URL="tcp://127.0.0.1:$BROKER_PORT"
}
