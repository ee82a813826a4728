/*
 * The callgrind writer: streams a pstats model (or several, as parts) in
 * callgrind format version 1 through a buffered writer. Names come from
 * pstats_callgrind_names.c, call costs from pstats_callgrind_costs.c; what
 * the numbers mean is in docs/callgrind.md.
 */
#include <string.h>

#include "pstats/version.h"
#include "pstats_callgrind_int.h"
#include "pstats_internal.h"

/* -------------------------------------------------------------- writer */

#define CG_BUFSIZE 65536

typedef struct cg_writer {
    pstats_write_fn write;
    void *ctx;
    char *buf;
    size_t len;
    int failed;
} cg_writer;

static void w_flush(cg_writer *w)
{
    if (!w->failed && w->len && w->write(w->ctx, w->buf, w->len) != 0)
        w->failed = 1;
    w->len = 0;
}

static void w_put_slow(cg_writer *w, const char *p, size_t n)
{
    while (n > 0 && !w->failed) {
        if (w->len == CG_BUFSIZE)
            w_flush(w);
        size_t k = CG_BUFSIZE - w->len;
        if (k > n)
            k = n;
        memcpy(w->buf + w->len, p, k);
        w->len += k;
        p += k;
        n -= k;
    }
}

static inline void w_put(cg_writer *w, const void *s, size_t n)
{
    if (n <= CG_BUFSIZE - w->len) { /* fits: one copy */
        memcpy(w->buf + w->len, s, n);
        w->len += n;
        return;
    }
    w_put_slow(w, s, n);
}

static inline void w_byte(cg_writer *w, char ch)
{
    if (w->len == CG_BUFSIZE)
        w_flush(w);
    w->buf[w->len++] = ch;
}

static void w_str(cg_writer *w, const char *s)
{
    w_put(w, s, strlen(s));
}

/* Room for k <= CG_BUFSIZE bytes at the buffer's end: write there with a
 * cursor, then w_done(). */
static inline char *w_room(cg_writer *w, size_t k)
{
    if (CG_BUFSIZE - w->len < k)
        w_flush(w);
    return w->buf + w->len;
}

static inline void w_done(cg_writer *w, char *p)
{
    w->len = (size_t)(p - w->buf);
}

/* The decimal digits of v at p (at most 20 bytes); returns their end. */
static inline char *put_u64(char *p, uint64_t v)
{
    static const char pairs[] = "0001020304050607080910111213141516171819"
                                "2021222324252627282930313233343536373839"
                                "4041424344454647484950515253545556575859"
                                "6061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    static const uint64_t pow10[20] = {
        UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000),
        UINT64_C(100000), UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000),
        UINT64_C(1000000000), UINT64_C(10000000000), UINT64_C(100000000000),
        UINT64_C(1000000000000), UINT64_C(10000000000000), UINT64_C(100000000000000),
        UINT64_C(1000000000000000), UINT64_C(10000000000000000),
        UINT64_C(100000000000000000), UINT64_C(1000000000000000000),
        UINT64_C(10000000000000000000)};
    if (v < 10) {
        *p = (char)('0' + v);
        return p + 1;
    }
    /* digits: log10 from the bit length (x 1233 / 4096), then one compare */
    size_t bits = 64 - (size_t)__builtin_clzll(v);
    size_t n = (bits * 1233) >> 12;
    n += v >= pow10[n];
    char *end = p + n, *q = end;
    while (v >= 100) {
        size_t r = (size_t)(v % 100) * 2;
        v /= 100;
        q -= 2;
        q[0] = pairs[r];
        q[1] = pairs[r + 1];
    }
    if (v >= 10) {
        q -= 2;
        q[0] = pairs[v * 2];
        q[1] = pairs[v * 2 + 1];
    } else {
        *--q = (char)('0' + v);
    }
    return end;
}

static inline void w_u64(cg_writer *w, uint64_t v)
{
    w_done(w, put_u64(w_room(w, 20), v));
}

