/*
 * print_stats / print_callers / print_callees, byte for byte as Python's
 * pstats prints them (3.x; Python 2.7's layout for Python 2 models).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pstats_internal.h"

typedef struct out {
    pstats_write_fn write;
    void *ctx;
    psb b;
    int failed;
    char *lab;            /* a label being printed, reused */
    size_t labcap;
} out;

/* psb_put with the copy inline when it fits (the NUL kept after it). */
static inline void bput(psb *b, const void *p, size_t n)
{
    if (n < b->cap - b->len) {
        memcpy(b->p + b->len, p, n);
        b->len += n;
        b->p[b->len] = 0;
        return;
    }
    psb_put(b, p, n);
}

static inline void put(out *o, const void *p, size_t n)
{
    bput(&o->b, p, n);
}

#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

/* The decimal text of an int64 at the end of tmp[24]; returns its start. */
static char *int_text(int64_t i, char *tmp)
{
    char *p = tmp + 24;
    uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0)
        *--p = '-';
    return p;
}

/* Python's str() of a number (and '%d' of an int): ints of the int64 kind
 * without printf. */
static void put_num(out *o, const pstats_stats *s, pnum a)
{
    if (a.kind != PN_INT) {
        pn_str(s, a, &o->b);
        return;
    }
    char tmp[24], *p = int_text(a.u.i, tmp);
    put(o, p, (size_t)(tmp + sizeof tmp - p));
}

static void pad(out *o, size_t n)
{
    static const char sp[] = "                                                                ";
    while (n > 0) {
        size_t k = n < sizeof sp - 1 ? n : sizeof sp - 1;
        put(o, sp, k);
        n -= k;
    }
}

static void out_flush(out *o)
{
    if (o->b.len && !o->failed && o->write(o->ctx, o->b.p, o->b.len) != 0)
        o->failed = 1;
    o->b.len = 0;
}

/* |x| * 1000 rounded half to even, for |x| < 1e15: x is m * 2^q with an
 * integer m < 2^53, so 1000 * m < 2^63 and the rounding is integer work. */
static uint64_t milli_round(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff);
    uint64_t m = bits & ((UINT64_C(1) << 52) - 1);
    int q = e ? e - 1075 : -1074;
    if (e)
        m |= UINT64_C(1) << 52;
    uint64_t t = m * 1000;
    if (q >= 0)
        return t << q;   /* < 1e18 */
    int sh = -q;
    if (sh >= 64)
        return 0;        /* below 0.5 (never exactly 0.5: 1000 * m != 2^63) */
    uint64_t r = t >> sh, rem = t & ((UINT64_C(1) << sh) - 1), half = UINT64_C(1) << (sh - 1);
    return r + (rem > half || (rem == half && (r & 1)));
}

/* "%8.3f" % x (C's and Python's: correctly rounded, half to even); values
 * below 1e15 without printf. */
void ps_f8(psb *b, double x)
{
    char tmp[400];
    int n;
    if (fabs(x) < 1e15) {
        uint64_t u = milli_round(x);
        int neg = signbit(x) != 0;
        char d[32];
        int k = 0;
        do {
            d[k++] = (char)('0' + u % 10);
            u /= 10;
        } while (u || k < 4);
        n = 0;
        char *p;
        int len = k + 1 + neg;
        if (len < 8)
            n = 8 - len;
        memset(tmp, ' ', (size_t)n);
        p = tmp + n;
        if (neg)
            *p++ = '-';
        for (int i = k - 1; i >= 3; i--)
            *p++ = d[i];
        *p++ = '.';
        for (int i = 2; i >= 0; i--)
            *p++ = d[i];
        bput(b, tmp, (size_t)(p - tmp));
        return;
    }
    n = isnan(x) ? snprintf(tmp, sizeof tmp, "%8s", "nan") : snprintf(tmp, sizeof tmp, "%8.3f", x);
    psb_put(b, tmp, (size_t)n);
}

