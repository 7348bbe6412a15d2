#!/bin/bash
# fkbroker under valgrind through a short tour of its paths (push, PUSHB
# errors, blocked and woken FETCH, ACK, FAIL to retry and dead, expiry with
# XTIME, MUTATE, QUEUE, workers and BEAT, password, latency, service time,
# CPU cost, garbage input, garbled and cut deliveries, FETCHes outliving their client,
# connections left open at the end): no errors, no leaks after TERM.
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || skip "no valgrind"
if nm "$B/fkbroker" 2>/dev/null | grep -q __asan_init; then
	skip "sanitizer build (valgrind cannot run it)"
fi
VG="valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 --log-file=$T/valgrind.log"

rm -f "$T/broker.port"
$VG "$B/fkbroker" -b 127.0.0.1:0 --port-file "$T/broker.port" --retry-delay-ms 100 \
	--latency-us 2000 --fetch-wait-ms 300 >"$T/broker.log" 2>&1 &
BROKER_PID=$!
track $BROKER_PID
wait_for 30 test -s "$T/broker.port" || fail "fkbroker did not start under valgrind"
BROKER_PORT=$(cat "$T/broker.port")
BROKER_URL="tcp://127.0.0.1:$BROKER_PORT"

cli push -n 300 --prefix v --batch 50 --args '[1, "two", {"three": [3.5, null, true]}]' >/dev/null
cli push -n 20 --prefix s --batch 1 --retry 1 --queue q2 >/dev/null
cli 'PUSHB [{"jid":"bad"},{"jid":"vb-00000001","jobtype":"T","args":[],"custom":{"b":1,"a":"<&>"}},3]' >/dev/null || true
cli 'PUSHB [{"jid":"vb-00000002","jobtype":"T","args":[],"queue":"bad queue"},{"jid":"vb-00000003","jobtype":"T","args":[],"at":"2030-01-01T00:00:00Z"}]' >/dev/null
jids=$(cli -P FETCH q2 FETCH q2 FETCH default FETCH default | jq -r .jid)
for j in $jids; do
	cli -P "FAIL {\"jid\":\"$j\",\"errtype\":\"E\",\"message\":\"m\",\"backtrace\":[\"x\"]}" >/dev/null
done
cli FETCH nowhere other >/dev/null &
w=$!
cli -w vg-wid 'BEAT {"wid":"vg-wid","current_state":"quiet","rss_kb":5}' FETCH q2 XWORKERS 'PUSH {"jid":"wake-000001","jobtype":"T","args":[],"queue":"other"}' >/dev/null
wait $w
cli XTIME 4000 >/dev/null
cli 'MUTATE {"cmd":"requeue","target":"dead","filter":{"jobtype":"noop"}}' 'MUTATE {"cmd":"kill","target":"retries"}' \
	'MUTATE {"cmd":"discard","target":"scheduled","filter":{"regexp":"*vb*"}}' 'QUEUE PAUSE q2' 'QUEUE LATENCY default q2' \
	'QUEUE RESUME *' 'QUEUE REMOVE q2' INFO XAUDIT 'XJOB v-00000001' XSTATS >/dev/null || true
for i in $(seq 1 20); do
	cli -P FETCH default FETCH default | jq -r .jid | while read -r j; do echo "ACK {\"jid\":\"$j\"}"; done > "$T/acks"
	[ -s "$T/acks" ] && cli -P $(cat "$T/acks" | tr '\n' ' ') >/dev/null
