#!/bin/bash
# Replays every captured conversation with the real Faktory server
# (docs/faktory-transcripts, copied to tests/broker/transcripts) against a
# fresh fkbroker each, comparing every reply byte for byte or by the capture's
# shape. One line per file. Files that cannot be replayed, and why, are
# listed in tests/broker/README.md.
. "$(dirname "$0")/lib.sh"
# A copy of docs/faktory-transcripts lives with the broker so the test runs anywhere.
DOCS=${FKW_TRANSCRIPTS:-$ROOT/tests/broker/transcripts}
[ -d "$DOCS" ] || fail "no transcripts at $DOCS (set FKW_TRANSCRIPTS)"

# Not replayed (see tests/broker/README.md): the reason, by file.
skip_reason() {
	case "$1" in
	08b-*) echo "the real server crashes on a bare verb; fkbroker answers -ERR internal error (t-broker-garbage)" ;;
	12-info-pretty.txt) echo "a re-indented copy of 12-info.txt, not a capture" ;;
	17-*) echo "a real-server bug (retry default leak), deliberately not copied" ;;
	18-*) echo "queue names colliding with Redis keys: fkbroker has no Redis" ;;
	*) return 1 ;;
	esac
}

failed=0 n=0
for f in "$DOCS"/[0-9]*.txt; do
	name=$(basename "$f")
	if why=$(skip_reason "$name"); then
		echo "# skip $name: $why"
		continue
	fi
	bargs="" rargs=""
	case "$name" in
	11-*) bargs="--password golden-pass-1" rargs="--password golden-pass-1" ;;
	13-* | 14-*) rargs="--xtime" ;;
	esac
	# shellcheck disable=SC2086
	start_broker $bargs
	# shellcheck disable=SC2086
	if out=$("$B/fkreplay" -u "$BROKER_URL" $rargs "$f"); then
		echo "# $out"
	else
		echo "$out"
		failed=$((failed + 1))
	fi
	n=$((n + 1))
	stop_pid "$BROKER_PID"
done
[ "$n" -ge 15 ] || fail "only $n transcripts replayed"
[ "$failed" -eq 0 ] || fail "$failed of $n transcripts differ"
echo "# $n transcripts replayed, all replies as captured"
