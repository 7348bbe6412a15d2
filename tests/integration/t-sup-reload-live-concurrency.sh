#!/bin/bash
# issue 16: a reload that changes only worker.concurrency applies live, in
# the running children: no child is replaced (same pids), the slots figure
# of `status --json` follows at once, and the 2500 sleep jobs running
# through both changes are all ACKed once, none FAILed. Raising puts the
# new slots to work (busy goes above the old count); lowering under load
# retires slots only as their jobs finish (busy drains down to the new
# count, every job still ACKed). Past the slots the children were sized
# for at start (concurrency_max), a reload is refused "requires restart".
. "$(dirname "$0")/lib.sh"
CPUS=2 CONCURRENCY=40 sup_up
pids=$(child_pids | sort | tr '\n' ' ')
expect_eq "slots at start" "$(sfield .slots)" 40
cli push -n 2500 --jobtype sleep --args '[300]' --prefix l --batch 500 >/dev/null
wait_for 10 sh -c "[ \$($B/fkcli -u $BROKER_URL audit | jq .done) -ge 50 ]" || fail "no progress"

# Raise 40 -> 160: no roll, the reply comes at once, the new slots run jobs.
CPUS=2 CONCURRENCY=160 sup_conf "$T/f.conf"
ctl reload >"$T/out" 2>&1 || fail "reload refused: $(cat "$T/out")"
grep -q "reloaded" "$T/out" || fail "reload said: $(cat "$T/out")"
expect_eq "concurrency after raise" "$(sfield .concurrency)" 160
wait_for 5 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq .slots) -eq 160 ]" ||
	fail "slots after raise: $(sfield .slots)"
wait_for 10 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq .busy) -gt 40 ]" ||
	fail "busy never went past the old 40 slots: $(sfield .busy)"
expect_eq "children after raise (same pids)" "$(child_pids | sort | tr '\n' ' ')" "$pids"
expect_log "reloaded .* live: concurrency 40 -> 160"

# Lower 160 -> 20 while about 160 jobs run: each retires as its job ends.
CPUS=2 CONCURRENCY=20 sup_conf "$T/f.conf"
ctl reload >"$T/out" 2>&1 || fail "reload refused: $(cat "$T/out")"
wait_for 5 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq .slots) -eq 20 ]" ||
	fail "slots after lowering: $(sfield .slots)"
wait_for 5 sh -c "[ \$($B/fkworkerctl -s $SOCK status --json | jq .busy) -le 20 ]" ||
	fail "busy stayed above the new 20 slots: $(sfield .busy)"
[ "$(stat_field enqueued)" -gt 0 ] ||
	fail "busy fell to 20 only once the queue ran dry: the retired slots kept fetching"
# And stays there while the queue still holds work: a retired slot never fetches again.
for _ in $(seq 1 10); do
	b=$(sfield .busy)
	[ "$b" -le 20 ] || fail "busy $b with 20 slots: a retired slot fetched again"
	sleep 0.2
done
[ "$(stat_field enqueued)" -gt 0 ] || fail "the queue ran dry before the check: raise the job count"
expect_eq "children after lowering (same pids)" "$(child_pids | sort | tr '\n' ' ')" "$pids"
cli wait-done --timeout 120 2500 >/dev/null || { cli audit; fail "not all jobs done"; }
expect_eq "jobs" "$(audit jobs)" 2500
expect_eq "acked once" "$(audit acked_once)" 2500
expect_eq "acked more than once" "$(audit acked_multi)" 0
expect_eq "failed" "$(audit failed)" 0
expect_eq "children at the end (same pids)" "$(child_pids | sort | tr '\n' ' ')" "$pids"

# Past what the children were sized for at start: refused, nothing changes.
CPUS=2 CONCURRENCY=5000 sup_conf "$T/f.conf" "concurrency_max = 5000;"
rc=0
ctl reload >"$T/out" 2>&1 || rc=$?
expect_eq "exit status of a reload past the slot storage" "$rc" 1
grep -q "requires restart: worker.concurrency 5000 gives 2500 slots per child, more than the 1000" "$T/out" ||
	fail "unclear refusal: $(cat "$T/out")"
expect_eq "concurrency after the refusal" "$(sfield .concurrency)" 20
report "live concurrency reload"
