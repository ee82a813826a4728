/*
 * The outputs beyond the converter: the fast shortest-digits path against
 * strtod, path mapping's rules, the JSON writer's errors, the diff API, the
 * sampling interval, and allocation failure at every step of each.
 * The outputs themselves are checked against Python by test/outputs_*.py.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "pstats/pstats.h"
#include "pstats_test_util.h"

#define SAMPLED(name) PSTATS_FIXTURES "/sampled/" name

static pstats_stats *load(const char *path)
{
    pstats_error err;
    pstats_stats *s = pstats_new(NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(pstats_load_path(s, path, &err) == 0, "%s: %s", path, err.msg);
    return s;
}

/* ------------------------------------------------------------- digits */

static double read_digits(const char *dig, int n, int exp10)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%c.%se%d", dig[0], n > 1 ? dig + 1 : "", exp10);
    return strtod(tmp, NULL);
}

/* The fast path's digits read back as v, and no shorter correctly rounded
 * string (nor its neighbours) does. */
START_TEST(shortest_digits_round_trip_and_are_shortest)
{
    uint64_t x = 88172645463325252u;
    size_t fast = 0;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        if (i % 3 == 0) {
            uint64_t bits = x & 0x7fffffffffffffffu;
            memcpy(&v, &bits, sizeof v);
        } else {
            v = (double)(x >> 11) / 9007199254740992.0 * pow(10, (int)(x % 30) - 14);
        }
        char dig[24];
        int e, n = cm_shortest_digits(v, dig, &e);
        if (n == 0)
            continue;
        fast++;
        ck_assert_msg(read_digits(dig, n, e) == v, "%.17g: %s e%d", v, dig, e);
        if (n > 1) {
            char tmp[64];
            snprintf(tmp, sizeof tmp, "%.*e", n - 2, v);
            ck_assert_msg(strtod(tmp, NULL) != v, "%.17g: %s is shorter than %s", v, tmp, dig);
        }
    }
    ck_assert_uint_gt(fast, 100000);
    char dig[24];
    int e;
    ck_assert_int_eq(cm_shortest_digits(0.0, dig, &e), 0);   /* left to the exact path */
    ck_assert_int_eq(cm_shortest_digits(0.5, dig, &e), 0);   /* a power of two */
    ck_assert_int_eq(cm_shortest_digits(-1.5, dig, &e), 0);
    ck_assert_int_eq(cm_shortest_digits(0.1, dig, &e), 1);
    ck_assert_str_eq(dig, "1");
    ck_assert_int_eq(e, -1);
    char buf[40];
    pymarshal_float_repr(2.401e-06, buf);
    ck_assert_str_eq(buf, "2.401e-06");
    pymarshal_float_repr(0.010416123000000001, buf);
    ck_assert_str_eq(buf, "0.010416123000000001");
}
END_TEST

/* ---------------------------------------------------------- map paths */

static int has_file(pstats_stats *s, const char *file)
{
    for (uint32_t i = 0; i < pstats_nkeys(s); i++) {
        pstats_func f;
        pstats_func_get(s, i, &f);
        if (f.file_len == strlen(file) && memcmp(f.file, file, f.file_len) == 0)
            return 1;
    }
    return 0;
}

