/*
 * Lean access to the model for the callgrind writer (the bottom of its
 * pipeline, see callgrind_writer.c): a function's numbers and a call's,
 * read straight from the model's flat arrays (read only), and seconds
 * turned into whole units. Inline: they run once per function and call.
 */
#ifndef PSTATS_CALLGRIND_MODEL_H
#define PSTATS_CALLGRIND_MODEL_H

#include <stdint.h>
#include <string.h>

#include "pstats/pstats.h"
#include "pstats_internal.h"

#define CG_MAX_COST 9000000000000000000.0 /* below 2^63, far above any profile */

/* Seconds to whole units, rounded to nearest; negative and NaN give 0. */
static inline uint64_t pstats_cg_units(double seconds, double scale)
{
    double v = seconds * scale;
    if (!(v > 0))
        return 0;
    if (v >= CG_MAX_COST)
        return (uint64_t)CG_MAX_COST;
    return (uint64_t)(v + 0.5);
}

/* ------------------------------------------------- lean model access */

/* A call's count as the plan keeps it: 0 when pstats says <= 0,
 * UINT32_MAX (CG_COUNT_BIG) from 2^32 - 1 up. */
static inline uint32_t pstats_cg_count(int64_t nc)
{
    return nc <= 0 ? 0 : nc < (int64_t)UINT32_MAX ? (uint32_t)nc : UINT32_MAX;
}

static inline void pstats_cg_func(const pstats_stats *s, uint32_t id, pstats_func *out);

/* What function f's calls may take: max(tottime, cumtime) - tottime
 * (units); UINT64_MAX (CG_NO_BUDGET) for a key named only as a caller.
 * Read from the model where a step needs it, not kept per function. */
static inline uint64_t pstats_cg_budget(const pstats_stats *s, uint32_t f, double scale)
{
    pstats_func fn;
    pstats_cg_func(s, f, &fn);
    if (!fn.in_stats)
        return UINT64_MAX;
    uint64_t c = pstats_cg_units(fn.ct, scale), self = pstats_cg_units(fn.tt, scale);
    return c > self ? c - self : 0;
}

/* What the writer needs of pstats_func_get (numbers, line, in_stats) and
 * pstats_caller_get (caller, kind, nc, ct), read fast; other fields are
 * not set. k < pstats_ncallers(s, f) for the caller.
 * pstats_func_get and pstats_caller_get clear and fill every field, and
 * go through the generic number accessors: too slow for once per function
 * and edge. The common shapes (int and float numbers, packed edges) are
 * read here directly, with the same results; anything else goes the
 * general way. */
static inline int64_t count_of(uint64_t raw, unsigned kind)
{
    if (kind == PN_INT)
        return (int64_t)raw;
    double f; /* PN_FLOAT: truncated, saturated, NaN as 0, as pstats_func_get */
    memcpy(&f, &raw, sizeof f);
    if (f != f)
        return 0;
    if (f > -9223372036854775808.0 && f < 9223372036854775808.0)
        return (int64_t)f;
    return f < 0 ? INT64_MIN : INT64_MAX;
}

static inline double time_of(uint64_t raw, unsigned kind)
{
    if (kind == PN_INT)
        return (double)(int64_t)raw;
    double f;
    memcpy(&f, &raw, sizeof f);
    return f;
}

static inline void pstats_cg_func(const pstats_stats *s, uint32_t id, pstats_func *out)
{
    const pkey *k = &s->keys[id];
    unsigned kinds = k->kinds;
    for (int i = 0; i < 4; i++)
        if (((kinds >> (2 * i)) & 3u) > PN_FLOAT) { /* a big int */
            pstats_func_get(s, id, out);
            return;
        }
    out->line = k->line;
    out->cc = count_of(k->v[0], kinds & 3u);
    out->nc = count_of(k->v[1], (kinds >> 2) & 3u);
    out->tt = time_of(k->v[2], (kinds >> 4) & 3u);
    out->ct = time_of(k->v[3], (kinds >> 6) & 3u);
    out->in_stats = id < s->nstats;
}

static inline void pstats_cg_caller(const pstats_stats *s, uint32_t f, size_t k,
                                    pstats_edge *out)
{
    const pedge_s *e = &s->edges[s->keys[f].edge_start + k];
    if (e->w & EW_WIDE) {
        pstats_caller_get(s, f, k, out);
        return;
    }
    out->caller = e->caller;
    if (e->w & EW_INT) {
        out->kind = PSTATS_EDGE_INT;
        out->nc = e->w & ~EW_INT;
        out->ct = 0;
        return;
    }
    out->kind = PSTATS_EDGE_TUPLE; /* nc == cc, float times */
    out->nc = e->w;
    memcpy(&out->ct, &e->b, sizeof out->ct);
}

#endif
