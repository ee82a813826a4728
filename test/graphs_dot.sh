#!/bin/sh
# --format dot rendered by graphviz: dot -Tsvg must draw every output (the
# fixtures with gprof2dot's thresholds and with everything, ../shared/real,
# merged and pruned profiles) without a warning, one node per function the
# graph keeps. (That the output is gprof2dot's own, byte for byte, is
# readers_gprof2dot.sh.)
#   graphs_dot.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
set -u
tool=$1 src=$2 work=$3
command -v dot >/dev/null 2>&1 || { echo "graphviz is not installed (.ci/install-deps --test)"; exit 1; }
rm -rf "$work"
mkdir -p "$work"
fails=0 n=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
render() { # NAME DOTFILE: dot -Tsvg, silent, one <g class="node"> per node line
  if ! dot -Tsvg -o "$work/$1.svg" "$2" 2>"$work/$1.err" || [ -s "$work/$1.err" ]; then
    fail "$1: dot: $(head -c 300 "$work/$1.err")"
    return
  fi
  nodes=$(grep -c '^	[0-9]* \[' "$2")
  drawn=$(grep -c '<g id="node[0-9]*" class="node">' "$work/$1.svg")
  [ "$nodes" -eq "$drawn" ] || fail "$1: $nodes nodes, $drawn drawn"
  n=$((n + 1))
}
for f in "$src"/fixtures/profiles/*.prof "$src/fixtures/fibonacci.prof"; do
  name=$(basename "$f" .prof)
  if ! "$tool" -f dot -o "$work/$name.dot" "$f" 2>"$work/$name.log"; then
    "$tool" --stats "$f" >/dev/null 2>&1 && fail "$name: $(cat "$work/$name.log")"
    continue   # not a profile (synth-empty: no Python loads it either)
  fi
  "$tool" -f dot --node-thres 0 --edge-thres 0 -o "$work/$name.all.dot" "$f" 2>/dev/null
  render "$name" "$work/$name.dot"
  render "$name.all" "$work/$name.all.dot"
done
# merged inputs, and a pruned graph with its [other] nodes
"$tool" -f dot -o "$work/merged.dot" "$src"/fixtures/profiles/mix-cpython3.1*-cprofile.prof 2>/dev/null &&
  render merged "$work/merged.dot" || fail "merged profiles"
"$tool" -f dot --node-thres 5 --edge-thres 1 -o "$work/pruned.dot" \
  "$src/fixtures/profiles/mix-cpython3.11-cprofile.prof" 2>/dev/null &&
  render pruned "$work/pruned.dot" || fail "pruned profile"
grep -q 'label="mix:68:\[other\] main' "$work/pruned.dot" || fail "pruned: no [other] node for main"
real=$src/../shared/real
if [ -f "$real/MANIFEST.tsv" ]; then
  for f in $(awk -F'\t' 'NR > 1 && $8 !~ /^other/ { print $1 }' "$real/MANIFEST.tsv"); do
    "$tool" -f dot -o "$work/real.dot" "$real/$f" 2>/dev/null || { fail "$f: not converted"; continue; }
    render "real-$f" "$work/real.dot"
  done
fi
echo "$n graphs rendered, $fails failed"
[ $fails -eq 0 ]
