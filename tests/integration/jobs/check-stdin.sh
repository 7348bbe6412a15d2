#!/bin/sh
# Succeeds only if stdin holds this job (its jid, from FKW_JID) on one line.
line=$(cat)
case "$line" in
*"\"jid\":\"$FKW_JID\""*) exit 0 ;;
esac
echo "stdin does not hold job $FKW_JID" >&2
exit 1
