#!/bin/bash
# Per-delivery wire-loss accounting. Each reservation a FETCH makes remembers
# its connection and where its reply lies in that connection's output. When
# the connection closes, every reservation it still holds is stranded (kept
# for a connection that is gone, until ACK, FAIL, expiry or FLUSH) and counted
# once on its jid by the first cause that fits: lost_garbled (garbage came at
# or before its reply), lost_orphaned (the FETCH ran after the client had
# closed), lost_cut (the reply never reached the client's TCP stack),
# lost_unread (it did, and the client closed first); none when the broker
# closed and the client had the bytes. Also the docs' experiment (2.4): lines
# a client sent before closing still run, so orphaned FETCHes take jobs.
. "$(dirname "$0")/lib.sh"
start_broker

# lost JID: XJOB's "garbled cut orphaned unread".
lost() { cli XJOB "$1" | jq -r '"\(.lost_garbled) \(.lost_cut) \(.lost_orphaned) \(.lost_unread)"'; }
# totals: XAUDIT's "garbled cut orphaned unread stranded reserved".
totals() {
	cli XAUDIT | jq -r '"\(.lost_garbled) \(.lost_cut) \(.lost_orphaned) \(.lost_unread) \(.stranded) \(.reserved)"'
}
push_to() { cli push -n "$2" --batch 1 --queue "$1" --prefix "$1" >/dev/null; }

# Unread: the client gets the job, reads it, closes without ACK.
push_to wlu 1
out=$(raw 1 'HELLO {"wid":"wl-unread","v":2}\r\nFETCH wlu\r\n')
echo "$out" | grep -q '"jid":"wlu-00000001"' || fail "unread: no job: $out"
wait_for 5 only_me || fail "unread: the connection did not close"
expect_eq "unread: XJOB" "$(lost wlu-00000001)" "0 0 0 1"
expect_eq "unread: totals" "$(totals)" "0 0 0 1 1 1"
expect_eq "unread: XSTATS stranded" "$(stat_field stranded)" 1
# An ACK on another connection ends the stranded reservation.
expect_eq "ACK elsewhere" "$(cli 'ACK {"jid":"wlu-00000001"}')" OK
expect_eq "after the ACK" "$(totals)" "0 0 0 1 0 0"
expect_eq "after the ACK: XJOB acked" "$(job_field wlu-00000001 acked)" 1

# None: the client reads its job, then says END; the broker closes. A correct
# worker knows it has that job, so no loss is counted, but it is stranded.
push_to wln 1
exec 8<>"/dev/tcp/127.0.0.1/$BROKER_PORT"
printf 'HELLO {"wid":"wl-end","v":2}\r\nFETCH wln\r\n' >&8
for _ in hi ok len; do read -r -t 5 _l <&8 || fail "END case: no reply"; done
read -r -t 5 body <&8 || fail "END case: no job"
expect_eq "END case: job" "$(echo "$body" | jq -r .jid)" wln-00000001
printf 'END\r\n' >&8
timeout 5 cat <&8 >/dev/null || fail "END case: not closed"
exec 8<&- 8>&-
wait_for 5 only_me || fail "END case: still open"
expect_eq "END: XJOB" "$(lost wln-00000001)" "0 0 0 0"
expect_eq "END: totals" "$(totals)" "0 0 0 1 1 1"

# Garbled: every 2nd reply is garbage. INFO, INFO (garbage), FETCH (after the
# garbage: lost even though its bytes are fine), FETCH (garbage itself).
push_to wlg 2
cli XFAULT garbage_every 2 >/dev/null
raw 1 'HELLO {"wid":"wl-garbage","v":2}\r\nINFO\r\nINFO\r\nFETCH wlg\r\nFETCH wlg\r\n' >/dev/null
cli XFAULT garbage_every 0 >/dev/null
wait_for 5 only_me || fail "garbage: the connection did not close"
expect_eq "garbled, bytes fine: XJOB" "$(lost wlg-00000001)" "1 0 0 0"
expect_eq "garbled itself: XJOB" "$(lost wlg-00000002)" "1 0 0 0"
expect_eq "garbled: totals" "$(totals)" "2 0 0 1 3 3"

