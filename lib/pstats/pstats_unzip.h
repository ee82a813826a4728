/*
 * Decompressing an input (pstats_unzip.c): gzip, zstd, xz and bzip2, one
 * stream at a time, memory from the model's allocator. Used by
 * pstats_input.c only.
 */
#ifndef PSTATS_UNZIP_H
#define PSTATS_UNZIP_H

#include <stddef.h>
#include <stdint.h>

#include "pstats_internal.h"

enum { PS_Z_NONE = 0, PS_Z_GZIP, PS_Z_ZSTD, PS_Z_XZ, PS_Z_BZIP2 };
/* The format whose magic bytes start p[0..n), or PS_Z_NONE (n >= 6 tells
 * every format). */
int ps_unzip_kind(const uint8_t *p, size_t n);
/* "gzip", "zstd", "xz", "bzip2" ("" for PS_Z_NONE). */
const char *ps_unzip_name(int kind);

/* The decompressed size to expect, for sizing tables: gzip's ISIZE (the
 * last 4 bytes, tail4, NULL when unknown) or zstd's frame content size
 * (in the first bytes) when they are there, else 3x the compressed size
 * (pstats files compress 2.3x to 3.7x). */
size_t ps_unzip_size_hint(int kind, const uint8_t *head, size_t nhead, const uint8_t *tail4,
                          uint64_t csize);

typedef struct ps_unzip ps_unzip;
/* A decoder of `kind`, allocating through s's allocator as it is when it
 * allocates (the locked view while the loader's pipe runs). NULL: out of
 * memory. */
ps_unzip *ps_unzip_new(pstats_stats *s, int kind);
/* Ready for the next stream of the same format. 0, or -1 out of memory. */
int ps_unzip_reset(ps_unzip *z);
void ps_unzip_free(ps_unzip *z);

/* One step: from in[0..in_len) into out[0..out_cap); `last`: no input
 * will follow in[]. */
typedef struct ps_zio {
    const uint8_t *in;
    size_t in_len, consumed;
    uint8_t *out;
    size_t out_cap, produced;
    int last;
} ps_zio;
enum { PS_Z_MORE = 0, PS_Z_END = 1, PS_Z_ERR = -1, PS_Z_NOMEM = -2 };
/* PS_Z_MORE (give it more input or room), PS_Z_END (the stream ended after
 * `consumed` bytes; ps_unzip_reset starts the next), PS_Z_ERR (broken
 * data: msg says what), PS_Z_NOMEM. */
int ps_unzip_run(ps_unzip *z, ps_zio *io, char *msg, size_t msgsize);

#endif
