#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench: noop jobs end to end through fkbroker, fkworker beside the Node.js faktory-worker
# package (tests/bench/node-worker.js, installed by make interop), a fresh broker for every
# worker measured, in three shapes of server:
#   fast:         fkbroker as fast as it goes (answers a connection's pipelined commands in bulk);
#   real-shape:   each command holds its connection like the real server's redis round trips
#                 (--service-us 150, one command at a time; docs/faktory-protocol.md 2.4);
#   server-bound: the broker burns 100 us of its one core per job (--cost-us 100) and answers
#                 one command per connection per turn, so that its CPU sets the pace and replies
#                 come one at a time, as the real server's 100-160 us of CPU per job do (docs 2.4).
# Two workloads:
#   drain: N jobs queued before the worker starts (start-up included): jobs/s, the worker's CPU
#          per job (utime+stime of all its processes, /proc/PID/stat), for fkworker the
#          connections it opened and FETCHes per job. fkworker runs with the shipped connection
#          count ("auto") and (fast, real-shape) with one connection per slot, the shape the
#          project started from.
#   live (fast, server-bound): a started worker, warmed up with N/10 jobs, works N more pushed
#          while it runs (fkcli, batches of BENCH_BATCH). Over those N only: jobs/s; worker CPU
#          per job; wake-ups per job (voluntary + involuntary context switches summed over every
#          thread of every worker process, /proc/PID/task/*/status); system calls per job (perf
#          stat counting raw_syscalls:sys_enter on every worker thread; where perf does not
#          work, only the read and write calls of /proc/PID/io, and the line says so); pickup
#          latency p99 (enqueued to started, from fkworkerctl status --json, whose quantiles
#          cover the last 10 s; the node package reports none; when the pushes end well before
#          the jobs do, "in X s", it is mostly time spent in the backlog); the broker's CPU per
#          job (the pushes included).
# The node worker gets BENCH_NODE_JOBS jobs (N/4): it is slower. Ratio lines compare runs of one
# shape in this run. Last, exec jobs running /bin/true on one child (bench-exec.sh), and the
# concurrency "auto" benches (bench-auto.sh, bench-auto-cpu.sh).
# Env: BENCH_JOBS (200000), BENCH_CONCURRENCY (2000, the shipped value), BENCH_CPUS (2),
# BENCH_SERVICE_US (150), BENCH_COST_US (100), BENCH_BATCH (100, the seed's BATCH_MAX_SIZE),
# BENCH_RATE (4000) and BENCH_PACED_S (10): the paced server-bound runs, fkworker with
# worker.coalesce_us as shipped and 0 (off) in the same run, jobs pushed at that rate (a host
# that keeps up: coalescing should stay off); the server-bound live run is also made with
# coalesce_us 0, so that its line and a ratio line show what coalescing saves;
# BENCH_NODE (1 = run node), BENCH_NODE_JOBS (N/4), BENCH_PERF (1 = count system calls with
# perf); BENCH_EXEC_JOBS, BENCH_EXEC_SLOTS (bench-exec.sh); BENCH_AUTO (1 = run bench-auto.sh
# and bench-auto-cpu.sh: concurrency "auto" against a sweep of fixed values on sleep jobs, and
# on CPU-heavy plugin jobs).
# A/B instead of the whole bench: BENCH_AB_A and BENCH_AB_B, two settings of the worker section
# (e.g. "coalesce_us = 0;" and "", the shipped configuration), run as live runs alternated
# BENCH_AB_PAIRS times (5) against fkbroker BENCH_AB_BROKER ("--cost-us 100"): a line per run,
# then per-pair ratios and their mean. On a shared or virtual machine one run of each is not a
# verdict (this VM spreads 22-33 us/job from run to run with one setting); pairs that alternate
# are.
set -euo pipefail
B=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${BENCH_JOBS:-200000}
C=${BENCH_CONCURRENCY:-2000}
CPUS=${BENCH_CPUS:-2}
SERVICE=${BENCH_SERVICE_US:-150}
COST=${BENCH_COST_US:-100}
BATCH=${BENCH_BATCH:-100}
RATE=${BENCH_RATE:-4000}
PACED_S=${BENCH_PACED_S:-10}
export RATE
NN=${BENCH_NODE_JOBS:-$((N / 4))}
NODE=0
if [ "${BENCH_NODE:-1}" = 1 ] && [ -d "$ROOT/tests/interop/node_modules/faktory-worker" ]; then
	NODE=1
