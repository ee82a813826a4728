/*
 * The value tree's node, shared by Python's == on nodes (marshal_pyeq.c),
 * the tree builder and accessors (marshal_tree.c, marshal_value.c), the
 * repr of numbers and the encoder (marshal_repr_num.c, marshal_encode.c).
 */
#ifndef PSTATS_MARSHAL_TREE_INT_H
#define PSTATS_MARSHAL_TREE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "pstats/marshal.h"

struct pymarshal_value {
    uint8_t kind;     /* pymarshal_kind */
    uint8_t text;     /* STR: pymarshal_text */
    uint8_t interned; /* 't' 'A' 'Z' 'R' */
    uint8_t layout;   /* CODE: pymarshal_code_layout; INT: 1 when read from
                         'l' (a Python 2 long keeps its type on output) */
    uint32_t id;      /* dense, 0..nodes-1 within its doc */
    size_t offset;    /* type byte in the input */
    union {
        int64_t i;                 /* INT, TRUE */
        double f[2];               /* FLOAT, COMPLEX */
        struct {
            const uint8_t *p;      /* into the input */
            size_t len;
        } s;                       /* BYTES, STR */
        struct {
            const uint16_t *d;     /* copied, 15-bit digits */
            size_t n;
            int neg;
        } big;                     /* BIGINT */
        struct {
            const pymarshal_value **items; /* DICT/FROZENDICT: k0 v0 k1 v1 ... */
            size_t n;              /* items; DICT/FROZENDICT: pairs */
        } seq;                     /* containers and CODE (its fields) */
    } u;
};

/* marshal_pyeq.c: Python's hash() of a bool, int or float (-1 for anything
 * else, a NaN included), and == between two numbers of any of these kinds. */
int pm_num_hash(const pymarshal_value *v, uint64_t *h);
int pm_num_equal(const pymarshal_value *a, const pymarshal_value *b);
/* Drop the items Python's dict or set would not keep: of equal keys
 * (Python's ==) the first stays, with the last value when `pairs` (items
 * are k0 v0 k1 v1 ...; *n counts pairs, else items). 0, or -1 when the
 * allocator failed. */
int pm_dedupe(const pymarshal_value **items, size_t *n, int pairs,
              const pymarshal_allocator *al);

#endif
