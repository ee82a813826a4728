/*
 * The token reader and the value tree: slot numbering, references, skip,
 * replay, depth/offset bookkeeping, sharing in the tree, and out-of-memory
 * at every allocation (through the one out-of-memory loop, test/oom.h).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "marshal_test_util.h"
#include "pstats/marshal.h"

/* [ (5,)#1, frozenset({'x'#4})#3, r2, r1 ]#0, with #n = FLAG_REF slot n. */
static const char SLOTS[] = "\xdb\x04\0\0\0"
                            "\xa9\x01"
                            "\xe9\x05\0\0\0"
                            "\xbe\x01\0\0\0"
                            "\xda\x01x"
                            "r\x02\0\0\0"
                            "r\x01\0\0\0";
#define SLOTS_LEN (sizeof SLOTS - 1)

static pymarshal_reader *reader(const void *data, size_t len)
{
    pymarshal_error err;
    pymarshal_reader *r = pymarshal_reader_new(data, len, NULL, &err);
    ck_assert_ptr_nonnull(r);
    return r;
}

static void next_is(pymarshal_reader *r, pymarshal_token *t, pymarshal_kind kind, size_t off,
                    int64_t slot)
{
    ck_assert_int_eq(pymarshal_reader_next(r, t), 1);
    ck_assert_int_eq(t->kind, kind);
    ck_assert_uint_eq(t->offset, off);
    ck_assert_int_eq(t->ref_slot, slot);
}

START_TEST(test_slots_preorder)
{
    pymarshal_reader *r = reader(SLOTS, SLOTS_LEN);
    pymarshal_token t;
    ck_assert_uint_eq(pymarshal_reader_depth(r), 0);
    next_is(r, &t, PYMARSHAL_LIST, 0, 0);
    ck_assert_uint_eq(t.count, 4);
    ck_assert_uint_eq(pymarshal_reader_depth(r), 1);
    next_is(r, &t, PYMARSHAL_TUPLE, 5, 1);
    ck_assert_uint_eq(t.count, 1);
    next_is(r, &t, PYMARSHAL_INT, 7, 2);
    ck_assert_int_eq(t.i, 5);
    ck_assert_uint_eq(pymarshal_reader_depth(r), 1);
    next_is(r, &t, PYMARSHAL_FROZENSET, 12, 3);
    next_is(r, &t, PYMARSHAL_STR, 17, 4);
    ck_assert_uint_eq(t.len, 1);
    ck_assert_int_eq(t.text, PYMARSHAL_LATIN1);
    /* 'r' to a scalar: the scalar itself, via_ref. */
    next_is(r, &t, PYMARSHAL_INT, 20, -1);
    ck_assert(t.via_ref);
    ck_assert_int_eq(t.ref_target, 2);
    ck_assert_int_eq(t.i, 5);
    /* 'r' to a container: a REF token naming it. */
    next_is(r, &t, PYMARSHAL_REF, 25, -1);
    ck_assert_int_eq(t.ref_target, 1);
    ck_assert_uint_eq(t.target_offset, 5);
    ck_assert_int_eq(t.target_kind, PYMARSHAL_TUPLE);
    ck_assert_uint_eq(t.count, 1);
    ck_assert_int_eq(pymarshal_reader_next(r, &t), 0);
    ck_assert_int_eq(pymarshal_reader_next(r, &t), 0);
    ck_assert_uint_eq(pymarshal_reader_offset(r), SLOTS_LEN);
    pymarshal_reader_free(r);
}
END_TEST

