/*
 * libpstats out of memory: every entry point run with its 1st, 2nd, ...
 * allocation failing (the one loop of test/oom.h), on the loader's paths
 * (fast, general, Python 2, without edges, its two-thread pipe, from a
 * file, a model big enough for the threads and the radix sort) and on
 * add, strip_dirs, sort, the three reports and the pstats writer (the
 * callgrind writer's own are in callgrind_tests.c). Each failure is
 * PSTATS_ENOMEM with nothing leaked and leaves the model as
 * include/pstats/pstats.h says: empty after a failed load or add (s
 * unchanged when s is among the others), unchanged after the rest; and
 * every model is usable afterwards: it prints what a model that never
 * failed prints.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oom.h"
#include "profile_gen.h"
#include "pstats/pstats.h"
#include "pstats_internal.h" /* PS_LOAD_PIPE_ALWAYS, PS_THREADS_ALWAYS */
#include "pstats_test_util.h"

/* ------------------------------------------------------------- helpers */

/* The profile a case works on: a fixture, or n generated functions. */
typedef struct input {
    const char *fixture;  /* under fixtures/profiles */
    int gen;              /* > 0: profile_gen(gen) */
    unsigned flags;       /* load flags */
    uint8_t *data;        /* read once */
    size_t len;
} input;

static void input_read(input *in)
{
    if (in->data)
        return;
    if (in->gen) {
        in->data = profile_gen(in->gen, &in->len);
        ck_assert_ptr_nonnull(in->data);
    } else {
        char path[512];
        snprintf(path, sizeof path, PSTATS_FIXTURES "/profiles/%s", in->fixture);
        in->data = read_file(path, &in->len);
    }
}

/* A model of `in` with f's allocator, loaded with f disarmed. */
static pstats_stats *loaded(oom_alloc *f, input *in)
{
    int armed = f->armed;
    f->armed = 0;
    input_read(in);
    pstats_stats *s = pstats_new(&f->hook);
    pstats_error err;
    ck_assert_ptr_nonnull(s);
    pstats_set_load_flags(s, in->flags);
    ck_assert_msg(pstats_load_buffer(s, in->data, in->len, "in", -1, &err) == 0, "%s", err.msg);
    f->armed = armed;
    return s;
}

/* What a model prints: print_stats (the first 60 lines of a big model),
 * and, with edges, print_callers and print_callees; malloc'd. Runs with
 * the allocator disarmed: the model must be usable. */
static char *text_of(oom_alloc *f, pstats_stats *s)
{
    int armed = f ? f->armed : 0;
    if (f)
        f->armed = 0;
    sink out = {0};
    pstats_restriction r = {PSTATS_LIMIT_COUNT, 60, 0, NULL};
    int big = pstats_nfuncs(s) > 1000;
    pstats_error err;
    ck_assert_int_eq(pstats_print_stats(s, &r, big, sink_write, &out, &err), 0);
    if (pstats_has_edges(s) && !big) {
        ck_assert_int_eq(pstats_print_callers(s, NULL, 0, sink_write, &out, &err), 0);
        ck_assert_int_eq(pstats_print_callees(s, NULL, 0, sink_write, &out, &err), 0);
    }
    if (f)
        f->armed = armed;
    return out.p ? out.p : calloc(1, 1);
}

static int same_text(oom_alloc *f, pstats_stats *s, const char *want, char *why, size_t whysize,
                     const char *when)
{
    char *got = text_of(f, s);
    int same = strcmp(got, want) == 0;
    if (!same) {
        size_t k = 0;
        while (got[k] && got[k] == want[k])
            k++;
        snprintf(why, whysize, "%s: the model prints something else from byte %zu: "
                 "'%.60s' instead of '%.60s'", when, k, got + k, want + k);
    }
    free(got);
    return same;
}

/* A scenario of another test file (pstats_test_util.h) under the loop. */
static oom_result scenario_run(oom_alloc *f, void *ctx, char *why, size_t whysize)
{
    pstats_oom_scenario fn = *(pstats_oom_scenario *)ctx;
    pstats_error err;
    memset(&err, 0, sizeof err);
    return oom_verdict(fn(&f->hook, &err), &err, why, whysize);
}

void pstats_oom_check(pstats_oom_scenario fn)
{
    ck_assert_uint_gt(oom_loop(scenario_run, &fn, 1), 0);
}

/* ---------------------------------------------------------------- load */

