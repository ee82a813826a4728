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
 * searches within a budget of visits. Works on the plan alone and calls
 * nothing else of the writer.
 */
#include <math.h>
#include <string.h>

#include "callgrind_int.h"

/* Rounds of rows + columns; consistent profiles need a few (the real
 * ones here: at most ~40). */
#define FIT_ROUNDS 100
/* A row is over when it exceeds its budget by more than this (units). */
#define FIT_SLACK 0.25

typedef struct fit {
    cg_plan *pl;
    int inner;                    /* 0: estimated calls out of cycles; 1: calls
                                   * inside cycles */
    double *x;                    /* per call: its cost; NAN when not fitted */
    double *cap;                  /* per caller: what its fitted calls may take */
    double *want;                 /* per callee outside cycles: what its fitted
                                   * calls must bring */
    double *got;                  /* per callee: what they bring now */
    uint32_t *rows;               /* the callers whose calls may be fitted: all
                                   * (outer), or those in cycles (inner); the
                                   * other rows' x are never read */
    size_t nrows;
} fit;

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

/* x, cap and want from the plan (budgets as the rows step takes them). */
static void fit_init(fit *ft)
{
    cg_plan *pl = ft->pl;
    memset(ft->want, 0, pl->nkeys * sizeof *ft->want);
    ft->nrows = 0;
    for (uint32_t c = 0; c < pl->nkeys; c++)
        if (!ft->inner || !(pl->comp[c] & CG_ALONE))
            ft->rows[ft->nrows++] = c;
    for (size_t i = 0; i < ft->nrows; i++) {
        uint32_t c = ft->rows[i];
        double fixed = 0;
        for (uint32_t k = pl->off[c]; k < pl->off[c + 1]; k++) {
            uint32_t g = pl->e[k].callee;
            if (fitted(ft, c, g)) {
                ft->x[k] = (double)pl->e[k].cost;
                ft->want[g] += ft->x[k];
            } else {
                ft->x[k] = NAN;
                if (g != c && pl->comp[g] != pl->comp[c])
                    fixed += (double)pl->e[k].cost; /* calls out of the cycle first */
            }
        }
        double budget = (double)pl->budget[c];
        ft->cap[c] = pl->budget[c] == CG_NO_BUDGET ? INFINITY
                     : budget > fixed                ? budget - fixed
                                                     : 0;
    }
}

/* Scales the rows over their cap down onto it; 1 when some was over. */
static int fit_rows(fit *ft)
{
    const cg_plan *pl = ft->pl;
    int over = 0;
    for (size_t i = 0; i < ft->nrows; i++) {
        uint32_t c = ft->rows[i];
        double sum = 0;
        for (uint32_t k = pl->off[c]; k < pl->off[c + 1]; k++)
            if (ft->x[k] == ft->x[k])
                sum += ft->x[k];
        if (!(sum > ft->cap[c] + FIT_SLACK))
            continue;
        double r = ft->cap[c] / sum;
        for (uint32_t k = pl->off[c]; k < pl->off[c + 1]; k++)
            ft->x[k] *= r; /* NAN stays NAN */
        over = 1;
    }
    return over;
}

