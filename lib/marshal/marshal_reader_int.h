/*
 * The token reader's private state, shared by the first steps of the
 * pipeline (marshal_internal.h): marshal_scalar.c (scalars, the sticky
 * error), marshal_code.c (code object layouts) and marshal_reader.c (the
 * object walk).
 */
#ifndef PSTATS_MARSHAL_READER_INT_H
#define PSTATS_MARSHAL_READER_INT_H

#include <string.h>

#include "marshal_internal.h"

/* A reference table entry packed in 64 bits: the offset of the object's
 * type byte (<< 12), whether it is a tuple of str or bytes only (0x800), of
 * str only (0x400), whether the
 * object is complete (0x200: a reference to
 * a container still being read makes Python's hash recurse forever),
 * whether Python could not hash it (0x100), whether the slot is filled
 * (0x80), a code layout (bits 5-6, layout - 1) and the kind (bits 0-4). */
#define PM_SLOT_FILLED 0x80u
#define PM_SLOT_UNHASHABLE 0x100u
#define PM_SLOT_CLOSED 0x200u
#define PM_SLOT_STRS 0x400u  /* a tuple of str only (code objects' name tuples) */
#define PM_SLOT_TEXTS 0x800u /* a tuple of str or bytes only (Python 2's) */
#define PM_SLOT(off, kind, filled, layout)                                          \
    ((uint64_t)(off) << 12 | ((filled) ? PM_SLOT_FILLED : 0u) |                    \
     ((unsigned)((layout) ? (layout) - 1 : 0) << 5) | (unsigned)(kind))
#define PM_SLOT_OFFSET(e) ((size_t)((e) >> 12))
#define PM_SLOT_KIND(e) ((pymarshal_kind)((e) & 0x1fu))
#define PM_SLOT_LAYOUT(e) ((pymarshal_code_layout)((((e) >> 5) & 3u) + 1))

/* Whose rules apply (pymarshal_options.python, or guessed under AUTO). */
enum { PM_CPY3 = 0, PM_CPY2, PM_PYPY };
/* What the data said about its writer so far (AUTO's guess). */
enum { PM_SEEN_PY2 = 1, PM_SEEN_FLAG_PYPY = 2, PM_SEEN_FLAG_CPY = 4, PM_SEEN_V3 = 8,
       PM_SEEN_S = 16, PM_SEEN_TOP_PLAIN = 32 };
/* An item Python cannot hash: its kind, or this for a reference to a
 * container still open (hashing it would recurse forever). */
#define PM_UNHASH_OPEN 0xffu

/* What a code object's checks need of a field just read (pm_item), and of
 * the code object being read (pm_codesum). */
typedef struct pm_item {
    size_t off;        /* offset of its type byte */
    size_t n;          /* tuple: items; bytes, str: length */
    uint8_t kind;      /* pymarshal_kind */
    uint8_t unhash;    /* what Python could not hash in it (0: nothing) */
    uint8_t strs;      /* a tuple of str only */
    uint8_t texts;     /* a tuple of str or bytes only */
    uint8_t py2str;    /* Python 2's str ('s' 't' 'R'), not unicode */
} pm_item;

typedef struct pm_codesum {
    size_t off;
    int32_t ints[7];   /* the raw int fields, in file order */
    pm_item obj[10];   /* the object fields, in file order */
    uint8_t nints, nobj, layout;
} pm_codesum;

typedef struct pm_slots {
    uint64_t *e;
    size_t n, cap;
} pm_slots;

typedef struct pm_offsets {
    size_t *e;
    size_t n, cap;
} pm_offsets;

/* An open container or code object. */
typedef struct pm_frame {
    size_t remaining;  /* items (or code fields) still to come; DICT: 1 */
    size_t offset;     /* offset of its type byte */
    uint8_t kind;      /* pymarshal_kind */
    uint8_t layout;    /* CODE: pymarshal_code_layout, 0 = 3.0-3.7 or 3.11+ */
    uint8_t field;     /* CODE: index of the next field */
    uint8_t want_value;/* DICT: the next object is a value */
    uint8_t unhash;    /* the kind of an unhashable part (0: hashable so far) */
    uint8_t key_unhash;/* DICT: the key just read cannot be hashed */
    uint8_t nonstr;    /* an item that is not a str was read */
    uint8_t nontext;   /* an item that is neither str nor bytes was read */
    int64_t slot;      /* the slot it took, else -1 */
} pm_frame;

enum { PM_MODE_MAIN = 0, PM_MODE_REPLAY = 1 };

struct pymarshal_reader {
    const uint8_t *data;
    size_t len, pos;
    pymarshal_allocator alloc_copy;
    const pymarshal_allocator *alloc; /* &alloc_copy or NULL */
    unsigned max_depth;
    pm_frame *stack;
    size_t sp, scap;
    size_t promised;  /* items still announced by open frames (>= 1 byte each) */
    size_t last_push; /* sp after the header just returned pushed a frame */
    pm_slots own_slots;
    pm_offsets own_interned;
    pm_slots *slots;        /* own_slots, or the main reader's */
    pm_offsets *interned;   /* Python 2 't' strings, for 'R' */
    int64_t vslot;          /* REPLAY: the slot the next flagged object had */
    uint8_t mode;
    uint8_t dry;            /* a look-ahead: code layouts decided lazily */
    uint8_t done, failed;
    uint8_t force_nints;    /* dry: raw int count of the depth-0 code object */
    uint8_t decided;        /* dry: layout of the depth-0 code object, once known */
    uint8_t impl;           /* pymarshal_impl */
    uint8_t seen;           /* PM_SEEN_*: evidence of the writer (AUTO) */
    uint16_t version;       /* CPYTHON: 100 * major + minor, 0 unknown */
    pymarshal_error err;
    pymarshal_reader *sub;  /* reused look-ahead reader */
    uint8_t *scratch;       /* PyPy's rewritten strings and longs: valid until
                               the next token */
    size_t cap_scratch;
    pm_codesum *codes;      /* code objects being read, innermost last */
    size_t ncodes, cap_codes;
};

