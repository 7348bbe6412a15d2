#!/bin/bash
# The control socket never dies of its input: a client of another protocol
# version gets "protocol version mismatch" and is closed; garbage, truncated
# and oversized frames drop the client with a log line; the master keeps
# serving.
. "$(dirname "$0")/lib.sh"
CPUS=1 CONCURRENCY=10 sup_up
raw() { printf "$1" | timeout 5 socat -t 2 - "UNIX-CONNECT:$SOCK" 2>/dev/null || true; }
# {"v":2,"cmd":"status"} in msgpack behind a 4-byte big-endian length
raw '\000\000\000\017\202\241v\002\243cmd\246status' >"$T/out"
grep -aq "protocol version mismatch: client 2, master 1" "$T/out" ||
	fail "no mismatch error: $(od -c "$T/out" | head)"
raw '\000\000\000\003abc' >/dev/null
raw '\177\377\377\377' >/dev/null
raw '\000\000\000\005\201\241v' >/dev/null
raw '\000\000\000\005\335\377\377\377\377' >/dev/null
head -c 4096 /dev/urandom >"$T/noise"; timeout 5 socat -t 1 - "UNIX-CONNECT:$SOCK" <"$T/noise" >/dev/null 2>&1 || true
expect_log "control: malformed request"
expect_log "control: uid 0 .* sent a frame over 1048576 bytes"
expect_log "protocol version mismatch: client 2, master 1"
kill -0 "$FKW_PID" || fail "the master died"
ctl status >/dev/null || fail "status after garbage"
rc=0; ctl frobnicate >/dev/null 2>&1 || rc=$?
expect_eq "unknown command exit" "$rc" 64
