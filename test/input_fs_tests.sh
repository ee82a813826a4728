#!/bin/sh
# Inputs on a full and on a read-only file system (a tmpfs of 512 KB made
# for the test; it needs the right to mount, else it is skipped, exit 77):
# a profile cut by ENOSPC when it was copied there is exit 1 with the
# offset where it ends; a profile on a read-only file system converts
# (nothing is written beside it but the output, which goes elsewhere), and
# an output beside it is exit 1 with the cause.
#   input_fs_tests.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
set -u
tool=$1 src=$2 work=$3
case $tool in /*) ;; *) tool=$(pwd)/$tool ;; esac
rm -rf "$work"
mkdir -p "$work/mnt"
mount -t tmpfs -o size=512k tmpfs "$work/mnt" 2>/dev/null || { echo "SKIP: cannot mount a tmpfs"; exit 77; }
trap 'umount "$work/mnt" 2>/dev/null' EXIT
fails=0 n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$work/err"; }
check() { desc=$1; shift; if "$@"; then ok "$desc"; else bad "$desc"; fi; }
python3 -c "
import marshal
d = {('/a/m%d.py' % f, f, 'f%d' % f): (1, 1, 0.5, 0.5, {}) for f in range(40000)}
open('$work/big.prof', 'wb').write(marshal.dumps(d))"
cp "$work/big.prof" "$work/mnt/full.prof" 2>/dev/null && { echo "# the copy fit: no ENOSPC"; }
"$tool" --stats "$work/mnt/full.prof" > /dev/null 2>"$work/err"
check "a profile cut by a full file system: exit 1, the file and the offset named" \
  sh -c "[ $? -eq 1 ] && grep -q 'full.prof: offset [0-9]*: .*\\(ends\\|truncated\\)' '$work/err'"
rm -f "$work/mnt/full.prof"
cp "$src/fixtures/profiles/fib-cpython3.11-cprofile.prof" "$work/mnt/a.prof"
mount -o remount,ro "$work/mnt"
"$tool" "$work/mnt/a.prof" -o "$work/a.cg" 2>"$work/err"
check "a profile on a read-only file system converts" sh -c "[ $? -eq 0 ] && [ -s '$work/a.cg' ]"
"$tool" "$work/mnt/a.prof" 2>"$work/err"
check "an output beside it: exit 1 with the cause" sh -c "[ $? -eq 1 ] && grep -qi 'read-only' '$work/err'"
echo "$((n - fails)) passed, $fails failed"
[ $fails -eq 0 ]
