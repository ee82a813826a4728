/*
 * The fit of call costs (callgrind_costs.c calls it between the columns
 * and the rows), in two passes.
 *
 * Outer pass, estimated calls out of cycles: `profile`-module files record
 * only a count per call, so the columns share a callee's cumtime among its
 * callers by count x the callee's time per call, an estimate that can ask
 * a caller for more than it had. But both sums are known: each callee
 * outside a cycle must receive its cumtime from its callers (its column),
 * and each caller may give at most cumtime - tottime (its row). Choosing
 * the costs is a feasibility problem (a flow). It is solved by fitting rows
 * and columns in turn (iterative proportional fitting: rows over their
 * budget scaled down onto it, columns outside cycles scaled back up to
 * their cumtime), which keeps the estimate's proportions, then by
 * augmenting paths for what the rounds leave short (they converge slowly
 * where rows are tight). Where no path is left the data allow no exact
 * solution: those functions are marked (est 2) for the rows step to name.
 * Calls with recorded times keep them and are taken off the caller's
 * budget first.
 *
 * Inner pass, calls inside cycles (every profile with a cycle): their
 * recorded times overlap (nested recursion), so no assignment makes every
 * member exact. The calls get, in proportion, what their caller has left
 * after its calls out of the cycle (the rows step's rule), and then
 * augmenting paths move time to members still short from callers in the
 * cycle that have some left: the readers' inclusive cost of members comes
 * as close to cumtime as the callers' budgets allow, never above it.
 *
 * Linear passes over the plan's flat arrays (at most FIT_ROUNDS), and path
 * searches within a budget of visits. Works on the plan (and the model's
 * numbers for the callers' budgets, callgrind_model.h) and calls nothing
 * else of the writer. Memory beyond the plan: three doubles per function,
 * two stamps and a column index per function, the caller of each fitted
 * call, and the largest search's queue.
 */
#include <math.h>
#include <string.h>

#include "callgrind_int.h"
#include "callgrind_model.h"

/* Rounds of rows + columns; consistent profiles need a few (the real
 * ones here: at most ~40). */
#define FIT_ROUNDS 100
/* A row is over when it exceeds its budget by more than this (units). */
#define FIT_SLACK 0.25

typedef struct fit {
    cg_plan *pl;
    int inner;                    /* 0: estimated calls out of cycles; 1: calls
                                   * inside cycles */
    double *cap;                  /* per caller: what its fitted calls may take
                                   * (during the path searches: what it can
                                   * still give) */
    double *want;                 /* per callee outside cycles: what its fitted
                                   * calls must bring */
    double *got;                  /* per callee: what they bring now */
} fit;

/* While a pass runs, a fitted call carries FIT_BIT on its callee (ids stay
 * below 2^31: pstats_cg_plan_build) and its cost, as a double, in the bytes of
 * its integer cost: no second array per call. The pass ends with every
 * fitted cost rounded back to an integer and the bits cleared. */
#define FIT_BIT 0x80000000u

static inline int is_fit(const cg_edge *e)
{
    return (e->callee & FIT_BIT) != 0;
}

static inline uint32_t callee_of(const cg_edge *e)
{
    return e->callee & ~FIT_BIT;
}

static inline double x_of(const cg_edge *e)
{
    double x;
    memcpy(&x, &e->cost, sizeof x);
    return x;
}

static inline void x_set(cg_edge *e, double x)
{
    memcpy(&e->cost, &x, sizeof x);
}

/* The callers whose calls may be fitted: all (outer), or those in cycles
 * (inner); no other row has a fitted call. */
static inline int is_row(const fit *ft, uint32_t c)
{
    return !ft->inner || !(ft->pl->comp[c] & CG_ALONE);
}

static int fitted(const fit *ft, uint32_t caller, uint32_t callee)
{
    const cg_plan *pl = ft->pl;
    if (callee == caller)
        return 0;
    if (ft->inner)
        return pl->comp[callee] == pl->comp[caller];
    return pl->est[callee] && pl->comp[callee] != pl->comp[caller];
}

/* A column the fit must fill. */
static int target(const fit *ft, uint32_t g)
{
    const cg_plan *pl = ft->pl;
    return ft->inner ? !(pl->comp[g] & CG_ALONE) : (pl->comp[g] & CG_ALONE) && pl->est[g];
}

