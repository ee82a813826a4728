/*
 * Internals of the callgrind writer (pstats_callgrind*.c): growable byte
 * buffers, an interning string table, and the naming pass that gives every
 * function one unique, readable callgrind name across all parts.
 */
#ifndef PSTATS_CALLGRIND_INT_H
#define PSTATS_CALLGRIND_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pstats/pstats.h"

/* Allocation through the caller's hook (NULL: malloc): libpymarshal's
 * pm_malloc/pm_realloc/pm_free/pm_reserve, shared by both libraries. */
#include "marshal_internal.h"

typedef struct cg_bytes {
    char *p;
    size_t len, cap;
} cg_bytes;

int pstats_cg_bytes_put_grow(const pymarshal_allocator *a, cg_bytes *b, const void *s,
                             size_t n);
/* Appends n bytes; -1 on overflow or out of memory. */
static inline int pstats_cg_bytes_put(const pymarshal_allocator *a, cg_bytes *b, const void *s,
                                      size_t n)
{
    if (n <= b->cap - b->len) {
        if (n)
            memcpy(b->p + b->len, s, n);
        b->len += n;
        return 0;
    }
    return pstats_cg_bytes_put_grow(a, b, s, n);
}
/* Appends s as a callgrind name: LF, CR and NUL written as \n \r \0, bytes
 * that are not valid UTF-8 read as Latin-1, so the result is valid UTF-8. */
int pstats_cg_bytes_put_name(const pymarshal_allocator *a, cg_bytes *b, const char *s, size_t n);
/* Appends the decimal text of v. */
int pstats_cg_bytes_put_i64(const pymarshal_allocator *a, cg_bytes *b, int64_t v);

/* A set of byte strings, each with a uint32 value; strings are copied. */
typedef struct cg_strtab_item {
    size_t off, len;
    uint64_t hash;
    uint32_t value;
} cg_strtab_item;

typedef struct cg_strtab {
    cg_bytes text;
    cg_strtab_item *items;
    size_t n, cap;
    uint32_t *slots;          /* item index + 1; 0 = empty */
    size_t nslots;            /* a power of two */
} cg_strtab;

/* The index of s in t, inserting it (value 0) when absent; *added tells
 * which. Returns -1 when out of memory. */
int64_t pstats_cg_strtab_intern(const pymarshal_allocator *a, cg_strtab *t,
                         const char *s, size_t n, int *added);
const char *pstats_cg_strtab_str(const cg_strtab *t, size_t i, size_t *len);
void pstats_cg_strtab_free(const pymarshal_allocator *a, cg_strtab *t);

/* Every distinct function of all parts (by pstats key), with its file id
 * and its unique callgrind name. Global ids 0..nfuncs-1; `pseudo` (=
 * nfuncs) is the pseudo-function that stands for callee time the profile
 * recorded in cumtime but in no call. Function g's name is label g + 1 in
 * "fn=(N)" terms, the pseudo's label 0; pstats_cg_label() writes it. */
typedef struct cg_where {
    uint32_t part, id;
} cg_where;

#define CG_FULL 0x80000000u   /* tag: the whole path, not the basename */

typedef struct cg_names {
    cg_strtab files;          /* callgrind file names */
    uint32_t *func_file;      /* global id -> file id (nfuncs + 1 entries) */
    uint32_t *tag;            /* global id -> CG_FULL | "'k" suffix (0: none) */
    cg_where *first;          /* global id -> where it was met first (NULL: one part) */
    uint32_t **local;         /* per part: local id -> global id (NULL: one part) */
    const pstats_stats *const *parts;
    size_t nparts, nfuncs;
    uint32_t pseudo;
} cg_names;

static inline uint32_t pstats_cg_global(const cg_names *nm, size_t part, uint32_t id)
{
    return nm->local ? nm->local[part][id] : id;
}

#define CG_PSEUDO_NAME "[callee time not recorded in calls]"

int pstats_cg_names_build(cg_names *nm, const pstats_stats *const *parts, size_t nparts,
                   const pymarshal_allocator *a, pstats_error *err);
void pstats_cg_names_free(cg_names *nm, const pymarshal_allocator *a);
/* Function g's callgrind name (or the pseudo's) into b, replacing its
 * contents; -1 when out of memory. */
int pstats_cg_label(const cg_names *nm, uint32_t g, cg_bytes *b, const pymarshal_allocator *a);

/* Planned call costs of one part (pstats_callgrind_costs.c): every edge
 * in rows by caller (callees in id order). */
typedef struct cg_edge {
    uint64_t cost;            /* units */
    uint32_t callee;
    uint32_t count;           /* calls; 0 when pstats says <= 0; CG_COUNT_BIG:
                               * 2^32 - 1 or more, see pstats_cg_edge_count */
} cg_edge;

#define CG_COUNT_BIG UINT32_MAX

typedef struct cg_plan {
    uint32_t *off;            /* row of caller f: e[off[f] .. off[f+1]) */
    cg_edge *e;
    size_t n, nkeys;
} cg_plan;

/* Seconds to whole units, rounded to nearest; negative and NaN give 0. */
uint64_t pstats_cg_units(double seconds, double scale);
/* Step 1 (incoming calls share each callee's cumtime) for a whole part. */
int pstats_cg_plan_build(cg_plan *pl, const pstats_stats *s, double scale,
                         const pymarshal_allocator *a);
/* Step 2 for f's row (call once per f; fn: f as pstats_func_get gives it):
 * caps the outgoing costs; returns the cost for the pseudo-function and f's
 * self cost in *self. */
uint64_t pstats_cg_plan_row(cg_plan *pl, const pstats_stats *s, uint32_t f,
                            const pstats_func *fn, double scale, uint64_t *self);
void pstats_cg_plan_free(cg_plan *pl, const pymarshal_allocator *a);
/* The calls of e in caller's row (the model's count when it is big). */
uint64_t pstats_cg_edge_count(const pstats_stats *s, uint32_t caller, const cg_edge *e);

#endif