typedef struct load_case {
    input in;
    int by_path;
    char *want;   /* what the loaded model prints */
} load_case;

static oom_result op_load(oom_alloc *f, void *ctx, char *why, size_t whysize)
{
    f->verified = 1; /* the result is compared below */
    load_case *c = ctx;
    input_read(&c->in);
    pstats_stats *s = pstats_new(&f->hook);
    if (!s)
        return OOM_NOMEM;
    pstats_error err;
    pstats_set_load_flags(s, c->in.flags);
    char path[512];
    snprintf(path, sizeof path, PSTATS_FIXTURES "/profiles/%s",
             c->in.fixture ? c->in.fixture : "");
    int rc = c->by_path ? pstats_load_path(s, path, &err)
                        : pstats_load_buffer(s, c->in.data, c->in.len, "in", -1, &err);
    oom_result r = oom_verdict(rc, &err, why, whysize);
    if (r == OOM_NOMEM) { /* empty, and loads when memory is back */
        if (pstats_nkeys(s) != 0 || pstats_ninputs(s) != 0) {
            snprintf(why, whysize, "a failed load left %zu keys", pstats_nkeys(s));
            r = OOM_WRONG;
        }
        f->armed = 0;
        rc = c->by_path ? pstats_load_path(s, path, &err)
                        : pstats_load_buffer(s, c->in.data, c->in.len, "in", -1, &err);
        ck_assert_msg(rc == 0, "no load after a failed one: %s", err.msg);
    }
    char when[600];
    snprintf(when, sizeof when, "%s (flags %#x%s) loaded", c->in.fixture ? c->in.fixture : "big",
             c->in.flags, c->by_path ? ", from its path" : "");
    if (r != OOM_WRONG && !same_text(f, s, c->want, why, whysize, when))
        r = OOM_WRONG;
    pstats_free(s);
    return r;
}

static void check_load(const char *fixture, int gen, unsigned flags, int by_path)
{
    load_case c = {{fixture, gen, flags, NULL, 0}, by_path, NULL};
    oom_alloc f;
    oom_alloc_init(&f, 0, 0);
    pstats_stats *s = loaded(&f, &c.in);
    if (by_path) { /* the header names the file, with its time */
        char path[512];
        snprintf(path, sizeof path, PSTATS_FIXTURES "/profiles/%s", fixture);
        pstats_free(s);
        s = pstats_new(NULL);
        ck_assert_int_eq(pstats_load_path(s, path, NULL), 0);
    }
    c.want = text_of(NULL, s);
    pstats_free(s);
    ck_assert_uint_gt(oom_loop(op_load, &c, 1), 3);
    free(c.want);
    free(c.in.data);
}

START_TEST(load_every_path)
{
    check_load("mix-cpython3.11-cprofile.prof", 0, 0, 0);                        /* fast path */
    check_load("mix-cpython3.11-cprofile.prof", 0, PSTATS_LOAD_NO_EDGES, 0);
    check_load("mix-cpython3.11-cprofile.prof", 0, PS_LOAD_PIPE_ALWAYS, 0);      /* two threads */
    check_load("mix-cpython3.11-cprofile.prof", 0, PS_LOAD_PIPE_ALWAYS | PSTATS_LOAD_NO_EDGES, 0);
    check_load("mix-cpython3.12-cprofile.prof", 0, 0, 1);                        /* a file */
    check_load("mix-cpython3.9-profile.prof", 0, 0, 0);                          /* general path */
    check_load("mix-cpython3.9-profile.prof", 0, PSTATS_LOAD_NO_EDGES, 0);
    check_load("mix-cpython2.7-cprofile.prof", 0, 0, 0);                         /* Python 2 */
    check_load("synth-bigcounts.prof", 0, 0, 0);
    check_load("synth-mixedcallers.prof", 0, 0, 0);
    check_load("synth-sampled.prof", 0, 0, 0);
}
END_TEST

/* Above 4 MB and 65536 keys: the pipe by size and the key permutation in
 * a second thread. */
START_TEST(load_big)
{
    check_load(NULL, 70000, 0, 0);
}
END_TEST

/* --------------------------------------------------------- add, strip */

typedef struct model_case {
    input a, b;
    int self;         /* add: s among the others (built anew) */
    int many;         /* add: 17 others (their list allocated) */
    char *before, *want;
} model_case;