START_TEST(test_skip_takes_slots)
{
    pymarshal_reader *r = reader(SLOTS, SLOTS_LEN);
    pymarshal_token t;
    next_is(r, &t, PYMARSHAL_LIST, 0, 0);
    next_is(r, &t, PYMARSHAL_TUPLE, 5, 1);
    ck_assert_int_eq(pymarshal_reader_skip(r), 0);
    next_is(r, &t, PYMARSHAL_FROZENSET, 12, 3); /* the skipped int took slot 2 */
    ck_assert_int_eq(pymarshal_reader_skip(r), 0);
    next_is(r, &t, PYMARSHAL_INT, 20, -1);
    ck_assert_int_eq(pymarshal_reader_skip(r), 0); /* no-op after a scalar */
    next_is(r, &t, PYMARSHAL_REF, 25, -1);
    ck_assert_int_eq(pymarshal_reader_next(r, &t), 0);
    pymarshal_reader_free(r);

    /* Skipping still validates. */
    static const char bad[] = "[\x02\0\0\0(\x01\0\0\0?N";
    r = reader(bad, sizeof bad - 1);
    next_is(r, &t, PYMARSHAL_LIST, 0, -1);
    next_is(r, &t, PYMARSHAL_TUPLE, 5, -1);
    ck_assert_int_eq(pymarshal_reader_skip(r), -1);
    ck_assert_int_eq(pymarshal_reader_error(r)->code, PYMARSHAL_ETYPE);
    ck_assert_uint_eq(pymarshal_reader_error(r)->offset, 10);
    ck_assert_int_eq(pymarshal_reader_next(r, &t), -1);
    pymarshal_reader_free(r);
}
END_TEST

START_TEST(test_replay)
{
    pymarshal_reader *r = reader(SLOTS, SLOTS_LEN);
    pymarshal_token t;
    pymarshal_error err;
    next_is(r, &t, PYMARSHAL_LIST, 0, 0);
    next_is(r, &t, PYMARSHAL_TUPLE, 5, 1);
    next_is(r, &t, PYMARSHAL_INT, 7, 2);
    next_is(r, &t, PYMARSHAL_FROZENSET, 12, 3);
    /* The frozenset is open: its slot is reserved, not filled. */
    ck_assert_ptr_null(pymarshal_reader_replay(r, 3, &err));
    ck_assert_int_eq(err.code, PYMARSHAL_EREF);
    ck_assert_ptr_null(pymarshal_reader_replay(r, 99, &err));
    ck_assert_int_eq(err.code, PYMARSHAL_EREF);
    while (pymarshal_reader_next(r, &t) == 1 && t.kind != PYMARSHAL_REF)
        ;
    ck_assert_int_eq(t.kind, PYMARSHAL_REF);
    pymarshal_reader *sub = pymarshal_reader_replay(r, t.ref_target, &err);
    ck_assert_ptr_nonnull(sub);
    pymarshal_token u;
    next_is(sub, &u, PYMARSHAL_TUPLE, 5, 1);
    next_is(sub, &u, PYMARSHAL_INT, 7, 2);
    ck_assert_int_eq(pymarshal_reader_next(sub, &u), 0);
    pymarshal_reader_free(sub);
    /* A replay takes no slots: the parent goes on as before. */
    ck_assert_int_eq(pymarshal_reader_next(r, &t), 0);
    sub = pymarshal_reader_replay(r, 3, &err);
    ck_assert_ptr_nonnull(sub);
    next_is(sub, &u, PYMARSHAL_FROZENSET, 12, 3);
    next_is(sub, &u, PYMARSHAL_STR, 17, 4);
    ck_assert_int_eq(pymarshal_reader_next(sub, &u), 0);
    pymarshal_reader_free(sub);
    pymarshal_reader_free(r);
}
END_TEST

START_TEST(test_python2_string_refs)
{
    static const char d[] = "(\x03\0\0\0t\x02\0\0\0abt\x01\0\0\0\xffR\x00\0\0\0";
    pymarshal_reader *r = reader(d, sizeof d - 1);
    pymarshal_token t;
    next_is(r, &t, PYMARSHAL_TUPLE, 0, -1);
    next_is(r, &t, PYMARSHAL_STR, 5, -1);
    ck_assert(t.interned);
    next_is(r, &t, PYMARSHAL_BYTES, 12, -1); /* not UTF-8: a Python 2 str */
    next_is(r, &t, PYMARSHAL_STR, 18, -1);
    ck_assert_int_eq(t.via_ref, 'R');
    ck_assert_int_eq(t.ref_target, 0);
    ck_assert_uint_eq(t.len, 2);
    ck_assert_int_eq(memcmp(t.data, "ab", 2), 0);
    ck_assert_int_eq(pymarshal_reader_next(r, &t), 0);
    pymarshal_reader_free(r);
}
END_TEST

