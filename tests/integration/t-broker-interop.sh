#!/bin/bash
# The npm package faktory-worker (the Node.js client, written by others) pushes
# 1000 jobs to fkbroker and processes them with its worker; fkbroker's audit
# must show each acked exactly once. The same as make interop.
. "$(dirname "$0")/lib.sh"
out=$(sh "$ROOT/tests/interop/run.sh" "$B" 2>&1) || { echo "$out"; fail "interop failed"; }
echo "$out" | grep -q '^interop: 1 passed, 0 failed$' || { echo "$out"; fail "no pass line"; }
echo "$out" | grep '^node:' | sed 's/^/# /'
