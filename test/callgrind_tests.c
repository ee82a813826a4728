/*
 * Unit tests of the callgrind writer (pstats_write_callgrind) on small
 * models: fixture profiles, and profiles built here as marshal bytes (so
 * that each case states exactly the keys, numbers and edges it needs).
 * Whole-file validation against Python and the real readers is in
 * readers_check.py; these tests pin the rules one by one.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pstats/pstats.h"
#include "pstats/version.h"

#include "oom.h"
#include "profile_gen.h"
#include "pstats_internal.h" /* PS_THREADS_ALWAYS */

#include "callgrind_test_util.h"

START_TEST(header_and_summary)
{
    pstats_stats *s = load_fixture("fibonacci.prof");
    pstats_callgrind_options o = {PSTATS_UNIT_NS, "fibonacci.prof", 0, NULL};
    char *out = convert_opts(&s, 1, &o);
    parsed p;
    parse(out, &p);
    char head[512];
    snprintf(head, sizeof head,
             "# callgrind format\nversion: 1\ncreator: pstats2callgrind %s\n"
             "cmd: fibonacci.prof\npart: 1\npositions: line\n"
             "event: ns : Nanoseconds\nevents: ns\nsummary: %llu\n",
             PSTATS_VERSION_STRING, (unsigned long long)p.self_sum);
    ck_assert_msg(strncmp(out, head, strlen(head)) == 0, "header:\n%.300s", out);
    ck_assert_uint_eq(p.summary, p.self_sum);
    ck_assert_int_eq(p.n, (int)pstats_nfuncs(s));
    ck_assert_ptr_null(strstr(out, "calls=0"));
    free(out);
    pstats_free(s);
}
END_TEST

/* self = tottime; self + calls = cumtime; and, for the self-recursive
 * fib, what KCachegrind shows as Incl. (its incoming calls) = cumtime. */
START_TEST(costs_follow_pstats)
{
    pstats_stats *s = load_fixture("fibonacci.prof");
    char *out = convert(s);
    parsed p;
    parse(out, &p);
    for (uint32_t i = 0; i < pstats_nfuncs(s); i++) {
        pstats_func f;
        char label[256];
        pstats_func_get(s, i, &f);
        pstats_func_label(s, i, label, sizeof label);
        const char *slash = strrchr(label, '/');
        const pfunc *pf = find(&p, slash ? slash + 1 : label, 1);
        uint64_t self = ns(f.tt), incl = ns(f.ct) > self ? ns(f.ct) : self;
        ck_assert_uint_eq(pf->self, self);
        ck_assert_msg(pf->self + out_sum(pf) == incl, "%s: %llu + %llu != %llu", pf->fn,
                      (unsigned long long)pf->self, (unsigned long long)out_sum(pf),
                      (unsigned long long)incl);
        if (strcmp(pf->fn, "fibonacci.py:2(fib)") == 0)
            ck_assert_uint_eq(in_sum(&p, pf->fn), incl);
    }
    free(out);
    pstats_free(s);
}
END_TEST

/* Seconds are rounded to the unit, never truncated. */
START_TEST(units_round)
{
    tfunc fs[] = {{"a.py", 0, 1, "f", 0, 1, 1, 0.0015, 0.0025, {{0}}, 0},
                  {"a.py", 0, 9, "g", 0, 1, 1, 0.00025, 0.00025, {{0, 1, 1, 0.00025, 0.00025, 0}}, 1}};
    pstats_stats *s = model(fs, 2, 1);
    static const uint64_t f_self[] = {1500000, 1500, 2}, g_self[] = {250000, 250, 0};
    for (int u = PSTATS_UNIT_NS; u <= PSTATS_UNIT_MS; u++) {
        pstats_callgrind_options o = {(pstats_time_unit)u, NULL, 0, NULL};
        char *out = convert_opts(&s, 1, &o);
        parsed p;
        parse(out, &p);
        ck_assert_uint_eq(find(&p, "a.py:1(f)", 1)->self, f_self[u]);
        ck_assert_uint_eq(find(&p, "a.py:9(g)", 1)->self, g_self[u]);
        ck_assert_ptr_nonnull(strstr(out, u == 0 ? "events: ns\n" : u == 1 ? "events: us\n" : "events: ms\n"));
        free(out);
    }
    pstats_free(s);
}
END_TEST

