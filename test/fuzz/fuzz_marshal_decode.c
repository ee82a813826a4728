/*
 * libFuzzer target: marshal decoding must never crash, hang or leak, and
 * whatever decodes must survive a round trip.
 *
 * Properties checked on every input:
 *  - the token reader runs to the end or to an error; its error is sticky;
 *    pymarshal_reader_skip after a header and pymarshal_reader_replay of
 *    every REF token (walked to its end) behave;
 *  - pymarshal_load succeeds exactly when the token reader does;
 *  - if it decodes, encode (version 4) -> decode gives an equal value, and
 *    so does version 2 when the value has no cycle (output capped so that
 *    shared sub-trees written at each use cannot grow without bound);
 *  - with an allocator failing at a call the input picks, load and encode
 *    fail cleanly with PYMARSHAL_ENOMEM and leak nothing.
 * The same entry point is replayed over the corpus by regression_driver.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "pstats/marshal.h"

#define OUT_CAP ((size_t)4 << 20)

typedef struct out {
    unsigned char *p;
    size_t len, cap;
} out;

static int sink(void *ctx, const void *p, size_t n)
{
    out *o = ctx;
    if (n > OUT_CAP - o->len)
        return -1;
    if (o->len + n > o->cap) {
        size_t cap = 2 * (o->len + n);
        unsigned char *q = realloc(o->p, cap);
        if (!q)
            return -1;
        o->p = q;
        o->cap = cap;
    }
    memcpy(o->p + o->len, p, n);
    o->len += n;
    return 0;
}

/* Walk a replay of `slot` to its end; it may fail (a container still open
 * when its reference was met), never crash. */
static void replay(pymarshal_reader *r, int64_t slot, size_t size)
{
    pymarshal_error err;
    pymarshal_reader *sub = pymarshal_reader_replay(r, slot, &err);
    if (!sub) {
        FUZZ_ASSERT(err.code != PYMARSHAL_OK);
        return;
    }
    pymarshal_token t;
    size_t n = 0;
    while (n++ < 4096 && pymarshal_reader_next(sub, &t) == 1)
        FUZZ_ASSERT(t.offset < size);
    pymarshal_reader_free(sub);
}

static int run_tokens(const uint8_t *data, size_t size)
{
    pymarshal_error err;
    pymarshal_reader *r = pymarshal_reader_new(data, size, NULL, &err);
    FUZZ_ASSERT(r);
    pymarshal_token t;
    int rc;
    size_t n = 0, replays = 0;
    while ((rc = pymarshal_reader_next(r, &t)) == 1) {
        FUZZ_ASSERT(t.offset < size);
        FUZZ_ASSERT(pymarshal_reader_offset(r) <= size);
        if (t.kind == PYMARSHAL_REF && replays++ < 16)
            replay(r, t.ref_target, size);
        /* Skip every seventh container header: skipping must validate too. */
        if (++n % 7 == 0 && pymarshal_reader_skip(r) < 0) {
            rc = -1;
            break;
        }
    }
    if (rc < 0) {
        const pymarshal_error *e = pymarshal_reader_error(r);
        FUZZ_ASSERT(e->code != PYMARSHAL_OK);
        FUZZ_ASSERT(e->offset <= size);
        FUZZ_ASSERT(memchr(e->msg, 0, sizeof e->msg) != NULL);
        FUZZ_ASSERT(pymarshal_reader_next(r, &t) == -1); /* sticky */
    }
    pymarshal_reader_free(r);
    return rc;
}

static void round_trip(const pymarshal_value *root, int version)
{
    out o = {0};
    pymarshal_error err;
    int rc = pymarshal_encode(root, version, NULL, sink, &o, &err);
    if (rc < 0) {
        /* Only version 2 may refuse (a cycle, or output over the cap). */
        FUZZ_ASSERT(version == 2);
        FUZZ_ASSERT(err.code == PYMARSHAL_EVALUE || err.code == PYMARSHAL_EIO);
        free(o.p);
        return;
    }
    pymarshal_doc *again = pymarshal_load(o.p, o.len, NULL, &err);
    FUZZ_ASSERT(again);
    FUZZ_ASSERT(pymarshal_doc_end(again) == o.len);
    FUZZ_ASSERT(pymarshal_value_equal(root, pymarshal_doc_root(again), NULL) == 1);
    pymarshal_doc_free(again);
    free(o.p);
}

/* An allocator that fails from its n-th call on and counts live blocks. */
typedef struct failing {
    long left, live;
} failing;

static void *f_malloc(void *ctx, size_t n)
{
    failing *f = ctx;
    void *p = f->left-- > 0 ? malloc(n) : NULL;
    f->live += p != NULL;
    return p;
}

static void *f_realloc(void *ctx, void *p, size_t n)
{
    failing *f = ctx;
    void *q = f->left-- > 0 ? realloc(p, n) : NULL;
    f->live += q != NULL && p == NULL;
    return q;
}

static void f_free(void *ctx, void *p)
{
    failing *f = ctx;
    f->live -= p != NULL;
    free(p);
}

/* Out of memory at an allocation the input picks: a clean ENOMEM (or
 * success), nothing leaked. */
static void out_of_memory(const uint8_t *data, size_t size)
{
    failing f = {size ? data[size - 1] % 24 : 0, 0};
    pymarshal_allocator a = {f_malloc, f_realloc, f_free, &f};
    pymarshal_options opts = {&a, 0, PYMARSHAL_PY_AUTO, 0};
    pymarshal_error err;
    pymarshal_doc *doc = pymarshal_load(data, size, &opts, &err);
    if (doc) {
        out o = {0};
        f.left = size > 1 ? data[size - 2] % 8 : 0;
        if (pymarshal_encode(pymarshal_doc_root(doc), 4, &a, sink, &o, &err) < 0)
            FUZZ_ASSERT(err.code == PYMARSHAL_ENOMEM);
        free(o.p);
        pymarshal_doc_free(doc);
    } else {
        FUZZ_ASSERT(err.code == PYMARSHAL_ENOMEM); /* it loads with memory */
    }
    FUZZ_ASSERT(f.live == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int tokens_ok = run_tokens(data, size) == 0;
    pymarshal_error err;
    pymarshal_doc *doc = pymarshal_load(data, size, NULL, &err);
    /* Skipping in run_tokens sees the same bytes: same verdict. */
    FUZZ_ASSERT(!doc == !tokens_ok);
    if (!doc)
        return 0;
    out_of_memory(data, size);
    FUZZ_ASSERT(pymarshal_doc_end(doc) <= size);
    round_trip(pymarshal_doc_root(doc), 4);
    round_trip(pymarshal_doc_root(doc), 2);
    pymarshal_doc_free(doc);
    return 0;
}
