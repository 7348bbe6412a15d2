#!/bin/bash
# --max-conns: past the cap a new connection still completes HELLO (+OK), then
# gets -ERR too many connections: N and is closed (docs 2.3). Closing one
# makes room again.
. "$(dirname "$0")/lib.sh"
start_broker --max-conns 3

for fd in 3 4 5; do
	eval "exec $fd<>/dev/tcp/127.0.0.1/$BROKER_PORT"
	printf 'HELLO {"wid":"mc","v":2}\r\n' >&"$fd"
	read -r -t 3 hi <&"$fd" && read -r -t 3 ok <&"$fd" || fail "no handshake on connection $fd"
	expect_eq "connection $fd" "${ok%$'\r'}" "+OK"
done
out=$(raw 2 'HELLO {"v":2}\r\n' | tr -d '\r' | tr '\n' '|')
expect_eq "4th connection" "$out" '+HI {"v":2}|+OK|-ERR too many connections: 3|! EOF|'
expect_eq "INFO connections" "$(printf 'INFO\r\n' >&3; read -r -t 3 l <&3; read -r -t 3 body <&3; echo "$body" | jq .server.connections)" 3
exec 5<&- 5>&-
sleep 0.2
out=$(raw 1 'HELLO {"v":2}\r\nFLUSH\r\n' | tr -d '\r' | tr '\n' '|')
expect_eq "room again" "$out" '+HI {"v":2}|+OK|+OK|! OPEN|'
exec 3<&- 4<&-
echo "# max-conns 3: the 4th gets +OK then the error and a close"