/* Names: basename where unique, the whole path where basenames collide,
 * "'2" where even that is not enough; escaping; '???'; '~'. */
START_TEST(names_unique_and_clean)
{
    tfunc fs[] = {
        {"/x/pkga/__init__.py", 0, 2, "helper", 0, 1, 1, 0.1, 0.1, {{0}}, 0},
        {"/x/pkgb/__init__.py", 0, 2, "helper", 0, 1, 1, 0.1, 0.1, {{0}}, 0},
        {"/x/solo.py", 0, 5, "run", 0, 1, 1, 0.1, 0.1, {{0}}, 0},
        {"a\nb.py", 0, 1, "f", 0, 1, 1, 0.1, 0.1, {{0}}, 0},
        {"a\\nb.py", 0, 1, "f", 0, 1, 1, 0.1, 0.1, {{0}}, 0},
        {"x.py", 0, 1, "f\n", 0, 1, 1, 0.1, 0.1, {{0}}, 0},
        {"x.py", 0, 1, "f\\n", 0, 1, 1, 0.1, 0.1, {{0}}, 0},
        {"c.py", 0, 3, "n\r\0m", 4, 1, 1, 0.1, 0.1, {{0}}, 0},
        {"c.py", 0, 4, "", 0, 1, 1, 0.1, 0.1, {{0}}, 0},
        {"", 0, 0, "exec", 0, 1, 1, 0.1, 0.1, {{0}}, 0},
        {"~", 0, 0, "<built-in method builtins.len>", 0, 1, 1, 0.1, 0.1, {{0}}, 0},
    };
    pstats_stats *s = model(fs, sizeof fs / sizeof fs[0], 1);
    char *out = convert(s);
    parsed p;
    parse(out, &p);
    ck_assert_str_eq(find(&p, "/x/pkga/__init__.py:2(helper)", 1)->fl, "/x/pkga/__init__.py");
    find(&p, "/x/pkgb/__init__.py:2(helper)", 1);
    ck_assert_str_eq(find(&p, "solo.py:5(run)", 1)->fl, "/x/solo.py");
    find(&p, "a\\nb.py:1(f)", 1);   /* LF escaped */
    find(&p, "nb.py:1(f)", 1);        /* '\\' separates directories (Windows) */
    find(&p, "x.py:1(f\\n)", 1);    /* two keys, one text after escaping: */
    find(&p, "x.py:1(f\\n)'2", 1);  /* the second gets a suffix */
    find(&p, "c.py:3(n\\r\\0m)", 1);
    find(&p, "c.py:4(?\?\?)", 1);
    ck_assert_str_eq(find(&p, ":0(exec)", 1)->fl, "~");
    ck_assert_str_eq(find(&p, "{built-in method builtins.len}", 1)->fl, "~");
    for (int i = 0; i < p.n; i++)
        for (int j = i + 1; j < p.n; j++)
            ck_assert_str_ne(p.f[i].fn, p.f[j].fn);
    free(out);
    pstats_free(s);
}
END_TEST

/* Python 2 bytes that are not UTF-8 are read as Latin-1. */
START_TEST(latin1_bytes)
{
    tfunc fs[] = {{"caf\xe9.py", 0, 3, "na\xefve", 0, 1, 1, 0.1, 0.1, {{0}}, 0}};
    pstats_stats *s = model(fs, 1, 0);
    char *out = convert(s);
    parsed p;
    parse(out, &p);
    const pfunc *f = find(&p, "caf\xc3\xa9.py:3(na\xc3\xafve)", 1);
    ck_assert_str_eq(f->fl, "caf\xc3\xa9.py");
    free(out);
    pstats_free(s);
}
END_TEST

