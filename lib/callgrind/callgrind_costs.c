/*
 * Call costs for the callgrind writer.
 *
 * pstats records, per caller -> callee edge, the callee's cumulative time
 * for the calls from that caller (only the outermost call while the pair is
 * active). Readers compute "inclusive" from the call lines: KCachegrind
 * takes, for a function that has callers, the sum of its incoming calls
 * (self-recursive calls left out); for a function without callers, its self
 * cost plus its outgoing calls. callgrind_annotate --inclusive=yes sums
 * incoming calls too (self-recursive ones included). So the costs are
 * planned in these steps (docs/callgrind.md says why):
 *  1. cycles: the strongly connected components of the call graph
 *     (lib/pstats' ps_components, over the callers lists). A call that leaves its caller's component is
 *     never nested in another call of the same pair, so its recorded time
 *     counts each call once; only calls inside a component overlap;
 *  2. columns: a function's incoming calls from other functions share its
 *     cumtime (max(tottime, cumtime)) in proportion to the recorded
 *     per-edge times (profile-module int edges: count x the callee's
 *     cumtime per primitive call; all weights 0: the call counts), so that
 *     the readers' inclusive cost is pstats' cumtime. In a cycle, calls from
 *     outside it keep their time, calls inside share the rest (at most
 *     their own); what neither covers is the function's spontaneous part;
 *  3. spontaneous calls: a cycle nobody outside it calls gets that part
 *     from the pseudo-caller [spontaneous calls] (plan_roots);
 *  4. fit (callgrind_fit.c): estimated calls out of cycles fitted so that
 *     every function outside a cycle gets its cumtime from callers that
 *     had it; calls inside cycles fitted to what their callers have left;
 *  5. rows: a function's outgoing calls never add up to more than
 *     max(tottime, cumtime) - tottime. When they do, the calls out of its
 *     component keep their time (they fit in any consistent profile) and
 *     the calls inside it share what is left; only where the calls out of
 *     the component alone need more than the caller had are they scaled
 *     down, and their callees are named as not exact. Self-recursive calls
 *     carry 0 (their time is inside the caller's other calls, and
 *     callgrind_annotate would add it to the incoming sum); what is left
 *     (callee time the profile recorded in cumtime but in no call) goes to
 *     the pseudo-function when nobody calls the function (the readers'
 *     inclusive of such a function is self + calls), and is left out
 *     elsewhere.
 * Integers are rounded by cumulative rounding: the parts add up exactly.
 */
#include <string.h>

#include "callgrind_int.h"
#include "callgrind_model.h"
#include "pstats_internal.h"

/* ------------------------------------------------------------ planning */

/* Share `k` of `total` (prefix sums before and after), exactly summing to
 * total over all shares. */
static uint64_t cum_share(uint64_t total, double before, double after, double sum)
{
    if (!(sum > 0))
        return 0;
    double lo = (double)total * (before / sum), hi = (double)total * (after / sum);
    uint64_t a = (uint64_t)(lo + 0.5), b = after >= sum ? total : (uint64_t)(hi + 0.5);
    if (b > total)
        b = total;
    return b > a ? b - a : 0;
}

static double edge_weight(const pstats_edge *e, const pstats_func *callee)
{
    double w;
    if (e->kind == PSTATS_EDGE_TUPLE) {
        w = e->ct;
    } else { /* count x the callee's cumulative time per (primitive) call */
        int64_t per = callee->cc > 0 ? callee->cc : callee->nc;
        w = per > 0 && e->nc > 0 ? (double)e->nc * (callee->ct / (double)per) : 0;
    }
    return w > 0 && w < 1e300 ? w : 0;
}

/* The target inclusive cost of a function: max(tottime, cumtime). */
static uint64_t incl_target(const pstats_func *f, double scale, uint64_t *self)
{
    uint64_t c = pstats_cg_units(f->ct, scale);
    *self = pstats_cg_units(f->tt, scale);
    return c > *self ? c : *self;
}

static void set_edge(cg_edge *out, uint32_t callee, const pstats_edge *e, uint64_t cost)
{
    out->callee = callee;
    out->count = pstats_cg_count(e->nc);
    out->cost = cost;
}

/* Where the edge from caller c goes: the next free place of c's row from
 * the front (cursor[c]++) or, for the second half of the callees, from
 * the back (--cursor[c]). */
