#!/bin/bash
# The example plugin, built out of tree the way the header documents it (no library linked):
# echo ACKs or FAILs "BadArgs" at once; delay completes from a timer, so 200 delayed jobs
# overlap instead of queueing; a delay past its timeout is FAILed "Timeout" (cancel callback);
# a jobtype the plugin does not register is FAILed "NoHandler"; crunch (CPU, then a timer) ACKs,
# and FAILs "BadArgs" without its two numbers.
. "$(dirname "$0")/lib.sh"
${CC:-cc} -shared -fPIC -I"$ROOT/worker" -o "$T/example.so" "$ROOT/worker/examples/example.c" ||
	fail "cannot build the example plugin"
start_broker
CONCURRENCY=200 write_conf "$T/w.conf" "" "
	{ jobtype = \"echo\";  plugin = \"$T/example.so\"; },
	{ jobtype = \"delay\"; plugin = \"$T/example.so\"; timeout = 2; },
	{ jobtype = \"*\";     plugin = \"$T/example.so\"; }"
cli push -n 500 --jobtype echo --args '["hi"]' --prefix echo --batch 100 >/dev/null
cli push -n 1 --jobtype echo --args '[42]' --prefix bad --retry 0 >/dev/null
cli push -n 1 --jobtype mystery --prefix mys --retry 0 >/dev/null
cli push -n 1 --jobtype delay --args '[10000]' --prefix long --retry 0 >/dev/null
cli push -n 10 --jobtype crunch --args '[2000,100]' --prefix crunch >/dev/null
cli push -n 1 --jobtype crunch --args '[2000]' --prefix badcrunch --retry 0 >/dev/null
start_single "$T/w.conf"
cli wait-done 513 --timeout 20 >/dev/null || { cli audit; fail "echo and crunch jobs not done"; }
expect_eq "echo acked" "$(job_field echo-00000500 acked)" 1
expect_eq "bad errtype" "$(job_field bad-00000001 errtype)" BadArgs
expect_eq "bad message" "$(job_field bad-00000001 message)" "echo: args[0] must be a string, got [42]"
expect_eq "crunch acked" "$(job_field crunch-00000010 acked)" 1
expect_eq "bad crunch errtype" "$(job_field badcrunch-00000001 errtype)" BadArgs
expect_eq "mystery errtype" "$(job_field mys-00000001 errtype)" NoHandler
expect_eq "mystery message" "$(job_field mys-00000001 message)" \
	'plugin example.so has no handler for jobtype "mystery"'

t0=$(date +%s%N)
cli push -n 200 --jobtype delay --args '[500]' --prefix delay --batch 100 >/dev/null
cli wait-done 714 --timeout 20 >/dev/null || { cli audit; fail "delay jobs not done"; }
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "delay acked" "$(job_field delay-00000200 acked)" 1
[ $ms -lt 3000 ] || fail "200 delay jobs of 500 ms took $ms ms: the plugin blocks the loop"
expect_eq "long errtype" "$(job_field long-00000001 errtype)" Timeout
expect_eq "acked once" "$(audit acked_once)" 710
kill -0 $WRK_PID || fail "worker died"
grep -q 'plugin example.so: example plugin ready' "$T/worker.log" || fail "plugin log line missing"
echo "# plugin: 500 echo and 10 crunch ACKed, BadArgs and NoHandler FAILed, 200 x 500 ms delays in $ms ms, Timeout cancelled"
stop_pid $WRK_PID 10
grep -q 'example plugin done' "$T/worker.log" || fail "fkw_plugin_fini not called at exit"
