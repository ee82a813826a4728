/* Helpers of the fuzz targets that check output: a growing output buffer
 * (a pstats_write_fn sink) and a hash of the input that picks options. */
#ifndef PSTATS_FUZZ_UTIL_H
#define PSTATS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"

typedef struct fuzz_buf {
    unsigned char *p;
    size_t len, cap;
} fuzz_buf;

static inline int fuzz_buf_write(void *ctx, const void *p, size_t n)
{
    fuzz_buf *b = ctx;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        FUZZ_ASSERT(q != NULL);
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

static inline int fuzz_buf_same(const fuzz_buf *a, const fuzz_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* FNV-1a of the input: options follow the bytes, so that a corpus entry
 * replays with the options it was found with. */
static inline uint32_t fuzz_hash(const uint8_t *data, size_t size)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    return h;
}

#endif
