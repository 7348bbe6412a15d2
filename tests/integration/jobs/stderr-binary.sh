#!/bin/sh
# Writes bytes that are not UTF-8 (and a NUL) to stderr, and fails.
cat >/dev/null
printf '\377ok\000x\n' >&2
exit 1