/* An edge with 0 calls: calls=1 when it carries cost, left out when not. */
START_TEST(zero_call_edges)
{
    tfunc fs[] = {
        {"m.py", 0, 1, "main", 0, 1, 1, 0.1, 1.1, {{0}}, 0},
        {"m.py", 0, 5, "costly", 0, 1, 1, 0.5, 0.5, {{0, 0, 0, 0.5, 0.5, 0}}, 1},
        {"m.py", 0, 9, "free", 0, 1, 1, 0.0, 0.0, {{0, 0, 0, 0.0, 0.0, 0}}, 1},
    };
    pstats_stats *s = model(fs, 3, 1);
    char *out = convert(s);
    parsed p;
    parse(out, &p);
    const pfunc *main_f = find(&p, "m.py:1(main)", 1);
    const pcall *c = call_to(main_f, "m.py:5(costly)");
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->count, 1);
    ck_assert_uint_eq(c->cost, 500000000);
    ck_assert_ptr_null(call_to(main_f, "m.py:9(free)"));
    free(out);
    pstats_free(s);
}
END_TEST

/* cumtime - tottime that no recorded call explains goes to the
 * pseudo-function, which has no cost of its own. */
START_TEST(pseudo_function)
{
    tfunc fs[] = {
        {"m.py", 0, 1, "loop", 0, 1, 1, 1.0, 4.0, {{0}}, 0},
        {"m.py", 0, 5, "cb", 0, 1, 1, 1.0, 1.0, {{0, 1, 1, 1.0, 1.0, 0}}, 1},
    };
    pstats_stats *s = model(fs, 2, 1);
    char *out = convert(s);
    parsed p;
    parse(out, &p);
    const pfunc *loop = find(&p, "m.py:1(loop)", 1);
    ck_assert_uint_eq(call_to(loop, "m.py:5(cb)")->cost, 1000000000);
    ck_assert_uint_eq(call_to(loop, PSEUDO)->cost, 2000000000);
    ck_assert_uint_eq(loop->self + out_sum(loop), 4000000000);
    const pfunc *ps = find(&p, PSEUDO, 1);
    ck_assert_uint_eq(ps->self, 0);
    ck_assert_int_eq(ps->ncalls, 0);
    ck_assert_str_eq(ps->fl, "~");
    free(out);
    pstats_free(s);
}
END_TEST

/* profile-module callers hold counts: weights are count x cumtime per call. */
START_TEST(int_edges)
{
    tfunc fs[] = {
        {"p.py", 0, 1, "top", 0, 1, 1, 0.0, 3.0, {{0}}, 0},
        {"p.py", 0, 5, "b", 0, 1, 1, 1.0, 1.0, {{0, 1, 1, 0, 0, 1}}, 1},
        {"p.py", 0, 9, "c", 0, 2, 2, 2.0, 2.0, {{0, 2, 2, 0, 0, 1}}, 1},
    };
    pstats_stats *s = model(fs, 3, 1);
    char *out = convert(s);
    parsed p;
    parse(out, &p);
    const pfunc *top = find(&p, "p.py:1(top)", 1);
    ck_assert_uint_eq(call_to(top, "p.py:5(b)")->cost, 1000000000);
    ck_assert_uint_eq(call_to(top, "p.py:9(c)")->cost, 2000000000);
    ck_assert_uint_eq(call_to(top, "p.py:9(c)")->count, 2);
    free(out);
    pstats_free(s);
}
END_TEST

/* Outgoing calls never exceed max(tottime, cumtime) - tottime: recorded
 * times larger than that are scaled down; tottime > cumtime leaves none. */