static void f8(out *o, double x)
{
    ps_f8(&o->b, x);
}

static void put_label(out *o, const pstats_stats *s, uint32_t id, size_t ljust)
{
    size_t before = o->b.len;
    size_t len = 0;
    if (ps_label_dyn(s, id, &o->lab, &o->labcap, &len))
        o->b.oom = 1;
    else
        put(o, o->lab, len);
    if (ljust && !o->b.oom) {
        size_t w = ps_width(s, o->b.p + before, o->b.len - before);
        if (w < ljust)
            pad(o, ljust - w);
    }
}

static int print_list(pstats_stats *s, const pstats_restriction *r, size_t nr, out *o,
                      uint32_t **plist, size_t *pn, size_t *width, int need_width)
{
    size_t n = s->nstats;
    uint32_t *list = ps_malloc(s, (n ? n : 1) * sizeof(uint32_t));
    psb msg;
    psb_init(&msg, s);
    if (!list)
        return -1;
    if (s->fcn_list) {
        memcpy(list, s->fcn_list, n * sizeof(uint32_t));
        psb_puts(&msg, "   Ordered by: ");
        psb_puts(&msg, s->sort_type);
        psb_puts(&msg, "\n");
    } else {
        for (size_t i = 0; i < n; i++)
            list[i] = (uint32_t)i;
        psb_puts(&msg, "   Random listing order was used\n");
    }
    if (ps_restrict(s, r, nr, list, &n, &msg)) {
        ps_free(s, list);
        psb_free(&msg);
        return -1;
    }
    *plist = list;
    *pn = n;
    *width = 0;
    if (n > 0) {
        psb_put(&o->b, msg.p, msg.len);
        psb_puts(&o->b, "\n");
    }
    psb_free(&msg);
    if (n == 0 || !need_width)
        return 0;
    if (n >= s->nstats && s->max_name_len == PS_WIDTH_UNKNOWN)
        ps_compute_max_name(s);
    size_t w = s->max_name_len;
    if (n < s->nstats) {
        w = 0;
        for (size_t i = 0; i < n; i++) {
            size_t lw = ps_label_width(s, list[i]);
            if (lw > w)
                w = lw;
        }
    }
    *width = w + 2;
    return 0;
}

/* -------------------------------------------------------------- output */

static int begin(out *o, pstats_stats *s, pstats_write_fn write, void *ctx,
                 pstats_error *err)
{
    memset(o, 0, sizeof *o);
    o->write = write;
    o->ctx = ctx;
    psb_init(&o->b, s);
    if (err)
        memset(err, 0, sizeof *err);
    return 0;
}

static int finish(out *o, int rc, pstats_error *err)
{
    if (rc == 0 && !o->b.oom)
        out_flush(o);
    psb_free(&o->b);
    ps_free(o->b.s, o->lab);
    if (rc || o->b.oom) {
        ps_seterr(err, PSTATS_ENOMEM, NULL, 0, 0, "out of memory");
        return -1;
    }
    if (o->failed) {
        ps_seterr(err, PSTATS_EIO, NULL, 0, 0, "writing the report failed");
        return -1;
    }
    return 0;
}

