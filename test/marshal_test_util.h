/*
 * Helpers shared by the libpymarshal Check tests (test/marshal_*tests.c).
 */
#ifndef PSTATS_MARSHAL_TEST_UTIL_H
#define PSTATS_MARSHAL_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "pstats/marshal.h"

/* A growing byte buffer usable as a pymarshal_write_fn sink (ctx = buf*).
 * fail_after: when non-zero, the sink fails once that many bytes are in. */
typedef struct buf {
    unsigned char *p;
    size_t len, cap, fail_after;
} buf;
int buf_sink(void *ctx, const void *p, size_t n);

/* repr(v) as pymarshal_repr prints it, NUL-terminated; free() it. */
char *repr_of(const pymarshal_value *v);

/* A STR/BYTES value's bytes as a NUL-terminated copy; free() it. */
char *text_of(const pymarshal_value *v);

/* fixtures/profiles/NAME read whole, or NULL when absent. free() it. */
uint8_t *read_fixture(const char *name, size_t *len);

/* An allocator failing every call from the n-th on (0: the first). It
 * counts live blocks, so a test can assert nothing leaked. */
typedef struct failing_alloc {
    long left;
    long live;
    pymarshal_allocator hook;
} failing_alloc;
void failing_alloc_init(failing_alloc *f, long n);

/* The one out-of-memory loop: for n = 0, 1, 2, ... run op with an
 * allocator failing from its n-th call until op succeeds (returns 0).
 * Every failing run must return -1 with *err code PYMARSHAL_ENOMEM and
 * free all it took. Returns the number of failing runs. */
typedef int (*oom_op)(const pymarshal_allocator *alloc, void *ctx, pymarshal_error *err);
long oom_loop(oom_op op, void *ctx);

Suite *marshal_reader_suite(void);
Suite *marshal_tokens_suite(void);
Suite *marshal_writer_suite(void);

#endif
