/*
 * Structural equality of two value trees, for the round-trip tests and the
 * fuzz targets. Shared by test/marshal_*tests.c and test/fuzz/.
 */
#ifndef PSTATS_TEST_VALUE_EQUAL_H
#define PSTATS_TEST_VALUE_EQUAL_H

#include "pstats/marshal.h"

/* 1 when a and b hold the same Python value: same kinds, ints, float bits,
 * code points of str (whatever their encoding in the input), bytes, items
 * in order, code layouts and fields. Interning is ignored.
 * `same_sharing`: also require the same sharing (each node of a pairs with
 * one node of b), as a version 3/4 round trip keeps it; cycles then
 * compare fine. Without it, a node met twice is compared twice (inputs must
 * be acyclic). Returns -1 when out of memory. No recursion. */
int value_equal(const pymarshal_value *a, const pymarshal_value *b, int same_sharing);

#endif
