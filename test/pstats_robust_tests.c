/*
 * libpstats robustness: errors that name what a file is (with offsets),
 * truncated and corrupted profiles (allocation failure at every step is in
 * pstats_oom_tests.c).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pstats/pstats.h"
#include "pstats_internal.h"

#include "pstats_test_util.h"

static void expect_error(const char *path, pstats_errcode code, const char *needle)
{
    pstats_stats *s = pstats_new(NULL);
    pstats_error err;
    ck_assert_int_ne(pstats_load_path(s, path, &err), 0);
    ck_assert_msg(err.code == code, "%s: code %d (%s)", path, err.code, err.msg);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "%s: '%s' lacks '%s'", path, err.msg, needle);
    ck_assert_uint_eq(pstats_nkeys(s), 0);
    pstats_free(s);
}

START_TEST(errors_name_the_format)
{
    expect_error(PROF("other/fibonacci.cpython-311.pyc"), PSTATS_EFORMAT, ".pyc");
    expect_error(PROF("other/list.marshal"), PSTATS_EFORMAT, "a list, not a pstats dict");
    expect_error(PROF("other/int.marshal"), PSTATS_EFORMAT, "an int, not a pstats dict");
    expect_error(PROF("other/fib.callgrind"), PSTATS_EFORMAT, "a callgrind file");
    expect_error(PROF("other/fib-report.txt"), PSTATS_EFORMAT, "a text report of pstats");
    expect_error(PROF("synth-empty.prof"), PSTATS_EFORMAT, "an empty profile");
    expect_error(PROF("does-not-exist.prof"), PSTATS_EIO, "cannot open");
}
END_TEST

static void expect_buffer_error(const void *data, size_t len, pstats_errcode code,
                                const char *needle, int has_offset, size_t offset)
{
    pstats_stats *s = pstats_new(NULL);
    pstats_error err;
    ck_assert_int_ne(pstats_load_buffer(s, data, len, "buf", 0, &err), 0);
    ck_assert_msg(err.code == code, "code %d (%s)", err.code, err.msg);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "'%s' lacks '%s'", err.msg, needle);
    ck_assert_int_eq(err.has_offset, has_offset);
    if (has_offset)
        ck_assert_uint_eq(err.offset, offset);
    pstats_free(s);
}

START_TEST(errors_in_memory)
{
    static const uint8_t pyc[] = {0xa7, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0,
                                  0, 0, 0, 0, 0xe3, 0, 0, 0, 0};
    static const uint8_t pickle[] = {0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0};
    static const uint8_t gperf[24] = {0, 0, 0, 0, 0, 0, 0, 0, 3};
    static const uint8_t hotshot[] = {0x13, 0x0f, 'h', 'o', 't', 's', 'h', 'o', 't', '-', 'v'};
    expect_buffer_error("", 0, PSTATS_EFORMAT, "an empty file", 1, 0);
    expect_buffer_error(pyc, sizeof pyc, PSTATS_EFORMAT, ".pyc", 1, 0);
    expect_buffer_error(pickle, sizeof pickle, PSTATS_EFORMAT, "pickle", 1, 0);
    expect_buffer_error(gperf, sizeof gperf, PSTATS_EFORMAT, "gperftools", 1, 0);
    expect_buffer_error(hotshot, sizeof hotshot, PSTATS_EFORMAT, "hotshot", 1, 0);
    const char *gprof = "Flat profile:\n\nEach sample counts as 0.01 seconds.\n";
    expect_buffer_error(gprof, strlen(gprof), PSTATS_EFORMAT, "gprof", 1, 0);
    const char *cg = "# callgrind format\nevents: Ticks\n";
    expect_buffer_error(cg, strlen(cg), PSTATS_EFORMAT, "callgrind", 1, 0);
    /* a dict whose key is an int: offset of that key */
    static const uint8_t badkey[] = {'{', 'i', 1, 0, 0, 0, 'N', '0'};
    expect_buffer_error(badkey, sizeof badkey, PSTATS_EFORMAT, "found an int", 1, 1);
    /* an unknown type code inside the dict */
    static const uint8_t badcode[] = {'{', '(', 3, 0, 0, 0, 'Q', 'x', 'x', 'x'};
    expect_buffer_error(badcode, sizeof badcode, PSTATS_EMARSHAL, "unknown type code 0x51", 1, 6);
    /* a marshalled code object */
    static const uint8_t code[] = {0xe3, 0, 0, 0, 0};
    expect_buffer_error(code, sizeof code, PSTATS_EMARSHAL, "code", 1, 0);
}
END_TEST

START_TEST(truncated_profile_has_offset)
{
    size_t len;
    uint8_t *data = read_file(PROF("fib-cpython3.11-cprofile.prof"), &len);
    for (size_t cut = 1; cut < len; cut += 37) {
        pstats_stats *s = pstats_new(NULL);
        pstats_error err;
        ck_assert_int_ne(pstats_load_buffer(s, data, cut, "cut", 0, &err), 0);
        ck_assert_msg(err.code == PSTATS_EMARSHAL, "cut %zu: %s", cut, err.msg);
        ck_assert(err.has_offset && err.offset <= cut);
        ck_assert_ptr_nonnull(strstr(err.msg, "Python 3.4+"));
        pstats_free(s);
    }
    /* trailing bytes are accepted, as Python does */
    uint8_t *more = malloc(len + 3);
    memcpy(more, data, len);
    memcpy(more + len, "xyz", 3);
    pstats_stats *s = pstats_new(NULL);
    ck_assert_int_eq(pstats_load_buffer(s, more, len + 3, "more", 0, NULL), 0);
    ck_assert_uint_eq(pstats_nfuncs(s), 8);
    pstats_free(s);
    free(more);
    free(data);
}
END_TEST

