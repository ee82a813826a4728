/*
 * libFuzzer target: the callgrind writer's output, read back the way the
 * readers read it, says what docs/callgrind.md promises.
 *
 * For every input that loads as a pstats profile, the model is written as
 * callgrind (one part, and two parts with the second one strip_dirs'd, in
 * a unit and with or without the calls event chosen from the input), then
 * parsed line by line. Properties:
 *  - every line ends with a newline, names are valid UTF-8 without NUL or
 *    CR, `calls=` is never 0;
 *  - summary = the sum of the self costs written (saturating, as the
 *    writer sums);
 *  - names are unique: one name per fn id, one fn id per name, across
 *    parts;
 *  - one part: block k is model key k ("fn=(k+2)"; the pseudo-function is
 *    1, the pseudo-caller [spontaneous calls] has a block of its own); its
 *    self cost is round(tottime);
 *    self + outgoing calls <= max(tottime, cumtime) (rounded); and
 *    KCachegrind's Incl. (for a called function the sum of its incoming
 *    calls, self-recursion left out, give or take one unit per call line
 *    for the rounding of its callers' rows; for an uncalled one self +
 *    outgoing calls) <= max(tottime, cumtime). Keys named only as callers have no
 *    times of their own: their self cost is 0 and their calls carry what
 *    their callees' times give them (no bound to check);
 *  - the two-thread paths (forced with PS_THREADS_ALWAYS, in chunks of a
 *    few functions) write the same bytes as the one-thread paths.
 * The same entry point is replayed over the corpus by regression_driver.c
 * (ctest: callgrind_fuzz_corpus).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callgrind_int.h"
#include "callgrind_model.h" /* pstats_cg_units */
#include "fuzz_assert.h"
#include "fuzz_util.h"
#include "pstats_internal.h"

typedef struct cg_fn {
    const char *name;    /* into the output; NULL until named */
    size_t name_len;
    uint64_t self, out_all, out_other, in_other, ncalled;
    uint64_t in_lines;   /* call lines into it from other functions */
    int blocks;          /* blocks of this id in the current part */
} cg_fn;

typedef struct cg_read {
    cg_fn *fn;           /* by fn id (1: the pseudo-function) */
    size_t nfn;
    uint64_t summary, self_sum;
    int have_summary;
    size_t nblocks;      /* in part 1, in order */
    uint32_t *block_id;
} cg_read;

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t number(const char **p, const char *end)
{
    const char *q = *p;
    uint64_t v = 0;
    FUZZ_ASSERT(q < end && *q >= '0' && *q <= '9');
    for (; q < end && *q >= '0' && *q <= '9'; q++) {
        uint64_t d = (uint64_t)(*q - '0');
        FUZZ_ASSERT(v <= (UINT64_MAX - d) / 10); /* (a saturated sum is 2^64 - 1) */
        v = v * 10 + d;
    }
    *p = q;
    return v;
}

/* "(N)[ name]" after "fn=" or "cfn=": the id, its name checked unique. */
static uint32_t fn_ref(cg_read *r, const char *p, const char *end)
{
    FUZZ_ASSERT(p < end && *p == '(');
    p++;
    uint64_t id = number(&p, end);
    FUZZ_ASSERT(p < end && *p == ')' && id < r->nfn);
    p++;
    cg_fn *f = &r->fn[id];
    if (p < end) {
        FUZZ_ASSERT(*p == ' ');
        p++;
        size_t n = (size_t)(end - p);
        size_t bad;
        FUZZ_ASSERT(cm_utf8_valid((const uint8_t *)p, n, &bad));
        FUZZ_ASSERT(memchr(p, '\r', n) == NULL && memchr(p, '\0', n) == NULL);
        if (f->name) /* named again (a new part): the same name */
            FUZZ_ASSERT(f->name_len == n && memcmp(f->name, p, n) == 0);
        for (size_t k = 0; k < r->nfn && !f->name; k++)
            FUZZ_ASSERT(!r->fn[k].name || r->fn[k].name_len != n ||
                        memcmp(r->fn[k].name, p, n) != 0);
        f->name = p;
        f->name_len = n;
    } else {
        FUZZ_ASSERT(f->name != NULL); /* used before it was named */
    }
    return (uint32_t)id;
}

