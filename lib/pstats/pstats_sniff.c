/*
 * Naming the files people feed to a pstats reader by mistake, decided
 * from the first bytes (of the decompressed data, when the input was
 * compressed), before any marshal decoding: .pyc files, pickles, Python 2
 * hotshot logs, gperftools and perf binary profiles, Go/pprof protocol
 * buffers, callgrind, gprof and GHC output, pprof text reports, R's
 * Rprof output, memory_profiler's mprof data, `perf script` output,
 * folded stacks, Chrome traces and CPU profiles, speedscope JSON,
 * captured pstats reports. Each name comes with the tool that reads the
 * file (docs/pstats.md lists them with the bytes that tell them).
 */
#include <string.h>

#include "pstats_internal.h"
#include "pstats_unzip.h"

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

/* ------------------------------------------------------ protocol buffers */

/* A protobuf varint at p[*i..len), consumed; 0 when there is none. */
static int varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *i < len; shift += 7) {
        uint8_t b = p[(*i)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 1;
    }
    return 0;
}

/* A pprof profile (perftools.profiles.Profile) as protobuf: a run of
 * fields numbered 1..14, each of the wire type the schema gives it (Go
 * writes time_nanos, field 9, first; pprof -proto sample_type, field 1). */
static int looks_pprof(const uint8_t *p, size_t len)
{
    /* the wire type of fields 1..14: 2 length-delimited, 0 varint; 13
     * (comment) may be either (packed or not) */
    static const int8_t wire_of[15] = {-1, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2, 0, 3, 0};
    size_t i = 0;
    int fields = 0;
    while (i < len && fields < 8) {
        uint64_t tag, v;
        if (!varint(p, len, &i, &tag))
            return fields >= 3;
        unsigned wire = (unsigned)(tag & 7);
        uint64_t field = tag >> 3;
        if (field < 1 || field > 14 || (wire != 0 && wire != 2) ||
            (wire_of[field] != 3 && wire_of[field] != (int)wire))
            return 0;
        if (!varint(p, len, &i, &v))
            return fields >= 3;
        if (wire == 2) {
            if (v > len - i)
                return fields >= 3; /* cut by the sniffer's window */
            i += (size_t)v;
        }
        fields++;
    }
    return fields >= 3;
}

/* ------------------------------------------------------------- text */

/* The line that starts at p[*at..len): its length (without the newline);
 * *at moves to the next line. */
static size_t line_at(const uint8_t *p, size_t len, size_t *at, const uint8_t **line)
{
    size_t i = *at;
    *line = p + i;
    while (i < len && p[i] != '\n')
        i++;
    size_t n = i - *at;
    *at = i < len ? i + 1 : len;
    return n;
}

/* `perf script`: a sample header with a timestamp "SEC.USEC:" (6 digits),
 * then stack lines, a tab or spaces before a hex address. */
static int looks_perf_script(const uint8_t *p, size_t len)
{
    size_t at = 0;
    const uint8_t *l;
    size_t n = line_at(p, len, &at, &l);
    int stamp = 0;
    for (size_t i = 1; i + 8 <= n && !stamp; i++) {
        if (l[i] != '.' || l[i - 1] < '0' || l[i - 1] > '9')
            continue;
        size_t k = 1;
        while (k <= 6 && i + k < n && l[i + k] >= '0' && l[i + k] <= '9')
            k++;
        stamp = k == 7 && i + 7 < n && l[i + 7] == ':';
    }
    if (!stamp)
        return 0;
    n = line_at(p, len, &at, &l);
    size_t i = 0;
    while (i < n && (l[i] == '\t' || l[i] == ' '))
        i++;
    size_t hex = i;
    while (i < n && ((l[i] >= '0' && l[i] <= '9') || (l[i] >= 'a' && l[i] <= 'f')))
        i++;
    return hex > 0 && i - hex >= 4 && i < n && l[i] == ' ';
}

/* Folded stacks: "frame;frame;frame COUNT" lines. */
static int looks_folded(const uint8_t *p, size_t len)
{
    size_t at = 0;
    const uint8_t *l;
    size_t n = line_at(p, len, &at, &l), i = n;
    while (i > 0 && l[i - 1] >= '0' && l[i - 1] <= '9')
        i--;
    return i < n && i > 1 && l[i - 1] == ' ' && memchr(l, ';', i) != NULL;
}

static const char *sniff_json(const uint8_t *p, size_t len)
{
    size_t head = len < 65536 ? len : 65536;
    if (contains(p, head, "speedscope.app/file-format-schema.json"))
        return "a speedscope profile (JSON), not a pstats file: open it in speedscope";
    if (contains(p, head, "\"traceEvents\"") ||
        (p[0] == '[' && contains(p, head, "\"ph\":") && contains(p, head, "\"ts\":")))
        return "a Chrome trace (Trace Event Format JSON, as written by viztracer, py-spy, "
               "Chrome), not a pstats file: open it in Perfetto (ui.perfetto.dev) or "
               "chrome://tracing";
    if (contains(p, head, "\"nodes\"") && contains(p, head, "\"callFrame\""))
        return "a Chrome DevTools CPU profile (.cpuprofile), not a pstats file: open it in "
               "Chrome DevTools or speedscope";
    return "JSON text (a Chrome trace or speedscope profile?), not a pstats file";
}

