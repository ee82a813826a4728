#!/bin/sh
# The real speedscope (npm `speedscope`, its release build, installed in the
# build tree by test/js/install.sh) in Debian's headless Chromium reads our
# callgrind output (its callgrind importer) and our --format collapsed
# output (its collapsed-stack importer) for every fixture and every pstats
# file of ../shared/real; test/speedscope_check.py compares what it shows
# with the files (see docs/callgrind.md and docs/graphs.md).
#   readers_speedscope.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
set -u
tool=$1 src=$2 work=$3
js=$(dirname "$work")/js_tools
chromium=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$chromium" ] || { echo "chromium is not installed (.ci/install-deps --test)"; exit 1; }
[ -d "$js/node_modules/speedscope" ] || { echo "no $js/node_modules: run the js_tools_install test"; exit 1; }
rm -rf "$work"
mkdir -p "$work"
inputs=$(ls "$src"/fixtures/profiles/*.prof "$src/fixtures/fibonacci.prof" "$src"/fixtures/cycles/*.prof)
real=$src/../shared/real
if [ -f "$real/MANIFEST.tsv" ]; then
  inputs="$inputs $(awk -F'\t' -v d="$real" 'NR > 1 && $8 !~ /^other/ { print d "/" $1 }' "$real/MANIFEST.tsv")"
fi
names=""
for f in $inputs; do
  b=$(basename "$f")
  if ! "$tool" -o "$work/$b.cg" "$f" 2>/dev/null; then
    "$tool" --stats "$f" >/dev/null 2>&1 && { echo "FAIL $b: not converted"; exit 1; }
    continue   # not a profile (synth-empty: no Python loads it either)
  fi
  "$tool" -f collapsed -o "$work/$b.folded" "$f" 2>/dev/null || { echo "FAIL $b: no collapsed output"; exit 1; }
  names="$names $b.cg $b.folded"
done
# speedscope's importers, one page for all files
# shellcheck disable=SC2086
(cd "$work" && JS_TOOLS=$js node "$src/test/js/speedscope_export.mjs" "$chromium" "$js/node_modules/speedscope" . $names) \
  > "$work/export.log" 2>&1
rc=$?
grep -v '"ok":true' "$work/export.log"
echo "speedscope imported $(grep -c '"ok":true' "$work/export.log") files"
# shellcheck disable=SC2086
python3 "$src/test/speedscope_check.py" "$work" $names || rc=1
# a --parts file repeats events: and names per part, which speedscope refuses
"$tool" --parts -o "$work/parts.cg" "$src/fixtures/fibonacci.prof" "$src/fixtures/fibonacci.prof" 2>/dev/null
(cd "$work" && JS_TOOLS=$js node "$src/test/js/speedscope_export.mjs" "$chromium" "$js/node_modules/speedscope" . parts.cg) > "$work/parts.log" 2>&1
case $(cat "$work/parts.log") in
  *'Duplicate'*|*'"ok":false'*) echo "ok --parts files are refused by speedscope (documented)" ;;
  *) echo "note: speedscope now reads --parts files; update docs/callgrind.md" ;;
esac
exit $rc
