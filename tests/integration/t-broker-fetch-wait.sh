#!/bin/bash
# FETCH on empty queues waits about 2 s, then answers $-1; a PUSH to any of
# the queues it waits on wakes it at once; the replies of commands pipelined
# behind a waiting FETCH come after it, in order.
. "$(dirname "$0")/lib.sh"
start_broker

t0=$(now_s)
out=$(cli -r FETCH empty1 empty2)
took=$(elapsed "$t0")
expect_eq "empty FETCH reply" "$out" '$-1\r\n'
between "$took" 1.5 3.5 || fail "empty FETCH answered after $took s, want about 2 s"

# A blocked FETCH on three queues is woken by a PUSH to the last one.
t0=$(now_s)
cli FETCH w1 w2 w3 > "$T/woken" &
fpid=$!
sleep 0.3
cli 'PUSH {"jid":"wake-00000001","jobtype":"T","args":[],"queue":"w3"}' >/dev/null
wait $fpid
woke=$(elapsed "$t0")
expect_eq "woken FETCH got" "$(jq -r .jid "$T/woken")" wake-00000001
between "$woke" 0.25 1.5 || fail "woken FETCH answered after $woke s"

# Pipelined: the INFO and BEAT behind a waiting FETCH are answered after it.
out=$(cli -P -w pipe-wid 'FETCH nothing' INFO 'BEAT {"wid":"pipe-wid"}' | cut -c1-8 | tr '\n' '|')
expect_eq "replies in order" "$out" '(nil)|{"now":"|OK|'

# Two waiters on one queue: one PUSH serves the oldest, the other times out.
cli FETCH shared > "$T/a" &
a=$!
sleep 0.2
cli FETCH shared > "$T/b" &
bpid=$!
sleep 0.2
cli 'PUSH {"jid":"shared-0000001","jobtype":"T","args":[],"queue":"shared"}' >/dev/null
wait $a $bpid
expect_eq "first waiter" "$(jq -r .jid "$T/a")" shared-0000001
expect_eq "second waiter" "$(cat "$T/b")" "(nil)"
echo "# empty FETCH: \$-1 after ${took}s; blocked FETCH woken by a PUSH after ${woke}s"
