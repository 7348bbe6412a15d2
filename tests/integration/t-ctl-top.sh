#!/bin/bash
# fkworkerctl top: plain frames when the output is not a terminal (bounded by -n),
# and a full-screen view in a real terminal (tmux) that shows the children and
# the verdict, refreshes, and quits on q.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || skip "tmux is not installed"

CPUS=2 CONCURRENCY=40 sup_up
cli push -n 3000 --rate 300 --batch 10 --prefix bg >/dev/null 2>&1 &
track $!

# Plain: three frames a second apart, the verdict once three samples are in.
ctl top -n 3 >"$T/plain.txt" 2>"$T/plain.err" || fail "top -n 3: $(cat "$T/plain.err")"
expect_eq "plain frames" "$(grep -c '^fkworkerctl top ' "$T/plain.txt")" 3
expect_eq "plain child tables" "$(grep -c '^CHILD ' "$T/plain.txt")" 3
grep -q '^verdict    (sampling: 2 s more)' "$T/plain.txt" || fail "frame 1: $(head -3 "$T/plain.txt")"
grep -q '^verdict    keeps up (last 2 s): nothing to do' "$T/plain.txt" ||
	fail "no verdict in frame 3: $(cat "$T/plain.txt")"
# The jobtype table: noop jobs at ~300/s (paced by the pusher) in the last frame.
rate=$(awk '$1 == "noop" { r = $2 } END { print r + 0 }' "$T/plain.txt")
between "$rate" 100 1000 || fail "noop jobs/s in top: $rate, want ~300: $(tail -4 "$T/plain.txt")"

# A terminal: tmux on its own socket, 160x50.
TMUX_SOCK="$T/tmux.sock"
tm() { tmux -S "$TMUX_SOCK" "$@"; }
tm new-session -d -x 160 -y 50 "$B/fkworkerctl -s $SOCK top; echo exited \$? >$T/top.rc; sleep 30" ||
	fail "tmux did not start"
TMUX_PID=$(tm display-message -p '#{pid}')
track "$TMUX_PID"
screen() { tm capture-pane -p; }
shows() { screen | grep -q "$1"; }
wait_for 10 shows '^verdict    keeps up' || fail "no verdict on screen: $(screen)"
shows '^CHILD ' || fail "no child table: $(screen)"
shows 'q quits' || fail "no title line: $(screen)"
first=$(screen | head -1)
wait_for 5 sh -c "[ \"\$(tmux -S '$TMUX_SOCK' capture-pane -p | head -1)\" != '$first' ]" ||
	fail "the screen did not refresh: $first"
tm send-keys q
wait_for 5 test -s "$T/top.rc" || fail "q did not quit: $(screen)"
expect_eq "top exit" "$(cat "$T/top.rc")" "exited 0"
tm kill-server 2>/dev/null || true
wait_gone "$TMUX_PID" 5 || fail "tmux server still running"
echo "ok"
