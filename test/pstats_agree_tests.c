/*
 * libpstats agrees with the Python that wrote the file on its corner
 * cases: a NULL where a dict value is due (CPython 3 ends the dict there,
 * 2.7 drops the pair), an unhashable key (TypeError), and code-object keys
 * compared by value (what code_richcompare compares, nothing else), also
 * through a merge and the pstats writer. Each profile is built here byte
 * by byte; what Python makes of each was checked with 2.7, 3.12 and 3.13.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pstats/pstats.h"
#include "pstats_internal.h"

#include "pstats_test_util.h"

typedef struct bytes {
    uint8_t p[1024];
    size_t n;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    ck_assert_uint_le(b->n + n, sizeof b->p);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void i32(bytes *b, int32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

static void code(bytes *b, const char *c) { put(b, c, strlen(c)); }

static void zstr(bytes *b, const char *s) /* 'z' short ASCII; 's' for Python 2 */
{
    uint8_t n = (uint8_t)strlen(s);
    code(b, "z");
    put(b, &n, 1);
    put(b, s, n);
}

static void pystr(bytes *b, const char *s, int py2)
{
    if (!py2) {
        zstr(b, s);
        return;
    }
    code(b, "s");
    i32(b, (int32_t)strlen(s));
    put(b, s, strlen(s));
}

static void key(bytes *b, const char *file, int line, const char *name, int py2)
{
    code(b, "(");
    i32(b, 3);
    pystr(b, file, py2);
    code(b, "i");
    i32(b, line);
    pystr(b, name, py2);
}

static void numbers(bytes *b, int calls) /* (cc, nc, tt, ct, */
{
    code(b, "(");
    i32(b, 5);
    for (int i = 0; i < 2; i++) {
        code(b, "i");
        i32(b, calls);
    }
    for (int i = 0; i < 2; i++) {
        double d = 0.5;
        code(b, "g");
        put(b, &d, 8);
    }
}

static pstats_stats *load_bytes(const bytes *b, int expect_ok)
{
    pstats_stats *s = pstats_new(NULL);
    pstats_error err;
    int rc = pstats_load_buffer(s, b->p, b->n, "t", -1, &err);
    ck_assert_msg((rc == 0) == expect_ok, "load: %d %s", rc, err.msg);
    return s;
}

/* {k1: (.., {k2: 1}), k2: NULL, k3: (...)} */
static void null_value_profile(bytes *b, int py2)
{
    memset(b, 0, sizeof *b);
    code(b, "{");
    key(b, "a.py", 1, "f", py2);
    numbers(b, 1);
    code(b, "{");
    key(b, "a.py", 2, "g", py2);
    code(b, "i");
    i32(b, 1);
    code(b, "0");
    key(b, "a.py", 2, "g", py2);
    code(b, "0"); /* where g's value is due */
    key(b, "a.py", 3, "h", py2);
    numbers(b, 2);
    code(b, "{0");
    code(b, "0");
}

START_TEST(null_value_ends_or_drops_as_python)
{
    bytes b;
    /* CPython 3: the dict ends at the NULL: f only ({k1: ...}) */
    null_value_profile(&b, 0);
    pstats_stats *s = load_bytes(&b, 1);
    ck_assert_uint_eq(pstats_nfuncs(s), 1);
    pstats_free(s);
    /* 2.7: the pair is dropped and the dict goes on: f and h */
    null_value_profile(&b, 1);
    s = load_bytes(&b, 1);
    ck_assert_uint_eq(pstats_nfuncs(s), 2);
    pstats_func f;
    pstats_func_get(s, 1, &f);
    ck_assert_int_eq(f.line, 3);
    pstats_free(s);
}
END_TEST

START_TEST(unhashable_key_refused)
{
    bytes b;
    memset(&b, 0, sizeof b);
    code(&b, "{");
    key(&b, "a.py", 1, "f", 0);
    numbers(&b, 1);
    code(&b, "{[");
    i32(&b, 0);
    code(&b, "i");
    i32(&b, 1);
    code(&b, "00");
    pstats_stats *s = pstats_new(NULL);
    pstats_error err;
    ck_assert_int_ne(pstats_load_buffer(s, b.p, b.n, "t", -1, &err), 0);
    /* Python: TypeError (unhashable type: 'list'); we name the shape */
    ck_assert_msg(err.code == PSTATS_EFORMAT && strstr(err.msg, "found a list"), "%s", err.msg);
    pstats_free(s);
}
END_TEST

/* A 3.8-3.10 code object (6 ints): what varies is the file name, the first
 * line, the bytecode and a constant. */
