#!/bin/sh
# Every command-line form of spec/cli.md, run for real:
#   cli_tests.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
# Python (python3) is the reference for merged profiles and reports.
set -u
tool=$1 src=$2 work=$3
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
case $tool in /*) ;; *) tool=$(pwd)/$tool ;; esac
rm -rf "$work"
mkdir -p "$work/in" "$work/cwd" "$work/bin"
A=$work/in/a.prof
B=$work/in/b.prof
cp "$src/fixtures/profiles/fib-cpython3.11-cprofile.prof" "$A"
cp "$src/fixtures/profiles/mix-cpython3.12-cprofile.prof" "$B"
fails=0 n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; [ -f "$work/err" ] && sed 's/^/#   /' "$work/err"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else bad "$desc"; fi; }
# run EXPECTED_STATUS ARGS...: runs the tool in $work/cwd, output in $work/out, $work/err
run() {
  want=$1; shift
  (cd "$work/cwd" && "$tool" "$@" >"$work/out" 2>"$work/err" </dev/null)
  got=$?
  [ "$got" -eq "$want" ] || { echo "#   exit $got, expected $want: $*"; return 1; }
}
is_callgrind() { [ "$(head -n 1 "$1")" = "# callgrind format" ]; }
summary() { sed -n 's/^summary: //p' "$1"; }
no_temp_files() { ! ls -A "$1" | grep -q '^\.pstats2callgrind\.'; }

# --- conversion and output names
check "default output callgrind.out.<input> beside the input" \
  sh -c "cd '$work/cwd' && '$tool' ../in/a.prof 2>'$work/err' && [ -f '$work/in/callgrind.out.a.prof' ] && [ ! -e callgrind.out.a.prof ]"
check "says on stderr, in one line, where the file went" \
  sh -c "[ \$(wc -l <'$work/err') -eq 1 ] && grep -q 'callgrind.out.a.prof' '$work/err'"
check "the default output is a callgrind file" is_callgrind "$work/in/callgrind.out.a.prof"
check "-i without -o: <basename>.log in the current directory (pyprof2calltree)" \
  sh -c "run() { :; }; cd '$work/cwd' && '$tool' -i ../in/a.prof 2>/dev/null && [ -f a.prof.log ] && head -n 1 a.prof.log | grep -q '^# callgrind format'"
check "-i IN -o OUT" sh -c "cd '$work/cwd' && '$tool' -i ../in/a.prof -o io.out 2>/dev/null && [ -f io.out ]"
check "--infile/--output long forms" sh -c "cd '$work/cwd' && '$tool' --infile=../in/a.prof --output long.out 2>/dev/null && cmp -s io.out long.out"
run 0 -o - "$A"; check "-o - writes to standard output" is_callgrind "$work/out"
check "-o - prints nothing on stderr" test ! -s "$work/err"
cp "$work/out" "$work/stdout.cg"
(cd "$work/cwd" && "$tool" - <"$A" >"$work/stdin.cg" 2>"$work/err"); st=$?
check "- reads standard input, writes standard output" sh -c "[ $st -eq 0 ] && head -n 1 '$work/stdin.cg' | grep -q callgrind"
check "stdin gives the same data as the file" \
  sh -c "grep -v '^cmd:' '$work/stdin.cg' >'$work/x1'; grep -v '^cmd:' '$work/stdout.cg' >'$work/x2'; cmp -s '$work/x1' '$work/x2'"
check "cat | pstats2callgrind -o - -" sh -c "cat '$A' | '$tool' -o - - | grep -v '^cmd:' | cmp -s - '$work/x2'"
run 0 --unit ms -o - "$A"; check "--unit ms" grep -q '^events: ms$' "$work/out"
run 0 --call-events -o - "$A"; check "--call-events" grep -q '^events: ns calls$' "$work/out"

# --- several inputs
run 0 -o "$work/ab.cg" "$A" "$B"
sa=$("$tool" -o - "$A" 2>/dev/null | sed -n 's/^summary: //p')
sb=$("$tool" -o - "$B" 2>/dev/null | sed -n 's/^summary: //p')
sab=$(summary "$work/ab.cg")
check "two inputs are merged (summary = sum, within rounding)" \
  python3 -c "import sys; sys.exit(abs($sab - $sa - $sb) > 200)"
check "the merged file names both inputs in cmd:" grep -q "^cmd: .*a.prof .*b.prof$" "$work/ab.cg"
run 0 --parts -o "$work/parts.cg" "$A" "$B"
check "--parts: one part: per input" sh -c "[ \$(grep -c '^part: ' '$work/parts.cg') -eq 2 ] && grep -q '^part: 2$' '$work/parts.cg'"
check "--parts: summary covers all parts" sh -c "[ \$(summary '$work/parts.cg' 2>/dev/null || sed -n 's/^summary: //p' '$work/parts.cg') -eq \$(( $sa + $sb )) ]"
run 0 --format pstats -o "$work/ab.pstats" "$A" "$B"
check "--format pstats writes a profile Python merges the same way" python3 - "$work/ab.pstats" "$A" "$B" <<'EOF'
import pstats, sys
m = pstats.Stats(sys.argv[1])
r = pstats.Stats(sys.argv[2], sys.argv[3])
sys.exit(not (m.stats == r.stats and m.total_calls == r.total_calls))
EOF

# --- reports (the golden tests of libpstats cover them all; here: the CLI forms)
run 0 --stats --sort cumulative --limit 5 "$A"
python3 -c "import pstats,sys; pstats.Stats(sys.argv[1]).sort_stats('cumulative').print_stats(5)" "$A" >"$work/py.txt"
check "--stats --sort --limit = Python's print_stats" cmp -s "$work/out" "$work/py.txt"
run 0 --callees --strip-dirs --sort time --match fib --limit 0.5 "$B"
python3 -c "import pstats,sys; pstats.Stats(sys.argv[1]).strip_dirs().sort_stats('time').print_callees('fib', 0.5)" "$B" >"$work/py.txt"
check "--callees --strip-dirs --match --limit F = Python, restrictions in order" cmp -s "$work/out" "$work/py.txt"
run 0 --callers -o "$work/callers.txt" "$A" "$B"
python3 -c "import pstats,sys; pstats.Stats(sys.argv[1], sys.argv[2]).print_callers()" "$A" "$B" >"$work/py.txt"
check "--callers of two files, to -o FILE" cmp -s "$work/callers.txt" "$work/py.txt"

# --- -r and -k
cat >"$work/cwd/tiny.py" <<'EOF'
import sys
def work(n):
    return sum(i * i for i in range(n))
open("args.txt", "w").write(" ".join(sys.argv[1:]))
print(work(1000))
EOF
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"
run 0 -r tiny.py one --two 3
check "-r SCRIPT ARGS: the script ran with its arguments" sh -c "[ \"\$(cat '$work/cwd/args.txt')\" = 'one --two 3' ]"
check "-r: the profile is converted to <script>.log (pyprof2calltree)" \
  sh -c "head -n 1 '$work/cwd/tiny.py.log' | grep -q '^# callgrind format' && grep -q 'tiny.py:2(work)' '$work/cwd/tiny.py.log'"
check "-r: no temporary profile left (in TMPDIR)" test -z "$(ls -A "$work/tmp")"
cat >"$work/bin/kcachegrind" <<EOF
#!/bin/sh
echo "\$@" >"$work/kc_args"
EOF
chmod +x "$work/bin/kcachegrind"
(cd "$work/cwd" && PATH="$work/bin:$PATH" "$tool" -k ../in/a.prof >/dev/null 2>"$work/err"); st=$?
check "-k converts to a temporary file (in TMPDIR) and runs kcachegrind on it" \
  sh -c "[ $st -eq 0 ] && f=\$(cat '$work/kc_args') && head -n 1 \"\$f\" | grep -q callgrind && case \$f in '$work/tmp/'*) ;; *) exit 1;; esac"
rm -rf "$work/tmp"/*
(cd "$work/cwd" && PATH="$work/bin:$PATH" "$tool" -k "$work/in/missing.prof" >/dev/null 2>&1); st=$?
check "-k with a bad input: exit 1, no temporary directory left" sh -c "[ $st -eq 1 ] && [ -z \"\$(ls -A '$work/tmp')\" ]"
unset TMPDIR

# --- usage errors: exit 2
for args in "" "--no-such-option" "--unit xs $A" "--limit abc --stats $A" "--stats --sort nosuchkey $A" \
            "--format xml $A" "--format pstats $A" "--sort time $A" "-o"; do
  # shellcheck disable=SC2086
  run 2 $args && grep -q '^pstats2callgrind: ' "$work/err"
  check "usage error exits 2: '$args'" test $? -eq 0
done
run 0 --version; check "--version" grep -q '^pstats2callgrind [0-9][0-9.]*$' "$work/out"
run 0 --help; check "--help" grep -q '^Usage: pstats2callgrind' "$work/out"

# --- bad input files: exit 1, FILE: offset N: message, no output left
head -c 300 "$B" >"$work/in/trunc.prof"
printf 'hello, world\n' >"$work/in/text.prof"
run 1 "$work/in/trunc.prof"
check "truncated profile exits 1 naming file and offset" grep -q "trunc.prof: offset [0-9][0-9]*: " "$work/err"
check "no output file for a failed conversion" test ! -e "$work/in/callgrind.out.trunc.prof"
check "no temporary file left beside the target" no_temp_files "$work/in"
run 1 "$work/in/text.prof"; check "a text file is refused (exit 1)" grep -q 'text.prof' "$work/err"
run 1 "$work/in/missing.prof"; check "a missing file exits 1" grep -q 'missing.prof' "$work/err"
echo keep >"$work/in/existing.out"
run 1 -o "$work/in/existing.out" "$work/in/trunc.prof"
check "an existing output is untouched when conversion fails" sh -c "[ \"\$(cat '$work/in/existing.out')\" = keep ]"
check "... and no temporary file is left" no_temp_files "$work/in"
run 1 -o "$work/in/existing.out" "$A" "$work/in/trunc.prof"
check "one bad input among several: exit 1, output untouched" sh -c "[ \"\$(cat '$work/in/existing.out')\" = keep ]"
run 1 -o "$work/no/such/dir/x.out" "$A"
check "an unwritable output exits 1" grep -q 'no/such/dir' "$work/err"

echo "1..$n"
[ "$fails" -eq 0 ]
