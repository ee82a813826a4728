/*
 * libpstats unit tests: sort keys and prefixes, orders, totals, merging,
 * strip_dirs, big counts, int/tuple callers, errors for non-pstats input,
 * numbers, and allocation failure at every step. Expected values come from
 * Python's pstats (test/pstats_expect.py writes test/pstats_expect.inc).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pstats/pstats.h"
#include "pstats_internal.h"

#include "pstats_expect.inc"

#include "pstats_test_util.h"

/* ------------------------------------------------------------ helpers */

int sink_write(void *ctx, const void *buf, size_t len)
{
    sink *s = ctx;
    if (s->len + len + 1 > s->cap) {
        size_t nc = (s->len + len + 1) * 2;
        char *p = realloc(s->p, nc);
        if (!p)
            return -1;
        s->p = p;
        s->cap = nc;
    }
    memcpy(s->p + s->len, buf, len);
    s->len += len;
    s->p[s->len] = 0;
    return 0;
}

static pstats_stats *load(const char *path)
{
    pstats_stats *s = pstats_new(NULL);
    pstats_error err;
    ck_assert_ptr_nonnull(s);
    int rc = pstats_load_path(s, path, &err);
    ck_assert_msg(rc == 0, "%s: %s", path, err.msg);
    return s;
}

static char *label(const pstats_stats *s, uint32_t id)
{
    static char buf[4096];
    pstats_func_label(s, id, buf, sizeof buf);
    return buf;
}

static char *num_text(pstats_stats *s, pnum n)
{
    static char buf[256];
    psb b;
    psb_init(&b, s);
    pn_str(s, n, &b);
    snprintf(buf, sizeof buf, "%s", b.p ? b.p : "");
    psb_free(&b);
    return buf;
}

void *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* ------------------------------------------------------ sort keys */

START_TEST(sort_prefixes_as_python)
{
    pstats_stats *s = load(PROF("fib-cpython3.11-cprofile.prof"));
    for (size_t i = 0; i < NELEM(sort_prefixes); i++) {
        pstats_error err;
        const char *k = sort_prefixes[i].key;
        int rc = pstats_sort(s, &k, 1, &err);
        if (sort_prefixes[i].desc) {
            ck_assert_msg(rc == 0, "key %s: %s", k, err.msg);
            ck_assert_str_eq(s->sort_type, sort_prefixes[i].desc);
        } else {
            ck_assert_msg(rc != 0, "key %s accepted", k);
            ck_assert_int_eq(err.code, PSTATS_EUSAGE);
        }
    }
    const char *old[] = {"-1", "0", "1", "2"};
    const char *desc[] = {"standard name", "call count", "internal time", "cumulative time"};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pstats_sort(s, &old[i], 1, NULL), 0);
        ck_assert_str_eq(s->sort_type, desc[i]);
    }
    const char *two[] = {"time", "0"}; /* int keys only alone */
    ck_assert_int_ne(pstats_sort(s, two, 2, NULL), 0);
    const char *multi[] = {"tot", "cumu", "nfl"};
    ck_assert_int_eq(pstats_sort(s, multi, 3, NULL), 0);
    ck_assert_str_eq(s->sort_type, "internal time, cumulative time, name/file/line");
    pstats_free(s);
}
END_TEST

static void check_order(const char *const *keys, size_t nkeys, const char *const *want,
                        size_t nwant)
{
    pstats_stats *s = load(PROF("mix-cpython3.11-cprofile.prof"));
    ck_assert_int_eq(pstats_sort(s, keys, nkeys, NULL), 0);
    ck_assert_uint_eq(pstats_nfuncs(s), nwant);
    for (size_t i = 0; i < nwant; i++)
        ck_assert_str_eq(label(s, s->fcn_list[i]), want[i]);
    pstats_free(s);
}

START_TEST(sort_orders_as_python)
{
    const char *k1[] = {"calls", "name"}, *k2[] = {"stdname"}, *k3[] = {"nfl"},
               *k4[] = {"pcalls", "line"};
    check_order(k1, 2, order_calls_name, NELEM(order_calls_name));
    check_order(k2, 1, order_stdname, NELEM(order_stdname));
    check_order(k3, 1, order_nfl, NELEM(order_nfl));
    check_order(k4, 2, order_pcalls_line, NELEM(order_pcalls_line));
}
END_TEST

