#!/bin/bash
# fkworkerctl busy: the jobs running now, from the shared in-flight table:
# jid, jobtype, queue, child, running for; longest running first; --limit
# bounds it; --json for scripts; nothing running prints no rows.
. "$(dirname "$0")/lib.sh"
start_broker
CPUS=2 CONCURRENCY=8 sup_conf "$T/f.conf"
sed -i 's/queues = \[ "default" \];/queues = [ "default", "other" ];/' "$T/f.conf"
start_fkworker "$T/f.conf"
wait_ready 20
ctl busy >"$T/b0.txt" || fail "busy on an idle host failed: $(cat "$T/b0.txt")"
grep -q "^0 jobs running" "$T/b0.txt" || fail "idle: $(cat "$T/b0.txt")"
expect_eq "idle json" "$(ctl busy --json | jq '.jobs | length')" 0

# 3 long jobs first, then 2 more a second later: 5 run, the first 3 longest.
cli push -n 3 --jobtype sleep --args '[8000]' --prefix first --batch 1 >/dev/null
wait_for 10 sh -c "[ \$($B/fkworkerctl -s $SOCK busy --json | jq '.jobs | length') -eq 3 ]" ||
	fail "busy: $(ctl busy --json)"
sleep 1
cli push -n 2 --jobtype sleep --args '[8000]' --queue other --prefix second >/dev/null
wait_for 10 sh -c "[ \$($B/fkworkerctl -s $SOCK busy --json | jq '.jobs | length') -eq 5 ]" ||
	fail "busy: $(ctl busy --json)"
ctl busy --json >"$T/b.json"
j() { jq -r "$1" "$T/b.json"; }
expect_eq "total" "$(j .total)" 5
expect_eq "jids" "$(j '[.jobs[].jid] | sort | join(",")')" \
    "first-00000001,first-00000002,first-00000003,second-00000001,second-00000002"
expect_eq "jobtypes" "$(j '[.jobs[].jobtype] | unique | join(",")')" sleep
expect_eq "queues" "$(j '[.jobs[] | "\(.jid[0:5]):\(.queue)"] | unique | join(",")')" "first:default,secon:other"
expect_eq "longest first" "$(j '[.jobs[].running_ms] | . == (sort | reverse)')" true
expect_eq "first three first" "$(j '[.jobs[0:3][].jid | startswith("first")] | all')" true
j '.jobs[0].running_ms >= 1000 and .jobs[0].running_ms < 9000' | grep -q true ||
	fail "running_ms: $(j .jobs[0].running_ms)"
# The child and pid are those status reports.
status_json >"$T/s.json"
for row in $(j '.jobs[] | "\(.child):\(.pid)"'); do
	jq -e --argjson c "${row%%:*}" --argjson p "${row##*:}" \
	    '.children | any(.index == $c and .pid == $p)' "$T/s.json" >/dev/null ||
		fail "busy row $row is no child of status: $(jq -c '[.children[] | {index, pid}]' "$T/s.json")"
done
expect_eq "busy = status busy" "$(j .total)" "$(jq .busy "$T/s.json")"

# --limit: the longest running, and the total still counts all.
ctl busy --json --limit 2 >"$T/l.json"
expect_eq "limited rows" "$(jq '.jobs | length' "$T/l.json")" 2
expect_eq "limited total" "$(jq .total "$T/l.json")" 5
expect_eq "limited keeps the longest" "$(jq '[.jobs[].jid | startswith("first")] | all' "$T/l.json")" true

# The table: a header, one row per job, and the rows it left out.
ctl busy --limit 4 >"$T/b.txt"
grep -q "^5 jobs running" "$T/b.txt" || fail "table: $(cat "$T/b.txt")"
grep -Eq "^JID +JOBTYPE +QUEUE +CHILD +PID +RUNNING" "$T/b.txt" || fail "header: $(cat "$T/b.txt")"
grep -Eq "^first-0000000[123] +sleep +default +[01] +[0-9]+ +[0-9.]+s" "$T/b.txt" || fail "row: $(cat "$T/b.txt")"
expect_eq "table rows" "$(grep -c '^first-\|^second-' "$T/b.txt")" 4
grep -q "1 more not shown" "$T/b.txt" || fail "no 'more': $(cat "$T/b.txt")"
echo "# $(head -n 3 "$T/b.txt" | tr '\n' '|')"

# Bad arguments: usage, exit 64.
rc=0; ctl busy --limit 0 >/dev/null 2>&1 || rc=$?
expect_eq "limit 0" "$rc" 64
rc=0; ctl busy --bogus >/dev/null 2>&1 || rc=$?
expect_eq "unknown option" "$rc" 64
cli wait-done --timeout 30 5 >/dev/null || fail "jobs did not finish"
wait_for 5 sh -c "[ \$($B/fkworkerctl -s $SOCK busy --json | jq '.jobs | length') -eq 0 ]" ||
	fail "finished jobs still listed: $(ctl busy --json)"
