/*
 * libFuzzer target: the reports (print_stats, print_callers, print_callees)
 * after sort_stats, restrictions, strip_dirs and add, as the CLI runs them.
 *
 * For every input that loads, operations chosen from a hash of the input:
 * up to three sort keys (names, prefixes, the old integer keys, bad keys),
 * up to three restrictions (counts, fractions, regular expressions, valid or
 * not), strip_dirs, and a merge with a second copy. Properties:
 *  - operations fail only as documented (a bad sort key: PSTATS_EUSAGE) and
 *    reports never fail;
 *  - deterministic: the same operations on a second model loaded from the
 *    same bytes, with every two-thread path forced (PS_THREADS_ALWAYS: the
 *    sort's halves, the rows in chunks of three), print the same text, and
 *    printing twice prints the same (the sort order, name widths, ranks and
 *    callee views are cached);
 *  - print_stats of a model loaded with PSTATS_LOAD_NO_EDGES (what the CLI
 *    does for --stats) prints the same as with the edges;
 *  - well-formed: the text ends with a newline, is UTF-8 for Python 3 data;
 *    the "List reduced from A to B" lines chain (A = the number of
 *    functions, then each from = the previous to); print_stats prints one
 *    row per listed function (when no name holds a newline); counts and
 *    fractions cut the list as Python's pstats does; the three reports
 *    print the same "Ordered by" and restriction lines.
 * The same entry point is replayed over the corpus by regression_driver.c
 * (ctest: reports_fuzz_corpus).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fuzz_assert.h"
#include "fuzz_util.h"
#include "pstats/pstats.h"
#include "pstats_internal.h" /* PS_THREADS_ALWAYS */

static const char *const sort_words[] = {
    "calls", "cumulative", "cumtime", "file", "filename", "module", "ncalls", "pcalls",
    "line", "name", "nfl", "stdname", "time", "tottime", "cumu", "tot", "std", "-1", "0",
    "1", "2", "cum", "nosuchkey", ""};
static const char *const patterns[] = {
    "fib", "py:[0-9]+\\(", "^<", "(", "[", "\\d", "\xc3\xa9|\xc3\xbc", ".*", "a{2,}",
    "(?i)FIB", "\\(", "built-in", "\\", "x*y*z*$"};
static const int64_t counts[] = {0, 1, 2, 5, -1, -3, 1000};
static const double fractions[] = {0.0, 0.1, 0.5, 0.99, 1.0, 1.5, -0.5};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

typedef struct plan {
    const char *keys[3];
    size_t nkeys;
    pstats_restriction r[3];
    size_t nr;
    int strip, add;
} plan;

static uint32_t take(uint32_t *h, uint32_t n)
{
    uint32_t v = *h % n;
    *h /= n;
    return v;
}

static void make_plan(plan *p, uint32_t h, uint32_t h2)
{
    memset(p, 0, sizeof *p);
    p->nkeys = take(&h, 4);
    for (size_t i = 0; i < p->nkeys; i++)
        p->keys[i] = sort_words[take(&h, NELEM(sort_words))];
    p->strip = (int)take(&h, 2);
    p->add = (int)take(&h, 2);
    p->nr = take(&h2, 4);
    for (size_t i = 0; i < p->nr; i++) {
        pstats_restriction *r = &p->r[i];
        r->kind = (pstats_restriction_kind)take(&h2, 3);
        if (r->kind == PSTATS_LIMIT_COUNT)
            r->count = counts[take(&h2, NELEM(counts))];
        else if (r->kind == PSTATS_LIMIT_FRACTION)
            r->fraction = fractions[take(&h2, NELEM(fractions))];
        else
            r->regex = patterns[take(&h2, NELEM(patterns))];
    }
}

