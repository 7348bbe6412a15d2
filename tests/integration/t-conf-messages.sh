#!/bin/bash
# Issue 13 items 7, 8, 9, 14 as an operator meets them through `fkworker -n`
# and `-nn`: a memory_limit without unit, bad environment overrides, risky
# values (warnings, exit 0), a misspelt key, libconfig's parse errors with
# the line, and the values that came from the environment.
. "$(dirname "$0")/lib.sh"
BROKER_URL=tcp://127.0.0.1:7419
n() { rc=0; "$B/fkworker" "$@" >"$T/out" 2>&1 || rc=$?; }
has() { grep -qF -- "$1" "$T/out" || fail "no '$1' in: $(cat "$T/out")"; }

# memory_limit = 512 would be bytes: refused with the fix.
CPUS=1 sup_conf "$T/f.conf" "memory_limit = 512;"
l=$(grep -n memory_limit "$T/f.conf" | cut -d: -f1)
n -n -c "$T/f.conf"
expect_eq "memory_limit 512: exit" $rc 78
has "fkworker: $T/f.conf:$l: worker.memory_limit: 512 has no unit: write a string such as \"512M\""
CPUS=1 sup_conf "$T/f.conf" 'memory_limit = "1G";'
n -n -c "$T/f.conf"
expect_eq "memory_limit 1G: exit" $rc 0

# Environment overrides name the variable and what is wrong.
CPUS=1 sup_conf "$T/f.conf"
WORKER_CONCURRENCY=abc n -n -c "$T/f.conf"
expect_eq "WORKER_CONCURRENCY=abc: exit" $rc 78
has 'fkworker: environment: WORKER_CONCURRENCY: "abc" is not a number (must be 1..100000 or "auto")'
FAKTORY_SERVER_IP=10.0.0.5:7419 n -n -c "$T/f.conf"
expect_eq "FAKTORY_SERVER_IP with a port: exit" $rc 78
has 'fkworker: environment: FAKTORY_SERVER_IP: "10.0.0.5:7419" has a port'

# Risky values: warnings, and the check still passes.
CPUS=$(( $(nproc) + 62 )) CONCURRENCY=2000 SHUTDOWN_TIMEOUT=120 sup_conf "$T/f.conf"
n -n -c "$T/f.conf"
expect_eq "risky values: exit" $rc 0
has "configuration OK (with warnings)"
has "fkworker: warning: $T/f.conf:$(grep -n 'cpus =' "$T/f.conf" | cut -d: -f1): worker.cpus ($(( $(nproc) + 62 ))) is more than the $(nproc) online cores"
has "fkworker: warning: $T/f.conf:$(grep -n 'shutdown_timeout' "$T/f.conf" | cut -d: -f1): worker.shutdown_timeout (120 s) leaves less than 10 s of fkworker.service's TimeoutStopSec (60 s)"

# A misspelt key: did you mean.
CPUS=1 sup_conf "$T/f.conf" "concurency = 5;"
n -n -c "$T/f.conf"
expect_eq "misspelt key: exit" $rc 78
has "worker.concurency: unknown key (did you mean \`worker.concurrency\`?)"

# libconfig's errors with the line they stopped at and the key set twice.
printf 'worker = {\n\tcpus = 1;\n\tconcurrency = = 10;\n};\n' >"$T/f.conf"
n -n -c "$T/f.conf"
has "fkworker: $T/f.conf:3: syntax error in \`concurrency = = 10;\`"
printf 'worker = {\n\tcpus = 1;\n\tcpus = 2;\n};\n' >"$T/f.conf"
n -n -c "$T/f.conf"
has "fkworker: $T/f.conf:3: duplicate setting name \`cpus\`"

# -nn: the environment's values marked; the service's EnvironmentFile named.
CPUS=1 sup_conf "$T/f.conf"
WORKER_CONCURRENCY=77 n -nn -c "$T/f.conf"
expect_eq "-nn exit" $rc 0
has "concurrency = 77;	# from WORKER_CONCURRENCY"
has "The service also reads /etc/default/fkworker"
grep -q "cpus = 1;	# from" "$T/out" && fail "a value from the file is marked"
# What -nn prints loads again.
grep -v '^fkworker: warning' "$T/out" >"$T/dump.conf"
n -n -c "$T/dump.conf"
expect_eq "-nn output loads" $rc 0
echo "# -n: units, environment, warnings, did you mean, parse errors; -nn marks the environment"
