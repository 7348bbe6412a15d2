#!/bin/bash
# stats.listen mistakes are clear (issue 12): a bad address is a configuration
# error naming FILE:LINE (fkworker -n and a start both exit 78); a port in use
# stops the start with exit 71 and a line naming the address and the reason,
# with no child started and no control socket left behind (a scraper would
# otherwise get nothing, silently); changing the address on reload is refused
# ("requires restart") and the old /metrics keeps answering.
. "$(dirname "$0")/lib.sh"
start_broker
for bad in 'localhost:9449' '127.0.0.1' '127.0.0.1:65536' '::1:9449' '127.0.0.1:x'; do
	STATS_LISTEN=$bad sup_conf "$T/bad.conf"
	line=$(grep -n 'listen = ' "$T/bad.conf" | cut -d: -f1)
	rc=0; "$B/fkworker" -n -c "$T/bad.conf" >"$T/n.out" 2>&1 || rc=$?
	expect_eq "fkworker -n exit ($bad)" "$rc" 78
	grep -q "^fkworker: $T/bad.conf:$line: stats.listen: \"$bad\": " "$T/n.out" ||
		fail "no FILE:LINE: stats.listen in: $(cat "$T/n.out")"
done
echo "# $(cat "$T/n.out")"
rc=0; timeout 10 "$B/fkworker" -c "$T/bad.conf" >"$T/start.out" 2>&1 || rc=$?
expect_eq "start with a bad address" "$rc" 78

# The broker's port is taken: the master must not start.
STATS_LISTEN=127.0.0.1:$BROKER_PORT sup_conf "$T/busy.conf"
rc=0; timeout 10 "$B/fkworker" -c "$T/busy.conf" >"$T/busy.out" 2>&1 || rc=$?
expect_eq "start with the port in use" "$rc" 71
grep -q "metrics: listen 127.0.0.1:$BROKER_PORT: Address already in use" "$T/busy.out" ||
	fail "unclear: $(cat "$T/busy.out")"
echo "# $(grep 'Address already in use' "$T/busy.out")"
! grep -q "started" "$T/busy.out" || fail "children started: $(cat "$T/busy.out")"
[ ! -e "$SOCK" ] || fail "control socket left behind"

# A reload that moves the address needs a restart: refused, the old one still serves.
STATS_LISTEN=127.0.0.1:0 sup_conf "$T/f.conf"
start_fkworker "$T/f.conf"
wait_ready 20
port=$(sed -n 's|.*metrics: serving http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' "$T/fkworker.log")
[ -n "$port" ] || fail "no 'metrics: serving' line in the log"
STATS_LISTEN=127.0.0.1:1 sup_conf "$T/f.conf"
rc=0; ctl reload >"$T/out" 2>&1 || rc=$?
expect_eq "reload exit status" "$rc" 1
grep -q "requires restart: stats.listen changed" "$T/out" || fail "unclear: $(cat "$T/out")"
command -v curl >/dev/null || skip "curl is not installed"
curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" | grep -q '^fkworker_slots ' ||
	fail "the old /metrics does not answer after the refused reload"
stop_pid $FKW_PID 10