START_TEST(never_above_cumtime)
{
    tfunc fs[] = {
        {"r.py", 0, 1, "a", 0, 1, 1, 1.0, 2.0, {{0}}, 0},
        {"r.py", 0, 5, "b", 0, 1, 1, 3.0, 3.0, {{0, 1, 1, 3.0, 3.0, 0}}, 1},
        {"r.py", 0, 9, "odd", 0, 1, 1, 2.0, 1.0, {{0}}, 0},
        {"r.py", 0, 12, "d", 0, 1, 1, 0.5, 0.5, {{2, 1, 1, 0.5, 0.5, 0}}, 1},
    };
    pstats_stats *s = model(fs, 4, 1);
    char *out = convert(s);
    parsed p;
    parse(out, &p);
    const pfunc *a = find(&p, "r.py:1(a)", 1), *odd = find(&p, "r.py:9(odd)", 1);
    ck_assert_uint_eq(a->self + out_sum(a), 2000000000);
    ck_assert_uint_eq(odd->self, 2000000000);
    ck_assert_uint_eq(out_sum(odd), 0);
    ck_assert_uint_eq(call_to(odd, "r.py:12(d)")->count, 1);
    free(out);
    pstats_free(s);
}
END_TEST

/* Issue 10's shape: s is recursive through s -> g30 -> area -> s, g19 is
 * called only by s. s's recorded calls (8 + 3) exceed what it had (9): the
 * nested recursion is counted twice. The call that leaves the cycle keeps
 * its time (g19 shows its cumtime), the call inside it gets what is left;
 * s's self-recursion would carry none. */
START_TEST(cycle_exits_keep_time)
{
    tfunc fs[] = {
        {"c.py", 0, 1, "main", 0, 1, 1, 0.0, 10.0, {{0}}, 0},
        {"~", 0, 0, "<built-in method builtins.sum>", 0, 2, 6, 1.0, 10.0,
         {{0, 1, 1, 0.0, 10.0, 0}, {3, 4, 1, 0.5, 4.0, 0}}, 2},
        {"c.py", 0, 30, "<genexpr>", 0, 2, 4, 1.0, 8.0, {{1, 4, 2, 1.0, 8.0, 0}}, 1},
        {"c.py", 0, 26, "area", 0, 2, 4, 1.0, 7.0, {{2, 4, 2, 1.0, 7.0, 0}}, 1},
        {"c.py", 0, 19, "<genexpr>", 0, 3, 3, 3.0, 3.0, {{1, 3, 3, 3.0, 3.0, 0}}, 1},
    };
    pstats_stats *s = model(fs, 5, 1);
    char *out = convert(s);
    parsed p;
    parse(out, &p);
    const char *sum = "{built-in method builtins.sum}";
    const pfunc *f = find(&p, sum, 1);
    ck_assert_uint_eq(call_to(f, "c.py:19(<genexpr>)")->cost, 3000000000);
    ck_assert_uint_eq(in_sum(&p, "c.py:19(<genexpr>)"), 3000000000);
    ck_assert_uint_eq(call_to(f, "c.py:30(<genexpr>)")->cost, 6000000000);
    ck_assert_uint_eq(f->self + out_sum(f), 10000000000);
    ck_assert_ptr_null(strstr(out, "# not exact"));
    free(out);
    pstats_free(s);
}
END_TEST

/* profile-module counts: the estimate (3 per call of leaf) asks a for more
 * than it had (2); the fit moves the rest to b, which had room, so leaf
 * still gets its cumtime and neither caller gives more than it had. */
