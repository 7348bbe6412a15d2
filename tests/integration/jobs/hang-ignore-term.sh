#!/bin/sh
# Like hang.sh, but the shell and its background process ignore SIGTERM, so
# only SIGKILL ends them.
trap '' TERM
sleep 120 &
if [ -n "${FKW_TEST_PIDFILE:-}" ]; then
	echo "$$ $!" > "$FKW_TEST_PIDFILE.tmp"
	mv "$FKW_TEST_PIDFILE.tmp" "$FKW_TEST_PIDFILE"
fi
wait
