#!/bin/bash
# Bad credentials are a configuration error: the master (its own connection
# and the children's) gets "Invalid password", exits 78 and never respawns
# into it; systemd's RestartPreventExitStatus=78 then leaves it stopped.
. "$(dirname "$0")/lib.sh"
start_broker --password s3cret
BROKER_URL="tcp://:wrong@127.0.0.1:$BROKER_PORT"
CPUS=2 CONCURRENCY=10 sup_conf "$T/f.conf"
t0=$(now_s)
start_fkworker "$T/f.conf"
wait_exit "$FKW_PID" 15
expect_eq "exit status" "$EXIT_RC" 78
expect_log "password"
grep -q "respawn in" "$T/fkworker.log" && fail "respawned into bad credentials"
echo "# wrong password: exit 78 after $(elapsed "$t0") s, no respawn"

# The right password works (and stays out of status).
BROKER_URL="tcp://:s3cret@127.0.0.1:$BROKER_PORT"
sup_conf "$T/f.conf"
start_fkworker "$T/f.conf"
wait_ready 20
expect_eq "url in status" "$(sfield .url)" "tcp://127.0.0.1:$BROKER_PORT"
ctl status --json | grep -q s3cret && fail "the password shows in status"
ctl perf-test 500 --url "$BROKER_URL" --timeout 30 >"$T/perf.out" || fail "perf-test with a password"
tail -n 1 "$T/perf.out" | grep -Eq '^500 jobs in [0-9.]+ s: [0-9]+ jobs/s$' ||
	fail "perf-test's last line: $(tail -n 1 "$T/perf.out")"
