#!/bin/sh
# Reports the job environment as a failure.
echo "jid=$FKW_JID jobtype=$FKW_JOBTYPE queue=$FKW_QUEUE" >&2
exit 5
