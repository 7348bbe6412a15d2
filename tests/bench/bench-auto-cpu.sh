#!/bin/bash
# SPDX-License-Identifier: MIT
# worker.concurrency = "auto" on CPU-heavy jobs (issue 16): the example plugin's crunch jobs burn
# BENCH_AUTO_CPU_US microseconds of CPU in the child, then wait BENCH_AUTO_CPU_MS ms on a timer
# (as a job that computes, then stores its result and waits for the reply), so a slot keeps
# about US / (US + 1000 x MS) of a core busy: 5% with the defaults, 40 slots fill 2 cores. Each
# run gets a fresh fkbroker holding a backlog:
#   fixed C (BENCH_AUTO_CPU_SWEEP): jobs/s and the host's CPU over WIN s, from WARM s after start;
#   auto (from concurrency_min, one slot per child; cpu_target BENCH_AUTO_CPU_TARGET; the
#   shipped auto_interval_ms): after BENCH_AUTO_CPU_SETTLE s, the host's CPU each second for
#   BENCH_AUTO_CPU_WIN s: its mean, its spread (standard deviation, lowest and highest) and the
#   share of 2 s stretches (a decision's) within 5 points of the target; the jobs/s against the
#   best fixed setting; the concurrency over the window; and the rest of the host (the CPU of the
#   processes other than fkworker and fkbroker: other work on the machine, this script's readings).
# The issue's bounds: the host's CPU within 5 points of cpu_target (here: the mean within 5 points
# and at least 80% of the 2 s stretches within them), and jobs/s within 10% of the best fixed
# setting. With CPU-bound work jobs/s follows the CPU used, so at cpu_target 90 auto can only be
# about 90% of a fixed setting that fills the host: it passes by sitting in the upper part of
# its band (the controller adds slots below the target and sheds them only 5 points above it).
# Other load on the host (the rest, 10% or more) is flagged: auto yields it its share of the
# target, so the comparison with the sweep holds only on a quiet host.
# Env: BENCH_AUTO_CPU_SWEEP ("20 30 40 50 70"), BENCH_AUTO_CPU_TARGET (90), BENCH_AUTO_CPU_US
# (10000), BENCH_AUTO_CPU_MS (190), BENCH_AUTO_CPU_JOBS (20000 a run), BENCH_CPUS (2),
# BENCH_AUTO_CPU_SETTLE (20), BENCH_AUTO_CPU_WIN (30).
# Usage: bench-auto-cpu.sh BUILD_DIR
set -euo pipefail
B=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SWEEP=${BENCH_AUTO_CPU_SWEEP:-20 30 40 50 70}
TARGET=${BENCH_AUTO_CPU_TARGET:-90}
US=${BENCH_AUTO_CPU_US:-10000}
MS=${BENCH_AUTO_CPU_MS:-190}
J=${BENCH_AUTO_CPU_JOBS:-20000}
CPUS=${BENCH_CPUS:-2}
SETTLE=${BENCH_AUTO_CPU_SETTLE:-20}
AWIN=${BENCH_AUTO_CPU_WIN:-30}
WARM=4 WIN=8
HANDLERS="{ jobtype = \"crunch\"; plugin = \"$B/plugins/example.so\"; }"
. "$ROOT/tests/bench/lib-bench-auto.sh" bench-auto-cpu
backlog() { cli push -n "$J" --jobtype crunch --args "[$US,$MS]" --prefix c --batch 1000 >/dev/null; }

