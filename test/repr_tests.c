/*
 * Unit tests of the repr code against tables Python computed
 * (fixtures/repr/gen_float_cases.py, gen_unit_cases.py): float repr, str and
 * bytes repr, values decoded from marshal bytes; and the limits: output
 * limit, failing sink, failing allocator, deep nesting, shared objects.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pstats/marshal.h"

#include "oom.h"

#ifndef REPR_FIXTURES
#error "REPR_FIXTURES must name fixtures/repr"
#endif

/* ------------------------------------------------------------ helpers */

typedef struct buf {
    char *p;
    size_t len, cap;
    size_t fail_after; /* the sink fails once this many bytes were taken; 0: never */
} buf;

static int buf_write(void *ctx, const void *data, size_t len)
{
    buf *b = ctx;
    if (b->fail_after && b->len + len > b->fail_after)
        return -1;
    if (b->len + len + 1 > b->cap) {
        size_t cap = (b->len + len + 1) * 2;
        char *p = realloc(b->p, cap);
        ck_assert_ptr_nonnull(p);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

static void buf_reset(buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

static size_t unhex(const char *hex, size_t n, uint8_t *out)
{
    size_t i;
    for (i = 0; i + 1 < n; i += 2) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex + i, "%2x", &v), 1);
        out[i / 2] = (uint8_t)v;
    }
    return n / 2;
}

static FILE *open_fixture(const char *name)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", REPR_FIXTURES, name);
    f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    return f;
}

/* Reads one line into *line (grown with realloc); 0 at end of file. */
static int next_line(FILE *f, char **line, size_t *cap)
{
    ssize_t n;
    do {
        n = getline(line, cap, f);
        if (n < 0)
            return 0;
    } while ((*line)[0] == '#');
    if (n > 0 && (*line)[n - 1] == '\n')
        (*line)[n - 1] = '\0';
    return 1;
}

/* repr of the object marshalled in data[0..len) into b; returns the
 * pymarshal_repr result. */
static int repr_of(const uint8_t *data, size_t len, size_t limit,
                   const pymarshal_allocator *alloc, buf *b, pymarshal_error *err)
{
    pymarshal_error lerr;
    pymarshal_doc *doc = pymarshal_load(data, len, NULL, &lerr);
    int rc;
    ck_assert_msg(doc != NULL, "load failed: %s", lerr.msg);
    buf_reset(b);
    rc = pymarshal_repr(pymarshal_doc_root(doc), limit, alloc, buf_write, b, err);
    pymarshal_doc_free(doc);
    return rc;
}

/* -------------------------------------------------------------- floats */

START_TEST(test_float_table)
{
    FILE *f = open_fixture("float_cases.txt");
    char *line = NULL, got[40], want[64];
    size_t cap = 0, n = 0;
    unsigned long long bits;
    while (next_line(f, &line, &cap)) {
        double d;
        ck_assert_int_eq(sscanf(line, "%llx %63s", &bits, want), 2);
        memcpy(&d, &bits, sizeof d);
        ck_assert_uint_eq(pymarshal_float_repr(d, got), strlen(want));
        ck_assert_msg(strcmp(got, want) == 0, "%016llx: got %s, Python %s", bits, got, want);
        n++;
    }
    ck_assert_uint_gt(n, 9000);
    free(line);
    fclose(f);
}
END_TEST

/* ------------------------------------------------------------- strings */

START_TEST(test_str_table)
{
    FILE *f = open_fixture("str_cases.txt");
    char *line = NULL;
    size_t cap = 0, n = 0;
    buf b = {0};
    uint8_t raw[4096];
    while (next_line(f, &line, &cap)) {
        char *tab = strchr(line, '\t');
        size_t len;
        pymarshal_kind kind = line[0] == 'b' ? PYMARSHAL_BYTES : PYMARSHAL_STR;
        pymarshal_text text = line[0] == 'l' ? PYMARSHAL_LATIN1 : PYMARSHAL_UTF8;
        ck_assert_ptr_nonnull(tab);
        ck_assert_uint_lt((size_t)(tab - line - 2), 2 * sizeof raw);
        len = unhex(line + 2, (size_t)(tab - line - 2), raw);
        buf_reset(&b);
        ck_assert_int_eq(pymarshal_str_repr(raw, len, kind, text, buf_write, &b), 0);
        ck_assert_msg(b.len == strlen(tab + 1) && memcmp(b.p, tab + 1, b.len) == 0,
                      "%s: got %s", line, b.p);
        n++;
    }
    ck_assert_uint_gt(n, 1500);
    free(b.p);
    free(line);
    fclose(f);
}
END_TEST

START_TEST(test_str_invalid_utf8)
{
    /* Not from Python (which never has such a str): bytes that start no
     * UTF-8 sequence show as \udcXX, as surrogateescape would decode them. */
    buf b = {0};
    ck_assert_int_eq(pymarshal_str_repr("a\xff\xc3", 3, PYMARSHAL_STR, PYMARSHAL_UTF8,
                                        buf_write, &b), 0);
    ck_assert_str_eq(b.p, "'a\\udcff\\udcc3'");
    b.fail_after = 1;
    buf_reset(&b);
    ck_assert_int_eq(pymarshal_str_repr("abc", 3, PYMARSHAL_STR, PYMARSHAL_UTF8,
                                        buf_write, &b), -1);
    free(b.p);
}
END_TEST

