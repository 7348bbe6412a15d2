#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench, exec part: exec jobs running /bin/true, end to end through fkbroker. One child
# (worker.cpus = 1) drains BENCH_EXEC_JOBS queued jobs with BENCH_EXEC_SLOTS slots; the line
# gives exec jobs/s for that child, the child's own CPU per job (utime+stime from /proc: the
# worker's side of a spawn, the commands excluded) and the commands' CPU per job (the child's
# cutime+cstime: what /bin/true itself costs, for scale). Run alone: bench-exec.sh BUILD_DIR.
# Env: BENCH_EXEC_JOBS (20000), BENCH_EXEC_SLOTS (100).
set -euo pipefail
B=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${BENCH_EXEC_JOBS:-20000}
C=${BENCH_EXEC_SLOTS:-100}
# fkbroker_start, wait_for and stop_pids (TERM, wait, then KILL; never by name).
. "$ROOT/scripts/lib-proc.sh"
T=$(mktemp -d /tmp/fkw-bench-exec.XXXXXX)
PIDS=""
cleanup() {
	# shellcheck disable=SC2086 # a list of pids
	stop_pids 5 $PIDS
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

fkbroker_start "$T" || { cat "$T/broker.log"; echo "bench-exec: fkbroker did not start" >&2; exit 1; }
PIDS="$PIDS $BROKER_PID"
cli() { "$B/fkcli" -u "$BROKER_URL" "$@"; }
cat >"$T/fkw.conf" <<CONF
faktory: { url = "$BROKER_URL"; };
worker: { concurrency = $C; cpus = 1; queues = [ "default" ]; };
handlers: ( { jobtype = "true"; exec = [ "/bin/true" ]; timeout = 60; } );
control: { socket = "$T/ctl.sock"; };
log: { level = "warning"; };
CONF
"$B/fkworker" -c "$T/fkw.conf" >"$T/fkworker.log" 2>&1 &
WPID=$!; PIDS="$PIDS $WPID"
child() { ps -o pid= --ppid "$WPID" | head -n 1 | tr -d ' '; }
wait_for 20 sh -c "[ -n \"\$(ps -o pid= --ppid $WPID)\" ]" || { cat "$T/fkworker.log"; exit 1; }
CPID=$(child)
# ticks PID: utime stime cutime cstime (fields 14-17 of /proc/PID/stat).
ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13, $14 + $15}'; }
# A warm-up (the child connects and its commands' pages get cached), then the measured run.
cli push -n 500 --jobtype true --prefix w --batch 500 >/dev/null
cli wait-done 500 --timeout 120 >/dev/null
read -r own0 cmd0 < <(ticks "$CPID")
cli push -n "$N" --jobtype true --prefix x --batch 1000 >/dev/null
t0=$(date +%s.%N)
cli wait-done $((N + 500)) --timeout 600 >/dev/null
t1=$(date +%s.%N)
read -r own1 cmd1 < <(ticks "$CPID")
[ "$(cli audit | jq .acked_once)" = $((N + 500)) ] || { cli audit; echo "bench-exec: jobs lost" >&2; exit 1; }
awk -v n="$N" -v c="$C" -v t0="$t0" -v t1="$t1" -v o="$((own1 - own0))" -v k="$((cmd1 - cmd0))" \
    -v tck="$(getconf CLK_TCK)" 'BEGIN { s = t1 - t0;
	printf "bench: fkworker exec /bin/true, 1 child, %d slots: %d queued in %.2f s: %.0f exec jobs/s per child (target >= 1000: %s), worker CPU %.1f us/job (commands %.0f us/job)\n", c, n, s, n / s, (n / s >= 1000 ? "met" : "NOT met"), o / tck * 1e6 / n, k / tck * 1e6 / n }'
