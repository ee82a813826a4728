#!/bin/sh
# What pstats2callgrind does with inputs that are not plain, quiet files:
# standard input, pipes and FIFOs, compressed files (the same outputs as the
# plain file, byte for byte), devices that never end, foreign formats, and
# files truncated while they are read (never a signal: exit 0 or 1).
#   input_cli_tests.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
# The library's own tests (test/pstats_input_tests.c) change files at known
# points of a load; here the changes come at random moments, and whatever
# the moment, the exit status must be 0 or 1.
set -u
tool=$1 src=$2 work=$3
case $tool in /*) ;; *) tool=$(pwd)/$tool ;; esac
rm -rf "$work"
mkdir -p "$work/plain" "$work/z"
A=$work/plain/a.prof
cp "$src/fixtures/profiles/mix-cpython3.12-cprofile.prof" "$A"
fails=0 n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; [ -f "$work/err" ] && sed 's/^/#   /' "$work/err"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else bad "$desc"; fi; }
# a report without its header (the input's time and name, a blank line)
body() { tail -n +3 "$1"; }

# --- standard input, pipes, FIFOs
"$tool" --stats --sort cumulative "$A" > "$work/want" 2>"$work/err"
body "$work/want" > "$work/want.body"
cat "$A" | "$tool" --stats --sort cumulative - > "$work/got" 2>"$work/err"
check "a pipe on standard input reports as the file (no header: no time)" cmp -s "$work/want.body" "$work/got"
"$tool" --stats --sort cumulative - < "$A" > "$work/got" 2>"$work/err"
body "$work/got" > "$work/got.body"
check "a redirected file on standard input reports as the file, named <stdin>" \
  sh -c "head -n 1 '$work/got' | grep -q '<stdin>\$' && cmp -s '$work/want.body' '$work/got.body'"
mkfifo "$work/fifo"
(cat "$A" > "$work/fifo" &)
"$tool" --stats --sort cumulative "$work/fifo" > "$work/got" 2>"$work/err"
body "$work/got" > "$work/got.body"
check "a FIFO by its path reports as the file" cmp -s "$work/want.body" "$work/got.body"

# --- compressed inputs: byte-identical outputs (same name, same mtime)
for z in gzip zstd xz bzip2; do
  command -v $z >/dev/null 2>&1 || { echo "# no $z program: skipped"; continue; }
  $z -c "$A" > "$work/z/a.prof"
  touch -r "$A" "$work/z/a.prof"
  same=1
  for args in "" "--stats --sort cumulative" "--callers --sort tottime" "--callees" "--format pstats -o out.prof"; do
    # shellcheck disable=SC2086
    (cd "$work/plain" && "$tool" a.prof $args -o out.cg > out.txt 2>/dev/null; true)
    # shellcheck disable=SC2086
    (cd "$work/z" && "$tool" a.prof $args -o out.cg > out.txt 2>/dev/null; true)
    for f in out.cg out.txt out.prof; do
      [ -e "$work/plain/$f" ] || continue
      cmp -s "$work/plain/$f" "$work/z/$f" || { same=0; echo "# $z: $f differs for '$args'"; }
    done
    rm -f "$work/plain/out."* "$work/z/out."*
  done
  check "$z: every output byte-identical to the plain file's" [ $same -eq 1 ]
  $z -c "$A" | "$tool" --stats --sort cumulative - > "$work/got" 2>"$work/err"
  check "$z through a pipe" cmp -s "$work/want.body" "$work/got"
  head -c 200 "$work/z/a.prof" > "$work/z/cut.prof"
  "$tool" "$work/z/cut.prof" -o "$work/x" 2>"$work/err"
  check "$z: a cut file is exit 1, named, with what broke" \
    sh -c "[ $? -eq 1 ] && grep -q 'cut.prof: offset [0-9]*: broken $z data: .*ends early' '$work/err'"
done

# --- inputs that never end, or are empty, or foreign
# (random bytes may begin like a marshal object: the error is then a few
# bytes in, wherever the bytes stop making sense; timeout's exit would be 124)
for dev in /dev/zero /dev/urandom; do
  timeout 60 "$tool" "$dev" -o "$work/x" 2>"$work/err"
  check "$dev: exit 1 at once (it is not read to its end)" sh -c "[ $? -eq 1 ] && grep -q '$dev: offset [0-9]' '$work/err'"
done
if [ -c /dev/null ]; then
  "$tool" /dev/null -o "$work/x" 2>"$work/err"
  check "/dev/null: an empty file" sh -c "[ $? -eq 1 ] && grep -q 'an empty file' '$work/err'"
else
  echo "# /dev/null is not a device on this machine (something replaced it): not checked"
fi
"$tool" "$src/fixtures/foreign/go-cpu.pb.gz" -o "$work/x" 2>"$work/err"
check "a gzipped Go profile is named, with its tool" sh -c "[ $? -eq 1 ] && grep -q 'gzip-compressed.*pprof profile.*go tool pprof' '$work/err'"

# --- truncated while read: never a signal
python3 - "$work/big.prof" <<'PY'
import marshal, sys
d = {}
for f in range(120000):
    key = ('/srv/app/pkg%d/mod%d.py' % (f % 97, f), 10 + f % 300, 'fn_%d' % f)
    callers = {('/srv/app/pkg%d/mod%d.py' % ((f + 7) % 97, f + 7), 3, 'fn_%d' % (f + 7)): (2, 2, 0.001, 0.002)}
    d[key] = (2, 2, 0.001 * (f % 7), 0.002 * (f % 11), callers)
open(sys.argv[1], 'wb').write(marshal.dumps(d, 2))
PY
size=$(wc -c < "$work/big.prof")
statuses=""
i=0
while [ $i -lt 16 ]; do
  cp "$work/big.prof" "$work/victim.prof"
  case $((i % 4)) in 0) args="--stats" ;; 1) args="" ;; 2) args="--callers" ;; *) args="--format pstats" ;; esac
  # shellcheck disable=SC2086
  "$tool" $args "$work/victim.prof" -o "$work/x" > /dev/null 2>"$work/err" &
  pid=$!
  sleep "0.0$((i % 10))"
  truncate -s $(( (size / 16) * (i % 16) + 100 )) "$work/victim.prof"
  wait $pid
  st=$?
  statuses="$statuses $st"
  if [ $st -ne 0 ] && [ $st -ne 1 ]; then echo "# exit $st at round $i"; fi
  if [ $st -eq 1 ] && ! grep -q 'victim.prof' "$work/err"; then echo "# round $i: no file name:"; cat "$work/err"; statuses="$statuses 99"; fi
  i=$((i + 1))
done
echo "# exit statuses:$statuses"
check "truncated while read: exit 0 or 1 every time, never a signal" \
  sh -c "for s in $statuses; do [ \$s -le 1 ] || exit 1; done"

echo "$((n - fails)) passed, $fails failed"
[ $fails -eq 0 ]
