#!/bin/bash
# kill -9 of the whole host while idle, then 10 s of pushes, against fkbroker serving
# like the real server: each child had one FETCH out (the long poll), and the server
# still runs it after the connection is gone (docs/faktory-protocol.md 2.4), so at most
# one job per child stays reserved for nobody (stranded) until reserve_for. A worker
# with a FETCH out per slot strands one job per slot (faktory_worker_go at concurrency
# 200: 200).
. "$(dirname "$0")/lib.sh"
CPUS=2 CONCURRENCY=400 sup_up --service-us 150 --reap-s 86400
sleep 3
out=$(sfield .fetching)
kids=$(child_pids | tr '\n' ' ')
# shellcheck disable=SC2086 # a list of pids
kill -KILL "$FKW_PID" $kids
wait "$FKW_PID" 2>/dev/null || true
for p in $kids; do
	wait_for 5 pid_gone "$p" || fail "child $p survived kill -9"
done
k=0
while [ $k -lt 20 ]; do
	k=$((k + 1))
	cli push -n 10 --jobtype noop --prefix "after-$k" --batch 10 >/dev/null
	sleep 0.5
done
st=$(audit stranded)
[ "$st" -le 2 ] || fail "$st jobs stranded after kill -9 of an idle host with 2 children"
expect_eq "reserved (all of them stranded)" "$(stat_field working)" "$st"
echo "# kill -9 of an idle host (2 children, 400 slots, $out FETCHes out): $st of 200 jobs" \
    "pushed over the next 10 s stranded (bound: 1 per child)"