/* The fitted calls flagged (their costs still integers), cap and want
 * from the plan (budgets as the rows step takes them). 1 when some row's
 * fitted calls are over its cap (the first rows step would change it). */
static int fit_init(fit *ft)
{
    cg_plan *pl = ft->pl;
    memset(ft->want, 0, pl->nkeys * sizeof *ft->want);
    int over = 0;
    for (uint32_t c = 0; c < pl->nkeys; c++) {
        if (!is_row(ft, c))
            continue;
        double fixed = 0, sum = 0;
        for (uint32_t k = pl->off[c]; k < pl->off[c + 1]; k++) {
            uint32_t g = pl->e[k].callee;
            if (fitted(ft, c, g)) {
                pl->e[k].callee = g | FIT_BIT;
                ft->want[g] += (double)pl->e[k].cost;
                sum += (double)pl->e[k].cost;
            } else if (g != c && pl->comp[g] != pl->comp[c]) {
                fixed += (double)pl->e[k].cost; /* calls out of the cycle first */
            }
        }
        uint64_t b = pstats_cg_budget(pl->s, c, pl->scale);
        double budget = (double)b;
        ft->cap[c] = b == CG_NO_BUDGET ? INFINITY
                     : budget > fixed                ? budget - fixed
                                                     : 0;
        over |= sum > ft->cap[c] + FIT_SLACK;
    }
    return over;
}

enum { FIT_TO_DOUBLE, FIT_ROUND, FIT_UNFLAG };

/* The fitted costs turned into doubles, or rounded back to integers with
 * their flags cleared, or (still integers) only their flags cleared. */
static void fit_convert(fit *ft, int how)
{
    cg_plan *pl = ft->pl;
    for (size_t k = 0; k < pl->n; k++) {
        cg_edge *e = &pl->e[k];
        if (!is_fit(e))
            continue;
        if (how == FIT_TO_DOUBLE) {
            x_set(e, (double)e->cost);
            continue;
        }
        if (how == FIT_ROUND) {
            double x = x_of(e);
            e->cost = x > 0 ? (uint64_t)(x + 0.5) : 0;
        }
        e->callee = callee_of(e);
    }
}

/* Scales the rows over their cap down onto it; 1 when some was over. */
static int fit_rows(fit *ft)
{
    cg_plan *pl = ft->pl;
    int over = 0;
    for (uint32_t c = 0; c < pl->nkeys; c++) {
        if (!is_row(ft, c))
            continue;
        double sum = 0;
        for (uint32_t k = pl->off[c]; k < pl->off[c + 1]; k++)
            if (is_fit(&pl->e[k]))
                sum += x_of(&pl->e[k]);
        if (!(sum > ft->cap[c] + FIT_SLACK))
            continue;
        double r = ft->cap[c] / sum;
        for (uint32_t k = pl->off[c]; k < pl->off[c + 1]; k++)
            if (is_fit(&pl->e[k]))
                x_set(&pl->e[k], x_of(&pl->e[k]) * r);
        over = 1;
    }
    return over;
}

/* The outer pass's rounds (at most FIT_ROUNDS, while some row is over):
 * rows over their cap scaled down onto it, then every column outside a
 * cycle scaled back up to what it must bring. One sweep over the calls per
 * round: a row's calls first take the column factors of the round before,
 * then the row is scaled, then its calls are added up by column for this
 * round's factors (the same products and sums, in the same order, as a
 * sweep for each step). factor: room for a double per function. */
static void fit_rounds(fit *ft, double *factor)
{
    cg_plan *pl = ft->pl;
    int pending = 0; /* factors not applied yet */
    for (int round = 0; round < FIT_ROUNDS; round++) {
        int over = 0;
        memset(ft->got, 0, pl->nkeys * sizeof *ft->got);
        for (uint32_t c = 0; c < pl->nkeys; c++) {
            cg_edge *row = pl->e + pl->off[c], *end = pl->e + pl->off[c + 1];
            double sum = 0;
            for (cg_edge *e = row; e < end; e++)
                if (is_fit(e)) {
                    double x = x_of(e);
                    if (pending) {
                        x *= factor[callee_of(e)];
                        x_set(e, x);
                    }
                    sum += x;
                }
            if (sum > ft->cap[c] + FIT_SLACK) {
                double r = ft->cap[c] / sum;
                for (cg_edge *e = row; e < end; e++)
                    if (is_fit(e))
                        x_set(e, x_of(e) * r);
                over = 1;
            }
            for (cg_edge *e = row; e < end; e++)
                if (is_fit(e))
                    ft->got[callee_of(e)] += x_of(e);
        }
        if (!over)
            return;
        for (uint32_t g = 0; g < pl->nkeys; g++)
            factor[g] = (pl->comp[g] & CG_ALONE) && ft->got[g] > 0 ? ft->want[g] / ft->got[g] : 1;
        pending = 1;
    }
    for (size_t k = 0; k < pl->n; k++) /* the last round's columns */
        if (is_fit(&pl->e[k]))
            x_set(&pl->e[k], x_of(&pl->e[k]) * factor[callee_of(&pl->e[k])]);
}

