# SPDX-License-Identifier: MIT
# The integration tests' library: sourced, never run. Every process a test
# starts is recorded and stopped by pid when the test exits. Lines a test
# prints starting with '#' are shown by the runner on success. The drills
# (t-drill-*.sh) source lib-drill.sh, which sources this file.
#
# From scripts/lib-proc.sh (shared with scripts/demo.sh, tests/interop and
# tests/bench): wait_for SECONDS CMD..., wait_gone PID SECONDS,
# stop_pid PID [SECONDS], stop_pids SECONDS PID..., fkbroker_start DIR [ARGS...].
set -eu
B=${FKW_BUILD:?run through tests/integration/run.sh or set FKW_BUILD}
ROOT=${FKW_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$ROOT/scripts/lib-proc.sh"
T=$(mktemp -d /tmp/fkw-test.XXXXXX)
PIDS=""
# The control socket of the fkworker under test (a test may set its own after sourcing).
SOCK=${SOCK:-$T/ctl.sock}

cleanup() {
	rc=$?
	# shellcheck disable=SC2086 # a list of pids
	stop_pids 5 $PIDS
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
# skip REASON: the test cannot run here: one line for run.sh, exit 77 (counted
# as skipped; a failure with FKW_NO_SKIP=1).
skip() { echo "skipped: $*"; exit 77; }

# wait_exit PID SECONDS: waits for our background job; sets EXIT_RC (124 on timeout).
wait_exit() {
	if ! wait_gone "$1" "$2"; then
		EXIT_RC=124
		return 0
	fi
	EXIT_RC=0
	wait "$1" || EXIT_RC=$?
}
# no_process PIDS...: fails if any still runs.
no_process() {
	for p in "$@"; do
		kill -0 "$p" 2>/dev/null && fail "pid $p still running"
	done
	return 0
}
# all_gone PIDS...: none of them runs any more (exited and reaped).
all_gone() {
	for p in "$@"; do
		kill -0 "$p" 2>/dev/null && return 1
	done
	return 0
}
# pid_gone PID: no such process, or a zombie waiting for init.
pid_gone() { ! [ -e "/proc/$1" ] || grep -q '^[0-9]* (.*) [ZX] ' "/proc/$1/stat" 2>/dev/null; }

# start_broker [ARGS...]: starts fkbroker on a free loopback port; sets BROKER_PID, BROKER_PORT, BROKER_URL.
start_broker() {
	if ! fkbroker_start "$T" "$@"; then
		track "$BROKER_PID"
		fail "fkbroker did not start"
	fi
	track "$BROKER_PID"
}

# ---- talking to fkbroker (after start_broker) ----

# cli ARGS...: fkcli against the broker (see tests/tools/fkcli.c for the commands).
cli() { "$B/fkcli" -u "$BROKER_URL" "$@"; }
# audit FIELD: one field of the broker's XAUDIT (jobs, done, pending, acked_multi, ...).
audit() { cli audit | jq -r ".$1"; }
# stat_field FIELD: one field of the broker's XSTATS.
stat_field() { cli XSTATS | jq -r ".$1"; }
# job_field JID FIELD: one field of the broker's record of a job (XJOB).
job_field() { cli "XJOB $1" | jq -r ".$2"; }
# only_me: fkbroker has no connection left but the one asking.
only_me() { [ "$(stat_field connections)" = 1 ]; }
# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
# report LABEL: the one-line summary of the broker's audit some tests print.
report() {
	a=$(cli audit)
	echo "# $1: pushed $(echo "$a" | jq .jobs), done $(echo "$a" | jq .done), " \
	    "acked more than once $(echo "$a" | jq .acked_multi), pending $(echo "$a" | jq .pending)"
}

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

# ---- one worker child (fkworker --single) ----

# write_conf FILE [EXTRA_WORKER_KEYS] [HANDLERS]: a configuration pointed at the broker.
write_conf() {
	f=$1; extra=${2:-}; handlers=${3:-}
	[ -n "$handlers" ] || handlers='{ jobtype = "noop"; builtin = "noop"; },
	{ jobtype = "sleep"; builtin = "sleep"; },
	{ jobtype = "fail"; builtin = "fail"; }'
	cat >"$f" <<CONF
faktory: { url = "$BROKER_URL"; };
worker: {
	concurrency = ${CONCURRENCY:-50};
	cpus = 1;
	queues = [ "default" ];
	shutdown_timeout = ${SHUTDOWN_TIMEOUT:-5};
	$extra
};
handlers: (
	$handlers
);
control: { socket = "$T/ctl.sock"; };
log: { level = "${LOG_LEVEL:-info}"; };
CONF
}

# start_single CONF: one child without a master; sets WRK_PID.
start_single() {
	"$B/fkworker" --single -c "$1" >>"$T/worker.log" 2>&1 &
	WRK_PID=$!
	track $WRK_PID
}

# ---- the whole fkworker (master and children) ----

# sup_conf FILE [EXTRA_WORKER_KEYS] [EXTRA_HANDLERS]: a configuration for the master.
# CPUS, CONCURRENCY, SHUTDOWN_TIMEOUT, HEARTBEAT, CTL_MODE, LOG_LEVEL, STATS_LISTEN tune it.
sup_conf() {
	f=$1; extra=${2:-}; handlers=${3:-}
	cat >"$f" <<CONF
faktory: { url = "$BROKER_URL"; };
worker: {
	concurrency = ${CONCURRENCY:-100};
	cpus = ${CPUS:-2};
	queues = [ "default" ];
	shutdown_timeout = ${SHUTDOWN_TIMEOUT:-5};
	heartbeat = ${HEARTBEAT:-15};
	$extra
};
handlers: (
	$handlers
	{ jobtype = "noop"; builtin = "noop"; },
	{ jobtype = "sleep"; builtin = "sleep"; },
	{ jobtype = "fail"; builtin = "fail"; }
);
control: { socket = "$SOCK"; mode = ${CTL_MODE:-0660}; };
stats: { interval_ms = ${STATS_MS:-100};${STATS_LISTEN:+ listen = \"$STATS_LISTEN\";} };
log: { level = "${LOG_LEVEL:-info}"; };
CONF
}

# start_fkworker CONF [ARGS...]: the master in the foreground of a background job; sets FKW_PID.
start_fkworker() {
	c=$1; shift
	"$B/fkworker" -c "$c" "$@" >>"$T/fkworker.log" 2>&1 &
	FKW_PID=$!
	track $FKW_PID
}

# sup_up [FKBROKER ARGS...]: start_broker, $T/f.conf from sup_conf (tuned as
# there: CPUS=2 CONCURRENCY=50 sup_up), and the master on it, ready within 20 s.
sup_up() {
	start_broker "$@"
	sup_conf "$T/f.conf"
	start_fkworker "$T/f.conf"
	wait_ready 20
}

ctl() { "$B/fkworkerctl" -s "$SOCK" "$@"; }
# status_json: the status reply as JSON (without refreshing queue depths it still answers).
status_json() { ctl status --json; }
# sfield JQ_EXPR: one value of the status JSON.
sfield() { status_json | jq -r "$1"; }
is_state() { [ "$(sfield .state 2>/dev/null)" = "$1" ]; }
# wait_ready [SECONDS]: until every child's slots have connected.
wait_ready() { wait_for "${1:-20}" is_state running || fail "fkworker not ready"; }
# child_pids: the pids of the children serving now (not those draining after a replacement).
child_pids() { sfield '.children[] | select(.pid > 0 and .state != "draining") | .pid'; }
child_pid() { sfield ".children[] | select(.index == $1 and .pid > 0 and .state != \"draining\") | .pid" | tail -n 1; }
expect_log() { grep -Eq "$1" "$T/fkworker.log" || fail "log has no line matching: $1"; }