static const char *sniff_text(const uint8_t *p, size_t len)
{
    size_t head = len < 65536 ? len : 65536;
    static const char *const cg[] = {"# callgrind format", "version:", "creator:", "pid:",
                                     "cmd:", "part:", "desc:", "event:", "events:",
                                     "positions:", "summary:", "totals:", "fl=", "fn=", "ob="};
    for (size_t i = 0; i < sizeof cg / sizeof cg[0]; i++)
        if (starts(p, len, cg[i]))
            return "a callgrind file, not a pstats file: open it in KCachegrind or "
                   "QCacheGrind directly";
    if (contains(p, len < 256 ? len : 256, "Flat profile:"))
        return "a gprof flat profile, not a pstats file: it is gprof's report, text to read";
    if (contains(p, len < 512 ? len : 512, "Time and Allocation Profiling Report"))
        return "a GHC (Haskell) profiling report, not a pstats file: profiteur or "
               "ghc-prof-flamegraph read it";
    if (contains(p, head, "function calls") &&
        (contains(p, head, "Ordered by:") || contains(p, head, "Random listing order") ||
         contains(p, head, "ncalls  tottime")))
        return "a text report of pstats (stdout captured), not a profile: run the profiler "
               "with -o FILE (python -m cProfile -o FILE) to get one";
    if ((starts(p, len, "Total: ") && contains(p, len < 128 ? len : 128, " samples")) ||
        contains(p, head, "Showing nodes accounting for") ||
        contains(p, head, "flat  flat%   sum%"))
        return "a pprof text report (gperftools' pprof or go tool pprof -text), not a "
               "profile: pprof writes callgrind itself (pprof -callgrind)";
    if (contains(p, len < 64 ? len : 64, "sample.interval="))
        return "R's Rprof output, not a pstats file: summarise it in R with summaryRprof() "
               "(or view it with profvis)";
    if (starts(p, len, "CMDLINE ") || (starts(p, len, "MEM ") && contains(p, head, "\nMEM ")))
        return "memory_profiler's mprof data (mprofile_*.dat), not a pstats file: plot it "
               "with mprof plot";
    if (looks_perf_script(p, head))
        return "perf script output, not a pstats file: fold it with FlameGraph's "
               "stackcollapse-perf.pl, or open it in speedscope or the Firefox Profiler";
    if (looks_folded(p, head))
        return "folded stacks (FlameGraph's collapsed format), not a pstats file: draw it "
               "with flamegraph.pl or open it in speedscope";
    if (p[0] == '{' || p[0] == '[') {
        size_t i = 1;
        while (i < len && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
            i++;
        if (i < len && (p[i] == '"' || p[i] == '{' || p[i] == '[' || p[i] == '}' || p[i] == ']'))
            return sniff_json(p, len);
        if (p[0] == '{')
            return NULL; /* a marshal dict that happens to be printable */
    }
    return "a text file, not a pstats file (pstats files are binary marshal data)";
}

const char *ps_sniff(const uint8_t *p, size_t len)
{
    if (len == 0)
        return "an empty file";
    if (len >= 16 && p[2] == '\r' && p[3] == '\n' &&
        ((len > 16 && (p[16] & 0x7f) == 'c') || (p[12] & 0x7f) == 'c' || (p[8] & 0x7f) == 'c'))
        return "a compiled Python file (.pyc): a header, then a marshalled code object";
    if (len >= 2 && p[0] == 0x80 && p[1] >= 2 && p[1] <= 5)
        return "a Python pickle (line_profiler .lprof?), not a pstats file: "
               "python -m line_profiler FILE reads .lprof files";
    if (len >= 2 && p[0] == 0x13 && contains(p, len < 64 ? len : 64, "hotshot"))
        return "a Python 2 hotshot log, not a pstats file: Python 2's "
               "hotshot.stats.load() turns it into pstats";
    if ((len >= 24 && le64(p) == 0 && le64(p + 8) == 3 && le64(p + 16) == 0) ||
        (len >= 12 && le32(p) == 0 && le32(p + 4) == 3 && le32(p + 8) == 0))
        return "a gperftools CPU profile, not a pstats file: pprof reads it "
               "(pprof -callgrind PROGRAM FILE writes callgrind)";
    if (starts(p, len, "PERFILE2"))
        return "a perf.data file (Linux perf), not a pstats file: read it with perf report, "
               "or perf script for text";
    switch (ps_unzip_kind(p, len)) {
    case PS_Z_GZIP: return "gzip data again (compressed twice?): decompress it first";
    case PS_Z_ZSTD: return "zstd data again (compressed twice?): decompress it first";
    case PS_Z_XZ: return "xz data again (compressed twice?): decompress it first";
    case PS_Z_BZIP2: return "bzip2 data again (compressed twice?): decompress it first";
    default: break;
    }
    if (looks_pprof(p, len < 65536 ? len : 65536))
        return "a protocol buffer, most likely a pprof profile (Go's runtime/pprof, "
               "pprof -proto), not a pstats file: read it with go tool pprof "
               "(pprof -callgrind writes callgrind)";
    if (!looks_text(p, len))
        return NULL;
    return sniff_text(p, len);
}
