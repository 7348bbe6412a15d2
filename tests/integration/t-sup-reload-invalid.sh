#!/bin/bash
# An invalid file on reload: the old configuration keeps running (same
# children, same concurrency, jobs still processed) and fkworkerctl reload
# prints the FILE:LINE error and exits 1. A change that needs a restart is
# refused the same way.
. "$(dirname "$0")/lib.sh"
CPUS=2 CONCURRENCY=50 sup_up
old=$(child_pids | sort | tr '\n' ' ')
cp "$T/f.conf" "$T/good.conf"
sed -i 's/concurrency = 50;/concurrency = 50;\n\tbogus_key = 1;/' "$T/f.conf"
line=$(grep -n bogus_key "$T/f.conf" | cut -d: -f1)
rc=0; ctl reload >"$T/out" 2>&1 || rc=$?
expect_eq "reload exit status" "$rc" 1
grep -q "$T/f.conf:$line" "$T/out" || fail "no FILE:LINE in: $(cat "$T/out")"
echo "# invalid reload: $(head -n 1 "$T/out")"
expect_eq "state" "$(sfield .state)" running
expect_eq "children kept" "$(child_pids | sort | tr '\n' ' ')" "$old"
expect_eq "concurrency kept" "$(sfield .concurrency)" 50
expect_log "reload refused"

# More children than the shared memory was sized for: requires a restart.
CPUS=3 CONCURRENCY=50 sup_conf "$T/f.conf"
rc=0; ctl reload >"$T/out" 2>&1 || rc=$?
expect_eq "reload exit status (cpus 3)" "$rc" 1
grep -q "requires restart: worker.cpus 3" "$T/out" || fail "unclear: $(cat "$T/out")"
expect_eq "children kept after cpus change" "$(child_pids | sort | tr '\n' ' ')" "$old"

# HUP with a syntax error: logged, nothing changes.
printf 'worker: {\n  concurrency = ;\n};\n' >"$T/f.conf"
kill -HUP "$FKW_PID"
wait_for 5 sh -c "grep -q 'f.conf:2' $T/fkworker.log" || fail "HUP error not logged"
cli push -n 500 --jobtype noop --prefix i >/dev/null
cli wait-done --timeout 20 500 >/dev/null || fail "jobs not processed after a bad reload"
expect_eq "children kept after HUP" "$(child_pids | sort | tr '\n' ' ')" "$old"
kill -0 "$FKW_PID" || fail "master died"
