#!/bin/bash
# fkworkerctl diagnose: each verdict from the scenario that produces it, and no other.
#   keeps-up  noop jobs pushed at 400/s to 100 slots: the queues stay empty
#   slots     200 ms sleep jobs at 200/s to 20 slots (100/s at most): a backlog
#             grows, every slot is busy, the CPU is idle; the suggested
#             concurrency follows Little's law (200/s x 0.2 s / 0.8 = 50)
#   server    fkbroker holding each connection 20 ms per command (its real-server
#             shape, slowed) and 4 worker connections: noop jobs pushed at 500/s
#             wait in the queue while the slots sit idle
#   maxed     a plugin burning 3 ms of CPU per job pushed at 1500/s to both
#             cores: a backlog grows and the CPU is at its limit
. "$(dirname "$0")/lib.sh"

# scenario NAME PUSH_ARGS...: pushes in the background (at a rate), lets the
# host settle for 2 s, diagnoses for 5 s; leaves the JSON in $T/NAME.json.
scenario() {
	name=$1; shift
	cli push --prefix "$name" "$@" >/dev/null 2>&1 &
	pusher=$!
	track $pusher
	sleep 2
	ctl diagnose --seconds 5 --json >"$T/$name.json" 2>"$T/$name.err" ||
		{ cat "$T/$name.err" "$T/$name.json" >&2; fail "$name: diagnose failed"; }
	kill "$pusher" 2>/dev/null || true
	wait "$pusher" 2>/dev/null || true
	echo "# $name: $(jq -r '.verdict + ": " + .why' "$T/$name.json")"
}
verdict() { jq -r .verdict "$T/$1.json"; }

# stop_all: this scenario's fkworker and fkbroker, by pid.
stop_all() {
	stop_pid "$FKW_PID" 10
	stop_pid "$BROKER_PID" 5
}

CPUS=2 CONCURRENCY=100 sup_up
scenario keeps -n 4000 --rate 400 --batch 20
expect_eq "keeps: verdict" "$(verdict keeps)" keeps-up
jq -e '.headroom_jobs_per_sec > 0 and .figures.jobs_per_sec > 200' "$T/keeps.json" >/dev/null ||
	fail "keeps: no headroom or no throughput: $(cat "$T/keeps.json")"
stop_all

start_broker
CPUS=2 CONCURRENCY=20 sup_conf "$T/f.conf"
start_fkworker "$T/f.conf"
wait_ready 20
scenario slots -n 2000 --rate 200 --batch 10 --jobtype sleep --args '[200]'
expect_eq "slots: verdict" "$(verdict slots)" slots
jq -e '.suggest_concurrency >= 40 and .suggest_concurrency <= 100' "$T/slots.json" >/dev/null ||
	fail "slots: suggested concurrency outside 40..100: $(jq .suggest_concurrency "$T/slots.json")"
stop_all

start_broker --service-us 20000
CPUS=2 CONCURRENCY=100 sup_conf "$T/f.conf" "connections = 4;"
start_fkworker "$T/f.conf"
wait_ready 20
scenario server -n 5000 --rate 500 --batch 50
expect_eq "server: verdict" "$(verdict server)" server
stop_all

start_broker
CPUS=2 CONCURRENCY=50 sup_conf "$T/f.conf" "" \
	"{ jobtype = \"spin\"; plugin = \"$B/plugins/example.so\"; },"
start_fkworker "$T/f.conf"
wait_ready 20
scenario maxed -n 15000 --rate 1500 --batch 50 --jobtype spin --args '[3000]'
expect_eq "maxed: verdict" "$(verdict maxed)" maxed
stop_all

# A person's form: the verdict line first, and the one thing to do.
CPUS=1 CONCURRENCY=10 sup_up
out=$(ctl diagnose --seconds 2 2>/dev/null) || fail "diagnose (text) failed"
printf '%s\n' "$out" | head -1 | grep -q '^verdict  *keeps up$' || fail "text: $out"
printf '%s\n' "$out" | grep -q '^do  *nothing to do' || fail "text: $out"
ctl diagnose --seconds 1 >/dev/null 2>&1 && fail "--seconds 1 accepted (the least is 2)"
echo "ok"
