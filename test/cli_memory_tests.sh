#!/bin/sh
# The programs short of memory (ulimit -v), from far too little to enough,
# on a generated profile of a few MB: every run either succeeds with the
# output an unlimited run writes, or exits 1 with a message naming the
# file; never a signal, never a temporary file or a half-written output.
#   cli_memory_tests.sh PSTATS2CALLGRIND PROFILE_GEN WORK_DIR [SANITIZED]
# (Sanitizer builds reserve terabytes of address space: skipped there.)
set -u
tool=$1 gen=$2 work=$3 sanitized=${4:-0}
if [ "$sanitized" = 1 ] || [ "$sanitized" = ON ]; then
  echo "SKIP: a sanitizer build cannot run under ulimit -v"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work/d"
P=$work/big.prof
"$gen" 30000 "$P" || exit 1
fails=0 n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$work/err"; }
args_of() {
  case $1 in
    conv) echo "-o $work/d/out $P" ;;
    stats) echo "--stats -o $work/d/out $P" ;;
    callers) echo "--callers --strip-dirs -o $work/d/out $P" ;;
    pstats) echo "--format pstats -o $work/d/out $P" ;;
  esac
}
for mode in conv stats callers pstats; do
  # shellcheck disable=SC2046
  "$tool" $(args_of $mode) 2>/dev/null && mv "$work/d/out" "$work/want.$mode" || { echo "not ok: $mode without a limit"; exit 1; }
done
ran=0 failed=0 worst=""
# (below ~6 MB the dynamic loader itself cannot start the program)
for mb in $(seq 8 2 48) 56 64 96 128; do
  for mode in conv stats callers pstats; do
    rm -f "$work/d/out"
    # shellcheck disable=SC2046
    (ulimit -v $((mb * 1024)); exec "$tool" $(args_of $mode)) >/dev/null 2>"$work/err"
    st=$?
    ran=$((ran + 1))
    what="ulimit -v ${mb} MB, $mode"
    if [ $st -eq 0 ]; then
      cmp -s "$work/d/out" "$work/want.$mode" || { bad "$what: exit 0 but not the output of an unlimited run"; continue; }
    elif [ $st -eq 1 ]; then
      failed=$((failed + 1))
      grep -q "^pstats2callgrind: .*\(out of memory\|Cannot allocate memory\)" "$work/err" ||
        { bad "$what: exit 1 without an out-of-memory message"; continue; }
      grep -q "big.prof\|/d/out" "$work/err" || { bad "$what: the message names no file"; continue; }
      [ ! -e "$work/d/out" ] || { bad "$what: an output was left"; continue; }
      worst="$mb"
    else
      bad "$what: exit $st (a signal or a crash)"
      continue
    fi
    if ls -A "$work/d" | grep -q '^\.pstats2callgrind\.'; then bad "$what: a temporary file was left"; fi
  done
done
ok "$ran runs under ulimit -v: $failed ended with exit 1 and a message (up to $worst MB), the rest wrote what an unlimited run writes"
[ "$failed" -gt 0 ] && [ "$failed" -lt "$ran" ] && ok "both outcomes were seen (the limits span the need)" || bad "the limits do not span the program's need ($failed of $ran failed)"
echo "1..$n"
[ "$fails" -eq 0 ]
