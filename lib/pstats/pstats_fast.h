/*
 * The loader's fast path (pstats_load_fast.c): what its parser and its
 * builder share. The parser reads the bytes into events (pstats_load_fast.c:
 * numbers, keys, entries; pstats_fast_str.c: strings and references;
 * pstats_fast_code.c: code objects); the builder (pstats_fast_build.c) turns
 * the events into the model.
 */
#ifndef PSTATS_FAST_H
#define PSTATS_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "pstats_input.h"
#include "pstats_internal.h"

enum { FAST_DONE = 0, FAST_GIVE_UP = 1, FAST_NOMEM = -1 };

/* Reference table words: a 3-bit tag over a 29-bit value. */
#define TAG_SHIFT 29
#define VAL_MASK ((1u << TAG_SHIFT) - 1)
enum { T_NONE = 0, T_STR = 1, T_KEY = 2, T_NUM = 3,
       T_CODE = 4,  /* a key's code object: its code occurrence */
       T_SEQ = 5,   /* a tuple, frozenset or nested code object read inside a
                       code object: its entry in fast.seqs */
       T_BYTES = 6  /* bytes read inside a code object: fast.bytes */ };

/* What the parser knows of a string occurrence. */
enum { OF_INTERNED = 1, OF_JPROFILE = 2, OF_PROFILER = 4 };
typedef struct socc {
    const uint8_t *copy; /* not interned yet: its length (4 bytes), bytes */
    uint32_t hash;    /* ps_str_hash of its bytes */
    uint32_t flags;   /* OF_* */
} socc;

enum { EV_STR, EV_KEY, EV_ENTRY, EV_EDGE, EV_TOP, EV_CODE };
typedef struct fev {
    uint8_t op, kinds, ekind, top;
    uint32_t a;       /* STR: string occurrence; CODE: code occurrence; the
                         others: key occurrence */
    uint32_t b, c;    /* STR: length; KEY: file and name string occurrences
                         (a code key, kinds PSTATS_KEY_CODE: c is the name's
                         code occurrence); CODE: file and name occurrences */
    uint32_t h;       /* STR, KEY: hash (a code key: its file's hash) */
    uint64_t u;       /* STR: the address of the bytes; KEY: the line (int64);
                         CODE: the firstlineno */
    uint64_t v[4];    /* ENTRY, EDGE: numbers; CODE: v[1] digest, v[2] layout */
} fev;

#define BATCH 2048
#define PIPE_MIN_BYTES ((size_t)4 << 20) /* smaller files: no thread */

/* A block of string bytes copied aside (their addresses never change:
 * the builder reads them from its thread). */
typedef struct side_blk {
    struct side_blk *next;
    size_t used, cap;
    /* bytes follow */
} side_blk;

typedef struct fast {
    pstats_stats *s;
    ps_input *in;
    const uint8_t *base, *p, *end;  /* in->data, the parser, in->data + in->avail */
    int skip_edges, py2_keys;
    size_t flushed;                 /* where the parser was when the builder last had
                                       everything (inline builder) */
    side_blk *side;
    /* parser */
    uint32_t *refs; size_t nrefs, cap_refs;              /* FLAG_REF objects */
    uint32_t *interned; size_t ninterned, cap_interned;  /* Python 2's 't' list */
    pnum *nums; size_t nnums, cap_nums;                  /* numbers named by refs */
    socc *occ; size_t nocc, cap_occ;                     /* string occurrences */
    uint8_t *ktop; size_t nkocc, cap_ktop;               /* key occurrences */
    fev *ev; size_t nev;                                 /* the batch being filled */
    ps_pipe *pipe;                                       /* the builder's thread */
    /* builder */
    uint32_t *str_of; size_t cap_str_of;                 /* string occurrence -> id */
    uint32_t *key_of; size_t cap_key_of;                 /* key occurrence -> id */
    uint32_t *order; size_t norder, cap_order;           /* the dict's keys, in order */
    uint32_t *last; size_t cap_last;                     /* key -> its latest edge */
    uint32_t callee, start;                              /* the entry being built */
    /* code objects (pstats_fast_code.c) */
    int seen_cpy;               /* a FLAG_REF'd key tuple read: CPython 3.4+ wrote it */
    ps_digest dig;              /* what Python compares of a code object */
    struct fseq { uint32_t n; uint8_t kind, strs, texts; } *seqs;
    size_t nseqs, cap_seqs;
    struct fbytes { const uint8_t *copy; } *bytes;       /* side copies: len, bytes */
    size_t nbytes, cap_bytes;
    size_t ncocc;                                        /* code occurrences */
    uint32_t *code_of; size_t cap_code_of;               /* builder: code occurrence -> id */
    uint8_t *look; size_t nlook, cap_look;               /* slots a look-ahead numbered */
} fast;