/* After the rounds (they converge slowly where rows are tight), what the
 * columns outside cycles still lack is found along augmenting paths, as a
 * flow: a caller with room left gives more to the column; or a caller at
 * its cap gives more to it and less to another callee, which is then made
 * up by another caller, and so on; or such a caller gives less to a call
 * into a cycle (whose callee's share is soft). The paths are searched
 * breadth first, within a budget of call visits (bounded memory and time);
 * where no path is left, the column cannot be met: the callers it can
 * reach have given all they had. */
/* A function the search reached, and how: the path back to the column
 * searched from goes through the entries `from` names. */
typedef struct aug_node {
    uint32_t node;                /* callers as c << 1, callees as g << 1 | 1 */
    uint32_t via;                 /* a caller: its call (c -> g) to raise; a
                                   * callee: its call to lower */
    uint32_t from;                /* the entry it was reached from */
} aug_node;

typedef struct aug {
    fit *ft;
    uint32_t *col_off;            /* fitted calls by callee: where each column's
                                   * callers start (the call: find_call) */
    double *room;                 /* per caller: what it can still give (the
                                   * fit's cap, which the search no longer
                                   * needs) */
    uint32_t *seen;               /* per function: the roles (SEEN_C, SEEN_G) it
                                   * was reached in, under this search's stamp
                                   * (stamp << 2); AUG_DEAD: as a caller, it
                                   * reached no room in a whole search */
    aug_node *queue;              /* this search's, grown as it needs */
    size_t qcap;
    const pymarshal_allocator *a;
    uint32_t stamp;
    size_t visits;                /* left, in all searches */
} aug;

#define AUG_EPS 1e-6
#define AUG_DEAD 0x80000000u
#define SEEN_C 1u
#define SEEN_G 2u
#define AUG_STAMPS (1u << 29) /* searches (a real fit makes far fewer) */

static inline int seen(const aug *ag, uint32_t f, uint32_t t, uint32_t role)
{
    uint32_t m = ag->seen[f];
    return ((m & ~AUG_DEAD) >> 2) == t && (m & role);
}

static inline void see(aug *ag, uint32_t f, uint32_t t, uint32_t role)
{
    uint32_t m = ag->seen[f];
    uint32_t roles = ((m & ~AUG_DEAD) >> 2) == t ? m & 3u : 0;
    ag->seen[f] = (m & AUG_DEAD) | t << 2 | roles | role;
}

/* The callers of the fitted calls, column by column, are kept in the
 * plan's count fields (entry i in e[i].count: there are fewer fitted calls
 * than calls), which the fit does not read; restore_counts puts the
 * counts back from the model afterwards. No array per fitted call. */
static inline uint32_t *col_caller(const aug *ag, size_t i)
{
    return &ag->ft->pl->e[i].count;
}

static void aug_free(aug *ag, const pymarshal_allocator *a)
{
    cm_free(a, ag->col_off);
    cm_free(a, ag->seen);
    cm_free(a, ag->queue);
}

/* Counts the fitted calls by callee (col_off) and what each column has
 * (got); returns how many there are. */
static size_t aug_count(aug *ag)
{
    fit *ft = ag->ft;
    const cg_plan *pl = ft->pl;
    size_t nk = pl->nkeys;
    memset(ag->col_off, 0, (nk + 1) * sizeof *ag->col_off);
    memset(ft->got, 0, nk * sizeof *ft->got);
    for (uint32_t c = 0; c < nk; c++)
        if (is_row(ft, c))
            for (uint32_t k = pl->off[c]; k < pl->off[c + 1]; k++)
                if (is_fit(&pl->e[k])) {
                    ag->col_off[callee_of(&pl->e[k]) + 1]++;
                    ft->got[callee_of(&pl->e[k])] += x_of(&pl->e[k]);
                }
    for (size_t g = 0; g < nk; g++)
        ag->col_off[g + 1] += ag->col_off[g];
    return ag->col_off[nk];
}