/* ------------------------------------------------------ totals */

START_TEST(totals_as_python)
{
    for (size_t i = 0; i < NELEM(totals); i++) {
        char path[512];
        snprintf(path, sizeof path, PSTATS_FIXTURES "/profiles/%s", totals[i].file);
        pstats_stats *s = load(path);
        ck_assert_uint_eq(pstats_nfuncs(s), totals[i].nfuncs);
        ck_assert_str_eq(num_text(s, s->total_calls), totals[i].total_calls);
        ck_assert_str_eq(num_text(s, s->prim_calls), totals[i].prim_calls);
        char tt[64];
        snprintf(tt, sizeof tt, "%.6f", pn_double(s, s->total_tt));
        ck_assert_str_eq(tt, totals[i].total_tt);
        pstats_free(s);
    }
}
END_TEST

START_TEST(big_counts_exact)
{
    pstats_stats *s = load(PROF("synth-bigcounts.prof"));
    ck_assert_uint_eq(pstats_nfuncs(s), NELEM(big_counts));
    for (uint32_t i = 0; i < NELEM(big_counts); i++) {
        char buf[64];
        pstats_format_count(s, i, 0, buf, sizeof buf);
        ck_assert_str_eq(buf, big_counts[i][0]);
        pstats_format_count(s, i, 1, buf, sizeof buf);
        ck_assert_str_eq(buf, big_counts[i][1]);
    }
    ck_assert_str_eq(num_text(s, s->total_calls), big_totals[0]);
    ck_assert_str_eq(num_text(s, s->prim_calls), big_totals[1]);
    pstats_func f;
    pstats_func_get(s, 2, &f);
    ck_assert_int_eq(f.nc_big, 1);
    ck_assert(f.nc == INT64_MAX);
    /* the edge of 'hotter' keeps 2^64+3 exactly */
    char buf[64];
    pstats_format_edge_count(s, 2, 0, 0, 1, buf, sizeof buf);
    ck_assert_str_eq(buf, "18446744073709551619");
    pstats_free(s);
}
END_TEST

/* ------------------------------------------------------ merge, strip */

START_TEST(merge_order_as_python)
{
    pstats_stats *a = load(PROF("fib-cpython3.11-cprofile.prof"));
    pstats_stats *b = load(PROF("mix-cpython3.11-cprofile.prof"));
    pstats_stats *c = load(PROF("fib-cpython3.12-cprofile.prof"));
    pstats_stats *others[] = {b, c};
    pstats_error err;
    ck_assert_int_eq(pstats_add(a, others, 2, &err), 0);
    ck_assert_uint_eq(pstats_nfuncs(a), NELEM(merge_order));
    for (uint32_t i = 0; i < NELEM(merge_order); i++)
        ck_assert_str_eq(label(a, i), merge_order[i]);
    ck_assert_str_eq(num_text(a, a->total_calls), merge_totals[0]);
    ck_assert_str_eq(num_text(a, a->prim_calls), merge_totals[1]);
    char tt[64];
    pymarshal_float_repr(pn_double(a, a->total_tt), tt);
    ck_assert_str_eq(tt, merge_totals[2]);
    ck_assert_uint_eq(pstats_ninputs(a), 3);
    for (size_t i = 0; i < 3; i++) {
        const char *n = pstats_input_name(a, i, NULL);
        size_t ln = strlen(n), lw = strlen(merge_files[i]) - strlen("fixtures");
        ck_assert(ln >= lw && strcmp(n + ln - lw, merge_files[i] + strlen("fixtures")) == 0);
    }
    ck_assert_ptr_null(a->fcn_list); /* add() drops the sort */
    pstats_free(a);
    pstats_free(b);
    pstats_free(c);
}
END_TEST