START_TEST(test_code_tokens)
{
    size_t len;
    uint8_t *data = read_fixture("fib-cpython3.10-profile.prof", &len);
    if (!data)
        return;
    pymarshal_reader *r = reader(data, len);
    pymarshal_token t;
    int codes = 0;
    while (pymarshal_reader_next(r, &t) == 1) {
        if (t.kind != PYMARSHAL_CODE)
            continue;
        codes++;
        ck_assert_int_eq(t.code_layout, PYMARSHAL_CODE_PY38);
        ck_assert_uint_eq(t.count, 16);
        for (int k = 0; k < 6; k++) {
            ck_assert_int_eq(pymarshal_reader_next(r, &t), 1);
            ck_assert_int_eq(t.kind, PYMARSHAL_INT);
            ck_assert(t.raw_field);
        }
        ck_assert_int_eq(pymarshal_reader_next(r, &t), 1);
        ck_assert(t.kind == PYMARSHAL_BYTES || t.kind == PYMARSHAL_REF);
    }
    ck_assert_int_gt(codes, 0);
    ck_assert_int_eq(pymarshal_reader_error(r)->code, PYMARSHAL_OK);
    pymarshal_reader_free(r);
    free(data);
}
END_TEST

START_TEST(test_tree_sharing)
{
    pymarshal_error err;
    /* (t, t) with t = (None,) shared: one node. */
    pymarshal_doc *doc = pymarshal_load(")\x02\xa9\x01Nr\0\0\0\0", 10, NULL, &err);
    ck_assert_ptr_nonnull(doc);
    const pymarshal_value *root = pymarshal_doc_root(doc);
    ck_assert_ptr_eq(pymarshal_value_item(root, 0), pymarshal_value_item(root, 1));
    ck_assert_uint_eq(pymarshal_value_offset(pymarshal_value_item(root, 0)), 2);
    pymarshal_doc_free(doc);
    /* l = [l]: a cycle. */
    doc = pymarshal_load("\xdb\x01\0\0\0r\0\0\0\0", 10, NULL, &err);
    ck_assert_ptr_nonnull(doc);
    root = pymarshal_doc_root(doc);
    ck_assert_ptr_eq(pymarshal_value_item(root, 0), root);
    ck_assert_int_eq(pymarshal_value_equal(root, root, NULL), 1);
    pymarshal_doc_free(doc);
    /* d = {'a': d, 5: [1, 2]}: keys, values, strings into the input. */
    static const char d[] = "\xfbz\x01"
                            "ar\0\0\0\0i\x05\0\0\0[\x02\0\0\0i\x01\0\0\0i\x02\0\0\0"
                            "0";
    doc = pymarshal_load(d, sizeof d - 1, NULL, &err);
    ck_assert_ptr_nonnull(doc);
    root = pymarshal_doc_root(doc);
    ck_assert_uint_eq(pymarshal_value_len(root), 2);
    size_t len;
    pymarshal_text text;
    ck_assert_ptr_eq(pymarshal_value_bytes(pymarshal_value_key(root, 0), &len, &text),
                     (const uint8_t *)d + 3);
    ck_assert_uint_eq(len, 1);
    ck_assert_int_eq(text, PYMARSHAL_LATIN1);
    ck_assert_ptr_eq(pymarshal_value_val(root, 0), root);
    ck_assert_int_eq(pymarshal_value_int(pymarshal_value_key(root, 1)), 5);
    ck_assert_int_eq(pymarshal_value_int(pymarshal_value_item(pymarshal_value_val(root, 1), 1)),
                     2);
    ck_assert_ptr_null(pymarshal_value_item(root, 0)); /* dicts have pairs, not items */
    ck_assert_ptr_null(pymarshal_value_key(root, 2));
    ck_assert_uint_eq(pymarshal_doc_end(doc), sizeof d - 1);
    pymarshal_doc_free(doc);
}
END_TEST