/* add: b (or s itself, and b, as many times as asked) into a. */
static int do_add(model_case *c, pstats_stats *s, pstats_stats *t, pstats_error *err)
{
    pstats_stats *others[17];
    size_t n = c->many ? 17 : 1;
    for (size_t i = 0; i < n; i++)
        others[i] = t;
    if (c->self)
        others[n / 2] = s;
    return pstats_add(s, others, n, err);
}

static oom_result op_add(oom_alloc *f, void *ctx, char *why, size_t whysize)
{
    f->verified = 1; /* the result is compared below */
    model_case *c = ctx;
    pstats_stats *s = loaded(f, &c->a), *t = loaded(f, &c->b);
    pstats_error err;
    oom_result r = oom_verdict(do_add(c, s, t, &err), &err, why, whysize);
    int unchanged = r == OOM_NOMEM && c->self;
    if (unchanged) {
        if (!same_text(f, s, c->before, why, whysize, "after a failed add (s among others)"))
            r = OOM_WRONG;
    } else if (r == OOM_NOMEM) {
        if (pstats_nkeys(s) != 0 || pstats_ninputs(s) != 0) {
            snprintf(why, whysize, "a failed add left %zu keys", pstats_nkeys(s));
            r = OOM_WRONG;
        }
        f->armed = 0; /* the emptied model loads and merges again */
        pstats_set_load_flags(s, c->a.flags);
        ck_assert_int_eq(pstats_load_buffer(s, c->a.data, c->a.len, "in", -1, &err), 0);
        ck_assert_int_eq(do_add(c, s, t, &err), 0);
    }
    if (r != OOM_WRONG && !unchanged && !same_text(f, s, c->want, why, whysize, "added"))
        r = OOM_WRONG;
    pstats_free(s);
    pstats_free(t);
    return r;
}

static oom_result op_strip(oom_alloc *f, void *ctx, char *why, size_t whysize)
{
    f->verified = 1; /* the result is compared below */
    model_case *c = ctx;
    pstats_stats *s = loaded(f, &c->a);
    pstats_error err;
    oom_result r = oom_verdict(pstats_strip_dirs(s, &err), &err, why, whysize);
    if (r != OOM_WRONG &&
        !same_text(f, s, r == OOM_DONE ? c->want : c->before, why, whysize, "strip_dirs"))
        r = OOM_WRONG;
    pstats_free(s);
    return r;
}

static void check_model_op(model_case *c, oom_op op, int (*ref)(model_case *, pstats_stats *,
                                                                 pstats_stats *))
{
    oom_alloc f;
    oom_alloc_init(&f, 0, 0);
    pstats_stats *s = loaded(&f, &c->a), *t = loaded(&f, &c->b);
    c->before = text_of(NULL, s);
    ck_assert_int_eq(ref(c, s, t), 0);
    c->want = text_of(NULL, s);
    pstats_free(s);
    pstats_free(t);
    ck_assert_uint_gt(oom_loop(op, c, 1), 3);
    free(c->before);
    free(c->want);
    free(c->a.data);
    free(c->b.data);
}

static int ref_add(model_case *c, pstats_stats *s, pstats_stats *t)
{
    pstats_error err;
    return do_add(c, s, t, &err);
}

static int ref_strip(model_case *c, pstats_stats *s, pstats_stats *t)
{
    (void)c;
    (void)t;
    return pstats_strip_dirs(s, NULL);
}

START_TEST(add_and_strip_dirs)
{
    static const char *const pairs[][2] = {
        {"mix-cpython3.11-cprofile.prof", "mix-cpython3.12-profile.prof"},
        {"mix-cpython2.7-profile.prof", "fib-cpython2.7-cprofile.prof"},
        {"synth-bigcounts.prof", "synth-mixedcallers.prof"},
    };
    for (size_t i = 0; i < NELEM(pairs); i++) {
        for (int mode = 0; mode < 3; mode++) { /* in place, s among others, 17 others */
            model_case c = {{pairs[i][0], 0, 0, NULL, 0}, {pairs[i][1], 0, 0, NULL, 0},
                            mode >= 1, mode == 2, NULL, NULL};
            check_model_op(&c, op_add, ref_add);
        }
        model_case c = {{pairs[i][0], 0, 0, NULL, 0}, {pairs[i][1], 0, 0, NULL, 0}, 0, 0,
                        NULL, NULL};
        check_model_op(&c, op_strip, ref_strip);
    }
    model_case c = {{"mix-cpython3.11-cprofile.prof", 0, PSTATS_LOAD_NO_EDGES, NULL, 0},
                    {"mix-cpython3.9-profile.prof", 0, PSTATS_LOAD_NO_EDGES, NULL, 0}, 0, 0,
                    NULL, NULL};
    check_model_op(&c, op_add, ref_add);
}
END_TEST

