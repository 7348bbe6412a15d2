#!/bin/sh
# Counts the bytes on stdin and reports them as a failure: "stdin N bytes".
n=$(wc -c | tr -d ' ')
echo "stdin $n bytes" >&2
exit 4
