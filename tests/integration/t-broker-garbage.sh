#!/bin/bash
# Nothing a client sends crashes the broker: 200 connections of random bytes
# (before and after the handshake), bare verbs that crash the real server,
# deep nesting, NUL bytes, a 1 MB line without an end. It still answers, and
# connections it kept for garbage are gone afterwards.
. "$(dirname "$0")/lib.sh"
start_broker

for i in $(seq 1 200); do
	n=$(( (RANDOM % 2048) + 1 ))
	exec 9<>"/dev/tcp/127.0.0.1/$BROKER_PORT" || fail "connection $i refused"
	if [ $((i % 2)) -eq 0 ]; then
		printf 'HELLO {"wid":"g%d","v":2}\r\n' "$i" >&9
	fi
	head -c "$n" /dev/urandom >&9 2>/dev/null || true
	[ $((i % 3)) -eq 0 ] && { printf '\r\n' >&9 2>/dev/null || true; }
	[ $((i % 10)) -eq 0 ] && { timeout 0.2 cat <&9 >/dev/null || true; }
	exec 9<&- 9>&-
done
kill -0 "$BROKER_PID" || fail "fkbroker died"
expect_eq "still answering" "$(stat_field pushed)" 0

# The real server panics on these (08b); fkbroker answers and stays usable.
out=$(cli -r ACK PUSH FAIL BEAT PUSHB QUEUE 'QUEUE PAUSE' XSTATS | head -n 7 | sort | uniq -c | tr -s ' ')
expect_eq "bare verbs" "$out" ' 7 -ERR internal error\r\n'
out=$(raw 1 'HELLO {}\r\n\x00\x00\r\nPUSH {"jid":"\x00bad","jobtype":"x","args":[]}\r\n\r\r\r\n' | cat -v | tr '\n' '|')
expect_eq "NUL bytes and bare CRs" "$out" \
	"+HI {\"v\":2}^M|+OK^M|-ERR unknown command ^@^@^M|-ERR invalid JSON: invalid character '\\x00' in string literal^M|-ERR unknown command ^M^M^M|! OPEN|"
deep=$(head -c 20000 /dev/zero | tr '\0' '[')
out=$(raw 1 "HELLO {}\r\nPUSH $deep\r\n" | sed -n 3p | cut -c1-30)
expect_eq "deep nesting (Go stops at 10000)" "$out" "-ERR invalid JSON: exceeded ma"
out=$(raw 1 'HELLO {}\r\nPUSH {"jid":"num-000001","jobtype":"x","args":[1e400]}\r\nACK {"jid":"\xff\xfe"}\r\n' | sed -n '3,4p' | tr -d '\r' | tr '\n' '|')
case "$out" in
"-ERR invalid JSON: "*"|+OK|") ;;
*) fail "huge number / bad UTF-8: $out" ;;
esac
( printf 'HELLO {}\r\nPUSH '; head -c 1048576 /dev/zero | tr '\0' 'x' ) > "$T/big"
exec 9<>"/dev/tcp/127.0.0.1/$BROKER_PORT"
cat "$T/big" >&9
exec 9<&- 9>&-
sleep 0.3
kill -0 "$BROKER_PID" || fail "fkbroker died"
cli push -n 10 --prefix after >/dev/null
expect_eq "works after all that" "$(cli FETCH default | jq -r .jid)" after-00000001
expect_eq "garbage connections closed" "$(stat_field connections)" 1
echo "# 200 random-byte connections, bare verbs, NUL, deep nesting, 1 MB unfinished line: still serving"