static inline cg_edge *place(cg_plan *pl, uint32_t *cursor, int back, uint32_t c)
{
    return &pl->e[back ? --cursor[c] : cursor[c]++];
}

/* What g's incoming calls from other functions share (units). Outside
 * cycles: all of g's cumtime, in proportion to the weights. In a cycle
 * (when the calls record times): the calls from outside the cycle keep
 * theirs (they never overlap), those inside it share the rest, at most
 * their own; what neither covers is g's spontaneous part (*spont: entered
 * with no caller recorded, like the program's top-level exec). */
typedef struct col_split {
    uint64_t out, in, spont;      /* totals for calls from outside, inside */
    double wout, win;             /* their weights */
} col_split;

static void split_column(col_split *cs, uint64_t target, double scale, int alone)
{
    cs->spont = 0;
    if (alone) {
        cs->out = target;
        cs->in = 0;
        return;
    }
    uint64_t out = pstats_cg_units(cs->wout, scale), in = pstats_cg_units(cs->win, scale);
    cs->out = out < target ? out : target;
    cs->in = in < target - cs->out ? in : target - cs->out;
    cs->spont = target - cs->out - cs->in;
}

/* Step 2 for callee g: puts its incoming edges into their callers' rows.
 * ebuf: room for g's callers. */
static void plan_column(cg_plan *pl, const pstats_stats *s, uint32_t g, double scale,
                        uint32_t *cursor, int back, pstats_edge *ebuf)
{
    pstats_func callee;
    pstats_cg_func(s, g, &callee);
    uint64_t self, target = incl_target(&callee, scale, &self);
    size_t n = pstats_ncallers(s, g);
    const uint32_t *comp = pl->comp;
    col_split cs = {0, 0, 0, 0, 0};
    double wsum = 0, nsum = 0;
    uint8_t est = 0;
    for (size_t k = 0; k < n; k++) {
        const pstats_edge *e = &ebuf[k];
        pstats_cg_caller(s, g, k, &ebuf[k]);
        if (e->caller != g) {
            est |= e->kind == PSTATS_EDGE_INT;
            double w = edge_weight(e, &callee);
            wsum += w;
            if (e->caller < pl->nkeys && comp[e->caller] == comp[g])
                cs.win += w;
            else
                cs.wout += w;
            nsum += e->nc > 0 ? (double)e->nc : 0;
        }
    }
    int by_count = !(wsum > 0), whole = by_count || (comp[g] & CG_ALONE);
    split_column(&cs, target, scale, whole);
    if (whole) /* one share for all calls, by weight or by count */
        cs.wout = by_count ? nsum : wsum;
    uint64_t top = 0;
    if (whole && !by_count && !est && callee.in_stats) {
        /* recorded calls that cover less than the cumtime: the rest came
         * with no caller recorded (from C, the top level, callers left
         * out of the file); the callers keep their times */
        uint64_t rec = pstats_cg_units(wsum, scale);
        if (rec + n + 1 < cs.out) {
            top = cs.out - rec;
            cs.out = rec;
        }
    } else if (callee.in_stats && n > 0 && !(wsum > 0) && !(nsum > 0)) {
        top = cs.out; /* called by itself alone (or by nothing that counts) */
        cs.out = 0;
    }
    double pout = 0, pin = 0;
    for (size_t k = 0; k < n; k++) {
        const pstats_edge *e = &ebuf[k];
        if (e->caller >= pl->nkeys)
            continue;
        double w = edge_weight(e, &callee);
        if (e->caller == g) { /* self-recursion: 0 (step 5) */
            set_edge(place(pl, cursor, back, g), g, e, 0);
            continue;
        }
        double x = by_count ? (e->nc > 0 ? (double)e->nc : 0) : w;
        uint64_t cost;
        if (!callee.in_stats) {
            cost = pstats_cg_units(w, scale);
        } else if (whole || comp[e->caller] != comp[g]) {
            cost = cum_share(cs.out, pout, pout + x, cs.wout);
            pout += x;
        } else {
            cost = cum_share(cs.in, pin, pin + x, cs.win);
            pin += x;
        }
        if (pl->empty[e->caller]) { /* the top level: a spontaneous call */
            top += cost;
            cost = 0;
        }
        set_edge(place(pl, cursor, back, e->caller), g, e, cost);
    }
    pl->est[g] = est && callee.in_stats;
    pl->spont[g] = callee.in_stats ? cs.spont : 0;
    pl->top[g] = top;
}

