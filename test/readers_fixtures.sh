#!/bin/sh
# Every fixture profile (every Python, cProfile and profile, PyPy, yappi):
# convert, then check the output against callgrind_annotate, gprof2dot's
# parser rules and Python's own pstats (test/readers_check.py).
#   readers_fixtures.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
set -eu
tool=$1 src=$2 work=$3
for p in python3 callgrind_annotate; do
  command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not installed"; exit 77; }
done
mkdir -p "$work"
exec python3 "$src/test/readers_check.py" "$tool" "$work" \
  "$src"/fixtures/profiles/*.prof "$src/fixtures/fibonacci.prof"
