/*
 * The callgrind writer: streams a pstats model (or several, as parts) in
 * callgrind format version 1 through a buffered writer.
 *
 * What the numbers mean (docs/callgrind.md has the long version):
 * - a function's self cost is its tottime, rounded to the unit;
 * - its outgoing call costs add up to cumtime - tottime, so that what every
 *   reader computes as inclusive (self + calls) is pstats' cumtime. The
 *   recorded per-edge cumulative times (or, for profile-module files whose
 *   callers hold only counts, count x the callee's cumtime per call) are the
 *   weights; when they add up to more than the budget (recursion counts the
 *   same time on several edges) they are scaled down exactly onto it;
 *   when they add up to less (a profile dumped mid-run, callbacks from C,
 *   yappi dropping built-ins), they are written as recorded and the rest
 *   goes to one pseudo-function, CG_PSEUDO_NAME, which has no cost of its
 *   own. Nothing ever exceeds max(tottime, cumtime).
 */
#include <string.h>

#include "pstats/version.h"
#include "pstats_callgrind_int.h"

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

static void w_put(cg_writer *w, const void *s, size_t n)
{
    const char *p = s;
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

static void w_str(cg_writer *w, const char *s)
{
    w_put(w, s, strlen(s));
}

static void w_u64(cg_writer *w, uint64_t v)
{
    char tmp[24];
    size_t k = sizeof tmp;
    do {
        tmp[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    w_put(w, tmp + k, sizeof tmp - k);
}

/* ------------------------------------------------------------- numbers */

#define CG_MAX_COST 9000000000000000000.0 /* below 2^63, far above any profile */

/* Seconds to whole units, rounded to nearest; negative and NaN give 0. */
static uint64_t to_units(double seconds, double scale)
{
    double v = seconds * scale;
    if (!(v > 0))
        return 0;
    if (v >= CG_MAX_COST)
        return (uint64_t)CG_MAX_COST;
    return (uint64_t)(v + 0.5);
}

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
    pstats_edge *edges;
    double *weights;
    uint64_t *costs;
    size_t cap_edges, cap_w, cap_c;
} cg_ctx;

/* "fl=(N)" or "cfn=(N)", with the name the first time in this part. */
static void w_ref(cg_ctx *c, const char *key, const cg_strtab *t, uint32_t idx,
                  uint8_t *defined)
{
    w_str(&c->w, key);
    w_put(&c->w, "=(", 2);
    w_u64(&c->w, (uint64_t)idx + 1);
    w_put(&c->w, ")", 1);
    if (!defined[idx]) {
        size_t len;
        const char *s = pstats_cg_strtab_str(t, idx, &len);
        defined[idx] = 1;
        w_put(&c->w, " ", 1);
        w_put(&c->w, s, len);
    }
    w_put(&c->w, "\n", 1);
}

static void w_func_ref(cg_ctx *c, int called, uint32_t g)
{
    w_ref(c, called ? "cfl" : "fl", &c->nm.files, c->nm.func_file[g], c->fl_defined);
    w_ref(c, called ? "cfn" : "fn", &c->nm.labels, c->nm.func_label[g], c->fn_defined);
}

/* "<line> <cost>[ <calls>]" */
static void w_cost(cg_ctx *c, int64_t line, uint64_t cost, uint64_t calls)
{
    w_u64(&c->w, clamp_count(line));
    w_put(&c->w, " ", 1);
    w_u64(&c->w, cost);
    if (c->call_events) {
        w_put(&c->w, " ", 1);
        w_u64(&c->w, calls);
    }
    w_put(&c->w, "\n", 1);
}

static void w_call(cg_ctx *c, uint32_t g, uint64_t count, int64_t target_line,
                   int64_t line, uint64_t cost)
{
    w_func_ref(c, 1, g);
    w_str(&c->w, "calls=");
    w_u64(&c->w, count);
    w_put(&c->w, " ", 1);
    w_u64(&c->w, clamp_count(target_line));
    w_put(&c->w, "\n", 1);
    w_cost(c, line, cost, 0);
}

/* ---------------------------------------------------------- edge costs */

/* The weight of one call edge, in seconds. */
static double edge_weight(const pstats_stats *s, const pstats_edge *e)
{
    double w;
    if (e->kind == PSTATS_EDGE_TUPLE) {
        w = e->ct;
    } else { /* count x the callee's cumulative time per (primitive) call */
        pstats_func g;
        pstats_func_get(s, e->callee, &g);
        int64_t per = g.cc > 0 ? g.cc : g.nc;
        w = per > 0 && e->nc > 0 ? (double)e->nc * (g.ct / (double)per) : 0;
    }
    return w > 0 && w < 1e300 ? w : 0;
}

/* Fills c->edges/c->costs for f's outgoing calls so that they add up to
 * `budget` units; returns the number of edges and, in *gap, the budget
 * left for the pseudo-function. -1 when out of memory. */
static int64_t plan_edges(cg_ctx *c, const pstats_stats *s, uint32_t f, uint64_t budget,
                          uint64_t *gap)
{
    size_t m = pstats_ncallees(s, f);
    *gap = 0;
    if (pstats_cg_grow(c->a, (void **)&c->edges, &c->cap_edges, m, sizeof *c->edges) != 0 ||
        pstats_cg_grow(c->a, (void **)&c->weights, &c->cap_w, m, sizeof *c->weights) != 0 ||
        pstats_cg_grow(c->a, (void **)&c->costs, &c->cap_c, m, sizeof *c->costs) != 0)
        return -1;
    double total = 0;
    for (size_t k = 0; k < m; k++) {
        pstats_callee_get(s, f, k, &c->edges[k]);
        c->weights[k] = edge_weight(s, &c->edges[k]);
        total += c->weights[k];
    }
    double tol = 0.5 * (double)m + 1;
    if (budget != UINT64_MAX && total * c->scale >= (double)budget - tol) {
        /* Scale onto the budget by cumulative rounding: the costs add up
         * to exactly `budget` and each is within one unit of its share. */
        double prefix = 0;
        uint64_t prev = 0;
        for (size_t k = 0; k < m; k++) {
            prefix += c->weights[k];
            uint64_t cum = total > 0 ? (uint64_t)((double)budget * (prefix / total) + 0.5) : 0;
            if (k + 1 == m && total > 0)
                cum = budget;
            if (cum > budget)
                cum = budget;
            if (cum < prev)
                cum = prev;
            c->costs[k] = cum - prev;
            prev = cum;
        }
        return (int64_t)m;
    }
    uint64_t sum = 0;
    for (size_t k = 0; k < m; k++) {
        uint64_t v = to_units(c->weights[k], c->scale);
        c->costs[k] = v < budget - sum ? v : budget - sum;
        sum += c->costs[k];
    }
    *gap = budget == UINT64_MAX ? 0 : budget - sum;
    return (int64_t)m;
}

/* One function's block; *pseudo_used set when it calls the pseudo. */
static int write_function(cg_ctx *c, const pstats_stats *s, size_t p, uint32_t f,
                          int *pseudo_used)
{
    pstats_func fn;
    pstats_func_get(s, f, &fn);
    uint64_t self = to_units(fn.tt, c->scale);
    uint64_t cum = to_units(fn.ct, c->scale);
    uint64_t budget = cum > self ? cum - self : 0, gap;
    if (!fn.in_stats) /* named only as a caller: no cumtime to meet */
        budget = UINT64_MAX;
    int64_t m = plan_edges(c, s, f, budget, &gap);
    if (m < 0)
        return -1;
    w_put(&c->w, "\n", 1);
    w_func_ref(c, 0, c->nm.local[p][f]);
    w_cost(c, fn.line, self, clamp_count(fn.nc));
    for (int64_t k = 0; k < m; k++) {
        const pstats_edge *e = &c->edges[k];
        uint64_t count = clamp_count(e->nc);
        if (count == 0 && c->costs[k] == 0)
            continue; /* a 0-call edge without cost: nothing to show */
        pstats_func callee;
        pstats_func_get(s, e->callee, &callee);
        w_call(c, c->nm.local[p][e->callee], count ? count : 1, callee.line, fn.line,
               c->costs[k]);
    }
    if (gap > 0) {
        w_call(c, c->nm.pseudo, 1, 0, fn.line, gap);
        *pseudo_used = 1;
    }
    return 0;
}

static void write_header(cg_ctx *c, const pstats_stats *const *parts, size_t nparts,
                         const char *cmd, const char *unit, const char *unit_long)
{
    uint64_t sum = 0, calls = 0;
    for (size_t p = 0; p < nparts; p++)
        for (size_t i = 0, n = pstats_nkeys(parts[p]); i < n; i++) {
            pstats_func f;
            pstats_func_get(parts[p], (uint32_t)i, &f);
            sum = sat_add(sum, to_units(f.tt, c->scale));
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
        pstats_cg_free(c->a, b.p);
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
    int pseudo_used = 0;
    for (size_t i = 0, n = pstats_nkeys(s); i < n && !c->w.failed; i++)
        if (write_function(c, s, p, (uint32_t)i, &pseudo_used) != 0)
            return -1;
    if (pseudo_used) {
        w_put(&c->w, "\n", 1);
        w_func_ref(c, 0, c->nm.pseudo);
        w_cost(c, 0, 0, 0);
    }
    return 0;
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
    cg_ctx c;
    memset(&c, 0, sizeof c);
    c.a = opts->alloc;
    c.w.write = write;
    c.w.ctx = ctx;
    c.scale = scales[opts->unit];
    c.call_events = opts->call_events != 0;
    if (pstats_cg_names_build(&c.nm, parts, nparts, c.a, err) != 0)
        return -1;
    c.w.buf = pstats_cg_alloc(c.a, CG_BUFSIZE);
    c.fn_defined = pstats_cg_alloc(c.a, c.nm.nfuncs + 1);
    c.fl_defined = pstats_cg_alloc(c.a, c.nm.files.n + 1);
    int rc = c.w.buf && c.fn_defined && c.fl_defined ? 0 : -1;
    if (rc == 0)
        write_header(&c, parts, nparts, opts->cmd, units[opts->unit], unit_names[opts->unit]);
    for (size_t p = 0; p < nparts && rc == 0 && !c.w.failed; p++)
        rc = write_part(&c, parts[p], p, units[opts->unit]);
    if (rc == 0)
        w_flush(&c.w);
    pstats_cg_free(c.a, c.w.buf);
    pstats_cg_free(c.a, c.fn_defined);
    pstats_cg_free(c.a, c.fl_defined);
    pstats_cg_free(c.a, c.edges);
    pstats_cg_free(c.a, c.weights);
    pstats_cg_free(c.a, c.costs);
    pstats_cg_names_free(&c.nm, c.a);
    if (rc != 0)
        return fail(err, PSTATS_ENOMEM, "out of memory while writing callgrind");
    if (c.w.failed)
        return fail(err, PSTATS_EIO, "writing the callgrind output failed");
    return 0;
}