static void code38(bytes *b, const char *file, int line, const char *bytecode, double k)
{
    code(b, "c");
    for (int i = 0; i < 5; i++)
        i32(b, i == 4 ? 1 : 0);
    i32(b, 0x40);
    code(b, "s");
    i32(b, (int32_t)strlen(bytecode));
    put(b, bytecode, strlen(bytecode));
    put(b, ")\x02", 2);
    code(b, "N");
    code(b, "g");
    put(b, &k, 8);
    for (int i = 0; i < 4; i++)
        put(b, ")\x00", 2);
    zstr(b, file);
    zstr(b, "<module>");
    i32(b, line);
    code(b, "s");
    i32(b, 0);
}

static void code_profile(bytes *b, const char *file, int line, const char *bytecode,
                         double k)
{
    memset(b, 0, sizeof *b);
    code(b, "{(");
    i32(b, 3);
    zstr(b, "profile");
    code(b, "i");
    i32(b, 0);
    code38(b, file, line, bytecode, k);
    numbers(b, 1);
    code(b, "{0");
    code(b, "0");
}

static size_t merged_keys(const bytes *x, const bytes *y)
{
    pstats_stats *a = load_bytes(x, 1), *b = load_bytes(y, 1);
    pstats_stats *others[1] = {b};
    ck_assert_int_eq(pstats_add(a, others, 1, NULL), 0);
    size_t n = pstats_nfuncs(a);
    pstats_free(a);
    pstats_free(b);
    return n;
}

START_TEST(code_keys_compare_as_python)
{
    bytes x, y;
    code_profile(&x, "m.py", 1, "d\x00S\x00", 1.5);
    code_profile(&y, "m.py", 1, "d\x00S\x00", 1.5);
    ck_assert_uint_eq(merged_keys(&x, &y), 1);
    code_profile(&y, "other/m.py", 1, "d\x00S\x00", 1.5); /* co_filename: not compared */
    ck_assert_uint_eq(merged_keys(&x, &y), 1);
    code_profile(&y, "m.py", 1, "d\x01S\x00", 1.5);       /* co_code */
    ck_assert_uint_eq(merged_keys(&x, &y), 2);
    code_profile(&y, "m.py", 2, "d\x00S\x00", 1.5);       /* co_firstlineno */
    ck_assert_uint_eq(merged_keys(&x, &y), 2);
    code_profile(&y, "m.py", 1, "d\x00S\x00", -1.5);      /* a constant */
    ck_assert_uint_eq(merged_keys(&x, &y), 2);
    double nan = 0.0 / 0.0; /* a NaN constant: only equal to itself */
    code_profile(&x, "m.py", 1, "d\x00S\x00", nan);
    code_profile(&y, "m.py", 1, "d\x00S\x00", nan);
    ck_assert_uint_eq(merged_keys(&x, &y), 2);
}
END_TEST

START_TEST(code_keys_written_back_stay_apart)
{
    bytes x, y;
    code_profile(&x, "m.py", 1, "d\x00S\x00", 1.5);
    code_profile(&y, "m.py", 1, "d\x01S\x00", 1.5); /* same name, file, line */
    pstats_stats *a = load_bytes(&x, 1), *b = load_bytes(&y, 1);
    pstats_stats *others[1] = {b};
    ck_assert_int_eq(pstats_add(a, others, 1, NULL), 0);
    ck_assert_uint_eq(pstats_nfuncs(a), 2);
    sink out = {0};
    ck_assert_int_eq(pstats_write_pstats(a, sink_write, &out, NULL), 0);
    pstats_stats *c = pstats_new(NULL);
    ck_assert_int_eq(pstats_load_buffer(c, out.p, out.len, "w", -1, NULL), 0);
    ck_assert_uint_eq(pstats_nfuncs(c), 2);
    char l0[256], l1[256];
    pstats_func_label(c, 0, l0, sizeof l0);
    pstats_func_label(c, 1, l1, sizeof l1);
    ck_assert_msg(strstr(l0, "<code object <module> at 0x") && strstr(l0, "\"m.py\", line 1>"),
                  "%s", l0);
    ck_assert_msg(strstr(l1, "<code object <module> at 0x"), "%s", l1);
    free(out.p);
    pstats_free(a);
    pstats_free(b);
    pstats_free(c);
}
END_TEST

Suite *pstats_agree_suite(void)
{
    Suite *s = suite_create("pstats_agree");
    TCase *t = tcase_create("agree");
    tcase_add_test(t, null_value_ends_or_drops_as_python);
    tcase_add_test(t, unhashable_key_refused);
    tcase_add_test(t, code_keys_compare_as_python);
    tcase_add_test(t, code_keys_written_back_stay_apart);
    suite_add_tcase(s, t);
    return s;
}
