/*
 * Internals of the callgrind writer (callgrind_*.c; what lives where and
 * who may call whom: the comment at the top of callgrind_writer.c): growable
 * byte buffers, an interning string table, and the naming pass that gives
 * every function one unique, readable callgrind name across all parts
 * (_names.c); the call-cost plan (_costs.c); function blocks that can be
 * formatted in any order, by two threads (_fmt.c, with lib/common's
 * cm_ordered_run; the other passes split their range with cm_halves).
 */
#ifndef PSTATS_CALLGRIND_INT_H
#define PSTATS_CALLGRIND_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pstats/pstats.h"

/* Allocation through the caller's hook (NULL: malloc): lib/common's
 * cm_malloc/cm_realloc/cm_free/cm_reserve. */
#include "common.h"

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
    uint32_t *func_file;      /* global id -> file id (nfuncs + 2 entries) */
    uint32_t *tag;            /* global id -> CG_FULL | "'k" suffix (0: none) */
    cg_where *first;          /* global id -> where it was met first (NULL: one part) */
    uint32_t **local;         /* per part: local id -> global id (NULL: one part) */
    const pstats_stats *const *parts;
    size_t nparts, nfuncs;
    uint32_t pseudo, root;
    int forced;               /* a part asks for two threads whatever its
                               * size (ps_threads_forced) */
} cg_names;

static inline uint32_t pstats_cg_global(const cg_names *nm, size_t part, uint32_t id)
{
    return nm->local ? nm->local[part][id] : id;
}

#define CG_PSEUDO_NAME "[callee time not recorded in calls]"
/* `root` (= nfuncs + 1, label root + 1): the pseudo-caller of the cycles
 * nobody else calls (callgrind_costs.c, plan_roots) */
#define CG_ROOT_NAME "[spontaneous calls]"

int pstats_cg_names_build(cg_names *nm, const pstats_stats *const *parts, size_t nparts,
                   const pymarshal_allocator *a, pstats_error *err);
void pstats_cg_names_free(cg_names *nm, const pymarshal_allocator *a);
/* Function g's callgrind name (or the pseudo's) into b, replacing its
 * contents; -1 when out of memory. */
int pstats_cg_label(const cg_names *nm, uint32_t g, cg_bytes *b, const pymarshal_allocator *a);

/* Planned call costs of one part (callgrind_costs.c): every edge
 * in rows by caller (callees in id order). */
typedef struct cg_edge {
    uint64_t cost;            /* units */
    uint32_t callee;
    uint32_t count;           /* calls; 0 when pstats says <= 0; CG_COUNT_BIG:
                               * 2^32 - 1 or more, see pstats_cg_edge_count */
} cg_edge;

#define CG_COUNT_BIG UINT32_MAX

typedef struct cg_gap {          /* a call of the pseudo-function */
    uint64_t cost;
    uint32_t f;
    uint8_t marks;                /* (the blocks') CG_M_FL | CG_M_FN of its
                                   * references */
} cg_gap;

#define CG_NO_BUDGET UINT64_MAX

/* Components of the call graph (lib/pstats' ps_components, over the
 * callers lists): a function's component id, tagged CG_ALONE when it is
 * the only member (recursion through itself alone is no cycle here). */
#define CG_ALONE 0x80000000u

typedef struct cg_plan {
    uint32_t *off;            /* row of caller f: e[off[f] .. off[f+1]) */
    cg_edge *e;
    size_t n, nkeys;
    const pstats_stats *s;    /* the part planned (budgets: pstats_cg_budget) */
    double scale;
    /* The steps' own arrays (comp .. empty) are freed once no step needs
     * them (pstats_cg_plan_build): formatting reads off, e, gaps, roots
     * and inexact alone. */
    uint32_t *comp;           /* per function: its component */
    uint8_t *est;             /* per function: some call of it records only a
                               * count (profile module): its costs are
                               * estimates; 2: left short by the fit */
    cg_gap *gaps;             /* pseudo-calls, by function */
    size_t ngaps, cap_gaps;
    uint64_t *spont;          /* per function in a cycle: the cumtime no
                               * recorded call covers */
    uint64_t *top;            /* per function: what callers with no time at
                               * all (empty) were to give it */
    uint8_t *empty;           /* per function: no time at all, no caller */
    cg_gap *roots;            /* calls from the pseudo-caller [spontaneous
                               * calls] (step 3): f is the callee */
    size_t nroots;
    uint32_t *inexact;        /* functions outside cycles that cannot show
                               * their cumtime: a caller recorded more time
                               * in its calls than it had (ascending ids) */
    size_t ninexact;
} cg_plan;

/* Fits the estimated calls out of cycles (callgrind_fit.c): columns
 * outside cycles get their cumtime, rows stay within their budget, where
 * the data allow. Needs comp and est. -1 when out of memory. */
int pstats_cg_fit(cg_plan *pl, const pymarshal_allocator *a);


/* Plans every call cost of a part (the steps: callgrind_costs.c), with
 * the pseudo-calls and the functions that cannot be exact. -1 when out of
 * memory. */
