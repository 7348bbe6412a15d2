#!/bin/bash
# The documents agree with the product and with each other:
# - every fkworkerctl command and every fkworker long option of --help is in
#   the man page (and the commands in the README);
# - fkworker.conf(5) never says a slot has a connection of its own (a
#   child's slots share its connections, worker.connections);
# - every reading of a growing queue (README table and paragraph,
#   fkworkerctl(8)) says whether the slots are busy: with idle slots the
#   server is the bottleneck, with every slot busy the host is.
. "$(dirname "$0")/lib.sh"
M=$ROOT/packaging/man
cmds=$("$B/fkworkerctl" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
[ -n "$cmds" ] || fail "no commands in fkworkerctl --help"
for c in $cmds; do
	grep -Eq "^\.It Cm $c( |$)|^\.Cm $c( Ar|$)" "$M/fkworkerctl.8" ||
	    fail "fkworkerctl.8 does not document the command $c"
	grep -q "fkworkerctl $c" "$ROOT/README.md" || fail "README never shows fkworkerctl $c"
done
for o in $("$B/fkworker" --help | grep -o -- '--[a-z-]*' | sort -u); do
	grep -q "^\.It Fl Fl ${o#--}$" "$M/fkworker.8" || fail "fkworker.8 does not document $o"
done
grep -q "^\.It Fl Fl version$" "$M/fkworkerctl.8" || fail "fkworkerctl.8 does not document --version"
if grep -niE "(its|their) own connection|reconnect a slot|each slot.{0,20}connection" "$M/fkworker.conf.5"; then
	fail "fkworker.conf(5) gives slots connections of their own"
fi
# Each sentence (README rows and lines; man page bullets) reading a growing queue names the slots.
grep -niE "queue (keeps growing|grows)" "$ROOT/README.md" >"$T/readme" || fail "README reads no growing queue"
while IFS= read -r line; do
	echo "$line" | grep -qiE "busy|idle" || fail "README reads a growing queue without the slots: $line"
done <"$T/readme"
awk '/^\.It$/{if (b ~ /queue keeps growing/) print b; b=""; next} {b = b " " $0} END{if (b ~ /queue keeps growing/) print b}' \
    "$M/fkworkerctl.8" >"$T/man"
[ -s "$T/man" ] || fail "fkworkerctl.8 reads no growing queue"
while IFS= read -r line; do
	echo "$line" | grep -qiE "busy|idle" || fail "fkworkerctl.8 reads a growing queue without the slots: $line"
done <"$T/man"
echo "# commands: $(echo $cmds); growing-queue readings: $(wc -l <"$T/readme") in README, $(wc -l <"$T/man") in fkworkerctl.8"
