/*
 * The fast path's code objects (pstats_fast.h): the profile module's keys
 * (file, line, code object). A code object is read as libpymarshal's
 * reader reads it (its layout decided from the data as marshal_code.c
 * decides it, then checked as Python's constructor checks it), and the
 * tokens the general loader would hand to the digest (pstats_code.c) are
 * made here from the bytes and handed to the same digest, so that both
 * paths build the same pcode. Where the two could differ, the fast path
 * gives up and the general loader reads the file:
 *  - a file that no FLAG_REF'd key tuple showed to be CPython 3.4+'s before
 *    the code object (PyPy's and Python 2's files: the digest's rules
 *    differ there), or with Python 2 byte strings;
 *  - a code object of Python 2's layout, one whose layout several int
 *    counts fit, or one the reader refuses;
 *  - a NaN, a big int, a complex, a list, dict or set inside it;
 *  - co_filename or co_name given by reference, or anything but str;
 *  - a reference to an object whose digest or kind is not known here (a
 *    string interned before without a copy of its bytes, a container the
 *    digest skipped, an object still being read);
 *  - code objects nested deeper than MAX_DEPTH, and code objects in the
 *    callers that --stats only checks.
 */
#include <math.h>
#include <string.h>

#include "common.h"
#include "pstats_fast.h"

#define MAX_DEPTH 48
/* plausible()'s answers besides 0 and 1. */
enum { P_TRUNC = -2, P_UNKNOWN = -3 };
/* What a look-ahead's slot holds (F->look): ref_is() asks for tuples and
 * bytes; a code object or frozenset being read is not filled yet. */
enum { LK_OTHER = 0, LK_TUPLE = 1, LK_BYTES = 2 };

/* What the reader's code checks learn of a field (its pm_item). */
typedef struct citem {
    uint8_t kind, strs, texts;
    size_t n;                 /* bytes and str: length; tuple: items */
    const uint8_t *bytes;     /* bytes: its bytes */
} citem;

/* The top code object's fields the model keeps. */
typedef struct ctop {
    uint32_t file, name;      /* string occurrences */
    int64_t firstlineno;
    size_t slot;              /* its FLAG_REF slot, or SIZE_MAX */
    int layout;
} ctop;

static int walk_obj(fast *F, int on, unsigned depth, citem *it);
static int skip_obj(fast *F, size_t *at, unsigned depth);
static int look_slot(fast *F, uint8_t what);

/* ------------------------------------------------------------- bytes */

/* Are bytes [at, at + n) of the input there (read more if need be)? */
static int have(fast *F, size_t at, size_t n)
{
    if (at <= F->in->avail && F->in->avail - at >= n)
        return 1;
    (void)ps_in_need(F->in, at + n);
    F->end = F->base + F->in->avail;
    return at <= F->in->avail && F->in->avail - at >= n;
}

static pymarshal_token token(fast *F, pymarshal_kind kind, size_t at)
{
    pymarshal_token t;
    memset(&t, 0, sizeof t);
    t.kind = kind;
    t.offset = at;
    t.ref_slot = -1;
    t.ref_target = -1;
    t.code = (uint8_t)(F->base[at] & 0x7f);
    return t;
}

/* Hand t to the digest when `on`; *act says whether its items go too. */
static int feed(fast *F, int on, const pymarshal_token *t, int *act)
{
    *act = PSD_SKIP;
    if (!on)
        return FAST_DONE;
    int a = psd_token(&F->dig, t);
    if (a < 0)
        return FAST_NOMEM;
    if (a == PSD_EXPAND) /* an object this path has not digested */
        return FAST_GIVE_UP;
    *act = a;
    return FAST_DONE;
}

/* ------------------------------------------------------------ layout */

/* What a reference at `at` names, as plausible() asks: 1 a complete
 * object of `kind`, 0 not, P_UNKNOWN when this path cannot tell. */
