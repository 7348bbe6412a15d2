# SPDX-License-Identifier: MIT
# Helpers for the reliability drills (t-drill-*.sh): sourced, never run. A
# drill sources this file only: it sources lib.sh, the tests' library.
#
# A drill pushes a known set of jids (PREFIX-00000001 .. PREFIX-N, as fkcli
# push names them), causes one kind of fault, and at the end asks fkbroker
# about every jid (XJOB): each must be done, and each job delivered more than
# once must carry a failure the drill caused. drill_report prints the one line
# the runner shows:
#   # drill NAME: pushed P, processed P, duplicates D (why), lost 0
#
# Flavours: a build directory ending in -san (or FKW_SANITIZED=1) is a
# sanitizer build; FKW_WRAP="valgrind ..." (tests/valgrind/run.sh) runs
# fkworker under that command. Both are slower, so drills size their job
# counts and time limits with drill_pick.

. "$(dirname "$0")/lib.sh"

# DRILL_KEEP=DIR: copy the test's directory (logs, XJOB records) there on exit.
drill_on_exit() {
	local rc=$?
	set +e
	if [ -n "${DRILL_KEEP:-}" ]; then
		mkdir -p "$DRILL_KEEP" && cp -R "$T" "$DRILL_KEEP/$(basename "$0" .sh).$$" 2>/dev/null
	fi
	# cleanup (lib.sh) reads the status from $?.
	(exit $rc)
	cleanup
}
trap drill_on_exit EXIT INT TERM

DRILL_FLAVOUR=plain
case "$B" in *-san) DRILL_FLAVOUR=san ;; esac
[ "${FKW_SANITIZED:-}" = 1 ] && DRILL_FLAVOUR=san
[ -n "${FKW_WRAP:-}" ] && DRILL_FLAVOUR=valgrind

# drill_pick PLAIN SAN VALGRIND: the value for this flavour.
drill_pick() {
	case $DRILL_FLAVOUR in
	san) echo "$2" ;;
	valgrind) echo "$3" ;;
	*) echo "$1" ;;
	esac
}
# A factor for waits: sanitizers run ~3x slower; under valgrind the job counts
# are cut far more, so waits only need 10x.
DRILL_SLOW=$(drill_pick 1 3 10)
# drill_secs S: S seconds scaled for the flavour.
drill_secs() { echo $(($1 * DRILL_SLOW)); }

DRILL_T0=$(date +%s.%N)
# drill_elapsed: seconds since the drill started, one decimal.
drill_elapsed() { awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $DRILL_T0}"; }

# Pids the drill killed with SIGKILL: tests/valgrind/run.sh expects no
# summary in their valgrind logs. Set by the valgrind runner.
DRILL_KILLED_FILE=${DRILL_KILLED_FILE:-}
drill_note_killed() {
	[ -n "$DRILL_KILLED_FILE" ] && echo "$1" >>"$DRILL_KILLED_FILE"
	return 0
}

# ---- exact counts: fkworker's status against what the server received ----
#
# fkworker counts a job when the server answers its report (+OK to an ACK:
# processed; the answer to a FAIL: failed), and the master counts its own
# FAILs for a dead child's jobs by the server's answer. So, once nothing is in
# flight, status processed + failed equals the server's XSTATS acked + failed
# since that fkworker started: acked counts the ACKs that finished a reserved
# job and failed the FAILs that failed one. An ACK resent after a cut that
# reaches the server twice is one ack there (the second is ack_noop, not in
# acked) and one processed here (fkworker counts the one answer it read); a
# FAIL resent the same way is answered "Job not found" and counted once too.
# Not comparable: a report for a job whose reservation had already expired
# (the server counts the expiry instead; no drill lets a running job expire)
# and a drill whose server restarts (its counters die with it:
# DRILL_COUNTS_SKIP says why). DRILL_SRV_BASE is the server's count when this
# fkworker started; drill_stop_fkworker checks, drill_report prints.
DRILL_SRV_BASE=0 DRILL_COUNTS="" DRILL_COUNTS_SKIP=${DRILL_COUNTS_SKIP:-}
drill_server_count() { cli XSTATS | jq '.acked + .failed'; }
# drill_count_base: a new master counts from 0; call it before starting one
# other than through drill_start_fkworker.
drill_count_base() { DRILL_SRV_BASE=$(drill_server_count 2>/dev/null || echo 0); }
drill_counts_check() {
	local lim t=0 s="" srv=""
	[ -z "$DRILL_COUNTS_SKIP" ] || return 0
	lim=$(drill_secs 10)
	# The last +OKs may still be on their way to fkworker: a bounded wait.
	while [ $t -lt $((lim * 5)) ]; do
		s=$(status_json 2>/dev/null | jq '.processed + .failed') || s=""
		srv=$(($(drill_server_count) - DRILL_SRV_BASE))
		[ "$s" = "$srv" ] && break
		sleep 0.2
		t=$((t + 1))
	done
	[ "$s" = "$srv" ] ||
		fail "counts: fkworker status processed + failed = ${s:-?}, server ACKs + FAILs = $srv since it started ($(cli XSTATS | jq -c '{acked, failed, expired}'), base $DRILL_SRV_BASE)"
	DRILL_COUNTS="$DRILL_COUNTS${DRILL_COUNTS:+ + }$s"
}

