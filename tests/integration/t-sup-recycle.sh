#!/bin/bash
# max_jobs_per_child: a child that reached it asks to be recycled; its
# successor starts first, then it drains and exits 75; no job is lost.
. "$(dirname "$0")/lib.sh"
start_broker
CPUS=2 CONCURRENCY=20 sup_conf "$T/f.conf" "max_jobs_per_child = 500;"
start_fkworker "$T/f.conf"
wait_ready 20
cli push -n 3000 --jobtype noop --prefix m >/dev/null
cli wait-done --timeout 60 3000 >/dev/null || { cli audit; fail "not all jobs done"; }
expect_eq "acked once" "$(audit acked_once)" 3000
expect_eq "acked more than once" "$(audit acked_multi)" 0
expect_log "asked to be recycled; starting its successor"
# The predecessor drains (quiet, then terminate) and exits 75.
wait_for 10 grep -q "exited with status 75 after" "$T/fkworker.log" || fail "no child exited 75"
wait_for 10 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq .processed) -eq 3000 ]" ||
	fail "processed $(sfield .processed) after recycling, want 3000"
echo "# recycled $(grep -c 'exited with status 75' "$T/fkworker.log") times over 3000 jobs"