static int ref_is(fast *F, size_t at, pymarshal_kind kind)
{
    if (!have(F, at, 5))
        return P_TRUNC;
    int32_t idx = cm_i32(F->base + at + 1);
    if (idx >= 0 && (size_t)idx >= F->nrefs && (size_t)idx - F->nrefs < F->nlook)
        return F->look[(size_t)idx - F->nrefs] ==
               (kind == PYMARSHAL_TUPLE ? LK_TUPLE : kind == PYMARSHAL_BYTES ? LK_BYTES : 255);
    if (idx < 0 || (size_t)idx >= F->nrefs)
        return 0;
    uint32_t w = F->refs[idx];
    switch (tag_of(w)) {
    case T_BYTES: return kind == PYMARSHAL_BYTES;
    case T_KEY: return kind == PYMARSHAL_TUPLE;
    case T_SEQ: return F->seqs[w & VAL_MASK].kind == kind;
    case T_STR: case T_NUM: case T_CODE: return 0;
    default: return P_UNKNOWN; /* an entry's tuple, a dict, an object being read */
    }
}

static int consts_at(fast *F, size_t at)
{
    if (!have(F, at, 1))
        return P_TRUNC;
    uint8_t c = F->base[at] & 0x7f;
    if (c == 'r')
        return ref_is(F, at, PYMARSHAL_TUPLE);
    return c == '(' || c == ')';
}

/* marshal_code.c's test: k ints, then the code bytes, then the consts. */
static int plausible(fast *F, size_t off, unsigned k)
{
    size_t p = off + 1 + 4 * (size_t)k;
    if (!have(F, p, 1))
        return P_TRUNC;
    uint8_t t = F->base[p] & 0x7f;
    if (t == 'r') {
        int ok = ref_is(F, p, PYMARSHAL_BYTES);
        return ok == 1 ? consts_at(F, p + 5) : ok;
    }
    if (t != 's')
        return 0;
    if (!have(F, p, 5))
        return P_TRUNC;
    int32_t n = cm_i32(F->base + p + 1);
    if (n < 0)
        return 0;
    if (!have(F, p, 5 + (size_t)n + 1))
        return P_TRUNC;
    return consts_at(F, p + 5 + (size_t)n);
}

static const char *fields_of(int layout)
{
    switch (layout) {
    case PYMARSHAL_CODE_PY30: return "iiiiiooooooooio";
    case PYMARSHAL_CODE_PY38: return "iiiiiiooooooooio";
    default: return "iiiiiooooooooioo";
    }
}

/* The kind of a 5-int code object's 10th field: it tells 3.0-3.7 (a
 * tuple) from 3.11+ (bytes). */
static int tenth_field(fast *F, size_t off, unsigned depth, int *layout)
{
    size_t at = off + 1 + 20, nlook = F->nlook; /* the slots it numbers are dropped after */
    uint8_t c = 0;
    if ((F->base[off] & 0x80) && look_slot(F, LK_OTHER))
        return FAST_NOMEM;
    int k = 5, rc = FAST_DONE;
    while (k < 9 && !(rc = skip_obj(F, &at, depth + 1)))
        k++;
    if (rc == FAST_NOMEM) {
        F->nlook = nlook;
        return rc;
    }
    if (k == 9 && have(F, at, 1)) {
        c = F->base[at] & 0x7f;
        if (c == 'r')
            c = ref_is(F, at, PYMARSHAL_TUPLE) == 1   ? '('
                : ref_is(F, at, PYMARSHAL_BYTES) == 1 ? 's'
                                                      : 0;
    }
    F->nlook = nlook;
    *layout = c == '(' || c == ')' ? PYMARSHAL_CODE_PY30 : PYMARSHAL_CODE_PY311;
    return c == '(' || c == ')' || c == 's' ? FAST_DONE : FAST_GIVE_UP;
}

/* The layout of the code object at `off`, when one int count alone fits
 * (the reader's look-ahead over several is not repeated here). */
static int code_layout(fast *F, size_t off, unsigned depth, int *layout)
{
    static const unsigned order[3] = {5, 6, 4};
    unsigned n = 0, first = 0;
    for (int i = 0; i < 3; i++) {
        int p = plausible(F, off, order[i]);
        if (p == P_UNKNOWN)
            return FAST_GIVE_UP;
        if (p == 1 && !n++)
            first = order[i];
    }
    if (n != 1 || first == 4)
        return FAST_GIVE_UP;
    if (first == 6) {
        *layout = PYMARSHAL_CODE_PY38;
        return FAST_DONE;
    }
    return tenth_field(F, off, depth, layout);
}

/* ------------------------------------------------------------- skip */

/* A slot numbered by a look-ahead. */
static int look_slot(fast *F, uint8_t what)
{
    if (F->nlook == F->cap_look &&
        ps_grow(F->s, (void **)&F->look, &F->cap_look, F->nlook + 1, 1))
        return -1;
    F->look[F->nlook++] = what;
    return 0;
}

