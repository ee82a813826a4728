#!/bin/sh
# The flame graph SVG of every fixture and every pstats file of
# ../shared/real, opened in Debian's headless Chromium (driven by
# playwright-core, installed in the build tree by test/js/install.sh):
# it renders, a click zooms, Reset Zoom restores, Search highlights
# (test/js/flame_check.mjs). A screenshot of the seed's profile is left in
# WORK_DIR/fibonacci.png.
#   graphs_browser.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR JS_TOOLS
set -u
tool=$1 src=$2 work=$3 js=$4
chromium=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$chromium" ] || { echo "chromium is not installed (.ci/install-deps --test)"; exit 1; }
[ -d "$js/node_modules/playwright-core" ] || { echo "no $js/node_modules: run the js_tools_install test"; exit 1; }
rm -rf "$work"
mkdir -p "$work"
inputs="$src/fixtures/fibonacci.prof $(ls "$src"/fixtures/profiles/*.prof)"
real=$src/../shared/real
if [ -f "$real/MANIFEST.tsv" ]; then
  inputs="$inputs $(awk -F'\t' -v d="$real" 'NR > 1 && $8 !~ /^other/ { print d "/" $1 }' "$real/MANIFEST.tsv")"
fi
svgs=""
for f in $inputs; do
  out=$work/$(basename "$f").svg
  if ! "$tool" -f svg -o "$out" "$f" 2>/dev/null; then
    "$tool" --stats "$f" >/dev/null 2>&1 && { echo "FAIL $f: no svg"; exit 1; }
    continue   # not a profile (synth-empty: no Python loads it either)
  fi
  svgs="$svgs $out"
done
# shellcheck disable=SC2086
JS_TOOLS=$js SHOT=$work/fibonacci.png node "$src/test/js/flame_check.mjs" "$chromium" 'fib|exec|<module>' $svgs \
  > "$work/check.log" 2>&1
rc=$?
grep -v '"ok":true' "$work/check.log"
echo "$(grep -c '"ok":true' "$work/check.log") flame graphs work in Chromium"
exit $rc
