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

/* ------------------------------------------------------------- checks */

/* Python 2's str is 's' 't' 'R' (not 'u'); under AUTO a 2.7 layout may
 * also hold the string forms of later versions (our own re-encodings). */
#define PY2_AUTO 1000u

/* Whose constructor builds the code object: the named Python, or under
 * AUTO the one its layout says (2.7, 3.7 for 3.0-3.7, 3.8, 3.11). */
static unsigned check_version(const pymarshal_reader *r, pymarshal_code_layout layout)
{
    if (r->impl == PYMARSHAL_PY_CPYTHON && r->version)
        return r->version;
    switch (layout) {
    case PYMARSHAL_CODE_PY27: return PY2_AUTO;
    case PYMARSHAL_CODE_PY30: return 307;
    case PYMARSHAL_CODE_PY38: return 308;
    default: return 311;
    }
}


static int is_text(const pm_item *it, unsigned v)
{
    if (v == PY2_AUTO)
        return it->kind == PYMARSHAL_STR || it->kind == PYMARSHAL_BYTES;
    return v < 300 ? it->py2str : it->kind == PYMARSHAL_STR;
}

static int is_bytes(const pm_item *it, unsigned v)
{
    if (v == PY2_AUTO)
        return it->kind == PYMARSHAL_STR || it->kind == PYMARSHAL_BYTES;
    return v < 300 ? it->py2str : it->kind == PYMARSHAL_BYTES;
}

static int is_names(const pm_item *it, unsigned v)
{
    return it->kind == PYMARSHAL_TUPLE && (v < 300 || v == PY2_AUTO ? it->texts : it->strs);
}

enum { CO_VARARGS = 0x4, CO_VARKEYWORDS = 0x8, CO_FAST_LOCAL = 0x20 };

/* How many locals a 3.11+ localspluskinds names (kinds with CO_FAST_LOCAL);
 * the bytes are those of the field's string, in the input. */
static int64_t count_locals(const pymarshal_reader *r, const pm_item *kinds)
{
    const uint8_t *p = r->data + kinds->off;
    uint8_t c = p[0] & 0x7f;
    if (c == 'r') { /* a reference: the bytes are where its slot points */
        int32_t slot = cm_i32(p + 1);
        p = r->data + PM_SLOT_OFFSET(r->slots->e[slot]);
    }
    p += 5; /* 's' and its length */
    int64_t n = 0;
    for (size_t k = 0; k < kinds->n; k++)
        n += (p[k] & CO_FAST_LOCAL) != 0;
    return n;
}

static int is_seq(const pm_item *it)
{
    return it->kind == PYMARSHAL_TUPLE || it->kind == PYMARSHAL_LIST;
}

/* PyPy 7.3's unmarshal_pycode (3.8 layout), as probed: code and lnotab
 * bytes, consts a tuple or list, the name tuples (or lists) of str or
 * bytes, filename a str, name a str or bytes; a negative argcount or
 * nlocals ends the interpreter (an RPython assertion); too few varnames,
 * other negative counts pass. */
static int pypy_check(pymarshal_reader *r, const pm_codesum *cs)
{
    const pm_item *o = cs->obj;
    if (cs->layout != PYMARSHAL_CODE_PY38)
        return 0; /* PyPy reads its own layout only: the reader said so */
    if (cs->ints[0] < 0 || cs->ints[3] < 0)
        return pm_fail(r, PYMARSHAL_EVALUE, cs->off,
                       "code object with a negative count (PyPy aborts on it)");
    int names_ok = 1;
    for (int i = 2; i <= 5; i++)
        names_ok &= o[i].kind == PYMARSHAL_LIST || (o[i].kind == PYMARSHAL_TUPLE && o[i].texts);
    if (o[0].kind != PYMARSHAL_BYTES || !is_seq(&o[1]) || !names_ok ||
        o[6].kind != PYMARSHAL_STR ||
        (o[7].kind != PYMARSHAL_STR && o[7].kind != PYMARSHAL_BYTES) ||
        o[8].kind != PYMARSHAL_BYTES)
        return pm_fail(r, PYMARSHAL_EVALUE, cs->off,
                       "code object PyPy cannot build: a field of the wrong type (TypeError)");
    return 0;
}

static int bad_call(pymarshal_reader *r, const pm_codesum *cs, const char *what)
{
    return pm_fail(r, PYMARSHAL_EVALUE, cs->off,
                   "code object Python cannot build: %s (SystemError: bad argument "
                   "to internal function)", what);
}