static int skip_items(fast *F, size_t *at, size_t count, unsigned depth)
{
    int rc;
    for (size_t i = 0; i < count; i++)
        if ((rc = skip_obj(F, at, depth + 1)))
            return rc;
    return FAST_DONE;
}

static int skip_code(fast *F, size_t *at, unsigned depth)
{
    int layout, rc;
    if ((rc = code_layout(F, *at, depth, &layout)))
        return rc;
    if ((F->base[*at] & 0x80) && look_slot(F, LK_OTHER))
        return FAST_NOMEM;
    const char *fl = fields_of(layout);
    *at += 1;
    for (; *fl; fl++) {
        if (*fl == 'i') {
            if (!have(F, *at, 4))
                return FAST_GIVE_UP;
            *at += 4;
        } else if ((rc = skip_obj(F, at, depth + 1))) {
            return rc;
        }
    }
    return FAST_DONE;
}

/* Step over the object at *at (only the shapes walk_obj reads). */
static int skip_obj(fast *F, size_t *at, unsigned depth)
{
    if (depth > MAX_DEPTH || !have(F, *at, 1))
        return FAST_GIVE_UP;
    uint8_t c = F->base[*at] & 0x7f;
    size_t hdr = 5, n;
    if ((F->base[*at] & 0x80) && c != 'c') {
        uint8_t what = c == '(' || c == ')' ? LK_TUPLE : c == 's' ? LK_BYTES : LK_OTHER;
        if (c == 'N' || c == 'T' || c == 'F' || c == '.' || c == 'S' || c == 't')
            return FAST_GIVE_UP; /* the reader's rules for these are not repeated */
        if (look_slot(F, what))
            return FAST_NOMEM;
    }
    switch (c) {
    case 'N': case 'T': case 'F': case '.': case 'S':
        *at += 1;
        return FAST_DONE;
    case 'i': case 'r': case 'g': {
        size_t w = c == 'g' ? 9 : 5;
        if (!have(F, *at, w))
            return FAST_GIVE_UP;
        *at += w;
        return FAST_DONE;
    }
    case 'z': case 'Z':
        if (!have(F, *at, 2))
            return FAST_GIVE_UP;
        n = F->base[*at + 1];
        hdr = 2;
        break;
    case 'a': case 'A': case 'u': case 't': case 's': case '(': case '>':
        if (!have(F, *at, 5) || cm_i32(F->base + *at + 1) < 0)
            return FAST_GIVE_UP;
        n = (size_t)cm_i32(F->base + *at + 1);
        break;
    case ')':
        if (!have(F, *at, 2))
            return FAST_GIVE_UP;
        n = F->base[*at + 1];
        *at += 2;
        return skip_items(F, at, n, depth);
    case 'c':
        return skip_code(F, at, depth);
    default:
        return FAST_GIVE_UP;
    }
    if (c == '(' || c == '>') {
        *at += 5;
        return skip_items(F, at, n, depth);
    }
    if (!have(F, *at, hdr + n))
        return FAST_GIVE_UP;
    *at += hdr + n;
    return FAST_DONE;
}

/* ------------------------------------------------------------- leaves */

/* A number ('i', 'g') or a singleton. */
static int walk_scalar(fast *F, int on, uint8_t first, citem *it)
{
    size_t at = (size_t)(F->p - F->base), w = 1;
    uint8_t c = first & 0x7f;
    pymarshal_token t = token(F, PYMARSHAL_NONE, at);
    pnum n = pn_int(0);
    switch (c) {
    case 'N': t.kind = PYMARSHAL_NONE; break;
    case 'T': t.kind = PYMARSHAL_TRUE; break;
    case 'F': t.kind = PYMARSHAL_FALSE; break;
    case '.': t.kind = PYMARSHAL_ELLIPSIS; break;
    case 'S': t.kind = PYMARSHAL_STOPITER; break;
    case 'i':
        if (!left(F, 5))
            return FAST_GIVE_UP;
        t.kind = PYMARSHAL_INT;
        t.i = cm_i32(F->p + 1);
        n = pn_int(t.i);
        w = 5;
        break;
    default: { /* 'g' */
        if (!left(F, 9))
            return FAST_GIVE_UP;
        uint64_t bits = cm_le64(F->p + 1);
        t.kind = PYMARSHAL_FLOAT;
        memcpy(&t.f, &bits, 8);
        if (isnan(t.f)) /* compared by identity: the general loader's rules */
            return FAST_GIVE_UP;
        n = pn_float(t.f);
        w = 9;
        break;
    }
    }
    if ((first & 0x80) && t.kind != PYMARSHAL_INT && t.kind != PYMARSHAL_FLOAT)
        return FAST_GIVE_UP; /* CPython flags no singleton */
    if (first & 0x80) {
        int rc = ps_fast_add_num_ref(F, n);
        if (rc)
            return rc;
    }
    it->kind = (uint8_t)t.kind;
    F->p += w;
    int act;
    return feed(F, on, &t, &act);
}

