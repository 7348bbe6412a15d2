#!/bin/bash
# A reload says what changed: every key whose value differs, "key: old -> new",
# in fkworkerctl reload's output and in the log; a secret (the password) is
# reported as changed without either value; a reload of an unchanged file
# says nothing changed.
. "$(dirname "$0")/lib.sh"
CPUS=1 CONCURRENCY=20 sup_up
CPUS=1 CONCURRENCY=30 HEARTBEAT=20 sup_conf "$T/f.conf"
sed -i 's/^faktory: {/faktory: { password = "s3cret-pw";/' "$T/f.conf"
ctl reload >"$T/out" 2>&1 || { cat "$T/out"; fail "reload failed"; }
echo "# reload said: $(tr '\n' '|' <"$T/out")"
grep -qx "  worker.concurrency: 20 -> 30" "$T/out" || fail "no concurrency change in: $(cat "$T/out")"
grep -qx "  worker.heartbeat: 15 -> 20" "$T/out" || fail "no heartbeat change in: $(cat "$T/out")"
grep -qx "  faktory.password: changed" "$T/out" || fail "no password change in: $(cat "$T/out")"
grep -q "s3cret" "$T/out" && fail "the password is printed: $(cat "$T/out")"
grep -q "worker.cpus" "$T/out" && fail "an unchanged key is listed: $(cat "$T/out")"
expect_log "reload: worker.concurrency: 20 -> 30"
expect_log "reload: faktory.password: changed"
grep -q "s3cret" "$T/fkworker.log" && fail "the password is in the log"
expect_eq "concurrency" "$(sfield .concurrency)" 30
# The same file again: nothing changed.
ctl reload >"$T/out2" 2>&1 || { cat "$T/out2"; fail "second reload failed"; }
grep -q "no setting changed" "$T/out2" || fail "second reload: $(cat "$T/out2")"
grep -q -- "->" "$T/out2" && fail "second reload lists changes: $(cat "$T/out2")"
# A handler added: its jobtype is named.
CPUS=1 CONCURRENCY=30 HEARTBEAT=20 sup_conf "$T/f.conf" "" '{ jobtype = "extra"; builtin = "noop"; },'
sed -i 's/^faktory: {/faktory: { password = "s3cret-pw";/' "$T/f.conf"
ctl reload >"$T/out3" 2>&1 || { cat "$T/out3"; fail "third reload failed"; }
grep -q "^  handlers: .*extra" "$T/out3" || fail "handler change: $(cat "$T/out3")"
