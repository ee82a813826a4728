/*
 * The writer and the encoder: the bytes CPython writes (version 2, from
 * test/marshal_cases.inc), the short forms of version 4, FLAG_REF only on
 * shared objects, errors, and out-of-memory through the one loop of test/oom.h.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "marshal_test_util.h"
#include "pstats/marshal.h"

typedef struct dumps_case {
    const char *python;
    const char *data;
    size_t len;
} dumps_case;

static const dumps_case dumps_cases[] = {
#define MARSHAL_DUMPS_CASES
#include "marshal_cases.inc"
#undef MARSHAL_DUMPS_CASES
};

static buf encode(const void *data, size_t len, int version, pymarshal_errcode expect)
{
    pymarshal_error err;
    pymarshal_doc *doc = pymarshal_load(data, len, NULL, &err);
    ck_assert_msg(doc != NULL, "%s", err.msg);
    buf b = {0};
    int rc = pymarshal_encode(pymarshal_doc_root(doc), version, NULL, buf_sink, &b, &err);
    ck_assert_msg(expect ? rc == -1 && err.code == expect : rc == 0, "rc %d: %s", rc, err.msg);
    pymarshal_doc_free(doc);
    return b;
}

static void assert_bytes(const buf *b, const char *want, size_t len)
{
    ck_assert_msg(b->len == len && !memcmp(b->p, want, len), "%zu bytes, want %zu", b->len,
                  len);
}

/* Decoding what CPython wrote in version 2 and encoding it in version 2
 * gives CPython's bytes back. */
START_TEST(test_python_dumps_identical)
{
    const dumps_case *c = &dumps_cases[_i];
    buf b = encode(c->data, c->len, 2, PYMARSHAL_OK);
    ck_assert_msg(b.len == c->len && !memcmp(b.p, c->data, c->len),
                  "Python %s case %d: our bytes differ", c->python, _i);
    free(b.p);
}
END_TEST

START_TEST(test_short_forms)
{
    /* 'a' (Latin-1 text) -> 'z' when ASCII, 'u' UTF-8 otherwise. */
    buf b = encode("a\x03\0\0\0abc", 8, 4, PYMARSHAL_OK);
    assert_bytes(&b, "z\x03" "abc", 5);
    free(b.p);
    b = encode("a\x01\0\0\0\xe9", 6, 4, PYMARSHAL_OK);
    assert_bytes(&b, "u\x02\0\0\0\xc3\xa9", 7);
    free(b.p);
    b = encode("A\x01\0\0\0x", 6, 3, PYMARSHAL_OK);
    assert_bytes(&b, "t\x01\0\0\0x", 6);
    free(b.p);
    /* Tuples: ')' below 256 items in version 4 only. */
    b = encode("(\x02\0\0\0NN", 7, 4, PYMARSHAL_OK);
    assert_bytes(&b, ")\x02NN", 4);
    free(b.p);
    b = encode(")\x02NN", 4, 3, PYMARSHAL_OK);
    assert_bytes(&b, "(\x02\0\0\0NN", 7);
    free(b.p);
    /* A long that fits stays 'l' (a Python 2 long keeps its type). */
    b = encode("l\x01\0\0\0\x05\0", 7, 4, PYMARSHAL_OK);
    assert_bytes(&b, "l\x01\0\0\0\x05\0", 7);
    free(b.p);
    /* Text floats become binary. */
    b = encode("f\x03"
               "1.5",
               5, 2, PYMARSHAL_OK);
    assert_bytes(&b, "g\0\0\0\0\0\0\xf8\x3f", 9);
    free(b.p);
}
END_TEST

START_TEST(test_refs_only_when_shared)
{
    /* Python flags objects by refcount; we flag what the tree shares. */
    buf b = encode("\xa9\x02\xa9\x01\xe9\x07\0\0\0r\x01\0\0\0", 14, 4, PYMARSHAL_OK);
    assert_bytes(&b, ")\x02\xa9\x01i\x07\0\0\0r\0\0\0\0", 14);
    free(b.p);
    b = encode(")\x02\xa9\x01Nr\0\0\0\0", 10, 4, PYMARSHAL_OK);
    assert_bytes(&b, ")\x02\xa9\x01Nr\0\0\0\0", 10);
    free(b.p);
    b = encode(")\x02\xa9\x01Nr\0\0\0\0", 10, 2, PYMARSHAL_OK);
    assert_bytes(&b, "(\x02\0\0\0(\x01\0\0\0N(\x01\0\0\0N", 17);
    free(b.p);
    /* Cycles: fine with references, an error without. */
    b = encode("\xdb\x01\0\0\0r\0\0\0\0", 10, 4, PYMARSHAL_OK);
    assert_bytes(&b, "\xdb\x01\0\0\0r\0\0\0\0", 10);
    free(b.p);
    b = encode("\xdb\x01\0\0\0r\0\0\0\0", 10, 2, PYMARSHAL_EVALUE);
    free(b.p);
}
END_TEST

