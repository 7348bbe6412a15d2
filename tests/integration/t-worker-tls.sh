#!/bin/bash
# tcp+tls:// through a TLS terminator (socat) in front of fkbroker: the certificate is
# verified against the configured CA and the host name; an unknown CA is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-wrk.sh"
start_broker
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj /CN=localhost -addext "subjectAltName=DNS:localhost" >/dev/null 2>&1
# socat cannot pick a free port itself: try a few random ones.
for _ in 1 2 3 4 5; do
	TLS_PORT=$((20000 + RANDOM % 30000))
	socat OPENSSL-LISTEN:$TLS_PORT,bind=127.0.0.1,reuseaddr,fork,cert="$T/cert.pem",key="$T/key.pem",verify=0 \
		TCP:127.0.0.1:$BROKER_PORT >"$T/socat.log" 2>&1 &
	SOCAT_PID=$!; track $SOCAT_PID
	sleep 0.3
	kill -0 $SOCAT_PID 2>/dev/null && break
done
kill -0 $SOCAT_PID || fail "socat did not start"

BROKER_URL_SAVE=$BROKER_URL
BROKER_URL="tcp+tls://localhost:$TLS_PORT"
write_conf "$T/w.conf"
sed -i "s|^faktory: .*|faktory: { url = \"$BROKER_URL\"; tls: { ca_file = \"$T/cert.pem\"; verify = true; }; };|" "$T/w.conf"
BROKER_URL=$BROKER_URL_SAVE
cli push -n 500 --jobtype noop --prefix tls --batch 100 >/dev/null
start_single "$T/w.conf"
cli wait-done 500 --timeout 30 >/dev/null || fail "jobs not done over TLS"
expect_eq "acked once" "$(audit acked_once)" 500
stop_pid $WRK_PID 5

# The same server, but the worker trusts only the system CAs: verification must fail.
sed -i "s|ca_file = \"$T/cert.pem\"|ca_file = \"\"|" "$T/w.conf"
cli push -n 5 --jobtype noop --prefix untrusted --batch 5 >/dev/null
: >"$T/worker.log"
start_single "$T/w.conf"
wait_for 10 grep -q "certificate verify failed" "$T/worker.log" || fail "no verification error logged"
sleep 1
expect_eq "untrusted jobs delivered" "$(job_field untrusted-00000001 delivered)" 0
echo "# TLS: 500 jobs over tcp+tls with CA check; unknown CA refused"
stop_pid $WRK_PID 5