/* The search's arrays: a column index and the stamps, per function. *nfit:
 * how many calls are fitted. */
static int aug_alloc(aug *ag, size_t *nfit, const pymarshal_allocator *a)
{
    size_t nk = ag->ft->pl->nkeys ? ag->ft->pl->nkeys : 1;
    ag->col_off = cm_malloc(a, (nk + 1) * sizeof *ag->col_off);
    if (!ag->col_off)
        return -1;
    *nfit = aug_count(ag);
    ag->seen = cm_malloc(a, nk * sizeof *ag->seen);
    ag->a = a;
    return ag->seen ? 0 : -1;
}

/* Columns (fitted calls by callee) and rooms, after aug_alloc counted. */
static void aug_init(aug *ag)
{
    fit *ft = ag->ft;
    const cg_plan *pl = ft->pl;
    size_t nk = pl->nkeys;
    ag->room = ft->cap;
    memcpy(ag->seen, ag->col_off, nk * sizeof *ag->seen); /* fill cursors */
    for (uint32_t c = 0; c < nk; c++) {
        if (!is_row(ft, c))
            continue;
        for (uint32_t k = pl->off[c]; k < pl->off[c + 1]; k++)
            if (is_fit(&pl->e[k])) {
                uint32_t at = ag->seen[callee_of(&pl->e[k])]++;
                *col_caller(ag, at) = c;
                ag->room[c] -= x_of(&pl->e[k]);
            }
    }
    memset(ag->seen, 0, nk * sizeof *ag->seen);
    ag->stamp = 0;
    /* Outside cycles (estimates), every column is made exact where it can
     * be; inside cycles, where overlap leaves many columns short anyway, a
     * budget of one visit per call and function: on real profiles a larger
     * one makes a few more functions exact for many more instructions (4x:
     * +4 % of a whole conversion). */
    ag->visits = (ft->inner ? 1 : 32) * (pl->n + nk);
}

/* Moves `amt` along the path that ends at caller c, reached as `at` says
 * (end: the call into a cycle to lower, or UINT32_MAX when c gives from
 * its room). */
static void aug_apply(aug *ag, uint32_t g0, const aug_node *at, uint32_t end, double amt)
{
    fit *ft = ag->ft;
    cg_edge *e = ft->pl->e;
    if (end == UINT32_MAX)
        ag->room[at->node >> 1] -= amt;
    else
        x_set(&e[end], x_of(&e[end]) - amt);
    for (;;) {
        uint32_t k = at->via, g = callee_of(&e[k]);
        x_set(&e[k], x_of(&e[k]) + amt);
        if (g == g0)
            break;
        const aug_node *callee = &ag->queue[at->from];
        x_set(&e[callee->via], x_of(&e[callee->via]) - amt);
        at = &ag->queue[callee->from];
    }
    ft->got[g0] += amt;
}

/* The most that can move along that path. */
static double aug_amount(const aug *ag, uint32_t g0, const aug_node *at, uint32_t end,
                         double amt)
{
    const cg_edge *e = ag->ft->pl->e;
    double endcap = end == UINT32_MAX ? ag->room[at->node >> 1] : x_of(&e[end]);
    amt = endcap < amt ? endcap : amt;
    for (;;) {
        uint32_t g = callee_of(&e[at->via]);
        if (g == g0)
            return amt;
        const aug_node *callee = &ag->queue[at->from];
        double x = x_of(&e[callee->via]);
        amt = x < amt ? x : amt;
        at = &ag->queue[callee->from];
    }
}

/* Moves what column g0 lacks, or what the path allows, along it. */
static void aug_move(aug *ag, uint32_t g0, const aug_node *at, uint32_t end)
{
    const fit *ft = ag->ft;
    double lack = ft->want[g0] - ft->got[g0];
    aug_apply(ag, g0, at, end, aug_amount(ag, g0, at, end, lack));
}