/* -------------------------------------------------------- sort, reports */

typedef struct sort_case {
    input in;
    const char *keys[3];
    size_t nkeys;
    char *before, *want;  /* sorted by "time" first; then by keys */
} sort_case;

static pstats_stats *time_sorted(oom_alloc *f, input *in)
{
    pstats_stats *s = loaded(f, in);
    const char *time[] = {"time"};
    int armed = f->armed;
    f->armed = 0;
    ck_assert_int_eq(pstats_sort(s, time, 1, NULL), 0);
    f->armed = armed;
    return s;
}

static oom_result op_sort(oom_alloc *f, void *ctx, char *why, size_t whysize)
{
    f->verified = 1; /* the result is compared below */
    sort_case *c = ctx;
    pstats_stats *s = time_sorted(f, &c->in);
    pstats_error err;
    oom_result r = oom_verdict(pstats_sort(s, c->keys, c->nkeys, &err), &err, why, whysize);
    if (r != OOM_WRONG &&
        !same_text(f, s, r == OOM_DONE ? c->want : c->before, why, whysize, "sort"))
        r = OOM_WRONG;
    pstats_free(s);
    return r;
}

static void check_sort(const char *fixture, int gen, const char *k1, const char *k2)
{
    sort_case c = {{fixture, gen, 0, NULL, 0}, {k1, k2, NULL}, k2 ? 2 : 1, NULL, NULL};
    oom_alloc f;
    oom_alloc_init(&f, 0, 0);
    pstats_stats *s = time_sorted(&f, &c.in);
    c.before = text_of(NULL, s);
    ck_assert_int_eq(pstats_sort(s, c.keys, c.nkeys, NULL), 0);
    c.want = text_of(NULL, s);
    pstats_free(s);
    ck_assert_uint_gt(oom_loop(op_sort, &c, 1), 0);
    free(c.before);
    free(c.want);
    free(c.in.data);
}

START_TEST(sort_every_kind)
{
    check_sort("mix-cpython3.11-cprofile.prof", 0, "cumulative", NULL); /* one number */
    check_sort("mix-cpython3.11-cprofile.prof", 0, "stdname", NULL);    /* labels */
    check_sort("mix-cpython3.11-cprofile.prof", 0, "calls", "name");    /* several fields */
    check_sort("synth-bigcounts.prof", 0, "calls", NULL);               /* big numbers */
    check_sort(NULL, 70000, "cumulative", NULL);                        /* radix sort */
}
END_TEST

/* Reports sorted or not, with restrictions, valid or not, loaded without
 * edges, with the rows in two threads (forced in chunks of three; by size
 * on a 9000-function model). */
typedef struct report_case {
    input in;
    int sorted;
    pstats_restriction r[2];
    size_t nr;
    char *want;   /* the three reports with r */
} report_case;

static int print_three(pstats_stats *s, const report_case *c, sink *out, pstats_error *err)
{
    if (pstats_print_stats(s, c->r, c->nr, sink_write, out, err) != 0)
        return -1;
    if (!pstats_has_edges(s))
        return 0;
    if (pstats_print_callers(s, c->r, c->nr, sink_write, out, err) != 0)
        return -1;
    return pstats_print_callees(s, c->r, c->nr, sink_write, out, err);
}

static oom_result op_reports(oom_alloc *f, void *ctx, char *why, size_t whysize)
{
    f->verified = 1; /* the result is compared below */
    report_case *c = ctx;
    pstats_stats *s = c->sorted ? time_sorted(f, &c->in) : loaded(f, &c->in);
    pstats_error err;
    sink out = {0};
    oom_result r = oom_verdict(print_three(s, c, &out, &err), &err, why, whysize);
    if (r == OOM_NOMEM) { /* the model prints all the same afterwards */
        f->armed = 0;
        free(out.p);
        memset(&out, 0, sizeof out);
        ck_assert_int_eq(print_three(s, c, &out, &err), 0);
    }
    if (r != OOM_WRONG && (!out.p || strcmp(out.p, c->want) != 0)) {
        snprintf(why, whysize, "the reports differ from a run without failures");
        r = OOM_WRONG;
    }
    free(out.p);
    pstats_free(s);
    return r;
}

