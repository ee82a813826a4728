/*
 * Unit tests of the picture writers (pstats_write_dot, pstats_write_flame_svg,
 * pstats_write_collapsed), pstats_prune and pstats_call_time on fixture
 * profiles: the rules one by one, errors, write failures, and allocation
 * failures through the one loop of test/oom.h.
 * Whole-output checks against gprof2dot, graphviz, Chromium and speedscope
 * are in graphs_*.sh/py and readers_speedscope.sh.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oom.h"
#include "pstats/pstats.h"

#include "callgrind_test_util.h" /* load_fixture, sink */

static char *read_file(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", GRAPHS_FIXTURES, rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* ------------------------------------------------------------------ dot */

/* The library's dot equals gprof2dot's (fixtures/golden/dot, made by
 * gprof2dot itself) with its defaults and with everything drawn. */
START_TEST(dot_as_gprof2dot)
{
    static const char *const names[] = {"fibonacci", "profiles/mix-cpython3.11-cprofile",
                                        "profiles/synth-mixedcallers",
                                        "profiles/fib-cpython3.11-profile"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char rel[256];
        const char *base = strrchr(names[i], '/') ? strrchr(names[i], '/') + 1 : names[i];
        snprintf(rel, sizeof rel, "%s.prof", names[i]);
        pstats_stats *s = load_fixture(rel);
        for (int all = 0; all < 2; all++) {
            pstats_dot_options o = {all ? 0 : PSTATS_DOT_NODE_THRES, all ? 0 : PSTATS_DOT_EDGE_THRES,
                                    NULL};
            sink out = {NULL, 0, 0, 0};
            pstats_error err;
            ck_assert_int_eq(pstats_write_dot(s, all ? &o : NULL, sink_write, &out, &err), 0);
            size_t n;
            snprintf(rel, sizeof rel, "golden/dot/%s%s.dot", base, all ? ".all" : "");
            char *want = read_file(rel, &n);
            ck_assert_msg(out.len == n && memcmp(out.p, want, n) == 0, "%s differs", rel);
            free(want);
            free(out.p);
        }
        pstats_free(s);
    }
}
END_TEST

/* gprof2dot's rules seen in the output: thresholds are percent of T, a
 * node below the node threshold goes with its calls, labels carry the
 * shares and the count with a multiplication sign. */
START_TEST(dot_thresholds)
{
    pstats_stats *s = load_fixture("fibonacci.prof");
    pstats_dot_options o = {99.6, 0, NULL}; /* fib is 99.55 %: left out */
    sink out = {NULL, 0, 0, 0};
    pstats_error err;
    ck_assert_int_eq(pstats_write_dot(s, &o, sink_write, &out, &err), 0);
    ck_assert_ptr_null(strstr(out.p, ":2:fib\\n"));
    ck_assert_ptr_nonnull(strstr(out.p, "label=\"fibonacci:10:fib_seq\\n99.80%\\n(0.21%)\\n21\xc3\x97\""));
    ck_assert_ptr_nonnull(strstr(out.p, "color=\"#ff0000\"")); /* 100 %: red */
    free(out.p);
    o.node_thres = -1;
    ck_assert_int_eq(pstats_write_dot(s, &o, sink_write, &out, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    pstats_free(s);
}
END_TEST

/* ---------------------------------------------------------------- flame */

static int64_t folded_total(const char *p)
{
    int64_t sum = 0;
    for (const char *line = p; *line;) {
        const char *nl = strchr(line, '\n');
        ck_assert_ptr_nonnull(nl);
        const char *sp = nl;
        while (sp > line && sp[-1] != ' ')
            sp--;
        sum += strtoll(sp, NULL, 10);
        line = nl + 1;
    }
    return sum;
}

static int64_t svg_total(const char *p)
{
    const char *t = strstr(p, "data-total=\"");
    ck_assert_ptr_nonnull(t);
    return strtoll(t + 12, NULL, 10);
}

/* The bounds fold frames into [other], never lose time: with few frames,
 * shallow trees or a big minimum share, the total stays and the SVG and
 * the folded stacks agree on it. */
START_TEST(flame_bounds_keep_totals)
{
    pstats_stats *s = load_fixture("profiles/mix-cpython3.11-cprofile.prof");
    pstats_flame_options o;
    memset(&o, 0, sizeof o);
    sink a = {NULL, 0, 0, 0}, b = {NULL, 0, 0, 0};
    pstats_error err;
    ck_assert_int_eq(pstats_write_collapsed(s, &o, sink_write, &a, &err), 0);
    ck_assert_int_eq(pstats_write_flame_svg(s, &o, sink_write, &b, &err), 0);
    int64_t total = folded_total(a.p);
    ck_assert_int_eq(total, svg_total(b.p));
    const size_t frames[] = {1, 3, 10, 0}, depth[] = {0, 1, 2, 0};
    const double share[] = {0, 0, 0, 0.3};
    for (int i = 0; i < 4; i++) {
        o.max_frames = frames[i];
        o.max_depth = depth[i];
        o.min_share = share[i];
        free(a.p);
        free(b.p);
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        ck_assert_int_eq(pstats_write_collapsed(s, &o, sink_write, &a, &err), 0);
        ck_assert_int_eq(pstats_write_flame_svg(s, &o, sink_write, &b, &err), 0);
        int64_t t = folded_total(a.p);
        ck_assert_int_eq(t, svg_total(b.p));
        ck_assert(llabs(t - total) <= 2000); /* per-frame rounding only */
        ck_assert_ptr_nonnull(strstr(a.p, "[other]"));
        if (depth[i]) /* no stack deeper than max_depth frames + its [other] */
            for (const char *line = a.p; *line; line = strchr(line, '\n') + 1) {
                int semis = 0;
                for (const char *c = line; *c != '\n'; c++)
                    semis += *c == ';';
                ck_assert_int_le(semis, (int)depth[i]);
            }
    }
    free(a.p);
    free(b.p);
    o.min_share = 1.5;
    ck_assert_int_eq(pstats_write_collapsed(s, &o, sink_write, &a, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    pstats_free(s);
}
END_TEST

/* The profile module records counts only: the call time is the callee's
 * cumtime shared by its callers' counts, recursive calls left out, so the
 * flame graph's self times are the functions' tottimes. */
START_TEST(call_time_of_counts)
{
    pstats_stats *s = load_fixture("profiles/fib-cpython3.11-profile.prof");
    size_t n = pstats_nfuncs(s);
    int seen = 0;
    for (uint32_t f = 0; f < n; f++) {
        pstats_func fn;
        pstats_func_get(s, f, &fn);
        if (fn.name_len != 3 || memcmp(fn.name, "fib", 3) != 0)
            continue;
        for (size_t k = 0; k < pstats_ncallers(s, f); k++) {
            pstats_edge e;
            pstats_caller_get(s, f, k, &e);
            double t = pstats_call_time(s, &e);
            if (e.caller == f)
                ck_assert(t == 0.0);
            else
                ck_assert(fabs(t - fn.ct) < 1e-12);
            seen++;
        }
    }
    ck_assert_int_eq(seen, 2);
    sink a = {NULL, 0, 0, 0};
    pstats_error err;
    ck_assert_int_eq(pstats_write_collapsed(s, NULL, sink_write, &a, &err), 0);
    ck_assert_ptr_nonnull(strstr(a.p, "fibonacci.py:2(fib) 101710696\n"));
    free(a.p);
    pstats_free(s);
}
END_TEST

/* ---------------------------------------------------------------- prune */

static double sum_tt(const pstats_stats *s)
{
    double t = 0;
    for (uint32_t f = 0; f < pstats_nfuncs(s); f++) {
        pstats_func fn;
        pstats_func_get(s, f, &fn);
        t += fn.tt;
    }
    return t;
}

START_TEST(prune_keeps_totals)
{
    pstats_stats *s = load_fixture("profiles/mix-cpython3.11-cprofile.prof");
    pstats_totals t0, t1;
    pstats_get_totals(s, &t0);
    size_t n0 = pstats_nfuncs(s);
    double tt0 = sum_tt(s);
    pstats_error err;
    ck_assert_int_eq(pstats_prune(s, 0, 0, &err), 0); /* nothing to leave out */
    ck_assert_uint_eq(pstats_nfuncs(s), n0);
    ck_assert_int_eq(pstats_prune(s, 2, 0.5, &err), 0);
    pstats_get_totals(s, &t1);
    ck_assert_uint_lt(pstats_nfuncs(s), n0 / 2);
    ck_assert(fabs(sum_tt(s) - tt0) < 1e-12);
    ck_assert_int_eq(t0.total_calls, t1.total_calls);
    int others = 0;
    for (uint32_t f = 0; f < pstats_nfuncs(s); f++) {
        pstats_func fn;
        pstats_func_get(s, f, &fn);
        if (fn.name_len < 7 || memcmp(fn.name, "[other]", 7) != 0)
            continue;
        others++;
        if (fn.name_len > 7) /* "[other] NAME": called by NAME alone */
            ck_assert_uint_eq(pstats_ncallers(s, f), 1);
    }
    ck_assert_int_gt(others, 0);
    ck_assert_int_eq(pstats_prune(s, -1, 0, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    pstats_free(s);
}
END_TEST

/* ------------------------------------------------------------ cycles */

/* Components come after the components they call; functions of one
 * component reach each other; `only` restricts the graph. */
START_TEST(components_order)
{
    pstats_stats *s = load_fixture("profiles/mix-cpython3.11-cprofile.prof");
    size_t n = pstats_nkeys(s);
    uint32_t *comp = malloc(n * sizeof *comp);
    unsigned char *only = calloc(n, 1);
    pstats_error err;
    int64_t nc = pstats_components(s, NULL, comp, &err);
    ck_assert_int_gt(nc, 0);
    ck_assert_int_lt(nc, (int64_t)n); /* the import machinery is a cycle */
    size_t cross = 0;
    for (uint32_t f = 0; f < n; f++)
        for (size_t k = 0; k < pstats_ncallers(s, f); k++) {
            pstats_edge e;
            pstats_caller_get(s, f, k, &e);
            ck_assert_uint_le(comp[f], comp[e.caller]);
            cross += comp[f] != comp[e.caller];
        }
    ck_assert_uint_gt(cross, 0);
    only[0] = 1;
    ck_assert_int_eq(pstats_components(s, only, comp, &err), 1);
    ck_assert_uint_eq(comp[0], 0);
    for (uint32_t f = 1; f < n; f++)
        ck_assert_uint_eq(comp[f], PSTATS_NO_COMPONENT);
    free(comp);
    free(only);
    pstats_free(s);
}
END_TEST

/* ------------------------------------------------------- failure paths */

static int write_with(int which, pstats_stats *s, const pymarshal_allocator *a, sink *out,
                      pstats_error *err)
{
    pstats_dot_options d = {0, 0, a};
    pstats_flame_options o;
    memset(&o, 0, sizeof o);
    o.alloc = a;
    if (which == 0)
        return pstats_write_dot(s, &d, sink_write, out, err);
    if (which == 1)
        return pstats_write_flame_svg(s, &o, sink_write, out, err);
    return pstats_write_collapsed(s, &o, sink_write, out, err);
}

/* A picture written with its allocator failing (the one loop of
 * test/oom.h): what it wrote before failing is the start of the whole
 * picture, and once it succeeds it is the whole picture. */
typedef struct writer_case {
    int which;
    pstats_stats *s;
    sink want;
} writer_case;

static oom_result op_write(oom_alloc *f, void *ctx, char *why, size_t whysize)
{
    writer_case *c = ctx;
    sink out = {NULL, 0, 0, 0};
    pstats_error err;
    f->verified = 1; /* the output is compared below */
    oom_result r = oom_verdict(write_with(c->which, c->s, &f->hook, &out, &err), &err, why,
                           whysize);
    if (r == OOM_NOMEM && (out.len > c->want.len || (out.len && memcmp(out.p, c->want.p,
                                                                       out.len) != 0))) {
        size_t k = 0;
        while (k < out.len && k < c->want.len && out.p[k] == c->want.p[k])
            k++;
        snprintf(why, whysize, "writer %d: the partial output (%zu bytes) is not the start "
                 "of the whole (%zu bytes) from byte %zu: '%.40s' instead of '%.40s'",
                 c->which, out.len, c->want.len, k, out.p + k,
                 k < c->want.len ? c->want.p + k : "");
        r = OOM_WRONG;
    }
    if (r == OOM_DONE && (out.len != c->want.len || memcmp(out.p, c->want.p, out.len) != 0)) {
        snprintf(why, whysize, "the output differs from a run without failures");
        r = OOM_WRONG;
    }
    free(out.p);
    return r;
}

/* Every allocation failure is PSTATS_ENOMEM without a leak, every write
 * failure PSTATS_EIO; a model loaded without its calls is refused. */
START_TEST(writer_failures)
{
    pstats_stats *s = load_fixture("profiles/mix-cpython3.11-cprofile.prof");
    for (int which = 0; which < 3; which++) {
        writer_case c = {which, s, {NULL, 0, 0, 0}};
        pstats_error err;
        ck_assert_int_eq(write_with(which, s, NULL, &c.want, &err), 0);
        ck_assert_uint_gt(oom_loop(op_write, &c, 1), 0);
        free(c.want.p);
        for (int k = 1; k <= 1; k++) { /* small outputs: one write */
            sink out = {NULL, 0, 0, k};
            ck_assert_int_eq(write_with(which, s, NULL, &out, &err), -1);
            ck_assert_int_eq(err.code, PSTATS_EIO);
            free(out.p);
        }
    }
    pstats_free(s);
    s = pstats_new(NULL);
    pstats_set_load_flags(s, PSTATS_LOAD_NO_EDGES);
    char path[1024];
    pstats_error err;
    snprintf(path, sizeof path, "%s/fibonacci.prof", GRAPHS_FIXTURES);
    ck_assert_int_eq(pstats_load_path(s, path, &err), 0);
    for (int which = 0; which < 3; which++) {
        sink out = {NULL, 0, 0, 0};
        ck_assert_int_eq(write_with(which, s, NULL, &out, &err), -1);
        ck_assert_int_eq(err.code, PSTATS_EUSAGE);
        free(out.p);
    }
    ck_assert_int_eq(pstats_prune(s, 1, 1, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    pstats_free(s);
}
END_TEST

/* What a model prints (print_stats and print_callers); malloc'd. */
static char *text_of(pstats_stats *s)
{
    sink out = {NULL, 0, 0, 0};
    pstats_error err;
    ck_assert_int_eq(pstats_print_stats(s, NULL, 0, sink_write, &out, &err), 0);
    ck_assert_int_eq(pstats_print_callers(s, NULL, 0, sink_write, &out, &err), 0);
    return out.p;
}

/* pstats_prune and pstats_components on a model whose allocator fails
 * (the model loaded first with it disarmed): a failed prune leaves the
 * model printing what it printed, a finished one what a prune without
 * failures makes; the components are those of a run without failures. */
typedef struct model_case {
    int prune;           /* else pstats_components */
    char *before, *after;
    uint32_t *comp;
    int64_t ncomp;
} model_case;

static pstats_stats *mix_model(oom_alloc *f)
{
    char path[1024];
    pstats_error err;
    snprintf(path, sizeof path, "%s/profiles/mix-cpython3.11-cprofile.prof", GRAPHS_FIXTURES);
    pstats_stats *s = pstats_new(f ? &f->hook : NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(pstats_load_path(s, path, &err) == 0, "%s", err.msg);
    return s;
}

static oom_result op_model(oom_alloc *f, void *ctx, char *why, size_t whysize)
{
    model_case *c = ctx;
    f->armed = 0;
    pstats_stats *s = mix_model(f);
    size_t n = pstats_nkeys(s);
    uint32_t *comp = malloc((n ? n : 1) * sizeof *comp);
    ck_assert_ptr_nonnull(comp);
    pstats_error err;
    f->armed = 1;
    f->verified = 1; /* the model is compared below */
    int64_t k = c->prune ? pstats_prune(s, 1, 0.5, &err) : pstats_components(s, NULL, comp, &err);
    oom_result r = oom_verdict(k < 0 ? -1 : 0, &err, why, whysize);
    f->armed = 0;
    if (r != OOM_WRONG && c->prune) {
        char *got = text_of(s);
        if (strcmp(got, r == OOM_DONE ? c->after : c->before) != 0) {
            snprintf(why, whysize, "%s prune: the model prints something else",
                     r == OOM_DONE ? "a finished" : "a failed");
            r = OOM_WRONG;
        }
        free(got);
    } else if (r == OOM_DONE && (k != c->ncomp || memcmp(comp, c->comp, n * sizeof *comp))) {
        snprintf(why, whysize, "other components than a run without failures");
        r = OOM_WRONG;
    }
    free(comp);
    pstats_free(s);
    return r;
}

START_TEST(model_failures)
{
    for (int prune = 0; prune < 2; prune++) {
        model_case c;
        memset(&c, 0, sizeof c);
        c.prune = prune;
        pstats_stats *s = mix_model(NULL);
        pstats_error err;
        c.before = text_of(s);
        c.comp = malloc(pstats_nkeys(s) * sizeof *c.comp);
        ck_assert_ptr_nonnull(c.comp);
        if (prune)
            ck_assert_int_eq(pstats_prune(s, 1, 0.5, &err), 0);
        else
            ck_assert_int_ge(c.ncomp = pstats_components(s, NULL, c.comp, &err), 0);
        c.after = text_of(s);
        pstats_free(s);
        ck_assert_uint_gt(oom_loop(op_model, &c, 1), 0);
        free(c.before);
        free(c.after);
        free(c.comp);
    }
}
END_TEST

static Suite *graphs_suite(void)
{
    Suite *su = suite_create("graphs");
    TCase *tc = tcase_create("graphs");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, dot_as_gprof2dot);
    tcase_add_test(tc, dot_thresholds);
    tcase_add_test(tc, flame_bounds_keep_totals);
    tcase_add_test(tc, call_time_of_counts);
    tcase_add_test(tc, prune_keeps_totals);
    tcase_add_test(tc, components_order);
    tcase_add_test(tc, writer_failures);
    tcase_add_test(tc, model_failures);
    suite_add_tcase(su, tc);
    return su;
}

int main(void)
{
    SRunner *sr = srunner_create(graphs_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
