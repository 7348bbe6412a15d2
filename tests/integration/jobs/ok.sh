#!/bin/sh
# Succeeds after reading the job from stdin.
cat >/dev/null
exit 0
