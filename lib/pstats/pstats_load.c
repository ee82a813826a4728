/*
 * The load, step by step; each step calls only the next ones:
 *
 *   pstats_open.c          the entry points: a path, a descriptor, a buffer
 *   pstats_load.c (here)   names a file that is not pstats (pstats_sniff.c),
 *                          chooses the path, finishes the model
 *   pstats_load_fast.c     the fast path: the shapes cProfile, profile and
 *                          dump_stats write, read straight from the bytes
 *                          (in two threads from 4 MB, pstats_pipe.c;
 *                          with pstats_fast_str.c, pstats_fast_build.c)
 *   pstats_load_general.c  the general path: every shape, every error, over
 *                          libpymarshal's token reader
 *   pstats_build.c         the model put in order (ps_finalize)
 *
 * pstats_input.c (with pstats_unzip.c) serves them all - the input's bytes
 * as they are needed, decompressed if they were compressed - and calls none
 * of them.
 */
#include <stdio.h>
#include <string.h>

#include "pstats_input.h"
#include "pstats_internal.h"

/* What is read before anything is decoded, whichever path decodes it: the
 * sniffer's view, and the fast path's test for its second thread. */
#define READ_FIRST ((size_t)4 << 20)
/* How far past a broken spot of the data inside a compressed file its
 * decoder is run, to see whether the compressed data is broken there too:
 * further than either path reads ahead of where it stops (READ_FIRST and a
 * read of 256 KB), so that both report the same error. */
#define ZLOOK ((size_t)8 << 20)
/* parse(): the input failed, its error is the load's; the input is a
 * foreign format, named whatever follows */
enum { PARSE_INPUT = -3, PARSE_FOREIGN = -4 };

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

/* An error of the data inside a compressed file: its offset is in the
 * decompressed data, which the message says. */
static void note_decompressed(pstats_error *err, const char *zname)
{
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n, " (the offset is in the %s-decompressed data)",
             zname);
}

/* A loader's error at offset `at` of the input (none: SIZE_MAX) or the
 * input's, whichever explains the other: a file that changed while it was
 * read explains any broken data read from it; compressed data broken
 * before, or not far after, the broken spot of what it holds explains it
 * (a bzip2 block is written out before its CRC is checked). */
static void choose_error(ps_input *in, size_t at, pstats_error *err)
{
    if (in->z) {
        size_t upto = at > SIZE_MAX - ZLOOK ? SIZE_MAX : at + ZLOOK;
        if (at == SIZE_MAX || (ps_in_probe(in, upto) && in->fail_pos <= upto))
            ps_in_error(in, err);
        else if (err->has_offset)
            note_decompressed(err, in->zname);
    } else if (at == SIZE_MAX || in->failed || ps_in_check(in)) {
        ps_in_error(in, err);
    }
}

/* The general path over as much of the input as it needs. An input of
 * known size (a file, a buffer) is read whole; one of unknown size (a
 * stream, decompressed data) in steps of 4x, the loader run again while
 * it stops at the end of what was read: a stream that is not a profile,
 * or whose profile ends, is never read to its end (/dev/zero, a
 * decompression bomb, bytes after the dict). 0, or -1 (err set). */
static int load_general(pstats_stats *t, ps_input *in, const char *name, pstats_error *err,
                        ps_loaded *got)
{
    if (ps_in_rewind(in))
        return PARSE_INPUT;
    size_t want = !in->z && in->restartable ? SIZE_MAX : in->avail;
    if (want < PS_IN_SLAB)
        want = PS_IN_SLAB;
    for (;;) {
        if (ps_in_need(in, want))
            return PARSE_INPUT;
        if (ps_reserve(t, in->avail / 256, in->avail / 160))
            return -2;
        int rc = ps_load_general(t, in->data, in->avail, name, err, got);
        if (rc == 0 || !got->truncated || in->eof)
            return rc;
        ps_free(t, got->order); /* the data goes on: read more, start again */
        got->order = NULL;
        ps_clear(t);
        memset(err, 0, sizeof *err);
        want = want > SIZE_MAX / 4 ? SIZE_MAX : want * 4;
    }
}

/* Sniff, then the fast path and, for what it leaves, the general one.
 * 0 with *got filled, -1 (err set), -2 out of memory, PARSE_INPUT,
 * PARSE_FOREIGN (err set). */
static int parse(pstats_stats *t, ps_input *in, const char *name, pstats_error *err,
                 ps_loaded *got, int try_fast)
{
    (void)ps_in_need(in, READ_FIRST); /* a foreign format is named even if cut */
    if (in->failed && in->avail == 0)
        return PARSE_INPUT;
    const char *what = ps_sniff(in->data, in->avail);
    if (what) {
        if (in->zname)
            ps_seterr(err, PSTATS_EFORMAT, name, 0, 0, "not a pstats profile: %s-compressed, "
                      "and inside it %s", in->zname, what);
        else
            ps_seterr(err, PSTATS_EFORMAT, name, 1, 0, "not a pstats profile: %s", what);
        return PARSE_FOREIGN;
    }
    if (in->failed)
        return PARSE_INPUT;
    size_t hint = in->size_hint; /* cProfile: a key per ~180 bytes */
    if (try_fast) {
        if (ps_reserve(t, hint / 256, hint / 160))
            return -2;
        int rc = ps_load_fast(t, in, got);
        if (rc != 1)
            return rc == 0 ? 0 : -2;
        ps_free(t, got->order); /* a shape for the general loader: start again */
        got->order = NULL;
        ps_clear(t);
        if (in->failed)
            return PARSE_INPUT;
    }
    return load_general(t, in, name, err, got);
}

int ps_load_input(pstats_stats *t, ps_input *in, const char *name, pstats_error *err,
                  int try_fast)
{
    ps_loaded got;
    memset(&got, 0, sizeof got);
    int rc = parse(t, in, name, err, &got, try_fast);
    if (rc == -2) {
        ps_seterr(err, PSTATS_ENOMEM, name, 0, 0, "out of memory");
        rc = -1;
    }
    if (rc == 0 && ps_in_finish(in))
        rc = PARSE_INPUT;
    if (rc == PARSE_INPUT)
        ps_in_error(in, err);
    else if (rc == -1 && err->code != PSTATS_ENOMEM)
        choose_error(in, err->has_offset ? err->offset : 0, err);
    rc = rc ? -1 : 0;
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

int ps_load_with(pstats_stats *t, const uint8_t *data, size_t len, const char *name,
                 pstats_error *err, int try_fast)
{
    ps_input in;
    if (ps_in_open_mem(&in, t, data, len, name, err))
        return -1;
    int rc = ps_load_input(t, &in, name, err, try_fast);
    ps_in_close(&in);
    return rc;
}