# drill_start_fkworker CONF [ARGS...]: start_fkworker, prefixed with $FKW_WRAP
# (e.g. valgrind, which follows the children's fork()). Sets FKW_PID and
# DRILL_SRV_BASE (a new master counts from 0).
drill_start_fkworker() {
	local c=$1
	shift
	drill_count_base
	# shellcheck disable=SC2086 # FKW_WRAP is a command line, split on purpose
	${FKW_WRAP:-} "$B/fkworker" -c "$c" "$@" >>"$T/fkworker.log" 2>&1 &
	FKW_PID=$!
	track $FKW_PID
}

# drill_up [FKBROKER ARGS...]: start_broker, $T/f.conf from sup_conf (tuned as
# there: CPUS=2 CONCURRENCY=$CONC drill_up ...) and fkworker on it
# (drill_start_fkworker), ready within drill_secs 20.
drill_up() {
	start_broker "$@"
	sup_conf "$T/f.conf"
	drill_start_fkworker "$T/f.conf"
	wait_ready "$(drill_secs 20)"
}

# drill_stop_fkworker [SECONDS]: TERM the master and require exit 0 in time.
# The drills stop fkworker themselves so that under valgrind every process
# ends normally and writes its leak summary.
drill_stop_fkworker() {
	local lim=${1:-$(drill_secs 20)}
	drill_counts_check
	kill -TERM "$FKW_PID" 2>/dev/null || fail "fkworker (pid $FKW_PID) is not running"
	wait_exit "$FKW_PID" "$lim"
	[ "$EXIT_RC" != 124 ] || fail "fkworker did not exit within ${lim}s of TERM"
	[ "$EXIT_RC" = 0 ] || fail "fkworker exited with status $EXIT_RC after TERM"
}

# drill_restart_broker PORT [FKBROKER ARGS...]: a new fkbroker on the same
# port (the previous one must be gone). Sets BROKER_PID.
drill_restart_broker() {
	local port=$1 k=0
	shift
	rm -f "$T/broker2.port"
	# The old listener is closed, but its port may take a moment to bind again.
	while :; do
		"$B/fkbroker" -b "127.0.0.1:$port" --port-file "$T/broker2.port" "$@" \
		    >>"$T/broker2.log" 2>&1 &
		BROKER_PID=$!
		track $BROKER_PID
		wait_for 5 test -s "$T/broker2.port" && break
		k=$((k + 1))
		[ $k -lt 5 ] || fail "fkbroker could not listen on 127.0.0.1:$port again"
		stop_pid "$BROKER_PID" 2
		sleep 0.5
	done
	[ "$(cat "$T/broker2.port")" = "$port" ] || fail "new fkbroker is on another port"
}

# drill_xjob_cmds PREFIX FROM TO: the commands "XJOB PREFIX-%08d", one a line.
drill_xjob_cmds() {
	awk -v p="$1" -v a="$2" -v b="$3" 'BEGIN { for (i = a; i <= b; i++) printf "XJOB %s-%08d\n", p, i }'
}

