#!/bin/sh
# A program built against an installed copy, as a library user builds it:
#   consumer_check.sh ROUTE LINK PREFIX SOURCE_DIR WORK_DIR CC [CFLAG...]
# ROUTE: pkg-config (libpstats.pc) or cmake (find_package(pstats));
# LINK: shared (libpstats.so.0 from PREFIX) or static (libpstats.a; by
# pkg-config both as docs/library.md says: the two archives by name with the
# other libraries shared, and, unless CFLAGS ask for a sanitizer, which
# cannot link statically, everything -static).
# CFLAGS also go to the link (the sanitizer build passes its -fsanitize).
# The program is docs/examples/profile_summary.c; its report and callgrind
# file must be those of PREFIX's own pstats2callgrind for the same inputs.
set -u
route=$1 link=$2 prefix=$3 src=$4 work=$5 cc=$6
shift 6
cflags="$*"
rm -rf "$work"
mkdir -p "$work"
fails=0 n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }

pc=$(find "$prefix" -name libpstats.pc | head -n 1)
[ -n "$pc" ] || { echo "no libpstats.pc under $prefix"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
export PKG_CONFIG_PATH="$(dirname "$pc")"
a=$src/fixtures/profiles/fib-cpython3.11-cprofile.prof
b=$src/fixtures/profiles/mix-cpython3.12-cprofile.prof
p2c=$prefix/bin/pstats2callgrind
"$p2c" --stats --sort cumulative --limit 10 "$a" "$b" >"$work/report.cli" 2>&1
"$p2c" -o "$work/cli.callgrind" "$a" "$b" >/dev/null 2>&1

# cc_example EXE ARGS...: the example compiled by hand with pkg-config's flags
cc_example() {
    out=$1
    shift
    echo "# $cc $cflags -std=c99 -pedantic-errors -Wall -Wextra -Werror profile_summary.c $*"
    # shellcheck disable=SC2086 # the flags are words
    $cc $cflags -std=c99 -pedantic-errors -Wall -Wextra -Werror \
        "$src/docs/examples/profile_summary.c" -o "$out" "$@" >"$work/build.log" 2>&1
}

# cmake_example EXE STATIC: the example's own CMakeLists.txt, find_package(pstats)
cmake_example() {
    cmake -S "$src/docs/examples" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$cflags -Wall -Wextra -Werror" \
        -DCMAKE_EXE_LINKER_FLAGS="$cflags" -DPROFILE_SUMMARY_STATIC="$2" \
        >"$work/build.log" 2>&1 &&
        cmake --build "$work/build" >>"$work/build.log" 2>&1 &&
        cp "$work/build/profile_summary" "$1"
}

# check EXE HOW: the program was built, links libpstats as LINK says, and
# prints and writes what pstats2callgrind does
check() {
    exe=$1 how=$2
    if [ ! -x "$exe" ]; then
        sed 's/^/#   /' "$work/build.log"
        bad "built $how"
        return
    fi
    ok "built $how"
    needed=$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    if [ "$link" = shared ]; then
        found=$(ldd "$exe" | sed -n 's/^[[:space:]]*libpstats\.so\.0 => \([^ ]*\) .*/\1/p')
        if echo "$needed" | grep -qx 'libpstats\.so\.0' &&
            [ "$(readlink -f "$found")" = "$(readlink -f "$libdir/libpstats.so.0")" ]; then
            ok "needs libpstats.so.0, found in $libdir"
        else
            bad "needs libpstats.so.0, found in $libdir (NEEDED: $needed; found: $found)"
        fi
    elif echo "$needed" | grep -q 'libpstats\|libpymarshal'; then
        bad "needs no libpstats.so or libpymarshal.so (NEEDED: $needed)"
    else
        ok "needs no libpstats.so or libpymarshal.so"
    fi

    rm -f "$work/out.callgrind"
    "$exe" "$work/out.callgrind" "$a" "$b" >"$work/report" 2>"$work/err"
    rc=$?
    if [ $rc -eq 0 ] && [ -s "$work/report" ] && cmp -s "$work/report" "$work/report.cli"; then
        ok "report as pstats2callgrind --stats prints it"
    else
        bad "report as pstats2callgrind --stats prints it (exit $rc)"
        sed 's/^/#   /' "$work/err"
        diff "$work/report.cli" "$work/report" | head -n 20 | sed 's/^/#   /'
    fi
    if [ -s "$work/out.callgrind" ] && cmp -s "$work/out.callgrind" "$work/cli.callgrind"; then
        ok "callgrind file as pstats2callgrind writes it"
    else
        bad "callgrind file as pstats2callgrind writes it"
    fi
    # A broken input: exit 1, the file and the offset named, no output left.
    "$exe" "$work/bad.callgrind" "$a" "$src/fixtures/bad/n_ref_out_of_range.bin" \
        >/dev/null 2>"$work/err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q "n_ref_out_of_range.bin: offset [0-9]" "$work/err" &&
        [ ! -e "$work/bad.callgrind" ]; then
        ok "a bad input: exit 1, where it breaks, no output"
    else
        bad "a bad input: exit 1, where it breaks, no output (exit $rc)"
        sed 's/^/#   /' "$work/err"
    fi
}

# shellcheck disable=SC2046 # pkg-config's output is words
case $route/$link in
pkg-config/shared)
    cc_example "$work/shared" $(pkg-config --cflags --libs libpstats) -Wl,-rpath,"$libdir"
    check "$work/shared" "by pkg-config, linked shared"
    ;;
pkg-config/static)
    # libpstats and libpymarshal from their archives, the rest shared
    cc_example "$work/archives" $(pkg-config --cflags libpstats) \
        $(pkg-config --static --libs libpstats | sed 's/-lpstats/-l:libpstats.a/; s/-lpymarshal/-l:libpymarshal.a/')
    check "$work/archives" "by pkg-config, linked with libpstats.a and libpymarshal.a"
    case " $cflags " in
    *" -fsanitize="*) echo "# not linked -static: the sanitizers need their shared runtime" ;;
    *)
        cc_example "$work/static" -static $(pkg-config --static --cflags --libs libpstats)
        check "$work/static" "by pkg-config, linked -static"
        ;;
    esac
    ;;
cmake/shared)
    cmake_example "$work/shared" OFF
    check "$work/shared" "by CMake, linked with pstats::pstats"
    ;;
cmake/static)
    cmake_example "$work/static" ON
    check "$work/static" "by CMake, linked with pstats::pstats_static"
    ;;
*)
    echo "unknown route or link: $route $link"
    exit 2
    ;;
esac
echo "$n checks, $fails failed"
[ $fails -eq 0 ]
