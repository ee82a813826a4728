#!/bin/sh
# Installs the test-only JavaScript tools (playwright-core to drive Debian's
# Chromium, and speedscope) into DIR from the committed package.json and
# package-lock.json, with `npm ci` from the npm registry; a DIR that already
# holds this lock file's install is left as it is. playwright-core stays at
# 1.56, the last release that runs on Node 18 (Debian 12's nodejs).
#   install.sh SOURCE_DIR DIR
set -eu
src=$1 dir=$2
command -v npm >/dev/null 2>&1 || { echo "npm is not installed (.ci/install-deps --test installs it)"; exit 1; }
mkdir -p "$dir"
if [ -d "$dir/node_modules/playwright-core" ] && cmp -s "$src/test/js/package-lock.json" "$dir/package-lock.json"; then
  echo "up to date: $dir"
  exit 0
fi
cp "$src/test/js/package.json" "$src/test/js/package-lock.json" "$dir/"
cd "$dir"
npm ci --no-audit --no-fund --loglevel=error
echo "installed: $(ls node_modules | tr '\n' ' ')"
