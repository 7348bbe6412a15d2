#!/bin/bash
# status shows CPU per child and for the host (percent of one core over the
# last 10 s, CPU seconds since start, from /proc/PID/stat as the master
# samples it), and saturation: busy/slots now and how often every slot of a
# child was busy (percent of samples in the last 10 s, and a count of the
# times a child's slots all became busy).
. "$(dirname "$0")/lib.sh"
CPUS=2 CONCURRENCY=4 sup_up
# Idle: no saturation, little CPU.
sleep 2.5
status_json >"$T/idle.json"
ji() { jq -r "$1" "$T/idle.json"; }
for f in cpu_percent cpu_seconds cpu_cores saturated_percent saturated_count; do
	jq -e "has(\"$f\")" "$T/idle.json" >/dev/null || fail "status has no $f"
done
for f in cpu_percent cpu_seconds saturated_percent saturated_count; do
	jq -e ".children | all(has(\"$f\"))" "$T/idle.json" >/dev/null || fail "child row has no $f"
done
expect_eq "idle saturation" "$(ji .saturated_percent)" 0
expect_eq "idle saturation count" "$(ji .saturated_count)" 0
ji '.cpu_percent < 50' | grep -q true || fail "idle host CPU $(ji .cpu_percent)%"
expect_eq "cores" "$(ji .cpu_cores)" "$(nproc)"

# CPU-bound load: 200000 noop jobs keep both children busy.
cli push -n 200000 --jobtype noop --prefix c --batch 1000 >/dev/null &
pusher=$!
track $pusher
wait_for 30 sh -c "[ \$($B/fkcli -u $BROKER_URL audit | jq .done) -ge 20000 ]" || fail "no progress"
sleep 2
status_json >"$T/load.json"
jl() { jq -r "$1" "$T/load.json"; }
# The master's figures against /proc read here, now: CPU seconds of each child.
tck=$(getconf CLK_TCK)
for pid in $(jl '.children[] | select(.pid > 0) | .pid'); do
	mine=$(awk -v t="$tck" '{ sub(/^.*\) /, ""); print ($12 + $13 + $14 + $15) / t }' "/proc/$pid/stat")
	theirs=$(jl ".children[] | select(.pid == $pid) | .cpu_seconds")
	between "$theirs" 0.01 "$mine" || fail "child $pid: status says $theirs CPU s, /proc says $mine"
	awk "BEGIN{exit !($mine - $theirs < 2.5)}" || fail "child $pid: $theirs CPU s is stale (/proc: $mine)"
	jl ".children[] | select(.pid == $pid) | .cpu_percent > 1" | grep -q true ||
		fail "child $pid under load: $(jl ".children[] | select(.pid == $pid) | .cpu_percent")%"
done
jl '.cpu_seconds >= ([.children[].cpu_seconds] | add)' | grep -q true ||
	fail "host CPU s $(jl .cpu_seconds) < the children's $(jl '[.children[].cpu_seconds] | add')"
jl '.cpu_percent > 1' | grep -q true || fail "host CPU under load: $(jl .cpu_percent)%"
echo "# under noop load: host $(jl '.cpu_percent | floor')% of a core, children $(jl '[.children[].cpu_percent | floor] | join(" ")')"
wait $pusher 2>/dev/null || true
cli wait-done --timeout 120 200000 >/dev/null || fail "noop jobs not done"

# Saturated: 4 slots, 12 jobs of 3 s: every slot busy for ~9 s, and each
# child's slots became all busy once more than before.
sleep 0.5
status_json >"$T/before.json"
cli push -n 12 --jobtype sleep --args '[3000]' --prefix s >/dev/null
sleep 5
status_json >"$T/sat.json"
js() { jq -r "$1" "$T/sat.json"; }
expect_eq "busy now" "$(js .busy)/$(js .slots)" "4/4"
js '.saturated_percent > 20' | grep -q true || fail "saturated_percent $(js .saturated_percent)"
for c in 0 1; do
	was=$(jq ".children[] | select(.index == $c and .state == \"ready\") | .saturated_count" "$T/before.json")
	now=$(js ".children[] | select(.index == $c and .state == \"ready\") | .saturated_count")
	[ "$now" -gt "$was" ] || fail "child $c: saturated_count $was before, $now now"
done
expect_eq "host count = children's" "$(js .saturated_count)" "$(js '[.children[].saturated_count] | add')"
js '.children | all(.saturated_percent > 20)' | grep -q true ||
	fail "children: $(js '[.children[].saturated_percent] | join(" ")')"
ctl status >"$T/sat.txt"
grep -Eq "^saturation +4/4 slots busy now; every slot busy [0-9.]+% of the last 10 s" "$T/sat.txt" ||
	fail "saturation line: $(cat "$T/sat.txt")"
grep -Eq "^cpu +[0-9.]+% of a core" "$T/sat.txt" || fail "cpu line: $(cat "$T/sat.txt")"
grep -q "SAT%" "$T/sat.txt" || fail "no SAT% column: $(cat "$T/sat.txt")"
cli wait-done --timeout 30 200012 >/dev/null || fail "sleep jobs not done"