START_TEST(strip_dirs_as_python)
{
    pstats_stats *s = load(PROF("mix-cpython3.11-cprofile.prof"));
    const char *k = "calls";
    ck_assert_int_eq(pstats_sort(s, &k, 1, NULL), 0);
    ck_assert_int_eq(pstats_strip_dirs(s, NULL), 0);
    ck_assert_ptr_null(s->fcn_list);
    ck_assert_uint_eq(pstats_nfuncs(s), NELEM(strip_order));
    for (uint32_t i = 0; i < NELEM(strip_order); i++)
        ck_assert_str_eq(label(s, i), strip_order[i]);
    ck_assert_uint_eq(s->max_name_len, strip_max_name_len);
    for (uint32_t i = 0; i < pstats_nfuncs(s); i++) {
        if (strcmp(label(s, i), strip_helper[0]) != 0)
            continue;
        char buf[32];
        pstats_format_count(s, i, 1, buf, sizeof buf);
        ck_assert_str_eq(buf, strip_helper[1]);
        snprintf(buf, sizeof buf, "%zu", pstats_ncallers(s, i));
        ck_assert_str_eq(buf, strip_helper[2]);
    }
    pstats_free(s);
}
END_TEST

static uint32_t find(const pstats_stats *s, const char *lab)
{
    for (uint32_t i = 0; i < pstats_nkeys(s); i++)
        if (strcmp(label(s, i), lab) == 0)
            return i;
    ck_abort_msg("no function %s", lab);
    return 0;
}

/* Python raises TypeError adding an int caller to a tuple caller; we make
 * the int n the tuple (n, n, 0.0, 0.0) (docs/pstats.md). */
START_TEST(merge_int_with_tuple_callers)
{
    pstats_stats *a = load(PROF("fib-cpython3.12-cprofile.prof"));
    pstats_stats *b = load(PROF("fib-cpython3.12-profile.prof"));
    uint32_t fa = find(a, "fibonacci.py:2(fib)"), fb = find(b, "fibonacci.py:2(fib)");
    pstats_edge ea, eb;
    size_t ka = 0, kb = 0;
    for (; ka < pstats_ncallers(a, fa); ka++) {
        pstats_caller_get(a, fa, ka, &ea);
        if (strcmp(label(a, ea.caller), "fibonacci.py:2(fib)") == 0)
            break;
    }
    for (; kb < pstats_ncallers(b, fb); kb++) {
        pstats_caller_get(b, fb, kb, &eb);
        if (strcmp(label(b, eb.caller), "fibonacci.py:2(fib)") == 0)
            break;
    }
    ck_assert_int_eq(ea.kind, PSTATS_EDGE_TUPLE);
    ck_assert_int_eq(eb.kind, PSTATS_EDGE_INT);
    pstats_stats *others[] = {b};
    ck_assert_int_eq(pstats_add(a, others, 1, NULL), 0);
    uint32_t f = find(a, "fibonacci.py:2(fib)");
    int seen = 0;
    for (size_t k = 0; k < pstats_ncallers(a, f); k++) {
        pstats_edge e;
        pstats_caller_get(a, f, k, &e);
        if (strcmp(label(a, e.caller), "fibonacci.py:2(fib)") != 0)
            continue;
        seen = 1;
        ck_assert_int_eq(e.kind, PSTATS_EDGE_TUPLE);
        ck_assert_int_eq(e.nc, ea.nc + eb.nc);
        ck_assert_int_eq(e.cc, ea.cc + eb.nc);
        ck_assert(e.tt == ea.tt && e.ct == ea.ct);
    }
    ck_assert(seen);
    sink out = {0};
    ck_assert_int_eq(pstats_print_callers(a, NULL, 0, sink_write, &out, NULL), 0);
    free(out.p);
    pstats_free(a);
    pstats_free(b);
}
END_TEST

START_TEST(callees_invert_callers)
{
    pstats_stats *s = load(PROF("mix-cpython3.11-cprofile.prof"));
    size_t total = 0;
    for (uint32_t f = 0; f < pstats_nkeys(s); f++) {
        uint32_t prev = 0;
        for (size_t k = 0; k < pstats_ncallees(s, f); k++) {
            pstats_edge e;
            pstats_callee_get(s, f, k, &e);
            ck_assert_uint_eq(e.caller, f);
            ck_assert(k == 0 || e.callee > prev); /* dict order of the callee */
            prev = e.callee;
            total++;
        }
    }
    size_t edges = 0;
    for (uint32_t f = 0; f < pstats_nfuncs(s); f++)
        edges += pstats_ncallers(s, f);
    ck_assert_uint_eq(total, edges);
    pstats_free(s);
}
END_TEST

