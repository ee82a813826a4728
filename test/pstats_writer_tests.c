/*
 * The pstats writer (pstats_writer.c) formats marshal bytes itself, in
 * chunks that two threads format for big models. Its bytes must be exactly
 * what libpymarshal's writer makes of the same profile: here big profiles
 * (past the writer's two-thread threshold) are made with libpymarshal's
 * writer in the form the pstats writer writes (version 4 with references to
 * every string and key met before; Python 2's version 2 with byte strings),
 * loaded, written back, and compared byte for byte. The profiles mix every
 * kind of value the model keeps: short, long (256+ bytes) and non-ASCII
 * names, ints inside and beyond 32 bits, big ints, floats, tuple edges whose
 * call counts agree and differ, bare-count edges, Python 2 longs, keys met
 * first as callers.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pstats/marshal.h"
#include "pstats/pstats.h"

#include "pstats_test_util.h"

#define NFUNCS 40000
#define NFILES 97

typedef struct gen {
    pymarshal_writer *w;
    int py2;
    /* -1 until written; names: func_N's at NFUNCS + N, the others at i */
    int64_t *file_slot, *name_slot, *key_slot;
} gen;

#define NAMES 30011

/* The text of function i's name (a few long and non-ASCII ones, the rest
 * shared by every NAMES-th function), and its slot index in *slot. */
static size_t name_of(size_t i, char *buf, size_t size, size_t *slot)
{
    *slot = i;
    if (i % 1009 == 5) {
        memset(buf, 'x', 300);
        return 300 + (size_t)snprintf(buf + 300, size - 300, "_%zu", i);
    }
    if (i % 997 == 3)
        return (size_t)snprintf(buf, size, "f\xc3\xa9t\xc3\xaa_%zu", i);
    *slot = NFUNCS + i % NAMES;
    return (size_t)snprintf(buf, size, "func_%zu", i % NAMES);
}

static void put_text(gen *g, const char *p, size_t len, int64_t *slot)
{
    if (!g->py2 && *slot >= 0) {
        pymarshal_write_ref(g->w, *slot);
        return;
    }
    if (g->py2)
        pymarshal_write_bytes(g->w, p, len, 0);
    else
        *slot = pymarshal_write_str(g->w, p, len, PYMARSHAL_W_REF);
}

static void put_key(gen *g, size_t i)
{
    if (!g->py2 && g->key_slot[i] >= 0) {
        pymarshal_write_ref(g->w, g->key_slot[i]);
        return;
    }
    int64_t slot = pymarshal_write_seq(g->w, PYMARSHAL_TUPLE, 3, g->py2 ? 0 : PYMARSHAL_W_REF);
    if (!g->py2)
        g->key_slot[i] = slot;
    char buf[400];
    size_t n = (size_t)snprintf(buf, sizeof buf, "/src/pkg/module_%zu.py", i % NFILES);
    put_text(g, buf, n, &g->file_slot[i % NFILES]);
    pymarshal_write_int(g->w, (int64_t)(i % 5000) + 1, 0);
    size_t at;
    n = name_of(i, buf, sizeof buf, &at);
    put_text(g, buf, n, &g->name_slot[at]);
}

/* A number as pymarshal writes it; big ints beyond 64 bits too. */
static void put_count(gen *g, size_t i, int f)
{
    if (i % 401 == 7 && f == 0) { /* beyond 32 bits */
        pymarshal_write_int(g->w, (int64_t)1 << 40 | (int64_t)i, 0);
    } else if (i % 613 == 11 && f == 1 && !g->py2) { /* beyond 64 bits */
        uint16_t d[6] = {1, 2, 3, 4, 5, (uint16_t)(i & 0x7fff) | 1};
        pymarshal_write_bigint(g->w, d, 6, 0, 0);
    } else {
        pymarshal_write_int(g->w, (int64_t)(i % 1000) + f, 0);
    }
}