/* The plan is built in two threads, each for half of the callees (the
 * columns): in every row, the first half's calls are placed from the front
 * in callee order, the second half's from the back in reverse callee
 * order, so the row ends up in callee order and the writes never meet.
 * Each half first counts its calls per row. */
typedef struct plan_job {
    cg_plan *pl;
    const pstats_stats *s;
    double scale;
    uint32_t *cur[2];             /* per row: half 0's and half 1's counts,
                                   * then their cursors */
    pstats_edge *ebuf[2];
    int fill;                     /* 0: count, 1: fill */
} plan_job;

static int plan_half(void *ctx, int half, size_t from, size_t to, const pymarshal_allocator *a)
{
    (void)a;
    plan_job *j = ctx;
    const pstats_stats *s = j->s;
    cg_plan *pl = j->pl;
    uint32_t *cur = j->cur[half];
    if (j->fill) {
        if (half == 0)
            for (size_t g = from; g < to; g++)
                plan_column(pl, s, (uint32_t)g, j->scale, cur, 0, j->ebuf[0]);
        else
            for (size_t g = to; g-- > from;)
                plan_column(pl, s, (uint32_t)g, j->scale, cur, 1, j->ebuf[1]);
        return 0;
    }
    for (size_t g = from; g < to && g < s->nstats; g++) { /* only the dict has callers */
        const pkey *k = &s->keys[g];
        for (uint32_t e = k->edge_start; e < k->edge_start + k->nedges; e++)
            if (s->edges[e].caller < pl->nkeys)
                cur[s->edges[e].caller]++;
    }
    return 0;
}

/* Two threads pay off from this many functions up. */
#define CG_PAR_PLAN 16384

/* The callee that splits the calls in two halves (edges are stored by
 * callee, in key order). */
static size_t plan_split(const pstats_stats *s)
{
    size_t lo = 0, hi = s->nstats;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->keys[mid].edge_start < s->nedges / 2)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int plan_alloc(cg_plan *pl, plan_job *j, size_t nk, int par, const pymarshal_allocator *a)
{
    size_t maxd = 1;
    for (uint32_t g = 0; g < j->s->nstats; g++)
        maxd = j->s->keys[g].nedges > maxd ? j->s->keys[g].nedges : maxd;
    pl->off = cm_malloc(a, (nk + 1) * sizeof *pl->off);
    pl->est = cm_malloc(a, nk ? nk : 1);
    pl->spont = cm_malloc(a, (nk ? nk : 1) * sizeof *pl->spont);
    pl->top = cm_malloc(a, (nk ? nk : 1) * sizeof *pl->top);
    for (int h = 0; h < 2; h++) {
        j->cur[h] = cm_malloc(a, (nk ? nk : 1) * sizeof *j->cur[h]);
        j->ebuf[h] = h == 0 || par ? cm_malloc(a, maxd * sizeof *j->ebuf[h]) : j->ebuf[0];
    }
    if (!pl->off || !pl->est || !pl->spont || !pl->top || !j->cur[0] || !j->cur[1] || !j->ebuf[0] || !j->ebuf[1])
        return -1;
    memset(pl->est, 0, nk);
    memset(j->cur[0], 0, nk * sizeof *j->cur[0]);
    memset(j->cur[1], 0, nk * sizeof *j->cur[1]);
    return 0;
}

static int plan_columns(cg_plan *pl, const pstats_stats *s, double scale,
                        const pymarshal_allocator *a)
{
    size_t nk = pstats_nkeys(s), mid = plan_split(s);
    pl->nkeys = nk;
    if (s->nedges >= UINT32_MAX)
        return -1;
    plan_job j;
    memset(&j, 0, sizeof j);
    j.pl = pl;
    j.s = s;
    j.scale = scale;
    int par = nk >= CG_PAR_PLAN || ps_threads_forced(s);
    int rc = plan_alloc(pl, &j, nk, par, a);
    if (rc == 0) {
        cm_halves(plan_half, &j, nk, mid, par, NULL);
        /* rows from the counts; half 0 fills from a row's start, half 1
         * back from its end */
        pl->off[0] = 0;
        for (size_t f = 0; f < nk; f++) {
            pl->off[f + 1] = pl->off[f] + j.cur[0][f] + j.cur[1][f];
            j.cur[0][f] = pl->off[f];
            j.cur[1][f] = pl->off[f + 1];
        }
        pl->n = pl->off[nk];
        pl->e = cm_malloc(a, (pl->n ? pl->n : 1) * sizeof *pl->e);
        rc = pl->e ? 0 : -1;
    }
    if (rc == 0) {
        j.fill = 1;
        cm_halves(plan_half, &j, nk, mid, par, NULL);
    }
    if (j.ebuf[1] != j.ebuf[0])
        cm_free(a, j.ebuf[1]);
    cm_free(a, j.ebuf[0]);
    cm_free(a, j.cur[0]);
    cm_free(a, j.cur[1]);
    return rc;
}