fi
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
# track PID / untrack PID: the processes cleanup stops; a stopped one leaves the list, so
# that its pid, once reused by another process, is never signalled.
track() { PIDS="$PIDS $1"; }
untrack() { PIDS=$(echo " $PIDS " | sed "s/ $1 / /g"); }
stop() { stop_pid "$1" "$2" bench; untrack "$1"; }

# ---- what a worker costs: /proc, and perf for system calls ----

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
# wakeups PID...: voluntary + involuntary context switches of every thread of the processes.
wakeups() {
	local p
	for p in "$@"; do cat "/proc/$p/task/"*/status 2>/dev/null || true; done |
	    awk '/^(non)?voluntary_ctxt_switches:/ { s += $2 } END { printf "%d\n", s }'
}
# io_calls PID...: the read and write system calls /proc/PID/io counts (syscr + syscw).
io_calls() {
	local p
	for p in "$@"; do cat "/proc/$p/io" 2>/dev/null || true; done |
	    awk '/^sysc[rw]:/ { s += $2 } END { printf "%d\n", s }'
}
if [ "${BENCH_PERF:-1}" = 1 ] && command -v perf >/dev/null &&
    perf stat -e raw_syscalls:sys_enter -x, -o /dev/null -- true >/dev/null 2>&1; then
	SC_HOW=perf
else
	SC_HOW="read+write calls only, /proc/PID/io: no perf"
	[ "${BENCH_PERF:-1}" = 1 ] || SC_HOW="read+write calls only, /proc/PID/io: BENCH_PERF=0"
fi
# syscalls_begin PID... / syscalls_end PID...: the system calls of the processes' threads in
# between, into SC (not printed: perf must be waited for by this very shell). perf starts with
# its counter off and is switched on and off through its control FIFO (opened read-write: that
# never blocks), so that its own start-up and the time it takes to attach stay out of the count.
syscalls_begin() {
	if [ "$SC_HOW" != perf ]; then
		SC0=$(io_calls "$@")
		return
	fi
	rm -f "$T/perf.ctl" "$T/perf.ack" "$T/perf.out"
	mkfifo "$T/perf.ctl" "$T/perf.ack"
	exec {PCTL}<>"$T/perf.ctl" {PACK}<>"$T/perf.ack"
	perf stat -e raw_syscalls:sys_enter -x, -o "$T/perf.out" -D -1 \
	    --control "fifo:$T/perf.ctl,$T/perf.ack" -p "$(echo "$@" | tr ' ' ,)" \
	    >/dev/null 2>"$T/perf.err" &
	PERF_PID=$!; track $PERF_PID
	echo enable >&"$PCTL"
	read -r -t 10 _ <&"$PACK" || { cat "$T/perf.err" >&2; echo "bench: perf did not start" >&2; exit 1; }
}
syscalls_end() {
	if [ "$SC_HOW" != perf ]; then
		SC=$(($(io_calls "$@") - SC0))
		return
	fi
	echo disable >&"$PCTL"
	read -r -t 10 _ <&"$PACK" || true
	kill -INT "$PERF_PID"
	wait "$PERF_PID" || true
	untrack "$PERF_PID"
	exec {PCTL}>&- {PACK}>&-
	SC=$(awk -F, '/raw_syscalls:sys_enter/ { print $1 + 0; found = 1 } END { if (!found) print -1 }' "$T/perf.out")
}

# ---- brokers and workers ----

# fresh_broker [ARGS...]: a new fkbroker for each worker measured, so none pays for the
# audit records the previous runs left in the broker's memory.
BROKER_PID=""
fresh_broker() {
	[ -z "$BROKER_PID" ] || stop "$BROKER_PID" 10
	local ok=1
	fkbroker_start "$T" --max-conns 10000 "$@" || ok=0
	track "$BROKER_PID"
	[ $ok = 1 ] || { cat "$T/broker.log"; echo "bench: fkbroker did not start" >&2; exit 1; }
	URL=$BROKER_URL
}
cli() { "$B/fkcli" -u "$URL" "$@"; }
status() { "$B/fkworkerctl" -s "$T/ctl.sock" status --json; }
# push N PREFIX BATCH: N noop jobs; done_wait TOTAL: until the broker has TOTAL jobs done.
push() { cli push -n "$1" --jobtype noop --prefix "$2" --batch "$3" >/dev/null; }
done_wait() { cli wait-done "$1" --timeout 600 >/dev/null; }

