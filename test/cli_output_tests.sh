#!/bin/sh
# Where -o goes and what a failed write leaves (cli/cli_out.c), run for real:
#   cli_output_tests.sh PSTATS2CALLGRIND PYMARSHAL SOURCE_DIR WORK_DIR [IO_FAIL_PRELOAD]
# Regular files are replaced atomically, keeping their mode; devices, FIFOs,
# sockets and /dev/stdout-style paths are written in place; symbolic links
# are followed; a write, close or rename error is exit 1 with the path and
# the cause, no "wrote" message, no temporary file, the old target intact.
# Device nodes are our own (mknod in WORK_DIR, as root only): nothing here
# can replace a real device.
set -u
tool=$1 pym=$2 src=$3 work=$4 preload=${5:-}
case $tool in /*) ;; *) tool=$(pwd)/$tool ;; esac
case $pym in /*) ;; *) pym=$(pwd)/$pym ;; esac
case $preload in /*|"") ;; *) preload=$(pwd)/$preload ;; esac
rm -rf "$work"
mkdir -p "$work/d"
chmod 755 "$work" "$work/d"
A=$work/a.prof
cp "$src/fixtures/profiles/fib-cpython3.11-cprofile.prof" "$A"
chmod 644 "$A"
# many parts: a callgrind file far larger than a pipe's buffer
BIG=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30; do
  BIG="$BIG $src/fixtures/profiles/mix-cpython3.12-cprofile.prof"
done
root=0; [ "$(id -u)" -eq 0 ] && root=1
fails=0 n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; [ -f "$work/err" ] && sed 's/^/#   /' "$work/err"; }
skip() { n=$((n + 1)); echo "ok $n - # SKIP $1"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else bad "$desc"; fi; }
# run STATUS ARGS...: the tool in $work/d, stderr in $work/err
run() {
  want=$1; shift
  (cd "$work/d" && "$tool" "$@" 2>"$work/err" </dev/null)
  got=$?
  [ "$got" -eq "$want" ] || { echo "#   exit $got, expected $want: $*"; return 1; }
}
no_temp() { ! ls -A "${1:-$work/d}" | grep -q '^\.pstats2callgrind\.'; }
says() { grep -q -- "$1" "$work/err"; }
no_wrote() { ! grep -q 'wrote' "$work/err"; }
is_cg() { [ "$(head -n 1 "$1")" = "# callgrind format" ]; }
inode() { ls -i "$1" | awk '{print $1}'; }
mode() { stat -c %a "$1"; }

# --- regular files: created, replaced atomically, mode kept
umask 022
run 0 -o new.cg "$A"
check "a new file is created with the mode of umask 022 (644)" sh -c "[ \$(stat -c %a '$work/d/new.cg') = 644 ]"
check "... it is a callgrind file, and no temporary file is left" sh -c "head -n 1 '$work/d/new.cg' | grep -q callgrind && ! ls -A '$work/d' | grep -q '^\.pstats2callgrind\.'"
echo old >"$work/d/keep.cg"; chmod 640 "$work/d/keep.cg"; before=$(inode "$work/d/keep.cg")
run 0 -o keep.cg "$A"
check "an existing file is replaced (a new inode) and keeps its mode 640" \
  sh -c "[ \$(stat -c %a '$work/d/keep.cg') = 640 ] && [ \$(ls -i '$work/d/keep.cg' | awk '{print \$1}') != $before ] && head -n 1 '$work/d/keep.cg' | grep -q callgrind"
if [ $root -eq 1 ]; then
  echo old >"$work/d/owned.cg"; chown 65534:65534 "$work/d/owned.cg"
  run 0 -o owned.cg "$A"
  check "as root, the replaced file keeps its owner and group" sh -c "[ \"\$(stat -c %u:%g '$work/d/owned.cg')\" = 65534:65534 ]"
else
  skip "owner kept as root (not root)"
fi

# --- symbolic links: followed, never replaced
mkdir -p "$work/d/x" "$work/d/y"
echo old >"$work/d/y/final.cg"
ln -s ../y/hop "$work/d/x/link"          # relative, to a relative link
ln -s final.cg "$work/d/y/hop"
run 0 -o x/link "$A"
check "a chain of relative links: the final target is written" is_cg "$work/d/y/final.cg"
check "... and both links are still links to where they pointed" \
  sh -c "[ -L '$work/d/x/link' ] && [ \$(readlink '$work/d/x/link') = ../y/hop ] && [ -L '$work/d/y/hop' ] && [ \$(readlink '$work/d/y/hop') = final.cg ]"
check "... no temporary file beside the links or the target" sh -c "! ls -A '$work/d/x' '$work/d/y' | grep -q pstats2callgrind"
ln -s "$work/d/y/abs.cg" "$work/d/abslink"
run 0 -o abslink "$A"
check "a dangling absolute link creates its target" sh -c "[ -L '$work/d/abslink' ] && head -n 1 '$work/d/y/abs.cg' | grep -q callgrind"
ln -s l2 "$work/d/l1"; ln -s l1 "$work/d/l2"
run 1 -o l1 "$A"
check "a loop of links: exit 1, 'Too many levels of symbolic links'" sh -c "grep -q 'l1: Too many levels of symbolic links' '$work/err' && [ -L '$work/d/l1' ]"

# --- what cannot be written
mkdir "$work/d/adir"
run 1 -o adir "$A"; check "a directory as the output: exit 1, 'Is a directory', no wrote" sh -c "grep -q 'adir: Is a directory' '$work/err' && ! grep -q wrote '$work/err'"
run 1 -o adir/ "$A"; check "'dir/' as the output: exit 1" says 'Is a directory'
run 1 -o no/such/dir/x.cg "$A"; check "a missing directory: exit 1 with the path" says 'no/such/dir/x.cg: .*No such file or directory'
as_user=""
if [ $root -eq 1 ] && command -v setpriv >/dev/null 2>&1; then
  as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi
mkdir "$work/d/ro"; echo old >"$work/d/ro/t.cg"; chmod 666 "$work/d/ro/t.cg"; chmod 555 "$work/d/ro"
if [ $root -eq 0 ] || [ -n "$as_user" ]; then
  (cd "$work/d" && $as_user "$tool" -o ro/t.cg "$A" 2>"$work/err" </dev/null); st=$?
  check "a read-only directory: exit 1, a message on the temporary file, target untouched" \
    sh -c "[ $st -eq 1 ] && grep -q 'ro/t.cg: cannot create a temporary file' '$work/err' && [ \"\$(cat '$work/d/ro/t.cg')\" = old ]"
  chmod 755 "$work/d/ro"; chmod 444 "$work/d/ro/t.cg"
  (cd "$work/d" && $as_user "$tool" -o ro/t.cg "$A" 2>"$work/err" </dev/null); st=$?
  check "a read-only file in a writable directory is not replaced (Permission denied)" \
    sh -c "[ $st -eq 1 ] && grep -q 'Permission denied' '$work/err' && [ \"\$(cat '$work/d/ro/t.cg')\" = old ]"
else
  skip "read-only directory (root without setpriv)"
  skip "read-only file (root without setpriv)"
fi
chmod 755 "$work/d/ro" 2>/dev/null
if [ $root -eq 1 ] && unshare -m true 2>/dev/null; then
  mkdir -p "$work/d/rofs"; echo old >"$work/d/rofs/t.cg"
  unshare -m sh -c "mount --bind '$work/d/rofs' '$work/d/rofs' && mount -o remount,bind,ro '$work/d/rofs' && cd '$work/d' && '$tool' -o rofs/t.cg '$A'" 2>"$work/err"; st=$?
  check "a read-only file system (root, a private mount): exit 1, EROFS, untouched" \
    sh -c "[ $st -eq 1 ] && grep -q 'Read-only file system' '$work/err' && [ \"\$(cat '$work/d/rofs/t.cg')\" = old ]"
  mkdir -p "$work/d/small"; echo old >"$work/d/small/t.cg"
  # shellcheck disable=SC2086
  unshare -m sh -c "mount -t tmpfs -o size=16k tmpfs '$work/d/small' && echo old >'$work/d/small/t.cg' && cd '$work/d' && '$tool' --parts -o small/t.cg $BIG; st=\$?; cat small/t.cg; ls -A small; exit \$st" >"$work/out" 2>"$work/err"; st=$?
  check "a full file system (16 KB tmpfs): exit 1, ENOSPC, old file kept, no temporary file" \
    sh -c "[ $st -eq 1 ] && grep -q 'small/t.cg: No space left on device' '$work/err' && ! grep -q wrote '$work/err' && [ \"\$(cat '$work/out')\" = 'old
t.cg' ]"
else
  skip "read-only file system (needs root and unshare -m)"
  skip "full file system (needs root and unshare -m)"
fi
echo keep >"$work/d/fsize.cg"
(cd "$work/d" && ulimit -f 8 && "$tool" --parts -o fsize.cg $BIG 2>"$work/err" </dev/null); st=$?
check "ulimit -f: exit 1, 'File too large' (SIGXFSZ ignored), old file kept, no temporary file" \
  sh -c "[ $st -eq 1 ] && grep -q 'fsize.cg: File too large' '$work/err' && [ \"\$(cat '$work/d/fsize.cg')\" = keep ] && ! ls -A '$work/d' | grep -q '^\.pstats2callgrind\.'"

# --- devices (our own nodes), FIFOs, sockets: written in place
if [ $root -eq 1 ] && mknod "$work/d/mynull" c 1 3 2>/dev/null && mknod "$work/d/myfull" c 1 7 2>/dev/null; then
  run 0 -o mynull "$A"
  check "a null device is written in place and stays a device" test -c "$work/d/mynull"
  run 1 -o myfull "$A"
  check "a full device: exit 1, 'myfull: No space left on device', no wrote" \
    sh -c "grep -q 'myfull: No space left on device' '$work/err' && ! grep -q wrote '$work/err' && [ -c '$work/d/myfull' ]"
  check "... no temporary file" no_temp
  (cd "$work/d" && "$tool" -o - "$A" >myfull 2>"$work/err"); st=$?
  check "-o - onto a full device: exit 1, 'standard output: No space left on device'" sh -c "[ $st -eq 1 ] && grep -q 'standard output: No space left on device' '$work/err'"
  (cd "$work/d" && "$tool" --stats "$A" >myfull 2>"$work/err"); st=$?
  check "--stats onto a full device: exit 1" sh -c "[ $st -eq 1 ] && grep -q 'standard output: No space left' '$work/err'"
  "$pym" "$src/fixtures/profiles/mix-cpython3.12-cprofile.prof" >"$work/d/myfull" 2>"$work/err"; st=$?
  check "pymarshal onto a full device: exit 1 with the cause" sh -c "[ $st -eq 1 ] && grep -q 'standard output: No space left' '$work/err'"
  ln -s mynull "$work/d/tonull"
  run 0 -o tonull "$A"
  check "a link to a device: written through, both kept" sh -c "[ -L '$work/d/tonull' ] && [ -c '$work/d/mynull' ]"
else
  for t in "null device" "full device" "no temporary file" "-o - onto a full device" "--stats onto a full device" \
           "pymarshal onto a full device" "link to a device"; do
    skip "$t (own device nodes need root)"
  done
fi
mkfifo "$work/d/fifo"
cat "$work/d/fifo" >"$work/fifo.out" & reader=$!
run 0 -o fifo "$A"; st=$?
wait $reader
check "a FIFO with a reader: exit 0, the reader got the file, the FIFO stays" sh -c "[ $st -eq 0 ] && head -n 1 '$work/fifo.out' | grep -q callgrind && [ -p '$work/d/fifo' ]"
head -c 100 "$work/d/fifo" >/dev/null & reader=$!
# shellcheck disable=SC2086
run 1 --parts -o fifo $BIG
wait $reader
check "a FIFO whose reader goes away: exit 1, 'fifo: Broken pipe', no wrote" sh -c "grep -q 'fifo: Broken pipe' '$work/err' && ! grep -q wrote '$work/err'"
(cd "$work/d" && "$tool" --parts -o - $BIG 2>"$work/err" | head -c 10 >/dev/null); st=$?
check "-o - into a pipe that closes early: 'standard output: Broken pipe' (exit 1)" says 'standard output: Broken pipe'
if command -v python3 >/dev/null 2>&1; then
  python3 - "$work/d/sock" "$work/sock.out" <<'EOF' & server=$!
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
with open(sys.argv[2], "wb") as f:
    while True:
        b = c.recv(65536)
        if not b:
            break
        f.write(b)
EOF
  i=0; while [ ! -S "$work/d/sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  run 0 -o sock "$A"; st=$?
  wait $server
  check "a listening stream socket: connected and written, the socket stays" \
    sh -c "[ $st -eq 0 ] && head -n 1 '$work/sock.out' | grep -q callgrind && [ -S '$work/d/sock' ]"
else
  skip "socket (python3 missing)"
fi

# --- standard output under other names, and closed
(cd "$work/d" && "$tool" -o /dev/stdout "$A" >"$work/dev_stdout.out" 2>"$work/err"); st=$?
check "-o /dev/stdout into a file: written through the descriptor" sh -c "[ $st -eq 0 ] && head -n 1 '$work/dev_stdout.out' | grep -q callgrind && [ ! -L '$work/dev_stdout.out' ]"
echo first >"$work/append.out"
(cd "$work/d" && "$tool" -o /dev/fd/1 "$A" >>"$work/append.out" 2>"$work/err"); st=$?
check "-o /dev/fd/1 keeps the shell's append mode" sh -c "[ $st -eq 0 ] && [ \"\$(head -n 1 '$work/append.out')\" = first ] && sed -n 2p '$work/append.out' | grep -q callgrind"
(cd "$work/d" && "$tool" -o /proc/self/fd/1 "$A" 2>"$work/err" | head -n 1 >"$work/proc.out"); st=$?
check "-o /proc/self/fd/1 into a pipe" sh -c "grep -q callgrind '$work/proc.out'"
(cd "$work/d" && "$tool" -o - "$A" >&- 2>"$work/err"); st=$?
check "-o - with standard output closed: exit 1, 'standard output: Bad file descriptor'" \
  sh -c "[ $st -eq 1 ] && grep -q 'standard output: Bad file descriptor' '$work/err'"
(cd "$work/d" && "$tool" -o /dev/stdout "$A" >&- 2>"$work/err"); st=$?
check "-o /dev/stdout with standard output closed: exit 1" sh -c "[ $st -eq 1 ] && grep -q 'Bad file descriptor' '$work/err'"
(cd "$work/d" && "$tool" -o closed.cg "$A" >&- 2>"$work/err"); st=$?
check "standard output closed does not disturb -o FILE" sh -c "[ $st -eq 0 ] && head -n 1 '$work/d/closed.cg' | grep -q callgrind"
"$pym" "$src/fixtures/profiles/fib-cpython3.11-cprofile.prof" >&- 2>"$work/err"; st=$?
check "pymarshal with standard output closed: exit 1 with the cause" sh -c "[ $st -eq 1 ] && grep -q 'standard output: Bad file descriptor' '$work/err'"

# --- every other output (formats, reports, --diff) goes the same way
B=$work/b.prof
cp "$src/fixtures/profiles/fib-cpython3.12-cprofile.prof" "$B"
for out in "-f json" "-f pstats" "-f dot" "-f svg" "-f collapsed" "--stats" "--callers" "--diff=$B"; do
  # shellcheck disable=SC2086
  set -- $out
  echo old >"$work/d/other.out"; chmod 640 "$work/d/other.out"; before=$(inode "$work/d/other.out")
  run 0 "$@" -o other.out "$A"; st=$?
  check "$out: a regular file replaced (new inode, mode 640 kept), no temporary file" \
    sh -c "[ $st -eq 0 ] && [ \$(stat -c %a '$work/d/other.out') = 640 ] && [ \$(ls -i '$work/d/other.out' | awk '{print \$1}') != $before ] && [ \"\$(cat '$work/d/other.out')\" != old ] && ! ls -A '$work/d' | grep -q '^\.pstats2callgrind\.'"
  if [ $root -eq 1 ] && [ -c "$work/d/mynull" ]; then
    run 0 "$@" -o mynull "$A"; st=$?
    check "$out: a null device written in place, still a device" sh -c "[ $st -eq 0 ] && [ -c '$work/d/mynull' ]"
  fi
  if [ -n "$preload" ] && [ -f "$preload" ]; then
    echo keep >"$work/d/keep.cg"
    (cd "$work/d" && env LD_PRELOAD="$preload" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
       IO_FAIL_CALL=write IO_FAIL_MATCH=.pstats2callgrind. IO_FAIL_ERRNO=5 \
       "$tool" "$@" -o keep.cg "$A" 2>"$work/err" </dev/null); st=$?
    check "$out: write fails (EIO): exit 1, old file intact, no temporary file, the cause" \
      sh -c "[ $st -eq 1 ] && [ \"\$(cat '$work/d/keep.cg')\" = keep ] && ! ls -A '$work/d' | grep -q '^\.pstats2callgrind\.' && ! grep -q wrote '$work/err' && grep -q 'keep.cg: Input/output error' '$work/err'"
  fi
done

# --- failures injected at each step (LD_PRELOAD), and signals
if [ -n "$preload" ] && [ -f "$preload" ]; then
  inject() { # CALL ERRNO-or-SIGNAL: converts $A onto keep.cg holding "keep"
    echo keep >"$work/d/keep.cg"
    (cd "$work/d" && env LD_PRELOAD="$preload" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
       IO_FAIL_CALL=$1 IO_FAIL_MATCH=.pstats2callgrind. IO_FAIL_ERRNO=${2:-5} IO_FAIL_SIGNAL=${2:-15} \
       "$tool" -o keep.cg "$A" 2>"$work/err" </dev/null)
  }
  # the old file intact, no temporary file, no "wrote", the exit status
  failed() { [ "$st" -eq "$1" ] && [ "$(cat "$work/d/keep.cg")" = keep ] && no_temp && no_wrote; }
  inject write 5; st=$?
  check "write fails (EIO): exit 1, old file intact, no temporary file" failed 1
  check "... 'keep.cg: Input/output error'" says 'keep.cg: Input/output error'
  inject close 122; st=$?
  check "close fails (EDQUOT): exit 1, old file intact, no temporary file" failed 1
  check "... 'keep.cg: Disk quota exceeded'" says 'keep.cg: Disk quota exceeded'
  inject rename 18; st=$?
  check "rename fails (EXDEV): exit 1, old file intact, no temporary file" failed 1
  check "... 'keep.cg: Invalid cross-device link'" says 'keep.cg: Invalid cross-device link'
  inject signal 15; st=$?
  check "SIGTERM while writing: dies of it (143), old file intact, no temporary file" failed 143
  inject signal 2; st=$?
  check "SIGINT while writing: dies of it (130), old file intact, no temporary file" failed 130
  inject signal 1; st=$?
  check "SIGHUP while writing: dies of it (129), old file intact, no temporary file" failed 129
else
  skip "injected failures (no io_fail_preload library)"
fi

echo "1..$n"
[ "$fails" -eq 0 ]
