# SPDX-License-Identifier: MIT
# Helpers for tests of the whole fkworker (master and children) against fkbroker.
# Source after lib.sh (and lib-wrk.sh for cli/audit/expect_eq/report).

SOCK=${SOCK:-$T/ctl.sock}

# sup_conf FILE [EXTRA_WORKER_KEYS] [EXTRA_HANDLERS]: a configuration for the master.
# CPUS, CONCURRENCY, SHUTDOWN_TIMEOUT, HEARTBEAT, CTL_MODE, LOG_LEVEL tune it.
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
stats: { interval_ms = ${STATS_MS:-100}; };
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
# jfield JID FIELD: one field of the broker's record of a job.
jfield() { cli "XJOB $1" | jq -r ".$2"; }
expect_log() { grep -Eq "$1" "$T/fkworker.log" || fail "log has no line matching: $1"; }
# wait_exit PID SECONDS: waits for our background job; sets EXIT_RC (124 on timeout).
wait_exit() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do
		sleep 0.1; i=$((i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
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
# elapsed T0: seconds since T0 (from now_s) with three decimals.
now_s() { date +%s.%N; }
elapsed() { awk "BEGIN{printf \"%.3f\", $(now_s) - $1}"; }