/* Corrupted profiles: every operation either fails cleanly or works. */
static int null_sink(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return 0;
}

static void exercise(const uint8_t *data, size_t len)
{
    pstats_stats *s = pstats_new(NULL), *t = pstats_new(NULL);
    pstats_error err;
    if (pstats_load_buffer(s, data, len, "m", 0, &err) == 0) {
        ck_assert_uint_gt(pstats_nfuncs(s), 0);
        const char *keys[] = {"stdname", "calls"};
        pstats_restriction r = {PSTATS_LIMIT_REGEX, 0, 0, "a|("};
        ck_assert_int_eq(pstats_sort(s, keys, 2, &err), 0);
        ck_assert_int_eq(pstats_print_stats(s, &r, 1, null_sink, NULL, &err), 0);
        ck_assert_int_eq(pstats_print_callers(s, NULL, 0, null_sink, NULL, &err), 0);
        ck_assert_int_eq(pstats_print_callees(s, NULL, 0, null_sink, NULL, &err), 0);
        ck_assert_int_eq(pstats_write_pstats(s, null_sink, NULL, &err), 0);
        if (pstats_load_buffer(t, data, len, "m", 0, &err) == 0)
            ck_assert_int_eq(pstats_add(s, &t, 1, &err), 0);
        ck_assert_int_eq(pstats_strip_dirs(s, &err), 0);
        ck_assert_int_eq(pstats_print_callees(s, NULL, 0, null_sink, NULL, &err), 0);
    } else {
        ck_assert_int_ne(err.code, PSTATS_OK);
        ck_assert_int_ne(err.code, PSTATS_ENOMEM);
    }
    pstats_free(s);
    pstats_free(t);
}

START_TEST(corrupted_profiles)
{
    static const char *const files[] = {"fib-cpython3.11-cprofile.prof",
                                        "fib-cpython2.7-profile.prof",
                                        "fib-cpython3.9-profile.prof",
                                        "synth-mixedcallers.prof", "synth-py2-big.prof",
                                        "synth-bigcounts.prof"};
    uint64_t r = 0x9E3779B97F4A7C15u;
    for (size_t f = 0; f < NELEM(files); f++) {
        char path[512];
        size_t len;
        snprintf(path, sizeof path, PSTATS_FIXTURES "/profiles/%s", files[f]);
        uint8_t *orig = read_file(path, &len);
        uint8_t *d = malloc(len);
        exercise(orig, len);
        for (int i = 0; i < 300; i++) {
            memcpy(d, orig, len);
            for (int k = 0; k < 1 + i % 4; k++) {
                r ^= r << 13; r ^= r >> 7; r ^= r << 17;
                size_t at = (size_t)(r % len);
                d[at] = (i & 1) ? (uint8_t)(r >> 32) : (uint8_t)(d[at] ^ (1u << (r >> 60 & 7)));
            }
            exercise(d, len);
        }
        free(d);
        free(orig);
    }
}
END_TEST

/* A bad sort key is a KeyError in Python, raised before the order
 * changes: the previous sort stays. */
START_TEST(bad_sort_key_keeps_the_order)
{
    pstats_stats *s = pstats_new(NULL);
    ck_assert_int_eq(pstats_load_path(s, PROF("mix-cpython3.11-cprofile.prof"), NULL), 0);
    const char *time[] = {"time"}, *bad[] = {"time", "cum"};
    sink a = {0}, b = {0};
    pstats_error err;
    ck_assert_int_eq(pstats_sort(s, time, 1, &err), 0);
    ck_assert_int_eq(pstats_print_stats(s, NULL, 0, sink_write, &a, &err), 0);
    ck_assert_int_eq(pstats_sort(s, bad, 2, &err), -1);
    ck_assert_int_eq(err.code, PSTATS_EUSAGE);
    ck_assert_int_eq(pstats_print_stats(s, NULL, 0, sink_write, &b, &err), 0);
    ck_assert_ptr_nonnull(strstr(b.p, "Ordered by: internal time"));
    ck_assert_str_eq(a.p, b.p);
    free(a.p);
    free(b.p);
    pstats_free(s);
}
END_TEST

Suite *pstats_robust_suite(void)
{
    Suite *s = suite_create("pstats_robust");
    TCase *t = tcase_create("robust");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, errors_name_the_format);
    tcase_add_test(t, errors_in_memory);
    tcase_add_test(t, truncated_profile_has_offset);
    tcase_add_test(t, corrupted_profiles);
    tcase_add_test(t, bad_sort_key_keeps_the_order);
    suite_add_tcase(s, t);
    return s;
}
