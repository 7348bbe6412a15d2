#!/bin/bash
# Issue 13 item 7: `restarts` counts recycled children, as the README says
# ("children replaced after a crash or a recycle"): one per child that left
# with status 75 after max_jobs_per_child.
. "$(dirname "$0")/lib.sh"
start_broker
CPUS=1 CONCURRENCY=10 sup_conf "$T/f.conf" "max_jobs_per_child = 300;"
start_fkworker "$T/f.conf"
wait_ready 20
expect_eq "restarts at start" "$(sfield .restarts)" 0
cli push -n 1000 --jobtype noop --prefix r >/dev/null
cli wait-done --timeout 60 1000 >/dev/null || { cli audit; fail "not all jobs done"; }
wait_for 10 grep -q "exited with status 75 after" "$T/fkworker.log" || fail "no child recycled"
# A child reaching the limit asks at its next statistics tick (100 ms): give
# every one the time to, then wait for each recycle asked to be done.
sleep 1
settled() {
	asked=$(grep -c "asked to be recycled" "$T/fkworker.log")
	left=$(grep -c "exited with status 75 after" "$T/fkworker.log")
	[ "$asked" -eq "$left" ] && [ "$(sfield .restarts)" -eq "$left" ]
}
wait_for 15 settled || fail "restarts $(sfield .restarts), recycles asked $asked, done $left"
n=$(sfield .restarts)
[ "$n" -ge 1 ] || fail "restarts $n after a recycle"
expect_eq "restarts of child 0" "$(sfield '.children[] | select(.index == 0 and .state != "draining") | .restarts')" "$n"
echo "# 1000 jobs, max_jobs_per_child 300: restarts $n"