/* Step 5 (rows) for f: caps the outgoing costs; returns the cost for the
 * pseudo-function. *over: f's calls out of its cycle alone needed more than
 * f had (beyond rounding). */
static uint64_t plan_row(cg_plan *pl, const pstats_stats *s, uint32_t f, int *over)
{
    uint64_t budget = pstats_cg_budget(s, f, pl->scale);
    cg_edge *row = pl->e + pl->off[f];
    size_t m = pl->off[f + 1] - pl->off[f];
    *over = 0;
    if (budget == CG_NO_BUDGET) /* named only as a caller: no cumtime to meet */
        return 0;
    const uint32_t *comp = pl->comp;
    uint32_t mine = comp[f];
    double out = 0, in = 0; /* calls out of f's cycle, and inside it */
    uint64_t used = 0;
    for (size_t k = 0; k < m; k++) {
        if (row[k].callee == f)
            row[k].cost = 0; /* self-recursion: inside f's own time */
        else if (comp[row[k].callee] == mine)
            in += (double)row[k].cost;
        else
            out += (double)row[k].cost;
    }
    double tol = 0.5 * (double)m + 1; /* rounding */
    if (out + in > (double)budget) { /* never above the budget */
        /* calls out of the cycle keep their time when they fit; those
         * inside it share what is left */
        int keep_out = out <= (double)budget;
        uint64_t share = budget;
        if (keep_out)
            for (size_t k = 0; k < m; k++)
                if (row[k].callee != f && comp[row[k].callee] != mine)
                    share -= row[k].cost;
        double sum = keep_out ? in : out, prefix = 0;
        for (size_t k = 0; k < m; k++) {
            if (row[k].callee == f || (comp[row[k].callee] != mine) == keep_out)
                continue;
            uint64_t c = cum_share(share, prefix, prefix + (double)row[k].cost, sum);
            prefix += (double)row[k].cost;
            row[k].cost = c;
        }
        if (!keep_out)
            for (size_t k = 0; k < m; k++)
                if (row[k].callee != f && comp[row[k].callee] == mine)
                    row[k].cost = 0;
        *over = out > (double)budget + tol;
        used = budget;
    } else {
        for (size_t k = 0; k < m; k++)
            used += row[k].cost;
    }
    uint64_t left = budget - used;
    /* The pseudo-call only where KCachegrind computes Incl. from the
     * outgoing calls: functions nobody calls. Elsewhere the gap is left out
     * (Incl. comes from the incoming calls), and many overlapping gaps
     * would make the pseudo-function look bigger than the whole run. */
    if (pstats_ncallers(s, f) > 0)
        return 0;
    return (double)left > tol ? left : 0;
}

/* Step 5, row by row (rows are independent: two threads); the pseudo-calls
 * found go to gaps[half], the rows that were over to over[half], in
 * function order. */
typedef struct rows_job {
    cg_plan *pl;
    const pstats_stats *s;
    double scale;
    cg_gap *gaps[2];
    size_t n[2], cap[2];
    uint32_t *over[2];
    size_t nover[2], capover[2];
} rows_job;

static int plan_rows(void *ctx, int half, size_t from, size_t to, const pymarshal_allocator *a)
{
    rows_job *j = ctx;
    for (size_t f = from; f < to; f++) {
        int over;
        uint64_t gap = plan_row(j->pl, j->s, (uint32_t)f, &over);
        if (over) {
            if (cm_reserve(a, (void **)&j->over[half], &j->capover[half], j->nover[half] + 1,
                           sizeof *j->over[half]) != 0)
                return -1;
            j->over[half][j->nover[half]++] = (uint32_t)f;
        }
        if (gap == 0)
            continue;
        if (cm_reserve(a, (void **)&j->gaps[half], &j->cap[half], j->n[half] + 1,
                       sizeof *j->gaps[half]) != 0)
            return -1;
        cg_gap *g = &j->gaps[half][j->n[half]++];
        g->cost = gap;
        g->f = (uint32_t)f;
        g->marks = 0;
    }
    return 0;
}

