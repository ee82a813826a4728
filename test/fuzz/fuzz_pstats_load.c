/*
 * libFuzzer target: a hostile "profile" must never crash, hang or leak
 * libpstats, from loading to every report and writer.
 *
 * Properties checked on every input:
 *  - pstats_load_buffer succeeds or fails with an error that has a message
 *    (and, for broken marshal data, an offset inside the input);
 *  - a loaded model prints print_stats/print_callers/print_callees (sorted
 *    and unsorted, with a regex restriction), strip_dirs, converts to
 *    callgrind, and writes back as pstats;
 *  - the pstats file written back loads again, to as many functions, and
 *    writes back to the same bytes (the writer is deterministic);
 *  - merging the model with its reloaded copy succeeds.
 * The same entry point is replayed over the corpus by regression_driver.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "pstats/pstats.h"

/* Output is kept (for the pstats round trip) up to a cap, then counted. */
#define KEEP_CAP ((size_t)8 << 20)

typedef struct buf {
    unsigned char *p;
    size_t len, cap, total;
} buf;

static int sink(void *ctx, const void *p, size_t n)
{
    buf *b = ctx;
    b->total += n;
    if (b->len + n > KEEP_CAP)
        return 0;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        FUZZ_ASSERT(q != NULL);
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static void reports(pstats_stats *s)
{
    static const pstats_restriction limit[] = {
        {PSTATS_LIMIT_REGEX, 0, 0.0, "[a-z_]+\\("},
        {PSTATS_LIMIT_FRACTION, 0, 0.5, NULL},
    };
    static const char *const keys[] = {"cumulative", "name", "line"};
    buf out = {0};
    pstats_error err;
    FUZZ_ASSERT(pstats_print_stats(s, NULL, 0, sink, &out, &err) == 0);
    FUZZ_ASSERT(pstats_sort(s, keys, 3, &err) == 0);
    FUZZ_ASSERT(pstats_print_stats(s, limit, 2, sink, &out, &err) == 0);
    FUZZ_ASSERT(pstats_print_callers(s, limit, 1, sink, &out, &err) == 0);
    FUZZ_ASSERT(pstats_print_callees(s, NULL, 0, sink, &out, &err) == 0);
    pstats_callgrind_options cg = {0};
    const pstats_stats *parts[1] = {s};
    FUZZ_ASSERT(pstats_write_callgrind(parts, 1, &cg, sink, &out, &err) == 0);
    free(out.p);
}

static int has_code_keys(const pstats_stats *s)
{
    for (size_t i = 0; i < pstats_nkeys(s); i++) {
        pstats_func f;
        pstats_func_get(s, (uint32_t)i, &f);
        if (f.key_kind == PSTATS_KEY_CODE)
            return 1;
    }
    return 0;
}

/* Writes s as pstats; the written file must load back to as many functions
 * and write back to the same bytes. Keys holding code objects are written
 * with the code's name (docs/pstats.md), so two different code objects of
 * one name become one key: there only the reload is checked. Returns the
 * reloaded model. */
static pstats_stats *round_trip(pstats_stats *s)
{
    buf a = {0}, b = {0};
    pstats_error err;
    FUZZ_ASSERT(pstats_write_pstats(s, sink, &a, &err) == 0);
    if (a.total > a.len) { /* too big to keep: counted only */
        free(a.p);
        return NULL;
    }
    pstats_stats *t = pstats_new(NULL);
    FUZZ_ASSERT(t != NULL);
    FUZZ_ASSERT(pstats_load_buffer(t, a.p, a.len, "rewritten", -1, &err) == 0);
    FUZZ_ASSERT(pstats_write_pstats(t, sink, &b, &err) == 0);
    if (!has_code_keys(s)) {
        /* Functions, not keys: a hostile file can name a caller-only key
         * that ends up with no edge, and the writer drops such a key. */
        FUZZ_ASSERT(pstats_nfuncs(t) == pstats_nfuncs(s));
        FUZZ_ASSERT(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
    }
    free(a.p);
    free(b.p);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pstats_error err;
    pstats_stats *s = pstats_new(NULL);
    FUZZ_ASSERT(s != NULL);
    if (pstats_load_buffer(s, data, size, "fuzz", -1, &err) != 0) {
        FUZZ_ASSERT(err.code != PSTATS_OK && err.msg[0] != '\0');
        if (err.code == PSTATS_EMARSHAL && err.has_offset)
            FUZZ_ASSERT(err.offset <= size);
        pstats_free(s);
        return 0;
    }
    pstats_stats *t = round_trip(s);
    reports(s);
    if (t) {
        pstats_stats *others[1] = {t};
        FUZZ_ASSERT(pstats_add(s, others, 1, &err) == 0);
        pstats_free(t);
    }
    FUZZ_ASSERT(pstats_strip_dirs(s, &err) == 0);
    reports(s);
    pstats_free(s);
    return 0;
}