/* Loads and runs the plan's operations; NULL when the data does not load. */
static pstats_stats *prepared(const uint8_t *data, size_t size, unsigned flags,
                              const plan *p)
{
    pstats_error err;
    pstats_stats *s = pstats_new(NULL);
    FUZZ_ASSERT(s != NULL);
    pstats_set_load_flags(s, flags);
    if (pstats_load_buffer(s, data, size, "fuzz", -1, &err) != 0) {
        pstats_free(s);
        return NULL;
    }
    if (p->add) {
        pstats_stats *t = pstats_new(NULL);
        FUZZ_ASSERT(t != NULL);
        pstats_set_load_flags(t, flags);
        FUZZ_ASSERT(pstats_load_buffer(t, data, size, "copy", -1, &err) == 0);
        FUZZ_ASSERT(pstats_add(s, &t, 1, &err) == 0);
        pstats_free(t);
    }
    if (p->strip)
        FUZZ_ASSERT(pstats_strip_dirs(s, &err) == 0);
    if (p->nkeys && pstats_sort(s, p->keys, p->nkeys, &err) != 0)
        FUZZ_ASSERT(err.code == PSTATS_EUSAGE && err.msg[0]);
    return s;
}

typedef struct texts {
    fuzz_buf stats, callers, callees;
} texts;

static void print_all(pstats_stats *s, const plan *p, texts *t)
{
    pstats_error err;
    memset(t, 0, sizeof *t);
    FUZZ_ASSERT(pstats_print_stats(s, p->r, p->nr, fuzz_buf_write, &t->stats, &err) == 0);
    FUZZ_ASSERT(pstats_print_callers(s, p->r, p->nr, fuzz_buf_write, &t->callers, &err) == 0);
    FUZZ_ASSERT(pstats_print_callees(s, p->r, p->nr, fuzz_buf_write, &t->callees, &err) == 0);
}

static void texts_free(texts *t)
{
    free(t->stats.p);
    free(t->callers.p);
    free(t->callees.p);
}

static int same_texts(const texts *a, const texts *b)
{
    return fuzz_buf_same(&a->stats, &b->stats) && fuzz_buf_same(&a->callers, &b->callers) &&
           fuzz_buf_same(&a->callees, &b->callees);
}

/* Whether the line at p (up to end) starts with one of the listing's
 * own heads; `first`: only those that open the listing. */
static int listing_head(const char *p, const char *end, int first)
{
    static const char *const heads[] = {"   Ordered by: ", "   Random listing order",
                                        "   List reduced from ", "   <Invalid regular"};
    for (size_t i = 0; i < (first ? 2 : NELEM(heads)); i++)
        if ((size_t)(end - p) > strlen(heads[i]) && memcmp(p, heads[i], strlen(heads[i])) == 0)
            return 1;
    return 0;
}

/* The listing's own lines ("   Ordered by" or "   Random listing order",
 * then "   List reduced" and "   <Invalid regular expression" lines): the
 * first such block of lines. (A function may be named "   Ordered by: x"
 * too: its rows come after the block. Names with a newline are left out
 * by the caller.) */
static void listing_lines(const fuzz_buf *b, fuzz_buf *out)
{
    if (b->len == 0)
        return;
    const char *p = (const char *)b->p, *stop = p + b->len;
    int in = 0;
    while (p < stop) {
        const char *end = memchr(p, '\n', (size_t)(stop - p));
        end = end ? end + 1 : stop;
        if (listing_head(p, end, !in)) {
            in = 1;
            fuzz_buf_write(out, p, (size_t)(end - p));
        } else if (in) {
            return;
        }
        p = end;
    }
}

/* The list's length after the restrictions, as print_stats says it, and
 * the chain of "List reduced from A to B" lines checked. */
static size_t listed(const fuzz_buf *lines, size_t nfuncs)
{
    size_t n = nfuncs;
    const char *p = (const char *)lines->p;
    for (; p && (p = strstr(p, "List reduced from ")) != NULL; p++) {
        unsigned long long from, to;
        FUZZ_ASSERT(sscanf(p, "List reduced from %llu to %llu", &from, &to) == 2);
        FUZZ_ASSERT(from == n && to < from);
        n = (size_t)to;
    }
    return n;
}

/* What counts and fractions alone leave of n functions (Python's
 * eval_print_amount); SIZE_MAX when a regex takes part. */
static size_t expected_count(const plan *p, size_t n)
{
    for (size_t i = 0; i < p->nr; i++) {
        const pstats_restriction *r = &p->r[i];
        if (r->kind == PSTATS_LIMIT_REGEX)
            return SIZE_MAX;
        if (r->kind == PSTATS_LIMIT_FRACTION && r->fraction >= 0.0 && r->fraction < 1.0)
            n = (size_t)((double)n * r->fraction + 0.5);
        else if (r->kind == PSTATS_LIMIT_COUNT && r->count >= 0 && (uint64_t)r->count < n)
            n = (size_t)r->count;
    }
    return n;
}