/* The functions outside cycles called by the rows that were over, and
 * those the fit left short: they cannot show their cumtime. */
static int list_inexact(cg_plan *pl, const uint32_t *over, size_t nover,
                        const pymarshal_allocator *a)
{
    size_t nk = pl->nkeys, n = 0;
    uint8_t *hit = pl->est; /* reused: 2 (short after the fit) or 0 */
    for (size_t g = 0; g < nk; g++) {
        hit[g] = hit[g] == 2;
        n += hit[g];
    }
    for (size_t i = 0; i < nover; i++)
        for (uint32_t k = pl->off[over[i]]; k < pl->off[over[i] + 1]; k++) {
            uint32_t g = pl->e[k].callee;
            if (g != over[i] && (pl->comp[g] & CG_ALONE) && !hit[g]) {
                hit[g] = 1;
                n++;
            }
        }
    pl->inexact = cm_malloc(a, (n ? n : 1) * sizeof *pl->inexact);
    if (pl->inexact)
        for (size_t g = 0; g < nk; g++)
            if (hit[g])
                pl->inexact[pl->ninexact++] = (uint32_t)g;
    return pl->inexact ? 0 : -1;
}

/* Two threads for the rows from this many functions up. */
#define CG_PAR_ROWS 16384

static int plan_all_rows(cg_plan *pl, const pstats_stats *s, double scale,
                         const pymarshal_allocator *a)
{
    size_t nk = pl->nkeys;
    rows_job j;
    memset(&j, 0, sizeof j);
    j.pl = pl;
    j.s = s;
    j.scale = scale;
    int rc = cm_halves(plan_rows, &j, nk, nk / 2, nk >= CG_PAR_ROWS || ps_threads_forced(s), a);
    /* half 1's after half 0's */
    if (rc == 0 && j.n[1] &&
        cm_reserve(a, (void **)&j.gaps[0], &j.cap[0], j.n[0] + j.n[1], sizeof *j.gaps[0]) != 0)
        rc = -1;
    if (rc == 0 && j.n[1])
        memcpy(j.gaps[0] + j.n[0], j.gaps[1], j.n[1] * sizeof *j.gaps[1]);
    if (rc == 0 && j.nover[1] &&
        cm_reserve(a, (void **)&j.over[0], &j.capover[0], j.nover[0] + j.nover[1],
                   sizeof *j.over[0]) != 0)
        rc = -1;
    if (rc == 0 && j.nover[1])
        memcpy(j.over[0] + j.nover[0], j.over[1], j.nover[1] * sizeof *j.over[1]);
    if (rc == 0)
        rc = list_inexact(pl, j.over[0], j.nover[0] + j.nover[1], a);
    cm_free(a, j.gaps[1]);
    cm_free(a, j.over[0]);
    cm_free(a, j.over[1]);
    pl->gaps = j.gaps[0];
    pl->ngaps = rc == 0 ? j.n[0] + j.n[1] : 0;
    pl->cap_gaps = j.cap[0];
    return rc;
}

/* Step 3: the calls of [spontaneous calls]. A cycle that nobody outside it
 * calls (like the import machinery around the program's top-level exec)
 * gets the part of its members' cumtime that no recorded call covers, so
 * that the readers' inclusive cost (from the incoming calls) is the
 * cumtime, and gprof2dot finds the cycle's entry. And what a caller with
 * no time at all was to give (the profile module's profile:0(profiler),
 * which stands for the top level) is given by the pseudo-caller instead. */
static uint64_t root_call(const cg_plan *pl, const uint8_t *entered, uint32_t g)
{
    uint64_t c = pl->top[g];
    if (!(pl->comp[g] & CG_ALONE) && !entered[pl->comp[g]])
        c += pl->spont[g];
    return c;
}