# start_worker fkw CONNECTIONS | start_worker node: on the current broker; sets WPID, WKIND.
start_worker() {
	WKIND=$1
	if [ "$1" = fkw ]; then
		cat >"$T/fkw.conf" <<CONF
faktory: { url = "$URL"; connection_budget = 10000; };
worker: { concurrency = $C; cpus = $CPUS; queues = [ "default" ]; connections = $2;
    ${WORKER_EXTRA:-} };
control: { socket = "$T/ctl.sock"; };
log: { level = "warning"; };
CONF
		"$B/fkworker" -c "$T/fkw.conf" >"$T/worker.log" 2>&1 &
	else
		FAKTORY_URL="$URL" NODE_PATH="$ROOT/tests/interop/node_modules" \
		    node "$ROOT/tests/bench/node-worker.js" "$C" >"$T/worker.log" 2>&1 &
	fi
	WPID=$!; track $WPID
}
# worker_pids: the worker's processes (fkworker: the master and its children).
worker_pids() {
	if [ "$WKIND" = fkw ]; then
		echo "$WPID $(ps -o pid= --ppid "$WPID" | tr '\n' ' ')"
	else
		echo "$WPID"
	fi
}
alive() { kill -0 "$WPID" 2>/dev/null || { cat "$T/worker.log"; echo "bench: the worker died" >&2; exit 1; }; }
# label SHAPE: what the line calls the running worker (fkworker: its connections now).
label() {
	if [ "$WKIND" = fkw ]; then
		echo "fkworker $1, $C slots, $(status | jq .connections) conns"
	else
		echo "node faktory-worker ($C), $1"
	fi
}

# drain KIND CONNECTIONS SHAPE KEY [BROKER ARGS...]: N queued jobs (node: NN), then the
# worker starts; one line. $T/KEY.result: jobs/s, CPU us/job, connections.
drain() {
	local kind=$1 conns=$2 shape=$3 key=$4 n=$N t0 t1 w l nconn=0 more=""
	shift 4
	[ "$kind" = node ] && n=$NN
	fresh_broker "$@"
	push "$n" "$key-q" 1000
	t0=$(date +%s.%N)
	start_worker "$kind" "$conns"
	done_wait "$n"
	t1=$(date +%s.%N)
	# shellcheck disable=SC2046 # a list of pids
	w=$(cpu_ticks $(worker_pids))
	alive
	l=$(label "$shape")
	if [ "$kind" = fkw ]; then
		nconn=$(status | jq .connections)
		more=$(status | jq .fetches | awk -v n="$n" '{ printf ", %.3f FETCH/job", $1 / n }')
	fi
	awk -v l="$l" -v n="$n" -v t0="$t0" -v t1="$t1" -v w="$w" -v tck="$TCK" -v m="$more" \
	    -v c="$nconn" -v k="$T/$key.result" 'BEGIN { s = t1 - t0; r = n / s; us = w / tck * 1e6 / n
		printf "bench: %-44s drains %d queued: %.2f s: %.0f jobs/s, worker CPU %.2f us/job%s (start-up included)\n", l, n, s, r, us, m
		printf "%f %f %d\n", r, us, c > k }'
	stop "$WPID" 30
}

