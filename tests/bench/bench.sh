#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench: noop jobs end to end through fkbroker, first with fkworker, then with the
# Node.js faktory-worker package on the same broker and workload. Prints jobs/s, the
# worker's CPU microseconds per job (utime+stime from /proc, all its processes), and
# the ratios of the two measured in this run.
# fkworker runs twice: with one slot per connection (the default) and with BENCH_SPC slots
# sharing each connection (worker.slots_per_connection). Each first drains N jobs queued
# before it starts (worker + broker FETCH/ACK), then works N jobs pushed while it runs
# (adds the broker's PUSH path, the costlier half of its work, on the same cores).
# Env: BENCH_JOBS (200000), BENCH_CONCURRENCY (400), BENCH_CPUS (2), BENCH_SPC (32),
# BENCH_NODE (1 = run node).
set -euo pipefail
B=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${BENCH_JOBS:-200000}
C=${BENCH_CONCURRENCY:-400}
CPUS=${BENCH_CPUS:-2}
T=$(mktemp -d /tmp/fkw-bench.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $PIDS; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
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

# fresh_broker: a new fkbroker for each worker measured, so none pays for the
# audit records the previous runs left in the broker's memory.
BPID=""
fresh_broker() {
	if [ -n "$BPID" ]; then
		kill -TERM "$BPID" 2>/dev/null || true
		wait "$BPID" 2>/dev/null || true
	fi
	rm -f "$T/port"
	"$B/fkbroker" -b 127.0.0.1:0 --port-file "$T/port" >"$T/broker.log" 2>&1 &
	BPID=$!; PIDS="$PIDS $BPID"
	for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
	URL="tcp://127.0.0.1:$(cat "$T/port")"
}
cli() { "$B/fkcli" -u "$URL" "$@"; }

# run_case LABEL PIDS_FN: pushes N jobs while the worker runs, waits for all, prints a line.
measure() {
	local label=$1 wpids=$2 prefix=$3
	local base b0 w0 t0 t1 b1 w1 done
	base=$(cli audit | jq .done)
	b0=$(cpu_ticks $BPID); w0=$(cpu_ticks $wpids)
	t0=$(date +%s.%N)
	cli push -n "$N" --jobtype noop --prefix "$prefix" --batch 1000 >/dev/null
	cli wait-done $((base + N)) --timeout 600 >/dev/null
	t1=$(date +%s.%N)
	b1=$(cpu_ticks $BPID); w1=$(cpu_ticks $wpids)
	awk -v l="$label" -v n="$N" -v t0="$t0" -v t1="$t1" -v w="$((w1 - w0))" \
	    -v b="$((b1 - b0))" -v tck="$TCK" 'BEGIN {
		s = t1 - t0; r = n / s; wus = w / tck * 1e6 / n; bus = b / tck * 1e6 / n;
		printf "bench: %-26s %d jobs in %.2f s: %.0f jobs/s, worker CPU %.2f us/job (broker %.2f us/job)\n", l, n, s, r, wus, bus;
		printf "%f %f\n", r, wus > "/dev/stderr" }' 2>"$T/$prefix.result"
}

# ---- the floor: one loopback round trip, no protocol ----
if [ -x "$B/rtt_floor" ]; then
	read -r fu fs < <(taskset -c 1 "$B/rtt_floor")
	awk -v u="$fu" -v s="$fs" 'BEGIN { printf "bench: loopback TCP round trip (no work): %.2f us CPU (user %.2f, sys %.2f): the least one ACK+FETCH per job can cost\n", u + s, u, s }'
fi

# ---- fkworker: one slot per connection (the default), then slots sharing connections ----
# run_fkw SLOTS_PER_CONNECTION PREFIX
run_fkw() {
	fresh_broker
	cat >"$T/fkw.conf" <<CONF
faktory: { url = "$URL"; };
worker: { concurrency = $C; cpus = $CPUS; queues = [ "default" ]; slots_per_connection = $1; };
control: { socket = "$T/ctl.sock"; };
log: { level = "warning"; };
CONF
	# Draining a queue filled beforehand: the worker and the broker's FETCH+ACK alone,
	# without the broker's PUSH path (its Go-style JSON round trip) in the same seconds.
	local base t0 t1
	base=$(cli audit | jq .done)
	cli push -n "$N" --jobtype noop --prefix "$2-q" --batch 1000 >/dev/null
	t0=$(date +%s.%N)
	"$B/fkworker" -c "$T/fkw.conf" >"$T/fkworker.log" 2>&1 &
	WPID=$!; PIDS="$PIDS $WPID"
	cli wait-done $((base + N)) --timeout 600 >/dev/null
	t1=$(date +%s.%N)
	awk -v l="fkworker ($CPUS children, $C slots, $1/conn)" -v n="$N" -v t0="$t0" -v t1="$t1" \
	    -v w="$(cpu_ticks $(family $WPID))" -v tck="$TCK" 'BEGIN { s = t1 - t0;
		printf "bench: %s draining %d queued jobs: %.2f s from start: %.0f jobs/s, worker CPU %.2f us/job (start-up included)\n", l, n, s, n / s, w / tck * 1e6 / n }'
	kill -0 $WPID || { cat "$T/fkworker.log"; exit 1; }
	# A warm-up run, then the measured one.
	N_SAVE=$N; N=$((N / 10)); measure "fkworker warm-up" "$(family $WPID)" "$2-warm" >/dev/null; N=$N_SAVE
	measure "fkworker ($CPUS children, $C slots, $1/conn)" "$(family $WPID)" "$2"
	kill -TERM $WPID; wait $WPID 2>/dev/null || true
}
SPC=${BENCH_SPC:-32}
run_fkw 1 fkw1
run_fkw "$SPC" fkw
read -r r1 c1 <"$T/fkw1.result"; read -r rs cs <"$T/fkw.result"
awk -v r1="$r1" -v c1="$c1" -v rs="$rs" -v cs="$cs" -v s="$SPC" 'BEGIN {
	printf "bench: %d slots per connection vs 1: %.1fx the jobs/s, %.1fx less CPU per job\n", s, rs / r1, c1 / cs }'

# ---- Node.js faktory-worker ----
if [ "${BENCH_NODE:-1}" = 1 ] && [ -d "$ROOT/tests/interop/node_modules/faktory-worker" ]; then
	fresh_broker
	FAKTORY_URL="$URL" NODE_PATH="$ROOT/tests/interop/node_modules" \
	    node "$ROOT/tests/bench/node-worker.js" "$C" >"$T/node.log" 2>&1 &
	NPID=$!; PIDS="$PIDS $NPID"
	sleep 1
	kill -0 $NPID || { cat "$T/node.log"; exit 1; }
	NN=${BENCH_NODE_JOBS:-$((N / 4))}
	N_SAVE=$N; N=$NN
	measure "node faktory-worker ($C)" "$NPID" node
	N=$N_SAVE
	kill -TERM $NPID; wait $NPID 2>/dev/null || true
	read -r nr nc <"$T/node.result"
	awk -v r1="$r1" -v c1="$c1" -v rs="$rs" -v cs="$cs" -v s="$SPC" -v nr="$nr" -v nc="$nc" 'BEGIN {
		printf "bench: fkworker (1/conn) vs node faktory-worker: %.1fx the jobs/s, %.1fx less CPU per job\n", r1 / nr, nc / c1
		printf "bench: fkworker (%d/conn) vs node faktory-worker: %.1fx the jobs/s, %.1fx less CPU per job\n", s, rs / nr, nc / cs }'
else
	echo "bench: node faktory-worker not installed (run make interop first); comparison skipped"
fi
