/*
 * Call costs for the callgrind writer.
 *
 * pstats records, per caller -> callee edge, the callee's cumulative time
 * for the calls from that caller (only the outermost call while the pair is
 * active). Readers compute "inclusive" from the call lines: KCachegrind
 * takes, for a function that has callers, the sum of its incoming calls
 * (self-recursive calls left out); for a function without callers, its self
 * cost plus its outgoing calls. callgrind_annotate --inclusive=yes sums
 * incoming calls too. So the costs are planned in two steps:
 *  1. columns: each function's incoming calls from other functions share
 *     its cumtime (max(tottime, cumtime)) in proportion to the recorded
 *     per-edge times (profile-module int edges: count x the callee's
 *     cumtime per primitive call; all weights 0: the call counts), so that
 *     KCachegrind's "Incl." is pstats' cumtime;
 *  2. rows: a function's outgoing calls never add up to more than
 *     max(tottime, cumtime) - tottime (scaled down when they do: recursion
 *     through other functions, profiles dumped mid-run); a self-recursive
 *     call gets what is left, up to its recorded time; what is still left
 *     (callee time the profile recorded in cumtime but in no call) goes to
 *     the pseudo-function when nobody calls the function (KCachegrind's
 *     Incl. of such a function is self + calls), and is left out elsewhere.
 * Integers are rounded by cumulative rounding: the parts add up exactly.
 */
#include <string.h>

#include "pstats_callgrind_int.h"
#include "pstats_internal.h"

#define CG_MAX_COST 9000000000000000000.0 /* below 2^63, far above any profile */

uint64_t pstats_cg_units(double seconds, double scale)
{
    double v = seconds * scale;
    if (!(v > 0))
        return 0;
    if (v >= CG_MAX_COST)
        return (uint64_t)CG_MAX_COST;
    return (uint64_t)(v + 0.5);
}

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

/* Step 1 for callee g: fills its incoming edges into their callers' rows.
 * ebuf: room for g's callers. */
static void plan_column(cg_plan *pl, const pstats_stats *s, uint32_t g, double scale,
                        uint32_t *cursor, pstats_edge *ebuf)
{
    pstats_func callee;
    pstats_func_get(s, g, &callee);
    uint64_t self, target = incl_target(&callee, scale, &self);
    size_t n = pstats_ncallers(s, g);
    double wsum = 0, nsum = 0;
    for (size_t k = 0; k < n; k++) {
        const pstats_edge *e = &ebuf[k];
        pstats_caller_get(s, g, k, &ebuf[k]);
        if (e->caller != g) {
            wsum += edge_weight(e, &callee);
            nsum += e->nc > 0 ? (double)e->nc : 0;
        }
    }
    int by_count = !(wsum > 0);
    double sum = by_count ? nsum : wsum, prefix = 0;
    for (size_t k = 0; k < n; k++) {
        const pstats_edge *e = &ebuf[k];
        if (e->caller >= pl->nkeys)
            continue;
        cg_edge *out = &pl->e[cursor[e->caller]++];
        double w = edge_weight(e, &callee);
        out->callee = g;
        out->count = e->nc <= 0 ? 0 : e->nc < CG_COUNT_BIG ? (uint32_t)e->nc : CG_COUNT_BIG;
        if (e->caller == g) { /* self-recursion: its recorded time, capped by the row */
            out->cost = pstats_cg_units(w, scale);
            continue;
        }
        double x = by_count ? (e->nc > 0 ? (double)e->nc : 0) : w;
        out->cost = callee.in_stats ? cum_share(target, prefix, prefix + x, sum)
                                    : pstats_cg_units(w, scale);
        prefix += x;
    }
}

int pstats_cg_plan_build(cg_plan *pl, const pstats_stats *s, double scale,
                         const pymarshal_allocator *a)
{
    memset(pl, 0, sizeof *pl);
    size_t nk = pstats_nkeys(s), ne = 0, maxd = 1;
    pl->nkeys = nk;
    if (s->nedges >= UINT32_MAX)
        return -1;
    pl->off = pm_malloc(a, (nk + 1) * sizeof *pl->off);
    if (!pl->off)
        return -1;
    memset(pl->off, 0, (nk + 1) * sizeof *pl->off);
    /* off[f + 1]: f's row length; then off[f] the start of f's row, moved
     * along as the row fills (so off[f] ends where row f + 1 starts) */
    for (uint32_t g = 0; g < s->nstats; g++) { /* only the dict's keys have callers */
        const pkey *k = &s->keys[g];
        maxd = k->nedges > maxd ? k->nedges : maxd;
        for (uint32_t e = k->edge_start; e < k->edge_start + k->nedges; e++)
            if (s->edges[e].caller < nk) {
                pl->off[s->edges[e].caller + 1]++;
                ne++;
            }
    }
    for (size_t f = 0; f < nk; f++)
        pl->off[f + 1] += pl->off[f];
    pl->e = pm_malloc(a, (ne ? ne : 1) * sizeof *pl->e);
    pstats_edge *ebuf = pm_malloc(a, maxd * sizeof *ebuf);
    if (!pl->e || !ebuf) {
        pm_free(a, ebuf);
        return -1;
    }
    pl->n = ne;
    for (uint32_t g = 0; g < nk; g++)
        plan_column(pl, s, g, scale, pl->off, ebuf);
    pm_free(a, ebuf);
    for (size_t f = nk; f > 0; f--)
        pl->off[f] = pl->off[f - 1];
    pl->off[0] = 0;
    return 0;
}

uint64_t pstats_cg_plan_row(cg_plan *pl, const pstats_stats *s, uint32_t f,
                            const pstats_func *fn, double scale, uint64_t *self)
{
    uint64_t budget = incl_target(fn, scale, self) - *self;
    cg_edge *row = pl->e + pl->off[f];
    size_t m = pl->off[f + 1] - pl->off[f];
    if (!fn->in_stats) /* named only as a caller: no cumtime to meet */
        return 0;
    double sum = 0;
    cg_edge *selfcall = NULL;
    for (size_t k = 0; k < m; k++) {
        if (row[k].callee == f)
            selfcall = &row[k];
        else
            sum += (double)row[k].cost;
    }
    uint64_t used = 0;
    if (sum > (double)budget) { /* step 2: never above the budget */
        double prefix = 0;
        for (size_t k = 0; k < m; k++)
            if (&row[k] != selfcall) {
                uint64_t c = cum_share(budget, prefix, prefix + (double)row[k].cost, sum);
                prefix += (double)row[k].cost;
                row[k].cost = c;
            }
        used = budget;
    } else {
        for (size_t k = 0; k < m; k++)
            if (&row[k] != selfcall)
                used += row[k].cost;
    }
    uint64_t left = budget - used;
    if (selfcall) {
        if (selfcall->cost > left)
            selfcall->cost = left;
        left -= selfcall->cost;
    }
    /* The pseudo-call only where KCachegrind computes Incl. from the
     * outgoing calls: functions nobody calls. Elsewhere the gap is left out
     * (Incl. comes from the incoming calls), and many overlapping gaps
     * would make the pseudo-function look bigger than the whole run. */
    double tol = 0.5 * (double)m + 1; /* rounding: not worth a pseudo-call */
    if (pstats_ncallers(s, f) > 0)
        return 0;
    return (double)left > tol ? left : 0;
}

void pstats_cg_plan_free(cg_plan *pl, const pymarshal_allocator *a)
{
    pm_free(a, pl->off);
    pm_free(a, pl->e);
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
