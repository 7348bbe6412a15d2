#!/bin/bash
# Each injected fault, as a flag and through XFAULT at run time: --latency-us
# delays every batch of replies, --drop-after cuts worker connections at their
# Nth command, --refuse-ms closes new connections for a while, --garbage-every
# replaces every Nth reply to a worker with bytes that are not a reply
# (--service-us has its own test, t-broker-service-time).
# Producer connections (tools like fkcli) and admin verbs are never faulted.
. "$(dirname "$0")/lib.sh"

# --latency-us: ten commands one at a time take at least ten delays.
start_broker --latency-us 50000
t0=$(now_s)
cli -w lat INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO >/dev/null
slow=$(elapsed "$t0")
between "$slow" 0.5 5 || fail "10 replies with 50 ms latency took $slow s"
t0=$(now_s)
cli -P -w lat INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO >/dev/null
piped=$(elapsed "$t0")
between "$piped" 0.09 0.45 || fail "a pipelined batch with 50 ms latency took $piped s"
cli XFAULT latency_us 0 >/dev/null
t0=$(now_s)
cli -w lat INFO INFO INFO INFO INFO INFO INFO INFO INFO INFO >/dev/null
fast=$(elapsed "$t0")
between "$fast" 0 0.45 || fail "latency 0 (XFAULT): 10 replies took $fast s"
stop_pid "$BROKER_PID"

# --drop-after: a worker connection is cut when its Nth counted command is read
# (admin verbs are not counted): output not yet written is lost, nothing after
# it runs. On odd connection ids the Nth command runs first, on even ids it
# never runs; XSTATS counts each by verb. Consecutive connections have ids of
# both parities, so each case below happens once.
start_broker --drop-after 3
for _ in 1 2; do
	out=$(cli -w dropper XSTATS INFO INFO INFO INFO | cut -c1-8 | tr '\n' '|' || true)
	expect_eq "worker cut at its 3rd command (XSTATS not counted)" "$out" '{"pushed|{"now":"|{"now":"|(eof)|'
done
expect_eq "one 3rd INFO ran" "$(cli XSTATS | jq -c .cut_ran)" '{"INFO":1}'
expect_eq "one 3rd INFO did not" "$(cli XSTATS | jq -c .cut_unrun)" '{"INFO":1}'
out=$(cli INFO INFO INFO INFO INFO | cut -c1-8 | tr '\n' '|')
expect_eq "producer not dropped" "$out" '{"now":"|{"now":"|{"now":"|{"now":"|{"now":"|'
cli XFAULT drop_after 0 >/dev/null
expect_eq "XFAULT drop_after 0" "$(cli -w dropper INFO INFO INFO INFO | wc -l)" 4
# An ACK that ran though its +OK never came, and one that never ran.
cli push -n 2 --batch 1 --prefix dropack >/dev/null
cli -P FETCH default FETCH default >/dev/null
cli XFAULT drop_after 1 >/dev/null
for j in dropack-00000001 dropack-00000002; do
	expect_eq "ACK cut" "$(cli -w dropper "ACK {\"jid\":\"$j\"}" || true)" "(eof)"
done
acked=$(( $(job_field dropack-00000001 acked) + $(job_field dropack-00000002 acked) ))
expect_eq "one of the two ACKs ran" "$acked" 1
expect_eq "XSTATS cut_ran" "$(cli XSTATS | jq -c .cut_ran)" '{"ACK":1,"INFO":1}'
expect_eq "XSTATS cut_unrun" "$(cli XSTATS | jq -c .cut_unrun)" '{"ACK":1,"INFO":1}'
expect_eq "XFLUSHSTATS" "$(cli XFLUSHSTATS XSTATS | tail -n 1 | jq -c '[.cut_ran,.cut_unrun]')" '[{},{}]'
stop_pid "$BROKER_PID"

# --refuse-ms: new connections are closed without a greeting for that long.
start_broker --refuse-ms 1500
out=$(raw 1 '')
expect_eq "refused" "$out" "! EOF"
sleep 1.6
raw 1 '' | head -n 1 | grep -q '^+HI ' || fail "still refusing after the window"
cli XFAULT refuse_ms 800 >/dev/null
expect_eq "XFAULT refuse_ms" "$(raw 1 '')" "! EOF"
t0=$(now_s)
cli INFO >/dev/null || fail "fkcli did not get through after the refusal"
waited=$(elapsed "$t0")
between "$waited" 0.2 3 || fail "fkcli got through after $waited s of an 0.8 s refusal"
stop_pid "$BROKER_PID"

# --garbage-every: every 2nd reply to worker connections is garbage.
start_broker --garbage-every 2
out=$(raw 1 'HELLO {"wid":"g","v":2}\r\nINFO\r\nINFO\r\nINFO\r\nINFO\r\n' | cat -v | cut -c1-12 | tr '\n' '|')
# +HI, +OK, INFO, garbage, INFO, garbage: the handshake does not count.
echo "$out" | grep -Eq '^\+HI [^|]*\|\+OK\^M\|\$[0-9]+\^M\|\{"now":"[^|]*\|[^|]*garbage[^|]*\|\$[0-9]+\^M\|\{"now":"[^|]*\|[^|]*garbage[^|]*\|! OPEN\|$' ||
	fail "not every 2nd reply was garbage: $out"
err=$(cli -w g INFO INFO INFO 2>&1 >/dev/null || true)
echo "$err" | grep -q "bad reply" || fail "fkcli did not notice the garbage: $err"
expect_eq "producer replies are clean" "$(cli INFO INFO INFO INFO | grep -c '^{"now"')" 4
cli XFAULT garbage_every 0 >/dev/null
expect_eq "XFAULT garbage_every 0" "$(cli -w g INFO INFO INFO INFO | grep -c '^{"now"')" 4
expect_eq "unknown fault" "$(cli XFAULT nonsense 1 || true)" \
	"-ERR usage: XFAULT latency_us|service_us|cost_us|drop_after|garbage_every|refuse_ms <n>"
echo "# latency: 10 replies ${slow}s, one pipelined batch ${piped}s, none ${fast}s; drops, refusal, garbage"