# window FILE: "JOBS_PER_S CPU_MEAN CPU_SD CPU_MIN CPU_MAX IN_BAND_PCT OURS_MEAN REST_MEAN CONC_MIN
# CONC_MAX" from sample's lines: per second, and per 2 s stretch for the band.
window() {
	awk -v tg="$TARGET" '
	{ t[NR] = $1; d[NR] = $2; hb[NR] = $3; ht[NR] = $4; o[NR] = $5; c[NR] = $6 }
	END {
		n = 0; s = 0; ss = 0; lo = 1000; hi = -1; cl = 1e9; ch = -1
		for (i = 2; i <= NR; i++) {
			tot = ht[i] - ht[i - 1]
			if (tot <= 0)
				continue
			v = 100 * (hb[i] - hb[i - 1]) / tot
			n++; s += v; ss += v * v
			if (v < lo) lo = v
			if (v > hi) hi = v
		}
		for (i = 1; i <= NR; i++) { if (c[i] < cl) cl = c[i]; if (c[i] > ch) ch = c[i] }
		m = n > 0 ? s / n : 0; sd = n > 1 ? sqrt((ss - n * m * m) / (n - 1)) : 0
		k = 0; in_band = 0
		for (i = 3; i <= NR; i += 2) {
			tot = ht[i] - ht[i - 2]
			if (tot <= 0)
				continue
			v = 100 * (hb[i] - hb[i - 2]) / tot
			k++
			if (v >= tg - 5 && v <= tg + 5) in_band++
		}
		tot = ht[NR] - ht[1]
		ours = tot > 0 ? 100 * (o[NR] - o[1]) / tot : 0
		busy = tot > 0 ? 100 * (hb[NR] - hb[1]) / tot : 0
		printf "%.0f %.1f %.1f %.0f %.0f %.0f %.1f %.1f %d %d\n", (d[NR] - d[1]) / (t[NR] - t[1]),
		    m, sd, lo, hi, (k > 0 ? 100 * in_band / k : 0), ours, busy - ours, cl, ch
	}' "$1"
}

# most A B: the larger.
most() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }

best=0 bestc=0 rest_fixed=0
for c in $SWEEP; do
	bench_start "$c"
	sleep $WARM
	sample $WIN "$T/fixed.samples"
	read -r r cpu _ _ _ _ ours rest _ <<<"$(window "$T/fixed.samples")"
	echo "bench: auto-cpu sweep: crunch ${US} us + ${MS} ms, fixed concurrency $c: $r jobs/s," \
		"host CPU $cpu% (fkworker and fkbroker $ours%, the rest $rest%)"
	[ "$r" -gt "$best" ] && { best=$r; bestc=$c; }
	rest_fixed=$(most "$rest_fixed" "$rest")
done

bench_start '"auto"' "concurrency_min = $CPUS; cpu_target = $TARGET;"
sleep "$SETTLE"
sample "$AWIN" "$T/auto.samples"
read -r r cpu sd lo hi band ours rest cl ch <<<"$(window "$T/auto.samples")"
last=$(status | jq -r .auto_last)
pct=$(awk -v r="$r" -v b="$best" 'BEGIN { printf "%.0f", (b > 0 ? 100 * r / b : 0) }')
off=$(awk -v c="$cpu" -v t="$TARGET" 'BEGIN { printf "%+.1f", c - t }')
cpu_ok=$(awk -v c="$cpu" -v t="$TARGET" -v b="$band" 'BEGIN { print ((c - t <= 5 && t - c <= 5 && b >= 80) ? "pass" : "FAIL") }')
rate_ok=$(awk -v r="$r" -v b="$best" 'BEGIN { print ((10 * r >= 9 * b) ? "pass" : "FAIL") }')
echo "bench: auto-cpu: crunch ${US} us + ${MS} ms, cpu_target $TARGET, after ${SETTLE} s, over ${AWIN} s:" \
	"host CPU mean $cpu% ($off points), sd $sd, per second $lo..$hi%, $band% of 2 s stretches within" \
	"5 points ($cpu_ok); fkworker and fkbroker $ours%, the rest of the host $rest%"
echo "bench: auto-cpu: $r jobs/s, $pct% of the best fixed ($best jobs/s at $bestc) ($rate_ok: >= 90%);" \
	"concurrency $cl..$ch; last decision: $last"
# Other work on the host takes its share of cpu_target from auto, and none from a fixed setting.
if [ "$(most "$rest_fixed" "$rest" | cut -d. -f1)" -ge 10 ]; then
	echo "bench: auto-cpu: the host was not quiet (other load up to $rest_fixed% during the sweep," \
		"$rest% during auto): the jobs/s compare runs under different loads; run again"
fi