START_TEST(profile_estimates_fitted)
{
    tfunc fs[] = {
        {"p.py", 0, 1, "top", 0, 1, 1, 0.0, 10.0, {{0}}, 0},
        {"p.py", 0, 5, "a", 0, 1, 1, 1.0, 3.0, {{0, 1, 1, 0, 0, 1}}, 1},
        {"p.py", 0, 9, "b", 0, 1, 1, 1.0, 7.0, {{0, 1, 1, 0, 0, 1}}, 1},
        {"p.py", 0, 13, "leaf", 0, 2, 2, 6.0, 6.0, {{1, 1, 1, 0, 0, 1}, {2, 1, 1, 0, 0, 1}}, 2},
    };
    pstats_stats *s = model(fs, 4, 1);
    char *out = convert(s);
    parsed p;
    parse(out, &p);
    const pfunc *a = find(&p, "p.py:5(a)", 1), *b = find(&p, "p.py:9(b)", 1);
    uint64_t leaf = in_sum(&p, "p.py:13(leaf)");
    ck_assert_msg(leaf >= 6000000000 - 2 && leaf <= 6000000000 + 2, "leaf gets %llu",
                  (unsigned long long)leaf);
    ck_assert_uint_le(a->self + out_sum(a), 3000000000);
    ck_assert_uint_le(b->self + out_sum(b), 7000000000);
    ck_assert_ptr_null(strstr(out, "# not exact"));
    free(out);
    pstats_free(s);
}
END_TEST

/* A caller that recorded more time in a call out of its cycle than it had:
 * the call is scaled down, and the callee is named in a comment line. */
START_TEST(not_exact_named)
{
    tfunc fs[] = {
        {"x.py", 0, 1, "c", 0, 1, 1, 0.0, 1.0, {{0}}, 0},
        {"x.py", 0, 5, "d", 0, 1, 1, 2.0, 2.0, {{0, 1, 1, 2.0, 2.0, 0}}, 1},
    };
    pstats_stats *s = model(fs, 2, 1);
    char *out = convert(s);
    ck_assert_ptr_nonnull(strstr(out, "\n# not exact: x.py:5(d)\n"));
    parsed p;
    parse(out, &p);
    const pfunc *c = find(&p, "x.py:1(c)", 1);
    ck_assert_uint_eq(c->self + out_sum(c), 1000000000);
    free(out);
    pstats_free(s);
}
END_TEST

/* A cycle nobody outside it calls (exec <-> the imports it runs; pstats
 * lists the top-level exec with no caller of its own): what no recorded
 * call covers comes from the pseudo-caller [spontaneous calls], so exec's
 * incoming calls add up to its cumtime. And the profile module's
 * profile:0(profiler), all numbers 0, stands for the top level: what it
 * was to give comes from the pseudo-caller, its own call carries 0. */
START_TEST(spontaneous_calls)
{
    tfunc fs[] = {
        {"~", 0, 0, "<built-in method builtins.exec>", 0, 2, 2, 0.1, 10.0,
         {{1, 1, 1, 0.1, 0.5, 0}}, 1},
        {"<frozen>", 0, 5, "_load", 0, 1, 1, 0.1, 0.6, {{0, 1, 1, 0.1, 0.6, 0}}, 1},
        {"profile", 0, 0, "profiler", 0, 0, 0, 0.0, 0.0, {{0}}, 0},
        {"s.py", 0, 1, "top", 0, 1, 1, 1.0, 3.0, {{2, 1, 1, 0, 0, 1}}, 1},
    };
    pstats_stats *s = model(fs, 4, 1);
    char *out = convert(s);
    parsed p;
    parse(out, &p);
    const char *exec = "{built-in method builtins.exec}";
    ck_assert_uint_eq(in_sum(&p, exec), 10000000000);
    const pfunc *root = find(&p, "[spontaneous calls]", 1);
    ck_assert_ptr_nonnull(root);
    ck_assert_uint_eq(root->self, 0);
    ck_assert_uint_eq(call_to(root, exec)->cost, 9500000000);
    ck_assert_uint_eq(call_to(root, "s.py:1(top)")->cost, 3000000000);
    ck_assert_uint_eq(in_sum(&p, "s.py:1(top)"), 3000000000);
    const pfunc *prof = find(&p, "profile:0(profiler)", 1);
    ck_assert_uint_eq(call_to(prof, "s.py:1(top)")->cost, 0);
    ck_assert_uint_eq(call_to(prof, "s.py:1(top)")->count, 1);
    ck_assert_ptr_null(strstr(out, "# not exact"));
    free(out);
    pstats_free(s);
}
END_TEST