/* A new entry of F->bytes: a copy of [p, p + len). */
static int keep_bytes(fast *F, const uint8_t *p, size_t len, uint32_t *idx)
{
    if (F->nbytes > VAL_MASK || len > UINT32_MAX)
        return FAST_GIVE_UP;
    if (F->nbytes == F->cap_bytes &&
        ps_grow(F->s, (void **)&F->bytes, &F->cap_bytes, F->nbytes + 1, sizeof *F->bytes))
        return FAST_NOMEM;
    if (!(F->bytes[F->nbytes].copy = ps_fast_side_copy(F, p, len)))
        return FAST_NOMEM;
    *idx = (uint32_t)F->nbytes++;
    return FAST_DONE;
}

/* A str or bytes object. `name`: a code's co_filename or co_name, which
 * the builder interns now (its occurrence in *occ). */
static int walk_text(fast *F, int on, uint8_t first, citem *it, uint32_t *name)
{
    size_t at = (size_t)(F->p - F->base);
    sview v;
    int rc = ps_fast_view_at(F, &v);
    if (rc)
        return rc;
    int is_bytes = v.code == 's';
    if (name && is_bytes)
        return FAST_GIVE_UP;
    pymarshal_token t = token(F, is_bytes ? PYMARSHAL_BYTES : PYMARSHAL_STR, at);
    uint8_t c = first & 0x7f;
    t.text = c == 'u' || c == 't' ? PYMARSHAL_UTF8 : PYMARSHAL_LATIN1;
    t.data = v.p;
    t.len = v.len;
    if (name) { /* with a copy all the same: the code's fields name it again */
        if ((rc = ps_fast_new_occ(F, &v, 1, name)) || (rc = ps_fast_intern_occ(F, *name, &v)) ||
            (rc = ps_fast_note_str(F, first, word(T_STR, *name))))
            return rc;
        if (!(F->occ[*name].copy = ps_fast_side_copy(F, v.p, v.len)))
            return FAST_NOMEM;
    } else if ((first & 0x80) || c == 't') {
        uint32_t idx;
        if (is_bytes)
            rc = keep_bytes(F, v.p, v.len, &idx);
        else
            rc = ps_fast_new_occ(F, &v, 0, &idx);
        if (rc || (rc = ps_fast_note_str(F, first, word(is_bytes ? T_BYTES : T_STR, idx))))
            return rc;
    }
    it->kind = (uint8_t)t.kind;
    it->n = v.len;
    it->bytes = v.p;
    F->p = v.p + v.len;
    int act;
    return feed(F, on, &t, &act);
}

/* A reference: a string, number or bytes is handed to the digest as the
 * object it names (the general loader replays it), a container by its
 * slot (the digest remembers containers by slot). */