START_TEST(test_big_int_digits)
{
    pymarshal_error err;
    /* -(1 + 2*2**15 + 3*2**30 + 4*2**45 + 5*2**60 + 6*2**75), beyond int64 */
    static const char d[] = "l\xfa\xff\xff\xff\x01\0\x02\0\x03\0\x04\0\x05\0\x06\0";
    pymarshal_doc *doc = pymarshal_load(d, sizeof d - 1, NULL, &err);
    ck_assert_ptr_nonnull(doc);
    size_t n;
    int neg;
    const uint16_t *dig = pymarshal_value_bigint(pymarshal_doc_root(doc), &n, &neg);
    ck_assert_int_eq(pymarshal_value_kind(pymarshal_doc_root(doc)), PYMARSHAL_BIGINT);
    ck_assert_uint_eq(n, 6);
    ck_assert(neg);
    for (size_t k = 0; k < n; k++)
        ck_assert_int_eq(dig[k], (int)k + 1);
    pymarshal_doc_free(doc);
}
END_TEST

/* ------------------------------------------------------- out of memory */

typedef struct blob {
    const uint8_t *p;
    size_t len;
} blob;

static int op_load(const pymarshal_allocator *a, void *ctx, pymarshal_error *err)
{
    blob *b = ctx;
    pymarshal_options opts = {a, 0, PYMARSHAL_PY_AUTO, 0};
    pymarshal_doc *doc = pymarshal_load(b->p, b->len, &opts, err);
    if (!doc)
        return -1;
    pymarshal_doc_free(doc);
    return 0;
}

static int op_tokens(const pymarshal_allocator *a, void *ctx, pymarshal_error *err)
{
    blob *b = ctx;
    pymarshal_options opts = {a, 0, PYMARSHAL_PY_AUTO, 0};
    pymarshal_reader *r = pymarshal_reader_new(b->p, b->len, &opts, err);
    if (!r)
        return -1;
    pymarshal_token t;
    int rc;
    while ((rc = pymarshal_reader_next(r, &t)) == 1) {
        if (t.kind != PYMARSHAL_REF)
            continue;
        pymarshal_reader *sub = pymarshal_reader_replay(r, t.ref_target, err);
        if (!sub) {
            rc = -1;
            break;
        }
        pymarshal_token u;
        while ((rc = pymarshal_reader_next(sub, &u)) == 1)
            ;
        if (rc < 0)
            *err = *pymarshal_reader_error(sub);
        pymarshal_reader_free(sub);
        if (rc < 0)
            break;
    }
    if (rc < 0 && pymarshal_reader_error(r)->code)
        *err = *pymarshal_reader_error(r);
    pymarshal_reader_free(r);
    return rc < 0 ? -1 : 0;
}

START_TEST(test_out_of_memory)
{
    static const char *files[] = {"fib-cpython3.10-profile.prof", "fib-cpython2.7-profile.prof",
                                  "fib-cpython3.13-cprofile.prof"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        size_t len;
        uint8_t *data = read_fixture(files[i], &len);
        if (!data)
            continue;
        blob b = {data, len};
        ck_assert_int_gt(marshal_oom_loop(op_load, &b), 1);
        ck_assert_int_gt(marshal_oom_loop(op_tokens, &b), 0);
        free(data);
    }
    blob slots = {(const uint8_t *)SLOTS, SLOTS_LEN};
    ck_assert_int_gt(marshal_oom_loop(op_tokens, &slots), 1);
    ck_assert_int_gt(marshal_oom_loop(op_load, &slots), 1);
}
END_TEST

Suite *marshal_tokens_suite(void)
{
    Suite *s = suite_create("marshal tokens");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, test_slots_preorder);
    tcase_add_test(tc, test_skip_takes_slots);
    tcase_add_test(tc, test_replay);
    tcase_add_test(tc, test_python2_string_refs);
    tcase_add_test(tc, test_code_tokens);
    suite_add_tcase(s, tc);
    tc = tcase_create("tree");
    tcase_add_test(tc, test_tree_sharing);
    tcase_add_test(tc, test_big_int_digits);
    suite_add_tcase(s, tc);
    tc = tcase_create("oom");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_out_of_memory);
    suite_add_tcase(s, tc);
    return s;
}