/* A function outside cycles whose recorded calls cover less than its
 * cumtime (called from C as well): its caller keeps the time it recorded,
 * the rest comes from [spontaneous calls]. Called by itself alone: all of
 * it does. */
START_TEST(uncovered_calls)
{
    tfunc fs[] = {
        {"u.py", 0, 1, "loop", 0, 1, 1, 1.0, 2.0, {{0}}, 0},
        {"u.py", 0, 5, "cb", 0, 3, 3, 3.0, 3.0, {{0, 1, 1, 1.0, 1.0, 0}}, 1},
        {"u.py", 0, 9, "rec", 0, 1, 4, 2.0, 2.0, {{2, 3, 0, 1.5, 1.5, 0}}, 1},
    };
    pstats_stats *s = model(fs, 3, 1);
    char *out = convert(s);
    parsed p;
    parse(out, &p);
    const pfunc *loop = find(&p, "u.py:1(loop)", 1), *root = find(&p, "[spontaneous calls]", 1);
    ck_assert_uint_eq(call_to(loop, "u.py:5(cb)")->cost, 1000000000);
    ck_assert_uint_eq(call_to(root, "u.py:5(cb)")->cost, 2000000000);
    ck_assert_uint_eq(in_sum(&p, "u.py:5(cb)"), 3000000000);
    ck_assert_uint_eq(call_to(root, "u.py:9(rec)")->cost, 2000000000);
    ck_assert_uint_eq(call_to(find(&p, "u.py:9(rec)", 1), "u.py:9(rec)")->cost, 0);
    free(out);
    pstats_free(s);
}
END_TEST

/* --parts: one part per model, names defined again in each part (KCachegrind
 * forgets them), the same function keeps its name; one summary for all. */
START_TEST(parts)
{
    tfunc f1[] = {{"/a/__init__.py", 0, 1, "<module>", 0, 1, 1, 1.0, 1.0, {{0}}, 0}};
    tfunc f2[] = {{"/b/__init__.py", 0, 1, "<module>", 0, 1, 1, 2.0, 2.0, {{0}}, 0},
                  {"/a/__init__.py", 0, 1, "<module>", 0, 1, 1, 3.0, 3.0, {{0}}, 0}};
    pstats_stats *m[2] = {model(f1, 1, 1), model(f2, 2, 1)};
    char *out = convert_opts(m, 2, NULL);
    parsed p;
    parse(out, &p);
    ck_assert_ptr_nonnull(strstr(out, "\npart: 2\npositions: line\nevents: ns\n"));
    ck_assert_uint_eq(find(&p, "/a/__init__.py:1(<module>)", 1)->self, 1000000000);
    ck_assert_uint_eq(find(&p, "/a/__init__.py:1(<module>)", 2)->self, 3000000000);
    ck_assert_uint_eq(find(&p, "/b/__init__.py:1(<module>)", 2)->self, 2000000000);
    ck_assert_uint_eq(p.summary, 6000000000);
    free(out);
    pstats_free(m[0]);
    pstats_free(m[1]);
}
END_TEST

START_TEST(call_events)
{
    pstats_stats *s = load_fixture("fibonacci.prof");
    pstats_callgrind_options o = {PSTATS_UNIT_NS, NULL, 1, NULL};
    char *out = convert_opts(&s, 1, &o);
    parsed p;
    parse(out, &p);
    ck_assert_ptr_nonnull(strstr(out, "event: calls : Calls\nevents: ns calls\nsummary: "));
    ck_assert_uint_eq(find(&p, "fibonacci.py:2(fib)", 1)->calls_event, 57291);
    free(out);
    pstats_free(s);
}
END_TEST

/* ------------------------------------------------------- failure paths */

/* The writer with the n-th allocation failing (the one loop of
 * test/oom.h): PSTATS_ENOMEM, nothing leaked, and once it succeeds the
 * output of a run without failures. */
typedef struct cg_oom {
    pstats_stats *const *parts;
    size_t nparts;
    pstats_callgrind_options o;
    char *want;
} cg_oom;