START_TEST(int_caller_not_in_profile)
{
    /* Python: KeyError ('jprofile', 0, 'profiler'); we print its cumtime as 0 */
    pstats_stats *s = load(PROF("synth-profilestyle.prof"));
    sink out = {0};
    ck_assert_int_eq(pstats_print_callers(s, NULL, 0, sink_write, &out, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out.p, "<- jprofile:0(profiler)(1)    0.000\n"));
    pstats_totals t;
    pstats_get_totals(s, &t);
    ck_assert_uint_eq(t.ntop, 1);
    free(out.p);
    pstats_free(s);
}
END_TEST

START_TEST(sampled_marker_is_not_a_function)
{
    pstats_stats *s = load(PROF("synth-sampled.prof"));
    ck_assert_int_eq(pstats_is_sampled(s), 1);
    ck_assert_uint_eq(pstats_nfuncs(s), 2);
    pstats_free(s);
}
END_TEST

START_TEST(python2_bytes_kept)
{
    pstats_stats *s = load(PROF("synth-py2-big.prof"));
    ck_assert_int_eq(pstats_is_py2(s), 1);
    find(s, "caf\xe9.py:3(na\xefve)"); /* Latin-1 bytes as they are */
    uint32_t f = find(s, "py2.py:6(hot)");
    char buf[64];
    pstats_format_count(s, f, 1, buf, sizeof buf);
    ck_assert_str_eq(buf, "1099511627777");
    pstats_free(s);
}
END_TEST

/* A key written twice keeps its first place and its last value; after
 * strip_dirs, colliding callers of one function replace each other and
 * colliding functions are summed: all as Python's pstats. */
START_TEST(duplicates_and_collisions_as_python)
{
    pstats_stats *s = pstats_new(NULL);
    ck_assert_int_eq(pstats_load_buffer(s, collide_profile, sizeof collide_profile, "c", -1,
                                        NULL), 0);
    for (int i = 0; i < 6; i++) {
        if (i == 3)
            ck_assert_int_eq(pstats_strip_dirs(s, NULL), 0);
        sink out = {0};
        int rc = i % 3 == 0   ? pstats_print_stats(s, NULL, 0, sink_write, &out, NULL)
                 : i % 3 == 1 ? pstats_print_callers(s, NULL, 0, sink_write, &out, NULL)
                              : pstats_print_callees(s, NULL, 0, sink_write, &out, NULL);
        ck_assert_int_eq(rc, 0);
        ck_assert_msg(strcmp(out.p, collide_reports[i]) == 0, "report %d:\n%s---\n%s", i,
                      out.p, collide_reports[i]);
        free(out.p);
    }
    pstats_free(s);
}
END_TEST

/* ------------------------------------------------------ restrictions */

typedef struct rcase {
    const char *golden;   /* fixtures/golden/<id>.txt, from Python */
    int view;             /* 0 stats, 1 callers, 2 callees */
    const char *keys[3];
    size_t nr;
    pstats_restriction r[2];
} rcase;

