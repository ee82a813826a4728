/*
 * Code objects: which of the four layouts a 'c' uses, decided from the data.
 *
 * Nothing in the stream names the writer's version. The layouts differ in
 * the number of raw 32-bit ints before the `code` bytes object (2.7: 4,
 * 3.0-3.7: 5, 3.8-3.10: 6, 3.11+: 5) and, between the two with 5, in the
 * 10th field: a tuple (freevars, 3.0-3.7) or bytes (localspluskinds, 3.11+).
 *
 * A candidate int count k is plausible when the byte after k ints starts
 * the `code` bytes object ('s', with or without FLAG_REF, whose length fits
 * in the input; or an 'r' to an earlier bytes object, as 3.4+ writers emit
 * for bytecode shared by two functions) and the object after it starts
 * the consts tuple ('(' ')' or a reference to a tuple).
 * When exactly one count is plausible and it is 4 or 6, that is the layout.
 * When it is 5, a look-ahead reader walks the code object until its 10th
 * field and reports that field's kind. When several counts are plausible,
 * a look-ahead reader parses the whole code object under each (5, 6, then
 * 4) and the first that parses wins. Look-ahead readers are "dry": they
 * share the reference table (restored afterwards) and never look ahead
 * themselves: a nested code object with 5 ints stays undecided until its
 * own 10th field, and one with several plausible counts takes the first.
 *
 * This file says which counts are plausible and what a 10th field means;
 * the look-ahead readers are run by marshal_reader.c, the next step of the
 * pipeline, so this file calls only marshal_scalar.c (pm_fail).
 */
#include <string.h>

#include "marshal_reader_int.h"

enum { PM_TRUNC = -2 };

/* Is the 'r' at p a reference to a complete object of `kind`? 1 yes, 0 no,
 * PM_TRUNC when the input ends first. */
static int ref_to(const pymarshal_reader *r, size_t p, pymarshal_kind kind)
{
    if (r->len - p < 5)
        return PM_TRUNC;
    int32_t n = cm_i32(r->data + p + 1);
    if (n < 0 || (size_t)n >= r->slots->n)
        return 0;
    uint64_t e = r->slots->e[n];
    return (e & PM_SLOT_FILLED) && PM_SLOT_KIND(e) == kind;
}

/* Does the consts tuple start at p? */
static int consts_at(const pymarshal_reader *r, size_t p)
{
    if (p >= r->len)
        return PM_TRUNC;
    uint8_t c = r->data[p] & 0x7f;
    if (c == 'r')
        return ref_to(r, p, PYMARSHAL_TUPLE);
    return c == '(' || c == ')';
}

/* 1 if k raw ints then a plausible `code` bytes object start at off+1,
 * 0 if not, PM_TRUNC if the input ends before that can be told. */
static int plausible(const pymarshal_reader *r, size_t off, unsigned k)
{
    size_t p = off + 1 + 4 * (size_t)k, len = r->len;
    if (p >= len)
        return PM_TRUNC;
    uint8_t t = r->data[p] & 0x7f;
    if (t == 'r') {
        /* Code bytes shared with an earlier code object: a reference to
         * bytes (3.4+ writers share identical bytecode). */
        int ok = ref_to(r, p, PYMARSHAL_BYTES);
        return ok == 1 ? consts_at(r, p + 5) : ok;
    }
    if (t != 's')
        return 0;
    if (len - p < 5)
        return PM_TRUNC;
    int32_t n = cm_i32(r->data + p + 1);
    if (n < 0)
        return 0;
    if ((size_t)n >= len - p - 5)
        return PM_TRUNC;
    return consts_at(r, p + 5 + (size_t)n);
}

static const unsigned order[3] = {5, 6, 4};

pymarshal_code_layout pm_code_layout_of(unsigned k)
{
    return k == 4 ? PYMARSHAL_CODE_PY27 : k == 6 ? PYMARSHAL_CODE_PY38 : PYMARSHAL_CODE_PY30;
}

unsigned pm_code_candidates(const pymarshal_reader *r, size_t off, unsigned *mask, int *trunc)
{
    unsigned n = 0;
    *mask = 0;
    *trunc = 0;
    for (int i = 0; i < 3; i++) {
        int p = plausible(r, off, order[i]);
        if (p == PM_TRUNC)
            *trunc = 1;
        if (p == 1) {
            *mask |= 1u << order[i];
            n++;
        }
    }
    return n;
}

int pm_code_decide(pymarshal_reader *r, pm_frame *f, pymarshal_kind field_kind)
{
    if (field_kind == PYMARSHAL_TUPLE) {
        f->layout = PYMARSHAL_CODE_PY30;
    } else if (field_kind == PYMARSHAL_BYTES) {
        f->layout = PYMARSHAL_CODE_PY311;
        f->remaining++;
        r->promised++;
    } else {
        return pm_fail(r, PYMARSHAL_EVALUE, f->offset,
                       "code object of no known layout: its 10th field is %s, expected a "
                       "tuple (3.0-3.7) or bytes (3.11+)",
                       pymarshal_kind_name(field_kind));
    }
    if (r->dry && f == &r->stack[0])
        r->decided = f->layout;
    return 0;
}