START_TEST(map_paths_rules)
{
    pstats_stats *s = load(SAMPLED("tachyon-mix-windows-1ms.prof"));
    size_t nf = pstats_nfuncs(s);
    pstats_path_map m[] = {{"c:/USERS/dev/pro", "/wrong"},          /* not a whole component */
                           {"C:\\Users\\dev", "/short"},
                           {"c:/users/dev/proj/", "/home/me/proj/"}, /* longest, any case */
                           {"/not/there", "/x"}};
    size_t matched[4];
    pstats_error err;
    ck_assert_int_eq(pstats_map_paths(s, m, 4, matched, &err), 0);
    ck_assert(has_file(s, "/home/me/proj/app.py"));
    ck_assert(has_file(s, "/home/me/proj/util/text.py"));
    ck_assert(has_file(s, "~"));
    ck_assert(!has_file(s, "/wrong/j/app.py") && !has_file(s, "/short/proj/app.py"));
    ck_assert_uint_eq(matched[0], 0);
    ck_assert_uint_eq(matched[1], 0);
    ck_assert_uint_gt(matched[2], 0);
    ck_assert_uint_eq(matched[3], 0);
    ck_assert_uint_eq(pstats_nfuncs(s), nf);
    /* to a Windows target: the rest takes backslashes */
    pstats_path_map back = {"/home/me", "D:\\work"};
    ck_assert_int_eq(pstats_map_paths(s, &back, 1, NULL, &err), 0);
    ck_assert(has_file(s, "D:\\work\\proj\\util\\text.py"));
    /* an empty TO makes relative names; colliding names merge */
    pstats_path_map rel[] = {{"D:\\work\\proj\\util", ""}, {"D:\\work\\proj", ""}};
    ck_assert_int_eq(pstats_map_paths(s, rel, 2, NULL, &err), 0);
    ck_assert(has_file(s, "text.py") && has_file(s, "app.py"));
    pstats_path_map bad = {"", "/x"};
    ck_assert_int_eq(pstats_map_paths(s, &bad, 1, NULL, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    pstats_free(s);
}
END_TEST

/* -------------------------------------------------------------- JSON */

static int failing_write(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return -1;
}

START_TEST(json_errors)
{
    pstats_error err;
    pstats_stats *s = load(PROF("mix-cpython3.12-cprofile.prof"));
    ck_assert_int_eq(pstats_write_json(s, failing_write, NULL, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EIO);
    pstats_free(s);
    s = pstats_new(NULL);
    pstats_set_load_flags(s, PSTATS_LOAD_NO_EDGES);
    ck_assert_int_eq(pstats_load_path(s, PROF("fib-cpython3.12-cprofile.prof"), &err), 0);
    sink out = {0};
    ck_assert_int_eq(pstats_write_json(s, sink_write, &out, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    free(out.p);
    pstats_free(s);
}
END_TEST

/* -------------------------------------------------------------- diff */

START_TEST(diff_rows_and_keys)
{
    pstats_error err;
    pstats_stats *a = load(PROF("fib-cpython3.12-cprofile.prof"));
    pstats_stats *b = load(PROF("mix-cpython3.12-cprofile.prof"));
    pstats_diff *d = pstats_diff_new(a, b, &err);
    ck_assert_ptr_nonnull(d);
    size_t n = pstats_diff_nrows(d), counts[4] = {0, 0, 0, 0};
    for (size_t k = 0; k < n; k++) {
        pstats_diff_row r;
        pstats_diff_row_get(d, k, &r);
        counts[r.status]++;
        if (r.status == PSTATS_DIFF_ADDED)
            ck_assert(r.before == UINT32_MAX && isinf(r.percent[3]) == (r.delta[3] != 0));
        if (r.status == PSTATS_DIFF_REMOVED)
            ck_assert(r.after == UINT32_MAX && r.percent[1] == -100.0);
    }
    ck_assert_uint_eq(counts[PSTATS_DIFF_ADDED] + counts[PSTATS_DIFF_REMOVED] +
                      counts[PSTATS_DIFF_CHANGED] + counts[PSTATS_DIFF_SAME], n);
    ck_assert_uint_eq(counts[PSTATS_DIFF_REMOVED], 3); /* fib, fib_seq, <module> */
    const char *good[] = {"+cumtime%", "nfl"}, *amb[] = {"cum"}, *signed_name[] = {"+name"};
    ck_assert_int_eq(pstats_diff_sort(d, good, 2, &err), 0);
    pstats_diff_row first;
    pstats_diff_row_get(d, 0, &first);
    ck_assert_int_eq(first.status, PSTATS_DIFF_ADDED); /* infinitely more */
    ck_assert_int_eq(pstats_diff_sort(d, amb, 1, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    ck_assert_int_eq(pstats_diff_sort(d, signed_name, 1, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    char lab[256];
    ck_assert_uint_gt(pstats_diff_label(d, 0, lab, sizeof lab), 0);
    ck_assert_int_eq(pstats_print_diff(d, NULL, 0, failing_write, NULL, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EIO);
    pstats_diff_free(d);
    pstats_free(a);
    pstats_free(b);
}
END_TEST

/* ----------------------------------------------------------- sampled */

START_TEST(sample_interval)
{
    double sec = 0;
    pstats_stats *s = load(SAMPLED("tachyon-fib-100us.prof"));
    ck_assert_int_eq(pstats_sample_interval(s, &sec), 1);
    ck_assert(fabs(sec - 1e-4) < 1e-15);
    pstats_stats *t = load(SAMPLED("tachyon-mix-1ms.prof"));
    ck_assert_int_eq(pstats_sample_interval(t, &sec), 1);
    ck_assert(fabs(sec - 1e-3) < 1e-14);
    pstats_error err;
    const pstats_stats *parts[2] = {s, t};
    pstats_callgrind_options o = {PSTATS_UNIT_SAMPLES, NULL, 0, NULL};
    sink out = {0};
    ck_assert_int_eq(pstats_write_callgrind(parts, 2, &o, sink_write, &out, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE); /* two intervals */
    ck_assert_int_eq(pstats_add(s, &t, 1, &err), 0);
    ck_assert_int_eq(pstats_sample_interval(s, &sec), 0);
    pstats_free(s);
    pstats_free(t);
    s = load(PROF("synth-sampled.prof")); /* the marker, but no counts */
    ck_assert_int_eq(pstats_is_sampled(s), 1);
    ck_assert_int_eq(pstats_sample_interval(s, &sec), 0);
    pstats_free(s);
    s = load(PROF("fib-cpython3.12-cprofile.prof"));
    ck_assert_int_eq(pstats_sample_interval(s, &sec), 0);
    pstats_free(s);
    free(out.p);
}
END_TEST

/* ------------------------------------------------------------ memory */

static int sc_json_map(const pymarshal_allocator *a, pstats_error *err)
{
    pstats_stats *s = pstats_new(a);
    if (!s) {
        err->code = PSTATS_ENOMEM;
        return -1;
    }
    pstats_path_map m = {"C:\\Users\\dev\\proj", "/home/me/proj"};
    sink out = {0};
    int rc = pstats_load_path(s, SAMPLED("tachyon-mix-windows-1ms.prof"), err);
    if (rc == 0)
        rc = pstats_map_paths(s, &m, 1, NULL, err);
    if (rc == 0)
        rc = pstats_write_json(s, sink_write, &out, err);
    pstats_callgrind_options o = {PSTATS_UNIT_SAMPLES, NULL, 1, a};
    const pstats_stats *parts[1] = {s};
    if (rc == 0)
        rc = pstats_write_callgrind(parts, 1, &o, sink_write, &out, err);
    free(out.p);
    pstats_free(s);
    return rc;
}

static int sc_diff(const pymarshal_allocator *a, pstats_error *err)
{
    pstats_stats *x = pstats_new(a), *y = pstats_new(a);
    pstats_diff *d = NULL;
    sink out = {0};
    int rc = -1;
    const char *keys[] = {"stdname", "-time%"};
    pstats_restriction r = {PSTATS_LIMIT_REGEX, 0, 0, "py:"};
    if (!x || !y)
        err->code = PSTATS_ENOMEM;
    else if (pstats_load_path(x, PROF("synth-bigcounts.prof"), err) == 0 &&
             pstats_load_path(y, PROF("fib-cpython3.12-profile.prof"), err) == 0 &&
             (d = pstats_diff_new(x, y, err)) != NULL &&
             pstats_diff_sort(d, keys, 2, err) == 0 &&
             pstats_print_diff(d, &r, 1, sink_write, &out, err) == 0)
        rc = pstats_write_diff_json(d, NULL, 0, sink_write, &out, err);
    free(out.p);
    pstats_diff_free(d);
    pstats_free(x);
    pstats_free(y);
    return rc;
}

START_TEST(allocation_failures_in_outputs)
{
    pstats_oom_check(sc_json_map);
    pstats_oom_check(sc_diff);
}
END_TEST

Suite *pstats_outputs_suite(void)
{
    Suite *s = suite_create("pstats_outputs");
    TCase *t = tcase_create("outputs");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, shortest_digits_round_trip_and_are_shortest);
    tcase_add_test(t, map_paths_rules);
    tcase_add_test(t, json_errors);
    tcase_add_test(t, diff_rows_and_keys);
    tcase_add_test(t, sample_interval);
    tcase_add_test(t, allocation_failures_in_outputs);
    suite_add_tcase(s, t);
    return s;
}