#define RC(k, n, f, x) {k, n, f, x}
static const rcase rcases[] = {
    {"stats-cum-limit3", 0, {"cumulative"}, 1, {RC(PSTATS_LIMIT_COUNT, 3, 0, NULL)}},
    {"stats-tot-frac", 0, {"tottime"}, 1, {RC(PSTATS_LIMIT_FRACTION, 0, 0.5, NULL)}},
    {"stats-match-limit", 0, {"stdname"}, 2,
     {RC(PSTATS_LIMIT_REGEX, 0, 0, "fib"), RC(PSTATS_LIMIT_COUNT, 1, 0, NULL)}},
    {"stats-frac-match", 0, {"calls"}, 2,
     {RC(PSTATS_LIMIT_FRACTION, 0, 0.6, NULL), RC(PSTATS_LIMIT_REGEX, 0, 0, "seq")}},
    {"stats-nomatch", 0, {"cumulative"}, 1, {RC(PSTATS_LIMIT_REGEX, 0, 0, "nomatchatall")}},
    {"stats-limit0", 0, {"calls"}, 1, {RC(PSTATS_LIMIT_COUNT, 0, 0, NULL)}},
    {"stats-limit-big", 0, {"calls"}, 1, {RC(PSTATS_LIMIT_COUNT, 1000, 0, NULL)}},
    {"stats-frac0", 0, {"calls"}, 1, {RC(PSTATS_LIMIT_FRACTION, 0, 0.0, NULL)}},
    {"stats-regex", 0, {"line"}, 1, {RC(PSTATS_LIMIT_REGEX, 0, 0, "^fib.*py:[0-9]+\\(fib\\)$")}},
    {"callers-nfl-limit", 1, {"nfl"}, 1, {RC(PSTATS_LIMIT_COUNT, 3, 0, NULL)}},
    {"callees-calls-frac", 2, {"calls"}, 2,
     {RC(PSTATS_LIMIT_FRACTION, 0, 0.5, NULL), RC(PSTATS_LIMIT_COUNT, 2, 0, NULL)}},
};

START_TEST(restrictions_as_python)
{
    const char *name = "fixtures/profiles/fib-cpython3.11-cprofile.prof";
    size_t len;
    uint8_t *data = read_file(PROF("fib-cpython3.11-cprofile.prof"), &len);
    for (size_t i = 0; i < NELEM(rcases); i++) {
        const rcase *c = &rcases[i];
        char path[512];
        snprintf(path, sizeof path, PSTATS_FIXTURES "/golden/fib-cpython3.11-cprofile.%s.txt",
                 c->golden);
        size_t wl;
        char *want = read_file(path, &wl);
        want[wl] = 0;
        pstats_stats *s = pstats_new(NULL);
        ck_assert_int_eq(pstats_load_buffer(s, data, len, name, 1700000000, NULL), 0);
        size_t nk = 0, nr = c->nr;
        while (nk < 3 && c->keys[nk])
            nk++;
        ck_assert_int_eq(pstats_sort(s, c->keys, nk, NULL), 0);
        sink out = {0};
        int rc = c->view == 0   ? pstats_print_stats(s, c->r, nr, sink_write, &out, NULL)
                 : c->view == 1 ? pstats_print_callers(s, c->r, nr, sink_write, &out, NULL)
                                : pstats_print_callees(s, c->r, nr, sink_write, &out, NULL);
        ck_assert_int_eq(rc, 0);
        ck_assert_msg(out.len == wl && memcmp(out.p, want, wl) == 0, "%s:\n%s\n---\n%s",
                      c->golden, out.p ? out.p : "", want);
        free(out.p);
        free(want);
        pstats_free(s);
    }
    free(data);
}
END_TEST

START_TEST(regex_dialect_as_python)
{
    pstats_stats *s = load(PROF("fib-cpython3.11-cprofile.prof"));
    s->inputs[0].has_mtime = 0; /* no header line, as the expectation */
    const char *k = "stdname";
    pstats_restriction r = {PSTATS_LIMIT_REGEX, 0, 0, "fi{,1}b_s|[{,]x|\\{,1\\}"};
    ck_assert_int_eq(pstats_sort(s, &k, 1, NULL), 0);
    sink out = {0};
    ck_assert_int_eq(pstats_print_stats(s, &r, 1, sink_write, &out, NULL), 0);
    ck_assert_str_eq(out.p, regex_dialect_report);
    free(out.p);
    pstats_free(s);
}
END_TEST

/* Shared value tuples, callers dicts and caller tuples come back as marshal
 * references: replayed, they give Python's reports. */
START_TEST(shared_objects_replayed)
{
    pstats_stats *s = pstats_new(NULL);
    pstats_error err;
    ck_assert_int_eq(pstats_load_buffer(s, shared_profile, sizeof shared_profile, "shared", -1,
                                        &err), 0);
    const char *k1[] = {"calls", "name"}, *k2[] = {"stdname"};
    for (int v = 0; v < 3; v++) {
        ck_assert_int_eq(pstats_sort(s, v ? k2 : k1, v ? 1 : 2, NULL), 0);
        sink out = {0};
        int rc = v == 0   ? pstats_print_stats(s, NULL, 0, sink_write, &out, NULL)
                 : v == 1 ? pstats_print_callers(s, NULL, 0, sink_write, &out, NULL)
                          : pstats_print_callees(s, NULL, 0, sink_write, &out, NULL);
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(out.p, shared_reports[v]);
        free(out.p);
    }
    pstats_free(s);
}
END_TEST

