#!/bin/bash
# fkbroker basics over the wire: PUSH, FETCH returns the job JSON in the
# server's key order, ACK finishes it; FETCH takes the first non-empty queue
# in the order named, FIFO inside a queue; PUSHB partial failure; the audit
# counts every event (pushed, delivered, acked) per jid.
. "$(dirname "$0")/lib.sh"
start_broker

out=$(cli 'PUSH {"queue":"q1","jid":"pfa-00000001","priority":9,"jobtype":"T","args":[1,"x"],"custom":{"z":1,"a":2}}')
expect_eq "PUSH" "$out" "OK"
job=$(cli FETCH q1)
echo "$job" | grep -Eq '^\{"retry":25,"custom":\{"a":2,"z":1\},"jid":"pfa-00000001","queue":"q1","jobtype":"T","created_at":"[0-9T:.-]+Z","enqueued_at":"[0-9T:.-]+Z","args":\[1,"x"\]\}$' ||
	fail "FETCH job JSON: $job"
expect_eq "state while reserved" "$(job_field pfa-00000001 state)" working
expect_eq "ACK" "$(cli ACK '{"jid":"pfa-00000001"}')" OK
expect_eq "state after ACK" "$(job_field pfa-00000001 state)" done
expect_eq "ACK of an unknown jid" "$(cli ACK '{"jid":"never-seen-jid"}')" OK
out=$(cli 'FAIL {"jid":"never-seen-jid","errtype":"E","message":"m"}' || true)
expect_eq "FAIL of an unknown jid" "$out" "-ERR Job not found never-seen-jid"

# Queue order: the first named queue with a job wins; FIFO within a queue.
cli push -n 3 --queue low --prefix low >/dev/null
cli push -n 2 --queue high --prefix high >/dev/null
order=$(for i in 1 2 3 4 5; do cli FETCH high low | jq -r .jid; done | tr '\n' ' ')
expect_eq "fetch order" "$order" "high-00000001 high-00000002 low-00000001 low-00000002 low-00000003 "
for j in $order; do cli ACK "{\"jid\":\"$j\"}" >/dev/null; done

# PUSHB: good jobs are pushed, bad ones come back in the error map.
out=$(cli 'PUSHB [{"jid":"pb-good-0001","jobtype":"T","args":[],"queue":"pb"},{"jid":"short","jobtype":"T","args":[],"queue":"pb"},{"jid":"pb-noargs-01","jobtype":"T","queue":"pb"}]')
expect_eq "PUSHB errors" "$out" '{"pb-noargs-01":"jobs must have an args parameter","short":"jobs must have a reasonable jid parameter"}'
expect_eq "PUSHB good job" "$(cli FETCH pb | jq -r .jid)" pb-good-0001
expect_eq "delivered, not yet acked" "$(job_field pb-good-0001 state)" working
cli ACK '{"jid":"pb-good-0001"}' >/dev/null

# Many jobs through fkcli push, fetched and acked over one pipelined connection.
cli push -n 500 --queue bulk --prefix bulk --batch 100 >/dev/null
cmds=""
for i in $(seq 1 500); do cmds="$cmds FETCH bulk"; done
# shellcheck disable=SC2086
cli -P $cmds > "$T/jobs.txt"
expect_eq "jobs fetched" "$(jq -r .jid "$T/jobs.txt" | sort -u | wc -l)" 500
acks=""
for j in $(jq -r .jid "$T/jobs.txt"); do acks="$acks ACK {\"jid\":\"$j\"}"; done
# shellcheck disable=SC2086
cli -P $acks | sort | uniq -c | grep -q '^ *500 OK$' || fail "500 ACKs not all OK"

expect_eq "audit jobs" "$(audit jobs)" 507
expect_eq "audit done" "$(audit done)" 507
expect_eq "audit pending" "$(audit pending)" 0
expect_eq "audit acked once" "$(audit acked_once)" 507
expect_eq "audit acked twice" "$(audit acked_multi)" 0
expect_eq "delivered once" "$(job_field bulk-00000500 delivered)" 1
expect_eq "XSTATS pushed" "$(stat_field pushed)" 507
expect_eq "XSTATS acked" "$(stat_field acked)" 507
expect_eq "nothing left queued" "$(stat_field enqueued)" 0
echo "# push/fetch/ack, queue order, PUSHB partial failure, 500 pipelined FETCH+ACK"
