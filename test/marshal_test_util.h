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

/* An operation of libpymarshal under the one out-of-memory loop
 * (test/oom.h): run with an allocator failing its 1st, 2nd, ... allocation
 * until it succeeds (returns 0); every failing run must return -1 with
 * *err code PYMARSHAL_ENOMEM and free all it took. Returns the number of
 * failing runs. */
typedef int (*marshal_oom_op)(const pymarshal_allocator *alloc, void *ctx, pymarshal_error *err);
long marshal_oom_loop(marshal_oom_op op, void *ctx);

Suite *marshal_reader_suite(void);
Suite *marshal_tokens_suite(void);
Suite *marshal_writer_suite(void);

#endif
