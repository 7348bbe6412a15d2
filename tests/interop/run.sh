#!/bin/sh
# SPDX-License-Identifier: MIT
# make interop: the npm package faktory-worker (pinned in package.json, installed
# into tests/interop/node_modules, which git ignores) pushes and processes jobs
# on fkbroker; then the broker's own audit must say every job was acked exactly
# once. Usage: run.sh BUILD_DIR. Prints "interop: 1 passed, 0 failed" on success.
set -eu
B=$(cd "$1" && pwd)
DIR=$(cd "$(dirname "$0")" && pwd)
# fkbroker_start, stop_pid (TERM, wait, then KILL; never by name).
. "$DIR/../../scripts/lib-proc.sh"
N=${INTEROP_JOBS:-1000}
T=$(mktemp -d /tmp/fkw-interop.XXXXXX)
BROKER_PID=""
cleanup() {
	stop_pid "$BROKER_PID" 5
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
result() {
	[ "$1" = pass ] && echo "interop: 1 passed, 0 failed" && exit 0
	echo "interop: 0 passed, 1 failed"
	exit 1
}

command -v node >/dev/null && command -v npm >/dev/null || { echo "interop: node and npm are needed"; result fail; }
want=$(node -p "require('$DIR/package.json').dependencies['faktory-worker']")
have=$(node -p "try { require('$DIR/node_modules/faktory-worker/package.json').version } catch (e) { '' }")
if [ "$have" != "$want" ]; then
	# Only ever into the project-local folder.
	if ! npm install --prefix "$DIR" --no-audit --no-fund >"$T/npm.log" 2>&1; then
		cat "$T/npm.log"
		echo "interop: npm install of faktory-worker $want failed"
		result fail
	fi
fi

fkbroker_start "$T" --retry-delay-ms 200 || { cat "$T/broker.log"; result fail; }
URL=$BROKER_URL

if ! FAKTORY_URL=$URL timeout 120 node "$DIR/interop.js" "$N"; then
	tail -n 20 "$T/broker.log"
	result fail
fi
audit=$("$B/fkcli" -u "$URL" audit)
echo "broker: $audit" | cut -c1-220
# The broker's view: N jobs, all done, each acked once, N/100 failed once first.
check=$(echo "$audit" | node -e "
	const a = JSON.parse(require('fs').readFileSync(0, 'utf8'));
	const want = { jobs: $N, done: $N, acked_once: $N, acked_multi: 0, pending: 0, failed: $N / 100 };
	const bad = Object.keys(want).filter((k) => a[k] !== want[k]).map((k) => k + '=' + a[k] + ' want ' + want[k]);
	console.log(bad.join(', '));")
[ -z "$check" ] || { echo "interop: broker audit: $check"; result fail; }
result pass