/* ------------------------------------------------------ errors */

/* Python 2.7 prints an int caller that is a long with an L; the writer
 * keeps it a long (marshal 'l'). */
START_TEST(python2_long_callers)
{
    for (int round = 0; round < 2; round++) {
        pstats_stats *s = pstats_new(NULL);
        sink file = {0};
        const void *data = py2_long_profile;
        size_t len = sizeof py2_long_profile;
        if (round == 1) { /* the same through the writer */
            ck_assert_int_eq(pstats_load_buffer(s, data, len, "p", -1, NULL), 0);
            ck_assert_int_eq(pstats_write_pstats(s, sink_write, &file, NULL), 0);
            pstats_free(s);
            s = pstats_new(NULL);
            data = file.p;
            len = file.len;
        }
        ck_assert_int_eq(pstats_load_buffer(s, data, len, "p", -1, NULL), 0);
        free(file.p); /* the model must not need the buffer any more */
        file.p = NULL;
        ck_assert_int_eq(pstats_is_py2(s), 1);
        const char *k = "stdname";
        ck_assert_int_eq(pstats_sort(s, &k, 1, NULL), 0);
        sink out = {0};
        ck_assert_int_eq(pstats_print_callers(s, NULL, 0, sink_write, &out, NULL), 0);
        ck_assert_str_eq(out.p, py2_long_callers);
        free(out.p);
        free(file.p);
        pstats_free(s);
    }
}
END_TEST

/* ------------------------------------------------------ numbers */

START_TEST(numbers_as_python)
{
    pstats_stats *s = pstats_new(NULL);
    pnum r;
    /* 2**63 - 1 + 10 == 9223372036854775817 */
    ck_assert_int_eq(pn_add(s, pn_int(INT64_MAX), pn_int(10), &r), 0);
    ck_assert_int_eq(r.kind, PN_BIG);
    ck_assert_str_eq(num_text(s, r), "9223372036854775817");
    pnum back;
    ck_assert_int_eq(pn_add(s, r, pn_int(-20), &back), 0);
    ck_assert_int_eq(back.kind, PN_INT);
    ck_assert(back.u.i == INT64_MAX - 10);
    /* float(2**64 + 3) == 1.8446744073709552e+19 */
    static const uint8_t d[] = {3, 0, 0, 0, 0, 0, 0, 0, 16, 0}; /* 15-bit digits */
    pnum big;
    ck_assert_int_eq(pn_from_digits(s, d, 5, 0, &big), 0);
    ck_assert_str_eq(num_text(s, big), "18446744073709551619");
    char buf[32];
    pymarshal_float_repr(pn_double(s, big), buf);
    ck_assert_str_eq(buf, "1.8446744073709552e+19");
    /* 2**53 + 1 > 2.0**53 (exact int/float comparison), NaN unordered */
    ck_assert_int_eq(pn_cmp(s, pn_int((INT64_C(1) << 53) + 1), pn_float(9007199254740992.0)), 1);
    ck_assert_int_eq(pn_cmp(s, pn_int(3), pn_float(NAN)), 2);
    ck_assert_int_eq(pn_cmp(s, big, pn_float(1.8446744073709552e19)), 1);
    ck_assert_int_eq(pn_cmp(s, pn_float(-0.0), pn_int(0)), 0);
    /* int 0 + -0.0 == 0.0 (Python's add() starts new keys from 0) */
    ck_assert_int_eq(pn_add(s, pn_int(0), pn_float(-0.0), &r), 0);
    ck_assert(r.kind == PN_FLOAT && !signbit(r.u.f));
    /* '%d' % 2.75 == '2' */
    psb b;
    psb_init(&b, s);
    pn_fmt_d(s, pn_float(2.75), &b);
    ck_assert_str_eq(b.p, "2");
    psb_free(&b);
    pstats_free(s);
}
END_TEST

