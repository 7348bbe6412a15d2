#!/bin/sh
# Fails with exit status 3 and two lines on stderr.
cat >/dev/null
echo "first line" >&2
echo "disk full: /var/x" >&2
exit 3
