#!/bin/bash
# Issue 12: the jobs the master FAILs for a child killed with -9 (errtype
# WorkerCrash) count as failed, per jobtype and per error type, and nothing the
# killed child had counted is lost: status processed + failed equals the ACKs
# and FAILs the server received, exactly, once the numbers settle.
. "$(dirname "$0")/lib.sh"
CPUS=2 CONCURRENCY=40 STATS_MS=5000 sup_up --retry-delay-ms 60000
# Quick jobs first, so the child has counted jobs it has not yet published
# (the stats interval is 5 s), then long ones so that it dies with jobs in flight.
cli push -n 300 --jobtype noop --prefix q --batch 300 >/dev/null
wait_for 10 sh -c "[ \$($B/fkcli -u $BROKER_URL audit | jq .done) -ge 300 ]" || fail "noop jobs not done"
cli push -n 40 --jobtype sleep --args '[30000]' --prefix s --batch 40 >/dev/null
busy() { [ "$(stat_field working)" -ge 30 ]; }
wait_for 10 busy || fail "sleep jobs not running: $(cli XSTATS)"
victim=$(child_pid 0)
[ -n "$victim" ] || fail "no child 0"
kill -KILL "$victim"
crash_failed() { [ "$(stat_field failed)" -gt 0 ]; }
wait_for 5 crash_failed || fail "in-flight jobs not FAILed within 5 s: $(cli XSTATS)"
n=$(stat_field failed)
acked=$(stat_field acked)
# The server's numbers: every ACK and FAIL it took (not the ACKs it found
# nothing to do for, ack_noop); ours must settle on the same, within 5 s.
settled() {
	s=$(status_json)
	[ "$(echo "$s" | jq .processed)" = "$(stat_field acked)" ] &&
	    [ "$(echo "$s" | jq .failed)" = "$(stat_field failed)" ]
}
wait_for 5 settled || fail "status $(status_json | jq -c '{processed, failed}') != server $(cli XSTATS | jq -c '{acked, failed}')"
s=$(status_json)
expect_eq "failed, jobtype sleep, errtype WorkerCrash" \
    "$(echo "$s" | jq '[.failed_by[] | select(.jobtype == "sleep" and .errtype == "WorkerCrash") | .failed] | add')" "$n"
expect_eq "processed, jobtype noop" "$(echo "$s" | jq '.jobtypes[] | select(.name == "noop") | .processed')" "$acked"
expect_eq "failed, jobtype sleep" "$(echo "$s" | jq '.jobtypes[] | select(.name == "sleep") | .failed')" "$n"
ctl status >"$T/status.txt"
grep -Eq "^failed +sleep +WorkerCrash +$n\$" "$T/status.txt" ||
	fail "status text has no 'failed sleep WorkerCrash $n' line: $(cat "$T/status.txt")"
echo "# kill -9: $n in-flight jobs FAILed by the master (WorkerCrash) counted as failed; $acked ACKs counted; status equals the server's counts"