/* -------------------------------------------------------------- values */

START_TEST(test_value_table)
{
    FILE *f = open_fixture("value_cases.txt");
    char *line = NULL;
    size_t cap = 0, n = 0, rawcap = 0;
    uint8_t *raw = NULL;
    buf b = {0};
    pymarshal_error err;
    while (next_line(f, &line, &cap)) {
        char *tab = strchr(line, '\t');
        size_t len;
        ck_assert_ptr_nonnull(tab);
        if (rawcap < (size_t)(tab - line)) {
            rawcap = (size_t)(tab - line);
            raw = realloc(raw, rawcap);
            ck_assert_ptr_nonnull(raw);
        }
        len = unhex(line, (size_t)(tab - line), raw);
        ck_assert_int_eq(repr_of(raw, len, 0, NULL, &b, &err), 0);
        ck_assert_msg(strcmp(b.p, tab + 1) == 0, "%.60s: got %.200s, Python %.200s", line,
                      b.p, tab + 1);
        n++;
    }
    ck_assert_uint_gt(n, 1400);
    free(raw);
    free(b.p);
    free(line);
    fclose(f);
}
END_TEST

/* [[...]] from marshal.dumps of a list containing itself (Python 3.13). */
static const uint8_t self_list[] = {0xdb, 1, 0, 0, 0, 'r', 0, 0, 0, 0};

START_TEST(test_self_reference)
{
    buf b = {0};
    pymarshal_error err;
    ck_assert_int_eq(repr_of(self_list, sizeof self_list, 0, NULL, &b, &err), 0);
    ck_assert_str_eq(b.p, "[[...]]");
    free(b.p);
}
END_TEST

/* ------------------------------------------------------------- limits */

/* Nested lists of 8 items where items 2..8 are references to item 1:
 * 8^depth Nones from about 40 bytes per level, so the repr grows
 * exponentially while the input stays small. Level d takes slot d. */
static size_t make_dag(uint8_t *p, int depth)
{
    size_t n = 0;
    int d, k;
    for (d = 0; d < depth; d++) {
        memcpy(p + n, "\xdb\x08\0\0\0", 5); /* '[' | FLAG_REF, 8 items */
        n += 5;
    }
    p[n++] = 'N';
    for (d = depth - 1; d >= 0; d--) {
        for (k = 0; k < 7; k++) {
            if (d + 1 == depth) {
                p[n++] = 'N';
            } else { /* 'r' and the slot, little-endian */
                const uint8_t ref[5] = {'r', (uint8_t)(d + 1), 0, 0, 0};
                memcpy(p + n, ref, 5);
                n += 5;
            }
        }
    }
    return n;
}

START_TEST(test_limit_exact_prefix)
{
    buf full = {0}, part = {0};
    pymarshal_error err;
    uint8_t dag[512];
    size_t n = make_dag(dag, 3), lim;
    ck_assert_int_eq(repr_of(dag, n, 0, NULL, &full, &err), 0);
    ck_assert_uint_eq(full.len, (1 + 8 + 64) * (2 + 7 * 2) + 512 * 4);
    for (lim = 1; lim <= full.len + 1; lim += lim < 40 ? 1 : 97) {
        int rc = repr_of(dag, n, lim, NULL, &part, &err);
        if (lim < full.len) {
            ck_assert_int_eq(rc, -1);
            ck_assert_int_eq(err.code, PYMARSHAL_ELIMIT);
            ck_assert_uint_eq(part.len, lim);
        } else {
            ck_assert_int_eq(rc, 0);
            ck_assert_uint_eq(part.len, full.len);
        }
        ck_assert_int_eq(memcmp(part.p, full.p, part.len), 0);
    }
    free(full.p);
    free(part.p);
}
END_TEST

START_TEST(test_limit_exponential)
{
    buf b = {0};
    pymarshal_error err;
    uint8_t dag[2048];
    size_t n = make_dag(dag, 30); /* 8^30 leaves */
    ck_assert_int_eq(repr_of(dag, n, 1 << 20, NULL, &b, &err), -1);
    ck_assert_int_eq(err.code, PYMARSHAL_ELIMIT);
    ck_assert_uint_eq(b.len, 1 << 20);
    free(b.p);
}
END_TEST

START_TEST(test_sink_failure)
{
    buf b = {0};
    pymarshal_error err;
    uint8_t dag[512];
    size_t n = make_dag(dag, 4);
    b.fail_after = 100;
    ck_assert_int_eq(repr_of(dag, n, 0, NULL, &b, &err), -1);
    ck_assert_int_eq(err.code, PYMARSHAL_EIO);
    free(b.p);
}
END_TEST

