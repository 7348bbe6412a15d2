#!/bin/sh
# Dies by SIGSEGV (without leaving a core file).
ulimit -c 0
echo "about to crash" >&2
kill -SEGV $$