# live KIND CONNECTIONS SHAPE KEY [BROKER ARGS...]: a started worker warmed up with a tenth
# of the jobs, then N (node: NN) pushed while it runs, every number over those only. The line
# waits in $T/KEY.live (printed beside the other worker's); $T/KEY.lresult: jobs/s, CPU us,
# wake-ups and system calls per job.
live() {
	local kind=$1 conns=$2 shape=$3 key=$4 n=$N pids l t0 tp t1 w0 w1 c0 c1 b0 b1 pick
	shift 4
	[ "$kind" = node ] && n=$NN
	fresh_broker "$@"
	start_worker "$kind" "$conns"
	push $((n / 10)) "$key-w" "$BATCH"
	done_wait $((n / 10))
	alive
	pids=$(worker_pids)
	l=$(label "$shape")
	# shellcheck disable=SC2086 # lists of pids
	{
		syscalls_begin $pids
		w0=$(cpu_ticks $pids); c0=$(wakeups $pids); b0=$(cpu_ticks "$BROKER_PID")
		t0=$(date +%s.%N)
		push "$n" "$key-l" "$BATCH"
		tp=$(date +%s.%N)
		done_wait $((n / 10 + n))
		t1=$(date +%s.%N)
		w1=$(cpu_ticks $pids); c1=$(wakeups $pids); b1=$(cpu_ticks "$BROKER_PID")
		syscalls_end $pids
	}
	alive
	pick="n/a (not reported)"
	if [ "$kind" = fkw ]; then
		pick=$(status | jq -r '"\(.pickup_p99_us) \(.latency_window)"' | awk '{
		    printf "%.1f ms (%s)", $1 / 1000, $2 == "10s" ? "last 10 s" : "since start" }')
	fi
	awk -v l="$l" -v n="$n" -v t0="$t0" -v tp="$tp" -v t1="$t1" -v w="$((w1 - w0))" -v c="$((c1 - c0))" \
	    -v b="$((b1 - b0))" -v sc="$SC" -v how="$SC_HOW" -v p="$pick" -v tck="$TCK" \
	    -v k="$T/$key" 'BEGIN { s = t1 - t0; r = n / s; us = w / tck * 1e6 / n
		printf "bench: %-44s %d pushed while it runs (in %.2f s): %.2f s: %.0f jobs/s, worker CPU %.2f us/job, %.2f wake-ups/job, %.2f syscalls/job (%s), pickup p99 %s; broker CPU %.0f us/job\n", l, n, tp - t0, s, r, us, c / n, sc / n, how, p, b / tck * 1e6 / n > (k ".live")
		printf "%f %f %f %f\n", r, us, c / n, sc / n > (k ".lresult") }'
	stop "$WPID" 30
}

# paced KEY COALESCE [BROKER ARGS...]: fkworker (auto) with worker.coalesce_us COALESCE
# ("": the shipped value), jobs
# pushed at BENCH_RATE a second for BENCH_PACED_S seconds, so the queue stays short and the
# pickup latency is the server's and the worker's, not a backlog's. One line; $T/KEY.presult.
paced() {
	local key=$1 coal=$2 n=$((RATE * PACED_S)) pids t0 t1 w0 w1 c0 c1 pick
	shift 2
	fresh_broker "$@"
	WORKER_EXTRA="${coal:+coalesce_us = $coal;}" start_worker fkw '"auto"'
	# The warm-up is paced too: a backlog would land in the pickup quantiles (last 10 s).
	cli push -n 1000 --jobtype noop --prefix "$key-w" --batch 10 --rate "$RATE" >/dev/null
	done_wait 1000
	alive
	pids=$(worker_pids)
	# shellcheck disable=SC2086 # lists of pids
	{
		syscalls_begin $pids
		w0=$(cpu_ticks $pids); c0=$(wakeups $pids)
		t0=$(date +%s.%N)
		cli push -n "$n" --jobtype noop --prefix "$key-p" --batch 10 --rate "$RATE" >/dev/null
		done_wait $((1000 + n))
		t1=$(date +%s.%N)
		w1=$(cpu_ticks $pids); c1=$(wakeups $pids)
		syscalls_end $pids
	}
	alive
	pick=$(status | jq -r '"\(.pickup_p50_us) \(.pickup_p99_us)"')
	awk -v n="$n" -v t0="$t0" -v t1="$t1" -v w="$((w1 - w0))" -v c="$((c1 - c0))" -v sc="$SC" \
	    -v how="$SC_HOW" -v p="$pick" -v tck="$TCK" -v co="$coal" -v k="$T/$key.presult" 'BEGIN {
		split(p, q, " "); s = t1 - t0; us = w / tck * 1e6 / n
		printf "bench: %-44s %d paced at %d/s: %.0f jobs/s, worker CPU %.2f us/job, %.2f wake-ups/job, %.2f syscalls/job (%s), pickup p50 %.2f ms p99 %.2f ms\n", "fkworker server-bound, coalesce_us " (co == "" ? ENVIRON["SHIPPED_COALESCE"] " (shipped)" : co), n, ENVIRON["RATE"], n / s, us, c / n, sc / n, how, q[1] / 1000, q[2] / 1000
		printf "%f %f %f %f %f\n", us, c / n, sc / n, q[1], q[2] > k }'
	stop "$WPID" 30
}

# ---- ratio lines ----