/* A string object as read: where its bytes are and what code wrote it. */
typedef struct sview {
    const uint8_t *p;
    size_t len;
    uint8_t code;
} sview;

static inline uint32_t word(unsigned tag, uint32_t v) { return (uint32_t)tag << TAG_SHIFT | v; }
static inline unsigned tag_of(uint32_t w) { return w >> TAG_SHIFT; }

/* ------------------------------------------------- pstats_fast_build.c */

/* Build a batch of events into the model, in order (a ps_pipe_fn). */
int ps_fast_build_batch(void *ctx, const void *batch, size_t n);
/* Hand the full batch to the builder: to the pipe's thread, or inline. */
int ps_fast_flush(fast *F);
/* A fresh event of kind op at the end of the batch (handed over first if
 * full). */
int ps_fast_emit(fast *F, uint8_t op, fev **out);

/* --------------------------------------------------- pstats_fast_str.c */

/* Are n bytes there at F->p? Read more of the input if it has them. */
int ps_fast_more(fast *F, size_t n);
static inline int left(fast *F, size_t n)
{
    return (size_t)(F->end - F->p) >= n || ps_fast_more(F, n);
}
/* A new FLAG_REF slot holding w; its index in *at. */
int ps_fast_add_ref(fast *F, uint32_t w, size_t *at);
/* A FLAG_REF'd number: kept in F->nums, with a new slot naming it. */
int ps_fast_add_num_ref(fast *F, pnum n);
/* The slot an 'r' at F->p names, consumed; NULL when there is none. */
uint32_t *ps_fast_ref_at(fast *F);
/* A string item: its occurrence in *occ (see the definition). */
int ps_fast_read_str(fast *F, int intern, uint32_t *occ, uint32_t *flags);
/* The string object at F->p (not a reference), checked; F->p stays. */
int ps_fast_view_at(fast *F, sview *v);
/* len (4 bytes), then the bytes, copied aside; NULL out of memory. */
const uint8_t *ps_fast_side_copy(fast *F, const uint8_t *p, size_t len);
/* A new string occurrence for v (not interned: with a copy of its bytes). */
int ps_fast_new_occ(fast *F, const sview *v, int intern, uint32_t *occ);
/* Have the builder intern occurrence occ here, in the general loader's order. */
int ps_fast_intern_occ(fast *F, uint32_t occ, const sview *v);
/* The same for an occurrence met again through a reference (once). */
int ps_fast_need_str(fast *F, uint32_t occ);
/* A string object just read: its FLAG_REF slot, its place in 't''s list. */
int ps_fast_note_str(fast *F, uint8_t first, uint32_t w);

/* -------------------------------------------------- pstats_fast_code.c */

/* A code object at F->p as a key's name (a CPython 3.0+ file): read,
 * checked as libpymarshal's reader checks it, digested as the general
 * loader digests it; its code occurrence in *cocc, its file and name
 * interned in that order, then an EV_CODE. FAST_GIVE_UP at anything the
 * general loader may see otherwise. */
int ps_fast_read_code(fast *F, uint32_t *cocc);

#endif