int pstats_cg_plan_build(cg_plan *pl, const pstats_stats *s, double scale,
                         const pymarshal_allocator *a);
void pstats_cg_plan_free(cg_plan *pl, const pymarshal_allocator *a);
/* The calls of e in caller's row (the model's count when it is big). */
uint64_t pstats_cg_edge_count(const pstats_stats *s, uint32_t caller, const cg_edge *e);

/* ------------------------------------------------------------ blocks */

/* The decimal digits of v at p (at most 20 bytes); returns their end. */
static inline char *pstats_cg_put_u64(char *p, uint64_t v)
{
    static const char pairs[] = "0001020304050607080910111213141516171819"
                                "2021222324252627282930313233343536373839"
                                "4041424344454647484950515253545556575859"
                                "6061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    static const uint64_t pow10[20] = {
        UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000),
        UINT64_C(100000), UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000),
        UINT64_C(1000000000), UINT64_C(10000000000), UINT64_C(100000000000),
        UINT64_C(1000000000000), UINT64_C(10000000000000), UINT64_C(100000000000000),
        UINT64_C(1000000000000000), UINT64_C(10000000000000000),
        UINT64_C(100000000000000000), UINT64_C(1000000000000000000),
        UINT64_C(10000000000000000000)};
    if (v < 10) {
        *p = (char)('0' + v);
        return p + 1;
    }
    /* digits: log10 from the bit length (x 1233 / 4096), then one compare */
    size_t bits = 64 - (size_t)__builtin_clzll(v);
    size_t n = (bits * 1233) >> 12;
    n += v >= pow10[n];
    char *end = p + n, *q = end;
    while (v >= 100) {
        size_t r = (size_t)(v % 100) * 2;
        v /= 100;
        q -= 2;
        q[0] = pairs[r];
        q[1] = pairs[r + 1];
    }
    if (v >= 10) {
        q -= 2;
        q[0] = pairs[v * 2];
        q[1] = pairs[v * 2 + 1];
    } else {
        *--q = (char)('0' + v);
    }
    return end;
}

/* A part made ready to be formatted in pieces, in any order and in more
 * than one thread (callgrind_fmt.c). Name compression makes a
 * block's text depend on the blocks before it ("fn=(7) name" the first
 * time, "fn=(7)" after), so a serial pass over the planned rows decides
 * beforehand which references carry the name: CG_M_FL / CG_M_FN per
 * function (its "fl=" and "fn=" lines) and, a byte per planned edge, for
 * the callee's "cfl=" and "cfn=" lines. That pass runs in function order
 * just ahead of the formatting (pstats_cg_part_mark). */
#define CG_M_FL 1u
#define CG_M_FN 2u
#define CG_M_GAP 4u               /* (functions) it calls the pseudo-function */

typedef struct cg_part {
    const pstats_stats *s;
    const cg_names *nm;
    size_t p;                     /* the part's index */
    double scale;
    int call_events;
    cg_plan pl;
    uint8_t *fmarks;              /* per function: CG_M_* */
    uint8_t *emarks;              /* per planned edge (a byte each, so that
                                   * marking and formatting neighbouring
                                   * ranges never write the same byte) */
    /* the marking pass's own state (one thread) */
    uint8_t *fn_defined, *fl_defined; /* label and file ids named already */
    size_t next_gap;
    int pseudo_used;
} cg_part;

/* Plans the part's costs, or takes over `planned` (the part's plan built
 * already, then emptied; NULL: none); fn_defined and fl_defined (label and
 * file ids named already, cleared by the caller) are kept for the marking
 * pass. -1 when out of memory. */
int pstats_cg_part_prepare(cg_part *cp, const pstats_stats *s, size_t p, const cg_names *nm,
                           double scale, int call_events, cg_plan *planned,
                           uint8_t *fn_defined, uint8_t *fl_defined,
                           const pymarshal_allocator *a);
/* Decides the marks of functions from..to-1; called for consecutive
 * ranges from 0, in one thread, each before the range is formatted. */
void pstats_cg_part_mark(cg_part *cp, uint32_t from, uint32_t to);
/* Appends the blocks of functions from..to-1 to out; label is scratch.
 * -1 when out of memory. Reads cp only: safe in several threads. */
int pstats_cg_part_format(const cg_part *cp, uint32_t from, uint32_t to, cg_bytes *out,
                          cg_bytes *label, const pymarshal_allocator *a);
/* The pseudo-function's own block, after the part's blocks, when it was
 * called. */
int pstats_cg_part_tail(cg_part *cp, cg_bytes *out, cg_bytes *label,
                        const pymarshal_allocator *a);
void pstats_cg_part_free(cg_part *cp, const pymarshal_allocator *a);

/* Marks and formats all of cp's blocks, in order, and writes them
 * through write: lib/common's cm_ordered_run, in chunks of a few hundred
 * KB, with a second thread when the part is big enough. 0, -1 when out of
 * memory, -2 when write failed. */
int pstats_cg_part_run(cg_part *cp, const pymarshal_allocator *a, pstats_write_fn write,
                       void *ctx);

#endif