/* ------------------------------------------------------------- numbers */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t clamp_count(int64_t v)
{
    return v > 0 ? (uint64_t)v : 0;
}

/* -------------------------------------------------------------- writer */

typedef struct cg_ctx {
    const pymarshal_allocator *a;
    cg_writer w;
    cg_names nm;
    double scale;
    int call_events;
    uint8_t *fn_defined, *fl_defined; /* per part: name already given */
    cg_bytes label;                   /* a function's name being written */
    int oom;
} cg_ctx;

/* "fl=(N)", "cfn=(N)", ...: key, "=(", idx + 1, ")" at p (40 bytes). */
static inline char *put_ref(char *p, const char *key, size_t klen, uint32_t idx)
{
    memcpy(p, key, klen);
    p += klen;
    *p++ = '=';
    *p++ = '(';
    p = put_u64(p, (uint64_t)idx + 1);
    *p++ = ')';
    return p;
}

/* A reference line, with " name" the first time in this part. */
static void w_ref(cg_ctx *c, const char *key, size_t klen, uint32_t idx, uint8_t *defined,
                  const char *name, size_t len)
{
    char *p = put_ref(w_room(&c->w, 40), key, klen, idx);
    if (name) {
        defined[idx] = 1;
        *p++ = ' ';
        w_done(&c->w, p);
        w_put(&c->w, name, len);
        p = w_room(&c->w, 1);
    }
    *p++ = '\n';
    w_done(&c->w, p);
}

/* "fl=(N)" or "cfl=(N)", with the name the first time in this part. */
static void w_file_ref(cg_ctx *c, int called, uint32_t idx)
{
    size_t len = 0;
    const char *name = NULL;
    if (!c->fl_defined[idx])
        name = pstats_cg_strtab_str(&c->nm.files, idx, &len);
    w_ref(c, called ? "cfl" : "fl", called ? 3 : 2, idx, c->fl_defined, name, len);
}

/* "fn=(N)" or "cfn=(N)" likewise; function g is label g + 1, the pseudo 0. */
static void w_label_ref(cg_ctx *c, int called, uint32_t g)
{
    uint32_t idx = g == c->nm.pseudo ? 0 : g + 1;
    const char *name = NULL;
    if (!c->fn_defined[idx]) {
        if (pstats_cg_label(&c->nm, g, &c->label, c->a) != 0)
            c->oom = 1;
        name = c->label.p ? c->label.p : "";
    }
    w_ref(c, called ? "cfn" : "fn", called ? 3 : 2, idx, c->fn_defined, name, c->label.len);
}

static void w_func_ref(cg_ctx *c, int called, uint32_t g)
{
    w_file_ref(c, called, c->nm.func_file[g]);
    w_label_ref(c, called, g);
}

/* "<line> <cost>[ <calls>]" at p (63 bytes). */
static inline char *put_cost(const cg_ctx *c, char *p, int64_t line, uint64_t cost,
                             uint64_t calls)
{
    p = put_u64(p, clamp_count(line));
    *p++ = ' ';
    p = put_u64(p, cost);
    if (c->call_events) {
        *p++ = ' ';
        p = put_u64(p, calls);
    }
    *p++ = '\n';
    return p;
}

static void w_cost(cg_ctx *c, int64_t line, uint64_t cost, uint64_t calls)
{
    w_done(&c->w, put_cost(c, w_room(&c->w, 64), line, cost, calls));
}

/* A call: the callee's references, "calls=<count> <target line>" and the
 * cost line. */
