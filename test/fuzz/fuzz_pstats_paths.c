/*
 * libFuzzer target: the loader's two paths build the same model.
 *
 * libpstats reads the common shapes of pstats files with a fast path
 * (lib/pstats/pstats_load_fast.c) and leaves everything else to the general
 * loader (lib/pstats/pstats_load.c). The property: loading any input with the
 * fast path allowed gives exactly what the general loader alone gives -
 * the same success or the same error (code, offset, message), and the same
 * model: strings in the same order, keys with the same ids and numbers,
 * the same edges, totals and flags. Checked with and without
 * PSTATS_LOAD_NO_EDGES, and with the fast path's builder in its own thread
 * (as for inputs of 4 MB and more) and inline. The same entry point is replayed over the corpus
 * and the fixtures by regression_driver.c (ctest: pstats_paths_corpus).
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_assert.h"
#include "pstats_internal.h"

static int same_pnum(pnum a, pnum b)
{
    return a.kind == b.kind && memcmp(&a.u, &b.u, sizeof a.u) == 0;
}

static void same_strings(const pstats_stats *a, const pstats_stats *b)
{
    FUZZ_ASSERT(a->nstrs == b->nstrs);
    for (size_t i = 0; i < a->nstrs; i++) {
        const pstr *x = &a->strs[i], *y = &b->strs[i];
        FUZZ_ASSERT(x->len == y->len && x->hash == y->hash);
        FUZZ_ASSERT(x->len == 0 || memcmp(x->p, y->p, x->len) == 0);
    }
}

static void same_keys(const pstats_stats *a, const pstats_stats *b)
{
    FUZZ_ASSERT(a->nkeys == b->nkeys && a->nstats == b->nstats);
    for (size_t i = 0; i < a->nkeys; i++) {
        const pkey *x = &a->keys[i], *y = &b->keys[i];
        FUZZ_ASSERT(x->file == y->file && x->name == y->name && x->line == y->line);
        FUZZ_ASSERT(memcmp(x->v, y->v, sizeof x->v) == 0 && x->kinds == y->kinds);
        FUZZ_ASSERT(x->edge_start == y->edge_start && x->nedges == y->nedges);
        FUZZ_ASSERT(x->kkind == y->kkind && x->flags == y->flags && x->hash == y->hash);
    }
    FUZZ_ASSERT(a->ncodes == b->ncodes);
    for (size_t i = 0; i < a->ncodes; i++)
        FUZZ_ASSERT(memcmp(&a->codes[i], &b->codes[i], sizeof a->codes[i]) == 0);
}

static void same_edges(const pstats_stats *a, const pstats_stats *b)
{
    FUZZ_ASSERT(a->nedges == b->nedges);
    for (size_t i = 0; i < a->nedges; i++) {
        pedge x, y;
        pe_get(a, &a->edges[i], &x);
        pe_get(b, &b->edges[i], &y);
        FUZZ_ASSERT(x.caller == y.caller && x.kind == y.kind && x.kinds == y.kinds);
        FUZZ_ASSERT(memcmp(x.v, y.v, sizeof x.v) == 0);
    }
    FUZZ_ASSERT(a->nbigs == b->nbigs && a->nlimbs == b->nlimbs);
    FUZZ_ASSERT(a->nlimbs == 0 || memcmp(a->limbs, b->limbs, a->nlimbs * 4) == 0);
}

static void same_model(const pstats_stats *a, const pstats_stats *b)
{
    same_strings(a, b);
    same_keys(a, b);
    same_edges(a, b);
    FUZZ_ASSERT(a->py2 == b->py2 && a->sampled == b->sampled && a->no_edges == b->no_edges);
    FUZZ_ASSERT(same_pnum(a->total_calls, b->total_calls));
    FUZZ_ASSERT(same_pnum(a->prim_calls, b->prim_calls));
    FUZZ_ASSERT(same_pnum(a->total_tt, b->total_tt));
}

static void compare(const uint8_t *data, size_t size, unsigned flags)
{
    pstats_stats *a = pstats_new(NULL), *b = pstats_new(NULL);
    FUZZ_ASSERT(a && b);
    pstats_set_load_flags(a, flags);
    pstats_set_load_flags(b, flags);
    pstats_error ea, eb;
    memset(&ea, 0, sizeof ea);
    memset(&eb, 0, sizeof eb);
    int ra = ps_load_with(a, data, size, "in", &ea, 1);
    int rb = ps_load_with(b, data, size, "in", &eb, 0);
    FUZZ_ASSERT(ra == rb);
    if (ra == 0)
        same_model(a, b);
    else
        FUZZ_ASSERT(ea.code == eb.code && ea.offset == eb.offset &&
                    ea.has_offset == eb.has_offset && strcmp(ea.msg, eb.msg) == 0);
    pstats_free(a);
    pstats_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    compare(data, size, 0);
    compare(data, size, PSTATS_LOAD_NO_EDGES);
    compare(data, size, PS_LOAD_PIPE_ALWAYS);
    compare(data, size, PS_LOAD_PIPE_ALWAYS | PSTATS_LOAD_NO_EDGES);
    return 0;
}
