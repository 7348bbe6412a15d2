#!/bin/bash
# SPDX-License-Identifier: MIT
# make mutants: each tests/mutants/*.mut breaks one promise of the product on purpose
# (in a scratch copy of the tree), rebuilds it, and runs the tests that must catch it.
# A mutant the tests do not kill is a hole in the tests: the run fails.
#
# A .mut file: comment lines (#) saying what it breaks; "file: PATH"; "tests: T..."
# (integration test names); then "--- find", the exact lines to replace (they must occur
# exactly once in PATH), and "+++ replace", the lines that replace them.
# Usage: run.sh BUILD_DIR [MUTANT...]   (names without .mut; all by default)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "$1" && pwd)
shift
LIMIT=${FKW_MUTANT_LIMIT:-150}
names=$*
[ -n "$names" ] || names=$(cd "$ROOT/tests/mutants" && ls ./*.mut | sed 's|^\./||; s|\.mut$||')
S=$(mktemp -d /tmp/fkw-mutant.XXXXXX)
trap 'rm -rf "$S"' EXIT INT TERM

# field MUT KEY: the value of "KEY: value" in the header.
field() { sed -n "s/^$2:[[:space:]]*//p" "$1" | head -n 1; }
# part MUT find|replace: the lines of that block.
part() {
	awk -v want="$2" '
	    /^--- find$/ { cur = "find"; next }
	    /^\+\+\+ replace$/ { cur = "replace"; next }
	    cur == want { print }' "$1"
}

# apply FILE FIND REPLACE: replaces the one occurrence of FIND's text; fails otherwise.
apply() {
	perl -e '
	    local $/;
	    my ($path, $find, $repl) = @ARGV;
	    open(my $f, "<", $find) or die "$find: $!"; my $from = <$f>; close $f;
	    open($f, "<", $repl) or die "$repl: $!"; my $to = <$f>; close $f;
	    open($f, "<", $path) or die "$path: $!"; my $s = <$f>; close $f;
	    my ($n, $at, $pos) = (0, -1, 0);
	    while (($pos = index($s, $from, $pos)) != -1) { $n++; $at = $pos; $pos++; }
	    die "the lines to replace occur $n times in $path (must be once)\n" if $n != 1;
	    substr($s, $at, length($from)) = $to;
	    open($f, ">", $path) or die "$path: $!"; print $f $s; close $f;' "$@"
}

killed=0 survived=0 broken=0 bad=""
t0=$(date +%s)
for name in $names; do
	m="$ROOT/tests/mutants/$name.mut"
	[ -f "$m" ] || { echo "mutant $name: no file $m"; broken=$((broken + 1)); bad="$bad $name"; continue; }
	file=$(field "$m" file)
	tests=$(field "$m" tests)
	why=$(sed -n 's/^# \{0,1\}//p' "$m" | head -n 1)
	w="$S/$name"
	mkdir -p "$w"
	# The tree as it is (tracked and new files), and the build, timestamps kept: only
	# what the mutant touches is rebuilt.
	(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -a -t "$w")
	cp -a "$B" "$w/build"
	part "$m" find >"$S/find"
	part "$m" replace >"$S/replace"
	if ! apply "$w/$file" "$S/find" "$S/replace" 2>"$S/err"; then
		echo "BROKEN   $name: $(cat "$S/err")"
		broken=$((broken + 1)); bad="$bad $name"; rm -rf "$w"; continue
	fi
	if ! make -C "$w" --no-print-directory B=build all >"$S/build.log" 2>&1; then
		echo "BROKEN   $name: the mutant does not build:"; tail -n 5 "$S/build.log" | sed 's/^/    /'
		broken=$((broken + 1)); bad="$bad $name"; rm -rf "$w"; continue
	fi
	s0=$(date +%s)
	if FKW_TEST_LIMIT=$LIMIT T="$tests" sh "$w/tests/integration/run.sh" "$w/build" >"$S/test.log" 2>&1; then
		echo "SURVIVED $name ($why): $tests passed"
		survived=$((survived + 1)); bad="$bad $name"
	else
		by=$(sed -n 's/^FAIL \([^ ]*\).*/\1/p' "$S/test.log" | tr '\n' ' ')
		first=$(grep -m 1 '^     | FAIL:' "$S/test.log" | sed 's/^     | //')
		echo "killed   $name by ${by% } in $(( $(date +%s) - s0 ))s: ${first:-see the test log}"
		killed=$((killed + 1))
	fi
	rm -rf "$w"
done
echo "mutants: $killed killed, $survived survived, $broken broken in $(( $(date +%s) - t0 ))s${bad:+ (not killed:$bad)}"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]
