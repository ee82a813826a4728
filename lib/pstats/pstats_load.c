/*
 * The load, step by step; each step calls only the next ones:
 *
 *   pstats_open.c          the input: a file mapped (or read), a buffer
 *   pstats_load.c (here)   names a file that is not pstats (pstats_sniff.c),
 *                          chooses the path, finishes the model
 *   pstats_load_fast.c     the fast path: the shapes cProfile, profile and
 *                          dump_stats write, read straight from the bytes
 *                          (in two threads from 4 MB, pstats_pipe.c)
 *   pstats_load_general.c  the general path: every shape, every error, over
 *                          libpymarshal's token reader
 *   pstats_build.c         the model put in order (ps_finalize)
 *
 * pstats_input.c serves them all (the pages of the input they are done
 * with) and calls none of them.
 */
#include <string.h>

#include "pstats_internal.h"

static int compute_totals(pstats_stats *s)
{
    /* Python sums in dict order, starting from the int 0 */
    pnum tc = pn_int(0), pc = pn_int(0), tt = pn_int(0);
    const uint8_t common = PN_INT | PN_INT << 2 | PN_FLOAT << 4; /* int counts, float tt */
    for (size_t i = 0; i < s->nstats; i++) {
        const pkey *k = &s->keys[i];
        int64_t a, b;
        double t;
        if ((k->kinds & 0x3F) == common && tc.kind == PN_INT && pc.kind == PN_INT &&
            tt.kind == PN_FLOAT && !__builtin_add_overflow(tc.u.i, (int64_t)k->v[1], &a) &&
            !__builtin_add_overflow(pc.u.i, (int64_t)k->v[0], &b)) {
            memcpy(&t, &k->v[2], sizeof t); /* what pn_add does, without its dispatch */
            tc.u.i = a;
            pc.u.i = b;
            tt.u.f += t;
            continue;
        }
        if (pn_add(s, tc, pn_get(k->v, k->kinds, 1), &tc) ||
            pn_add(s, pc, pn_get(k->v, k->kinds, 0), &pc) ||
            pn_add(s, tt, pn_get(k->v, k->kinds, 2), &tt))
            return -1;
    }
    s->total_calls = tc;
    s->prim_calls = pc;
    s->total_tt = tt;
    return 0;
}

/* Lookups are over: the hash tables are rebuilt if ever needed again. */
static void drop_tables(pstats_stats *t)
{
    ps_free(t, t->str_slots);
    ps_free(t, t->key_slots);
    t->str_slots = NULL;
    t->key_slots = NULL;
    t->str_mask = t->key_mask = 0;
}

int ps_load_with(pstats_stats *t, const uint8_t *data, size_t len, int release,
                 const char *name, pstats_error *err, int try_fast)
{
    const char *what = ps_sniff(data, len);
    if (what) {
        ps_seterr(err, PSTATS_EFORMAT, name, 1, 0, "not a pstats profile: %s", what);
        return -1;
    }
    ps_loaded got = {NULL, 0, 0};
    int rc = 1;
    if (try_fast) {
        if (ps_reserve(t, len / 256, len / 160)) /* cProfile: a key per ~180 bytes */
            rc = -1;
        else
            rc = ps_load_fast(t, data, len, release, &got);
        if (rc == 1) { /* a shape for the general loader: start again */
            ps_free(t, got.order);
            got.order = NULL;
            ps_clear(t);
        }
    }
    if (rc == 1 && ps_reserve(t, len / 256, len / 160) == 0)
        rc = ps_load_general(t, data, len, release, name, err, &got);
    else if (rc != 0) { /* the fast path's only error */
        ps_seterr(err, PSTATS_ENOMEM, name, 0, 0, "out of memory");
        rc = -1;
    }
    t->no_edges = (t->load_flags & PSTATS_LOAD_NO_EDGES) != 0;
    drop_tables(t);
    if (rc == 0) {
        t->py2 = got.py2_keys;
        if (got.norder == 0) {
            ps_seterr(err, PSTATS_EFORMAT, name, 0, 0,
                      "an empty profile: the pstats dict holds no functions "
                      "(Python's pstats refuses it too)");
            rc = -1;
        }
    }
    if (rc == 0)
        rc = ps_finalize(t, got.order, got.norder, NULL, err);
    ps_free(t, got.order);
    if (rc)
        return -1;
    ps_shrink(t, (void **)&t->edges, &t->cap_edges, t->nedges, sizeof(pedge_s));
    ps_shrink(t, (void **)&t->strs, &t->cap_strs, t->nstrs, sizeof(pstr));
    if (compute_totals(t)) {
        ps_seterr(err, PSTATS_ENOMEM, name, 0, 0, "out of memory");
        return -1;
    }
    t->max_name_len = PS_WIDTH_UNKNOWN; /* only callers/callees need it */
    return 0;
}

int ps_load_into(pstats_stats *t, const uint8_t *data, size_t len, int release,
                 const char *name, pstats_error *err)
{
    return ps_load_with(t, data, len, release, name, err, 1);
}