/* Scales every column outside a cycle back up to what it must bring. */
static void fit_columns(fit *ft)
{
    const cg_plan *pl = ft->pl;
    memset(ft->got, 0, pl->nkeys * sizeof *ft->got);
    for (size_t k = 0; k < pl->n; k++) /* outer: every row */
        if (ft->x[k] == ft->x[k])
            ft->got[pl->e[k].callee] += ft->x[k];
    for (uint32_t g = 0; g < pl->nkeys; g++) /* got becomes the factor */
        ft->got[g] = (pl->comp[g] & CG_ALONE) && ft->got[g] > 0 ? ft->want[g] / ft->got[g] : 1;
    for (size_t k = 0; k < pl->n; k++)
        ft->x[k] *= ft->got[pl->e[k].callee];
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
typedef struct aug {
    fit *ft;
    uint32_t *col_off, *col_k, *col_c; /* fitted calls by callee: index, caller */
    double *room;                 /* per caller: what it can still give */
    uint32_t *seen_c, *seen_g;    /* stamps of this search; a caller AUG_DEAD
                                   * reached no room in a whole search */
    uint32_t *via_c;              /* caller: the call (c -> g) to raise */
    uint32_t *via_g, *from_g;     /* callee: the call to lower, its caller */
    uint32_t *queue;              /* callers as c << 1, callees as g << 1 | 1 */
    uint32_t stamp;
    size_t visits;                /* left, in all searches */
} aug;

#define AUG_EPS 1e-6
#define AUG_DEAD UINT32_MAX

static int aug_alloc(aug *ag, const pymarshal_allocator *a)
{
    const cg_plan *pl = ag->ft->pl;
    size_t nk = pl->nkeys ? pl->nkeys : 1, n = pl->n ? pl->n : 1;
    ag->col_off = cm_malloc(a, (nk + 1) * sizeof *ag->col_off);
    ag->col_k = cm_malloc(a, n * sizeof *ag->col_k);
    ag->col_c = cm_malloc(a, n * sizeof *ag->col_c);
    ag->room = cm_malloc(a, nk * sizeof *ag->room);
    ag->seen_c = cm_malloc(a, nk * sizeof *ag->seen_c);
    ag->seen_g = cm_malloc(a, nk * sizeof *ag->seen_g);
    ag->via_c = cm_malloc(a, nk * sizeof *ag->via_c);
    ag->via_g = cm_malloc(a, nk * sizeof *ag->via_g);
    ag->from_g = cm_malloc(a, nk * sizeof *ag->from_g);
    ag->queue = cm_malloc(a, 2 * nk * sizeof *ag->queue);
    return ag->col_off && ag->col_k && ag->col_c && ag->room && ag->seen_c && ag->seen_g &&
                   ag->via_c && ag->via_g && ag->from_g && ag->queue
               ? 0
               : -1;
}

static void aug_free(aug *ag, const pymarshal_allocator *a)
{
    cm_free(a, ag->col_off);
    cm_free(a, ag->col_k);
    cm_free(a, ag->col_c);
    cm_free(a, ag->room);
    cm_free(a, ag->seen_c);
    cm_free(a, ag->seen_g);
    cm_free(a, ag->via_c);
    cm_free(a, ag->via_g);
    cm_free(a, ag->from_g);
    cm_free(a, ag->queue);
}

/* Columns (fitted calls by callee), rooms and what each column has. */
static void aug_init(aug *ag)
{
    fit *ft = ag->ft;
    const cg_plan *pl = ft->pl;
    size_t nk = pl->nkeys;
    memset(ag->col_off, 0, (nk + 1) * sizeof *ag->col_off);
    memset(ft->got, 0, nk * sizeof *ft->got);
    for (size_t i = 0; i < ft->nrows; i++)
        for (uint32_t k = pl->off[ft->rows[i]]; k < pl->off[ft->rows[i] + 1]; k++)
            if (ft->x[k] == ft->x[k]) {
                ag->col_off[pl->e[k].callee + 1]++;
                ft->got[pl->e[k].callee] += ft->x[k];
            }
    for (size_t g = 0; g < nk; g++)
        ag->col_off[g + 1] += ag->col_off[g];
    memcpy(ag->seen_g, ag->col_off, nk * sizeof *ag->seen_g); /* fill cursors */
    for (size_t i = 0; i < ft->nrows; i++) {
        uint32_t c = ft->rows[i];
        ag->room[c] = ft->cap[c];
        for (uint32_t k = pl->off[c]; k < pl->off[c + 1]; k++)
            if (ft->x[k] == ft->x[k]) {
                uint32_t at = ag->seen_g[pl->e[k].callee]++;
                ag->col_k[at] = k;
                ag->col_c[at] = c;
                ag->room[c] -= ft->x[k];
            }
    }
    memset(ag->seen_c, 0, nk * sizeof *ag->seen_c);
    memset(ag->seen_g, 0, nk * sizeof *ag->seen_g);
    ag->stamp = 0;
    /* Outside cycles (estimates), every column is made exact where it can
     * be; inside cycles, where overlap leaves many columns short anyway, a
     * budget of one visit per call and function: on real profiles a larger
     * one makes a few more functions exact for many more instructions (4x:
     * +4 % of a whole conversion). */
    ag->visits = (ft->inner ? 1 : 32) * (pl->n + nk);
}

/* Moves `amt` along the path that ends at caller c (end: the call into a
 * cycle to lower, or UINT32_MAX when c gives from its room). */
static void aug_apply(aug *ag, uint32_t g0, uint32_t c, uint32_t end, double amt)
{
    fit *ft = ag->ft;
    if (end == UINT32_MAX)
        ag->room[c] -= amt;
    else
        ft->x[end] -= amt;
    for (;;) {
        uint32_t k = ag->via_c[c], g = ft->pl->e[k].callee;
        ft->x[k] += amt;
        if (g == g0)
            break;
        ft->x[ag->via_g[g]] -= amt;
        c = ag->from_g[g];
    }
    ft->got[g0] += amt;
}

/* The most that can move along that path. */
static double aug_amount(const aug *ag, uint32_t g0, uint32_t c, uint32_t end, double amt)
{
    const fit *ft = ag->ft;
    double endcap = end == UINT32_MAX ? ag->room[c] : ft->x[end];
    amt = endcap < amt ? endcap : amt;
    for (;;) {
        uint32_t g = ft->pl->e[ag->via_c[c]].callee;
        if (g == g0)
            return amt;
        double x = ft->x[ag->via_g[g]];
        amt = x < amt ? x : amt;
        c = ag->from_g[g];
    }
}

/* One breadth-first search from column g0; 1 when it moved something. */
static int aug_search(aug *ag, uint32_t g0)
{
    fit *ft = ag->ft;
    const cg_plan *pl = ft->pl;
    if (ag->stamp >= AUG_DEAD - 1)
        return 0;
    uint32_t t = ++ag->stamp;
    size_t head = 0, tail = 0;
    ag->queue[tail++] = g0 << 1 | 1;
    ag->seen_g[g0] = t;
    while (head < tail && ag->visits > 0) {
        uint32_t node = ag->queue[head++], v = node >> 1;
        if (node & 1) { /* callee v: a caller can raise its call */
            for (uint32_t i = ag->col_off[v]; i < ag->col_off[v + 1] && ag->visits > 0;
                 i++, ag->visits--) {
                uint32_t c = ag->col_c[i];
                if (ag->seen_c[c] == t || ag->seen_c[c] == AUG_DEAD)
                    continue;
                ag->seen_c[c] = t;
                ag->via_c[c] = ag->col_k[i];
                if (ag->room[c] > AUG_EPS) {
                    double lack = ft->want[g0] - ft->got[g0];
                    aug_apply(ag, g0, c, UINT32_MAX, aug_amount(ag, g0, c, UINT32_MAX, lack));
                    return 1;
                }
                ag->queue[tail++] = c << 1;
            }
            continue;
        }
        /* caller v at its cap: it can lower another of its calls */
        for (uint32_t k = pl->off[v]; k < pl->off[v + 1] && ag->visits > 0;
             k++, ag->visits--) {
            uint32_t g = pl->e[k].callee;
            if (ft->x[k] != ft->x[k] || !(ft->x[k] > AUG_EPS))
                continue;
            if (!ft->inner && !(pl->comp[g] & CG_ALONE)) { /* a call into a cycle */
                double lack = ft->want[g0] - ft->got[g0];
                aug_apply(ag, g0, v, k, aug_amount(ag, g0, v, k, lack));
                return 1;
            }
            if (ag->seen_g[g] == t)
                continue;
            ag->seen_g[g] = t;
            ag->via_g[g] = k;
            ag->from_g[g] = v;
            ag->queue[tail++] = g << 1 | 1;
        }
    }
    /* Searched to the end without room: neither will these callers lead
     * to any later (rooms only shrink), so later searches pass them by. */
    if (head == tail && ag->visits > 0)
        for (size_t i = 0; i < tail; i++)
            if (!(ag->queue[i] & 1))
                ag->seen_c[ag->queue[i] >> 1] = AUG_DEAD;
    return 0;
}

static int fit_augment(fit *ft, const pymarshal_allocator *a)
{
    aug ag;
    memset(&ag, 0, sizeof ag);
    ag.ft = ft;
    int rc = aug_alloc(&ag, a);
    if (rc == 0) {
        const cg_plan *pl = ft->pl;
        if (!ft->inner) /* after the last columns' round */
            fit_rows(ft);
        aug_init(&ag);
        for (uint32_t g = 0; g < pl->nkeys && ag.visits > 0; g++)
            if (target(ft, g))
                while (ft->want[g] - ft->got[g] > 0.5 && ag.visits > 0 && aug_search(&ag, g))
                    ;
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
        if (ft->x[k] == ft->x[k])
            ft->got[pl->e[k].callee] += 1 + ft->x[k] - 0.5; /* rounding: 1 per call */
    for (uint32_t g = 0; g < pl->nkeys; g++)
        if ((pl->comp[g] & CG_ALONE) && pl->est[g] && ft->got[g] < ft->want[g])
            pl->est[g] = 2;
}

/* One pass of the fit (ft->inner says which calls). */
static int fit_pass(fit *ft, const pymarshal_allocator *a)
{
    cg_plan *pl = ft->pl;
    fit_init(ft);
    int changed = 0;
    if (ft->inner) {
        changed = fit_rows(ft);
    } else {
        for (int round = 0; round < FIT_ROUNDS && fit_rows(ft); round++) {
            fit_columns(ft);
            changed = 1;
        }
    }
    if (!changed)
        return 0;
    if (fit_augment(ft, a) != 0)
        return -1;
    for (size_t i = 0; i < ft->nrows; i++)
        for (uint32_t k = pl->off[ft->rows[i]]; k < pl->off[ft->rows[i] + 1]; k++)
            if (ft->x[k] == ft->x[k])
                pl->e[k].cost = ft->x[k] > 0 ? (uint64_t)(ft->x[k] + 0.5) : 0;
    if (!ft->inner)
        mark_short(ft);
    return 0;
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
    ft.x = cm_malloc(a, (pl->n ? pl->n : 1) * sizeof *ft.x);
    ft.cap = cm_malloc(a, (nk ? nk : 1) * sizeof *ft.cap);
    ft.want = cm_malloc(a, (nk ? nk : 1) * sizeof *ft.want);
    ft.got = cm_malloc(a, (nk ? nk : 1) * sizeof *ft.got);
    ft.rows = cm_malloc(a, (nk ? nk : 1) * sizeof *ft.rows);
    int rc = ft.x && ft.cap && ft.want && ft.got && ft.rows ? 0 : -1;
    ft.inner = 0;
    if (rc == 0 && estimated)
        rc = fit_pass(&ft, a);
    ft.inner = 1;
    if (rc == 0 && cycles)
        rc = fit_pass(&ft, a);
    cm_free(a, ft.x);
    cm_free(a, ft.cap);
    cm_free(a, ft.want);
    cm_free(a, ft.got);
    cm_free(a, ft.rows);
    return rc;
}