START_TEST(f8_matches_printf)
{
    pstats_stats *s = pstats_new(NULL);
    uint64_t r = 88172645463325252u;
    for (int i = 0; i < 200000; i++) {
        double x;
        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
        switch (i % 5) {
        case 0: x = (double)(int64_t)(r % 2000001) / 2000.0 - 500.0; break; /* halves */
        case 1: memcpy(&x, &r, 8); break;                                     /* any bits */
        case 2: x = ldexp((double)(r >> 11), -(int)(r % 80)); break;
        case 3: x = (double)(r % 100000) * 0.0005; break;
        default: x = ((double)(r >> 11) / 9007199254740992.0) * 1e15; break;
        }
        char want[512];
        psb b;
        psb_init(&b, s);
        ps_f8(&b, x);
        snprintf(want, sizeof want, "%8.3f", x);
        if (isnan(x))
            snprintf(want, sizeof want, "%8s", "nan");
        ck_assert_msg(b.len == strlen(want) && memcmp(b.p, want, b.len) == 0,
                      "%a: got '%s' want '%s'", x, b.p, want);
        psb_free(&b);
    }
    pstats_free(s);
}
END_TEST

/* ------------------------------------------------------ no edges */

static pstats_stats *load_no_edges(const char *path)
{
    pstats_stats *s = pstats_new(NULL);
    pstats_error err;
    ck_assert_ptr_nonnull(s);
    pstats_set_load_flags(s, PSTATS_LOAD_NO_EDGES);
    int rc = pstats_load_path(s, path, &err);
    ck_assert_msg(rc == 0, "%s: %s", path, err.msg);
    ck_assert_int_eq(pstats_has_edges(s), 0);
    return s;
}

/* PSTATS_LOAD_NO_EDGES: print_stats and the totals as Python's, from a model
 * without edges; what needs the edges refuses it; merges carry the lack. */
START_TEST(no_edges_as_python)
{
    for (size_t i = 0; i < NELEM(rcases); i++) {
        const rcase *c = &rcases[i];
        if (c->view != 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, PSTATS_FIXTURES "/golden/fib-cpython3.11-cprofile.%s.txt",
                 c->golden);
        size_t wl, len, nk = 0;
        char *want = read_file(path, &wl);
        uint8_t *data = read_file(PROF("fib-cpython3.11-cprofile.prof"), &len);
        pstats_stats *s = pstats_new(NULL);
        pstats_set_load_flags(s, PSTATS_LOAD_NO_EDGES);
        ck_assert_int_eq(pstats_load_buffer(s, data, len,
                                            "fixtures/profiles/fib-cpython3.11-cprofile.prof",
                                            1700000000, NULL), 0);
        free(data);
        while (nk < 3 && c->keys[nk])
            nk++;
        ck_assert_int_eq(pstats_sort(s, c->keys, nk, NULL), 0);
        sink out = {0};
        ck_assert_int_eq(pstats_print_stats(s, c->r, c->nr, sink_write, &out, NULL), 0);
        ck_assert_msg(out.len == wl && memcmp(out.p, want, wl) == 0, "%s", c->golden);
        free(out.p);
        free(want);
        pstats_free(s);
    }
    for (size_t i = 0; i < NELEM(totals); i++) {
        char path[512];
        snprintf(path, sizeof path, PSTATS_FIXTURES "/profiles/%s", totals[i].file);
        pstats_stats *s = load_no_edges(path), *f = load(path);
        ck_assert_uint_eq(pstats_nfuncs(s), totals[i].nfuncs);
        ck_assert_uint_eq(pstats_nkeys(s), totals[i].nfuncs);
        ck_assert_str_eq(num_text(s, s->total_calls), totals[i].total_calls);
        ck_assert_str_eq(num_text(s, s->prim_calls), totals[i].prim_calls);
        pstats_totals a, b;
        pstats_get_totals(s, &a);
        pstats_get_totals(f, &b);
        ck_assert_uint_eq(a.ntop, b.ntop);
        ck_assert_uint_eq(pstats_ncallers(s, 0), 0);
        pstats_free(s);
        pstats_free(f);
    }
}
END_TEST