/* Re-encoding a real profile: every slot we give is referenced. */
START_TEST(test_profile_slots_all_used)
{
    static const char *files[] = {"fib-cpython3.10-profile.prof",
                                  "mix-cpython3.12-cprofile.prof", "fib-pypy3.9-profile.prof"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        size_t len;
        uint8_t *data = read_fixture(files[i], &len);
        if (!data)
            continue;
        buf b = encode(data, len, 4, PYMARSHAL_OK);
        pymarshal_error err;
        pymarshal_reader *r = pymarshal_reader_new(b.p, b.len, NULL, &err);
        ck_assert_ptr_nonnull(r);
        char *used = calloc(b.len + 1, 1);
        int64_t nslots = 0;
        pymarshal_token t;
        while (pymarshal_reader_next(r, &t) == 1) {
            if (t.ref_slot >= 0)
                nslots = t.ref_slot + 1;
            if (t.ref_target >= 0 && (t.kind == PYMARSHAL_REF || t.via_ref == 'r'))
                used[t.ref_target] = 1;
        }
        ck_assert_int_eq(pymarshal_reader_error(r)->code, PYMARSHAL_OK);
        for (int64_t s = 0; s < nslots; s++)
            ck_assert_msg(used[s], "%s: slot %lld never referenced", files[i], (long long)s);
        free(used);
        pymarshal_reader_free(r);
        free(b.p);
        free(data);
    }
}
END_TEST

START_TEST(test_writer_errors)
{
    pymarshal_error err;
    buf b = {0};
    ck_assert_ptr_null(pymarshal_writer_new(5, NULL, buf_sink, &b, &err));
    ck_assert_int_eq(err.code, PYMARSHAL_EVALUE);
    ck_assert_ptr_null(pymarshal_writer_new(4, NULL, NULL, &b, &err));
    ck_assert_ptr_null(pymarshal_writer_new(1, NULL, buf_sink, &b, &err));
    /* Version 0 is the default, 4: short forms. */
    pymarshal_writer *w0 = pymarshal_writer_new(0, NULL, buf_sink, &b, &err);
    ck_assert_ptr_nonnull(w0);
    pymarshal_write_str(w0, "ab", 2, 0);
    ck_assert_int_eq(pymarshal_writer_finish(w0, &err), 0);
    ck_assert_uint_eq(b.len, 4);
    ck_assert_int_eq(b.p[0], 'z');
    b.len = 0;

    pymarshal_writer *w = pymarshal_writer_new(2, NULL, buf_sink, &b, &err);
    ck_assert_int_eq(pymarshal_write_int(w, 1, PYMARSHAL_W_REF), -1);
    ck_assert_int_eq(pymarshal_writer_finish(w, &err), -1);
    ck_assert_int_eq(err.code, PYMARSHAL_EVALUE);

    w = pymarshal_writer_new(4, NULL, buf_sink, &b, &err);
    ck_assert_int_eq(pymarshal_write_int(w, 1, PYMARSHAL_W_REF), 0);
    pymarshal_write_ref(w, 1);
    ck_assert_int_eq(pymarshal_writer_finish(w, &err), -1);
    ck_assert_int_eq(err.code, PYMARSHAL_EREF);

    static const uint16_t unnormalized[] = {1, 0}, wide[] = {0x8000};
    w = pymarshal_writer_new(4, NULL, buf_sink, &b, &err);
    pymarshal_write_bigint(w, unnormalized, 2, 0, 0);
    ck_assert_int_eq(pymarshal_writer_finish(w, &err), -1);
    ck_assert_int_eq(err.code, PYMARSHAL_EVALUE);
    w = pymarshal_writer_new(4, NULL, buf_sink, &b, &err);
    pymarshal_write_bigint(w, wide, 1, 0, 0);
    ck_assert_int_eq(pymarshal_writer_finish(w, &err), -1);

    w = pymarshal_writer_new(4, NULL, buf_sink, &b, &err);
    pymarshal_write_str(w, "\xff", 1, 0);
    ck_assert_int_eq(pymarshal_writer_finish(w, &err), -1);
    ck_assert_int_eq(err.code, PYMARSHAL_EUTF8);

    /* A failing sink: EIO, sticky, reported at finish. */
    buf small = {0};
    small.fail_after = 10;
    w = pymarshal_writer_new(4, NULL, buf_sink, &small, &err);
    for (int i = 0; i < 100000; i++)
        pymarshal_write_int(w, i, 0);
    ck_assert_int_eq(pymarshal_writer_finish(w, &err), -1);
    ck_assert_int_eq(err.code, PYMARSHAL_EIO);
    free(small.p);
    free(b.p);
}
END_TEST

