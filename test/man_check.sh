#!/bin/sh
# Every man page in docs/ renders without a warning:
#   man_check.sh SOURCE_DIR
# groff with all warnings on (-ww, the man macros, tbl, UTF-8 input), and
# man(1) itself with --warnings at 80 columns when it is installed.
set -u
cd "$1/docs" || exit 1
command -v groff >/dev/null 2>&1 || { echo "SKIP: groff not installed (groff-base)"; exit 77; }
fails=0 n=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for page in *.[1-9]; do
    n=$((n + 1))
    groff -man -t -k -ww -z -Tutf8 "$page" >"$tmp" 2>&1
    rc=$?
    if command -v man >/dev/null 2>&1; then
        MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>>"$tmp" >/dev/null || rc=1
    fi
    if [ $rc -eq 0 ] && [ ! -s "$tmp" ]; then
        echo "ok $n - $page"
    else
        echo "not ok $n - $page"
        sed 's/^/#   /' "$tmp"
        fails=$((fails + 1))
    fi
done
echo "$n pages, $fails with warnings"
[ $n -gt 0 ] && [ $fails -eq 0 ]