static int walk_ref(fast *F, int on, citem *it)
{
    size_t at = (size_t)(F->p - F->base);
    uint32_t *w = ps_fast_ref_at(F);
    if (!w)
        return FAST_GIVE_UP;
    pymarshal_token t = token(F, PYMARSHAL_REF, at);
    t.via_ref = 'r';
    t.ref_target = cm_i32(F->base + at + 1);
    uint32_t v = *w & VAL_MASK;
    const uint8_t *copy = NULL;
    switch (tag_of(*w)) {
    case T_STR: copy = F->occ[v].copy; t.kind = PYMARSHAL_STR; break;
    case T_BYTES: copy = F->bytes[v].copy; t.kind = PYMARSHAL_BYTES; break;
    case T_NUM:
        t.kind = F->nums[v].kind == PN_FLOAT ? PYMARSHAL_FLOAT : PYMARSHAL_INT;
        t.i = F->nums[v].u.i;
        t.f = F->nums[v].u.f;
        if (t.kind == PYMARSHAL_FLOAT && isnan(t.f))
            return FAST_GIVE_UP;
        break;
    case T_SEQ:
        it->kind = F->seqs[v].kind;
        it->n = F->seqs[v].n;
        it->strs = F->seqs[v].strs;
        it->texts = F->seqs[v].texts;
        break;
    case T_CODE: it->kind = PYMARSHAL_CODE; break;
    default: return FAST_GIVE_UP;
    }
    if ((tag_of(*w) == T_STR || tag_of(*w) == T_BYTES) && copy) {
        uint32_t n;
        memcpy(&n, copy, 4);
        t.data = copy + 4;
        t.len = n;
        t.text = PYMARSHAL_UTF8; /* ASCII or UTF-8: what the fast path reads */
        it->n = n;
        it->bytes = t.data;
    } else if (tag_of(*w) == T_STR && on && !psd_muted(&F->dig)) {
        return FAST_GIVE_UP; /* interned before, its bytes gone, and compared */
    }
    if (t.kind != PYMARSHAL_REF)
        it->kind = (uint8_t)t.kind;
    int act;
    return feed(F, on, &t, &act);
}

/* co_filename or co_name of the key's code object: a str, interned
 * here (a reference: where the general loader interns it). */
static int walk_name(fast *F, int on, citem *it, uint32_t *occ)
{
    if (!left(F, 1))
        return FAST_GIVE_UP;
    if (F->p[0] != 'r')
        return walk_text(F, on, F->p[0], it, occ);
    if (!left(F, 5))
        return FAST_GIVE_UP;
    int32_t idx = cm_i32(F->p + 1);
    if (idx < 0 || (size_t)idx >= F->nrefs || tag_of(F->refs[idx]) != T_STR)
        return FAST_GIVE_UP;
    *occ = F->refs[idx] & VAL_MASK;
    int rc = ps_fast_need_str(F, *occ);
    return rc ? rc : walk_ref(F, on, it);
}

/* --------------------------------------------------------- containers */

/* A new F->seqs entry for a container that took a FLAG_REF slot. */
static int keep_seq(fast *F, size_t slot, const citem *it)
{
    if (F->nseqs > VAL_MASK || it->n > UINT32_MAX)
        return FAST_GIVE_UP;
    if (F->nseqs == F->cap_seqs &&
        ps_grow(F->s, (void **)&F->seqs, &F->cap_seqs, F->nseqs + 1, sizeof *F->seqs))
        return FAST_NOMEM;
    struct fseq *q = &F->seqs[F->nseqs];
    q->n = (uint32_t)it->n;
    q->kind = it->kind;
    q->strs = it->strs;
    q->texts = it->texts;
    F->refs[slot] = word(T_SEQ, (uint32_t)F->nseqs++);
    return FAST_DONE;
}

/* A tuple or frozenset. */
static int walk_seq(fast *F, int on, unsigned depth, uint8_t first, citem *it)
{
    size_t at = (size_t)(F->p - F->base), count, slot = SIZE_MAX;
    uint8_t c = first & 0x7f;
    if (c == ')') {
        if (!left(F, 2))
            return FAST_GIVE_UP;
        count = F->p[1];
        F->p += 2;
    } else {
        if (!left(F, 5) || cm_i32(F->p + 1) < 0)
            return FAST_GIVE_UP;
        count = (size_t)cm_i32(F->p + 1);
        F->p += 5;
    }
    int rc, act;
    if ((first & 0x80) && (rc = ps_fast_add_ref(F, 0, &slot)))
        return rc;
    pymarshal_token t = token(F, c == '>' ? PYMARSHAL_FROZENSET : PYMARSHAL_TUPLE, at);
    t.count = count;
    t.ref_slot = slot == SIZE_MAX ? -1 : (int64_t)slot;
    if ((rc = feed(F, on, &t, &act)))
        return rc;
    uint8_t strs = 1, texts = 1;
    for (size_t i = 0; i < count; i++) {
        citem ci;
        memset(&ci, 0, sizeof ci);
        if ((rc = walk_obj(F, on && act == PSD_DESCEND, depth + 1, &ci)))
            return rc;
        strs &= ci.kind == PYMARSHAL_STR;
        texts &= ci.kind == PYMARSHAL_STR || ci.kind == PYMARSHAL_BYTES;
    }
    it->kind = (uint8_t)t.kind;
    it->n = count;
    it->strs = (uint8_t)(t.kind == PYMARSHAL_TUPLE && strs);
    it->texts = (uint8_t)(t.kind == PYMARSHAL_TUPLE && texts);
    return slot == SIZE_MAX ? FAST_DONE : keep_seq(F, slot, it);
}

