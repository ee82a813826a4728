#!/bin/sh
# Times the outputs beyond the converter on the 100 MB profiles of bench/data
# (made by bench/run or bench/make_profiles.py): --format json of one, --diff of
# two (a report and JSON) and of one with itself; the callgrind conversion of
# the same file for scale. Median-free: each command 3 times under GNU time
# (wall, user+sys CPU, peak RSS); CPU time is the figure to compare when other
# work shares the machine.
#   bench/outputs.sh [BUILD_DIR]      (default build-bench, as bench/run builds it)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tool=${1:-$here/../build-bench}/cli/pstats2callgrind
a=$here/data/shared-100mb.prof b=$here/data/distinct-100mb.prof
for f in "$tool" "$a" "$b"; do [ -e "$f" ] || { echo "missing $f (run bench/run first)"; exit 1; }; done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {
  label=$1; shift
  for i in 1 2 3; do
    /usr/bin/time -f "$label: %e s wall, %U+%S s CPU, %M KB peak RSS" "$@" >/dev/null 2>"$out/err" || { cat "$out/err"; exit 1; }
    grep "^$label:" "$out/err"
  done
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
run "callgrind (scale)" "$tool" -o "$out/cg" "$a"
run "--format json" "$tool" --format json -o "$out/json" "$a"
ls -l "$out/json" | awk '{print "JSON size: " $5 " bytes"}'
run "--diff A B (report)" "$tool" --diff "$a" "$b" --limit 50 -o "$out/diff"
run "--diff A B --format json" "$tool" --diff "$a" "$b" --format json -o "$out/diff.json"
run "--diff A A (report)" "$tool" --diff "$a" "$a" --limit 50 -o "$out/self"
