/*
 * The diff of two models (pstats_diff.c builds and sorts it, pstats_diff_out.c
 * prints it as text and as JSON). Internal to libpstats.
 */
#ifndef PSTATS_DIFF_H
#define PSTATS_DIFF_H

#include "pstats_internal.h"

struct pstats_diff {
    const pstats_stats *before, *after;
    pstats_stats *u;        /* the union of both dicts' keys: row r is key r */
    uint32_t *bid, *aid;    /* per row: the key in before / after, or UINT32_MAX */
    size_t nrows;
    uint32_t *order;        /* rows in the sorted order */
    char sort_type[256];    /* "Ordered by: ..." */
};

/* Row r's number `field` (0 cc, 1 nc, 2 tt, 3 ct) in before (side 0) or
 * after (side 1); an absent function's are 0. */
pnum pd_value(const pstats_diff *d, size_t r, int side, int field);
/* after - before as a double, and 100 * that / |before| (NaN when both are
 * 0, +-inf when only before is 0). */
double pd_delta(const pstats_diff *d, size_t r, int field);
double pd_percent(const pstats_diff *d, size_t r, int field);
/* after - before exactly when both are ints whose difference fits int64. */
int pd_delta_int(const pstats_diff *d, size_t r, int field, int64_t *out);
/* after - before as a number of d->u: exact for ints of any size, a float
 * when either is a float. -1 when out of memory. */
int pd_delta_num(pstats_diff *d, size_t r, int field, pnum *out);
pstats_diff_status pd_status(const pstats_diff *d, size_t r);
/* The listed rows after the restrictions (Python's messages in msg). */
int pd_list(pstats_diff *d, const pstats_restriction *r, size_t nr, uint32_t **list,
            size_t *n, psb *msg);

#endif
