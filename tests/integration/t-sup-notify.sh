#!/bin/bash
# systemd notification (sd_notify through libsystemd): READY=1 once every
# child's connections are up, STATUS= lines with slots, connections and jobs/sec,
# RELOADING=1 then READY=1 around a reload, STOPPING=1 on stop, and
# WATCHDOG=1 at half the interval the unit asks for.
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || fail "socat is missing (make setup installs it)"
start_broker
socat -u "UNIX-RECV:$T/notify.sock" "OPEN:$T/notify.log,creat,append" &
track $!
wait_for 5 test -S "$T/notify.sock" || fail "socat did not start"
CPUS=2 CONCURRENCY=20 sup_conf "$T/f.conf"
# The unit asks for a watchdog of 1 s (WATCHDOG_PID is the pid that exec keeps).
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=1000000 \
    sh -c 'WATCHDOG_PID=$$ exec "$0" -c "$1"' "$B/fkworker" "$T/f.conf" >>"$T/fkworker.log" 2>&1 &
FKW_PID=$!
track $FKW_PID
wait_ready 20
msgs() { tr '\0' '\n' <"$T/notify.log" | sed 's/\(STATUS\|READY\|RELOADING\|STOPPING\|WATCHDOG\)=/\n&/g'; }
wait_for 5 sh -c "grep -aq 'READY=1' $T/notify.log" || fail "no READY=1"
wait_for 5 sh -c "grep -aq 'STATUS=running: 2 of 2 children, 20 slots, 20/20 connections up' $T/notify.log" ||
	fail "no STATUS line with the slots: $(msgs | grep STATUS | tail -n 2)"
sleep 2
n=$(msgs | grep -c '^WATCHDOG=1')
[ "$n" -ge 3 ] || fail "only $n WATCHDOG=1 in 2 s with a 1 s watchdog"
expect_log "systemd watchdog: pinging every 500 ms"
ctl reload >/dev/null || fail "reload failed"
wait_for 5 sh -c "grep -aq 'STOPPING=1' $T/notify.log" && fail "STOPPING before the stop"
kill -TERM "$FKW_PID"
wait_exit "$FKW_PID" 10
expect_eq "exit status" "$EXIT_RC" 0
order=$(msgs | grep -Eo '^(READY=1|RELOADING=1|STOPPING=1)' | tr '\n' ' ')
expect_eq "notification order" "$order" "READY=1 RELOADING=1 READY=1 STOPPING=1 "
msgs | grep -q "MONOTONIC_USEC=" || fail "RELOADING=1 without MONOTONIC_USEC"
echo "# notifications: $order"