static int names_have_newline(const pstats_stats *s)
{
    char buf[4096];
    for (size_t i = 0; i < pstats_nfuncs(s); i++) {
        size_t n = pstats_func_label(s, (uint32_t)i, buf, sizeof buf);
        if (n >= sizeof buf || memchr(buf, '\n', n))
            return 1;
    }
    return 0;
}

/* Rows of print_stats: the lines after the column heading (Python 3.15's
 * SampledStats has its own), up to the blank line that ends the table. */
static size_t stats_rows(const fuzz_buf *b, int sampled)
{
    const char *head = sampled ? " nsamples  tottime persample cumtime persample "
                                 "filename:lineno(function)\n"
                               : "   ncalls  tottime  percall  cumtime  percall "
                                 "filename:lineno(function)\n";
    const char *p = b->len ? strstr((const char *)b->p, head) : NULL;
    const char *stop = (const char *)b->p + b->len;
    if (!p)
        return 0;
    size_t rows = 0;
    for (p += strlen(head); p < stop && *p != '\n'; rows++) {
        p = memchr(p, '\n', (size_t)(stop - p));
        FUZZ_ASSERT(p != NULL);
        p++;
    }
    return rows;
}

static void well_formed(const texts *t, const pstats_stats *s, const plan *p)
{
    const fuzz_buf *all[3] = {&t->stats, &t->callers, &t->callees};
    fuzz_buf lines[3];
    memset(lines, 0, sizeof lines);
    for (int i = 0; i < 3; i++) {
        size_t bad;
        FUZZ_ASSERT(all[i]->len == 0 || all[i]->p[all[i]->len - 1] == '\n');
        if (!pstats_is_py2(s))
            FUZZ_ASSERT(cm_utf8_valid(all[i]->p, all[i]->len, &bad));
        listing_lines(all[i], &lines[i]);
    }
    /* (a name with a newline can fake any line: only the above then) */
    if (!names_have_newline(s)) {
        /* an emptied list prints no listing lines at all */
        size_t n = lines[0].len ? listed(&lines[0], pstats_nfuncs(s)) : 0;
        size_t want = expected_count(p, pstats_nfuncs(s));
        FUZZ_ASSERT(want == SIZE_MAX || want == n);
        if (n > 0) {
            FUZZ_ASSERT(fuzz_buf_same(&lines[0], &lines[1]) &&
                        fuzz_buf_same(&lines[0], &lines[2]));
            FUZZ_ASSERT(stats_rows(&t->stats, pstats_is_sampled(s)) == n);
        }
    }
    for (int i = 0; i < 3; i++)
        free(lines[i].p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    plan p;
    uint32_t h = fuzz_hash(data, size);
    make_plan(&p, h, h * 2654435761u ^ (uint32_t)size);
    pstats_stats *a = prepared(data, size, 0, &p);
    if (!a)
        return 0;
    pstats_stats *b = prepared(data, size, PS_THREADS_ALWAYS, &p);
    pstats_stats *c = prepared(data, size, PSTATS_LOAD_NO_EDGES, &p);
    FUZZ_ASSERT(b && c);
    texts ta, ta2, tb;
    print_all(a, &p, &ta);
    print_all(a, &p, &ta2);
    print_all(b, &p, &tb);
    FUZZ_ASSERT(same_texts(&ta, &ta2) && same_texts(&ta, &tb));
    fuzz_buf nc = {0};
    pstats_error err;
    FUZZ_ASSERT(pstats_print_stats(c, p.r, p.nr, fuzz_buf_write, &nc, &err) == 0);
    FUZZ_ASSERT(fuzz_buf_same(&nc, &ta.stats));
    well_formed(&ta, a, &p);
    free(nc.p);
    texts_free(&ta);
    texts_free(&ta2);
    texts_free(&tb);
    pstats_free(a);
    pstats_free(b);
    pstats_free(c);
    return 0;
}
