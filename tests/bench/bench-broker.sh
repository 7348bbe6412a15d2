#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench-broker: how many FETCH+ACK pairs per second fkbroker serves on one
# core. fkbroker runs pinned to CPU 0; jobs are pushed first, then fkloadgen
# (pinned to CPU 1) keeps BENCH_CONNS connections with a window of pipelined
# FETCHes each, ACKing every job in the same write as the next FETCH. The
# broker's CPU time comes from /proc/PID/schedstat (ns), so "us/pair" is what
# one pair costs the broker, whatever the client's speed.
# Env: BENCH_JOBS (500000), BENCH_CONNS (64), BENCH_WINDOW (32). A benchmark, not a test.
# The Makefile runs it with sh: continue in bash.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
B=$(cd "$1" && pwd)
N=${BENCH_JOBS:-500000}
CONNS=${BENCH_CONNS:-64}
WINDOW=${BENCH_WINDOW:-32}
T=$(mktemp -d /tmp/fkb-bench.XXXXXX)
BPID=""
cleanup() {
	if [ -n "$BPID" ] && kill -0 "$BPID" 2>/dev/null; then
		kill -TERM "$BPID" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$BPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$BPID" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

# pin CPU CMD...: taskset execs CMD, so "pin 0 cmd &" gives cmd's pid in $!.
PIN0="" PIN1=""
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	PIN0="taskset -c 0" PIN1="taskset -c 1"
fi
# cpu_ns PID: CPU time the process has used, in ns.
cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }

$PIN0 "$B/fkbroker" -b 127.0.0.1:0 --port-file "$T/port" >/dev/null 2>"$T/broker.log" &
BPID=$!
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || { cat "$T/broker.log"; echo "bench-broker: fkbroker did not start" >&2; exit 1; }
URL="tcp://127.0.0.1:$(cat "$T/port")"

t0=$(date +%s.%N)
$PIN1 "$B/fkcli" -u "$URL" push -n "$N" --jobtype noop --prefix bench --batch 1000 >/dev/null
t1=$(date +%s.%N)
echo "bench-broker: pushed $N jobs in $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}") s (PUSHB of 1000)"

c0=$(cpu_ns "$BPID")
out=$($PIN1 "$B/fkloadgen" -u "$URL" -c "$CONNS" -w "$WINDOW" -n "$N" -t 120)
c1=$(cpu_ns "$BPID")
echo "bench-broker: $out"
rate=$(echo "$out" | sed -n 's/.*: \([0-9]*\) pairs\/s.*/\1/p')
awk -v r="$rate" -v n="$N" -v c="$((c1 - c0))" 'BEGIN {
	printf "broker: %d FETCH+ACK pairs/s on one core (broker CPU %.2f us/pair)\n", r, c / 1000 / n }'
audit=$("$B/fkcli" -u "$URL" audit)
echo "bench-broker: audit after the run: $audit" | cut -c1-200