START_TEST(test_deep_nesting)
{
    /* 1999 nested lists (CPython's loader allows 2000 levels): printed
     * without C recursion. */
    enum { DEPTH = 1999 };
    uint8_t *data = malloc(DEPTH * 5 + 1);
    buf b = {0};
    pymarshal_error err;
    size_t i;
    ck_assert_ptr_nonnull(data);
    for (i = 0; i < DEPTH; i++)
        memcpy(data + 5 * i, "[\x01\0\0\0", 5);
    data[DEPTH * 5] = 'N';
    ck_assert_int_eq(repr_of(data, DEPTH * 5 + 1, 0, NULL, &b, &err), 0);
    ck_assert_uint_eq(b.len, 2 * DEPTH + 4);
    for (i = 0; i < DEPTH; i++) {
        ck_assert_int_eq(b.p[i], '[');
        ck_assert_int_eq(b.p[DEPTH + 4 + i], ']');
    }
    ck_assert_int_eq(memcmp(b.p + DEPTH, "None", 4), 0);
    free(data);
    free(b.p);
}
END_TEST

/* repr with its n-th allocation failing (the one loop of test/oom.h):
 * PYMARSHAL_ENOMEM, what was written so far a prefix of the whole, and the
 * whole once it succeeds. */
typedef struct repr_oom {
    const uint8_t *data;
    size_t len;
    buf ok;
} repr_oom;

static oom_result repr_oom_run(oom_alloc *f, void *ctx, char *why, size_t whysize)
{
    repr_oom *r = ctx;
    buf b = {0};
    pymarshal_error err;
    f->verified = 1; /* the output is compared below */
    int rc = repr_of(r->data, r->len, 0, &f->hook, &b, &err);
    oom_result res = rc == 0 ? OOM_DONE : err.code == PYMARSHAL_ENOMEM ? OOM_NOMEM : OOM_WRONG;
    size_t n = b.len;
    if (res == OOM_WRONG)
        snprintf(why, whysize, "code %d: %s", (int)err.code, err.msg);
    else if (n > r->ok.len || (n && memcmp(b.p, r->ok.p, n) != 0) ||
             (res == OOM_DONE && n != r->ok.len)) {
        snprintf(why, whysize, "the output is not %s of a run without failures",
                 res == OOM_DONE ? "that" : "a prefix");
        res = OOM_WRONG;
    }
    free(b.p);
    return res;
}

static size_t repr_oom_check(const uint8_t *data, size_t len, buf *ok)
{
    repr_oom r = {data, len, *ok};
    return oom_loop(repr_oom_run, &r, 1);
}

START_TEST(test_out_of_memory)
{
    /* Deep and wide enough to need the stack and the pointer set to grow,
     * big ints (their limbs are allocated) and a set of ints. */
    static const char big[] = "l\x05\0\0\0\x01\0\x02\0\x03\0\x04\0\x05\0"; /* > 2^60 */
    uint8_t data[8192];
    buf ok = {0};
    pymarshal_error err;
    size_t n = 0, i;
    for (i = 0; i < 200; i++) {
        memcpy(data + n, "(\x02\0\0\0", 5);
        n += 5;
        memcpy(data + n, big, sizeof big - 1);
        n += sizeof big - 1;
    }
    /* innermost: a set of 40 ints, whose CPython order needs a table */
    memcpy(data + n, "<\x28\0\0\0", 5);
    n += 5;
    for (i = 0; i < 40; i++) {
        const uint8_t item[5] = {'i', (uint8_t)(i * 7), 0, 0, 0};
        memcpy(data + n, item, 5);
        n += 5;
    }
    ck_assert_int_eq(repr_of(data, n, 0, NULL, &ok, &err), 0);
    ck_assert_uint_gt(repr_oom_check(data, n, &ok), 2);
    free(ok.p);
}
END_TEST

START_TEST(test_out_of_memory_bigint)
{
    /* 2^18000 - 1: 1200 digits of 0x7fff, past the size where the
     * conversion splits into blocks and Karatsuba products. */
    enum { ND = 1200 };
    uint8_t *data = malloc(5 + 2 * ND);
    buf ok = {0};
    pymarshal_error err;
    size_t i;
    ck_assert_ptr_nonnull(data);
    memcpy(data, "l\xb0\x04\0\0", 5); /* 1200 */
    for (i = 0; i < ND; i++)
        memcpy(data + 5 + 2 * i, "\xff\x7f", 2);
    ck_assert_int_eq(repr_of(data, 5 + 2 * ND, 0, NULL, &ok, &err), 0);
    ck_assert_uint_eq(ok.len, 5419); /* len(str(2**18000 - 1)) */
    ck_assert_uint_gt(repr_oom_check(data, 5 + 2 * ND, &ok), 10);
    free(data);
    free(ok.p);
}
END_TEST

static Suite *repr_suite(void)
{
    Suite *s = suite_create("repr");
    TCase *tc = tcase_create("python");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_float_table);
    tcase_add_test(tc, test_str_table);
    tcase_add_test(tc, test_str_invalid_utf8);
    tcase_add_test(tc, test_value_table);
    tcase_add_test(tc, test_self_reference);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_limit_exact_prefix);
    tcase_add_test(tc, test_limit_exponential);
    tcase_add_test(tc, test_sink_failure);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_out_of_memory);
    tcase_add_test(tc, test_out_of_memory_bigint);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(repr_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
