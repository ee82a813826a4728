#!/bin/sh
# The real profiles people committed to public repositories (../shared/real
# beside the checkout; skipped when absent): every pstats file must convert
# and pass test/readers_check.py; the files of other formats must be
# refused with exit status 1 and no output file.
#   readers_real.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
set -eu
tool=$1 src=$2 work=$3
real=$src/../shared/real
[ -f "$real/MANIFEST.tsv" ] || { echo "SKIP: $real not present"; exit 77; }
for p in python3 callgrind_annotate; do
  command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p not installed"; exit 77; }
done
mkdir -p "$work"
files=$(awk -F'\t' 'NR > 1 { print $1 }' "$real/MANIFEST.tsv")
set --
for f in $files; do set -- "$@" "$real/$f"; done
exec python3 "$src/test/readers_check.py" "$tool" "$work" "$@"
