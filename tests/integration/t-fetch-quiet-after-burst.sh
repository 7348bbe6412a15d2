#!/bin/bash
# quiet right after a burst, against fkbroker serving like the real server: no new
# FETCH goes out; the FETCHes already out are answered within one FETCH wait and the
# jobs they bring run; no job starts later than that (the promise: 2.5 s; checked at
# 3.5 s), and nothing is left reserved.
. "$(dirname "$0")/lib.sh"
CPUS=2 CONCURRENCY=400 sup_up --service-us 150 --retry-delay-ms 0 --reap-s 86400
cli push -n 20000 --jobtype noop --prefix burst --batch 1000 >/dev/null
cli wait-done 20000 --timeout 60 >/dev/null || fail "burst not done"
t0=$(now_s)
ctl quiet >/dev/null || fail "quiet refused"
# Pushes go on for 7 s; a job delivered now comes from a FETCH sent before the quiet.
k=0 at35=""
while [ $k -lt 14 ]; do
	k=$((k + 1))
	cli push -n 10 --jobtype noop --prefix "q-$k" --batch 10 >/dev/null
	sleep 0.5
	if [ -z "$at35" ] && awk -v e="$(elapsed "$t0")" 'BEGIN { exit !(e >= 3.5) }'; then
		at35=$(stat_field delivered)
	fi
done
last=$(stat_field delivered)
[ -n "$at35" ] || fail "the pushes took too long to sample 3.5 s after the quiet"
expect_eq "jobs delivered later than 3.5 s after the quiet" "$((last - at35))" 0
wait_for 5 sh -c "[ \$($B/fkcli -u $BROKER_URL XSTATS | jq .working) -eq 0 ]" ||
	fail "jobs delivered after the quiet still reserved: $(cli XSTATS)"
expect_eq "stranded" "$(audit stranded)" 0
expect_eq "state" "$(sfield .state)" quiet
late=$((last - 20000))
echo "# quiet after a 20000-job burst: $late job(s) brought by FETCHes already out, run;" \
    "none delivered later than 3.5 s after the quiet; 0 stranded"
