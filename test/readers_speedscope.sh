#!/bin/sh
# speedscope's callgrind importer (src/import/callgrind.ts of
# jlfwong/speedscope), run headless with node: every converted fixture must
# import without an error and give a profile. Needs a speedscope source
# checkout in SPEEDSCOPE_SRC and esbuild (SPEEDSCOPE_ESBUILD, or on PATH) to
# bundle the importer for node; skipped otherwise (the npm package ships only
# the browser bundle, see docs/callgrind.md).
#   readers_speedscope.sh PSTATS2CALLGRIND SOURCE_DIR WORK_DIR
set -u
tool=$1 src=$2 work=$3
esbuild=${SPEEDSCOPE_ESBUILD:-$(command -v esbuild || true)}
ss=${SPEEDSCOPE_SRC:-}
if [ -z "$ss" ] || [ ! -f "$ss/src/import/callgrind.ts" ] || [ -z "$esbuild" ] ||
   ! command -v node >/dev/null 2>&1; then
  echo "SKIP: set SPEEDSCOPE_SRC (speedscope checkout) and SPEEDSCOPE_ESBUILD (esbuild), with node installed"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
cat >"$work/entry.ts" <<EOF
import {importFromCallgrind} from '$ss/src/import/callgrind'
declare const require: any
declare const process: any
const text: string = require('fs').readFileSync(process.argv[2], 'utf8')
const contents = {
  splitLines: () => text.split('\n'),
  firstChunk: () => text.slice(0, 4096),
  parseAsJSON: () => JSON.parse(text),
}
try {
  const g = importFromCallgrind(contents as any, process.argv[2])
  if (!g || g.profiles.length === 0) throw new Error('no profile')
  const p = g.profiles[0]
  let frames = 0
  p.forEachFrame(() => frames++)
  console.log('ok ' + p.getTotalWeight() + ' ' + frames)
} catch (e) {
  console.log('error ' + String(e))
  process.exit(1)
}
EOF
"$esbuild" "$work/entry.ts" --bundle --platform=node --outfile="$work/import.js" --log-level=error || exit 1
fails=0
for f in "$src"/fixtures/profiles/*.prof "$src/fixtures/fibonacci.prof"; do
  out=$work/callgrind.out.$(basename "$f")
  "$tool" -o "$out" "$f" 2>/dev/null || continue   # files no Python loads either
  r=$(node "$work/import.js" "$out")
  case $r in
    "ok 0 "*|error*) echo "FAIL $(basename "$f"): $r"; fails=$((fails + 1)) ;;
    *) echo "ok $(basename "$f"): total $(echo "$r" | cut -d' ' -f2), $(echo "$r" | cut -d' ' -f3) frames" ;;
  esac
done
# a --parts file repeats events: and names per part, which speedscope refuses
"$tool" --parts -o "$work/parts" "$src/fixtures/fibonacci.prof" "$src/fixtures/fibonacci.prof" 2>/dev/null
case $(node "$work/import.js" "$work/parts") in
  *'Duplicate "events: "'*) echo "ok --parts files are refused by speedscope (documented)" ;;
  *) echo "note: speedscope now reads --parts files; update docs/callgrind.md" ;;
esac
[ $fails -eq 0 ]