START_TEST(reports_every_kind)
{
    static const char *const files[] = {"mix-cpython3.11-cprofile.prof",
                                        "mix-cpython2.7-profile.prof", "synth-bigcounts.prof"};
    for (size_t i = 0; i < NELEM(files) + 1; i++)
        for (int k = 0; k < 5; k++) {
            if (i == NELEM(files) && k != 1)
                continue; /* the big model: rows in two threads by size */
            unsigned flags = k == 3 ? PSTATS_LOAD_NO_EDGES : k == 4 ? PS_THREADS_ALWAYS : 0;
            report_case c = {{i < NELEM(files) ? files[i] : NULL, i < NELEM(files) ? 0 : 9000,
                              flags, NULL, 0},
                             k >= 1,
                             {{PSTATS_LIMIT_REGEX, 0, 0, "py:[0-9]+\\("},
                              {PSTATS_LIMIT_FRACTION, 0, 0.5, NULL}},
                             i == NELEM(files) || k == 0 ? 0 : k == 1 ? 2 : 1,
                             NULL};
            if (k == 2)
                c.r[0].regex = "(";  /* invalid: reported in the text */
            oom_alloc f;
            oom_alloc_init(&f, 0, 0);
            pstats_stats *s = c.sorted ? time_sorted(&f, &c.in) : loaded(&f, &c.in);
            sink want = {0};
            pstats_error err;
            ck_assert_int_eq(print_three(s, &c, &want, &err), 0);
            c.want = want.p;
            pstats_free(s);
            ck_assert_uint_gt(oom_loop(op_reports, &c, 1), 1);
            free(c.want);
            free(c.in.data);
        }
}
END_TEST

/* ------------------------------------------------------- pstats writer */

typedef struct writer_case {
    input in;
    int strip;
    sink want;
} writer_case;

static oom_result op_write(oom_alloc *f, void *ctx, char *why, size_t whysize)
{
    f->verified = 1; /* the result is compared below */
    writer_case *c = ctx;
    pstats_stats *s = loaded(f, &c->in);
    if (c->strip) {
        f->armed = 0;
        ck_assert_int_eq(pstats_strip_dirs(s, NULL), 0);
        f->armed = 1;
    }
    pstats_error err;
    sink out = {0};
    oom_result r = oom_verdict(pstats_write_pstats(s, sink_write, &out, &err), &err, why, whysize);
    if (r == OOM_NOMEM) {
        f->armed = 0;
        free(out.p);
        memset(&out, 0, sizeof out);
        ck_assert_int_eq(pstats_write_pstats(s, sink_write, &out, &err), 0);
    }
    if (r != OOM_WRONG && (out.len != c->want.len || memcmp(out.p, c->want.p, out.len) != 0)) {
        snprintf(why, whysize, "the pstats file differs from a run without failures");
        r = OOM_WRONG;
    }
    free(out.p);
    pstats_free(s);
    return r;
}

START_TEST(pstats_writer)
{
    static const char *const files[] = {"mix-cpython3.11-cprofile.prof",
                                        "mix-cpython2.7-profile.prof", "synth-bigcounts.prof",
                                        "synth-sampled.prof"};
    for (size_t i = 0; i < NELEM(files); i++)
        for (int strip = 0; strip < 2; strip++) {
            writer_case c = {{files[i], 0, 0, NULL, 0}, strip, {0}};
            oom_alloc f;
            oom_alloc_init(&f, 0, 0);
            pstats_stats *s = loaded(&f, &c.in);
            if (strip)
                ck_assert_int_eq(pstats_strip_dirs(s, NULL), 0);
            ck_assert_int_eq(pstats_write_pstats(s, sink_write, &c.want, NULL), 0);
            pstats_free(s);
            ck_assert_uint_gt(oom_loop(op_write, &c, 1), 0);
            free(c.want.p);
            free(c.in.data);
        }
}
END_TEST

Suite *pstats_oom_suite(void)
{
    Suite *s = suite_create("pstats_oom");
    TCase *t = tcase_create("oom");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, load_every_path);
    tcase_add_test(t, load_big);
    tcase_add_test(t, add_and_strip_dirs);
    tcase_add_test(t, sort_every_kind);
    tcase_add_test(t, reports_every_kind);
    tcase_add_test(t, pstats_writer);
    suite_add_tcase(s, t);
    return s;
}