static oom_result cg_oom_run(oom_alloc *f, void *ctx, char *why, size_t whysize)
{
    cg_oom *c = ctx;
    f->verified = 1; /* the output is compared below */
    pstats_callgrind_options o = c->o;
    o.alloc = &f->hook;
    sink out = {NULL, 0, 0, 0};
    pstats_error err;
    int rc = pstats_write_callgrind((const pstats_stats *const *)c->parts, c->nparts, &o,
                                    sink_write, &out, &err);
    oom_result r = rc == 0 ? OOM_DONE : err.code == PSTATS_ENOMEM ? OOM_NOMEM : OOM_WRONG;
    if (r == OOM_WRONG)
        snprintf(why, whysize, "code %d: %s", (int)err.code, err.msg);
    if (r == OOM_DONE && (!out.p || strcmp(out.p, c->want) != 0)) {
        r = OOM_WRONG;
        snprintf(why, whysize, "the output differs from a run without failures");
    }
    free(out.p);
    return r;
}

/* Writes parts with every allocation failing in turn; returns the number
 * of allocations the writer makes. */
static size_t cg_oom_check(pstats_stats *const *models, size_t nparts,
                           const pstats_callgrind_options *o, size_t stride)
{
    cg_oom c = {models, nparts, {PSTATS_UNIT_NS, NULL, 0, NULL}, NULL};
    if (o)
        c.o = *o;
    c.want = convert_opts(models, nparts, &c.o);
    size_t n = oom_loop(cg_oom_run, &c, stride);
    free(c.want);
    return n;
}

/* Every entry of the writer's options, one part and two, and its
 * two-thread paths forced on a small model (chunks of a few functions). */
START_TEST(allocation_failures)
{
    pstats_stats *s = load_fixture("profiles/mix-cpython3.11-cprofile.prof");
    pstats_stats *t = load_fixture("profiles/fib-cpython2.7-profile.prof");
    pstats_callgrind_options o = {PSTATS_UNIT_US, "mix fib", 1, NULL};
    ck_assert_uint_gt(cg_oom_check(&s, 1, NULL, 1), 5);
    ck_assert_uint_gt(cg_oom_check(&s, 1, &o, 1), 5);
    pstats_stats *two[2] = {s, t};
    ck_assert_uint_gt(cg_oom_check(two, 2, &o, 1), 5);
    pstats_set_load_flags(s, PS_THREADS_ALWAYS);
    pstats_set_load_flags(t, PS_THREADS_ALWAYS);
    ck_assert_uint_gt(cg_oom_check(&s, 1, NULL, 1), 5);
    ck_assert_uint_gt(cg_oom_check(two, 2, &o, 1), 5);
    pstats_free(s);
    pstats_free(t);
}
END_TEST