/* The checks of PyCode_New (2.7, 3.6-3.10) and _PyCode_Validate (3.11+)
 * on what marshal read; PyPy checks nothing. */
int pm_code_check(pymarshal_reader *r, const pm_codesum *cs)
{
    if (r->impl == PYMARSHAL_PY_PYPY)
        return pypy_check(r, cs);
    pymarshal_code_layout layout = cs->layout ? (pymarshal_code_layout)cs->layout
                                              : PYMARSHAL_CODE_PY30;
    unsigned v = check_version(r, layout);
    const int32_t *n = cs->ints;
    const pm_item *o = cs->obj;
    int32_t argc = n[0], posonly = 0, kwonly = 0, nlocals = 0, stack = 0, flags = 0;
    switch (layout) {
    case PYMARSHAL_CODE_PY27: nlocals = n[1]; stack = n[2]; flags = n[3]; break;
    case PYMARSHAL_CODE_PY30: kwonly = n[1]; nlocals = n[2]; stack = n[3]; flags = n[4]; break;
    case PYMARSHAL_CODE_PY38:
        posonly = n[1]; kwonly = n[2]; nlocals = n[3]; stack = n[4]; flags = n[5];
        break;
    default: posonly = n[1]; kwonly = n[2]; stack = n[3]; flags = n[4]; break;
    }
    if (argc < 0 || kwonly < 0 || nlocals < 0 ||
        (v >= 308 && (argc < posonly || posonly < 0 || stack < 0 || flags < 0)))
        return bad_call(r, cs, "a negative count");
    int extra = ((flags & CO_VARARGS) != 0) + ((flags & CO_VARKEYWORDS) != 0);
    if (layout == PYMARSHAL_CODE_PY311) {
        /* code consts names localsplusnames localspluskinds filename name
         * qualname | linetable exceptiontable */
        if (!is_bytes(&o[0], v) || o[1].kind != PYMARSHAL_TUPLE ||
            o[2].kind != PYMARSHAL_TUPLE || o[3].kind != PYMARSHAL_TUPLE ||
            !is_bytes(&o[4], v) || o[3].n != o[4].n || !is_text(&o[5], v) ||
            !is_text(&o[6], v) || !is_text(&o[7], v) || !is_bytes(&o[8], v) ||
            !is_bytes(&o[9], v))
            return bad_call(r, cs, "a field of the wrong type");
        if (o[0].n % 2)
            return pm_fail(r, PYMARSHAL_EVALUE, cs->off,
                           "code: co_code is malformed (ValueError in Python)");
        if (count_locals(r, &o[4]) - argc - kwonly - extra < 0)
            return pm_fail(r, PYMARSHAL_EVALUE, cs->off,
                           "code: co_varnames is too small (ValueError in Python)");
        if (!is_names(&o[2], v) || !is_names(&o[3], v))
            return pm_fail(r, PYMARSHAL_EVALUE, cs->off,
                           "non-string found in code slot (SystemError in Python)");
        return 0;
    }
    /* code consts names varnames freevars cellvars filename name | lnotab */
    int py2 = v < 300 || v == PY2_AUTO;
    if (!(py2 ? (is_bytes(&o[0], v) || o[0].kind == PYMARSHAL_STR) : is_bytes(&o[0], v)) ||
        o[1].kind != PYMARSHAL_TUPLE || o[2].kind != PYMARSHAL_TUPLE ||
        o[3].kind != PYMARSHAL_TUPLE || o[4].kind != PYMARSHAL_TUPLE ||
        o[5].kind != PYMARSHAL_TUPLE || !is_text(&o[6], v) || !is_text(&o[7], v) ||
        !is_bytes(&o[8], v))
        return bad_call(r, cs, "a field of the wrong type");
    if (!is_names(&o[2], v) || !is_names(&o[3], v) || !is_names(&o[4], v) ||
        !is_names(&o[5], v))
        return pm_fail(r, PYMARSHAL_EVALUE, cs->off, "non-string found in code slot (%s)",
                       py2 ? "a fatal error in Python 2.7" : "SystemError in Python");
    if (v >= 306 && v < PY2_AUTO) {
        int64_t nvar = (int64_t)o[3].n;
        int64_t total = argc <= nvar && kwonly <= nvar ? (int64_t)argc + kwonly + extra
                                                       : nvar + 1;
        if (total > nvar)
            return pm_fail(r, PYMARSHAL_EVALUE, cs->off,
                           "code: varnames is too small (ValueError in Python)");
    }
    return 0;
}
