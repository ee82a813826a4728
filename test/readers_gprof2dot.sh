#!/bin/sh
# gprof2dot itself (jrfonseca/gprof2dot, gprof2dot.py -f callgrind) on every
# converted fixture, plain, --call-events and --parts: no warning, a graph
# with every function. gprof2dot cannot be installed here (no Debian package),
# so this runs only when GPROF2DOT names a gprof2dot.py; its rules are checked
# without it by readers_check.py (see docs/callgrind.md).
#   readers_gprof2dot.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
set -u
tool=$1 src=$2 work=$3
g=${GPROF2DOT:-}
if [ -z "$g" ] || [ ! -f "$g" ] || ! command -v python3 >/dev/null 2>&1; then
  echo "SKIP: set GPROF2DOT to a gprof2dot.py"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
fails=0 n=0
one() { # NAME ARGS...: convert, run gprof2dot, compare node count with fn= blocks
  name=$1; shift
  out=$work/callgrind.out.$name
  "$tool" -o "$out" "$@" 2>/dev/null || return 0    # inputs no Python loads either
  n=$((n + 1))
  if ! python3 "$g" -f callgrind -n 0 -e 0 -o "$work/$name.dot" "$out" 2>"$work/$name.err" ||
     [ -s "$work/$name.err" ]; then
    echo "FAIL $name: $(head -c 300 "$work/$name.err")"
    fails=$((fails + 1))
    return 0
  fi
  nodes=$(grep -v -- ' -> ' "$work/$name.dot" | grep -c '^	".*" \[color=')
  funcs=$(grep '^fn=' "$out" | sed 's/^fn=(\([0-9]*\)).*/\1/' | sort -u | wc -l)
  echo "ok $name: $nodes nodes, $funcs functions"
  [ "$nodes" -eq "$funcs" ] || { echo "FAIL $name: gprof2dot merged functions"; fails=$((fails + 1)); }
}
for f in "$src"/fixtures/profiles/*.prof "$src/fixtures/fibonacci.prof"; do
  one "$(basename "$f")" "$f"
done
one events --call-events "$src/fixtures/fibonacci.prof"
echo "$n files, $fails failed"
[ $fails -eq 0 ]
