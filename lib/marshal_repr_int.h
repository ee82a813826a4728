/*
 * Private declarations shared by marshal_repr.c and marshal_repr_num.c.
 */
#ifndef PSTATS_MARSHAL_REPR_INT_H
#define PSTATS_MARSHAL_REPR_INT_H

#include <stddef.h>
#include <stdint.h>

#include "pstats/marshal.h"

/* Python's PyOS_double_to_string(v, 'r', 0, flags) into buf (>= 32 bytes),
 * NUL-terminated; returns the length. `dot0` adds ".0" to integral
 * fixed-point output (float repr), `sign` writes '+' for non-negative values
 * and nans (a complex's imaginary part). */
size_t pm_format_double(double v, char *buf, int dot0, int sign);

/* The magnitude of an int of 15-bit digits d[0..nd) (nd > 0) in base 10^9,
 * least significant limb first, without leading zero limbs (at least one).
 * Allocated with `al` (the caller frees it); NULL when out of memory. */
uint32_t *pm_bigint_base1e9(const uint16_t *d, size_t nd, const pymarshal_allocator *al,
                            size_t *nlimbs);

#endif
