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

/* Run the scenario failing the 1st, 2nd, ... allocation until it succeeds:
 * every failure must be a clean ENOMEM and leave nothing allocated
 * (pstats_robust_tests.c). */
typedef int (*scenario)(const pymarshal_allocator *a, pstats_error *err);
void oom_loop(scenario fn);
Suite *pstats_agree_suite(void);
Suite *pstats_input_suite(void);

#endif