START_TEST(write_failure)
{
    pstats_stats *s = load_fixture("fibonacci.prof");
    for (int k = 1; k <= 1; k++) {
        sink out = {NULL, 0, 0, k};
        pstats_error err;
        ck_assert_int_eq(pstats_write_callgrind((const pstats_stats *const *)&s, 1, NULL,
                                                sink_write, &out, &err), -1);
        ck_assert_int_eq(err.code, PSTATS_EIO);
        free(out.p);
    }
    pstats_error err;
    ck_assert_int_eq(pstats_write_callgrind(NULL, 0, NULL, sink_write, NULL, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    pstats_free(s);
}
END_TEST

/* ------------------------------------------------- many functions */

/* n functions (test/profile_gen.h): enough blocks for the writer's two
 * threads. */
static pstats_stats *many_functions(int n)
{
    size_t len;
    unsigned char *data = profile_gen(n, &len);
    ck_assert_ptr_nonnull(data);
    pstats_stats *s = pstats_new(NULL);
    pstats_error err;
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(pstats_load_buffer(s, data, len, "many", -1, &err) == 0, "load: %s", err.msg);
    free(data);
    return s;
}

/* Every "fl=(N)", "fn=(N)", "cfl=(N)", "cfn=(N)" of a part: named at its
 * first use and never again. Returns how many fn= blocks there are. */
static int check_compression(const char *text, int nnames)
{
    unsigned char *seen = calloc(2 * (size_t)nnames + 2, 1);
    ck_assert_ptr_nonnull(seen);
    int blocks = 0;
    for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
        int is_fn = strncmp(l, "fn=(", 4) == 0 || strncmp(l, "cfn=(", 5) == 0;
        int is_fl = strncmp(l, "fl=(", 4) == 0 || strncmp(l, "cfl=(", 5) == 0;
        blocks += strncmp(l, "fn=(", 4) == 0;
        if (is_fn || is_fl) {
            const char *open = strchr(l, '(');
            char *end;
            long id = strtol(open + 1, &end, 10);
            ck_assert(id >= 0 && id <= nnames && *end == ')');
            unsigned char *slot = &seen[2 * (size_t)id + (size_t)is_fn];
            ck_assert_msg((end[1] == ' ') == !*slot, "%.40s: name given %s", l,
                          *slot ? "again" : "not at the first use");
            *slot = 1;
        }
        ck_assert_ptr_nonnull(strchr(l, '\n'));
    }
    free(seen);
    return blocks;
}

/* A model big enough for two threads: the name compression holds across
 * chunks, the output does not change from run to run, a second part is
 * written like the first, and allocation and write failures are clean. */
START_TEST(many_functions_threads)
{
    pstats_stats *s = many_functions(30000);
    char *one = convert(s), *again = convert(s);
    ck_assert_str_eq(one, again);
    ck_assert_int_eq(check_compression(one, 30001), 30000);
    pstats_stats *two[2] = {s, s};
    char *twice = convert_opts(two, 2, NULL);
    const char *p2 = strstr(twice, "\npart: 2\n");
    const char *blocks = strstr(one, "\n\nfl=");
    ck_assert_ptr_nonnull(p2);
    ck_assert_ptr_nonnull(blocks);
    ck_assert_ptr_nonnull(strstr(p2, blocks));
    ck_assert_uint_gt(cg_oom_check(&s, 1, NULL, 1), 20);
    for (int k = 1; k <= 6; k++) {
        sink out = {NULL, 0, 0, k};
        pstats_error err;
        ck_assert_int_eq(pstats_write_callgrind((const pstats_stats *const *)&s, 1, NULL,
                                                sink_write, &out, &err), -1);
        ck_assert_int_eq(err.code, PSTATS_EIO);
        free(out.p);
    }
    free(one);
    free(again);
    free(twice);
    pstats_free(s);
}
END_TEST

static Suite *callgrind_suite(void)
{
    Suite *su = suite_create("callgrind");
    TCase *tc = tcase_create("writer");
    tcase_set_timeout(tc, 600); /* the out-of-memory loops, in a sanitizer build on a
                                 * busy machine */
    tcase_add_test(tc, header_and_summary);
    tcase_add_test(tc, cycle_exits_keep_time);
    tcase_add_test(tc, profile_estimates_fitted);
    tcase_add_test(tc, not_exact_named);
    tcase_add_test(tc, spontaneous_calls);
    tcase_add_test(tc, uncovered_calls);
    tcase_add_test(tc, costs_follow_pstats);
    tcase_add_test(tc, units_round);
    tcase_add_test(tc, names_unique_and_clean);
    tcase_add_test(tc, latin1_bytes);
    tcase_add_test(tc, zero_call_edges);
    tcase_add_test(tc, pseudo_function);
    tcase_add_test(tc, int_edges);
    tcase_add_test(tc, never_above_cumtime);
    tcase_add_test(tc, parts);
    tcase_add_test(tc, call_events);
    tcase_add_test(tc, allocation_failures);
    tcase_add_test(tc, write_failure);
    tcase_add_test(tc, many_functions_threads);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(callgrind_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
