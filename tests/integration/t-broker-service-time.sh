#!/bin/bash
# --service-us: each command holds its connection for the service time, as
# the real server's redis round trips do (docs 2.4): N pipelined commands on
# one connection take at least N service times, while connections served in
# parallel overlap. A blocked FETCH still answers after the fetch wait; the
# service time works with --latency-us and through XFAULT. Also XSTATS
# "pipelined": commands a worker sent before it had the reply to the one
# before; exactly 0 for a client that waits for each reply, whatever the
# delays.
. "$(dirname "$0")/lib.sh"

# n_times N WORD: WORD N times.
n_times() { for _ in $(seq "$1"); do printf '%s ' "$2"; done; }
# ratio A B: A / B with two decimals.
ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }

start_broker --service-us 30000
# ACK of a jid nobody pushed: "+OK", a short reply for bash to read.
noops=()
for _ in $(seq 20); do noops+=('ACK {"jid":"st-nobody-0001"}'); done
# One connection, 20 commands in one write: at least 20 x 30 ms (HELLO's own time aside).
t0=$(now_s)
expect_eq "serial replies" "$(cli -P -w st-serial "${noops[@]}" | grep -c '^OK$')" 20
serial=$(elapsed "$t0")
between "$serial" 0.6 1000 || fail "20 pipelined commands at 30 ms each took only $serial s"

# 20 connections, one command each, all written before any reply is read: they overlap.
for _ in $(seq 20); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$BROKER_PORT"
	fds="${fds:-} $fd"
done
t0=$(now_s)
for fd in $fds; do
	printf 'HELLO {"wid":"st-par","v":2}\r\nACK {"jid":"st-nobody-0001"}\r\n' >&"$fd"
done
for fd in $fds; do
	for _ in hi ok ack; do read -r -t 10 line <&"$fd" || fail "parallel: no reply on fd $fd"; done
	expect_eq "parallel: ACK reply" "${line%$'\r'}" "+OK"
done
parallel=$(elapsed "$t0")
for fd in $fds; do exec {fd}<&-; done
awk "BEGIN{exit !($parallel * 3 < $serial)}" ||
	fail "20 connections in parallel took $parallel s, 20 commands on one took $serial s"

# A FETCH on an empty queue answers after the fetch wait; the INFO behind it
# one service time later at the earliest.
stop_pid "$BROKER_PID"
start_broker --service-us 300000 --fetch-wait-ms 1000
t0=$(now_s)
expect_eq "blocked FETCH, then INFO" "$(cli -P 'FETCH st-empty' INFO | cut -c1-7 | tr '\n' '|')" '(nil)|{"now":|'
blocked=$(elapsed "$t0")
# HELLO 0.3 + the wait 1.0 (the FETCH's 0.3 lies inside it) + INFO 0.3.
between "$blocked" 1.55 1000 || fail "FETCH + INFO took only $blocked s"

# With --latency-us too: 10 commands one at a time pay both each time.
stop_pid "$BROKER_PID"
start_broker --service-us 20000 --latency-us 30000
t0=$(now_s)
# shellcheck disable=SC2046
expect_eq "latency + service replies" "$(cli -w st-lat $(n_times 10 INFO) | grep -c '^{"now"')" 10
both=$(elapsed "$t0")
between "$both" 0.5 1000 || fail "10 commands at 20 ms service + 30 ms latency took only $both s"

# XFAULT service_us at run time, and back to 0.
cli XFAULT service_us 0 >/dev/null
cli XFAULT latency_us 0 >/dev/null
cli XFAULT service_us 50000 >/dev/null
t0=$(now_s)
# shellcheck disable=SC2046
cli -P -w st-xfault $(n_times 10 INFO) >/dev/null
xf=$(elapsed "$t0")
between "$xf" 0.5 1000 || fail "XFAULT service_us 50000: 10 commands took only $xf s"
cli XFAULT service_us 0 >/dev/null

# pipelined: 0 for clients that wait for each reply, whatever the delays.
for delays in "" "--latency-us 20000" "--service-us 20000" "--latency-us 5000 --service-us 5000"; do
	stop_pid "$BROKER_PID"
	# shellcheck disable=SC2086 # the options are words
	start_broker $delays --fetch-wait-ms 300
	cli push -n 2 --batch 1 --prefix pipe >/dev/null
	cli -w st-one INFO 'FETCH default' 'ACK {"jid":"pipe-00000001"}' 'FETCH nothing' \
		'BEAT {"wid":"st-one"}' >/dev/null
	expect_eq "[$delays] one at a time" "$(stat_field pipelined)" 0
	# ACK and FETCH in one write, as a pipelining worker does: the FETCH counts.
	cli -P -w st-pair 'FETCH default' >/dev/null
	cli -P -w st-pair 'ACK {"jid":"pipe-00000002"}' 'FETCH nothing' >/dev/null
	expect_eq "[$delays] ACK+FETCH in one write" "$(stat_field pipelined)" 1
	# Producers are not counted.
	cli -P INFO INFO INFO >/dev/null
	expect_eq "[$delays] producer" "$(stat_field pipelined)" 1
done
# A FETCH sent while an earlier FETCH still waits counts.
exec 8<>"/dev/tcp/127.0.0.1/$BROKER_PORT"
printf 'HELLO {"wid":"st-blocked","v":2}\r\n' >&8
for _ in hi ok; do read -r -t 5 _l <&8 || fail "no handshake"; done
printf 'FETCH nothing\r\n' >&8
sleep 0.1
printf 'FETCH nothing\r\n' >&8
for _ in 1 2; do read -r -t 5 _l <&8 || fail "blocked FETCHes: no reply"; done
exec 8<&- 8>&-
expect_eq "FETCH behind a waiting FETCH" "$(stat_field pipelined)" 2
echo "# 20 commands: one connection ${serial}s, 20 connections ${parallel}s ($(ratio "$serial" "$parallel")x);" \
	"blocked FETCH + INFO ${blocked}s; service + latency ${both}s; pipelined exact"
