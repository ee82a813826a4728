#!/bin/sh
# The command line of the pictures and of pruning: --format dot|svg|collapsed,
# their default output names, --node-thres/--edge-thres values and the
# combinations refused.
#   graphs_cli.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
set -u
tool=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work/in" "$work/cwd"
cp "$src/fixtures/fibonacci.prof" "$work/in/fib.prof"
F=$work/in/fib.prof
fails=0 n=0
check() { # DESCRIPTION COMMAND...
  d=$1; shift
  n=$((n + 1))
  if "$@" >/dev/null 2>&1; then echo "ok $d"; else echo "FAIL $d"; fails=$((fails + 1)); fi
}
status() { # WANT ARGS...: the exit status of the tool
  want=$1; shift
  "$tool" "$@" >"$work/out" 2>"$work/err"
  [ $? -eq "$want" ]
}
check "-f dot writes FILE.dot beside the input" sh -c "'$tool' -f dot '$F' && head -n 1 '$F.dot' | grep -qx 'digraph {'"
check "-f svg writes FILE.svg beside the input" sh -c "'$tool' -f svg '$F' && grep -q '<svg' '$F.svg'"
check "-f collapsed writes FILE.folded" sh -c "'$tool' -f collapsed '$F' && grep -q 'fib) [0-9]*\$' '$F.folded'"
check "-i with a picture: NAME.svg in the current directory" sh -c "cd '$work/cwd' && '$tool' -f svg -i ../in/fib.prof && [ -f fib.prof.svg ]"
check "-o - writes the picture to standard output" sh -c "'$tool' -f dot -o - '$F' | grep -q '^digraph'"
check "standard input to standard output" sh -c "'$tool' -f collapsed - < '$F' | grep -q 'fib_seq'"
check "an unknown format is bad usage" status 2 -f png "$F"
check "the message names the formats" grep -q 'callgrind, pstats, json, dot, svg or collapsed' "$work/err"
check "--node-thres takes a percentage" status 2 --node-thres abc "$F"
check "--node-thres above 100 is refused" status 2 --node-thres 150 "$F"
check "--edge-thres below 0 is refused" status 2 --edge-thres -1 "$F"
check "-f dot cannot open KCachegrind" status 2 -f dot -k "$F"
check "-f svg cannot write parts" status 2 -f svg --parts "$F" "$F"
check "pruning shows in reports" sh -c "'$tool' --stats --node-thres 1 '$F' | grep -q '\[other\]'"
check "pruning keeps the report's totals" sh -c "
  a=\$('$tool' --stats '$F' | grep 'function calls'); b=\$('$tool' --stats --node-thres 1 '$F' | grep 'function calls')
  [ \"\$a\" = \"\$b\" ]"
check "--node-thres 0 --edge-thres 0 changes nothing in callgrind" sh -c "
  '$tool' -o '$work/a.cg' '$F' && '$tool' --node-thres 0 --edge-thres 0 -o '$work/b.cg' '$F' && cmp -s '$work/a.cg' '$work/b.cg'"
check "a bad input is exit 1 and no picture" sh -c "echo nope > '$work/bad.prof'; '$tool' -f svg '$work/bad.prof'; [ \$? -eq 1 ] && [ ! -e '$work/bad.prof.svg' ]"
echo "$n checks, $fails failed"
[ $fails -eq 0 ]
