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

mask() { sed -E 's/ at 0x[0-9a-f]+, file "/ at 0xADDR, file "/g'; }

same() { # LABEL GOT WANT (WANT already masked)
    if cmp -s "$2" "$3"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $1"
        diff <(fold -w 120 "$3") <(fold -w 120 "$2") | head -n 6
    fi
}

check_file() { # INPUT GOLDEN
    if ! "$prog" "$1" > "$tmp/out" 2> "$tmp/err"; then
        fail=$((fail + 1))
        echo "FAIL: $1: pymarshal failed: $(cat "$tmp/err")"
        return
    fi
    if [[ $(< "$tmp/out") == *"<code object "* ]]; then
        mask < "$tmp/out" > "$tmp/masked"
        mv "$tmp/masked" "$tmp/out"
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
    # Every marshal file under fixtures/profiles/ has its golden.
    for f in "$src"/fixtures/profiles/*.prof "$src"/fixtures/profiles/other/*; do
        name=$(basename "$f")
        [ -e "$src/fixtures/repr/profiles/$name.repr" ] ||
            [ -e "$src/fixtures/repr/profiles/$name.fails" ] ||
            { echo "FAIL: no golden for $f"; fail=$((fail + 1)); }
    done
    # Trailing bytes: still the object, exit 0, and a warning.
    "$prog" "$src/fixtures/repr/cases/py313-raw-trailing.bin" > /dev/null 2> "$tmp/err" &&
        grep -q "bytes after the object" "$tmp/err" && pass=$((pass + 1)) ||
        { fail=$((fail + 1)); echo "FAIL: no warning for trailing bytes"; }
    # Standard input gives the same as the file.
    "$prog" - < "$src/fixtures/repr/cases/py313-dicts.bin" | mask > "$tmp/stdin"
    same "stdin" "$tmp/stdin" "$src/fixtures/repr/cases/py313-dicts.repr"
}

# Writes OUT/NAME.repr (masked) or OUT/NAME.fails for each FILE, as the
# running Python decodes it: marshal.loads, or py2_repr.py's reader (py2).
want_script='import marshal, os, re, sys
out, how = sys.argv[1], sys.argv[2]
if how == "py2":
    sys.path.insert(0, sys.argv[3])
    sys.setrecursionlimit(20000)
    import py2_repr
for path in sys.argv[4:]:
    name = os.path.join(out, os.path.basename(path))
    try:
        data = open(path, "rb").read()
        v = py2_repr.Reader(data).load() if how == "py2" else marshal.loads(data)
        text = re.sub(r" at 0x[0-9a-f]+, file \"", " at 0xADDR, file \"", repr(v))
        open(name + ".repr", "wb").write((text + "\n").encode("utf-8", "surrogatepass"))
    except Exception as e:
        open(name + ".fails", "w").write("%s\n" % e)'

python_for() { # first Python of the loads_in column of MANIFEST.tsv
    local v=${1%%,*}
    case "$v" in
    2.7|none) command -v python3 ;;
    *) ls -d /root/.pyenv/versions/"$v".*/bin/python 2>/dev/null | tail -n 1 ;;
    esac
}

real() {
    local dir="$src/../shared/real" file loads py how
    [ -f "$dir/MANIFEST.tsv" ] || { echo "skipped: $dir absent"; exit 77; }
    mkdir -p "$tmp/want"
    declare -A files
    while IFS=$'\t' read -r file _ _ _ _ _ loads _; do
        [ "$file" = file ] && continue
        py=$(python_for "$loads")
        [ -n "$py" ] || { echo "skipped $file: no Python $loads"; continue; }
        how=py3
        [ "${loads%%,*}" = 2.7 ] && how=py2
        files["$py $how"]+="$dir/$file"$'\n'
    done < "$dir/MANIFEST.tsv"
    for key in "${!files[@]}"; do
        mapfile -t list < <(printf '%s' "${files[$key]}")
        ${key% *} -c "$want_script" "$tmp/want" "${key#* }" "$src/fixtures/repr" "${list[@]}"
        for file in "${list[@]}"; do
            if [ -f "$tmp/want/$(basename "$file").repr" ]; then
                check_file "$file" "$tmp/want/$(basename "$file").repr"
            else
                check_refused "$file"
            fi
        done
    done
}

case "$mode" in
fixtures) fixtures ;;
real) real ;;
*) echo "usage: $0 PYMARSHAL SOURCE_DIR fixtures|real" >&2; exit 2 ;;
esac
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] || [ "$mode" != fixtures ] ||
    echo "(when fixtures/profiles changed on purpose: fixtures/repr/make_goldens.sh)"
[ "$fail" -eq 0 ]