static int plan_roots(cg_plan *pl, const pymarshal_allocator *a)
{
    size_t nk = pl->nkeys, n = 0;
    uint8_t *entered = cm_malloc(a, nk ? nk : 1); /* by component id */
    if (!entered)
        return -1;
    memset(entered, 0, nk);
    for (uint32_t c = 0; c < nk; c++)
        for (uint32_t k = pl->off[c]; k < pl->off[c + 1] && !pl->empty[c]; k++) {
            uint32_t g = pl->e[k].callee;
            if (pl->comp[g] != pl->comp[c])
                entered[pl->comp[g] & ~CG_ALONE] = 1;
        }
    for (uint32_t g = 0; g < nk; g++)
        n += root_call(pl, entered, g) > 0;
    pl->roots = cm_malloc(a, (n ? n : 1) * sizeof *pl->roots);
    if (pl->roots)
        for (uint32_t g = 0; g < nk; g++)
            if (root_call(pl, entered, g) > 0) {
                cg_gap *r = &pl->roots[pl->nroots++];
                r->cost = root_call(pl, entered, g);
                r->f = g;
                r->marks = 0;
            }
    cm_free(a, entered);
    return pl->roots ? 0 : -1;
}

/* The functions with no time at all and no caller (all four numbers 0): a
 * caller that stands for the top level, not for time of its own. */
static int mark_empty(cg_plan *pl, const pstats_stats *s, const pymarshal_allocator *a)
{
    size_t nk = pstats_nkeys(s);
    pl->empty = cm_malloc(a, nk ? nk : 1);
    if (!pl->empty)
        return -1;
    for (size_t f = 0; f < nk; f++) {
        const pkey *k = &s->keys[f];
        int zero = f < s->nstats && k->nedges == 0;
        for (int i = 0; i < 4 && zero; i++)
            zero = ((k->kinds >> (2 * i)) & 3u) <= PN_FLOAT && k->v[i] == 0;
        pl->empty[f] = (uint8_t)zero;
    }
    return 0;
}

/* Frees what the steps done no longer need: the memory a conversion peaks
 * with is the model, the rows and one step's arrays, never all of them. */
enum { PLAN_ROOTS_DONE, PLAN_ROWS_DONE };

static void plan_drop(cg_plan *pl, const pymarshal_allocator *a, int done)
{
    cm_free(a, pl->spont);
    cm_free(a, pl->top);
    cm_free(a, pl->empty);
    pl->spont = pl->top = NULL;
    pl->empty = NULL;
    if (done == PLAN_ROOTS_DONE)
        return;
    cm_free(a, pl->comp);
    cm_free(a, pl->est);
    pl->comp = NULL;
    pl->est = NULL;
}

int pstats_cg_plan_build(cg_plan *pl, const pstats_stats *s, double scale,
                         const pymarshal_allocator *a)
{
    memset(pl, 0, sizeof *pl);
    pl->s = s;
    pl->scale = scale;
    size_t nk = pstats_nkeys(s);
    pl->comp = cm_malloc(a, (nk ? nk : 1) * sizeof *pl->comp);
    /* ids and the tag share 32 bits */
    if (!pl->comp || nk >= CG_ALONE || ps_components(s, 1, NULL, CG_ALONE, pl->comp, a) < 0 ||
        mark_empty(pl, s, a) != 0 ||
        plan_columns(pl, s, scale, a) != 0 || plan_roots(pl, a) != 0)
        return -1;
    plan_drop(pl, a, PLAN_ROOTS_DONE); /* room for the fit */
    if (pstats_cg_fit(pl, a) != 0 || plan_all_rows(pl, s, scale, a) != 0)
        return -1;
    plan_drop(pl, a, PLAN_ROWS_DONE); /* formatting needs the rows alone */
    return 0;
}

void pstats_cg_plan_free(cg_plan *pl, const pymarshal_allocator *a)
{
    cm_free(a, pl->off);
    cm_free(a, pl->e);
    cm_free(a, pl->comp);
    cm_free(a, pl->est);
    cm_free(a, pl->spont);
    cm_free(a, pl->top);
    cm_free(a, pl->empty);
    cm_free(a, pl->roots);
    cm_free(a, pl->gaps);
    cm_free(a, pl->inexact);
    memset(pl, 0, sizeof *pl);
}

uint64_t pstats_cg_edge_count(const pstats_stats *s, uint32_t caller, const cg_edge *e)
{
    if (e->count != CG_COUNT_BIG)
        return e->count;
    for (size_t k = 0, n = pstats_ncallers(s, e->callee); k < n; k++) {
        pstats_edge full;
        pstats_caller_get(s, e->callee, k, &full);
        if (full.caller == caller) /* a callee's callers are distinct */
            return (uint64_t)full.nc;
    }
    return CG_COUNT_BIG;
}
