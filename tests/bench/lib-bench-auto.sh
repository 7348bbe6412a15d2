# SPDX-License-Identifier: MIT
# What bench-auto.sh and bench-auto-cpu.sh share: a scratch directory and the cleanup of every
# process started, fkcli and fkworkerctl on the current run, bench_start (a fresh fkbroker
# holding a backlog, fkworker on it) and the readings (jobs done, the host's CPU ticks, the CPU
# ticks of the processes the bench started). Sourced by bash with B (the build directory) and
# ROOT set, and a name for the scratch directory:
#   . "$ROOT/tests/bench/lib-bench-auto.sh" bench-auto-cpu
# The bench sets HANDLERS (the handlers list of the configuration), optionally BROKER_ARGS
# (for fkbroker) and FAKTORY_KEYS (more keys of faktory:), and defines backlog, which queues the
# jobs on the fresh broker ("cli push ...").
# shellcheck shell=bash

# fkbroker_start, wait_for, stop_pid and stop_pids (TERM, wait, then KILL; never by name).
. "$ROOT/scripts/lib-proc.sh"
T=$(mktemp -d "/tmp/fkw-${1:-bench-auto}.XXXXXX")
PIDS="" BROKER_PID="" WPID="" URL=""
BROKER_ARGS=${BROKER_ARGS:-} FAKTORY_KEYS=${FAKTORY_KEYS:-}
cleanup() {
	# fkworker first, while its fkbroker is there to confirm the last jobs: without it the
	# children would retry for shutdown_timeout, burning CPU into whatever runs next.
	stop_pid "$WPID" 30 bench
	# shellcheck disable=SC2086 # a list of pids
	stop_pids 5 $PIDS
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
cli() { "$B/fkcli" -u "$URL" "$@"; }
status() { "$B/fkworkerctl" -s "$T/ctl.sock" status --json; }
done_n() { cli audit | jq .done; }
now() { date +%s.%N; }
# host_ticks: "BUSY TOTAL", the host's CPU ticks over every core (busy: not idle or iowait);
# read by the shell itself, so reading it each second costs no process.
host_ticks() {
	local _c us ni sy id io irq sirq st
	read -r _c us ni sy id io irq sirq st _ </proc/stat
	echo "$((us + ni + sy + irq + sirq + st)) $((us + ni + sy + id + io + irq + sirq + st))"
}
# our_ticks: CPU ticks of fkbroker and fkworker (master, children and what they waited for:
# utime, stime, cutime, cstime of /proc/PID/stat).
our_ticks() {
	local p t sum=0
	for p in $BROKER_PID $WPID $(ps -o pid= --ppid "$WPID" 2>/dev/null); do
		# The command name, in parentheses, may hold spaces: fields count from its ')'.
		t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }')
		sum=$((sum + ${t:-0}))
	done
	echo $sum
}

# bench_start CONCURRENCY [WORKER_KEYS]: stops the previous run's fkworker and fkbroker, starts
# a fresh fkbroker, queues backlog on it, and fkworker with CONCURRENCY ("auto" quoted) on two
# children (BENCH_CPUS), running within 30 s.
bench_start() {
	stop_pid "$WPID" 30 bench
	stop_pid "$BROKER_PID" 10 bench
	# shellcheck disable=SC2086 # options
	fkbroker_start "$T" $BROKER_ARGS || { cat "$T/broker.log"; echo "bench: fkbroker did not start" >&2; exit 1; }
	PIDS="$PIDS $BROKER_PID"
	URL=$BROKER_URL
	backlog
	cat >"$T/fkw.conf" <<CONF
faktory: { url = "$URL"; $FAKTORY_KEYS };
worker: { concurrency = $1; cpus = ${BENCH_CPUS:-2}; queues = [ "default" ]; ${2:-} };
handlers: ( $HANDLERS );
control: { socket = "$T/ctl.sock"; };
log: { level = "warning"; };
CONF
	"$B/fkworker" -c "$T/fkw.conf" >"$T/fkworker.log" 2>&1 &
	WPID=$!; PIDS="$PIDS $WPID"
	wait_for 30 sh -c "$B/fkworkerctl -s $T/ctl.sock status --json 2>/dev/null | jq -e '.state == \"running\"' >/dev/null" ||
		{ cat "$T/fkworker.log"; exit 1; }
}

# rate SECONDS: jobs/s over the next SECONDS.
rate() {
	local d0 d1 t0 t1
	d0=$(done_n); t0=$(now)
	sleep "$1"
	d1=$(done_n); t1=$(now)
	awk -v a="$d0" -v b="$d1" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", (b - a) / (t1 - t0) }'
}

# sample SECONDS FILE: one line a second for SECONDS into FILE: "TIME DONE HOST_BUSY HOST_TOTAL
# OUR_TICKS CONCURRENCY" (cumulative counts; CONCURRENCY fkworker's now), the first at once.
# DONE and OUR_TICKS are read on the first and last lines only (0 between), so that the
# readings themselves weigh little on the host's CPU measured.
sample() {
	local i d o
	: >"$2"
	for i in $(seq 0 "$1"); do
		d=0 o=0
		[ "$i" -eq 0 ] || sleep 1
		if [ "$i" -eq 0 ] || [ "$i" -eq "$1" ]; then d=$(done_n); o=$(our_ticks); fi
		echo "$(now) $d $(host_ticks) $o $(status | jq .concurrency)" >>"$2"
	done
}