static void w_call(cg_ctx *c, uint32_t g, uint64_t count, int64_t target_line,
                   int64_t line, uint64_t cost)
{
    uint32_t fid = c->nm.func_file[g], lid = g == c->nm.pseudo ? 0 : g + 1;
    if (!c->fl_defined[fid] || !c->fn_defined[lid]) {
        w_func_ref(c, 1, g);
    } else { /* both names known: one reservation for the references */
        char *p = put_ref(w_room(&c->w, 82), "cfl", 3, fid);
        *p++ = '\n';
        p = put_ref(p, "cfn", 3, lid);
        *p++ = '\n';
        w_done(&c->w, p);
    }
    char *p = w_room(&c->w, 48 + 64);
    memcpy(p, "calls=", 6);
    p = put_u64(p + 6, count);
    *p++ = ' ';
    p = put_u64(p, clamp_count(target_line));
    *p++ = '\n';
    w_done(&c->w, put_cost(c, p, line, cost, 0));
}

/* One function's block; *pseudo_used set when it calls the pseudo. */
static void write_function(cg_ctx *c, cg_plan *pl, const pstats_stats *s, size_t p,
                           uint32_t f, int *pseudo_used)
{
    pstats_func fn;
    pstats_func_get(s, f, &fn);
    uint64_t self, gap = pstats_cg_plan_row(pl, s, f, &fn, c->scale, &self);
    w_byte(&c->w, '\n');
    w_func_ref(c, 0, pstats_cg_global(&c->nm, p, f));
    w_cost(c, fn.line, self, clamp_count(fn.nc));
    for (size_t k = pl->off[f]; k < pl->off[f + 1]; k++) {
        const cg_edge *e = &pl->e[k];
        if (e->count == 0 && e->cost == 0)
            continue; /* a 0-call edge without cost: nothing to show */
        uint64_t count = pstats_cg_edge_count(s, f, e);
        w_call(c, pstats_cg_global(&c->nm, p, e->callee), count ? count : 1,
               s->keys[e->callee].line, fn.line, e->cost);
    }
    if (gap > 0) {
        w_call(c, c->nm.pseudo, 1, 0, fn.line, gap);
        *pseudo_used = 1;
    }
}

static void write_header(cg_ctx *c, const pstats_stats *const *parts, size_t nparts,
                         const char *cmd, const char *unit, const char *unit_long)
{
    uint64_t sum = 0, calls = 0;
    for (size_t p = 0; p < nparts; p++)
        for (size_t i = 0, n = pstats_nkeys(parts[p]); i < n; i++) {
            pstats_func f;
            pstats_func_get(parts[p], (uint32_t)i, &f);
            sum = sat_add(sum, pstats_cg_units(f.tt, c->scale));
            calls = sat_add(calls, clamp_count(f.nc));
        }
    w_str(&c->w, "# callgrind format\nversion: 1\ncreator: pstats2callgrind "
                 PSTATS_VERSION_STRING "\n");
    if (cmd) {
        cg_bytes b = {NULL, 0, 0};
        w_str(&c->w, "cmd: ");
        if (pstats_cg_bytes_put_name(c->a, &b, cmd, strlen(cmd)) == 0)
            w_put(&c->w, b.p, b.len);
        else
            w_str(&c->w, "???");
        pm_free(c->a, b.p);
        w_put(&c->w, "\n", 1);
    }
    w_str(&c->w, "part: 1\npositions: line\nevent: ");
    w_str(&c->w, unit);
    w_str(&c->w, " : ");
    w_str(&c->w, unit_long);
    if (c->call_events)
        w_str(&c->w, "\nevent: calls : Calls");
    w_str(&c->w, "\nevents: ");
    w_str(&c->w, unit);
    if (c->call_events)
        w_str(&c->w, " calls");
    /* callgrind_annotate takes the last summary: as the total and
     * KCachegrind recomputes each part's, so one summary for all parts. */
    w_str(&c->w, "\nsummary: ");
    w_u64(&c->w, sum);
    if (c->call_events) {
        w_put(&c->w, " ", 1);
        w_u64(&c->w, calls);
    }
    w_put(&c->w, "\n", 1);
}

