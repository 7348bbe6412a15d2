#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench: noop jobs end to end through fkbroker, in two shapes of server, each with a
# fresh broker per worker measured:
#   fast:  fkbroker as fast as it goes (answers a connection's pipelined commands in bulk);
#   real:  fkbroker serving like the real Faktory server (--service-us 150: each command
#          holds its connection 150 us, one at a time; docs/faktory-protocol.md 2.4).
# In each, fkworker drains N jobs queued before it starts, with the shipped connection count
# ("auto") and with one connection per slot (connections = concurrency, the shape the project
# started from), then (fast only) works N jobs pushed while it runs. Each line gives jobs/s,
# the worker's CPU microseconds per job (utime+stime of all its processes, from /proc), the
# connections it opened and the FETCHes it sent per job; the ratio lines compare runs of the
# same shape in this run. The Node.js faktory-worker package runs the same workloads. Last, exec
# jobs running /bin/true on one child (tests/bench/bench-exec.sh: exec jobs/s per child, the
# worker's CPU per job).
# Env: BENCH_JOBS (200000), BENCH_CONCURRENCY (2000, the shipped value), BENCH_CPUS (2),
# BENCH_SERVICE_US (150), BENCH_NODE (1 = run node); BENCH_EXEC_JOBS, BENCH_EXEC_SLOTS (bench-exec.sh);
# BENCH_AUTO (1 = run bench-auto.sh and bench-auto-cpu.sh: concurrency "auto" against a sweep of
# fixed values on sleep jobs, and on CPU-heavy plugin jobs).
set -euo pipefail
B=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${BENCH_JOBS:-200000}
C=${BENCH_CONCURRENCY:-2000}
CPUS=${BENCH_CPUS:-2}
SERVICE=${BENCH_SERVICE_US:-150}
# fkbroker_start, stop_pid and stop_pids (TERM, wait, then KILL; never by name).
. "$ROOT/scripts/lib-proc.sh"
T=$(mktemp -d /tmp/fkw-bench.XXXXXX)
PIDS=""
cleanup() {
	# shellcheck disable=SC2086 # a list of pids
	stop_pids 5 $PIDS
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

TCK=$(getconf CLK_TCK)
# cpu_ticks PID...: utime+stime of the processes (fields 14 and 15 of /proc/PID/stat).
cpu_ticks() {
	local sum=0 p
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		sum=$((sum + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
	done
	echo $sum
}
family() { echo "$1 $(ps -o pid= --ppid "$1" | tr '\n' ' ')"; }

# fresh_broker [ARGS...]: a new fkbroker for each worker measured, so none pays for the
# audit records the previous runs left in the broker's memory.
BROKER_PID=""
fresh_broker() {
	stop_pid "$BROKER_PID" 10 bench
	local ok=1
	fkbroker_start "$T" --max-conns 10000 "$@" || ok=0
	PIDS="$PIDS $BROKER_PID"
	[ $ok = 1 ] || { cat "$T/broker.log"; echo "bench: fkbroker did not start" >&2; exit 1; }
	URL=$BROKER_URL
}
cli() { "$B/fkcli" -u "$URL" "$@"; }
status() { "$B/fkworkerctl" -s "$T/ctl.sock" status --json; }

# ---- the floor: one loopback round trip, no protocol ----
if [ -x "$B/rtt_floor" ]; then
	read -r fu fs < <(taskset -c 1 "$B/rtt_floor")
	awk -v u="$fu" -v s="$fs" 'BEGIN { printf "bench: loopback TCP round trip (no work): %.2f us CPU (user %.2f, sys %.2f): the least one ACK+FETCH per job can cost\n", u + s, u, s }'
fi

# result KEY JOBS/S US/JOB: kept for the ratio lines.
result() { echo "$2 $3" >"$T/$1.result"; }

# measure LABEL PIDS PREFIX: pushes N jobs while the worker runs, waits for all, one line.
measure() {
	local label=$1 wpids=$2 prefix=$3 base w0 t0 t1 w1
	base=$(cli audit | jq .done)
	w0=$(cpu_ticks $wpids)
	t0=$(date +%s.%N)
	cli push -n "$N" --jobtype noop --prefix "$prefix" --batch 1000 >/dev/null
	cli wait-done $((base + N)) --timeout 600 >/dev/null
	t1=$(date +%s.%N)
	w1=$(cpu_ticks $wpids)
	awk -v l="$label" -v n="$N" -v t0="$t0" -v t1="$t1" -v w="$((w1 - w0))" -v tck="$TCK" \
	    'BEGIN { s = t1 - t0; printf "bench: %-44s %d pushed while it runs: %.2f s: %.0f jobs/s, worker CPU %.2f us/job\n", l, n, s, n / s, w / tck * 1e6 / n }'
}

# run_fkw SHAPE CONNECTIONS KEY [BROKER ARGS...]: drain N queued jobs, then (fast) live.
run_fkw() {
	local shape=$1 conns=$2 key=$3 base t0 t1 w label st nconn fetches
	shift 3
	fresh_broker "$@"
	cat >"$T/fkw.conf" <<CONF
faktory: { url = "$URL"; connection_budget = 10000; };
worker: { concurrency = $C; cpus = $CPUS; queues = [ "default" ]; connections = $conns; };
control: { socket = "$T/ctl.sock"; };
log: { level = "warning"; };
CONF
	base=$(cli audit | jq .done)
	cli push -n "$N" --jobtype noop --prefix "$key-q" --batch 1000 >/dev/null
	t0=$(date +%s.%N)
	"$B/fkworker" -c "$T/fkw.conf" >"$T/fkworker.log" 2>&1 &
	WPID=$!; PIDS="$PIDS $WPID"
	cli wait-done $((base + N)) --timeout 600 >/dev/null
	t1=$(date +%s.%N)
	w=$(cpu_ticks $(family $WPID))
	kill -0 $WPID || { cat "$T/fkworker.log"; exit 1; }
	st=$(status)
	nconn=$(echo "$st" | jq .connections)
	fetches=$(echo "$st" | jq .fetches)
	label="fkworker $shape, $C slots, $nconn conns"
	awk -v l="$label" -v n="$N" -v t0="$t0" -v t1="$t1" -v w="$w" -v tck="$TCK" -v f="$fetches" \
	    -v k="$T/$key.result" 'BEGIN { s = t1 - t0; r = n / s; us = w / tck * 1e6 / n;
		printf "bench: %-44s drains %d queued: %.2f s: %.0f jobs/s, worker CPU %.2f us/job, %.3f FETCH/job (start-up included)\n", l, n, s, r, us, f / n
		printf "%f %f %d\n", r, us, 0 > k }'
	sed -i "s/ 0\$/ $nconn/" "$T/$key.result"
	if [ "$shape" = fast ]; then
		# A warm-up, then the measured one.
		N_SAVE=$N; N=$((N / 10)); measure "warm-up" "$(family $WPID)" "$key-w" >/dev/null; N=$N_SAVE
		measure "$label" "$(family $WPID)" "$key-live"
	fi
	stop_pid "$WPID" 30 bench
}

# compare KEY_AUTO KEY_PERSLOT SHAPE: the shipped count against one connection per slot.
compare() {
	read -r ra ca na <"$T/$1.result"; read -r rp cp np <"$T/$2.result"
	awk -v ra="$ra" -v ca="$ca" -v na="$na" -v rp="$rp" -v cp="$cp" -v np="$np" -v s="$3" \
	    'BEGIN { printf "bench: %s: %d connections vs one per slot (%d): %.2fx the jobs/s with %.2fx the connections, %.2fx the CPU per job\n", s, na, np, ra / rp, na / np, ca / cp }'
}

run_fkw fast '"auto"' fast-auto
run_fkw fast "$C" fast-slot
compare fast-auto fast-slot "fast fkbroker"
run_fkw "real-shape" '"auto"' real-auto --service-us "$SERVICE"
run_fkw "real-shape" "$C" real-slot --service-us "$SERVICE"
compare real-auto real-slot "fkbroker --service-us $SERVICE"

# ---- Node.js faktory-worker ----
run_node() {
	local key=$1 base t0 t1 w
	shift
	fresh_broker "$@"
	NN=${BENCH_NODE_JOBS:-$((N / 4))}
	base=$(cli audit | jq .done)
	cli push -n "$NN" --jobtype noop --prefix "$key" --batch 1000 >/dev/null
	t0=$(date +%s.%N)
	FAKTORY_URL="$URL" NODE_PATH="$ROOT/tests/interop/node_modules" \
	    node "$ROOT/tests/bench/node-worker.js" "$C" >"$T/node.log" 2>&1 &
	NPID=$!; PIDS="$PIDS $NPID"
	cli wait-done $((base + NN)) --timeout 600 >/dev/null
	t1=$(date +%s.%N)
	w=$(cpu_ticks $NPID)
	kill -0 $NPID || { cat "$T/node.log"; exit 1; }
	awk -v l="node faktory-worker ($C), $key" -v n="$NN" -v t0="$t0" -v t1="$t1" -v w="$w" \
	    -v tck="$TCK" -v k="$T/$key.result" 'BEGIN { s = t1 - t0; r = n / s; us = w / tck * 1e6 / n;
		printf "bench: %-44s drains %d queued: %.2f s: %.0f jobs/s, worker CPU %.2f us/job (start-up included)\n", l, n, s, r, us
		printf "%f %f 0\n", r, us > k }'
	stop_pid "$NPID" 10 bench
}
if [ "${BENCH_NODE:-1}" = 1 ] && [ -d "$ROOT/tests/interop/node_modules/faktory-worker" ]; then
	run_node node-fast
	run_node node-real --service-us "$SERVICE"
	for s in fast real; do
		read -r ra ca _ <"$T/$s-auto.result"; read -r rn cn _ <"$T/node-$s.result"
		awk -v ra="$ra" -v ca="$ca" -v rn="$rn" -v cn="$cn" -v s="$s" 'BEGIN {
			printf "bench: %s: fkworker (auto) vs node faktory-worker: %.1fx the jobs/s, %.1fx less CPU per job\n", s, ra / rn, cn / ca }'
	done
else
	echo "bench: node faktory-worker not installed (run make interop first); comparison skipped"
fi

# ---- exec jobs: /bin/true on one child ----
bash "$ROOT/tests/bench/bench-exec.sh" "$B"

if [ "${BENCH_AUTO:-1}" = 1 ]; then
	bash "$ROOT/tests/bench/bench-auto.sh" "$B"
	bash "$ROOT/tests/bench/bench-auto-cpu.sh" "$B"
fi