# Cut: --drop-after 1 cuts two worker connections at their FETCH. Consecutive
# connection ids differ in parity: on the odd one the FETCH ran and its reply
# was lost with the connection (lost_cut); on the even one it never ran.
push_to wlc 2
cli XFAULT drop_after 1 >/dev/null
for w in a b; do
	out=$(raw 1 "HELLO {\"wid\":\"wl-cut-$w\",\"v\":2}\r\nFETCH wlc\r\n" | tail -n 1)
	expect_eq "cut $w: closed" "$out" '! EOF'
done
cli XFAULT drop_after 0 >/dev/null
expect_eq "cut: XJOB of the job taken" "$(lost wlc-00000001)" "0 1 0 0"
expect_eq "cut: the other job is still queued" "$(job_field wlc-00000002 state)" queued
expect_eq "cut: XSTATS cut_ran" "$(cli XSTATS | jq -c .cut_ran)" '{"FETCH":1}'
expect_eq "cut: XSTATS cut_unrun" "$(cli XSTATS | jq -c .cut_unrun)" '{"FETCH":1}'
expect_eq "cut: totals" "$(totals)" "2 1 0 1 4 4"

# Orphaned (docs 2.4): one connection writes 16 FETCHes on an empty queue and
# closes at once, another writes 1. Jobs pushed over the next 3 s are taken by
# those FETCHes, which still run: all 10 for the 16, exactly 1 for the 1.
# Each connection's lines go in one write (cat of a file): bash's printf
# writes line by line, and Nagle would hold back lines a close then drops.
{ printf 'HELLO {"wid":"wl-orphan-16","v":2}\r\n'; for _ in $(seq 16); do printf 'FETCH wlo16\r\n'; done; } >"$T/o16"
printf 'HELLO {"wid":"wl-orphan-1","v":2}\r\nFETCH wlo1\r\n' >"$T/o1"
for f in o16 o1; do
	exec 8<>"/dev/tcp/127.0.0.1/$BROKER_PORT"
	cat "$T/$f" >&8
	exec 8<&- 8>&-
done
t0=$(now_s)
for i in $(seq -w 1 10); do
	sleep 0.3
	cli "PUSH {\"jid\":\"wlo16-000000$i\",\"jobtype\":\"T\",\"args\":[],\"queue\":\"wlo16\"}" >/dev/null
	cli "PUSH {\"jid\":\"wlo1-000000$i\",\"jobtype\":\"T\",\"args\":[],\"queue\":\"wlo1\"}" >/dev/null
done
pushed_in=$(elapsed "$t0")
# The 16's last 6 FETCHes still wait 2 s each before the connection closes.
wait_for 30 only_me || fail "orphaned: the connections did not close"
for i in $(seq -w 1 10); do
	expect_eq "orphaned: wlo16-000000$i" "$(cli XJOB "wlo16-000000$i" | jq -c '[.state,.delivered,.lost_orphaned]')" \
		'["working",1,1]'
done
expect_eq "orphaned: wlo1-00000001" "$(cli XJOB wlo1-00000001 | jq -c '[.state,.delivered,.lost_orphaned]')" \
	'["working",1,1]'
expect_eq "orphaned: 9 left in wlo1" "$(cli INFO | jq .faktory.queues.wlo1)" 9
expect_eq "orphaned: totals" "$(totals)" "2 1 11 1 15 15"

# XFLUSHSTATS forgets the lost counts; stranded stays what is reserved now.
cli XFLUSHSTATS >/dev/null
expect_eq "after XFLUSHSTATS: totals" "$(totals)" "0 0 0 0 15 15"
expect_eq "after XFLUSHSTATS: XJOB" "$(lost wlo16-00000001)" "0 0 0 0"
# Expiry ends stranded reservations too.
cli XTIME 1801 >/dev/null
expect_eq "after expiry: totals" "$(totals)" "0 0 0 0 0 0"
expect_eq "after expiry: XSTATS stranded" "$(stat_field stranded)" 0

# And FLUSH.
push_to wlf 1
raw 1 'HELLO {"wid":"wl-flush","v":2}\r\nFETCH wlf\r\n' >/dev/null
wait_for 5 only_me || fail "flush: the connection did not close"
expect_eq "before FLUSH" "$(totals)" "0 0 0 1 1 1"
cli FLUSH >/dev/null
expect_eq "after FLUSH" "$(totals)" "0 0 0 1 0 0"
echo "# unread, none (END), garbled x2, cut (1 ran, 1 not), orphaned 10/10 and 1/1 (pushed over ${pushed_in}s); stranded ended by ACK, expiry, FLUSH"
