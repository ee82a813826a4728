#!/bin/sh
# The Debian packages and the archive that cpack makes, checked as a clean
# machine would meet them:
#   package_check.sh BUILD_DIR SOURCE_DIR WORK_DIR CC [CFLAG...]
# - every library an ELF file of a .deb needs comes from that package, from
#   a package its Depends names, or (for our own) from libpstats0;
# - libpstats-dev depends on the packages owning the .pc files that
#   libpstats.pc's Requires.private names and the libraries its Libs.private
#   names, and on libpstats0 of its version;
# - the .debs unpacked into a scratch root (dpkg-deb -x, no installing) work
#   there: the programs run, and docs/examples/profile_summary.c builds
#   against them by pkg-config and by CMake (consumer_check.sh);
# - the .tar.gz holds the same files as the three .debs together.
set -u
build=$1 src=$2 work=$3 cc=$4
shift 4
for tool in dpkg-deb dpkg-query dpkg-shlibdeps file; do
    command -v $tool >/dev/null 2>&1 || { echo "SKIP: $tool not installed"; exit 77; }
done
rm -rf "$work"
mkdir -p "$work/root" "$work/tgz"
fails=0 n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }

if ! cpack --config "$build/CPackConfig.cmake" -G "DEB;TGZ" -B "$work/out" >"$work/cpack.log" 2>&1; then
    sed 's/^/#   /' "$work/cpack.log"
    echo "not ok - cpack -G DEB;TGZ"
    exit 1
fi
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
for p in libpstats0 libpstats-dev pstats2callgrind; do
    deb=$(ls "$work/out/${p}_${version}_"*.deb 2>/dev/null)
    if [ -z "$deb" ]; then
        bad "cpack made ${p}_${version}"
        continue
    fi
    ok "cpack made $(basename "$deb")"
    dpkg-deb -x "$deb" "$work/root"
    dpkg-deb -x "$deb" "$work/pkg-$p"
    dpkg-deb -f "$deb" Depends >"$work/depends-$p"
done

# in_depends PACKAGE OWNER: does PACKAGE's Depends name OWNER?
in_depends() {
    tr ',|' '\n\n' <"$work/depends-$1" | sed 's/(.*//; s/[[:space:]]//g' | grep -qx "$2"
}
# owner FILE: the Debian package that holds FILE on this machine
owner() {
    for f in "$1" "/usr$1" "${1#/usr}"; do
        o=$(dpkg-query -S "$f" 2>/dev/null | sed -n '1s/:.*//p')
        [ -n "$o" ] && { echo "$o"; return; }
    done
}

for p in libpstats0 libpstats-dev pstats2callgrind; do
    [ -d "$work/pkg-$p" ] || continue
    for f in $(find "$work/pkg-$p" -type f); do
        file -b "$f" | grep -q '^ELF' || continue
        for lib in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
            where=$(find "$work"/pkg-* -name "$lib" | head -n 1)
            if [ -n "$where" ]; then
                from=$(echo "$where" | sed "s|^$work/pkg-\([^/]*\)/.*|\1|")
            else
                path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|x86_64/ { print $NF; exit }')
                [ -z "$path" ] && path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
                from=$(owner "$path")
            fi
            name="$p: ${f#"$work/pkg-$p"} needs $lib (package ${from:-unknown})"
            if [ -n "$from" ] && { [ "$from" = "$p" ] || in_depends "$p" "$from"; }; then
                ok "$name"
            else
                bad "$name, not in Depends: $(cat "$work/depends-$p")"
            fi
        done
    done
done

pc=$(find "$work/root" -name libpstats.pc | head -n 1)
if [ -z "$pc" ]; then
    bad "libpstats-dev holds libpstats.pc"
else
    for mod in $(sed -n 's/^Requires.private://p' "$pc" | tr ',' ' '); do
        from=$(owner "$(pkg-config --variable=pcfiledir "$mod")/$mod.pc")
        if [ -n "$from" ] && in_depends libpstats-dev "$from"; then
            ok "libpstats-dev depends on $from ($mod, for static linking)"
        else
            bad "libpstats-dev depends on ${from:-the owner of} $mod.pc: $(cat "$work/depends-libpstats-dev")"
        fi
    done
    for lib in $(sed -n 's/^Libs.private://p' "$pc"); do
        case $lib in -l*) ;; *) continue ;; esac
        file=$("$cc" -print-file-name="lib${lib#-l}.so")
        from=$(owner "$(readlink -f "$(dirname "$file")")/$(basename "$file")")
        if [ -n "$from" ] && in_depends libpstats-dev "$from"; then
            ok "libpstats-dev depends on $from ($lib, for static linking)"
        else
            bad "libpstats-dev depends on ${from:-the owner of} $file: $(cat "$work/depends-libpstats-dev")"
        fi
    done
fi
if grep -q "libpstats0 (= $version)" "$work/depends-libpstats-dev"; then
    ok "libpstats-dev depends on libpstats0 (= $version)"
else
    bad "libpstats-dev depends on libpstats0 (= $version): $(cat "$work/depends-libpstats-dev")"
fi

# Unpacked, not installed: the programs and a library user.
prefix=$work/root/usr
if [ "$("$prefix/bin/pstats2callgrind" --version 2>&1 | head -n 1)" = "pstats2callgrind $version" ] &&
    "$prefix/bin/pstats2callgrind" -o "$work/fib.callgrind" "$src/fixtures/fibonacci.prof" >/dev/null 2>&1 &&
    [ "$(head -n 1 "$work/fib.callgrind")" = "# callgrind format" ]; then
    ok "the unpacked pstats2callgrind runs"
else
    bad "the unpacked pstats2callgrind runs"
fi
for route in pkg-config cmake; do
    link=shared
    [ $route = cmake ] && link=static
    if sh "$src/test/consumer_check.sh" $route $link "$prefix" "$src" "$work/consumer-$route" \
        "$cc" "$@" >"$work/consumer.log" 2>&1; then
        ok "profile_summary built against the unpacked packages ($route, $link)"
    else
        bad "profile_summary built against the unpacked packages ($route, $link)"
        sed 's/^/#   /' "$work/consumer.log"
    fi
done

# The archive: the same files, under one top folder instead of /usr.
tgz=$(ls "$work/out/"*.tar.gz 2>/dev/null | head -n 1)
if [ -n "$tgz" ] && tar -xzf "$tgz" -C "$work/tgz"; then
    top=$(ls "$work/tgz")
    (cd "$work/tgz/$top" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort) >"$work/tgz-files"
    (cd "$work/root/usr" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort) >"$work/root-files"
    if cmp -s "$work/tgz-files" "$work/root-files" &&
        "$work/tgz/$top/bin/pstats2callgrind" --version >/dev/null 2>&1; then
        ok "$(basename "$tgz") holds what the .debs hold, and its programs run"
    else
        bad "$(basename "$tgz") holds what the .debs hold, and its programs run"
        diff "$work/root-files" "$work/tgz-files" | sed 's/^/#   /'
    fi
else
    bad "cpack made a .tar.gz"
fi
echo "$n checks, $fails failed"
[ $fails -eq 0 ]
