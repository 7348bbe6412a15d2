#!/bin/bash
# Drill 7: malformed jobs mixed into a stream of good ones, through the whole
# fkworker (master and two children). Rounds of good noop jobs alternate with
# jobs the worker cannot run:
#   pushed (valid for the server): unknown jobtype (NoHandler, message naming
#     it), sleep with a non-number (BadArgs), the fail handler (Failed), args
#     holding "\u0000" (valid JSON the server accepts), an 8 MiB args string,
#     and a 70 MB job beyond the worker's 64 MiB bulk limit (FAILed
#     JobTooLarge by the jid in its first bytes, the rest skipped);
#   injected raw (fkbroker's XINJECT, no validation): JSON cut short, args not
#     an array, nesting deeper than the parser allows, invalid UTF-8 (each
#     with a readable jid: FAILed BadJob), and a job without any jid.
# Every good job must be ACKed exactly once; every bad one with a readable jid
# FAILed with a clear errtype and message; the job without a jid skipped (it
# stays reserved and returns when its reservation expires); no process may
# crash or restart.
. "$(dirname "$0")/lib-drill.sh"

ROUNDS=$(drill_pick 4 4 2)
NG=$(drill_pick 1000 500 40)
HUGE=$(drill_pick 8388608 8388608 1048576)
OVER=70000000
CPUS=2 CONCURRENCY=$(drill_pick 40 20 6) drill_up --retry-delay-ms 0 --reap-s 86400
master=$FKW_PID
kids=$(child_pids | sort | tr '\n' ' ')

# XINJECT <queue> <raw bytes>: the broker's test verb, probed once.
r=$(cli "XINJECT default {\"jid\":\"probe-0000001\",\"jobtype\":\"noop\",\"args\":[]}" 2>&1 || true)
case $r in -ERR*unknown*) fail "fkbroker has no XINJECT (needed for raw malformed jobs): $r" ;; esac
# inject RAW: enqueues RAW as it is; prints the key the broker audits it under.
inject() {
	local out
	out=$(cli "XINJECT default $1") || fail "XINJECT refused: $out"
	case $out in
	OK|+OK) printf '%s\n' "$1" | sed -n 's/.*"jid":"\([^"\\]*\)".*/\1/p' ;;
	*) echo "${out#+}" ;;
	esac
}
# push_raw LINE: one command line of any size over the protocol port (fkcli
# takes commands as arguments, which cannot hold megabytes).
push_raw() {
	local hi ok rep
	exec 3<>"/dev/tcp/127.0.0.1/$BROKER_PORT"
	IFS= read -r hi <&3
	printf 'HELLO {"v":2}\r\n' >&3
	IFS= read -r ok <&3
	"$@" >&3
	IFS= read -r rep <&3
	exec 3>&-
	case $rep in +OK*) ;; *) fail "push refused: $rep" ;; esac
}
big_job() { # JID BYTES: a noop job whose args hold one string of BYTES x's
	printf 'PUSH {"jid":"%s","jobtype":"noop","queue":"default","retry":0,"args":["' "$1"
	head -c "$2" /dev/zero | tr '\0' 'x'
	printf '"]}\r\n'
}
deep() { head -c "$1" /dev/zero | tr '\0' '['; head -c "$1" /dev/zero | tr '\0' ']'; }

pushed=1
for k in $(seq 1 "$ROUNDS"); do
	cli push -n "$NG" --jobtype noop --prefix "good$k" --batch 250 >/dev/null
	cli push -n 3 --jobtype nosuchtype --prefix "unk$k" --batch 1 --retry 0 >/dev/null
	cli push -n 2 --jobtype sleep --args '["soon"]' --prefix "badarg$k" --batch 1 --retry 0 >/dev/null
	cli push -n 1 --jobtype fail --args '["boom"]' --prefix "fail$k" --batch 1 --retry 0 >/dev/null
	cli "PUSH {\"jid\":\"nul$k-00000001\",\"jobtype\":\"noop\",\"queue\":\"default\",\"retry\":0,\"args\":[\"a\\u0000b\"]}" >/dev/null
	bj=$(inject "{\"jid\":\"badjson$k-00000001\",\"jobtype\":\"noop\",\"queue\":\"default\",\"args\":[1,2")
	na=$(inject "{\"jid\":\"notarr$k-00000001\",\"jobtype\":\"noop\",\"queue\":\"default\",\"args\":\"x\"}")
	dp=$(inject "{\"jid\":\"deep$k-00000001\",\"jobtype\":\"noop\",\"queue\":\"default\",\"args\":$(deep 3000)}")
	u8=$(inject "$(printf '{"jid":"utf8%s-00000001","jobtype":"noop","queue":"default","args":["\xff\xfe"]}' "$k")")
	echo "$bj $na $dp $u8" >>"$T/injected"
	pushed=$((pushed + NG + 3 + 2 + 1 + 1 + 4))