# versus_slot SHAPE: fkworker's shipped connection count against one connection per slot.
versus_slot() {
	read -r ra ca na <"$T/$1-auto.result"; read -r rp cp np <"$T/$1-slot.result"
	awk -v ra="$ra" -v ca="$ca" -v na="$na" -v rp="$rp" -v cp="$cp" -v np="$np" -v s="$2" \
	    'BEGIN { printf "bench: %s: %d connections vs one per slot (%d): %.2fx the jobs/s with %.2fx the connections, %.2fx the CPU per job\n", s, na, np, ra / rp, na / np, ca / cp }'
}
# versus_node SHAPE KEY: fkworker (auto) against the node package, drained and (if run) live.
versus_node() {
	[ $NODE = 1 ] || return 0
	read -r ra ca _ <"$T/$2-auto.result"; read -r rn cn _ <"$T/$2-node.result"
	awk -v ra="$ra" -v ca="$ca" -v rn="$rn" -v cn="$cn" -v s="$1" 'BEGIN {
		printf "bench: %s, drained: fkworker (auto) vs node faktory-worker: %.1fx the jobs/s, %.1fx less CPU per job\n", s, ra / rn, cn / ca }'
	[ -f "$T/$2-auto.lresult" ] || return 0
	read -r ra ca wa sa <"$T/$2-auto.lresult"; read -r rn cn wn sn <"$T/$2-node.lresult"
	awk -v ra="$ra" -v ca="$ca" -v wa="$wa" -v sa="$sa" -v rn="$rn" -v cn="$cn" -v wn="$wn" \
	    -v sn="$sn" -v s="$1" 'BEGIN {
		printf "bench: %s, pushed while it runs: fkworker (auto) vs node faktory-worker: %.1fx the jobs/s, %.1fx less CPU, %.1fx fewer wake-ups, %.1fx fewer syscalls per job\n", s, ra / rn, cn / ca, wn / wa, sn / sa }'
}
# shape NAME KEY LIVE PERSLOT [BROKER ARGS...]: every run of one server shape, then its lines.
shape() {
	local name=$1 key=$2 with_live=$3 per_slot=$4
	shift 4
	drain fkw '"auto"' "$name" "$key-auto" "$@"
	if [ "$per_slot" = 1 ]; then
		drain fkw "$C" "$name" "$key-slot" "$@"
		versus_slot "$key" "$name fkbroker${*:+ $*}"
	fi
	[ $NODE = 0 ] || drain node 0 "$name" "$key-node" "$@"
	if [ "$with_live" = 1 ]; then
		live fkw '"auto"' "$name" "$key-auto" "$@"
		[ "$per_slot" = 0 ] || live fkw "$C" "$name" "$key-slot" "$@"
		[ $NODE = 0 ] || live node 0 "$name" "$key-node" "$@"
		cat "$T/$key-auto.live"
		[ "$per_slot" = 0 ] || cat "$T/$key-slot.live"
		[ $NODE = 0 ] || cat "$T/$key-node.live"
	fi
	versus_node "$name${*:+ ($*)}" "$key"
}

# versus_coalesce_live: server-bound, pushed while it runs: coalesce_us as shipped against 0.
versus_coalesce_live() {
	read -r r0 c0 w0 s0 <"$T/cost-nocoal.lresult"; read -r r1 c1 w1 s1 <"$T/cost-auto.lresult"
	awk -v r0="$r0" -v c0="$c0" -v w0="$w0" -v s0="$s0" -v r1="$r1" -v c1="$c1" -v w1="$w1" -v s1="$s1" 'BEGIN {
		printf "bench: server-bound, pushed while it runs: coalesce_us %s (shipped) vs 0: %.2fx the jobs/s, %.2fx the CPU per job, %.2fx the wake-ups, %.2fx the syscalls\n", ENVIRON["SHIPPED_COALESCE"], r1 / r0, c1 / c0, w1 / w0, s1 / s0 }'
}
# versus_coalesce: coalesce_us as shipped against 0, paced, in this run.
versus_coalesce() {
	read -r c0 w0 s0 p0 q0 <"$T/paced-off.presult"; read -r c1 w1 s1 p1 q1 <"$T/paced-on.presult"
	awk -v c0="$c0" -v w0="$w0" -v s0="$s0" -v q0="$q0" -v c1="$c1" -v w1="$w1" -v s1="$s1" -v q1="$q1" 'BEGIN {
		printf "bench: server-bound, paced: coalesce_us %s (shipped) vs 0: %.2fx the CPU per job, %.2fx the wake-ups, %.2fx the syscalls, pickup p99 %+.2f ms\n", ENVIRON["SHIPPED_COALESCE"], c1 / c0, w1 / w0, s1 / s0, (q1 - q0) / 1000 }'
}

