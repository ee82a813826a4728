/*
 * Private declarations shared by the libpymarshal sources (lib/marshal/*.c).
 * Not installed; nothing outside lib/ includes it.
 */
#ifndef PSTATS_MARSHAL_INTERNAL_H
#define PSTATS_MARSHAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pstats/marshal.h"

#if defined(__GNUC__) || defined(__clang__)
#define PM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PM_PRINTF(f, a)
#endif

#define PM_FLAG_REF 0x80u

/* ---------------------------------------------------------------- memory */

/* All allocation goes through the caller's hook (NULL: the C library). */
void *pm_malloc(const pymarshal_allocator *a, size_t n);
void *pm_realloc(const pymarshal_allocator *a, void *p, size_t n);
void pm_free(const pymarshal_allocator *a, void *p);

/* Grow *arr (elements of `elsize` bytes, capacity *cap) to hold at least
 * `need` elements, doubling. 0 ok; -1 on overflow or allocation failure
 * (*arr and *cap unchanged). */
int pm_reserve(const pymarshal_allocator *a, void **arr, size_t *cap, size_t need,
               size_t elsize);

/* ---------------------------------------------------------------- errors */

/* Fill *e (if non-NULL) with code, offset and the formatted message, to
 * which " at offset N" is appended. */
void pm_set_error(pymarshal_error *e, pymarshal_errcode code, size_t offset,
                  const char *fmt, ...) PM_PRINTF(4, 5);

/* ----------------------------------------------------------- byte access */

static inline int32_t pm_i32(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    return (int32_t)u;
}

static inline uint16_t pm_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint64_t pm_le64(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--)
        u = u << 8 | p[i];
    return u;
}

/* ------------------------------------------------------------ code layout */

/* The fields of a code layout in file order: 'i' a raw 32-bit int, 'o' an
 * object. NULL for an unknown layout. One table for reader, tree, writer. */
const char *pm_code_fields(pymarshal_code_layout layout);

/* ------------------------------------------------------------------ text */

/* 1 when s[0..n) is UTF-8 as Python's "surrogatepass" decoder takes it
 * (lone surrogates allowed, no overlong forms, nothing above U+10FFFF);
 * else 0 with *bad = offset of the first bad sequence. */
int pm_utf8_valid(const uint8_t *s, size_t n, size_t *bad);

/* Parse the text of a 'f'/'x' float as PyOS_string_to_double does (sign,
 * digits, '.', exponent, inf/infinity/nan in any case; nothing else, no
 * blanks). 0 ok, -1 when it is not a float. */
int pm_parse_float_text(const uint8_t *s, size_t n, double *out);

#endif