/* ---------------------------------------------------------- the check */

/* How many locals a 3.11+ localspluskinds names (CO_FAST_LOCAL kinds). */
static int64_t count_locals(const citem *kinds)
{
    int64_t n = 0;
    for (size_t k = 0; k < kinds->n; k++)
        n += (kinds->bytes[k] & 0x20) != 0;
    return n;
}

static int is_names(const citem *it) { return it->kind == PYMARSHAL_TUPLE && it->strs; }

/* marshal_code.c's pm_code_check for a CPython 3 layout under AUTO
 * (the constructor of 3.7, 3.8 or 3.11): 1 when Python builds it. */
static int code_ok(int layout, const int32_t *n, const citem *o)
{
    int32_t argc = n[0], posonly = 0, kwonly, nlocals = 0, stack, flags;
    if (layout == PYMARSHAL_CODE_PY30) {
        kwonly = n[1]; nlocals = n[2]; stack = n[3]; flags = n[4];
    } else if (layout == PYMARSHAL_CODE_PY38) {
        posonly = n[1]; kwonly = n[2]; nlocals = n[3]; stack = n[4]; flags = n[5];
    } else {
        posonly = n[1]; kwonly = n[2]; stack = n[3]; flags = n[4];
    }
    if (argc < 0 || kwonly < 0 || nlocals < 0 ||
        (layout != PYMARSHAL_CODE_PY30 && (argc < posonly || posonly < 0 || stack < 0 || flags < 0)))
        return 0;
    int extra = ((flags & 0x4) != 0) + ((flags & 0x8) != 0);
    enum { B = PYMARSHAL_BYTES, S = PYMARSHAL_STR, T = PYMARSHAL_TUPLE };
    if (layout == PYMARSHAL_CODE_PY311)
        return o[0].kind == B && o[1].kind == T && o[2].kind == T && o[3].kind == T &&
               o[4].kind == B && o[3].n == o[4].n && o[5].kind == S && o[6].kind == S &&
               o[7].kind == S && o[8].kind == B && o[9].kind == B && o[0].n % 2 == 0 &&
               count_locals(&o[4]) - argc - kwonly - extra >= 0 && is_names(&o[2]) &&
               is_names(&o[3]);
    if (o[0].kind != B || o[1].kind != T || o[2].kind != T || o[3].kind != T ||
        o[4].kind != T || o[5].kind != T || o[6].kind != S || o[7].kind != S || o[8].kind != B)
        return 0;
    for (int i = 2; i <= 5; i++)
        if (!is_names(&o[i]))
            return 0;
    int64_t nvar = (int64_t)o[3].n;
    int64_t total = argc <= nvar && kwonly <= nvar ? (int64_t)argc + kwonly + extra : nvar + 1;
    return total <= nvar;
}

/* ------------------------------------------------------- code objects */

/* Which of a layout's fields are co_filename, co_name, co_firstlineno. */
static void name_fields(int layout, int *fn, int *nm, int *ln)
{
    switch (layout) {
    case PYMARSHAL_CODE_PY30: *fn = 11; *nm = 12; *ln = 13; break;
    case PYMARSHAL_CODE_PY38: *fn = 12; *nm = 13; *ln = 14; break;
    default: *fn = 10; *nm = 11; *ln = 13; break;
    }
}

