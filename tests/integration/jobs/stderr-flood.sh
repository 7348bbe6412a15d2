#!/bin/sh
# Writes 1 MB to stderr, then "END", and fails: only the tail may be kept.
cat >/dev/null
head -c 1000000 /dev/zero | tr '\0' 'x' >&2
echo END >&2
exit 2
