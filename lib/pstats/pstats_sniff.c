/*
 * Naming the files people feed to a pstats reader by mistake: .pyc files,
 * callgrind and gprof output, captured text reports, pickles, hotshot and
 * gperftools profiles... decided from the first bytes, before any marshal
 * decoding.
 */
#include <string.h>

#include "pstats_internal.h"

static int starts(const uint8_t *p, size_t len, const char *z)
{
    size_t n = strlen(z);
    return len >= n && memcmp(p, z, n) == 0;
}

static int contains(const uint8_t *p, size_t len, const char *z)
{
    size_t n = strlen(z);
    if (n == 0 || len < n)
        return 0;
    for (size_t i = 0; i + n <= len; i++)
        if (p[i] == (uint8_t)z[0] && memcmp(p + i, z, n) == 0)
            return 1;
    return 0;
}

/* Printable text (valid UTF-8, no control bytes but whitespace) in the
 * first kilobyte; a sequence cut by that limit is accepted. */
static int looks_text(const uint8_t *p, size_t len)
{
    size_t n = len < 1024 ? len : 1024;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '\n' || c == '\r' || c == '\t' || c == '\f' || (c >= 0x20 && c < 0x7f))
            continue;
        size_t k = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2
                 : c >= 0xF0 && c <= 0xF4 ? 3 : 0;
        if (k == 0)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n)
                return i + j >= len ? 0 : 1;
            if ((p[i + j] & 0xC0) != 0x80)
                return 0;
        }
        i += k;
    }
    return 1;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

const char *ps_sniff(const uint8_t *p, size_t len)
{
    if (len == 0)
        return "an empty file";
    if (len >= 16 && p[2] == '\r' && p[3] == '\n' &&
        ((len > 16 && (p[16] & 0x7f) == 'c') || (p[12] & 0x7f) == 'c' || (p[8] & 0x7f) == 'c'))
        return "a compiled Python file (.pyc): a header, then a marshalled code object";
    if (len >= 2 && p[0] == 0x80 && p[1] >= 2 && p[1] <= 5)
        return "a Python pickle (line_profiler .lprof?), not a pstats file";
    if (len >= 2 && p[0] == 0x13 && contains(p, len < 64 ? len : 64, "hotshot"))
        return "a Python 2 hotshot log, not a pstats file";
    if (len >= 24 && le64(p) == 0 && le64(p + 8) == 3 && le64(p + 16) == 0)
        return "a gperftools CPU profile, not a pstats file";
    if (len >= 12 && le32(p) == 0 && le32(p + 4) == 3 && le32(p + 8) == 0)
        return "a gperftools CPU profile, not a pstats file";
    if (!looks_text(p, len))
        return NULL;
    size_t head = len < 65536 ? len : 65536;
    static const char *const cg[] = {"# callgrind format", "version:", "creator:", "pid:",
                                     "cmd:", "part:", "desc:", "event:", "events:",
                                     "positions:", "summary:", "totals:", "fl=", "fn=", "ob="};
    for (size_t i = 0; i < sizeof cg / sizeof cg[0]; i++)
        if (starts(p, len, cg[i]))
            return "a callgrind file, not a pstats file";
    if (contains(p, len < 256 ? len : 256, "Flat profile:"))
        return "a gprof flat profile, not a pstats file";
    if (contains(p, len < 512 ? len : 512, "Time and Allocation Profiling Report"))
        return "a GHC (Haskell) profiling report, not a pstats file";
    if (contains(p, head, "function calls") &&
        (contains(p, head, "Ordered by:") || contains(p, head, "Random listing order") ||
         contains(p, head, "ncalls  tottime")))
        return "a text report of pstats (stdout captured), not a profile";
    if (p[0] == '{' || p[0] == '[') {
        size_t i = 1;
        while (i < len && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
            i++;
        if (i < len && (p[i] == '"' || p[i] == '{' || p[i] == '[' || p[i] == '}' || p[i] == ']'))
            return "JSON text (a Chrome trace or speedscope profile?), not a pstats file";
        if (p[0] == '{')
            return NULL; /* a marshal dict that happens to be printable */
    }
    return "a text file, not a pstats file (pstats files are binary marshal data)";
}
