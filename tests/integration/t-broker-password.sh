#!/bin/bash
# With --password the greeting carries i (4000-8095) and s, HELLO must carry
# pwdhash = sha256^i(password + s) (one round when v is below 2); a wrong or
# missing hash gets -ERR Invalid password and the connection is closed.
. "$(dirname "$0")/lib.sh"
start_broker --password 's3cret pass'

hi=$(raw 1 '' | head -n 1)
echo "$hi" | grep -Eq '^\+HI \{"v":2,"i":[0-9]{4},"s":"[0-9a-f]{1,16}"\}'$'\r''$' || fail "greeting: $hi"
i=$(echo "$hi" | sed 's/.*"i":\([0-9]*\).*/\1/')
[ "$i" -ge 4000 ] && [ "$i" -le 8095 ] || fail "iterations $i"
expect_eq "right password" "$(cli -p 's3cret pass' 'PUSH {"jid":"pw-00000001","jobtype":"T","args":[]}')" OK
out=$(cli -p wrong INFO 2>&1 || true)
expect_eq "wrong password" "$out" "fkcli: HELLO refused: ERR Invalid password"
out=$(raw 2 'HELLO {"wid":"w","v":2}\r\n' | tail -n 2 | tr -d '\r' | tr '\n' '|')
expect_eq "no pwdhash" "$out" "-ERR Invalid password|! EOF|"
out=$(raw 2 'HELLO {"v":2,"pwdhash":"%064d"}\r\n' 0 | tail -n 2 | tr -d '\r' | tr '\n' '|')
expect_eq "zero hash" "$out" "-ERR Invalid password|! EOF|"
expect_eq "admin verbs need the password too" "$(cli -p 's3cret pass' XJOB pw-00000001 | jq .pushed)" 1
echo "# password: greeting with i=$i, right hash accepted, wrong/missing refused and closed"
