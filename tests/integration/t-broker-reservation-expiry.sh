#!/bin/bash
# Reservations expire after reserve_for (60 s minimum, 1800 by default) as a
# ReservationExpired failure (retried after --retry-delay-ms, 5 s here); a late
# ACK is +OK and changes nothing. Scheduled
# jobs wait for their "at". Workers silent for --reap-s lose their connections.
# XTIME moves the broker's clock, so nothing here waits for real.
. "$(dirname "$0")/lib.sh"
start_broker --retry-delay-ms 5000

cli push -n 1 --queue x --prefix exp --reserve-for 60 >/dev/null
cli FETCH x >/dev/null
cli XTIME 59 >/dev/null
expect_eq "reserved at 59 s" "$(job_field exp-00000001 state)" working
cli XTIME 2 >/dev/null
expect_eq "expired at 61 s" "$(job_field exp-00000001 state)" retry
expect_eq "errtype" "$(job_field exp-00000001 errtype)" ReservationExpired
expect_eq "late ACK" "$(cli ACK '{"jid":"exp-00000001"}')" OK
expect_eq "late ACK changes nothing" "$(job_field exp-00000001 state)" retry
expect_eq "counted as a no-op ACK" "$(job_field exp-00000001 ack_noop)" 1
expect_eq "late FAIL" "$(cli 'FAIL {"jid":"exp-00000001","errtype":"x"}' || true)" "-ERR Job not found exp-00000001"
cli XTIME 6 >/dev/null
job=$(cli FETCH x)
expect_eq "back with the expiry failure" "$(echo "$job" | jq -c '[.failure.errtype, .failure.message, .failure.retry_count, .reserve_for]')" \
	'["ReservationExpired","Faktory job reservation expired",0,60]'
echo "$job" | jq -e '.failure | has("backtrace") | not' >/dev/null || fail "expiry has a backtrace: $job"
cli ACK '{"jid":"exp-00000001"}' >/dev/null
expect_eq "acked once in the end" "$(job_field exp-00000001 acked)" 1

# reserve_for below 60 is raised to 60; none means 1800.
cli push -n 1 --queue x --prefix short --reserve-for 30 >/dev/null
cli push -n 1 --queue y --prefix deflt >/dev/null
cli FETCH x >/dev/null
cli FETCH y >/dev/null
cli XTIME 31 >/dev/null
expect_eq "reserve_for 30 still reserved at 31 s" "$(job_field short-00000001 state)" working
cli XTIME 30 >/dev/null
expect_eq "reserve_for 30 expired at 61 s" "$(job_field short-00000001 state)" retry
cli XTIME 1700 >/dev/null
expect_eq "default reservation at 1761 s" "$(job_field deflt-00000001 state)" working
cli XTIME 60 >/dev/null
expect_eq "default reservation at 1821 s" "$(job_field deflt-00000001 state)" retry

# A job scheduled an hour ahead is not fetchable until the clock gets there.
at=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
expect_eq "scheduled PUSH" "$(cli "PUSH {\"jid\":\"sched-0000001\",\"jobtype\":\"T\",\"args\":[],\"queue\":\"s\",\"at\":\"$at\"}")" OK
expect_eq "state" "$(job_field sched-0000001 state)" scheduled
expect_eq "INFO scheduled" "$(cli INFO | jq .faktory.sets.scheduled)" 1
cli XTIME 3601 >/dev/null
expect_eq "due: fetched" "$(cli FETCH s | jq -r '.jid + " " + .at')" "sched-0000001 $at"

# Reaping: a worker that never BEATs is disconnected; a producer is not.
exec 7<>"/dev/tcp/127.0.0.1/$BROKER_PORT"
printf 'HELLO {"wid":"reap-me","hostname":"h","pid":1,"labels":[],"v":2}\r\n' >&7
exec 6<>"/dev/tcp/127.0.0.1/$BROKER_PORT"
printf 'HELLO {"v":2}\r\n' >&6
for fd in 7 6; do
	read -r -t 3 hi <&"$fd" && read -r -t 3 ok <&"$fd" || fail "no handshake on fd $fd"
	expect_eq "HELLO on fd $fd" "${ok%$'\r'}" "+OK"
done
expect_eq "worker known" "$(cli XWORKERS | jq -r 'keys[0]')" reap-me
cli XTIME 59 >/dev/null
timeout 1 cat <&7 && fail "worker closed before 60 s"
cli XTIME 16 >/dev/null
timeout 3 cat <&7 >/dev/null || fail "silent worker not disconnected after 75 s"
expect_eq "worker forgotten" "$(cli XWORKERS)" "{}"
printf 'PUSH {"jid":"after-reap-01","jobtype":"T","args":[],"queue":"z"}\r\n' >&6
read -r -t 3 ok <&6 || fail "producer connection closed"
expect_eq "producer still served" "${ok%$'\r'}" "+OK"
exec 6<&- 7<&-
echo "# expiry at 60 s (not 59), late ACK ignored, 1800 s default, scheduled job, reaper at 60-75 s"
