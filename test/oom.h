/*
 * Out-of-memory testing shared by every test program (expat's way): an
 * allocator that fails its n-th allocation, and the one loop that runs an
 * operation with n = 1, 2, 3, ... until it succeeds.
 */
#ifndef PSTATS_TEST_OOM_H
#define PSTATS_TEST_OOM_H

#include <stddef.h>

#include "pstats/marshal.h"
#include "pstats/pstats.h"

/* Counts (and fails) only while armed, so that an operation can set up
 * what it needs (load a model) with the same allocator first. Blocks carry
 * their size: a realloc that does not grow (which the libraries may do
 * best effort) is never made to fail, and `live` counts what is still
 * allocated. Called under the libraries' lock when they use two threads. */
typedef struct oom_alloc {
    size_t calls;     /* allocations counted while armed */
    size_t fail_at;   /* the one that fails (1-based); 0: none */
    size_t live;      /* blocks not freed */
    int armed;
    int verified;     /* set by an operation that compared its result with
                         a run without failures: a failure it absorbed (a
                         fallback that needs less memory) is then fine */
    pymarshal_allocator hook;
} oom_alloc;

void oom_alloc_init(oom_alloc *f, size_t fail_at, int armed);

/* What an operation under test did: OOM_DONE (succeeded), OOM_NOMEM
 * (failed with its library's out-of-memory code), or OOM_WRONG (failed
 * otherwise: `why` says how). */
typedef enum { OOM_DONE = 0, OOM_NOMEM, OOM_WRONG } oom_result;
typedef oom_result (*oom_op)(oom_alloc *f, void *ctx, char *why, size_t whysize);

/* For n = 1, 2, ...: runs op with its n-th armed allocation failing (n
 * stepping by `stride` >= 1, for operations of very many allocations),
 * until op succeeds without reaching it. Every run must free all it
 * allocated; every failing run must be OOM_NOMEM; a run that reached the
 * failing allocation must not succeed (a failure swallowed) unless it
 * verified its result. Returns the number of failing runs. */
size_t oom_loop(oom_op op, void *ctx, size_t stride);

/* The result of a libpstats call that returned rc with *err. */
oom_result oom_verdict(int rc, const pstats_error *err, char *why, size_t whysize);

#endif
