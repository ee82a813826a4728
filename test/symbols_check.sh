#!/bin/sh
# The ABI: the functions a shared library exports, against the committed list.
#   symbols_check.sh LIBRARY.so HEADER LIST           check
#   symbols_check.sh --update LIBRARY.so HEADER LIST  rewrite LIST
# Every function HEADER declares must carry its export macro (PSTATS_API in
# pstats.h, PYMARSHAL_API in marshal.h); the library must export exactly
# those functions, and they must be the names in LIST (lib/libpstats.symbols,
# lib/libpymarshal.symbols). Changing LIST is a deliberate act: a name that
# disappears breaks every program linked against the library.
set -u
update=0
if [ "$1" = "--update" ]; then update=1; shift; fi
lib=$1 header=$2 list=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lib" | awk '{ print $NF }' | sed 's/@.*//' | LC_ALL=C sort -u \
    >"$tmp/exported" || { echo "nm failed on $lib"; exit 1; }
macro=$(sed -n 's/^\([A-Z]*_API\) .*/\1/p' "$header" | head -n 1)
sed -n "s/^$macro .*[^a-z0-9_]\([a-z][a-z0-9_]*\)(.*/\1/p" "$header" | LC_ALL=C sort -u \
    >"$tmp/declared"
[ -s "$tmp/declared" ] || { echo "no $macro declarations found in $header"; exit 1; }
# A function declared without the macro would be missing from the library.
unmarked=$(grep -n '^[a-z][a-z0-9_ *]*[a-z0-9_]\{1,\}(' "$header" | grep -v "^[0-9]*:typedef ")
if [ -n "$unmarked" ]; then
    echo "$header declares functions without $macro (they would not be exported):"
    echo "$unmarked" | sed 's/^/  line /'
    exit 1
fi

if [ $update -eq 1 ]; then
    if ! cmp -s "$tmp/exported" "$tmp/declared"; then
        echo "$lib does not export what $header declares; not updating $list:"
        diff "$tmp/declared" "$tmp/exported" | sed -n 's/^</  declared, not exported:/p; s/^>/  exported, not declared:/p'
        exit 1
    fi
    cp "$tmp/exported" "$list"
    echo "wrote $list ($(wc -l <"$tmp/exported") functions)"
    exit 0
fi

if ! cmp -s "$tmp/exported" "$tmp/declared"; then
    echo "$lib does not export exactly what $header declares with $macro:"
    diff "$tmp/declared" "$tmp/exported" | sed -n 's/^</  declared, not exported:/p; s/^>/  exported, not declared:/p'
    echo "Every public function is declared with $macro and defined in the library."
    exit 1
fi
if ! cmp -s "$tmp/exported" "$list"; then
    echo "$lib's exported functions differ from $list:"
    diff "$list" "$tmp/exported" | sed -n 's/^</  removed:/p; s/^>/  added:/p'
    cat <<EOF

The list is the library's ABI. If the change is deliberate, regenerate it
with 'cmake --build BUILD_DIR --target update-symbols' and commit it.
Removing a function or changing its signature breaks programs linked against
the library: that needs a new major version (project(VERSION) in
CMakeLists.txt), which is the SONAME.
EOF
    exit 1
fi
echo "$lib: $(wc -l <"$tmp/exported") exported functions, as in $list"