# drill_jobs PREFIX N: fkbroker's XJOB record of every jid, one JSON a line.
drill_jobs() {
	local p=$1 n=$2 a=1 e cmds
	while [ "$a" -le "$n" ]; do
		e=$((a + 3999))
		[ "$e" -gt "$n" ] && e=$n
		mapfile -t cmds < <(drill_xjob_cmds "$p" "$a" "$e")
		cli -P "${cmds[@]}" || fail "XJOB $p-$a..$e failed"
		a=$((e + 1))
	done
}

# drill_summary FILE [CAUSES]: numbers from a file of XJOB records, as one JSON object.
#   processed: done at the broker (ACKed, or discarded after a FAIL with retry 0);
#   dead: in the dead set (retries used up: not processed); lost: anything else.
#   dup: delivered more than once; ran_twice: ACKed more than once;
#   causes: the dup jobs by their (last) failure errtype.
#   expired_unexplained: jobs whose reservation expired more often than fkbroker
#   lost their delivery on the wire for one of CAUSES (a JSON array of garbled,
#   cut, orphaned, unread: the lost_* fields of XJOB): a job the worker forgot.
drill_summary() {
	jq -n --argjson allow "${2:-[]}" '
	    reduce inputs as $j ({n: 0, pushed_once: 0, processed: 0, dead: 0, lost: 0,
		lost_sample: [], dup: 0, extra_runs: 0, ran_twice: 0, expired: 0, failed: 0,
		ack_noop: 0, causes: {}, unexplained: [], expired_unexplained: 0,
		expired_sample: [], wire: {garbled: 0, cut: 0, orphaned: 0, unread: 0}};
	      .n += 1
	    | ($allow | map($j["lost_" + .] // 0) | add // 0) as $explained
	    | .wire |= with_entries(.value += ($j["lost_" + .key] // 0))
	    | if $j.pushed == 1 then .pushed_once += 1 else . end
	    | if $j.state == "done" then .processed += 1
	      elif $j.state == "dead" then .dead += 1 | .lost += 1
		| .lost_sample += ["\($j.jid) dead after \($j.failed) failures (\($j.errtype))"]
	      else .lost += 1
		| if (.lost_sample | length) < 5 then
		    .lost_sample += ["\($j.jid) \($j.state) delivered \($j.delivered)"] else . end
	      end
	    | if $j.expired > $explained then .expired_unexplained += 1
		| if (.expired_sample | length) < 5 then .expired_sample +=
		    ["\($j.jid): reservation expired \($j.expired)x, deliveries lost on the wire: garbled \($j.lost_garbled // 0) cut \($j.lost_cut // 0) orphaned \($j.lost_orphaned // 0) unread \($j.lost_unread // 0)"]
		  else . end
	      else . end
	    | if $j.delivered > 1 then
		.dup += 1 | .extra_runs += $j.delivered - 1
		| .causes[$j.errtype // "none"] += 1
		| if $j.failed < $j.delivered - 1 and (.unexplained | length) < 5 then
		    .unexplained += [$j.jid] else . end
	      else . end
	    | if $j.acked > 1 then .ran_twice += 1 else . end
	    | if $j.expired > 0 then .expired += 1 else . end
	    | if $j.failed > 0 then .failed += 1 else . end
	    | .ack_noop += ($j.ack_noop // 0))' "$1"
}

# drill_verify PREFIX N [ERRTYPE=EXPLANATION ...]: asks fkbroker about
# PREFIX-1..N and fails unless every job was pushed once and is processed
# (done; a dead job is not), and every job delivered more than once failed
# with one of the ERRTYPEs the drill expects. A reservation may expire
# (ReservationExpired) only as often as fkbroker lost that job's delivery on
# the wire for a cause the drill allows in DRILL_LOSSES (words among garbled,
# cut, orphaned, unread; none by default): any other expiry is a job the
# worker was handed and forgot, and counts as lost. Sets DV_PUSHED,
# DV_PROCESSED, DV_DUPS, DV_LOST, DV_RAN_TWICE, DV_CAUSE (the explanation of
# the duplicates, for drill_report), DV_WIRE (the deliveries fkbroker lost, by
# cause) and DV_JSON (the summary).
DRILL_LOSSES=${DRILL_LOSSES:-}
drill_verify() {
	local p=$1 n=$2 kv k v cnt parts="" unknown allow
	shift 2
	allow=$(printf '%s\n' $DRILL_LOSSES | jq -R . | jq -sc 'map(select(length > 0))')
	drill_jobs "$p" "$n" >"$T/xjob-$p.json"
	DV_JSON=$(drill_summary "$T/xjob-$p.json" "$allow")
	echo "$DV_JSON" >"$T/summary-$p.json"
	dv() { echo "$DV_JSON" | jq -r "$1"; }
	DV_PUSHED=$(dv .n)
	DV_PROCESSED=$(dv .processed)
	DV_DUPS=$(dv .dup)
	DV_RAN_TWICE=$(dv .ran_twice)
	DV_WIRE=$(dv '.wire | to_entries | map(select(.value > 0) | "\(.value) \(.key)") | join(", ") | if . == "" then "none" else . end')
	# A job whose expiry nothing on the wire explains was lost by the worker, even if it ran later.
	DV_LOST=$(( $(dv .lost) + $(dv .expired_unexplained) ))
	[ "$DV_PUSHED" = "$n" ] || fail "$p: $DV_PUSHED records for $n jids"
	[ "$(dv .pushed_once)" = "$n" ] || fail "$p: not every jid was pushed exactly once: $DV_JSON"
	[ "$(dv .lost)" = 0 ] || fail "$p: $(dv .lost) of $n jobs lost (not done at the broker): $(dv '.lost_sample | join("; ")')"
	[ "$(dv .expired_unexplained)" = 0 ] || fail "$p: $(dv .expired_unexplained) jobs lost by the worker and recovered only by reservation expiry (allowed wire losses: ${DRILL_LOSSES:-none}): $(dv '.expired_sample | join("; ")')"
	[ "$(dv '.unexplained | length')" = 0 ] ||
		fail "$p: jobs delivered again without a failure: $(dv '.unexplained | join(" ")')"
	# Every errtype among the duplicates must be one the drill caused.
	unknown=$(dv '.causes | keys[]')
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		cnt=$(dv ".causes[\"$k\"] // 0")
		unknown=$(echo "$unknown" | grep -vx -- "$k" || true)
		[ "$cnt" = 0 ] && continue
		parts="$parts${parts:+; }$cnt $v"
	done
	[ -z "$unknown" ] || fail "$p: duplicates not explained by this drill's faults: $(dv .causes)"
	DV_CAUSE=${parts:-none}
}

# drill_report NAME PUSHED PROCESSED DUPS CAUSE LOST [NOTE]: the drill's one line,
# with the jobs fkbroker found stranded (reserved for a connection that was gone)
# each time the drill stalled (drill_wait_done).
drill_report() {
	[ "$6" = 0 ] || fail "drill $1: $6 jobs lost"
	# Where the drill loses nothing on the wire, nothing may be left reserved for nobody.
	[ -n "$DRILL_LOSSES" ] || [ "$DRILL_STRANDED" = 0 ] ||
		fail "drill $1: $DRILL_STRANDED jobs stranded where the drill lost no delivery"
	local counts
	if [ -n "$DRILL_COUNTS_SKIP" ]; then
		counts="counts not compared: $DRILL_COUNTS_SKIP"
	else
		[ -n "$DRILL_COUNTS" ] || fail "drill $1: status counts never compared with the server's (drill_stop_fkworker)"
		counts="status processed + failed = server ACKs + FAILs: $DRILL_COUNTS"
	fi
	echo "# drill $1: pushed $2, processed $3, duplicates $4 ($5), lost $6, stranded $DRILL_STRANDED${7:+; $7}; $counts [$(drill_elapsed)s${DRILL_FLAVOUR:+, $DRILL_FLAVOUR}]"
}

# drill_wait_done N SECONDS: fkcli wait-done; if jobs remain reserved by a
# FETCH whose reply never reached a worker (a fault the drill caused), move
# the broker's clock past reserve_for (1800 s) so they come back, as real
# Faktory would after reserve_for, and wait again. Sets DRILL_XTIME to the
# number of clock moves it needed, DRILL_STRANDED to the jobs fkbroker held
# for a connection that was gone at those moments (the ones a real server
# keeps for 30 minutes) and DRILL_HELD to those held on a live connection
# while fkworker sat idle (jobs it was handed and forgot: drill_verify fails
# them as lost).
DRILL_XTIME=0 DRILL_STRANDED=0 DRILL_HELD=0
drill_wait_done() {
	local n=$1 lim=$2 k a
	# Six rounds: each fault can strand jobs again while the rest comes back.
	for k in 0 1 2 3 4 5; do
		drill_wait_progress "$n" "$lim" && return 0
		# Nothing queued, nothing due, no progress: what is still reserved
		# was handed to a FETCH nobody read. Expire it, as real Faktory
		# would after reserve_for.
		a=$(cli audit)
		DRILL_STRANDED=$((DRILL_STRANDED + $(echo "$a" | jq .stranded)))
		DRILL_HELD=$((DRILL_HELD + $(echo "$a" | jq '.reserved - .stranded')))
		cli "XTIME 1900" >/dev/null
		DRILL_XTIME=$((DRILL_XTIME + 1))
	done
	fail "only $(audit done) of $n jobs done after ${DRILL_XTIME} clock moves: $(cli audit); $(cli XSTATS); fkworker: $(status_json 2>/dev/null | jq -c '{state, busy, connected, connections, fetching}')"
}

# drill_wait_n N SECONDS: until fkbroker counts N jobs done (fkcli wait-done
# without depending on its argument order).
drill_wait_n() {
	local n=$1 lim=$2 t=0
	while [ "$t" -lt $((lim * 5)) ]; do
		[ "$(audit done)" -ge "$n" ] && return 0
		sleep 0.2
		t=$((t + 1))
	done
	return 1
}

# drill_wait_progress N SECONDS: 0 once N jobs are done; 1 as soon as the
# rest is stuck in reservations nobody works on: queues empty, every slot of
# fkworker connected (so no ACK or FAIL waits for a reconnect) and idle, and
# the done count unchanged for 2 s; or 1 after SECONDS.
drill_idle() {
	local s
	s=$(status_json 2>/dev/null) || return 0	# no fkworker: nobody works on them
	[ "$(echo "$s" | jq '.connected == .connections and .busy == 0')" = true ]
}
drill_wait_progress() {
	local n=$1 lim=$2 t=0 last=-1 same=0 a d
	while [ "$t" -lt $((lim * 5)) ]; do
		a=$(cli audit) || return 1
		d=$(echo "$a" | jq .done)
		[ "$d" -ge "$n" ] && return 0
		if [ "$d" = "$last" ] && [ "$(cli XSTATS | jq '.enqueued + .retries + .scheduled')" = 0 ] &&
		    drill_idle; then
			same=$((same + 1))
			[ $same -ge 10 ] && return 1
		else
			same=0
		fi
		last=$d
		sleep 0.2
		t=$((t + 1))
	done
	return 1
}

# drill_all_connected: every child serves its slots and every connection is up.
drill_all_connected() {
	local s
	s=$(status_json 2>/dev/null) || return 1
	[ "$(echo "$s" | jq '.connected == .connections and .slots == .concurrency')" = true ]
}

# drill_conns_for CONF: the connections fkworker holds with that configuration,
# as `fkworker -nn` resolves worker.connections, plus the master's heartbeat.
drill_conns_for() {
	"$B/fkworker" -nn -c "$1" | awk '
	    /^[ \t]*connections = / {
		v = $0; sub(/^[ \t]*connections = /, "", v)
		if (v ~ /^"auto"/) { sub(/.*# = /, "", v) }
		n = v + 0 }
	    END { if (n < 1) exit 1; print n + 1 }'
}

# drill_broker_conns WID: connections fkbroker counts for the worker process WID.
drill_broker_conns() {
	cli XWORKERS | jq -r --arg w "$1" '
	    (if type == "array" then . elif has("workers") then .workers else [.[]] end)
	    | map(select(.wid == $w)) | (.[0].conns // .[0].connections // 0)'
}