done
nojid=$(inject '{"jobtype":"noop","queue":"default","args":["no jid here"]}')
push_raw big_job "huge-00000001" "$HUGE"
push_raw big_job "over-00000001" "$OVER"
pushed=$((pushed + 3))
good_total=$((ROUNDS * NG))

# Everything with a readable jid ends; the one without stays reserved.
settled() { [ "$(audit done)" -ge $((pushed - 1)) ]; }
wait_for "$(drill_secs 60)" settled || fail "jobs not done: $(cli audit) $(cli XSTATS)"
kill -0 "$master" || fail "the master died"
expect_eq "children (same processes)" "$(child_pids | sort | tr '\n' ' ')" "$kids"
expect_eq "children restarted" "$(sfield .restarts)" 0

for k in $(seq 1 "$ROUNDS"); do
	drill_verify "good$k" "$NG"
	expect_eq "good$k: delivered more than once" "$DV_DUPS" 0
	expect_eq "good$k: ACKed" "$(jq -s '[.[] | select(.acked == 1 and .failed == 0)] | length' "$T/xjob-good$k.json")" "$NG"
	expect_eq "unknown jobtype errtype" "$(job_field "unk$k-00000001" errtype)" NoHandler
	job_field "unk$k-00000003" message | grep -q 'no handler for jobtype "nosuchtype"' ||
		fail "NoHandler message: $(cli "XJOB unk$k-00000003")"
	expect_eq "bad args errtype" "$(job_field "badarg$k-00000002" errtype)" BadArgs
	expect_eq "fail errtype" "$(job_field "fail$k-00000001" errtype)" Failed
	expect_eq "fail message" "$(job_field "fail$k-00000001" message)" boom
	for j in $(sed -n "${k}p" "$T/injected"); do
		rec=$(cli "XJOB $j")
		expect_eq "$j: errtype" "$(echo "$rec" | jq -r .errtype)" BadJob
		echo "$rec" | jq -r .message | grep -Eq 'job JSON does not parse|args is not an array' ||
			fail "$j: unclear message: $rec"
		case $(echo "$rec" | jq -r .state) in done|dead) ;; *) fail "$j: not done: $rec" ;; esac
	done
	# Valid JSON for the server and for Go workers; fkworker's parser refuses
	# "\u0000" today (finding: it is FAILed as BadJob instead of run).
	rec=$(cli "XJOB nul$k-00000001")
	case $(echo "$rec" | jq -r '.state + " " + (.acked | tostring) + " " + (.errtype // "")') in
	"done 1 ") nul_fate="ACKed" ;;
	"done 0 BadJob") nul_fate="FAILed BadJob (jansson without JSON_ALLOW_NUL)" ;;
	*) fail "nul$k: $rec" ;;
	esac
done
expect_eq "8 MiB job" "$(job_field huge-00000001 acked)" 1

# The job without a jid: skipped and logged, still reserved (not lost).
expect_log "job without a jid"
nj=$(cli "XJOB $nojid")
expect_eq "job without a jid: state" "$(echo "$nj" | jq -r .state)" working
# The job beyond the bulk limit: FAILed once by the jid in its first bytes,
# the rest skipped, the connection kept (issue 13 item 16).
expect_log "job over-00000001: the job is [0-9]+ bytes, above the 64 MiB.*JobTooLarge"
expect_eq "over-limit job: errtype" "$(job_field over-00000001 errtype)" JobTooLarge
expect_eq "over-limit job: FAILs" "$(job_field over-00000001 failed)" 1
expect_eq "over-limit job: state (retry 0)" "$(job_field over-00000001 state)" done
expect_eq "jobs at the server besides the one without a jid" "$(stat_field working)" 1
bad=$(stat_field 'fail_errtypes | to_entries | map("\(.value) \(.key)") | join(", ")')

drill_stop_fkworker
a=$(cli audit)
processed=$(echo "$a" | jq .done)
dups=$(echo "$a" | jq .delivered_multi)
expect_eq "jobs delivered more than once" "$dups" 0
expect_eq "jobs the broker knows" "$(echo "$a" | jq .jobs)" "$pushed"
# Lost: every job the broker knows that is not done, except the one this drill
# expects it to hold reserved (checked above: the job without a jid).
held=0
for j in "$nojid"; do
	case $(job_field "$j" state) in done|dead) ;; *) held=$((held + 1)) ;; esac
done
lost=$(( $(echo "$a" | jq .jobs) - processed - held ))
[ "$lost" -eq 0 ] || fail "$lost jobs not done at the broker besides the $held held reserved: $(echo "$a" |
	jq -c --arg n "$nojid" '.lost_sample - [$n]')"
drill_report malformed "$pushed" "$processed" "$dups" "none" "$lost" \
	"$good_total good ACKed once; FAILed: $bad; \\u0000 args: $nul_fate; $((HUGE >> 20)) MiB args ACKed; $held held reserved by the server, not lost: 1 without a jid (skipped, logged); 1 of 70 MB beyond the 64 MiB bulk limit FAILed JobTooLarge on its connection; no process restarted"
