# SPDX-License-Identifier: MIT
# Helpers for tests of one worker child (fkworker --single) against fkbroker.
# Source after lib.sh.

# write_conf FILE [EXTRA_WORKER_KEYS] [HANDLERS]: a configuration pointed at the broker.
write_conf() {
	f=$1; extra=${2:-}; handlers=${3:-}
	[ -n "$handlers" ] || handlers='{ jobtype = "noop"; builtin = "noop"; },
	{ jobtype = "sleep"; builtin = "sleep"; },
	{ jobtype = "fail"; builtin = "fail"; }'
	cat >"$f" <<CONF
faktory: { url = "$BROKER_URL"; };
worker: {
	concurrency = ${CONCURRENCY:-50};
	cpus = 1;
	queues = [ "default" ];
	shutdown_timeout = ${SHUTDOWN_TIMEOUT:-5};
	$extra
};
handlers: (
	$handlers
);
control: { socket = "$T/ctl.sock"; };
log: { level = "${LOG_LEVEL:-info}"; };
CONF
}

# start_single CONF: one child without a master; sets WRK_PID.
start_single() {
	"$B/fkworker" --single -c "$1" >>"$T/worker.log" 2>&1 &
	WRK_PID=$!
	track $WRK_PID
}

cli() { "$B/fkcli" -u "$BROKER_URL" "$@"; }
# audit FIELD: one number from the broker's XAUDIT.
audit() { cli audit | jq -r ".$1"; }
# job_field JID FIELD
job_field() { cli "XJOB $1" | jq -r ".$2"; }
stat_field() { cli XSTATS | jq -r ".$1"; }

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

# report LABEL: the one-line summary drills print.
report() {
	a=$(cli audit)
	echo "# $1: pushed $(echo "$a" | jq .jobs), done $(echo "$a" | jq .done), " \
	    "acked more than once $(echo "$a" | jq .acked_multi), pending $(echo "$a" | jq .pending)"
}