/* The pseudo-caller of what no recorded call accounts for (a function of
 * no key; its name is unique, so no key takes it). */
static int is_root(const cg_fn *f)
{
    return f->name_len == sizeof CG_ROOT_NAME - 1 &&
           memcmp(f->name, CG_ROOT_NAME, f->name_len) == 0;
}

/* The first number after the position of a cost line. */
static uint64_t cost_of(const char *p, const char *end)
{
    number(&p, end);
    FUZZ_ASSERT(p < end && *p == ' ');
    p++;
    return number(&p, end);
}

static void parse(cg_read *r, const char *text, size_t len)
{
    const char *p = text, *stop = text + len;
    uint32_t cur = UINT32_MAX, callee = UINT32_MAX;
    int part = 1, want_call_cost = 0, want_self = 0;
    FUZZ_ASSERT(len > 0 && text[len - 1] == '\n');
    while (p < stop) {
        const char *end = memchr(p, '\n', (size_t)(stop - p));
        FUZZ_ASSERT(end != NULL);
        size_t n = (size_t)(end - p);
        if (n > 9 && memcmp(p, "summary: ", 9) == 0) {
            const char *q = p + 9;
            r->summary = number(&q, end);
            r->have_summary = 1;
        } else if (n > 6 && memcmp(p, "part: ", 6) == 0) {
            const char *q = p + 6;
            part = (int)number(&q, end);
            for (size_t k = 0; k < r->nfn; k++)
                r->fn[k].blocks = 0;
        } else if (n > 3 && memcmp(p, "fn=", 3) == 0) {
            FUZZ_ASSERT(!want_self && !want_call_cost);
            cur = fn_ref(r, p + 3, end);
            FUZZ_ASSERT(++r->fn[cur].blocks == 1); /* one block per function */
            if (part == 1 && cur != 1 && !is_root(&r->fn[cur]))
                r->block_id[r->nblocks++] = cur;
            want_self = 1;
        } else if (n > 4 && memcmp(p, "cfn=", 4) == 0) {
            callee = fn_ref(r, p + 4, end);
        } else if (n > 6 && memcmp(p, "calls=", 6) == 0) {
            const char *q = p + 6;
            FUZZ_ASSERT(cur != UINT32_MAX && callee != UINT32_MAX);
            uint64_t count = number(&q, end);
            FUZZ_ASSERT(count > 0);
            if (part == 1)
                r->fn[callee].ncalled = sat_add(r->fn[callee].ncalled, count);
            want_call_cost = 1;
        } else if (n > 0 && *p >= '0' && *p <= '9') {
            uint64_t c = cost_of(p, end);
            FUZZ_ASSERT(cur != UINT32_MAX && (want_self || want_call_cost));
            cg_fn *f = &r->fn[cur];
            if (want_self) {
                r->self_sum = sat_add(r->self_sum, c);
                if (part == 1)
                    f->self = c;
            } else if (part == 1) {
                f->out_all = sat_add(f->out_all, c);
                if (callee != cur) {
                    f->out_other = sat_add(f->out_other, c);
                    r->fn[callee].in_other = sat_add(r->fn[callee].in_other, c);
                    r->fn[callee].in_lines++;
                }
            }
            want_self = want_call_cost = 0;
        }
        p = end + 1;
    }
    FUZZ_ASSERT(!want_self && !want_call_cost && r->have_summary);
}

