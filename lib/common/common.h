/*
 * lib/common: helpers every layer may use (libpymarshal in lib/marshal/,
 * the model in lib/pstats/, the callgrind writer in lib/callgrind/); this
 * folder includes nothing of theirs, only the public allocator type.
 *
 *   common_alloc.c  allocation through the caller's hook (NULL: the C
 *                   library), and the hook called under a lock
 *   common_par.c    work split over two threads: two halves of a range, and
 *                   chunks formatted by two threads and written in order
 *   common_text.c   UTF-8 as Python's "surrogatepass" decoder takes it
 *   common_num.c    the shortest round-trip digits of a double (repr)
 *   (here)          little-endian byte access, the printf attribute
 *
 * Compiled into both libraries; nothing here is exported.
 */
#ifndef PSTATS_COMMON_H
#define PSTATS_COMMON_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "pstats/marshal.h" /* pymarshal_allocator */

#if defined(__GNUC__) || defined(__clang__)
#define CM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CM_PRINTF(f, a)
/* ------------------------------------------------------------- numbers */

/* The shortest decimal digits that read back as v (Python's repr), for
 * the common case: v > 0 with a full significand, about 1e-11 <= v < 1e16.
 * Writes the digits (no trailing zeros, NUL-terminated; dig holds 24
 * bytes) and the exponent of the first one; returns their count, or 0
 * when v is outside that case (the caller then takes its exact path). */
int cm_shortest_digits(double v, char *dig, int *exp10);

#endif

/* ---------------------------------------------------------------- memory */

/* All allocation goes through the caller's hook (NULL: the C library). A
 * size of 0 asks for 1 byte. */
void *cm_malloc(const pymarshal_allocator *a, size_t n);
void *cm_realloc(const pymarshal_allocator *a, void *p, size_t n);
void cm_free(const pymarshal_allocator *a, void *p);

/* Grow *arr (elements of `elsize` bytes, capacity *cap) to hold at least
 * `need` elements, doubling. 0 ok; -1 on overflow or allocation failure
 * (*arr and *cap unchanged). */
int cm_reserve(const pymarshal_allocator *a, void **arr, size_t *cap, size_t need,
               size_t elsize);

/* A caller's allocator called under a lock, for work split over two
 * threads (the allocator need not be thread-safe). cm_locked_alloc_init:
 * 0, and l->view is the allocator the threads call; a NULL `a` is
 * malloc. */
typedef struct cm_locked_alloc {
    const pymarshal_allocator *a;
    pthread_mutex_t mu;
    pymarshal_allocator view;
} cm_locked_alloc;
int cm_locked_alloc_init(cm_locked_alloc *l, const pymarshal_allocator *a);
void cm_locked_alloc_destroy(cm_locked_alloc *l);

/* --------------------------------------------------------- two threads */

/* Work on items [from, to) of a range; `half` is 0 or 1; `a` is the
 * allocator to use meanwhile (locked when both halves run at once). 0 ok. */
typedef int (*cm_half_fn)(void *ctx, int half, size_t from, size_t to,
                          const pymarshal_allocator *a);
/* fn(ctx, 0, 0, mid, ..) and fn(ctx, 1, mid, n, ..): in two threads when
 * `threads` (and a thread can be started), else in turn. `a` may be NULL
 * (malloc, thread-safe: no lock). -1 when either half failed. */
int cm_halves(cm_half_fn fn, void *ctx, size_t n, size_t mid, int threads,
              const pymarshal_allocator *a);

/* Items 0..n-1 turned into bytes chunk by chunk, written in order. */
#define CM_SLOTS 4
typedef struct cm_ordered_job {
    size_t n;
    size_t chunk;   /* items per chunk, unless chunk_end says otherwise */
    /* The end of the chunk that starts at `from` (NULL: from + chunk). */
    size_t (*chunk_end)(void *ctx, size_t from, size_t n);
    /* NULL, or run by the writing thread for each chunk, in order, before
     * the chunk may be formatted (decisions that depend on the order). */
    void (*prepare)(void *ctx, size_t from, size_t to);
    /* Formats [from, to) into the buffer of slot `slot` (0..CM_SLOTS-1; a
     * slot's chunk has been written before the slot is used again), with
     * the scratch of `worker` (0: the calling thread, 1: the helper), and
     * says where the bytes are. 0 ok, non-zero: failed (out of memory). */
    int (*format)(void *ctx, int worker, size_t slot, size_t from, size_t to,
                  const void **data, size_t *len);
    void *ctx;
    pymarshal_write_fn write;   /* 0 ok */
    void *wctx;
} cm_ordered_job;
/* Runs the job with one helper thread when `threads` (format must then be
 * safe to call from two threads at once, for different slots and
 * workers), else in the calling thread alone. 0 ok, -1 format failed, -2
 * write failed; nothing after the failed chunk is written. */
int cm_ordered_run(const cm_ordered_job *job, int threads);

/* ----------------------------------------------------------- byte access */

static inline int32_t cm_i32(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    return (int32_t)u;
}

static inline uint16_t cm_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint64_t cm_le64(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--)
        u = u << 8 | p[i];
    return u;
}

/* ------------------------------------------------------------------ text */

/* 1 when s[0..n) is UTF-8 as Python's "surrogatepass" decoder takes it
 * (lone surrogates allowed, no overlong forms, nothing above U+10FFFF);
 * else 0 with *bad = offset of the first bad sequence. */
int cm_utf8_valid(const uint8_t *s, size_t n, size_t *bad);
/* 1 when every byte of s[0..n) is below 0x80. */
int cm_ascii(const uint8_t *s, size_t n);

/* ------------------------------------------------------------- numbers */

/* The shortest decimal digits that read back as v (Python's repr), for
 * the common case: v > 0 with a full significand, about 1e-11 <= v < 1e16.
 * Writes the digits (no trailing zeros, NUL-terminated; dig holds 24
 * bytes) and the exponent of the first one; returns their count, or 0
 * when v is outside that case (the caller then takes its exact path). */
int cm_shortest_digits(double v, char *dig, int *exp10);

#endif
