#!/bin/sh
# Never ends by itself; starts a background process in its group and writes
# "SHELL_PID SLEEP_PID" to $FKW_TEST_PIDFILE so a test can check both die.
sleep 120 &
if [ -n "${FKW_TEST_PIDFILE:-}" ]; then
	echo "$$ $!" > "$FKW_TEST_PIDFILE.tmp"
	mv "$FKW_TEST_PIDFILE.tmp" "$FKW_TEST_PIDFILE"
fi
wait
