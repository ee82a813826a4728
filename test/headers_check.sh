#!/bin/sh
# Each public header compiles alone, as C99 and as C++11, with every
# warning an error:
#   headers_check.sh SOURCE_DIR BUILD_DIR c=COMPILER... c++=COMPILER...
# The headers are those of include/pstats/ and the generated
# pstats/version.h.
set -u
src=$1 build=$2
shift 2
fails=0 n=0
case " $* " in
*" c++="*) ;;
*) echo "no C++ compiler given (g++ or clang++): the headers must compile as C++ too"; exit 1 ;;
esac
headers=$(cd "$src/include/pstats" && ls *.h)
[ -f "$build/include/pstats/version.h" ] && headers="$headers version.h"
for arg in "$@"; do
    lang=${arg%%=*} cc=${arg#*=}
    case $lang in
    c++) std=c++11 warn= ;;
    *) std=c99 warn=-Wstrict-prototypes ;;
    esac
    for h in $headers; do
        n=$((n + 1))
        # (a declaration of our own: ISO C wants one in a translation unit)
        if printf '#include <pstats/%s>\n#include <pstats/%s>\ntypedef int check;\n' "$h" "$h" |
            "$cc" -x $lang -std=$std -pedantic-errors -Wall -Wextra $warn -Werror -fsyntax-only \
                -I"$src/include" -I"$build/include" - >"$build/headers_check.log" 2>&1; then
            echo "ok $n - $h alone, twice, as $std ($cc)"
        else
            echo "not ok $n - $h alone, twice, as $std ($cc)"
            sed 's/^/#   /' "$build/headers_check.log"
            fails=$((fails + 1))
        fi
    done
done
rm -f "$build/headers_check.log"
echo "$n checks, $fails failed"
[ $n -gt 0 ] && [ $fails -eq 0 ]
