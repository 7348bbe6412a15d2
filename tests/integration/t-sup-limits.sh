#!/bin/bash
# Concurrency that cannot fit the descriptor limit is a configuration error
# (exit 78, with a message naming the numbers), not a crash loop; and a
# configuration error at start is exit 78 too.
. "$(dirname "$0")/lib.sh"
start_broker
CPUS=2 CONCURRENCY=5000 sup_conf "$T/f.conf"
rc=0
( ulimit -n 1024 && ulimit -Hn 1024 && exec "$B/fkworker" -c "$T/f.conf" ) \
    >"$T/fkworker.log" 2>&1 || rc=$?
expect_eq "exit status" "$rc" 78
expect_log "worker.concurrency 5000 with worker.cpus 2 needs ~2564 file descriptors per child but RLIMIT_NOFILE is 1024; raise LimitNOFILE or lower concurrency"

echo 'worker: { concurrency = "lots"; };' >"$T/bad.conf"
rc=0; "$B/fkworker" -c "$T/bad.conf" >"$T/fkworker.log" 2>&1 || rc=$?
expect_eq "exit status on a bad file" "$rc" 78
expect_log "bad.conf:1"