static void put_edge(gen *g, size_t i, size_t caller, int e)
{
    put_key(g, caller);
    size_t kind = (i + (size_t)e) % 7;
    if (kind == 0) { /* a bare count (the profile module's) */
        if (g->py2 && i % 5 == 0) {
            uint16_t d[1] = {(uint16_t)(i % 3000 + 1)};
            pymarshal_write_bigint(g->w, d, 1, 0, 0); /* a Python 2 long */
        } else {
            pymarshal_write_int(g->w, (int64_t)(i % 3000), 0);
        }
        return;
    }
    pymarshal_write_seq(g->w, PYMARSHAL_TUPLE, 4, 0);
    int64_t nc = (int64_t)(i % 700) + 1, cc = kind == 1 ? nc + 3 : nc;
    if (kind == 2)
        nc = cc = (int64_t)1 << 35; /* beyond what the compact edge holds */
    pymarshal_write_int(g->w, nc, 0);
    pymarshal_write_int(g->w, cc, 0);
    pymarshal_write_float(g->w, (double)i * 1e-7, 0);
    pymarshal_write_float(g->w, kind == 3 ? 0.1 : (double)(i + (size_t)e) * 3e-7, 0);
}

static void put_entry(gen *g, size_t i)
{
    put_key(g, i);
    pymarshal_write_seq(g->w, PYMARSHAL_TUPLE, 5, 0);
    put_count(g, i, 0);
    put_count(g, i, 1);
    pymarshal_write_float(g->w, (double)i * 1e-6, 0);
    pymarshal_write_float(g->w, (double)i * 2e-6, 0);
    pymarshal_write_dict(g->w, 0);
    /* callers: earlier functions, and (first met here) later ones */
    size_t seen[5];
    int n = (int)(i % 5), m = 0;
    for (int e = 0; e < n; e++) {
        size_t caller = e == 3 && i + 7 < NFUNCS ? i + 7 : (i * 31 + (size_t)e * 17) % (i + 1);
        int dup = 0;
        for (int k = 0; k < m; k++)
            dup |= seen[k] == caller;
        if (dup)
            continue;
        seen[m++] = caller;
        put_edge(g, i, caller, e);
    }
    pymarshal_write_dict_end(g->w);
}

static void make_profile(int py2, sink *out)
{
    gen g;
    memset(&g, 0, sizeof g);
    g.py2 = py2;
    g.file_slot = malloc(NFILES * sizeof(int64_t));
    g.name_slot = malloc((NFUNCS + NAMES) * sizeof(int64_t));
    g.key_slot = malloc(NFUNCS * sizeof(int64_t));
    ck_assert(g.file_slot && g.name_slot && g.key_slot);
    memset(g.file_slot, 0xff, NFILES * sizeof(int64_t));
    memset(g.name_slot, 0xff, (NFUNCS + NAMES) * sizeof(int64_t));
    memset(g.key_slot, 0xff, NFUNCS * sizeof(int64_t));
    pymarshal_error me;
    g.w = pymarshal_writer_new(py2 ? 2 : 4, NULL, sink_write, out, &me);
    ck_assert_ptr_nonnull(g.w);
    pymarshal_write_dict(g.w, 0);
    for (size_t i = 0; i < NFUNCS; i++)
        put_entry(&g, i);
    pymarshal_write_dict_end(g.w);
    ck_assert_int_eq(pymarshal_writer_finish(g.w, &me), 0);
    free(g.file_slot);
    free(g.name_slot);
    free(g.key_slot);
}

static void check_rewrite(int py2)
{
    sink in = {0}, out = {0};
    make_profile(py2, &in);
    pstats_stats *s = pstats_new(NULL);
    pstats_error err;
    ck_assert_msg(pstats_load_buffer(s, in.p, in.len, "big.prof", -1, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(pstats_is_py2(s), py2);
    ck_assert_uint_eq(pstats_nfuncs(s), NFUNCS);
    ck_assert_int_eq(pstats_write_pstats(s, sink_write, &out, &err), 0);
    ck_assert_uint_eq(out.len, in.len);
    size_t at = 0;
    while (at < in.len && in.p[at] == out.p[at])
        at++;
    ck_assert_msg(at == in.len, "py2 %d: first difference at byte %zu of %zu", py2, at, in.len);
    pstats_free(s);
    free(in.p);
    free(out.p);
}

START_TEST(writer_bytes_as_libpymarshal)
{
    check_rewrite(0);
}
END_TEST

START_TEST(writer_bytes_as_libpymarshal_py2)
{
    check_rewrite(1);
}
END_TEST

Suite *pstats_writer_suite(void)
{
    Suite *s = suite_create("pstats_writer");
    TCase *t = tcase_create("writer");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, writer_bytes_as_libpymarshal);
    tcase_add_test(t, writer_bytes_as_libpymarshal_py2);
    suite_add_tcase(s, t);
    return s;
}
