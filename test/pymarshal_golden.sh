#!/usr/bin/env bash
# Golden tests of pymarshal(1) against Python's repr(marshal.load(f)).
#   pymarshal_golden.sh PYMARSHAL SOURCE_DIR fixtures
#       every fixtures/repr/cases/*.bin and every marshal file under
#       fixtures/profiles/ against the committed goldens of fixtures/repr/
#       (made by fixtures/repr/make_goldens.sh with the Python that wrote
#       each file); files Python refuses must make pymarshal fail (exit 1,
#       one "pymarshal: FILE: offset N: ..." line on stderr).
#   pymarshal_golden.sh PYMARSHAL SOURCE_DIR real
#       the third-party profiles of ../shared/real (skipped when absent),
#       against an installed Python run now (never committed).
# Code object addresses are arbitrary in both outputs and masked.
set -uo pipefail
prog=$1 src=$2 mode=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

mask() { sed -E 's/ at 0x[0-9a-f]+, file "/ at 0xADDR, file "/g' "$1"; }

same() { # LABEL GOT WANT
    if cmp -s <(mask "$2") <(mask "$3"); then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $1"
        diff <(mask "$3" | fold -w 120) <(mask "$2" | fold -w 120) | head -n 6
    fi
}

check_file() { # INPUT GOLDEN
    if ! "$prog" "$1" > "$tmp/out" 2> "$tmp/err"; then
        fail=$((fail + 1))
        echo "FAIL: $1: pymarshal failed: $(cat "$tmp/err")"
        return
    fi
    same "$1" "$tmp/out" "$2"
}

check_refused() { # INPUT: Python refuses it; so must we, in one line
    "$prog" "$1" > "$tmp/out" 2> "$tmp/err"
    local rc=$?
    if [ $rc -eq 1 ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] &&
        grep -qE "^pymarshal: .+: offset [0-9]+: " "$tmp/err"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $1: exit $rc, stderr: $(head -c 300 "$tmp/err")"
    fi
}

fixtures() {
    local g f name
    for g in "$src"/fixtures/repr/cases/*.repr; do
        check_file "${g%.repr}.bin" "$g"
    done
    for g in "$src"/fixtures/repr/profiles/*; do
        name=$(basename "$g")
        name=${name%.*}
        f="$src/fixtures/profiles/$name"
        [ -e "$f" ] || f="$src/fixtures/profiles/other/$name"
        [ -e "$f" ] || { echo "FAIL: no input for golden $g"; fail=$((fail + 1)); continue; }
        case "$g" in
        *.fails) check_refused "$f" ;;
        *) check_file "$f" "$g" ;;
        esac
    done
    # Trailing bytes: still the object, exit 0, and a warning.
    "$prog" "$src/fixtures/repr/cases/py313-raw-trailing.bin" > /dev/null 2> "$tmp/err" &&
        grep -q "bytes after the object" "$tmp/err" && pass=$((pass + 1)) ||
        { fail=$((fail + 1)); echo "FAIL: no warning for trailing bytes"; }
    # Standard input gives the same as the file.
    "$prog" - < "$src/fixtures/repr/cases/py313-dicts.bin" > "$tmp/stdin"
    same "stdin" "$tmp/stdin" "$src/fixtures/repr/cases/py313-dicts.repr"
}

python_for() { # loads_in column of MANIFEST.tsv -> an interpreter, or ""
    local v=${1%%,*}
    case "$v" in
    2.7) command -v python3 ;;
    3.*) ls -d /root/.pyenv/versions/"$v".*/bin/python 2>/dev/null | tail -n 1 ;;
    *) echo "" ;;
    esac
}

real() {
    local dir="$src/../shared/real" file loads kind py
    [ -f "$dir/MANIFEST.tsv" ] || { echo "skipped: $dir absent"; exit 77; }
    local dump='import marshal, sys
v = marshal.load(open(sys.argv[1], "rb"))
sys.stdout.buffer.write((repr(v) + "\n").encode("utf-8", "surrogatepass"))'
    while IFS=$'\t' read -r file _ _ _ _ _ loads kind _; do
        [ "$file" = file ] && continue
        py=$(python_for "$loads")
        if [ "$loads" = none ]; then
            py=$(command -v python3)
            if "$py" -c "$dump" "$dir/$file" > "$tmp/want" 2> /dev/null; then
                check_file "$dir/$file" "$tmp/want"
            else
                check_refused "$dir/$file"
            fi
            continue
        fi
        [ -n "$py" ] || { echo "skipped $file: no Python $loads"; continue; }
        if [ "${loads%%,*}" = 2.7 ]; then
            "$py" "$src/fixtures/repr/py2_repr.py" "$dir/$file" > "$tmp/want"
        else
            "$py" -c "$dump" "$dir/$file" > "$tmp/want"
        fi
        check_file "$dir/$file" "$tmp/want"
    done < "$dir/MANIFEST.tsv"
}

case "$mode" in
fixtures) fixtures ;;
real) real ;;
*) echo "usage: $0 PYMARSHAL SOURCE_DIR fixtures|real" >&2; exit 2 ;;
esac
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
