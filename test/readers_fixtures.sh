#!/bin/sh
# Every fixture profile (every Python, cProfile and profile, PyPy, yappi;
# fixtures/cycles: recursion through a built-in, issue 10's example):
# convert, then check the output against callgrind_annotate (plain and
# --inclusive=yes), gprof2dot's parser rules and Python's own pstats, and
# every function's inclusive cost as the readers compute it against its
# cumtime (test/readers_check.py); then the
# --unit, --call-events and --parts variants of two of them.
#   readers_fixtures.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
set -eu
tool=$1 src=$2 work=$3
for p in python3 callgrind_annotate; do
  command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not installed"; exit 77; }
done
mkdir -p "$work"
python3 "$src/test/readers_check.py" "$tool" "$work" \
  "$src"/fixtures/profiles/*.prof "$src/fixtures/fibonacci.prof" "$src"/fixtures/cycles/*.prof || exit 1
# the options that change the file's shape: --unit, --call-events, --parts
exec python3 "$src/test/readers_check.py" --variants "$tool" "$work" \
  "$src/fixtures/profiles/mix-cpython3.11-cprofile.prof" "$src/fixtures/profiles/mix-cpython2.7-profile.prof"
