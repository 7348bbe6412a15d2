#!/bin/bash
# BEAT answers +OK while the worker runs and a bulk {"state":...} once XSTATE
# (the Web UI's Quiet/Stop) or the worker itself moved it on; states never go
# back. A quiet worker's own connection gets no jobs. A worker is forgotten
# when its last connection closes.
. "$(dirname "$0")/lib.sh"
start_broker --fetch-wait-ms 500

beat() { cli -r "BEAT {\"wid\":\"$1\"${2:-}}"; }
exec 7<>"/dev/tcp/127.0.0.1/$BROKER_PORT"
printf 'HELLO {"wid":"bq-wid","hostname":"bq-host","pid":4242,"labels":["x"],"v":2}\r\n' >&7
read -r -t 3 hi <&7 && read -r -t 3 ok <&7 || fail "no handshake"
expect_eq "HELLO" "${ok%$'\r'}" "+OK"
expect_eq "running" "$(beat bq-wid ',"rss_kb":1234')" '+OK\r\n'
expect_eq "XWORKERS" "$(cli XWORKERS | jq -c '.["bq-wid"] | [.hostname, .pid, .labels, .state, .conns, .beats, .rss_kb]')" \
	'["bq-host",4242,["x"],"running",1,1,1234]'

expect_eq "XSTATE quiet" "$(cli XSTATE bq-wid quiet)" OK
expect_eq "quiet BEAT" "$(beat bq-wid)" '$17\r\n{"state":"quiet"}\r\n'
expect_eq "no way back" "$(beat bq-wid ',"current_state":"running"')" '$17\r\n{"state":"quiet"}\r\n'

# The quiet worker's own connection gets nothing, another connection of it does.
cli push -n 1 --queue bq --prefix bq >/dev/null
t0=$(now_s)
printf 'FETCH bq\r\n' >&7
read -r -t 3 line <&7 || fail "no FETCH reply"
expect_eq "quiet FETCH" "${line%$'\r'}" '$-1'
between "$(elapsed "$t0")" 0.4 2.0 || fail "quiet FETCH answered after $(elapsed "$t0") s"
expect_eq "same wid, other connection" "$(cli -w bq-wid FETCH bq | jq -r .jid)" bq-00000001

expect_eq "XSTATE terminate" "$(cli XSTATE bq-wid terminate)" OK
expect_eq "terminate BEAT" "$(beat bq-wid)" '$21\r\n{"state":"terminate"}\r\n'
expect_eq "terminate sticks" "$(beat bq-wid ',"current_state":"quiet"')" '$21\r\n{"state":"terminate"}\r\n'
expect_eq "XWORKERS state" "$(cli XWORKERS | jq -r '.["bq-wid"].state')" terminate

# A worker reporting quiet itself; unknown wids; malformed BEATs.
out=$(cli -r -P -w self-wid 'BEAT {"wid":"self-wid","current_state":"quiet"}' 'BEAT {"wid":"nobody"}' 'BEAT {"rss_kb":1.5}' || true)
expect_eq "self quiet, unknown, invalid" "$(echo "$out" | tr '\n' '|')" \
	'$17\r\n{"state":"quiet"}\r\n|-ERR unknown worker nobody\r\n|-ERR invalid BEAT {"rss_kb":1.5}\r\n|'
expect_eq "XSTATE of an unknown wid" "$(cli XSTATE nobody quiet || true)" "-ERR unknown worker nobody"

# The last connection closes: the worker is forgotten at once.
exec 7<&- 7>&-
sleep 0.2
expect_eq "forgotten" "$(beat bq-wid || true)" '-ERR unknown worker bq-wid\r\n'
expect_eq "no workers" "$(cli XWORKERS)" "{}"
echo "# BEAT +OK / quiet / terminate, forward only; quiet FETCH empty; worker dropped with its last connection"