/* The fields of the code object whose header F->p has passed. */
static int walk_fields(fast *F, int on, unsigned depth, int layout, ctop *top, int32_t *ints,
                       citem *o)
{
    const char *fl = fields_of(layout);
    int fn, nm, ln, rc, act, no = 0;
    name_fields(layout, &fn, &nm, &ln);
    for (int k = 0; fl[k]; k++) {
        if (fl[k] == 'i') {
            if (!left(F, 4))
                return FAST_GIVE_UP;
            pymarshal_token t = token(F, PYMARSHAL_INT, (size_t)(F->p - F->base));
            t.i = cm_i32(F->p);
            t.raw_field = 1;
            if (k == ln && top)
                top->firstlineno = t.i;
            else if (k < 6)
                ints[k] = (int32_t)t.i;
            F->p += 4;
            if ((rc = feed(F, on, &t, &act)))
                return rc;
            continue;
        }
        citem *it = &o[no++];
        memset(it, 0, sizeof *it);
        if (top && (k == fn || k == nm)) {
            rc = walk_name(F, on, it, k == fn ? &top->file : &top->name);
        } else {
            rc = walk_obj(F, on, depth + 1, it);
        }
        if (rc)
            return rc;
    }
    return FAST_DONE;
}

/* A code object; `top`: the key's own (its digest begins here). */
static int walk_code(fast *F, int on, unsigned depth, citem *it, ctop *top)
{
    size_t at = (size_t)(F->p - F->base), slot = SIZE_MAX;
    uint8_t first = F->p[0];
    int layout, rc, act;
    if ((rc = code_layout(F, at, depth, &layout)))
        return rc;
    if ((first & 0x80) && (rc = ps_fast_add_ref(F, 0, &slot)))
        return rc;
    pymarshal_token t = token(F, PYMARSHAL_CODE, at);
    t.count = strlen(fields_of(layout));
    t.code_layout = (uint8_t)layout;
    t.ref_slot = slot == SIZE_MAX ? -1 : (int64_t)slot;
    if (top) {
        top->slot = slot;
        top->layout = layout;
        if ((act = psd_begin(&F->dig, &t)) < 0)
            return FAST_NOMEM;
    } else if ((rc = feed(F, on, &t, &act))) {
        return rc;
    }
    F->p++;
    int32_t ints[6] = {0, 0, 0, 0, 0, 0};
    citem o[10];
    if ((rc = walk_fields(F, on && act == PSD_DESCEND, depth, layout, top, ints, o)))
        return rc;
    if (!code_ok(layout, ints, o))
        return FAST_GIVE_UP; /* the reader's error */
    memset(it, 0, sizeof *it);
    it->kind = PYMARSHAL_CODE;
    return slot == SIZE_MAX || top ? FAST_DONE : keep_seq(F, slot, it);
}

/* Any object inside a code object. */
static int walk_obj(fast *F, int on, unsigned depth, citem *it)
{
    if (depth > MAX_DEPTH || !left(F, 1))
        return FAST_GIVE_UP;
    uint8_t first = F->p[0];
    switch (first & 0x7f) {
    case 'N': case 'T': case 'F': case '.': case 'S': case 'i': case 'g':
        return walk_scalar(F, on, first, it);
    case 'z': case 'Z': case 'a': case 'A': case 'u': case 't': case 's':
        return walk_text(F, on, first, it, NULL);
    case 'r':
        return first == 'r' ? walk_ref(F, on, it) : FAST_GIVE_UP;
    case '(': case ')': case '>':
        return walk_seq(F, on, depth, first, it);
    case 'c':
        return walk_code(F, on, depth, it, NULL);
    default: /* a long, a complex, a list, dict or set, old float text */
        return FAST_GIVE_UP;
    }
}

int ps_fast_read_code(fast *F, uint32_t *cocc)
{
    if (!F->seen_cpy || F->py2_keys || F->ncocc > VAL_MASK)
        return FAST_GIVE_UP;
    ctop top = {UINT32_MAX, UINT32_MAX, 0, SIZE_MAX, 0};
    citem it;
    F->dig.py2 = 0;
    F->dig.nan_by_value = 0;
    int rc = walk_code(F, 1, 0, &it, &top);
    if (rc)
        return rc;
    if (!F->dig.done || F->dig.identity)
        return FAST_GIVE_UP;
    fev *e;
    if ((rc = ps_fast_emit(F, EV_CODE, &e)))
        return rc;
    *cocc = (uint32_t)F->ncocc++;
    e->a = *cocc;
    e->b = top.file;
    e->c = top.name;
    e->u = (uint64_t)top.firstlineno;
    e->v[1] = F->dig.result;
    e->v[2] = (uint64_t)top.layout;
    if (top.slot != SIZE_MAX)
        F->refs[top.slot] = word(T_CODE, *cocc);
    return FAST_DONE;
}
