/*
 * The token reader's private state, shared by marshal_reader.c (the object
 * walk) and marshal_code.c (code object layouts).
 */
#ifndef PSTATS_MARSHAL_READER_INT_H
#define PSTATS_MARSHAL_READER_INT_H

#include "marshal_internal.h"

/* A reference table entry packed in 64 bits: the offset of the object's
 * type byte (<< 8), whether the slot is filled (0x80), a code layout
 * (bits 5-6, layout - 1) and the kind (bits 0-4). */
#define PM_SLOT_FILLED 0x80u
#define PM_SLOT(off, kind, filled, layout)                                          \
    ((uint64_t)(off) << 8 | ((filled) ? PM_SLOT_FILLED : 0u) |                     \
     ((unsigned)((layout) ? (layout) - 1 : 0) << 5) | (unsigned)(kind))
#define PM_SLOT_OFFSET(e) ((size_t)((e) >> 8))
#define PM_SLOT_KIND(e) ((pymarshal_kind)((e) & 0x1fu))
#define PM_SLOT_LAYOUT(e) ((pymarshal_code_layout)((((e) >> 5) & 3u) + 1))

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
    int64_t fill_slot; /* reserved slot to fill when complete, else -1 */
    uint8_t kind;      /* pymarshal_kind */
    uint8_t layout;    /* CODE: pymarshal_code_layout, 0 = 3.0-3.7 or 3.11+ */
    uint8_t field;     /* CODE: index of the next field */
    uint8_t want_value;/* DICT: the next object is a value */
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
    pymarshal_error err;
    pymarshal_reader *sub;  /* reused look-ahead reader */
};

/* Record an error (the first one sticks) and return -1. */
int pm_fail(pymarshal_reader *r, pymarshal_errcode code, size_t offset,
            const char *fmt, ...) CM_PRINTF(4, 5);

/* marshal_code.c: at a 'c' whose type byte is at `off` (r->pos just after
 * it), decide the layout. Returns the layout, 0 for "3.0-3.7 or 3.11+,
 * decided at field 9" (dry readers only), or -1 with the error set. */
int pm_code_layout(pymarshal_reader *r, size_t off);

/* marshal_code.c: the depth-0 code frame of a dry reader, or a pending frame
 * of any reader, learns its layout from the kind of its 10th field. */
int pm_code_decide(pymarshal_reader *r, pm_frame *f, pymarshal_kind field_kind);

/* Set up a reader over the same data sharing `r`'s tables (marshal_reader.c). */
int pm_reader_init_sub(pymarshal_reader *sub, const pymarshal_reader *r, size_t start);

/* Run a reader to the end of its object, or until it has decided its
 * depth-0 code layout when `until_decided`. 0 ok, -1 error. */
int pm_reader_run(pymarshal_reader *r, int until_decided);

#endif