/* One part: block k is key k, and no function shows more than it had. */
static void check_costs(const cg_read *r, const pstats_stats *s, double scale)
{
    size_t nk = pstats_nkeys(s);
    FUZZ_ASSERT(r->nblocks == nk);
    for (size_t k = 0; k < nk; k++) {
        FUZZ_ASSERT(r->block_id[k] == k + 2);
        const cg_fn *f = &r->fn[k + 2];
        pstats_func fn;
        pstats_func_get(s, (uint32_t)k, &fn);
        uint64_t tt = pstats_cg_units(fn.tt, scale), ct = pstats_cg_units(fn.ct, scale);
        uint64_t most = tt > ct ? tt : ct;
        FUZZ_ASSERT(f->self == tt);
        if (!fn.in_stats)
            continue;
        FUZZ_ASSERT(sat_add(f->self, f->out_all) <= most);
        uint64_t incl = f->ncalled ? f->in_other : sat_add(f->self, f->out_other);
        /* each call's cost is its caller's row split by cumulative rounding:
         * within one unit of its share, so a callee's incoming sum within one
         * unit per incoming call line of what the plan gave it */
        FUZZ_ASSERT(incl <= (f->ncalled ? sat_add(most, f->in_lines) : most));
    }
}

static void check(const fuzz_buf *out, pstats_stats *const *parts, size_t nparts, double scale)
{
    const pstats_stats *s = parts[0];
    cg_read r;
    memset(&r, 0, sizeof r);
    /* the writer's fn ids: (1) the pseudo-function, (2) on the functions of
     * all parts (their keys, at most), then [spontaneous calls] */
    r.nfn = 4;
    for (size_t p = 0; p < nparts; p++)
        r.nfn += pstats_nkeys(parts[p]);
    r.fn = calloc(r.nfn, sizeof *r.fn);
    r.block_id = calloc(r.nfn, sizeof *r.block_id);
    FUZZ_ASSERT(r.fn && r.block_id);
    parse(&r, (const char *)out->p, out->len);
    FUZZ_ASSERT(r.summary == r.self_sum);
    if (nparts == 1)
        check_costs(&r, s, scale);
    free(r.fn);
    free(r.block_id);
}

/* Writes parts with the one-thread and the forced two-thread paths: the
 * same bytes, which are checked. */
static void write_both(pstats_stats *const *parts, size_t nparts,
                       const pstats_callgrind_options *o, double scale)
{
    fuzz_buf one = {0}, two = {0};
    pstats_error err;
    int rc = pstats_write_callgrind((const pstats_stats *const *)parts, nparts, o,
                                    fuzz_buf_write, &one, &err);
    FUZZ_ASSERT(rc == 0);
    for (size_t p = 0; p < nparts; p++)
        pstats_set_load_flags(parts[p], PS_THREADS_ALWAYS);
    rc = pstats_write_callgrind((const pstats_stats *const *)parts, nparts, o, fuzz_buf_write,
                                &two, &err);
    for (size_t p = 0; p < nparts; p++)
        pstats_set_load_flags(parts[p], 0);
    FUZZ_ASSERT(rc == 0);
    FUZZ_ASSERT(one.len == two.len && memcmp(one.p, two.p, one.len) == 0);
    check(&one, parts, nparts, scale);
    free(one.p);
    free(two.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const double scales[] = {1e9, 1e6, 1e3};
    pstats_stats *s = pstats_new(NULL), *t = pstats_new(NULL);
    FUZZ_ASSERT(s && t);
    if (pstats_load_buffer(s, data, size, "fuzz", -1, NULL) == 0) {
        uint32_t h = fuzz_hash(data, size);
        pstats_callgrind_options o;
        memset(&o, 0, sizeof o);
        write_both(&s, 1, &o, scales[0]);
        o.unit = (pstats_time_unit)(h % 3);
        o.call_events = (int)(h >> 2 & 1);
        o.cmd = (h >> 3 & 1) ? "fuzz \n\r input" : NULL;
        pstats_error err;
        FUZZ_ASSERT(pstats_load_buffer(t, data, size, "fuzz2", -1, &err) == 0);
        FUZZ_ASSERT(pstats_strip_dirs(t, &err) == 0);
        pstats_stats *parts[2] = {s, t};
        write_both(parts, 2, &o, scales[o.unit]);
    }
    pstats_free(s);
    pstats_free(t);
    return 0;
}