START_TEST(test_writer_api)
{
    pymarshal_error err;
    buf b = {0};
    pymarshal_writer *w = pymarshal_writer_new(4, NULL, buf_sink, &b, &err);
    ck_assert_int_eq(pymarshal_write_dict(w, PYMARSHAL_W_REF), 0);
    pymarshal_write_str(w, "k", 1, PYMARSHAL_W_INTERNED);
    ck_assert_int_eq(pymarshal_write_seq(w, PYMARSHAL_LIST, 3, PYMARSHAL_W_REF), 1);
    pymarshal_write_int(w, -(INT64_C(1) << 40), 0);
    pymarshal_write_float(w, 0.5, 0);
    pymarshal_write_ref(w, 0);
    pymarshal_write_simple(w, PYMARSHAL_NONE);
    pymarshal_write_code(w, PYMARSHAL_CODE_PY27, 0);
    for (int i = 0; i < 4; i++)
        pymarshal_write_raw_i32(w, i);
    pymarshal_write_bytes(w, "\x64\0\0S", 4, 0);
    for (int i = 0; i < 5; i++) /* consts names varnames freevars cellvars */
        pymarshal_write_seq(w, PYMARSHAL_TUPLE, 0, 0);
    pymarshal_write_bytes(w, "f.py", 4, 0); /* Python 2 str: filename, name */
    pymarshal_write_bytes(w, "f", 1, 0);
    pymarshal_write_raw_i32(w, 9);
    pymarshal_write_bytes(w, "", 0, 0);
    pymarshal_write_dict_end(w);
    ck_assert_int_eq(pymarshal_writer_finish(w, &err), 0);
    pymarshal_doc *doc = pymarshal_load(b.p, b.len, NULL, &err);
    ck_assert_msg(doc != NULL, "%s", err.msg);
    const pymarshal_value *d = pymarshal_doc_root(doc);
    ck_assert_uint_eq(pymarshal_value_len(d), 2);
    const pymarshal_value *l = pymarshal_value_val(d, 0);
    ck_assert_int_eq(pymarshal_value_int(pymarshal_value_item(l, 0)), -(INT64_C(1) << 40));
    ck_assert_ptr_eq(pymarshal_value_item(l, 2), d);
    pymarshal_code_info ci;
    ck_assert_int_eq(pymarshal_value_code(pymarshal_value_val(d, 1), &ci), 0);
    ck_assert_int_eq(ci.layout, PYMARSHAL_CODE_PY27);
    ck_assert_int_eq(ci.flags, 3);
    ck_assert_int_eq(ci.firstlineno, 9);
    pymarshal_doc_free(doc);
    free(b.p);
}
END_TEST

typedef struct enc_ctx {
    const pymarshal_value *v;
    int version;
} enc_ctx;

static int op_encode(const pymarshal_allocator *a, void *ctx, pymarshal_error *err)
{
    enc_ctx *e = ctx;
    buf b = {0};
    int rc = pymarshal_encode(e->v, e->version, a, buf_sink, &b, err);
    free(b.p);
    return rc;
}

START_TEST(test_encode_out_of_memory)
{
    size_t len;
    uint8_t *data = read_fixture("fib-cpython3.10-profile.prof", &len);
    if (!data)
        return;
    pymarshal_error err;
    pymarshal_doc *doc = pymarshal_load(data, len, NULL, &err);
    ck_assert_ptr_nonnull(doc);
    enc_ctx e = {pymarshal_doc_root(doc), 4};
    ck_assert_int_gt(marshal_oom_loop(op_encode, &e), 1);
    e.version = 2;
    ck_assert_int_gt(marshal_oom_loop(op_encode, &e), 0);
    pymarshal_doc_free(doc);
    free(data);
}
END_TEST

Suite *marshal_writer_suite(void)
{
    Suite *s = suite_create("marshal writer");
    TCase *tc = tcase_create("encode");
    tcase_add_loop_test(tc, test_python_dumps_identical, 0,
                        (int)(sizeof dumps_cases / sizeof *dumps_cases));
    tcase_add_test(tc, test_short_forms);
    tcase_add_test(tc, test_refs_only_when_shared);
    tcase_add_test(tc, test_profile_slots_all_used);
    tcase_add_test(tc, test_writer_errors);
    tcase_add_test(tc, test_writer_api);
    tcase_add_test(tc, test_encode_out_of_memory);
    suite_add_tcase(s, tc);
    return s;
}