/* The call c -> g (fitted: in c's row, which is in callee order, once). */
static uint32_t find_call(const cg_plan *pl, uint32_t c, uint32_t g)
{
    uint32_t lo = pl->off[c], hi = pl->off[c + 1];
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (callee_of(&pl->e[mid]) <= g)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* Appends an entry to the search's queue; -1 when out of memory. */
static int aug_push(aug *ag, size_t *tail, uint32_t node, uint32_t via, size_t from)
{
    if (*tail == ag->qcap &&
        cm_reserve(ag->a, (void **)&ag->queue, &ag->qcap, *tail + 1, sizeof *ag->queue) != 0)
        return -1;
    aug_node *n = &ag->queue[(*tail)++];
    n->node = node;
    n->via = via;
    n->from = (uint32_t)from;
    return 0;
}

/* Callee entry `at` (v = its function): a caller of v can raise its call.
 * 1 when one had room (moved), 0 when the callers are queued, -1 when out
 * of memory. */
static int aug_callee(aug *ag, uint32_t g0, size_t at, size_t *tail, uint32_t t)
{
    uint32_t v = ag->queue[at].node >> 1;
    for (uint32_t i = ag->col_off[v]; i < ag->col_off[v + 1] && ag->visits > 0;
         i++, ag->visits--) {
        uint32_t c = *col_caller(ag, i);
        if ((ag->seen[c] & AUG_DEAD) || seen(ag, c, t, SEEN_C))
            continue;
        see(ag, c, t, SEEN_C);
        aug_node n = {c << 1, find_call(ag->ft->pl, c, v), (uint32_t)at};
        if (ag->room[c] > AUG_EPS) {
            aug_move(ag, g0, &n, UINT32_MAX);
            return 1;
        }
        if (aug_push(ag, tail, n.node, n.via, at) != 0)
            return -1;
    }
    return 0;
}

/* Caller entry `at` (v), at its cap: it can lower another of its calls. 1
 * when it lowered a call into a cycle (moved), 0 when the callees are
 * queued, -1 when out of memory. */
static int aug_caller(aug *ag, uint32_t g0, size_t at, size_t *tail, uint32_t t)
{
    const fit *ft = ag->ft;
    const cg_plan *pl = ft->pl;
    uint32_t v = ag->queue[at].node >> 1;
    for (uint32_t k = pl->off[v]; k < pl->off[v + 1] && ag->visits > 0; k++, ag->visits--) {
        const cg_edge *e = &pl->e[k];
        if (!is_fit(e) || !(x_of(e) > AUG_EPS))
            continue;
        uint32_t g = callee_of(e);
        if (!ft->inner && !(pl->comp[g] & CG_ALONE)) { /* a call into a cycle */
            aug_node n = ag->queue[at];
            aug_move(ag, g0, &n, k);
            return 1;
        }
        if (seen(ag, g, t, SEEN_G))
            continue;
        see(ag, g, t, SEEN_G);
        if (aug_push(ag, tail, g << 1 | 1, k, at) != 0)
            return -1;
    }
    return 0;
}

/* One breadth-first search from column g0; 1 when it moved something, -1
 * when out of memory. */
static int aug_search(aug *ag, uint32_t g0)
{
    if (ag->stamp >= AUG_STAMPS - 1)
        return 0;
    uint32_t t = ++ag->stamp;
    size_t head = 0, tail = 0;
    if (aug_push(ag, &tail, g0 << 1 | 1, UINT32_MAX, 0) != 0)
        return -1;
    see(ag, g0, t, SEEN_G);
    while (head < tail && ag->visits > 0) {
        size_t at = head++;
        int rc = ag->queue[at].node & 1 ? aug_callee(ag, g0, at, &tail, t)
                                        : aug_caller(ag, g0, at, &tail, t);
        if (rc != 0)
            return rc;
    }
    /* Searched to the end without room: neither will these callers lead
     * to any later (rooms only shrink), so later searches pass them by. */
    if (head == tail && ag->visits > 0)
        for (size_t i = 0; i < tail; i++)
            if (!(ag->queue[i].node & 1))
                ag->seen[ag->queue[i].node >> 1] |= AUG_DEAD;
    return 0;
}

/* Puts back the counts of calls 0..upto-1 (their fields held the column
 * index), from the model, as the columns step set them. */
static void restore_counts(const cg_plan *pl, size_t upto)
{
    const pstats_stats *s = pl->s;
    for (uint32_t g = 0; g < s->nstats && upto > 0; g++) {
        const pedge_s *me = &s->edges[s->keys[g].edge_start];
        for (size_t k = 0, n = s->keys[g].nedges; k < n; k++) {
            uint32_t c = me[k].caller; /* rows from upto on kept their counts */
            if (c >= pl->nkeys || pl->off[c] >= upto)
                continue;
            uint32_t m = find_call(pl, c, g);
            if (m < upto) {
                pstats_edge e;
                pstats_cg_caller(s, g, k, &e);
                pl->e[m].count = pstats_cg_count(e.nc);
            }
        }
    }
}

static int fit_augment(fit *ft, const pymarshal_allocator *a)
{
    aug ag;
    memset(&ag, 0, sizeof ag);
    ag.ft = ft;
    const cg_plan *pl = ft->pl;
    if (!ft->inner) /* after the last columns' round */
        fit_rows(ft);
    size_t nfit = 0;
    int rc = aug_alloc(&ag, &nfit, a);
    if (rc == 0) {
        aug_init(&ag);
        int moved = 1;
        for (uint32_t g = 0; g < pl->nkeys && ag.visits > 0 && moved >= 0; g++)
            if (target(ft, g))
                do
                    moved = ft->want[g] - ft->got[g] > 0.5 && ag.visits > 0 ? aug_search(&ag, g)
                                                                             : 0;
                while (moved > 0);
        rc = moved < 0 ? -1 : 0;
        restore_counts(pl, nfit); /* also after a failure: the plan stays whole */
    }
    aug_free(&ag, a);
    return rc;
}

/* Columns outside cycles left short of their cumtime (beyond rounding):
 * est 2, for the rows step to name them. */
static void mark_short(fit *ft)
{
    cg_plan *pl = ft->pl;
    memset(ft->got, 0, pl->nkeys * sizeof *ft->got);
    for (size_t k = 0; k < pl->n; k++)
        if (is_fit(&pl->e[k])) /* rounding: 1 per call */
            ft->got[callee_of(&pl->e[k])] += 1 + x_of(&pl->e[k]) - 0.5;
    for (uint32_t g = 0; g < pl->nkeys; g++)
        if ((pl->comp[g] & CG_ALONE) && pl->est[g] && ft->got[g] < ft->want[g])
            pl->est[g] = 2;
}

/* One pass of the fit (ft->inner says which calls). */
static int fit_pass(fit *ft, const pymarshal_allocator *a)
{
    const cg_plan *pl = ft->pl;
    if (!fit_init(ft)) { /* nothing to change: the costs stay as they are */
        fit_convert(ft, FIT_UNFLAG);
        return 0;
    }
    fit_convert(ft, FIT_TO_DOUBLE);
    if (ft->inner) {
        fit_rows(ft);
    } else {
        double *factor = cm_malloc(a, (pl->nkeys ? pl->nkeys : 1) * sizeof *factor);
        if (!factor) {
            fit_convert(ft, FIT_ROUND);
            return -1;
        }
        fit_rounds(ft, factor);
        cm_free(a, factor);
    }
    int rc = fit_augment(ft, a);
    if (rc == 0 && !ft->inner)
        mark_short(ft);
    fit_convert(ft, FIT_ROUND); /* also after a failure: the plan stays whole */
    return rc;
}

int pstats_cg_fit(cg_plan *pl, const pymarshal_allocator *a)
{
    size_t nk = pl->nkeys;
    int estimated = 0, cycles = 0;
    for (size_t g = 0; g < nk && !(estimated && cycles); g++) {
        estimated |= pl->est[g] != 0;
        cycles |= !(pl->comp[g] & CG_ALONE);
    }
    if (!estimated && !cycles)
        return 0;
    fit ft;
    ft.pl = pl;
    ft.cap = cm_malloc(a, (nk ? nk : 1) * sizeof *ft.cap);
    ft.want = cm_malloc(a, (nk ? nk : 1) * sizeof *ft.want);
    ft.got = cm_malloc(a, (nk ? nk : 1) * sizeof *ft.got);
    int rc = ft.cap && ft.want && ft.got ? 0 : -1;
    ft.inner = 0;
    if (rc == 0 && estimated)
        rc = fit_pass(&ft, a);
    ft.inner = 1;
    if (rc == 0 && cycles)
        rc = fit_pass(&ft, a);
    cm_free(a, ft.cap);
    cm_free(a, ft.want);
    cm_free(a, ft.got);
    return rc;
}
