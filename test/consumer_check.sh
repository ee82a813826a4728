#!/bin/sh
# A program built against an installed copy, as a library user builds it:
#   consumer_check.sh ROUTE LINK PREFIX SOURCE_DIR WORK_DIR CC [CFLAG...]
# ROUTE: pkg-config (libpstats.pc) or cmake (find_package(pstats));
# LINK: shared (libpstats.so.0 from PREFIX) or static (libpstats.a);
# CFLAGS also go to the link (the sanitizer build passes its -fsanitize).
# The program is docs/examples/profile_summary.c; its report and callgrind
# file must be those of PREFIX's own pstats2callgrind for the same inputs.
set -u
route=$1 link=$2 prefix=$3 src=$4 work=$5 cc=$6
shift 6
cflags="$*"
rm -rf "$work"
mkdir -p "$work"
exe=$work/profile_summary
fails=0 n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }

pc=$(find "$prefix" -name libpstats.pc | head -n 1)
[ -n "$pc" ] || { echo "no libpstats.pc under $prefix"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")

case $route in
pkg-config)
    export PKG_CONFIG_PATH="$(dirname "$pc")"
    # shellcheck disable=SC2046 # pkg-config's output is words
    if [ "$link" = shared ]; then
        set -- $(pkg-config --cflags --libs libpstats) -Wl,-rpath,"$libdir"
    else
        # The libraries pkg-config names for a static link (Libs.private,
        # Requires.private), taken from their .a files; the C library shared.
        set -- $(pkg-config --cflags libpstats) -Wl,-Bstatic \
            $(pkg-config --static --libs libpstats) -Wl,-Bdynamic
    fi
    echo "# $cc $cflags -std=c99 -pedantic-errors -Wall -Wextra -Werror profile_summary.c $*"
    # shellcheck disable=SC2086
    $cc $cflags -std=c99 -pedantic-errors -Wall -Wextra -Werror \
        "$src/docs/examples/profile_summary.c" -o "$exe" "$@" >"$work/build.log" 2>&1
    built=$?
    ;;
cmake)
    static=OFF
    [ "$link" = static ] && static=ON
    cmake -S "$src/docs/examples" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$cflags -Wall -Wextra -Werror" \
        -DCMAKE_EXE_LINKER_FLAGS="$cflags" -DPROFILE_SUMMARY_STATIC=$static \
        >"$work/build.log" 2>&1 &&
        cmake --build "$work/build" >>"$work/build.log" 2>&1 &&
        cp "$work/build/profile_summary" "$exe"
    built=$?
    ;;
*)
    echo "unknown route $route"
    exit 2
    ;;
esac
if [ $built -ne 0 ] || [ ! -x "$exe" ]; then
    sed 's/^/#   /' "$work/build.log"
    echo "not ok - built by $route, linked $link"
    exit 1
fi
ok "built by $route, linked $link"

# The libraries: from PREFIX when shared, inside the program when static.
needed=$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
resolved=$(ldd "$exe" | sed -n 's/^[[:space:]]*libpstats\.so\.0 => \([^ ]*\) .*/\1/p')
if [ "$link" = shared ]; then
    if echo "$needed" | grep -qx 'libpstats\.so\.0' &&
        [ "$(readlink -f "$resolved")" = "$(readlink -f "$libdir/libpstats.so.0")" ]; then
        ok "needs libpstats.so.0, found in $libdir"
    else
        bad "needs libpstats.so.0, found in $libdir (NEEDED: $needed; found: $resolved)"
    fi
else
    if echo "$needed" | grep -q 'libpstats\|libpymarshal'; then
        bad "needs no libpstats.so or libpymarshal.so (NEEDED: $needed)"
    else
        ok "needs no libpstats.so or libpymarshal.so"
    fi
fi

a=$src/fixtures/profiles/fib-cpython3.11-cprofile.prof
b=$src/fixtures/profiles/mix-cpython3.12-cprofile.prof
p2c=$prefix/bin/pstats2callgrind
"$exe" "$work/out.callgrind" "$a" "$b" >"$work/report" 2>"$work/err"
rc=$?
"$p2c" --stats --sort cumulative --limit 10 "$a" "$b" >"$work/report.cli" 2>&1
"$p2c" -o "$work/cli.callgrind" "$a" "$b" >/dev/null 2>&1
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
echo "$n checks, $fails failed"
[ $fails -eq 0 ]