static void put_ctime(out *o, time_t t)
{
    static const char days[] = "SunMonTueWedThuFriSat";
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm;
    char tmp[96];
    if (!localtime_r(&t, &tm)) {
        memset(&tm, 0, sizeof tm);
        tm.tm_mday = 1;
        tm.tm_year = 70;
    }
    int n = snprintf(tmp, sizeof tmp, "%.3s %.3s%3d %.2d:%.2d:%.2d %d",
                     days + 3 * (tm.tm_wday % 7), months + 3 * (tm.tm_mon % 12), tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
    psb_put(&o->b, tmp, (size_t)n);
}

static void put_header(out *o, pstats_stats *s)
{
    size_t nfiles = 0;
    for (size_t i = 0; i < s->ninputs; i++) {
        if (!s->inputs[i].has_mtime)
            continue;
        put_ctime(o, s->inputs[i].mtime);
        psb_puts(&o->b, "    ");
        psb_puts(&o->b, s->inputs[i].name);
        psb_puts(&o->b, "\n");
        nfiles++;
    }
    if (nfiles)
        psb_puts(&o->b, "\n");
    for (size_t i = 0; i < s->nstats; i++) {
        const pkey *k = &s->keys[i];
        if (!(k->flags & KF_TOP))
            continue;
        psb_puts(&o->b, "         ");
        ps_put_name(&o->b, s, (uint32_t)i);
        psb_puts(&o->b, "\n");
    }
    psb_puts(&o->b, "         ");
    pn_str(s, s->total_calls, &o->b);
    psb_puts(&o->b, " function calls ");
    if (pn_cmp(s, s->total_calls, s->prim_calls) != 0) {
        psb_puts(&o->b, "(");
        pn_fmt_d(s, s->prim_calls, &o->b);
        psb_puts(&o->b, " primitive calls) ");
    }
    char tmp[400];
    double tt = pn_double(s, s->total_tt);
    int n = isnan(tt) ? snprintf(tmp, sizeof tmp, "nan") : snprintf(tmp, sizeof tmp, "%.3f", tt);
    psb_puts(&o->b, "in ");
    psb_put(&o->b, tmp, (size_t)n);
    psb_puts(&o->b, " seconds\n\n");
}

static double quot(const pstats_stats *s, pnum a, pnum b)
{
    return pn_double(s, a) / pn_double(s, b);
}

static void print_line(out *o, pstats_stats *s, uint32_t id)
{
    const pkey *k = &s->keys[id];
    pnum cc = pn_get(k->v, k->kinds, 0), nc = pn_get(k->v, k->kinds, 1);
    pnum tt = pn_get(k->v, k->kinds, 2), ct = pn_get(k->v, k->kinds, 3);
    size_t start = o->b.len;
    put_num(o, s, nc);
    if (pn_cmp(s, nc, cc) != 0) {
        PUT_LIT(o, "/");
        put_num(o, s, cc);
    }
    size_t w = o->b.len - start;
    if (w < 9 && !o->b.oom) { /* rjust(9) */
        psb_pad(&o->b, 9 - w);
        if (!o->b.oom) { /* (a failed pad grew nothing to move into) */
            memmove(o->b.p + start + (9 - w), o->b.p + start, w);
            memset(o->b.p + start, ' ', 9 - w);
        }
    }
    PUT_LIT(o, " ");
    f8(o, pn_double(s, tt));
    PUT_LIT(o, " ");
    if (pn_is_zero(nc))
        PUT_LIT(o, "        ");
    else
        f8(o, quot(s, tt, nc));
    PUT_LIT(o, " ");
    f8(o, pn_double(s, ct));
    PUT_LIT(o, " ");
    if (pn_is_zero(cc))
        PUT_LIT(o, "        ");
    else
        f8(o, quot(s, ct, cc));
    PUT_LIT(o, " ");
    put_label(o, s, id, 0);
    PUT_LIT(o, "\n");
}

/* ------------------------------------------------- rows in two threads */

/* The rows of a report are formatted chunk by chunk by two threads and
 * written in order (lib/common's cm_ordered_run): formatting numbers and
 * gathering names from all over the model is most of a big report's time.
 * Each slot of the ring has its own buffer and label scratch. */
#define ROWS_CHUNK 2048
#define ROWS_THREADS_FROM (4 * ROWS_CHUNK)
#define ROWS_CHUNK_FORCED 3 /* tests (ps_threads_forced): round the ring often */

typedef void (*row_fn)(out *o, pstats_stats *s, uint32_t id, void *scratch);

typedef struct rows_job {
    pstats_stats *s;
    const uint32_t *list;
    row_fn row;
    void *scratch[2];         /* per worker, given to row */
    out slot[CM_SLOTS];
} rows_job;

static int rows_format(void *ctx, int worker, size_t k, size_t from, size_t to,
                       const void **data, size_t *len)
{
    rows_job *j = ctx;
    out *o = &j->slot[k];
    o->b.len = 0;
    for (size_t i = from; i < to && !o->b.oom; i++)
        j->row(o, j->s, j->list[i], j->scratch[worker]);
    *data = o->b.p;
    *len = o->b.len;
    return o->b.oom ? -1 : 0;
}

/* Prints row(list[i]) for i < n after what o holds (flushed first). The
 * model's allocator is called under a lock while two threads run. */
static int print_rows(out *o, pstats_stats *s, const uint32_t *list, size_t n, row_fn row,
                      void *scratch0, void *scratch1)
{
    out_flush(o);
    if (o->failed)
        return 0;
    rows_job j;
    memset(&j, 0, sizeof j);
    j.s = s;
    j.list = list;
    j.row = row;
    j.scratch[0] = scratch0;
    j.scratch[1] = scratch1;
    for (int k = 0; k < CM_SLOTS; k++)
        psb_init(&j.slot[k].b, s);
    int forced = ps_threads_forced(s), threads = n >= ROWS_THREADS_FROM || forced;
    cm_ordered_job job = {n, forced ? ROWS_CHUNK_FORCED : ROWS_CHUNK, NULL, NULL, rows_format,
                          &j, o->write, o->ctx};
    pymarshal_allocator saved = s->alc;
    cm_locked_alloc lk;
    if (threads && cm_locked_alloc_init(&lk, &saved) != 0)
        threads = 0;
    if (threads)
        s->alc = lk.view;
    int rc = cm_ordered_run(&job, threads);
    if (threads) {
        s->alc = saved;
        cm_locked_alloc_destroy(&lk);
    }
    for (int k = 0; k < CM_SLOTS; k++) {
        psb_free(&j.slot[k].b);
        ps_free(s, j.slot[k].lab);
    }
    if (rc == -2)
        o->failed = 1;
    return rc == -1 ? -1 : 0;
}

static void stats_row(out *o, pstats_stats *s, uint32_t id, void *scratch)
{
    (void)scratch;
    print_line(o, s, id);
}

int pstats_print_stats(pstats_stats *s, const pstats_restriction *r, size_t nr,
                       pstats_write_fn write, void *ctx, pstats_error *err)
{
    out o;
    begin(&o, s, write, ctx, err);
    put_header(&o, s);
    uint32_t *list;
    size_t n, width;
    int rc = print_list(s, r, nr, &o, &list, &n, &width, 0);
    if (rc == 0) {
        if (n) {
            /* Python 3.15's SampledStats.print_title for sampled data */
            psb_puts(&o.b, s->sampled ? " nsamples  tottime persample cumtime persample "
                                        "filename:lineno(function)\n"
                                      : "   ncalls  tottime  percall  cumtime  percall "
                                        "filename:lineno(function)\n");
            rc = print_rows(&o, s, list, n, stats_row, NULL, NULL);
            psb_puts(&o.b, "\n\n");
        }
        ps_free(s, list);
    }
    return finish(&o, rc, err);
}

/* ------------------------------------------------------ callers/callees */

typedef struct entry { uint32_t key, edge; } entry;

static int rank_cmp(const void *ctx, uint32_t a, uint32_t b)
{
    const uint32_t *rank = ctx;
    return rank[a] < rank[b] ? -1 : (rank[a] > rank[b]);
}

static void put_count_pair(out *o, const pstats_stats *s, const pedge *e, size_t width)
{
    pnum n0 = pn_get(e->v, e->kinds, 0), n1 = pn_get(e->v, e->kinds, 1);
    if (n0.kind == PN_INT && n1.kind == PN_INT) { /* "%d/%d" without printf */
        char a[24], b[24], *pa = int_text(n0.u.i, a), *pb = int_text(n1.u.i, b);
        size_t la = (size_t)(a + sizeof a - pa), lb = (size_t)(b + sizeof b - pb);
        size_t len = n0.u.i != n1.u.i ? la + 1 + lb : la;
        if (len < width)
            pad(o, width - len);
        put(o, pa, la);
        if (n0.u.i != n1.u.i) {
            put(o, "/", 1);
            put(o, pb, lb);
        }
        return;
    }
    psb t;
    psb_init(&t, o->b.s);
    pnum nc = pn_get(e->v, e->kinds, 0), cc = pn_get(e->v, e->kinds, 1);
    pn_fmt_d(s, nc, &t);
    if (pn_cmp(s, nc, cc) != 0) {
        psb_puts(&t, "/");
        pn_fmt_d(s, cc, &t);
    }
    if (t.len < width)
        psb_pad(&o->b, width - t.len);
    psb_put(&o->b, t.p, t.len);
    o->b.oom |= t.oom;
    psb_free(&t);
}

/* print_call_line: src's label, the arrow, then the entries sorted by
 * their key tuple. keys[i]: the entry's function; edges[i]: its numbers. */
static void call_line(out *o, pstats_stats *s, uint32_t src, size_t width, const char *arrow,
                      uint32_t *keys, const uint32_t *edges, uint32_t *order, uint32_t *tmp,
                      size_t n)
{
    put_label(o, s, src, width);
    psb_puts(&o->b, arrow);
    if (n == 0) {
        psb_puts(&o->b, s->py2 ? "\n" : " \n");
        return;
    }
    psb_puts(&o->b, " ");
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    /* sort positions by the rank of their key */
    for (size_t i = 0; i < n; i++)
        tmp[i] = s->rank[keys[i]];
    ps_merge_sort(order, tmp + n, n, rank_cmp, tmp);
    for (size_t i = 0; i < n; i++) {
        uint32_t key = keys[order[i]];
        pedge full;
        const pedge *e = &full;
        pe_get(s, &s->edges[edges[order[i]]], &full);
        if (e->kind == PSTATS_EDGE_TUPLE) {
            if (i)
                pad(o, width + 1);
            put_count_pair(o, s, e, i ? 9 : 7);
            PUT_LIT(o, " ");
            f8(o, pn_double(s, pn_get(e->v, e->kinds, 2)));
            PUT_LIT(o, " ");
            f8(o, pn_double(s, pn_get(e->v, e->kinds, 3)));
            PUT_LIT(o, "  ");
            put_label(o, s, key, 0);
        } else {
            if (i)
                pad(o, width + 3);
            put_label(o, s, key, 0);
            PUT_LIT(o, "(");
            pnum cnt = pn_get(e->v, e->kinds, 0);
            put_num(o, s, cnt);
            if (s->py2 && ((e->kinds & PK_PY2LONG) || cnt.kind == PN_BIG))
                PUT_LIT(o, "L"); /* repr() of a Python 2 long */
            PUT_LIT(o, ") ");
            /* Python: self.stats[func][3], a KeyError for a function that
             * is only a caller; we print its (absent) cumtime as 0. */
            const pkey *k = &s->keys[key];
            f8(o, key < s->nstats ? pn_double(s, pn_get(k->v, k->kinds, 3)) : 0.0);
        }
        PUT_LIT(o, "\n");
    }
}

static void call_heading(out *o, pstats_stats *s, size_t width, const char *title)
{
    psb_puts(&o->b, "Function ");
    if (width > 9)
        psb_pad(&o->b, width - 9);
    psb_puts(&o->b, title);
    psb_puts(&o->b, "\n");
    for (size_t i = 0; i < s->nstats; i++) {
        const pkey *k = &s->keys[i];
        if (k->nedges == 0)
            continue;
        if (pe_kind(&s->edges[k->edge_start], s) == PSTATS_EDGE_TUPLE) {
            psb_pad(&o->b, width);
            psb_puts(&o->b, s->sampled ? "    nsamples  tottime  cumtime\n" /* 3.15 */
                                       : "    ncalls  tottime  cumtime\n");
        }
        break;
    }
}

/* One worker's scratch for call lines: the entries of one function. */
typedef struct calls_scratch {
    int callees;
    size_t width;
    uint32_t *keys, *edges, *order, *tmp;
} calls_scratch;

static void calls_row(out *o, pstats_stats *s, uint32_t f, void *scratch)
{
    calls_scratch *c = scratch;
    size_t d = 0;
    if (c->callees) {
        for (uint32_t p = s->callee_off[f]; p < s->callee_off[f + 1]; p++) {
            c->keys[d] = s->callee_src[p];
            c->edges[d++] = s->callee_edge[p];
        }
    } else {
        const pkey *k = &s->keys[f];
        for (uint32_t e = k->edge_start; e < k->edge_start + k->nedges; e++) {
            c->keys[d] = s->edges[e].caller;
            c->edges[d++] = e;
        }
    }
    call_line(o, s, f, c->width, c->callees ? "->" : "<-", c->keys, c->edges, c->order, c->tmp,
              d);
}

static int scratch_alloc(pstats_stats *s, calls_scratch *c, size_t maxd)
{
    c->keys = ps_malloc(s, maxd * sizeof(uint32_t));
    c->edges = ps_malloc(s, maxd * sizeof(uint32_t));
    c->order = ps_malloc(s, maxd * sizeof(uint32_t));
    c->tmp = ps_malloc(s, 2 * maxd * sizeof(uint32_t));
    return c->keys && c->edges && c->order && c->tmp ? 0 : -1;
}

static void scratch_free(pstats_stats *s, calls_scratch *c)
{
    ps_free(s, c->keys);
    ps_free(s, c->edges);
    ps_free(s, c->order);
    ps_free(s, c->tmp);
}

static int print_calls(pstats_stats *s, const pstats_restriction *r, size_t nr,
                       pstats_write_fn write, void *ctx, pstats_error *err, int callees)
{
    out o;
    begin(&o, s, write, ctx, err);
    uint32_t *list = NULL;
    calls_scratch sc[2];
    memset(sc, 0, sizeof sc);
    size_t n, width;
    int rc = print_list(s, r, nr, &o, &list, &n, &width, 1);
    if (rc == 0 && n) {
        size_t maxd = 1;
        if (ps_build_rank(s) || (callees && ps_build_callees(s)))
            rc = -1;
        for (size_t i = 0; rc == 0 && i < s->nkeys; i++) {
            size_t d = callees ? s->callee_off[i + 1] - s->callee_off[i]
                               : (i < s->nstats ? s->keys[i].nedges : 0);
            if (d > maxd)
                maxd = d;
        }
        for (int w = 0; w < 2 && rc == 0; w++) {
            sc[w].callees = callees;
            sc[w].width = width;
            rc = scratch_alloc(s, &sc[w], maxd);
        }
        if (rc == 0) {
            call_heading(&o, s, width, callees ? "called..." : "was called by...");
            rc = print_rows(&o, s, list, n, calls_row, &sc[0], &sc[1]);
            psb_puts(&o.b, "\n\n");
        }
    }
    ps_free(s, list);
    scratch_free(s, &sc[0]);
    scratch_free(s, &sc[1]);
    return finish(&o, rc, err);
}

int pstats_print_callers(pstats_stats *s, const pstats_restriction *r, size_t nr,
                         pstats_write_fn write, void *ctx, pstats_error *err)
{
    if (ps_need_edges(s, "pstats_print_callers", err))
        return -1;
    return print_calls(s, r, nr, write, ctx, err, 0);
}

int pstats_print_callees(pstats_stats *s, const pstats_restriction *r, size_t nr,
                         pstats_write_fn write, void *ctx, pstats_error *err)
{
    if (ps_need_edges(s, "pstats_print_callees", err))
        return -1;
    return print_calls(s, r, nr, write, ctx, err, 1);
}
