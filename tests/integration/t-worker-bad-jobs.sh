#!/bin/bash
# Jobs the worker cannot run are FAILed with a clear errtype, and the good ones are unaffected.
. "$(dirname "$0")/lib.sh"
start_broker
write_conf "$T/w.conf"
cli push -n 200 --jobtype noop --prefix good --batch 100 >/dev/null
cli push -n 3 --jobtype nosuchtype --prefix unk --batch 1 --retry 0 >/dev/null
cli push -n 2 --jobtype sleep --args '["soon"]' --prefix badarg --batch 1 --retry 0 >/dev/null
cli push -n 1 --jobtype fail --args '["boom"]' --prefix f --batch 1 --retry 0 >/dev/null
start_single "$T/w.conf"
cli wait-done 206 --timeout 30 >/dev/null || { cli audit; fail "jobs not done"; }
expect_eq "good acked" "$(job_field good-00000001 acked)" 1
expect_eq "unknown errtype" "$(job_field unk-00000001 errtype)" NoHandler
cli "XJOB unk-00000001" | jq -r .message | grep -q 'no handler for jobtype "nosuchtype"' ||
	fail "NoHandler message: $(cli "XJOB unk-00000001")"
expect_eq "bad args errtype" "$(job_field badarg-00000001 errtype)" BadArgs
expect_eq "fail errtype" "$(job_field f-00000001 errtype)" Failed
expect_eq "fail message" "$(job_field f-00000001 message)" boom
expect_eq "acked once" "$(audit acked_once)" 200
kill -0 $WRK_PID || fail "worker died"
echo "# bad jobs: 3 NoHandler, 2 BadArgs, 1 Failed, 200 good ACKed once"
stop_pid $WRK_PID 10
