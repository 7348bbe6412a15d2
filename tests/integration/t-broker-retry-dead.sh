#!/bin/bash
# FAIL keeps errtype and message, counts retries, puts the job in the retry set
# and back in its queue after --retry-delay-ms; a job out of retries goes to the
# dead set, retry 0 is dropped, retry -1 dies at once; MUTATE requeues the dead.
. "$(dirname "$0")/lib.sh"
start_broker --retry-delay-ms 300

fail_job() {	# fail_job JID ERRTYPE MESSAGE
	expect_eq "FAIL $1" "$(cli "FAIL {\"jid\":\"$1\",\"errtype\":\"$2\",\"message\":\"$3\",\"backtrace\":[\"a.rb:1\"]}")" OK
}

cli push -n 1 --queue rq --prefix r --retry 2 >/dev/null
expect_eq "first delivery" "$(cli FETCH rq | jq -r .jid)" r-00000001
# One connection, so the checks run within the 0.3 s even on a slow machine.
t0=$(now_s)
cli -P 'FAIL {"jid":"r-00000001","errtype":"Boom","message":"first failure","backtrace":["a.rb:1"]}' \
	'XJOB r-00000001' XSTATS > "$T/after-fail"
expect_eq "FAIL" "$(sed -n 1p "$T/after-fail")" OK
expect_eq "state after FAIL" "$(sed -n 2p "$T/after-fail" | jq -r .state)" retry
expect_eq "retry set size" "$(sed -n 3p "$T/after-fail" | jq -r .retries)" 1
job=$(cli FETCH rq)
back=$(elapsed "$t0")
between "$back" 0.29 1.5 || fail "retried job came back after $back s (retry delay 0.3 s)"
expect_eq "retry_count" "$(echo "$job" | jq .failure.retry_count)" 0
expect_eq "remaining" "$(echo "$job" | jq .failure.remaining)" 2
expect_eq "errtype kept" "$(echo "$job" | jq -r .failure.errtype)" Boom
expect_eq "message kept" "$(echo "$job" | jq -r .failure.message)" "first failure"
expect_eq "backtrace kept" "$(echo "$job" | jq -c .failure.backtrace)" '["a.rb:1"]'
echo "$job" | jq -e '.failure.next_at and .failure.failed_at' >/dev/null || fail "no next_at: $job"
echo "$job" | grep -q '^{"retry":2,"failure":{"failed_at":' || fail "key order: $job"

fail_job r-00000001 Boom2 second
expect_eq "second retry" "$(cli FETCH rq | jq .failure.retry_count)" 1
fail_job r-00000001 Boom3 third
expect_eq "out of retries: dead" "$(job_field r-00000001 state)" dead
expect_eq "dead set" "$(stat_field dead)" 1
expect_eq "FAILs counted" "$(job_field r-00000001 failed)" 3
expect_eq "last errtype" "$(job_field r-00000001 errtype)" Boom3
expect_eq "not back in the queue" "$(cli FETCH rq)" "(nil)"

# retry 0: dropped after the FAIL; retry -1: straight to the dead set.
cli push -n 1 --queue r0 --prefix zero --retry 0 >/dev/null
cli FETCH r0 >/dev/null
fail_job zero-00000001 E m
expect_eq "retry 0 job" "$(job_field zero-00000001 state)" done
cli push -n 1 --queue rm --prefix minus --retry -1 >/dev/null
cli FETCH rm >/dev/null
fail_job minus-00000001 E m
expect_eq "retry -1 job" "$(job_field minus-00000001 state)" dead
expect_eq "dead set" "$(stat_field dead)" 2
expect_eq "fail_errtypes" "$(cli XSTATS | jq -c '.fail_errtypes | [.Boom, .Boom2, .Boom3, .E]')" '[1,1,1,2]'

# An empty errtype and message become "unknown", as the server cleanses them.
cli push -n 1 --queue ru --prefix unk >/dev/null
cli FETCH ru >/dev/null
expect_eq "bare FAIL" "$(cli 'FAIL {"jid":"unk-00000001"}')" OK
expect_eq "errtype unknown" "$(cli FETCH ru | jq -r .failure.errtype)" unknown

# MUTATE requeue from the dead set: the job comes back with its failure block.
expect_eq "MUTATE" "$(cli 'MUTATE {"cmd":"requeue","target":"dead","filter":{"jids":["r-00000001"]}}')" OK
job=$(cli FETCH rq)
expect_eq "requeued dead job" "$(echo "$job" | jq -c '[.jid, .failure.retry_count, .failure.remaining]')" '["r-00000001",2,0]'
cli ACK '{"jid":"r-00000001"}' >/dev/null
cli ACK '{"jid":"unk-00000001"}' >/dev/null
expect_eq "audit: done" "$(audit done)" 4
expect_eq "audit: failed jids" "$(audit failed)" 4
expect_eq "audit: delivered more than once" "$(audit delivered_multi)" 2
expect_eq "audit: pending" "$(audit pending)" 0
echo "# FAIL -> retry after ${back}s -> dead after 3 failures; retry 0 dropped, -1 dead; requeue"