START_TEST(no_edges_refused_or_merged)
{
    pstats_stats *a = load(PROF("mix-cpython3.11-cprofile.prof"));
    pstats_stats *b = load_no_edges(PROF("fib-cpython3.11-cprofile.prof"));
    pstats_stats *c = load(PROF("fib-cpython3.11-cprofile.prof"));
    pstats_error err;
    sink out = {0};
    ck_assert_int_eq(pstats_print_callers(b, NULL, 0, sink_write, &out, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    ck_assert_int_eq(pstats_print_callees(b, NULL, 0, sink_write, &out, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    ck_assert_int_eq(pstats_write_pstats(b, sink_write, &out, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    const pstats_stats *parts[1] = {b};
    ck_assert_int_eq(pstats_write_callgrind(parts, 1, NULL, sink_write, &out, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    ck_assert_uint_eq(out.len, 0);
    /* the same merge with and without b's edges: same report, no edges */
    pstats_stats *a2 = load(PROF("mix-cpython3.11-cprofile.prof"));
    ck_assert_int_eq(pstats_add(a, &b, 1, &err), 0);
    ck_assert_int_eq(pstats_add(a2, &c, 1, &err), 0);
    ck_assert_int_eq(pstats_has_edges(a), 0);
    ck_assert_int_eq(pstats_has_edges(a2), 1);
    ck_assert_int_eq(pstats_strip_dirs(a, &err), 0);
    ck_assert_int_eq(pstats_strip_dirs(a2, &err), 0);
    ck_assert_int_eq(pstats_has_edges(a), 0);
    const char *keys[] = {"cumulative"};
    ck_assert_int_eq(pstats_sort(a, keys, 1, NULL), 0);
    ck_assert_int_eq(pstats_sort(a2, keys, 1, NULL), 0);
    sink x = {0}, y = {0};
    ck_assert_int_eq(pstats_print_stats(a, NULL, 0, sink_write, &x, NULL), 0);
    ck_assert_int_eq(pstats_print_stats(a2, NULL, 0, sink_write, &y, NULL), 0);
    ck_assert(x.len == y.len && x.len > 0 && memcmp(x.p, y.p, x.len) == 0);
    ck_assert_int_eq(pstats_print_callers(a, NULL, 0, sink_write, &out, &err), -1);
    free(x.p);
    free(y.p);
    pstats_free(a);
    pstats_free(a2);
    pstats_free(b);
    pstats_free(c);
}
END_TEST

static Suite *pstats_suite(void)
{
    Suite *s = suite_create("pstats");
    TCase *t = tcase_create("model");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, sort_prefixes_as_python);
    tcase_add_test(t, sort_orders_as_python);
    tcase_add_test(t, totals_as_python);
    tcase_add_test(t, big_counts_exact);
    tcase_add_test(t, merge_order_as_python);
    tcase_add_test(t, strip_dirs_as_python);
    tcase_add_test(t, merge_int_with_tuple_callers);
    tcase_add_test(t, callees_invert_callers);
    tcase_add_test(t, int_caller_not_in_profile);
    tcase_add_test(t, sampled_marker_is_not_a_function);
    tcase_add_test(t, python2_bytes_kept);
    tcase_add_test(t, python2_long_callers);
    tcase_add_test(t, restrictions_as_python);
    tcase_add_test(t, duplicates_and_collisions_as_python);
    tcase_add_test(t, shared_objects_replayed);
    tcase_add_test(t, regex_dialect_as_python);
    tcase_add_test(t, numbers_as_python);
    tcase_add_test(t, f8_matches_printf);
    tcase_add_test(t, no_edges_as_python);
    tcase_add_test(t, no_edges_refused_or_merged);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    setenv("TZ", "UTC", 1); /* the goldens' header lines are in UTC */
    tzset();
    SRunner *r = srunner_create(pstats_suite());
    srunner_add_suite(r, pstats_robust_suite());
    srunner_add_suite(r, pstats_outputs_suite());
    srunner_add_suite(r, pstats_oom_suite());
    srunner_add_suite(r, pstats_agree_suite());
    srunner_add_suite(r, pstats_input_suite());
    srunner_add_suite(r, pstats_writer_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