# The shipped worker.coalesce_us, for the lines that compare it with 0.
printf 'faktory: { url = "tcp://127.0.0.1:7419"; };\n' >"$T/shipped.conf"
SHIPPED_COALESCE=$("$B/fkworker" -c "$T/shipped.conf" -nn | awk '$1 == "coalesce_us" { sub(";", "", $3); print $3 }')
export SHIPPED_COALESCE

# ---- the floor: one loopback round trip, no protocol ----
if [ -x "$B/rtt_floor" ]; then
	read -r fu fs < <(taskset -c 1 "$B/rtt_floor")
	awk -v u="$fu" -v s="$fs" 'BEGIN { printf "bench: loopback TCP round trip (no work): %.2f us CPU (user %.2f, sys %.2f): the least one ACK+FETCH per job can cost\n", u + s, u, s }'
	# The same across two cores: each reply wakes the client from another core, as a
	# job that arrives alone wakes a child (the server-bound runs at the server's pace).
	if read -r xu xs < <("$B/rtt_floor" cross 2>/dev/null); then
		awk -v u="$xu" -v s="$xs" -v f="$fu" -v g="$fs" 'BEGIN { printf "bench: loopback TCP round trip across two cores: %.2f us CPU (user %.2f, sys %.2f), %.1fx the same-core trip: the least a job costs when it arrives alone and wakes its child\n", u + s, u, s, (u + s) / (f + g) }'
	fi
fi

# ab: BENCH_AB_A against BENCH_AB_B, alternated; exits when done.
ab() {
	local pairs=${BENCH_AB_PAIRS:-5} i a=${BENCH_AB_A:-shipped} b=${BENCH_AB_B:-shipped}
	# shellcheck disable=SC2206 # the broker's arguments, split on purpose
	local broker=(${BENCH_AB_BROKER:---cost-us 100})
	for i in $(seq 1 "$pairs"); do
		WORKER_EXTRA=${BENCH_AB_A:-} live fkw '"auto"' "A ($a)" "ab-a$i" "${broker[@]}"
		cat "$T/ab-a$i.live"
		WORKER_EXTRA=${BENCH_AB_B:-} live fkw '"auto"' "B ($b)" "ab-b$i" "${broker[@]}"
		cat "$T/ab-b$i.live"
	done
	for i in $(seq 1 "$pairs"); do
		cat "$T/ab-a$i.lresult" "$T/ab-b$i.lresult" | paste -sd' '
	done | awk -v a="$a" -v b="$b" '{
		n++; rr = $5 / $1; rc = $6 / $2; sr += rr; sc += rc; lower += ($6 < $2)
		printf "bench: A/B pair %d: B/A %.2fx the jobs/s, %.2fx the CPU per job (%.2f vs %.2f us)\n", n, rr, rc, $6, $2 }
	    END { printf "bench: A/B over %d alternated pairs, B (%s) against A (%s): %.2fx the jobs/s, %.2fx the CPU per job on average; B lower in %d of %d\n", n, b, a, sr / n, sc / n, lower, n }'
	exit 0
}
[ -z "${BENCH_AB_A+x}${BENCH_AB_B+x}" ] || ab
[ $NODE = 1 ] || echo "bench: node faktory-worker not installed (run make interop first): its lines are skipped"

shape fast fast 1 1
shape real-shape real 0 1 --service-us "$SERVICE"
shape server-bound cost 1 0 --cost-us "$COST"
WORKER_EXTRA="coalesce_us = 0;" live fkw '"auto"' "server-bound, coalesce_us 0" cost-nocoal --cost-us "$COST"
cat "$T/cost-nocoal.live"
versus_coalesce_live
paced paced-off 0 --cost-us "$COST"
paced paced-on "" --cost-us "$COST"
versus_coalesce
stop "$BROKER_PID" 10

# ---- exec jobs: /bin/true on one child ----
bash "$ROOT/tests/bench/bench-exec.sh" "$B"

if [ "${BENCH_AUTO:-1}" = 1 ]; then
	bash "$ROOT/tests/bench/bench-auto.sh" "$B"
	bash "$ROOT/tests/bench/bench-auto-cpu.sh" "$B"
fi
