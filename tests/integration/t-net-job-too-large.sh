#!/bin/bash
# Issue 13 item 16: a job above the 64 MiB reply limit. The child reads its
# jid from the first bytes, drops the rest as it arrives and FAILs it
# JobTooLarge, once; the connection stays up and carries the jobs behind it
# (one connection here, so they must come through the same one), and
# nothing stays reserved.
. "$(dirname "$0")/lib.sh"
start_broker
big=$((65 << 20))
{
	printf 'HELLO {"v":2}\r\nXINJECT default {"jid":"toolarge0001","jobtype":"noop","args":["'
	head -c "$big" /dev/zero | tr '\0' x
	printf '"]}\r\nEND\r\n'
} >"$T/big.txt"
exec 9<>"/dev/tcp/127.0.0.1/$BROKER_PORT" || fail "cannot connect to the broker"
cat "$T/big.txt" >&9
out=$(timeout 20 cat <&9 | tr -d '\r' | tr '\n' '|') || true
exec 9<&- 9>&-
rm -f "$T/big.txt"
case "$out" in *'+OK|$12|toolarge0001|'*) ;; *) fail "XINJECT of a $big-byte job: $out" ;; esac
cli push -n 10 --jobtype noop --prefix small >/dev/null

CPUS=1 CONCURRENCY=2 sup_conf "$T/f.conf" 'connections = 1;'
start_fkworker "$T/f.conf"
failed_once() { [ "$(job_field toolarge0001 failed)" = 1 ]; }
wait_for 30 failed_once || fail "toolarge0001 not FAILed: $(cli 'XJOB toolarge0001')"
expect_eq "errtype" "$(job_field toolarge0001 errtype)" JobTooLarge
small_done() { [ "$(audit acked_once)" = 10 ]; }
wait_for 20 small_done || fail "the jobs behind it: $(cli audit)"
sleep 1
expect_eq "toolarge0001 FAILs" "$(job_field toolarge0001 failed)" 1
expect_eq "toolarge0001 state (retry 0: discarded)" "$(job_field toolarge0001 state)" done
expect_eq "reserved" "$(audit reserved)" 0
expect_eq "stranded" "$(stat_field stranded)" 0
grep -q "connection(s) lost" "$T/fkworker.log" && fail "the connection was dropped"
expect_log "job toolarge0001: the job is [0-9]{8} bytes, above the 64 MiB.*JobTooLarge"
echo "# a $big-byte job: FAILed JobTooLarge once; 10 jobs behind it done on the same connection"
