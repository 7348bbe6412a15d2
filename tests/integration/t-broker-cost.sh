#!/bin/bash
# --cost-us: the broker burns N us of its own CPU per job (a third each for
# the PUSH, the FETCH that hands the job out, the ACK), as the real server
# does with its redis (docs 2.4), so that its one core sets the pace. Shown
# from the outside: the broker's CPU time in /proc grows by N us per job
# worked (and by far less with the cost at 0: the check can fail); the
# replies to pipelined commands leave one at a time, each as soon as its
# command is done; and another connection's command runs between two
# pipelined commands of a busy one, as in a single-threaded server loop.
. "$(dirname "$0")/lib.sh"

TCK=$(getconf CLK_TCK)
JOBS=300
# broker_cpu_us: fkbroker's utime+stime (fields 14 and 15 of /proc/PID/stat) in us.
broker_cpu_us() {
	sed 's/^.*) //' "/proc/$BROKER_PID/stat" | awk -v t="$TCK" '{printf "%d", ($12 + $13) * 1e6 / t}'
}
# work PREFIX: pushes JOBS jobs, then fetches and ACKs each of them on one
# worker connection, one command at a time; prints the broker's CPU us per job.
work() {
	local acks=() c0 i
	for i in $(seq -f '%08g' "$JOBS"); do
		acks+=('FETCH default' "ACK {\"jid\":\"$1-$i\"}")
	done
	c0=$(broker_cpu_us)
	cli push -n "$JOBS" --prefix "$1" --batch 10 >/dev/null
	expect_eq "$1: replies" "$(cli -w "wrk-$1" "${acks[@]}" | grep -c '^OK$')" "$JOBS"
	expect_eq "$1: all done" "$(audit done)" "$((JOBS * ${2}))"
	echo $((($(broker_cpu_us) - c0) / JOBS))
}

# ---- CPU per job: 1000 us with the cost, next to nothing without ----
start_broker --cost-us 1000
costly=$(work cost 1)
# The burn is CPU time, so other load on the machine cannot shorten it; 10%
# off covers the clock tick (10 ms over 300 jobs is 33 us a job).
[ "$costly" -ge 900 ] || fail "--cost-us 1000: the broker spent only $costly us of CPU per job"
# The same through XFAULT, set to 0: the check above would fail if the option did nothing.
cli XFAULT cost_us 0 >/dev/null
free=$(work free 2)
[ "$free" -lt 500 ] || fail "cost_us 0: the broker spent $free us of CPU per job"
cli XFAULT cost_us 2000 >/dev/null
xf=$(work xfault 3)
[ "$xf" -ge 1800 ] || fail "XFAULT cost_us 2000: the broker spent only $xf us of CPU per job"
expect_eq "XFAULT usage names cost_us" "$(cli 'XFAULT cost' | grep -c 'cost_us')" 1

# ---- replies one at a time ----
# 600 ms a job: a PUSH burns 200 ms. Two PUSHes in one write: the first
# reply comes when the first PUSH is done, the second one PUSH later. A
# broker that answered both in one write would put them ~0 ms apart.
cli XFAULT cost_us 600000 >/dev/null
# jobs JID...: one PUSH line per jid, all in one write (bash's printf writes
# each line as it ends; echo writes its whole output at once).
jobs() {
	local s="" j
	for j; do s+="PUSH {\"jid\":\"$j\",\"jobtype\":\"noop\",\"args\":[]}"$'\r\n'; done
	echo -n "$s"
}
exec 7<>"/dev/tcp/127.0.0.1/$BROKER_PORT"
read -r -t 5 _hi <&7 || fail "no greeting"
printf 'HELLO {"v":2}\r\n' >&7
read -r -t 5 _ok <&7 || fail "no HELLO reply"
t0=$EPOCHREALTIME
jobs pair-0001 pair-0002 >&7
read -r -t 10 r1 <&7 || fail "pair: no first reply"
t1=$EPOCHREALTIME
read -r -t 10 r2 <&7 || fail "pair: no second reply"
t2=$EPOCHREALTIME
exec 7<&- 7>&-
expect_eq "pair: replies" "${r1%$'\r'}|${r2%$'\r'}" "+OK|+OK"
first=$(awk "BEGIN{printf \"%.3f\", $t1 - $t0}")
gap=$(awk "BEGIN{printf \"%.3f\", $t2 - $t1}")
between "$first" 0.15 1000 || fail "pair: the first reply came after $first s, before its PUSH could burn 200 ms"
between "$gap" 0.10 1000 || fail "pair: the second reply came $gap s after the first, not one PUSH (200 ms) later"

# ---- other connections' commands interleave ----
# Connection A writes six PUSHes in one write, B one PUSH a moment later.
# One command per connection per turn: B's reply comes after two or three of
# A's (0.4-0.6 s), long before A's last (1.2 s). A broker that ran A's
# pipeline through before looking at B answers B after all six.
# stamp_replies FD N OUT: the arrival time of each of N reply lines on FD, one a line.
stamp_replies() {
	local i l
	for i in $(seq "$2"); do
		read -r -t 20 l <&"$1" || { echo "missing reply $i" >>"$3"; return; }
		echo "$EPOCHREALTIME ${l%$'\r'}" >>"$3"
	done
}
exec 7<>"/dev/tcp/127.0.0.1/$BROKER_PORT" 8<>"/dev/tcp/127.0.0.1/$BROKER_PORT"
for fd in 7 8; do
	read -r -t 5 _hi <&$fd || fail "no greeting"
	printf 'HELLO {"v":2}\r\n' >&$fd
	read -r -t 5 _ok <&$fd || fail "no HELLO reply"
done
jobs a-000001 a-000002 a-000003 a-000004 a-000005 a-000006 >&7
sleep 0.02
jobs b-000001 >&8
stamp_replies 7 6 "$T/a.times" &
A=$!
stamp_replies 8 1 "$T/b.times" &
Bp=$!
wait "$A" "$Bp"
exec 7<&- 7>&- 8<&- 8>&-
expect_eq "interleave: A's replies" "$(grep -c ' +OK$' "$T/a.times")" 6
expect_eq "interleave: B's reply" "$(grep -c ' +OK$' "$T/b.times")" 1
b=$(awk '{print $1}' "$T/b.times")
a_last=$(tail -n 1 "$T/a.times" | awk '{print $1}')
before=$(awk -v b="$b" '$1 < b' "$T/a.times" | wc -l)
awk "BEGIN{exit !($b < $a_last)}" ||
	fail "interleave: B's one PUSH was answered after all six of A's ($before before it)"
[ "$before" -le 4 ] || fail "interleave: $before of A's six PUSHes ran before B's one"
cli XFAULT cost_us 0 >/dev/null
echo "# broker CPU per job: --cost-us 1000 ${costly} us, cost 0 ${free} us, XFAULT 2000 ${xf} us;" \
	"pipelined pair: first reply after ${first} s, second ${gap} s later; B answered after $before of A's 6"