/* PM_CPY3, PM_CPY2 or PM_PYPY: the rules in force at this point. */
static inline int pm_dialect(const pymarshal_reader *r)
{
    if (r->impl == PYMARSHAL_PY_PYPY)
        return PM_PYPY;
    if (r->impl == PYMARSHAL_PY_CPYTHON)
        return r->version && r->version < 300 ? PM_CPY2 : PM_CPY3;
    /* Python 2: its own codes, or 's'/'t' strings in a file that starts
     * without FLAG_REF and uses nothing of marshal 3+ (Python 3's profiles
     * start with a flagged dict) */
    if ((r->seen & PM_SEEN_PY2) ||
        ((r->seen & (PM_SEEN_S | PM_SEEN_TOP_PLAIN)) == (PM_SEEN_S | PM_SEEN_TOP_PLAIN) &&
         !(r->seen & PM_SEEN_V3)))
        return PM_CPY2;
    if ((r->seen & PM_SEEN_FLAG_PYPY) && !(r->seen & PM_SEEN_FLAG_CPY))
        return PM_PYPY;
    return PM_CPY3;
}

/* Record an error (the first one sticks) and return -1. */
int pm_fail(pymarshal_reader *r, pymarshal_errcode code, size_t offset,
            const char *fmt, ...) CM_PRINTF(4, 5);

/* ------------------------------------------ marshal_scalar.c (step 2) */

/* A token for the object whose type byte (without FLAG_REF) is `code` at
 * `off`, every other field cleared. */
/* Cleared in two memsets: gcc makes one memset of the whole token a string
 * instruction (23 instructions a token, a sixth of the reader's), two of at
 * most 64 bytes a few vector stores. The token stays fully zeroed, padding
 * included, as before. */
static inline void pm_tok_init(pymarshal_token *tok, size_t off, uint8_t code)
{
    enum { HALF = sizeof *tok > 64 ? 64 : sizeof *tok };
    memset(tok, 0, HALF);
    memset((char *)tok + HALF, 0, sizeof *tok - HALF);
    tok->offset = off;
    tok->code = code;
    tok->ref_slot = -1;
    tok->ref_target = -1;
}

/* Are `n` more bytes there after r->pos? 0, or -1 with ETRUNCATED. */
int pm_need_fail(pymarshal_reader *r, size_t n, size_t off, const char *what);
static inline int pm_need(pymarshal_reader *r, size_t n, size_t off, const char *what)
{
    return n <= r->len - r->pos ? 0 : pm_need_fail(r, n, off, what);
}
int pm_read_i32(pymarshal_reader *r, size_t off, const char *what, int32_t *out);
static inline double pm_bin_double(const uint8_t *p)
{
    uint64_t u = cm_le64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}
/* The payload of scalar type `code` at r->pos into tok: 1 when `code` is a
 * scalar, 0 when it is not, -1 on error. No slots are taken. */
int pm_read_scalar(pymarshal_reader *r, pymarshal_token *tok, uint8_t code);
/* A reference to a scalar of the common kinds decoded straight from the
 * bytes at `target` (checked when its slot was taken): 1 done, 0 not one
 * of those codes. */
int pm_ref_scalar_fast(const pymarshal_reader *r, pymarshal_token *tok, size_t target,
                       pymarshal_kind kind);
/* Read the scalar at `target` again into tok (its offset kept). 0 or -1. */
int pm_reread(pymarshal_reader *r, pymarshal_token *tok, size_t target);

/* --------------------------------------------- marshal_code.c (step 3) */

/* Scalars are re-read where a reference names them; containers are not. */
static inline int pm_is_scalar(pymarshal_kind k)
{
    return k <= PYMARSHAL_STR;
}

/* An 'r' token (PyPy gives a flagged one a slot of its own) and a Python 2
 * 'R' token, resolved (marshal_refs.c). 0, or -1 with the error set. */
int pm_read_ref(pymarshal_reader *r, pymarshal_token *tok, int flag);
int pm_read_interned_ref(pymarshal_reader *r, pymarshal_token *tok);

/* At a 'c' whose type byte is at `off`: which counts of raw ints before
 * the `code` bytes object are plausible (bit k of *mask for k ints, k in
 * 4, 5, 6); *trunc when the input ended before one could be told. Returns
 * how many are plausible. */
unsigned pm_code_candidates(const pymarshal_reader *r, size_t off, unsigned *mask, int *trunc);
/* The layout k raw ints stand for (5 stands for 3.0-3.7 and 3.11+ alike,
 * told apart at the 10th field). */
pymarshal_code_layout pm_code_layout_of(unsigned nints);
/* The code frame f (the depth-0 one of a dry reader, or any pending one)
 * learns its layout from the kind of its 10th field. 0, or -1 (error set). */
int pm_code_decide(pymarshal_reader *r, pm_frame *f, pymarshal_kind field_kind);
/* Would the Python whose rules apply build this code object? 0, or -1 with
 * the error its constructor raises (SystemError, ValueError). */
int pm_code_check(pymarshal_reader *r, const pm_codesum *cs);

#endif
