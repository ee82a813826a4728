#!/bin/sh
# gprof2dot (jrfonseca/gprof2dot), as a reader of our callgrind files and as
# the model of --format dot. gprof2dot is not in Debian and cannot be
# installed in CI, so its rules are kept as tests of our own:
#   - its CallgrindParser's rules are checked on every callgrind output by
#     readers_check.py (readers_fixtures, readers_real);
#   - its pstats drawing is checked here: our --format dot of every fixture
#     equals gprof2dot's own output, committed in fixtures/golden/dot by
#     fixtures/generate/make_dot_goldens.sh (default thresholds, and -n 0 -e 0
#     through --node-thres 0 --edge-thres 0).
# When GPROF2DOT names a gprof2dot.py (fetched, never committed), gprof2dot
# itself also runs: -f callgrind on every converted fixture (plain and
# --call-events: no warning, one node per function) and -f pstats against
# our --format dot on every fixture it loads.
#   readers_gprof2dot.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
set -u
tool=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
golden=$src/fixtures/golden/dot
fails=0 n=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
for f in "$src"/fixtures/profiles/*.prof "$src/fixtures/fibonacci.prof"; do
  name=$(basename "$f" .prof)
  grep -qx "$name" "$golden/none.txt" && continue     # no Python 3 loads it
  [ -f "$golden/$name.dot" ] || { fail "$name: no golden (fixtures/generate/make_dot_goldens.sh)"; continue; }
  "$tool" -f dot -o "$work/$name.dot" "$f" 2>"$work/$name.log" || { fail "$name: $(cat "$work/$name.log")"; continue; }
  "$tool" -f dot --node-thres 0 --edge-thres 0 -o "$work/$name.all.dot" "$f" 2>/dev/null
  cmp -s "$golden/$name.dot" "$work/$name.dot" || fail "$name: differs from gprof2dot's ($golden/$name.dot)"
  cmp -s "$golden/$name.all.dot" "$work/$name.all.dot" || fail "$name: differs from gprof2dot -n 0 -e 0"
  n=$((n + 1))
done
echo "$n fixtures drawn as gprof2dot draws them"
g=${GPROF2DOT:-}
if [ -n "$g" ] && [ -f "$g" ]; then
  one() { # NAME ARGS...: convert, run gprof2dot, compare node count with fn= blocks
    name=$1; shift
    out=$work/callgrind.out.$name
    "$tool" -o "$out" "$@" 2>/dev/null || return 0    # inputs no Python loads either
    if ! python3 "$g" -f callgrind -n 0 -e 0 -o "$work/$name.cg.dot" "$out" 2>"$work/$name.err" ||
       [ -s "$work/$name.err" ]; then
      fail "$name: $(head -c 300 "$work/$name.err")"
      return 0
    fi
    nodes=$(grep -v -- ' -> ' "$work/$name.cg.dot" | grep -c '^	".*" \[color=')
    funcs=$(grep '^fn=' "$out" | sed 's/^fn=(\([0-9]*\)).*/\1/' | sort -u | wc -l)
    [ "$nodes" -eq "$funcs" ] || fail "$name: gprof2dot merged functions ($nodes nodes, $funcs functions)"
  }
  for f in "$src"/fixtures/profiles/*.prof "$src/fixtures/fibonacci.prof"; do
    one "$(basename "$f")" "$f"
    name=$(basename "$f" .prof)
    if python3 "$g" -f pstats -o "$work/$name.g.dot" "$f" 2>/dev/null; then
      sed 's/<code object \([^ ]*\) at 0x[0-9a-f]*, file \\"[^"]*\\", line [0-9]*>/\1/g' \
        "$work/$name.g.dot" | cmp -s - "$work/$name.dot" || fail "$name: gprof2dot -f pstats differs"
    fi
  done
  for f in "$src"/fixtures/cycles/*.prof; do  # recursion through a built-in
    one "$(basename "$f")" "$f"
  done
  one events --call-events "$src/fixtures/fibonacci.prof"
  echo "gprof2dot itself run ($g)"
else
  echo "GPROF2DOT not set: gprof2dot itself not run (its rules are checked above and by readers_check.py)"
fi
echo "$fails failed"
[ $fails -eq 0 ]