static int write_part(cg_ctx *c, const pstats_stats *s, size_t p, const char *unit)
{
    if (p > 0) { /* KCachegrind forgets names and events at a new part */
        w_str(&c->w, "\npart: ");
        w_u64(&c->w, (uint64_t)p + 1);
        w_str(&c->w, "\npositions: line\nevents: ");
        w_str(&c->w, unit);
        w_str(&c->w, c->call_events ? " calls\n" : "\n");
    }
    memset(c->fn_defined, 0, c->nm.nfuncs + 1);
    memset(c->fl_defined, 0, c->nm.files.n);
    cg_plan pl;
    if (pstats_cg_plan_build(&pl, s, c->scale, c->a) != 0) {
        pstats_cg_plan_free(&pl, c->a);
        return -1;
    }
    int pseudo_used = 0;
    for (size_t i = 0, n = pstats_nkeys(s); i < n && !c->w.failed && !c->oom; i++)
        write_function(c, &pl, s, p, (uint32_t)i, &pseudo_used);
    pstats_cg_plan_free(&pl, c->a);
    if (pseudo_used) {
        w_put(&c->w, "\n", 1);
        w_func_ref(c, 0, c->nm.pseudo);
        w_cost(c, 0, 0, 0);
    }
    return c->oom ? -1 : 0;
}

static int fail(pstats_error *err, pstats_errcode code, const char *msg)
{
    memset(err, 0, sizeof *err);
    err->code = code;
    strncpy(err->msg, msg, sizeof err->msg - 1);
    return -1;
}

int pstats_write_callgrind(const pstats_stats *const *parts, size_t nparts,
                           const pstats_callgrind_options *opts,
                           pstats_write_fn write, void *ctx, pstats_error *err)
{
    static const char *const units[] = {"ns", "us", "ms"};
    static const char *const unit_names[] = {"Nanoseconds", "Microseconds", "Milliseconds"};
    static const double scales[] = {1e9, 1e6, 1e3};
    pstats_callgrind_options none;
    memset(&none, 0, sizeof none);
    if (!opts)
        opts = &none;
    if (!parts || nparts == 0 || !write || (unsigned)opts->unit > PSTATS_UNIT_MS)
        return fail(err, PSTATS_EUSAGE, "pstats_write_callgrind: no model, no sink or bad unit");
    for (size_t p = 0; p < nparts; p++)
        if (!parts[p])
            return fail(err, PSTATS_EUSAGE, "pstats_write_callgrind: a part is NULL");
        else if (ps_need_edges(parts[p], "pstats_write_callgrind", err))
            return -1;
    cg_ctx c;
    memset(&c, 0, sizeof c);
    c.a = opts->alloc;
    c.w.write = write;
    c.w.ctx = ctx;
    c.scale = scales[opts->unit];
    c.call_events = opts->call_events != 0;
    if (pstats_cg_names_build(&c.nm, parts, nparts, c.a, err) != 0)
        return -1;
    c.w.buf = pm_malloc(c.a, CG_BUFSIZE);
    c.fn_defined = pm_malloc(c.a, c.nm.nfuncs + 1);
    c.fl_defined = pm_malloc(c.a, c.nm.files.n + 1);
    int rc = c.w.buf && c.fn_defined && c.fl_defined ? 0 : -1;
    if (rc == 0)
        write_header(&c, parts, nparts, opts->cmd, units[opts->unit], unit_names[opts->unit]);
    for (size_t p = 0; p < nparts && rc == 0 && !c.w.failed; p++)
        rc = write_part(&c, parts[p], p, units[opts->unit]);
    if (rc == 0)
        w_flush(&c.w);
    pm_free(c.a, c.w.buf);
    pm_free(c.a, c.fn_defined);
    pm_free(c.a, c.fl_defined);
    pm_free(c.a, c.label.p);
    if (c.oom)
        rc = -1;
    pstats_cg_names_free(&c.nm, c.a);
    if (rc != 0)
        return fail(err, PSTATS_ENOMEM, "out of memory while writing callgrind");
    if (c.w.failed)
        return fail(err, PSTATS_EIO, "writing the callgrind output failed");
    return 0;
}
