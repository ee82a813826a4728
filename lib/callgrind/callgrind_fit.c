/*
 * The fit of estimated call costs (callgrind_costs.c calls it between the
 * columns and the rows): `profile`-module files record only a count per
 * call, so step 1 shares a callee's cumtime among its callers by count x
 * the callee's time per call, an estimate that can ask a caller for more
 * than it had. But both sums are known: each callee outside a cycle must
 * receive its cumtime from its callers (its column), and each caller may
 * give at most cumtime - tottime (its row). Choosing the costs is then a
 * feasibility problem; it is solved here by fitting rows and columns in
 * turn (iterative proportional fitting): rows over their budget are
 * scaled down onto it, then every column outside a cycle is scaled back up
 * to its cumtime, until no row is over. Where the data are consistent a
 * solution exists and the fit converges to the one closest (in relative
 * entropy) to the estimate; where it stops without one, the rows are
 * capped and the functions left short are marked (est 2) for the plan's
 * rows step to name.
 *
 * Only calls out of a caller's cycle are fitted (those inside a cycle get
 * what is left, in the rows step), and only where the callee's column is
 * estimated; calls with recorded times keep them and are taken off the
 * caller's budget first. Linear passes over the plan's flat arrays, at
 * most FIT_ROUNDS of them. Reads the model through callgrind_model.h and
 * calls nothing else of the writer.
 */
#include <math.h>
#include <string.h>

#include "callgrind_int.h"
#include "callgrind_model.h"
#include "pstats_internal.h"

/* Rounds of rows + columns; consistent profiles need a few (the real
 * ones here: at most ~40). */
#define FIT_ROUNDS 400
/* A row is over when it exceeds its budget by more than this (units). */
#define FIT_SLACK 0.25

typedef struct fit {
    cg_plan *pl;
    double *x;                    /* per call: its cost; NAN when not fitted */
    double *cap;                  /* per caller: what its fitted calls may take */
    double *want;                 /* per callee outside cycles: what its fitted
                                   * calls must bring */
    double *got;                  /* per callee: what they bring now */
} fit;

static int fitted(const cg_plan *pl, uint32_t caller, uint32_t callee)
{
    return callee != caller && pl->est[callee] && pl->comp[callee] != pl->comp[caller];
}

/* x, cap and want from the plan (fn: budgets as the rows step takes them). */
static void fit_init(fit *ft, const pstats_stats *s, double scale)
{
    cg_plan *pl = ft->pl;
    memset(ft->want, 0, pl->nkeys * sizeof *ft->want);
    for (uint32_t c = 0; c < pl->nkeys; c++) {
        pstats_func fn;
        pstats_cg_func(s, c, &fn);
        uint64_t self = pstats_cg_units(fn.tt, scale), ct = pstats_cg_units(fn.ct, scale);
        double fixed = 0;
        for (uint32_t k = pl->off[c]; k < pl->off[c + 1]; k++) {
            uint32_t g = pl->e[k].callee;
            if (fitted(pl, c, g)) {
                ft->x[k] = (double)pl->e[k].cost;
                ft->want[g] += ft->x[k];
            } else {
                ft->x[k] = NAN;
                if (g != c && pl->comp[g] != pl->comp[c])
                    fixed += (double)pl->e[k].cost;
            }
        }
        double budget = ct > self ? (double)(ct - self) : 0;
        ft->cap[c] = !fn.in_stats ? INFINITY : budget > fixed ? budget - fixed : 0;
    }
}

/* Scales the rows over their cap down onto it; 1 when some was over. */
static int fit_rows(fit *ft)
{
    const cg_plan *pl = ft->pl;
    int over = 0;
    for (uint32_t c = 0; c < pl->nkeys; c++) {
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
    for (size_t k = 0; k < pl->n; k++)
        if (ft->x[k] == ft->x[k])
            ft->got[pl->e[k].callee] += ft->x[k];
    for (uint32_t g = 0; g < pl->nkeys; g++) /* got becomes the factor */
        ft->got[g] = (pl->comp[g] & CG_ALONE) && ft->got[g] > 0 ? ft->want[g] / ft->got[g] : 1;
    for (size_t k = 0; k < pl->n; k++)
        ft->x[k] *= ft->got[pl->e[k].callee];
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

int pstats_cg_fit(cg_plan *pl, const pstats_stats *s, double scale,
                  const pymarshal_allocator *a)
{
    size_t nk = pl->nkeys, any = 0;
    for (size_t g = 0; g < nk && !any; g++)
        any = pl->est[g];
    if (!any)
        return 0;
    fit ft;
    ft.pl = pl;
    ft.x = cm_malloc(a, (pl->n ? pl->n : 1) * sizeof *ft.x);
    ft.cap = cm_malloc(a, (nk ? nk : 1) * sizeof *ft.cap);
    ft.want = cm_malloc(a, (nk ? nk : 1) * sizeof *ft.want);
    ft.got = cm_malloc(a, (nk ? nk : 1) * sizeof *ft.got);
    int rc = ft.x && ft.cap && ft.want && ft.got ? 0 : -1;
    if (rc == 0) {
        fit_init(&ft, s, scale);
        int changed = 0;
        for (int round = 0; round < FIT_ROUNDS && fit_rows(&ft); round++) {
            fit_columns(&ft);
            changed = 1;
        }
        if (changed) {
            fit_rows(&ft); /* not converged: rows capped all the same */
            for (size_t k = 0; k < pl->n; k++)
                if (ft.x[k] == ft.x[k])
                    pl->e[k].cost = ft.x[k] > 0 ? (uint64_t)(ft.x[k] + 0.5) : 0;
            mark_short(&ft);
        }
    }
    cm_free(a, ft.x);
    cm_free(a, ft.cap);
    cm_free(a, ft.want);
    cm_free(a, ft.got);
    return rc;
}
