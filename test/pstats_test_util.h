/*
 * Helpers shared by the libpstats Check tests (defined in pstats_tests.c).
 */
#ifndef PSTATS_TEST_UTIL_H
#define PSTATS_TEST_UTIL_H

#include <check.h>
#include <stddef.h>

#include "pstats/pstats.h"

#define PROF(name) PSTATS_FIXTURES "/profiles/" name
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A growing in-memory output sink (a pstats_write_fn context). */
typedef struct sink { char *p; size_t len, cap; } sink;
int sink_write(void *ctx, const void *buf, size_t len);
/* A malloc'd copy of a file's bytes, or NULL. */
void *read_file(const char *path, size_t *len);
Suite *pstats_robust_suite(void);
Suite *pstats_outputs_suite(void);
Suite *pstats_oom_suite(void);

/* A libpstats operation under the one out-of-memory loop (test/oom.h, in
 * pstats_oom_tests.c): run with its 1st, 2nd, ... allocation failing until
 * it succeeds; every failure must be a clean PSTATS_ENOMEM and leave
 * nothing allocated. */
typedef int (*pstats_oom_scenario)(const pymarshal_allocator *a, pstats_error *err);
void pstats_oom_check(pstats_oom_scenario fn);
Suite *pstats_agree_suite(void);
Suite *pstats_input_suite(void);
Suite *pstats_writer_suite(void);

#endif
