#!/bin/sh
# Includes never run from a lower layer up:
#   layers_check.sh SOURCE_DIR
# lib/README.md's tables say, for each folder, which folders and headers its
# files may include (the backquoted paths of the "may include" column;
# "anything" means no rule). Every #include "x.h" and #include <pstats/x.h>
# of every .c and .h file in such a folder is resolved as the compiler
# would (the including file's folder first, then the libraries' folders and
# include/) and must land under one of the row's paths. Every folder of
# lib/ must have a row.
set -u
cd "$1" || exit 1
rules=$(sed -n 's/^| `\([^`]*\)` |.*| \(.*\) |$/\1 \2/p' lib/README.md | tr -d '`')
[ -n "$rules" ] || { echo "no rules found in lib/README.md"; exit 1; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
fails=0 checked=0

for dir in lib/*/; do
    if ! printf '%s\n' "$rules" | grep -q "^$dir "; then
        echo "$dir has no row in lib/README.md"
        fails=$((fails + 1))
    fi
done

# resolve FILE NAME: the repository path that #include "NAME" in FILE names
resolve() {
    case $2 in
    pstats/version.h) echo include/pstats/version.h; return ;; # made from version.h.in
    pstats/*) [ -f "include/$2" ] && echo "include/$2"; return ;;
    esac
    if [ -f "$(dirname "$1")/$2" ]; then echo "$(dirname "$1")/$2"; return; fi
    for d in lib/*/ include/; do
        if [ -f "$d$2" ]; then echo "$d$2"; return; fi
    done
}

# check FILE ALLOWED...: each include of FILE against the allowed paths
check() {
    f=$1; shift
    grep -n '^[[:space:]]*#[[:space:]]*include' "$f" |
        sed -n 's/^\([0-9]*\):[[:space:]]*#[[:space:]]*include[[:space:]]*\(["<]\)\([^">]*\).*/\1 \2 \3/p' \
        >"$tmp"
    while read -r line delim name; do
        case $delim$name in
        "<pstats/"*) ;;
        "<"*) continue ;; # the C library and other installed headers
        esac
        target=$(resolve "$f" "$name")
        if [ -z "$target" ]; then
            echo "$f:$line: includes \"$name\", which is in no folder of the project"
            fails=$((fails + 1))
            continue
        fi
        ok=0
        for a in "$@"; do
            case $target in "$a"*) ok=1; break ;; esac
        done
        if [ $ok -eq 0 ]; then
            echo "$f:$line: includes $target; $(dirname "$f")/ may include only: $*"
            fails=$((fails + 1))
        fi
    done <"$tmp"
}

while read -r dir allowed; do
    [ "$allowed" = "anything" ] && continue
    for f in "$dir"*.c "$dir"*.h; do
        [ -f "$f" ] || continue
        checked=$((checked + 1))
        # shellcheck disable=SC2086 # the allowed paths are words
        check "$f" $allowed
    done
done <<EOF
$rules
EOF
echo "$checked files checked against lib/README.md, $fails problems"
[ $fails -eq 0 ]