done
cli XFAULT garbage_every 3 >/dev/null
# The 3rd worker reply is garbage: a FETCH's, so its reservation is garbled at the close.
cli -w g INFO 'FETCH default' 'FETCH default' >/dev/null 2>&1 || true
cli XFAULT garbage_every 0 >/dev/null
# Service time; FETCHes that outlive their client (one takes a job, one times out); cuts
# on both parities (a FETCH that ran, one that did not).
cli XFAULT service_us 1000 >/dev/null
cli -P -w svc INFO INFO 'FETCH default' 'FETCH nowhere' >/dev/null
cli XFAULT service_us 0 >/dev/null
# CPU cost: one command per turn; a worker connection reaped (XTIME, a
# pipelined producer's later turn) while its next turn waits on the runnable
# list (it is freed only once off it); its 2000 ACKs take 100 us each.
cli XFAULT cost_us 300 >/dev/null
cli -P -w cost 'PUSHB [{"jid":"cost-000001","jobtype":"T","args":[],"queue":"cq"},{"jid":"cost-000002","jobtype":"T","args":[],"queue":"cq"}]' \
	'FETCH cq' 'FETCH cq' 'ACK {"jid":"cost-000001"}' 'FAIL {"jid":"cost-000002"}' >/dev/null
{ printf 'HELLO {"wid":"reaped","v":2}\r\n'; for _ in $(seq 2000); do printf 'ACK {"jid":"nobody-01"}\r\n'; done; } >"$T/turns"
exec 9<>"/dev/tcp/127.0.0.1/$BROKER_PORT"; cat "$T/turns" >&9
cli -P XSTATS 'XTIME 100' >/dev/null
exec 9<&- 9>&-
cli XFAULT cost_us 0 >/dev/null
printf 'HELLO {"wid":"orphan","v":2}\r\nFETCH vq\r\nFETCH vq\r\n' >"$T/orphan"
exec 9<>"/dev/tcp/127.0.0.1/$BROKER_PORT"; cat "$T/orphan" >&9; exec 9<&- 9>&-
cli 'PUSH {"jid":"orphan-0001","jobtype":"T","args":[],"queue":"vq"}' >/dev/null
cli XFAULT drop_after 1 >/dev/null
for _ in 1 2; do cli -w cut 'FETCH default' >/dev/null 2>&1 || true; done
cli XFAULT drop_after 0 >/dev/null
wait_for 10 only_me || fail "connections left open"
lost=$(cli XAUDIT | jq -r '"\(.lost_garbled) \(.lost_cut) \(.lost_orphaned)"')
cli XSTATS 'XJOB orphan-0001' 'ACK {"jid":"orphan-0001"}' >/dev/null
echo "$lost" | awk '{ exit !($1 >= 1 && $2 >= 1 && $3 >= 1) }' ||
	fail "garbled, cut, orphaned deliveries: $lost"
raw 1 'HELLO {}\r\nACK\r\nPUSH\r\nPUSH {oops\r\n\x00\xff\r\nFETCH  a\r\n' >/dev/null
head -c 3000 /dev/urandom > "$T/junk"
exec 9<>"/dev/tcp/127.0.0.1/$BROKER_PORT"; cat "$T/junk" >&9; exec 9<&- 9>&-
cli FLUSH XFLUSHSTATS >/dev/null
# Connections still open when TERM comes: one blocked in FETCH, one idle.
exec 7<>"/dev/tcp/127.0.0.1/$BROKER_PORT"
printf 'HELLO {"wid":"left-open","v":2}\r\nFETCH never\r\n' >&7
exec 6<>"/dev/tcp/127.0.0.1/$BROKER_PORT"
sleep 0.5
kill -TERM "$BROKER_PID"
rc=0
wait "$BROKER_PID" || rc=$?
exec 6<&- 7<&-
grep -q "ERROR SUMMARY: 0 errors" "$T/valgrind.log" || { cat "$T/valgrind.log"; fail "valgrind found errors"; }
[ "$rc" -eq 0 ] || { tail -n 40 "$T/valgrind.log"; fail "fkbroker exited $rc under valgrind"; }
echo "# lost garbled/cut/orphaned: $lost; valgrind: $(grep -o 'in use at exit: .*' "$T/valgrind.log"); $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$T/valgrind.log")"
