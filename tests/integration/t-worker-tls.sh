#!/bin/bash
# tcp+tls:// through a TLS terminator (socat) in front of fkbroker: the certificate is
# verified against the configured CA and the host name. Refused, with no job delivered:
# a certificate from an unknown CA, and a certificate from the configured CA issued for
# another host name than the URL's.
. "$(dirname "$0")/lib.sh"
start_broker
# A CA, and two server certificates it signs: one for localhost, one for fkbroker.invalid.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 1 \
	-subj "/CN=fkworker test CA" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1 || fail "cannot make the CA"
# leaf NAME: $T/NAME.key and $T/NAME.pem, for DNS:NAME only, signed by the CA.
leaf() {
	openssl req -new -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.csr" \
		-subj "/CN=$1" >/dev/null 2>&1 || fail "cannot make the request for $1"
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$1" >"$T/$1.ext"
	openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
		-days 1 -extfile "$T/$1.ext" -out "$T/$1.pem" >/dev/null 2>&1 || fail "cannot sign $1"
	openssl verify -CAfile "$T/ca.pem" "$T/$1.pem" >/dev/null 2>&1 || fail "$1 does not verify against the CA"
}
leaf localhost
leaf fkbroker.invalid

# start_tls NAME: socat serving $T/NAME.pem in front of fkbroker; sets TLS_PORT.
# socat cannot pick a free port itself: try a few random ones.
start_tls() {
	local k
	for k in 1 2 3 4 5; do
		TLS_PORT=$((20000 + RANDOM % 30000))
		socat OPENSSL-LISTEN:$TLS_PORT,bind=127.0.0.1,reuseaddr,fork,cert="$T/$1.pem",key="$T/$1.key",verify=0 \
			TCP:127.0.0.1:$BROKER_PORT >>"$T/socat.log" 2>&1 &
		SOCAT_PID=$!; track $SOCAT_PID
		sleep 0.3
		kill -0 $SOCAT_PID 2>/dev/null && return 0
	done
	fail "socat did not start (tried $k ports)"
}
# tls_conf FILE PORT CA_FILE [QUEUE]: a worker configuration for tcp+tls://localhost:PORT
# that verifies the server against CA_FILE ("": the system's CAs) and serves QUEUE.
tls_conf() {
	write_conf "$1"
	sed -i -e "s|^faktory: .*|faktory: { url = \"tcp+tls://localhost:$2\"; tls: { ca_file = \"$3\"; verify = true; }; };|" \
	    -e "s|queues = \[ \"default\" \]|queues = [ \"${4:-default}\" ]|" "$1"
	grep -q "tcp+tls://localhost:$2" "$1" || fail "no tcp+tls url in $1"
	grep -q "queues = \[ \"${4:-default}\" \]" "$1" || fail "no queue ${4:-default} in $1"
}
# refused PREFIX WHAT: a worker with $T/w.conf (serving queue PREFIX) must log WHAT at
# least twice (it keeps refusing across reconnects) and receive no job: fkbroker's
# delivery count stays. Sets REFUSAL to the verify error logged. (A queue of its own:
# FETCHes of the worker stopped before may still wait at fkbroker for a moment behind
# socat, and would take jobs of "default".)
refused() {
	local d0 why
	d0=$(stat_field delivered)
	cli push -n 5 --jobtype noop --prefix "$1" --queue "$1" --batch 5 >/dev/null
	: >"$T/worker.log"
	start_single "$T/w.conf"
	twice() { [ "$(grep -c -- "$2" "$T/worker.log")" -ge 2 ]; }
	wait_for 20 twice "$1" "$2" || fail "$1: no repeated '$2' in the log: $(tail -n 5 "$T/worker.log")"
	why=$(sed -n 's/.*tls handshake: .*(verify: \([^)]*\)).*/\1/p' "$T/worker.log" | tail -n 1)
	expect_eq "$1: jobs delivered" "$(stat_field delivered)" "$d0"
	expect_eq "$1: first job delivered" "$(job_field "$1-00000001" delivered)" 0
	stop_pid $WRK_PID 5
	REFUSAL=$why
}

start_tls localhost
tls_conf "$T/w.conf" "$TLS_PORT" "$T/ca.pem"
cli push -n 500 --jobtype noop --prefix tls --batch 100 >/dev/null
start_single "$T/w.conf"
cli wait-done 500 --timeout 30 >/dev/null || fail "jobs not done over TLS"
expect_eq "acked once" "$(audit acked_once)" 500
stop_pid $WRK_PID 5

# The same server, but the worker trusts only the system CAs: verification must fail.
tls_conf "$T/w.conf" "$TLS_PORT" "" untrusted
refused untrusted "certificate verify failed"
why_ca=$REFUSAL

# The configured CA's certificate, but issued for fkbroker.invalid while the URL says
# localhost: the host name check must refuse it.
start_tls fkbroker.invalid
tls_conf "$T/w.conf" "$TLS_PORT" "$T/ca.pem" wrongname
refused wrongname "verify: hostname mismatch"
why_host=$REFUSAL
expect_eq "jobs pending" "$(audit pending)" 10
echo "# TLS: $(audit acked_once) jobs over tcp+tls with CA and host name check; unknown CA refused ($why_ca); certificate for fkbroker.invalid at localhost refused ($why_host)"
